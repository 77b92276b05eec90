//! A sale the chip card approved offline (TC at the first GENERATE AC, Y1): nothing goes
//! online now. The sale is journaled approved in one commit with its upload queued (an advice,
//! 60.1 = 36, carrying the TC), so a crash either leaves no trace and no charge, or the approval
//! and its upload together. The upload goes store-and-forward like every advice, and
//! settlement waits for it: the acquirer collects the money only when it has the TC.

use crate::card::emv::CompletionReport;
use crate::codec::tlv::{self, Tlv};
use crate::store::{NewTransaction, OnlineTxn, OpaqueBlob};
use crate::txn::chip::Inserted;
use crate::txn::chip_uploads::{UPLOAD_LIFETIME_MS, stored_icc_data};
use crate::txn::fields;
use crate::txn::kind::TxnKind;
use crate::txn::online::{Prepared, journal_entry};
use crate::txn::outcome::{Approval, Outcome};
use crate::txn::receipt;
use crate::txn::terminal::Terminal;

/// 8A of an offline approval (EMV 4.4 Book 4 §12.2.1): approved offline by the card at the
/// first GENERATE AC, or after the terminal was unable to go online.
const OFFLINE_APPROVED: &[u8; 2] = b"Y1";
const UNABLE_ONLINE_APPROVED: &[u8; 2] = b"Y3";

fn with_arc(field55: &[u8], arc: &[u8; 2]) -> Vec<u8> {
    let mut data = field55.to_vec();
    data.extend(tlv::encode(&[Tlv::primitive(0x8A, arc.to_vec())]));
    data
}

impl Terminal {
    pub(crate) fn offline_approval(&self, p: Prepared<'_>) -> Outcome {
        let Some(inserted) = p.icc else {
            return crate::txn::endings::chip_error().into();
        };
        let sealed = match self.seal_pan(p.pan, p.attempt_id) {
            Ok(s) => s,
            Err(t) => return t.into(),
        };
        let field55 = with_arc(&inserted.request.field55, OFFLINE_APPROVED);
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
        self.offline_outcome(&p, inserted, &started)
    }

    /// The host could not be reached and the sale's request never left; the card approved at
    /// its second GENERATE AC (Y3). The journaled sale becomes an offline sale in one commit.
    pub(crate) fn approved_unable_online(
        &self,
        p: &Prepared<'_>,
        started: &OnlineTxn,
        inserted: &Inserted,
        report: &CompletionReport,
    ) -> Outcome {
        let data = stored_icc_data(
            &with_arc(&report.field55, UNABLE_ONLINE_APPROVED),
            &report.script_results,
            inserted.request.card.pan_sequence,
        );
        let now = self.now_ms();
        let converted = self.journal().approve_unable_online(
            started.id,
            &OpaqueBlob::new(data),
            now + UPLOAD_LIFETIME_MS,
            now,
        );
        if let Err(e) = converted {
            return self.storage_fault(&e).into();
        }
        crate::crashpoint::reached("offline.recorded", "unable_online");
        log::info!(
            "txn {}: host unreachable, approved offline by the card (Y3), upload queued",
            p.attempt_id
        );
        self.offline_outcome(p, inserted, started)
    }

    fn offline_outcome(
        &self,
        p: &Prepared<'_>,
        inserted: &Inserted,
        started: &OnlineTxn,
    ) -> Outcome {
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
            paperless: false,
            signature: None,
        };
        approval.receipt = receipt::for_approval(
            &self.config,
            &approval,
            p.pan.masked(),
            &*self.ports.clock,
            false,
            Some(&inserted.request.field55),
        );
        approval.receipt_printed = self.print(started.id, &approval.receipt);
        Outcome::Approved(approval)
    }
}
