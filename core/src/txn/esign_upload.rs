//! The e-signature upload, store-and-forward (message layout: `esign::wire`, OUR dialect row).
//! Segments go in order; each acknowledgement is journaled before the next segment is sent,
//! so a kill -9 resends at most the segment in flight, which the acquirer deduplicates.
//! An upload is tried [`ESIGN_ATTEMPTS`] times (right after the sale, after later sales,
//! before settlement); then, or when the acquirer refuses it, it is given up (kept, listed)
//! and settlement names the slip as one that needs a signed paper copy.
//!
//! An offline approval's signature is journaled unbound; it binds here, at the front of the
//! queue, once the advice queued ahead of it has been answered (`esign_offline`).

use crate::codec::iso8583::cups::{Field60, Field61};
use crate::esign::{self, SignatureDigest, UploadState, open_image, wire};
use crate::host::CancelToken;
use crate::store::{Advice, AdviceState, StoreError, TransactionRecord};
use crate::txn::esign_offline::Binding;
use crate::txn::fields;
use crate::txn::online::demands_sign_on;
use crate::txn::terminal::Terminal;

pub(crate) use crate::esign::wire::SEGMENT_BYTES;

/// Sends of one upload before it is given up and the slip goes on paper.
/// (The readiness check before a settlement or a sale and the settlement itself each send
/// what is queued, so one settlement call may use two.)
pub const ESIGN_ATTEMPTS: u32 = 5;

/// How one upload attempt ended.
enum Sent {
    /// Every segment acknowledged.
    Done,
    /// Not delivered (network, keys): try again later.
    Retry(String),
    /// The acquirer refused it (binding, no original), or it can never bind: trying again
    /// would not change that.
    Refused(String),
    /// An offline approval's signature behind its unanswered advice: not an attempt.
    Wait,
}

/// Answers that sending the same upload again cannot change: the signature does not bind to
/// the slip, the host has no such slip, the slip has another signature, or the message is
/// malformed. Anything else (a host fault, maintenance) is tried again.
fn is_refusal(code: &str) -> bool {
    [
        wire::REFUSED_BINDING,
        wire::REFUSED_NO_ORIGINAL,
        wire::REFUSED_ALREADY_SIGNED,
        "30",
    ]
    .contains(&code)
}

impl Terminal {
    /// Forwards one e-signature upload; true when nothing more is owed on it (acknowledged or
    /// given up), so the queue behind it may go on.
    pub(crate) fn forward_esign(&self, advice: &Advice, record: &TransactionRecord) -> bool {
        match self.send_esign(advice, record) {
            Ok(Sent::Done) => match self.journal().advice_sent(advice.seq) {
                Ok(()) => {
                    crate::crashpoint::reached("esign.uploaded", record.kind.as_str());
                    log::info!("txn {}: signature uploaded", record.attempt_id);
                    true
                }
                Err(e) => {
                    log::error!("txn {}: upload end not recorded: {e}", record.attempt_id);
                    false
                }
            },
            Ok(Sent::Refused(why)) => self.give_up_esign(advice, record, &why),
            Ok(Sent::Wait) => {
                log::info!("txn {}: signature waits for its advice", record.attempt_id);
                false
            }
            Ok(Sent::Retry(why)) if advice.attempts + 1 >= ESIGN_ATTEMPTS => {
                self.give_up_esign(advice, record, &why)
            }
            Ok(Sent::Retry(why)) => {
                log::warn!("txn {}: signature upload: {why}", record.attempt_id);
                if let Err(e) = self
                    .journal()
                    .advice_failed(advice.seq, &why, self.now_ms())
                {
                    log::error!("txn {}: {e}", record.attempt_id);
                }
                false
            }
            Err(e) => {
                log::error!("txn {}: signature upload: {e}", record.attempt_id);
                false
            }
        }
    }

    fn give_up_esign(&self, advice: &Advice, record: &TransactionRecord, why: &str) -> bool {
        log::warn!(
            "txn {}: signature upload given up ({why}): paper slip needed",
            record.attempt_id
        );
        match self.journal().esign_given_up(advice.seq, why) {
            Ok(()) => true,
            Err(e) => {
                log::error!("txn {}: {e}", record.attempt_id);
                false
            }
        }
    }

