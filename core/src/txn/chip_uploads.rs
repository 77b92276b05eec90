//! What a chip card leaves the terminal owing the acquirer after the customer has gone: the TC
//! of an online approval (UnionPay wants the card's final cryptogram as the proof of the
//! transaction), and the results of the issuer scripts the card ran. Both are queued in the
//! same commit as the outcome and forwarded store-and-forward like every advice: before the
//! next online message, at recovery, and before settlement, which waits for them.

use crate::card::emv::{Completion, CompletionReport};
use crate::codec::tlv::{self, Tlv};
use crate::host::CancelToken;
use crate::store::{Advice, AdvicePurpose, OpaqueBlob, TransactionRecord};
use crate::txn::fields::{self, OriginalFields};
use crate::txn::online::demands_sign_on;
use crate::txn::terminal::Terminal;

/// How long a chip upload (an offline sale, a TC, script results) is retried before it is
/// parked for the operator: UnionPay's electronic cash rules give the acquirer 10 calendar
/// days from the transaction date to submit offline transactions.
pub(crate) const UPLOAD_LIFETIME_MS: i64 = 10 * 24 * 3600 * 1000;

/// Tag of the script results (Book 4 Annex A5: 5 bytes per script), as UnionPay names it.
const SCRIPT_RESULTS_TAG: u32 = 0xDF31;
/// Tag of the PAN sequence number, kept with the data so an upload can fill field 23.
const PAN_SEQUENCE_TAG: u32 = 0x5F34;

/// The card's data as the journal keeps it for the uploads: field 55 after completion, the
/// script results and the PAN sequence number.
pub(crate) fn stored_icc_data(field55: &[u8], script_results: &[u8], psn: Option<u8>) -> Vec<u8> {
    let mut data = field55.to_vec();
    if !script_results.is_empty() {
        data.extend(tlv::encode(&[Tlv::primitive(
            SCRIPT_RESULTS_TAG,
            script_results.to_vec(),
        )]));
    }
    if let Some(psn) = psn {
        data.extend(tlv::encode(&[Tlv::primitive(PAN_SEQUENCE_TAG, vec![psn])]));
    }
    data
}

/// The PAN sequence number stored with the card's data, as field 23 wants it.
pub(crate) fn stored_psn(icc_data: &[u8]) -> Option<u8> {
    let objects = tlv::parse(icc_data).ok()?;
    tlv::find(&objects, PAN_SEQUENCE_TAG)
        .and_then(Tlv::bytes)
        .and_then(|v| v.first().copied())
}

/// What the outcome of an online chip transaction queues: the TC upload when the card
/// approved, a script result advice when it ran issuer scripts; and the data they need.
pub(crate) fn after_completion(
    report: &CompletionReport,
    psn: Option<u8>,
    now_ms: i64,
) -> (Vec<(AdvicePurpose, i64)>, Option<OpaqueBlob>) {
    let mut uploads = Vec::new();
    if report.completion == Completion::ApprovedOnline {
        uploads.push((AdvicePurpose::TcUpload, now_ms + UPLOAD_LIFETIME_MS));
    }
    if !report.script_results.is_empty() {
        uploads.push((AdvicePurpose::ScriptResult, now_ms + UPLOAD_LIFETIME_MS));
    }
    let data = (!uploads.is_empty()).then(|| {
        OpaqueBlob::new(stored_icc_data(
            &report.field55,
            &report.script_results,
            psn,
        ))
    });
    (uploads, data)
}

impl Terminal {
    /// Sends one TC upload or script result advice; true when the host answered it (whatever
    /// it said: a refused TC is the issuer's matter now, and sending it again would not
    /// change the answer).
    pub(crate) fn forward_chip_upload(&self, advice: &Advice, record: &TransactionRecord) -> bool {
        let rebuilt = match self.rebuild(record) {
            Ok(r) if r.has_pan() => r,
            Ok(_) => return self.upload_not_sent(advice, record, "the sealed PAN does not open"),
            Err(why) => return self.upload_not_sent(advice, record, &why),
        };
        if record.icc_data.is_none() {
            return self.upload_not_sent(advice, record, "the card's data is gone");
        }
        let mut facts = rebuilt.facts(self, record);
        let request = match advice.purpose {
            AdvicePurpose::ScriptResult => {
                let Some(stan) = advice.stan else {
                    return self.upload_not_sent(advice, record, "no STAN queued");
                };
                facts.stan = stan.value();
                facts.original = Some(OriginalFields {
                    batch_no: record.batch_no.value(),
                    stan: record.stan.value(),
                    rrn: record.rrn.as_deref().unwrap_or(""),
                    auth_code: record.auth_code.as_deref().unwrap_or(""),
                    date: None,
                });
                fields::script_result_advice(&facts)
            }
            _ => fields::tc_upload(&facts),
        };
        let response = match self.exchange(request, true, &CancelToken::new()) {
            Ok(r) => r,
            Err(e) => {
                log::warn!(
                    "txn {}: {} not delivered: {e}",
                    record.attempt_id,
                    advice.purpose.as_str()
                );
                return self.upload_not_sent(advice, record, &e.to_string());
            }
        };
        crate::crashpoint::reached("upload.answered", advice.purpose.as_str());
        let code = response.field_text(39).unwrap_or_default();
        if demands_sign_on(&code) {
            return self.upload_not_sent(advice, record, &format!("host answered {code}"));
        }
        if code != "00" {
            log::warn!(
                "txn {}: {} answered {code}",
                record.attempt_id,
                advice.purpose.as_str()
            );
        }
        if let Err(e) = self.journal().advice_sent(advice.seq) {
            log::error!("txn {}: upload answer not recorded: {e}", record.attempt_id);
            return false;
        }
        log::info!(
            "txn {}: {} acknowledged ({code})",
            record.attempt_id,
            advice.purpose.as_str()
        );
        true
    }

    fn upload_not_sent(&self, advice: &Advice, record: &TransactionRecord, why: &str) -> bool {
        if let Err(se) = self.journal().advice_failed(advice.seq, why, self.now_ms()) {
            log::error!("txn {}: {se}", record.attempt_id);
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_data_carries_script_results_and_the_sequence_number() {
        let f55 = hex::decode("9F2608A1A2A3A4A5A6A7A89F270140").unwrap();
        let data = stored_icc_data(&f55, &[0x20, 0, 0, 0, 1], Some(1));
        assert_eq!(
            hex::encode_upper(&data),
            "9F2608A1A2A3A4A5A6A7A89F270140DF310520000000015F340101"
        );
        assert_eq!(stored_psn(&data), Some(1));
        assert_eq!(stored_psn(&f55), None);
    }

    #[test]
    fn an_approval_queues_its_tc_and_scripts_their_results() {
        let report = |completion, scripts: &[u8]| CompletionReport {
            completion,
            field55: vec![0x9F, 0x27, 0x01, 0x40],
            script_results: scripts.to_vec(),
        };
        let (uploads, data) = after_completion(&report(Completion::ApprovedOnline, &[]), None, 0);
        assert_eq!(uploads, vec![(AdvicePurpose::TcUpload, UPLOAD_LIFETIME_MS)]);
        assert!(data.is_some());
        let (uploads, _) = after_completion(
            &report(Completion::DeclinedOnline, &[0x20, 0, 0, 0, 1]),
            None,
            0,
        );
        assert_eq!(
            uploads,
            vec![(AdvicePurpose::ScriptResult, UPLOAD_LIFETIME_MS)]
        );
        let (uploads, data) = after_completion(&report(Completion::DeclinedOnline, &[]), None, 0);
        assert!(uploads.is_empty() && data.is_none());
    }
}
