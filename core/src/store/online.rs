//! The two commits of an online transaction: `begin_online` before the request leaves,
//! `record_outcome` when it is settled one way or the other.

use rusqlite::{OptionalExtension, params};

use super::write_txn::WriteTxn;

use super::journal::{batch_from_db, consume_stan};
use super::offline_signatures::{UnboundSignature, insert_unbound_signature};
use super::queue;
use super::{
    AdvicePurpose, BatchNo, EntryMode, Journal, OpaqueBlob, ReversalReason, ReversalState, Stan,
    StoreError, TxnKind, TxnState,
};

/// What the engine knows before sending. The PAN arrives already masked (6+4) and sealed
/// (AES-GCM, by the caller); the store never sees it in clear.
#[derive(Debug, Clone)]
pub struct NewTransaction {
    /// The shell's idempotency key; unique across the journal.
    pub attempt_id: String,
    pub kind: TxnKind,
    pub amount_fen: u64,
    /// ISO 4217 numeric, e.g. "156" for CNY.
    pub currency: String,
    pub pan_masked: Option<String>,
    pub pan_sealed: Option<OpaqueBlob>,
    pub entry_mode: EntryMode,
    /// The transaction a void/refund/completion refers to.
    pub original_id: Option<i64>,
    /// Field 55; kept only until the reversal or advice that may need it is done.
    pub icc_data: Option<OpaqueBlob>,
    /// Arm a reason-98 reversal in the same commit. False for messages that move no money
    /// (sign-on, balance inquiry).
    pub needs_reversal: bool,
    /// Unix milliseconds from the `Clock` port.
    pub at_ms: i64,
}

/// Returned by [`Journal::begin_online`]: what the request message must carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OnlineTxn {
    pub id: i64,
    pub stan: Stan,
    pub batch_no: BatchNo,
}

/// What to do with the reversal armed by `begin_online`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReversalAction {
    /// The outcome is certain (approved and accepted, declined, or never sent): clear it.
    Disarm,
    /// The host may hold an approval we will not honour: reverse with this reason.
    Require(ReversalReason),
}

/// The end of an online exchange, written in one commit by [`Journal::record_outcome`].
#[derive(Debug, Clone)]
pub struct HostOutcome {
    pub state: TxnState,
    pub response_code: Option<String>,
    pub rrn: Option<String>,
    pub auth_code: Option<String>,
    /// The diag catalog's code for a non-approval, if any.
    pub termination_code: Option<String>,
    pub reversal: ReversalAction,
    /// Keep field 55 because an advice or reversal still needs it; otherwise it is deleted.
    pub keep_icc_data: bool,
    /// Queue a store-and-forward advice (expiring at this Unix ms) in the same commit.
    pub advice_expires_at: Option<i64>,
    /// Chip uploads to queue in the same commit (a TC upload, a script result advice), each
    /// expiring at the Unix ms given.
    pub uploads: Vec<(AdvicePurpose, i64)>,
    /// Replaces the stored field 55 (the card's data after completion, for the uploads); kept
    /// whatever `keep_icc_data` says.
    pub icc_data: Option<OpaqueBlob>,
    /// Store the receipt to print in the same commit, so a printer fault cannot lose it.
    pub receipt: Option<String>,
    pub at_ms: i64,
}

impl HostOutcome {
    /// An outcome with only its state, the reversal's fate and the time; the rest empty.
    pub fn new(state: TxnState, reversal: ReversalAction, at_ms: i64) -> HostOutcome {
        HostOutcome {
            state,
            response_code: None,
            rrn: None,
            auth_code: None,
            termination_code: None,
            reversal,
            keep_icc_data: false,
            advice_expires_at: None,
            uploads: Vec::new(),
            icc_data: None,
            receipt: None,
            at_ms,
        }
    }
}

/// A masked PAN has at most 6 + 4 visible digits; more means someone passed a clear PAN.
fn check_masked(pan_masked: &Option<String>) -> Result<(), StoreError> {
    if let Some(pan) = pan_masked {
        let digits = pan.chars().filter(char::is_ascii_digit).count();
        if digits > 10 {
            return Err(StoreError::InvalidInput {
                what: "pan_masked",
                detail: format!("{digits} digits visible; at most 6 + 4 are allowed"),
            });
        }
    }
    Ok(())
}

