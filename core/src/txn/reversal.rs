//! Reversals: armed before a reversible request is sent, sent before the next online message,
//! cleared only by a MAC-verified 00, 12 or 25 (the host has undone it, or never had it).
//!
//! Every reversal reaches an end. An answer that asks for a new sign-on (A0, 77, 99) or that
//! cannot be authenticated costs an attempt, then the terminal signs on and sends it again at
//! once. A request that cannot be rebuilt in full (the sealed PAN does not open) goes without
//! field 2, matched by terminal, batch and STAN as the acquirer does, and the journal says why.
//! One that has used its attempts is parked as `failed`: no longer sent by itself, listed with a
//! termination, blocking settlement, until an operator releases it.

use crate::diag::{Termination, TerminationCode};
use crate::host::CancelToken;
use crate::host::acquirer::ExchangeError;
use crate::store::{Journal, PendingReversal, ReversalState, StoreError, TransactionRecord};
use crate::txn::endings;
use crate::txn::fields;
use crate::txn::online::demands_sign_on;
use crate::txn::terminal::Terminal;

/// Host answers that clear a reversal: 00 undone; 12 invalid (nothing to undo); 25 original not
/// found (the request never arrived).
const CLEARING_CODES: [&str; 3] = ["00", "12", "25"];

/// What became of one owed reversal in a pass.
enum Sent {
    Cleared,
    Owed,
    /// Keys out of step and no sign-on possible now: nothing could be sent.
    KeysOutOfStep,
}

/// How one attempt at a reversal ended.
enum Attempt {
    Cleared,
    /// Not cleared; `resign` when the answer says the keys are out of step, so a sign-on and an
    /// immediate resend can help.
    Failed {
        resign: bool,
    },
}

/// A reversal still owed or parked, as the operator and the shell see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwedReversal {
    /// The journal id of the transaction it undoes (what `release_parked_reversal` takes).
    pub transaction_id: i64,
    pub attempt_id: String,
    pub kind: crate::store::TxnKind,
    pub amount_fen: u64,
    pub stan: u32,
    pub batch_no: u32,
    pub pan_masked: Option<String>,
    /// The reason code the 0400 carries (98, A0, 06, 96).
    pub reason: String,
    pub state: ReversalState,
    pub attempts: u32,
    pub last_error: Option<String>,
    /// Set when it is parked for the operator: what the merchant is told and what to do.
    pub parked: Option<Termination>,
}