    fn send_esign(&self, advice: &Advice, record: &TransactionRecord) -> Result<Sent, StoreError> {
        let Some(signature) = self.journal().signature(record.id)? else {
            return Ok(Sent::Refused("no signature journaled".into()));
        };
        let (Some(sealed), Some(stan)) = (&signature.image_sealed, advice.stan) else {
            return Ok(Sent::Refused("the signature row is incomplete".into()));
        };
        let Ok(image) = open_image(&self.config.storage_key, &record.attempt_id, sealed) else {
            return Ok(Sent::Refused("the sealed image does not open".into()));
        };
        // An offline approval's signature binds only once its advice has been answered.
        let digest = match signature.digest {
            Some(d) => SignatureDigest::from_bytes(d),
            None => match self.bind_offline_signature(record, &signature.date_time, &image)? {
                Binding::Bound(d) => d,
                Binding::Wait => return Ok(Sent::Wait),
                Binding::Never(why) => return Ok(Sent::Refused(why)),
            },
        };
        let segments = match esign::split(&image, SEGMENT_BYTES) {
            Ok(s) => s,
            Err(e) => return Ok(Sent::Refused(e.to_string())),
        };
        let image_len = u32::try_from(image.len()).unwrap_or(u32::MAX);
        let from = usize::try_from(signature.segments_acked).unwrap_or(usize::MAX);
        for segment in segments.iter().skip(from) {
            let mut m = fields::management_message(
                "0820",
                stan.value(),
                &self.config.terminal_id,
                &self.config.merchant_id,
                record.batch_no.value(),
                wire::NET_CODE,
                &self.config.operator,
            );
            let f60 = Field60 {
                type_code: wire::TYPE_CODE.into(),
                batch_no: record.batch_no.value(),
                net_mgmt: wire::NET_CODE.into(),
                read_capability: None,
                ic_condition: None,
                tail: String::new(),
            };
            m.set_digits(60, &f60.to_digits());
            let f61 = Field61 {
                batch_no: record.batch_no.value(),
                stan: record.stan.value(),
                date: Some(signature.date_time.get(4..8).unwrap_or("0000").to_owned()),
                tail: String::new(),
            };
            m.set_digits(61, &f61.to_digits());
            m.set_bytes(
                62,
                wire::encode_field62(segment, image_len, &signature.date_time, &digest),
            );
            let response = match self.exchange(m, true, &CancelToken::new()) {
                Ok(r) => r,
                Err(e) => return Ok(Sent::Retry(e.to_string())),
            };
            crate::crashpoint::reached("esign.segment_answered", record.kind.as_str());
            let code = response.field_text(39).unwrap_or_default();
            if demands_sign_on(&code) {
                return Ok(Sent::Retry(format!("host answered {code}")));
            }
            if is_refusal(&code) {
                return Ok(Sent::Refused(format!(
                    "host refused the signature ({code})"
                )));
            }
            if code != "00" {
                return Ok(Sent::Retry(format!("host answered {code}")));
            }
            let index = u32::try_from(segment.index).unwrap_or(u32::MAX);
            self.journal().signature_segment_acked(record.id, index)?;
            crate::crashpoint::reached("esign.segment_journaled", record.kind.as_str());
        }
        Ok(Sent::Done)
    }

    /// What settlement may do about the open batch's e-signature uploads (STANs of the signed
    /// transactions): wait for those with attempts left, then name the slips needing paper.
    pub(crate) fn esign_settlement_gate(&self) -> Result<esign::SettlementGate, StoreError> {
        let journal = self.journal();
        let batch = journal.batch_no()?;
        let mut states = Vec::new();
        for (stan, upload) in journal.esign_uploads_in_batch(batch)? {
            // An offline sale the acquirer declined at its advice was never charged: its
            // signature, given up unbound, needs no paper copy either.
            let declined = journal
                .transaction(upload.transaction_id)?
                .is_some_and(|t| t.state == crate::store::TxnState::Declined);
            if declined {
                continue;
            }
            let state = match upload.state {
                AdviceState::Sent => UploadState::Uploaded,
                AdviceState::Pending => UploadState::Pending {
                    attempts: upload.attempts,
                },
                // Given up (attempts used, or refused): the slip needs paper.
                _ => UploadState::Pending {
                    attempts: ESIGN_ATTEMPTS,
                },
            };
            states.push((stan.value(), state));
        }
        Ok(esign::settlement_gate(&states, ESIGN_ATTEMPTS))
    }
}
