//! A sale the chip card approved offline (TC at the first GENERATE AC, Y1): nothing goes
//! online now. The sale is journaled approved in one commit with its upload queued (an advice,
//! 60.1 = 36, carrying the TC), so a crash either leaves no trace and no charge, or the approval
//! and its upload together. The upload goes store-and-forward like every advice, and
//! settlement waits for it: the acquirer collects the money only when it has the TC.

use crate::codec::tlv::{self, Tlv};
use crate::store::{NewTransaction, OpaqueBlob};
use crate::txn::chip_uploads::{UPLOAD_LIFETIME_MS, stored_icc_data};
use crate::txn::fields;
use crate::txn::kind::TxnKind;
use crate::txn::online::{Prepared, journal_entry};
use crate::txn::outcome::{Approval, Outcome};
use crate::txn::receipt;
use crate::txn::terminal::Terminal;

/// 8A of an offline approval: "Y1", approved offline by the card (EMV Book 4 §12.2.1).
const OFFLINE_APPROVED: &[u8; 2] = b"Y1";

impl Terminal {
    pub(crate) fn offline_approval(&self, p: Prepared<'_>) -> Outcome {
        let Some(inserted) = p.icc else {
            return crate::txn::endings::chip_error().into();
        };
        let sealed = match self.seal_pan(p.pan, p.attempt_id) {
            Ok(s) => s,
            Err(t) => return t.into(),
        };
        let mut field55 = inserted.request.field55.clone();
        field55.extend(tlv::encode(&[Tlv::primitive(
            0x8A,
            OFFLINE_APPROVED.to_vec(),
        )]));
        let spec = TxnKind::OfflineSale.spec();
        let now = self.now_ms();
        let new = NewTransaction {
            attempt_id: p.attempt_id.to_string(),
            kind: spec.journal,
            amount_fen: p.amount_fen,
            currency: fields::CURRENCY_CNY.to_string(),
            pan_masked: Some(p.pan.masked().to_string()),
            pan_sealed: Some(sealed),
            entry_mode: journal_entry(p.entry.mode),
            original_id: None,
            icc_data: Some(OpaqueBlob::new(stored_icc_data(
                &field55,
                &[],
                inserted.request.card.pan_sequence,
            ))),
            needs_reversal: false,
            at_ms: now,
        };
        let recorded = self
            .journal()
            .record_offline_approval(&new, now + UPLOAD_LIFETIME_MS);
        let started = match recorded {
            Ok(s) => s,
            Err(e) => return self.storage_fault(&e).into(),
        };
        crate::crashpoint::reached("offline.recorded", spec.name);
        log::info!(
            "txn {}: approved offline by the card (stan {}), upload queued",
            p.attempt_id,
            started.stan
        );
        let mut approval = Approval {
            kind: TxnKind::OfflineSale,
            attempt_id: p.attempt_id.to_string(),
            amount_fen: p.amount_fen,
            stan: started.stan.value(),
            batch_no: started.batch_no.value(),
            rrn: String::new(),
            auth_code: String::new(),
            pan_masked: p.pan.masked().to_string(),
            balance_fen: None,
            receipt: Default::default(),
            receipt_printed: false,
        };
        let slip = receipt::for_approval(
            &self.config,
            &approval,
            p.pan.masked(),
            &*self.ports.clock,
            false,
        );
        approval.receipt = if inserted.request.signature_required {
            slip.footer("持卡人签名 CARDHOLDER SIGNATURE: ____________")
        } else {
            slip
        };
        approval.receipt_printed = self.print(started.id, &approval.receipt);
        Outcome::Approved(approval)
    }
}
