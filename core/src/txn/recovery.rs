//! Recovery at open: every transaction a crash left in flight is resolved. Reversible requests
//! whose outcome was never recorded are reversed (their reversal was armed in the same commit as
//! the request); an in-flight refund becomes an advice to re-send; receipts that never printed
//! are counted for reprint. What the host cannot take now stays pending and goes before the
//! next online message.

use crate::diag::TerminationCode;
use crate::store::{HostOutcome, ReversalAction, TxnState};
use crate::txn::kind::TxnKind;
use crate::txn::terminal::Terminal;

/// What a recovery pass found and did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Transactions found with no recorded outcome (the process died mid-exchange).
    pub in_flight: usize,
    /// Reversals the host confirmed during this pass.
    pub reversals_sent: usize,
    /// Reversals still owed (host unreachable, or parked for the operator).
    pub reversals_pending: usize,
    /// Advices (refunds) waiting to be re-sent.
    pub advices_pending: usize,
    /// Approved transactions whose receipt never printed: offer a reprint.
    pub receipts_unprinted: usize,
}

impl Terminal {
    /// Resolves what a previous process left unfinished. Runs at open; safe to run again.
    pub fn recover(&self) -> RecoveryReport {
        let _one = self.exclusive();
        self.recover_locked()
    }

    pub(crate) fn recover_locked(&self) -> RecoveryReport {
        let mut report = RecoveryReport::default();
        let in_flight = self.journal().in_flight().unwrap_or_else(|e| {
            log::error!(
                "terminal {}: in-flight lookup failed: {e}",
                self.config.terminal_id
            );
            Vec::new()
        });
        report.in_flight = in_flight.len();
        for record in &in_flight {
            let reversible = TxnKind::from_journal(record.kind)
                .map(|k| k.spec().reversible)
                .unwrap_or(true);
            if reversible {
                // Its armed reversal is already owed; send_pending_reversals picks it up.
                continue;
            }
            let outcome = HostOutcome {
                termination_code: Some(TerminationCode::NetTimeout.to_string()),
                advice_expires_at: Some(self.now_ms() + super::online::ADVICE_LIFETIME_MS),
                ..HostOutcome::new(TxnState::Unknown, ReversalAction::Disarm, self.now_ms())
            };
            if let Err(e) = self.journal().record_outcome(record.id, &outcome) {
                log::error!("txn {}: not queued as advice: {e}", record.attempt_id);
            }
        }
        let owed = self
            .journal()
            .pending_reversals()
            .map(|v| v.len())
            .unwrap_or(0);
        let still = self.send_reversals_locked();
        report.reversals_sent = owed.saturating_sub(still);
        report.reversals_pending = self
            .journal()
            .unresolved_reversals()
            .map(|v| v.len())
            .unwrap_or(0);
        report.advices_pending = self.forward_advices_locked();
        report.receipts_unprinted = self
            .journal()
            .unprinted_receipts()
            .map(|v| v.len())
            .unwrap_or(0);
        log::info!("terminal {}: recovery {report:?}", self.config.terminal_id);
        report
    }
}