impl Journal {
    /// Commit #1 of an online transaction: consumes the next STAN, inserts the transaction in
    /// state `sending` and (if `needs_reversal`) arms its reason-98 reversal — all in one
    /// SQLite transaction, so a crash leaves either none of it or all of it.
    pub fn begin_online(&mut self, new: &NewTransaction) -> Result<OnlineTxn, StoreError> {
        check_masked(&new.pan_masked)?;
        let amount = i64::try_from(new.amount_fen).map_err(|_| StoreError::InvalidInput {
            what: "amount_fen",
            detail: format!("{} exceeds the journal's range", new.amount_fen),
        })?;
        self.write_with_statistics(|tx| insert_transaction(tx, new, amount, TxnState::Sending))
    }

    /// An offline approval (the card's TC, Y1/Y3) in one commit: the next STAN, the transaction
    /// already `approved`, field 55 kept for its upload, and the upload queued (expiring at
    /// `upload_expires_at`). Nothing left the terminal, so there is no reversal to arm; a crash
    /// before this commit leaves no trace and charges nothing.
    pub fn record_offline_approval(
        &mut self,
        new: &NewTransaction,
        upload_expires_at: i64,
    ) -> Result<OnlineTxn, StoreError> {
        self.record_offline_approval_signed(new, upload_expires_at, None)
    }

    /// As [`Journal::record_offline_approval`], with the cardholder's signature captured at the
    /// card in the same commit. The signature is not bound yet (an offline approval has no RRN
    /// until its advice is answered): its upload is queued after the advice and binds then.
    pub fn record_offline_approval_signed(
        &mut self,
        new: &NewTransaction,
        upload_expires_at: i64,
        signature: Option<&UnboundSignature>,
    ) -> Result<OnlineTxn, StoreError> {
        if new.needs_reversal || new.icc_data.is_none() {
            return Err(StoreError::InvalidInput {
                what: "offline approval",
                detail: "needs the card's field 55 and no reversal".to_owned(),
            });
        }
        check_masked(&new.pan_masked)?;
        let amount = i64::try_from(new.amount_fen).map_err(|_| StoreError::InvalidInput {
            what: "amount_fen",
            detail: format!("{} exceeds the journal's range", new.amount_fen),
        })?;
        self.write_with_statistics(|tx| {
            let started = insert_transaction(tx, new, amount, TxnState::Approved)?;
            queue::enqueue_advice(tx, started.id, upload_expires_at)?;
            if let Some(sig) = signature {
                insert_unbound_signature(tx, started.id, sig, upload_expires_at)?;
            }
            Ok(started)
        })
    }

    /// A sale whose request certainly never reached the host (the connection failed) and
    /// which the card then approved offline (Y3): in one commit the row becomes an approved
    /// offline sale under the same STAN (the host never saw it), its armed reversal is
    /// cleared, the card's final data kept and its upload queued.
    pub fn approve_unable_online(
        &mut self,
        id: i64,
        icc_data: &OpaqueBlob,
        upload_expires_at: i64,
        at_ms: i64,
    ) -> Result<(), StoreError> {
        self.approve_unable_online_signed(id, icc_data, upload_expires_at, at_ms, None)
    }

