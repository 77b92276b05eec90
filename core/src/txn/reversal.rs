//! Reversals: armed before a reversible request is sent, sent before the next online message,
//! cleared by 00, 12 or 25 (the host has undone it, or never had it). One that keeps failing is
//! parked as `failed`: visible pending work that blocks settlement.

use crate::diag::Termination;
use crate::host::CancelToken;
use crate::store::PendingReversal;
use crate::txn::endings;
use crate::txn::fields;
use crate::txn::terminal::Terminal;

/// Host answers that clear a reversal: 00 undone; 12 invalid (nothing to undo); 25 original not
/// found (the request never arrived).
const CLEARING_CODES: [&str; 3] = ["00", "12", "25"];

impl Terminal {
    /// Sends every reversal still owed, once each. Returns how many are still owed.
    pub fn send_pending_reversals(&self) -> usize {
        let _one = self.exclusive();
        self.send_reversals_locked()
    }

    /// As `send_pending_reversals`, for callers already holding the terminal.
    pub(crate) fn send_reversals_locked(&self) -> usize {
        let pending = match self.journal().pending_reversals() {
            Ok(p) => p,
            Err(e) => {
                log::error!(
                    "terminal {}: reversals unreadable: {e}",
                    self.config.terminal_id
                );
                return 0;
            }
        };
        pending.iter().filter(|r| !self.send_reversal(r)).count()
    }

    /// True when the host confirmed the reversal.
    fn send_reversal(&self, r: &PendingReversal) -> bool {
        let id = r.transaction_id;
        let record = match self.journal().transaction(id) {
            Ok(Some(t)) => t,
            _ => return false,
        };
        let Some(rebuilt) = self.rebuild(&record) else {
            return false;
        };
        let kind = rebuilt.kind();
        let facts = rebuilt.facts(self, &record);
        let request = fields::reversal_request(&facts, r.reason.as_str());
        // Journal first: the attempt is counted before the 0400 leaves.
        if let Err(e) = self.journal().reversal_sending(id) {
            log::error!("txn {}: {e}", record.attempt_id);
            return false;
        }
        crate::crashpoint::reached("reversal.journaled", kind.name());
        let attempts = r.attempts + 1;
        let give_up = attempts >= self.config.reversal_attempts;
        let answer = match self.exchange(request, true, &CancelToken::new()) {
            Ok(resp) => resp.field_text(39).unwrap_or_default(),
            Err(e) => {
                log::warn!("txn {}: reversal not delivered: {e}", record.attempt_id);
                self.reversal_failed(id, &record.attempt_id, &e.to_string(), give_up);
                return false;
            }
        };
        crate::crashpoint::reached("reversal.answered", kind.name());
        if CLEARING_CODES.contains(&answer.as_str()) {
            log::info!("txn {}: reversed ({answer})", record.attempt_id);
            match self.journal().reversal_acknowledged(id, self.now_ms()) {
                Ok(()) => true,
                Err(e) => {
                    log::error!("txn {}: {e}", record.attempt_id);
                    false
                }
            }
        } else {
            log::warn!("txn {}: reversal refused ({answer})", record.attempt_id);
            let why = format!("host answered {answer}");
            self.reversal_failed(id, &record.attempt_id, &why, give_up);
            false
        }
    }

    fn reversal_failed(&self, id: i64, attempt_id: &str, why: &str, give_up: bool) {
        if give_up {
            log::error!("txn {attempt_id}: reversal given up after its attempts; operator action");
        }
        if let Err(e) = self.journal().reversal_attempt_failed(id, why, give_up) {
            log::error!("txn {attempt_id}: {e}");
        }
    }

    /// Before any online message: sign on if needed and send earlier reversals first.
    pub(crate) fn ready_for_online(&self) -> Result<(), Termination> {
        if let Some(fault) = self.session().storage_fault.as_ref() {
            return Err(endings::storage_corrupt(fault));
        }
        let needs_sign_on = self.session().sign_on_required;
        if needs_sign_on {
            if !self.config.auto_sign_on {
                return Err(endings::sign_on_required());
            }
            self.sign_on_locked()?;
        }
        // Nearly always nothing is owed; an unreadable journal takes the long way, which logs.
        if !self.journal().owes_host().unwrap_or(true) {
            return Ok(());
        }
        // A reversal the host cannot take now means it cannot take the new request either; one
        // that has used its attempts is parked for the operator and does not hold up payments.
        if self.send_reversals_locked() > 0 {
            return Err(endings::reversal_pending());
        }
        // Advices go in order before new business; one the host cannot take now stays queued
        // (its money is already the host's to decide) and does not hold up the payment.
        self.forward_advices_locked();
        Ok(())
    }
}
