//! A sale the chip card approved offline (TC at the first GENERATE AC, Y1): nothing goes
//! online now. The sale is journaled approved in one commit with its upload queued (an advice,
//! 60.1 = 36, carrying the TC), so a crash either leaves no trace and no charge, or the approval
//! and its upload together. The upload goes store-and-forward like every advice, and
//! settlement waits for it: the acquirer collects the money only when it has the TC.
//!
//! A signature the approval needs is asked for before that commit and journaled in it
//! (`esign_offline`); its upload waits behind the advice, whose answer brings the RRN it binds to.

use crate::card::emv::CompletionReport;
use crate::codec::tlv::{self, Tlv};
use crate::store::{NewTransaction, OnlineTxn, OpaqueBlob};
use crate::txn::chip::Inserted;
use crate::txn::chip_uploads::{UPLOAD_LIFETIME_MS, stored_icc_data};
use crate::txn::esign_flow::SignatureNote;
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
        // The card is here now: the signature is asked for before the commit and journaled in it.
        let signing = self.sign_offline(&p.signature_ask());
        let recorded = self.journal().record_offline_approval_signed(
            &new,
            now + UPLOAD_LIFETIME_MS,
            signing.unbound(),
        );
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
        let note = self.offline_signature_note(&signing, p.attempt_id, started.id);
        self.offline_outcome(&p, inserted, &started, note)
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
        let signing = self.sign_offline(&p.signature_ask());
        let now = self.now_ms();
        let converted = self.journal().approve_unable_online_signed(
            started.id,
            &OpaqueBlob::new(data),
            now + UPLOAD_LIFETIME_MS,
            now,
            signing.unbound(),
        );
        if let Err(e) = converted {
            return self.storage_fault(&e).into();
        }
        crate::crashpoint::reached("offline.recorded", "unable_online");
        log::info!(
            "txn {}: host unreachable, approved offline by the card (Y3), upload queued",
            p.attempt_id
        );
        let note = self.offline_signature_note(&signing, p.attempt_id, started.id);
        self.offline_outcome(p, inserted, started, note)
    }

    fn offline_outcome(
        &self,
        p: &Prepared<'_>,
        inserted: &Inserted,
        started: &OnlineTxn,
        signature: Option<SignatureNote>,
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
            signature,
        };
        approval.receipt = receipt::for_approval(
            &self.config,
            &approval,
            p.pan.masked(),
            self.ports.clock.now(),
            false,
            Some(&inserted.request.field55),
        );
        // The card's signature CVM puts the line to sign on the paper slip unless the pad took
        // the signature (`for_approval`); a pad-signed slip may go paperless.
        approval.paperless = self.paperless_slip(approval.signature.as_ref());
        if !approval.paperless {
            approval.receipt_printed = self.print(started.id, &approval.receipt);
        }
        Outcome::Approved(approval)
    }
}