    /// As [`Journal::approve_unable_online`], with the signature captured at the card in the
    /// same commit (bound and uploaded after the advice, as for
    /// [`Journal::record_offline_approval_signed`]).
    pub fn approve_unable_online_signed(
        &mut self,
        id: i64,
        icc_data: &OpaqueBlob,
        upload_expires_at: i64,
        at_ms: i64,
        signature: Option<&UnboundSignature>,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            let changed = tx
                .prepare_cached(
                    "UPDATE transactions SET kind = ?2, state = ?3, icc_data = ?4, \
                     updated_at = ?5 WHERE id = ?1 AND state = ?6 AND kind = ?7",
                )?
                .execute(params![
                    id,
                    TxnKind::OfflineSale.as_str(),
                    TxnState::Approved.as_str(),
                    icc_data.as_bytes(),
                    at_ms,
                    TxnState::Sending.as_str(),
                    TxnKind::Sale.as_str(),
                ])?;
            if changed == 0 {
                return Err(StoreError::NotFound { id });
            }
            disarm_reversal(tx, id)?;
            queue::enqueue_advice(tx, id, upload_expires_at)?;
            if let Some(sig) = signature {
                insert_unbound_signature(tx, id, sig, upload_expires_at)?;
            }
            Ok(())
        })
    }

    /// Commit #2: the outcome, the reversal's fate, the chip data's deletion and (for an
    /// approved void) the original marked `voided` — one SQLite transaction.
    pub fn record_outcome(&mut self, id: i64, outcome: &HostOutcome) -> Result<(), StoreError> {
        if outcome.state == TxnState::Sending {
            return Err(StoreError::InvalidInput {
                what: "outcome state",
                detail: "'sending' is not an outcome".to_owned(),
            });
        }
        self.write(|tx| {
            let changed = tx
                .prepare_cached(
                    "UPDATE transactions SET state = ?2, response_code = ?3, rrn = ?4, \
                 auth_code = ?5, termination_code = ?6, updated_at = ?7, \
                 icc_data = CASE WHEN ?9 IS NOT NULL THEN ?9 WHEN ?8 THEN icc_data ELSE NULL END \
                 WHERE id = ?1",
                )?
                .execute(params![
                    id,
                    outcome.state.as_str(),
                    outcome.response_code,
                    outcome.rrn,
                    outcome.auth_code,
                    outcome.termination_code,
                    outcome.at_ms,
                    outcome.keep_icc_data,
                    outcome.icc_data.as_ref().map(OpaqueBlob::as_bytes),
                ])?;
            if changed == 0 {
                return Err(StoreError::NotFound { id });
            }
            match outcome.reversal {
                ReversalAction::Disarm => disarm_reversal(tx, id)?,
                ReversalAction::Require(reason) => {
                    tx.prepare_cached(
                        "INSERT INTO reversals (transaction_id, reason, state) VALUES (?1, ?2, ?3) \
                         ON CONFLICT (transaction_id) DO UPDATE SET reason = ?2, state = ?3",
                    )?
                    .execute(params![
                        id,
                        reason.as_str(),
                        ReversalState::Pending.as_str()
                    ])?;
                }
            }
            if outcome.state == TxnState::Approved {
                cancel_original(tx, id, outcome.at_ms)?;
            }
            if let Some(expires_at) = outcome.advice_expires_at {
                queue::enqueue_advice(tx, id, expires_at)?;
            }
            for (purpose, expires_at) in &outcome.uploads {
                queue::enqueue_upload(tx, id, *purpose, *expires_at)?;
            }
            if let Some(body) = &outcome.receipt {
                queue::put_receipt(tx, id, body)?;
            }
            Ok(())
        })
    }

    /// A reversal is about to be sent (one more attempt). One commit, before the 0400 leaves.
    pub fn reversal_sending(&mut self, id: i64) -> Result<(), StoreError> {
        self.write(|tx| {
            update_reversal(
                tx,
                id,
                "UPDATE reversals SET state = 'sent', attempts = attempts + 1 \
                 WHERE transaction_id = ?1",
            )
        })
    }

    /// The host acknowledged the reversal: the reversal is cleared, the transaction becomes
    /// `reversed` and its chip data is deleted.
    pub fn reversal_acknowledged(&mut self, id: i64, at_ms: i64) -> Result<(), StoreError> {
        self.write(|tx| {
            update_reversal(
                tx,
                id,
                "UPDATE reversals SET state = 'cleared', last_error = NULL \
                 WHERE transaction_id = ?1",
            )?;
            tx.prepare_cached(
                "UPDATE transactions SET state = ?2, icc_data = NULL, updated_at = ?3 \
                 WHERE id = ?1",
            )?
            .execute(params![id, TxnState::Reversed.as_str(), at_ms])?;
            restore_original(tx, id, at_ms)
        })
    }

    /// A reversal attempt failed. `give_up` parks it as `failed` (operator attention) instead of
    /// `pending` (retried at the next opportunity); it is never silently dropped.
    pub fn reversal_attempt_failed(
        &mut self,
        id: i64,
        error: &str,
        give_up: bool,
    ) -> Result<(), StoreError> {
        let state = if give_up {
            ReversalState::Failed
        } else {
            ReversalState::Pending
        };
        self.write(|tx| {
            let changed = tx
                .prepare_cached(
                    "UPDATE reversals SET state = ?2, last_error = ?3 WHERE transaction_id = ?1",
                )?
                .execute(params![id, state.as_str(), error])?;
            if changed == 0 {
                return Err(StoreError::NotFound { id });
            }
            Ok(())
        })
    }
}

impl Journal {
    /// An operator released a parked (`failed`) reversal: it no longer blocks settlement and stays
    /// listed as `released`, with when. Any other state is refused, so a reversal still being
    /// retried, or already cleared, cannot be released by mistake.
    pub fn release_reversal(&mut self, id: i64, at_ms: i64) -> Result<(), StoreError> {
        self.write(|tx| {
            let changed = tx
                .prepare_cached(
                    "UPDATE reversals SET state = 'released', \
                     last_error = COALESCE(last_error || '; ', '') || 'released by operator at ' || ?2 \
                     WHERE transaction_id = ?1 AND state = 'failed'",
                )?
                .execute(params![id, at_ms])?;
            if changed == 0 {
                return Err(StoreError::InvalidInput {
                    what: "reversal to release",
                    detail: format!("transaction {id} has no parked reversal"),
                });
            }
            Ok(())
        })
    }
}