impl Terminal {
    /// Sends every reversal still owed, once each (twice when the first answer asks for a new
    /// sign-on). Returns how many are still owed.
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
        let mut owed = 0;
        for (i, r) in pending.iter().enumerate() {
            match self.send_reversal(r) {
                Sent::Cleared => {}
                Sent::Owed => owed += 1,
                // No sign-on possible now: the others could not go either, so they are not
                // tried one by one (each would wait for the same unreachable host).
                Sent::KeysOutOfStep => return owed + pending.len() - i,
            }
        }
        owed
    }

    fn send_reversal(&self, r: &PendingReversal) -> Sent {
        let record = match self.journal().transaction(r.transaction_id) {
            Ok(Some(t)) => t,
            Ok(None) => return Sent::Owed,
            Err(e) => {
                log::error!("reversal of #{}: {e}", r.transaction_id);
                return Sent::Owed;
            }
        };
        let mut attempts = r.attempts;
        // The first send, and one resend after a sign-on the answer asked for.
        for _ in 0..2 {
            if !self.keys_in_step(&record.attempt_id, record.kind.as_str()) {
                return Sent::KeysOutOfStep;
            }
            attempts += 1;
            let give_up = attempts >= self.config.reversal_attempts;
            match self.attempt_reversal(r, &record, give_up) {
                Attempt::Cleared => return Sent::Cleared,
                Attempt::Failed { resign } if resign && !give_up => continue,
                Attempt::Failed { .. } => return Sent::Owed,
            }
        }
        Sent::Owed
    }

    /// Signs on first when the host asked for it or an answer failed its MAC: a reversal sent
    /// under keys the host no longer has would only fail again. False when that is not possible
    /// now (automatic sign-on is off, or the sign-on failed): the reversal stays owed.
    pub(crate) fn keys_in_step(&self, attempt_id: &str, kind: &str) -> bool {
        if !self.session().sign_on_required {
            return true;
        }
        if !self.config.auto_sign_on {
            return false;
        }
        crate::crashpoint::reached("reversal.sign_on", kind);
        match self.sign_on_locked() {
            Ok(_) => {
                crate::crashpoint::reached("reversal.signed_on", kind);
                true
            }
            Err(t) => {
                log::warn!(
                    "txn {attempt_id}: sign-on before resending failed: {}",
                    t.code
                );
                false
            }
        }
    }

    fn attempt_reversal(
        &self,
        r: &PendingReversal,
        record: &TransactionRecord,
        give_up: bool,
    ) -> Attempt {
        let id = r.transaction_id;
        // Journal first: the attempt is counted before the 0400 leaves — or before finding that
        // it cannot be built, so such a reversal too ends parked rather than retried forever.
        if let Err(e) = self.journal().reversal_sending(id) {
            log::error!("txn {}: {e}", record.attempt_id);
            return Attempt::Failed { resign: false };
        }
        let rebuilt = match self.rebuild(record) {
            Ok(rebuilt) => rebuilt,
            Err(why) => {
                log::error!("txn {}: reversal cannot be built: {why}", record.attempt_id);
                self.reversal_failed(id, &record.attempt_id, &why, give_up);
                return Attempt::Failed { resign: false };
            }
        };
        let kind = rebuilt.kind();
        let facts = rebuilt.facts(self, record);
        let request = fields::reversal_request(&facts, r.reason.as_str());
        crate::crashpoint::reached("reversal.journaled", kind.name());
        let answer = match self.exchange(request, true, &CancelToken::new()) {
            Ok(resp) => resp.field_text(39).unwrap_or_default(),
            Err(e) => {
                log::warn!("txn {}: reversal not delivered: {e}", record.attempt_id);
                let why = rebuilt.annotate(&e.to_string());
                self.reversal_failed(id, &record.attempt_id, &why, give_up);
                return Attempt::Failed {
                    resign: ExchangeError::is_unauthenticated(&e),
                };
            }
        };
        crate::crashpoint::reached("reversal.answered", kind.name());
        if CLEARING_CODES.contains(&answer.as_str()) {
            log::info!("txn {}: reversed ({answer})", record.attempt_id);
            match self.journal().reversal_acknowledged(id, self.now_ms()) {
                Ok(()) => Attempt::Cleared,
                Err(e) => {
                    log::error!("txn {}: {e}", record.attempt_id);
                    Attempt::Failed { resign: false }
                }
            }
        } else {
            log::warn!("txn {}: reversal refused ({answer})", record.attempt_id);
            let why = rebuilt.annotate(&format!("host answered {answer}"));
            self.reversal_failed(id, &record.attempt_id, &why, give_up);
            Attempt::Failed {
                resign: demands_sign_on(&answer),
            }
        }
    }

    fn reversal_failed(&self, id: i64, attempt_id: &str, why: &str, give_up: bool) {
        if give_up {
            log::error!("txn {attempt_id}: reversal parked after its attempts; operator action");
        }
        if let Err(e) = self.journal().reversal_attempt_failed(id, why, give_up) {
            log::error!("txn {attempt_id}: {e}");
        }
    }

    /// Reversals owed or parked, with what the merchant is told about the parked ones.
    pub fn owed_reversals(&self) -> Result<Vec<OwedReversal>, StoreError> {
        OwedReversal::list(&self.journal())
    }

    /// The operator has settled a parked reversal with the acquirer by other means (a call, the
    /// acquirer's portal): it stops blocking settlement and stays listed as `released`. Only a
    /// parked (`failed`) reversal can be released; one still being retried cannot.
    pub fn release_parked_reversal(&self, transaction_id: i64) -> Result<(), StoreError> {
        let _one = self.exclusive();
        let at = self.now_ms();
        self.journal().release_reversal(transaction_id, at)?;
        log::warn!(
            "terminal {}: parked reversal of #{transaction_id} released by the operator",
            self.config.terminal_id
        );
        Ok(())
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

impl OwedReversal {
    /// The journal's unresolved reversals (owed, and parked for the operator), oldest first.
    /// Works on a read-only view too: listing them needs no ownership.
    pub fn list(journal: &Journal) -> Result<Vec<OwedReversal>, StoreError> {
        let mut out = Vec::new();
        for r in journal.unresolved_reversals()? {
            if let Some(t) = journal.transaction(r.transaction_id)? {
                out.push(OwedReversal::new(&r, &t));
            }
        }
        Ok(out)
    }

    fn new(r: &PendingReversal, t: &TransactionRecord) -> OwedReversal {
        let parked = (r.state == ReversalState::Failed).then(|| {
            Termination::new(TerminationCode::NetReversalParked).with_detail(&format!(
                "STAN {:06}: {} 次尝试 / {} attempts",
                t.stan.value(),
                r.attempts,
                r.attempts
            ))
        });
        OwedReversal {
            transaction_id: r.transaction_id,
            attempt_id: t.attempt_id.clone(),
            kind: t.kind,
            amount_fen: t.amount_fen,
            stan: t.stan.value(),
            batch_no: t.batch_no.value(),
            pan_masked: t.pan_masked.clone(),
            reason: r.reason.as_str().to_string(),
            state: r.state,
            attempts: r.attempts,
            last_error: r.last_error.clone(),
            parked,
        }
    }
}
