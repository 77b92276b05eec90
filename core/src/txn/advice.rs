//! Store-and-forward: advices the host has not acknowledged are sent in order before the next
//! online message, at recovery and before settlement: refunds whose 0220 went unanswered (as
//! 0221 repeats with their original STAN), offline chip sales (0220, then 0221), and a chip
//! card's TC uploads and script results (`chip_uploads`). One that keeps failing past its
//! expiry becomes `expired`: kept and listed for the merchant, never dropped.

use crate::host::CancelToken;
use crate::store::{
    Advice, AdvicePurpose, HostOutcome, ReversalAction, TransactionRecord, TxnKind, TxnState,
};
use crate::txn::endings;
use crate::txn::fields;
use crate::txn::online::demands_sign_on;
use crate::txn::terminal::Terminal;

impl Terminal {
    /// Forwards pending advices in queue order, stopping at the first the host does not take.
    /// Returns how many are still pending.
    pub(crate) fn forward_advices_locked(&self) -> usize {
        let advices = match self.journal().pending_advices() {
            Ok(a) => a,
            Err(e) => {
                log::error!(
                    "terminal {}: advices unreadable: {e}",
                    self.config.terminal_id
                );
                return 0;
            }
        };
        for (i, advice) in advices.iter().enumerate() {
            if !self.forward_advice(advice) {
                return advices.len() - i;
            }
        }
        0
    }

    /// True when the host answered the advice (approved or declined: either way it is settled).
    fn forward_advice(&self, advice: &Advice) -> bool {
        let Ok(Some(record)) = self.journal().transaction(advice.transaction_id) else {
            return false;
        };
        if !self.keys_in_step(&record.attempt_id, record.kind.as_str()) {
            return false;
        }
        if advice.purpose == AdvicePurpose::ESign {
            return self.forward_esign(advice, &record);
        }
        if advice.purpose != AdvicePurpose::Advice {
            return self.forward_chip_upload(advice, &record);
        }
        let rebuilt = match self.rebuild(&record) {
            Ok(rebuilt) if rebuilt.has_pan() => rebuilt,
            // A refund without its card number cannot be credited: it stays queued (and
            // expires into the operator's list), never sent half-built.
            Ok(_) => return self.advice_not_sent(advice, &record, "the sealed PAN does not open"),
            Err(why) => return self.advice_not_sent(advice, &record, &why),
        };
        let facts = rebuilt.facts(self, &record);
        // An offline sale's first upload is the advice itself; every later try (and every
        // refund, whose 0220 went out online) is a repeat the host answers once.
        let request = if record.kind == TxnKind::OfflineSale && advice.attempts == 0 {
            fields::financial_request(&facts)
        } else {
            fields::advice_repeat(&facts)
        };
        let response = match self.exchange(request, true, &CancelToken::new()) {
            Ok(r) => r,
            Err(e) => {
                log::warn!("txn {}: advice not delivered: {e}", record.attempt_id);
                return self.advice_not_sent(advice, &record, &e.to_string());
            }
        };
        crate::crashpoint::reached("advice.answered", record.kind.as_str());
        let code = response.field_text(39).unwrap_or_default();
        if demands_sign_on(&code) {
            // The host did not take it (its keys are not ours): it stays queued, and goes again
            // after the sign-on this answer calls for.
            return self.advice_not_sent(advice, &record, &format!("host answered {code}"));
        }
        let outcome = if code == "00" {
            HostOutcome {
                response_code: Some(code),
                rrn: response.field_text(37),
                auth_code: response.field_text(38),
                // `advice_sent` below drops it once nothing else needs it; until that commit a
                // repeat must still carry it.
                keep_icc_data: true,
                ..HostOutcome::new(TxnState::Approved, ReversalAction::Disarm, self.now_ms())
            }
        } else {
            HostOutcome {
                termination_code: Some(endings::from_response(&code).code.to_string()),
                response_code: Some(code),
                keep_icc_data: true,
                ..HostOutcome::new(TxnState::Declined, ReversalAction::Disarm, self.now_ms())
            }
        };
        let mut journal = self.journal();
        let recorded = journal
            .record_outcome(record.id, &outcome)
            .and_then(|()| journal.advice_sent(advice.seq));
        if let Err(e) = recorded {
            log::error!("txn {}: advice answer not recorded: {e}", record.attempt_id);
            return false;
        }
        log::info!(
            "txn {}: advice acknowledged ({})",
            record.attempt_id,
            outcome.state
        );
        true
    }

    fn advice_not_sent(&self, advice: &Advice, record: &TransactionRecord, why: &str) -> bool {
        if let Err(se) = self.journal().advice_failed(advice.seq, why, self.now_ms()) {
            log::error!("txn {}: {se}", record.attempt_id);
        }
        false
    }
}