fn update_reversal(tx: &WriteTxn<'_>, id: i64, sql: &str) -> Result<(), StoreError> {
    if tx.prepare_cached(sql)?.execute([id])? == 0 {
        return Err(StoreError::NotFound { id });
    }
    Ok(())
}

/// An approved void cancels its original inside the same commit, so batch totals never count
/// both a sale and the void that undid it.
fn cancel_original(tx: &WriteTxn<'_>, id: i64, at_ms: i64) -> Result<(), StoreError> {
    let (kind, original): (String, Option<i64>) = tx
        .prepare_cached("SELECT kind, original_id FROM transactions WHERE id = ?1")?
        .query_row([id], |row| Ok((row.get(0)?, row.get(1)?)))?;
    if let (true, Some(original)) = (TxnKind::parse(&kind)?.cancels_original(), original) {
        tx.prepare_cached("UPDATE transactions SET state = ?2, updated_at = ?3 WHERE id = ?1")?
            .execute(params![original, TxnState::Voided.as_str(), at_ms])?;
    }
    Ok(())
}

/// Reversing an approved void brings its original back to life (the host undid the void).
fn restore_original(tx: &WriteTxn<'_>, id: i64, at_ms: i64) -> Result<(), StoreError> {
    let (kind, original): (String, Option<i64>) = tx
        .prepare_cached("SELECT kind, original_id FROM transactions WHERE id = ?1")?
        .query_row([id], |row| Ok((row.get(0)?, row.get(1)?)))?;
    if let (true, Some(original)) = (TxnKind::parse(&kind)?.cancels_original(), original) {
        tx.prepare_cached(
            "UPDATE transactions SET state = ?2, updated_at = ?3 WHERE id = ?1 AND state = ?4",
        )?
        .execute(params![
            original,
            TxnState::Approved.as_str(),
            at_ms,
            TxnState::Voided.as_str()
        ])?;
    }
    Ok(())
}

/// Inserts a new transaction in `state` with the next STAN in the open batch, arming its
/// reason-98 reversal when `needs_reversal`, inside the caller's commit.
fn insert_transaction(
    tx: &WriteTxn<'_>,
    new: &NewTransaction,
    amount: i64,
    state: TxnState,
) -> Result<OnlineTxn, StoreError> {
    let taken: Option<i64> = tx
        .prepare_cached("SELECT id FROM transactions WHERE attempt_id = ?1")?
        .query_row([&new.attempt_id], |row| row.get(0))
        .optional()?;
    if taken.is_some() {
        return Err(StoreError::DuplicateAttempt {
            attempt_id: new.attempt_id.clone(),
        });
    }
    let stan = consume_stan(tx)?;
    let batch_value: i64 = tx
        .prepare_cached("SELECT value FROM counters WHERE name = 'batch_no'")?
        .query_row([], |row| row.get(0))?;
    let batch_no = batch_from_db(batch_value)?;
    tx.prepare_cached(
        "INSERT INTO transactions (attempt_id, kind, state, amount_fen, currency, stan, \
         batch_no, pan_masked, pan_sealed, entry_mode, original_id, icc_data, \
         created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13)",
    )?
    .execute(params![
        new.attempt_id,
        new.kind.as_str(),
        state.as_str(),
        amount,
        new.currency,
        stan.value(),
        batch_no.value(),
        new.pan_masked,
        new.pan_sealed.as_ref().map(OpaqueBlob::as_bytes),
        new.entry_mode.as_str(),
        new.original_id,
        new.icc_data.as_ref().map(OpaqueBlob::as_bytes),
        new.at_ms,
    ])?;
    let id = tx.last_insert_rowid();
    if new.needs_reversal {
        tx.prepare_cached(
            "INSERT INTO reversals (transaction_id, reason, state) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![
            id,
            ReversalReason::NoResponse.as_str(),
            ReversalState::Armed.as_str()
        ])?;
    }
    Ok(OnlineTxn { id, stan, batch_no })
}

/// Clears the reversal `begin_online` armed for transaction `id`, if it is still armed.
fn disarm_reversal(tx: &WriteTxn<'_>, id: i64) -> Result<(), StoreError> {
    tx.prepare_cached("UPDATE reversals SET state = ?2 WHERE transaction_id = ?1 AND state = ?3")?
        .execute(params![
            id,
            ReversalState::Cleared.as_str(),
            ReversalState::Armed.as_str()
        ])?;
    Ok(())
}
