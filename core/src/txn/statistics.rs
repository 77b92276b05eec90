//! Recording what the engine returns and how long the host takes, and the statistics report
//! built from those rows. Recording never changes an outcome: a statistics write that fails is
//! logged and dropped.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::diag::{StatisticsReport, Termination};
use crate::store::{EndingRecord, StoreError};
use crate::txn::kind::TxnKind;
use crate::txn::outcome::Outcome;
use crate::txn::terminal::Terminal;

impl Terminal {
    /// Records the ending of a card transaction and hands it back unchanged.
    pub(crate) fn tally(&self, kind: TxnKind, attempt_id: &str, outcome: Outcome) -> Outcome {
        self.record_ending(kind.name(), Some(attempt_id), outcome.termination());
        outcome
    }

    /// Records how a non-payment operation (settlement, sign-on) was terminated; its successes
    /// are not endings a merchant sees and would only dilute the approval rate.
    pub(crate) fn tally_ending(&self, kind: &str, termination: Option<&Termination>) {
        if termination.is_some() {
            self.record_ending(kind, None, termination);
        }
    }

    fn record_ending(&self, kind: &str, attempt_id: Option<&str>, t: Option<&Termination>) {
        let code = t.map(|t| t.code.to_string());
        let row = EndingRecord {
            at_ms: self.now_ms(),
            attempt_id,
            kind,
            termination: code.as_deref().zip(t.map(|t| t.cause)),
        };
        if let Err(e) = self.journal().record_ending(&row) {
            log::warn!(
                "terminal {}: ending not counted: {e}",
                self.config.terminal_id
            );
        }
    }

    /// Records one host round trip. Exchanges can run while a caller holds the journal (never
    /// today, but cheap to be safe against): then the sample is dropped rather than deadlock.
    pub(crate) fn note_exchange(&self, mti: &str, took: Duration, answered: bool) {
        let at_ms = self.now_ms();
        let latency_ms = u64::try_from(took.as_millis()).unwrap_or(u64::MAX);
        let mut journal = match self.journal.try_lock() {
            Ok(j) => j,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return,
        };
        if let Err(e) = journal.record_exchange(at_ms, mti, latency_ms, answered) {
            log::warn!(
                "terminal {}: latency not recorded: {e}",
                self.config.terminal_id
            );
        }
    }

    pub(crate) fn note_settlement(&self, batch_no: u32) {
        let at_ms = self.now_ms();
        let recorded = crate::store::BatchNo::new(batch_no)
            .and_then(|b| self.journal().record_settlement(at_ms, b));
        if let Err(e) = recorded {
            log::warn!(
                "terminal {}: settlement time not recorded: {e}",
                self.config.terminal_id
            );
        }
    }

    /// Terminations by cause and code, approval rate, top causes and host latency for today and
    /// the last 7 days as of `now` (the terminal clock's reading, normally `Clock::now`).
    pub fn report(&self, now: SystemTime) -> Result<StatisticsReport, StoreError> {
        let now_ms = now
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        self.journal().statistics(&self.config.terminal_id, now_ms)
    }
}
