//! Store-and-forward advices, receipts awaiting print, and sealed keys.
//!
//! Unlike jPOS's SAF, an advice past its expiry is never dropped: it is marked `expired` and
//! stays listed for the operator.

use rusqlite::{OptionalExtension, params};

use super::write_txn::WriteTxn;

use super::{Journal, OpaqueBlob, StoreError};

/// One queued advice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advice {
    pub seq: i64,
    pub transaction_id: i64,
    pub purpose: AdvicePurpose,
    /// The upload's own STAN (a TC upload or script advice); `None` when it repeats its
    /// transaction's request under that request's STAN.
    pub stan: Option<super::Stan>,
    pub state: AdviceState,
    pub attempts: u32,
    pub expires_at: i64,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AdviceState {
    Pending,
    Sent,
    Expired,
}

/// What a queued advice uploads (see schema step 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AdvicePurpose {
    /// The transaction's own request again: a refund (0221) or an offline chip sale (0220).
    Advice,
    /// The card's TC after an online approval (0320, 60.3 = 203).
    TcUpload,
    /// The results of the issuer scripts the card ran (0620, 60.3 = 951).
    ScriptResult,
    /// The cardholder's e-signature (0820, 60.3 = 800; see `txn::esign_upload`), in segments.
    ESign,
}

impl AdvicePurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            AdvicePurpose::Advice => "advice",
            AdvicePurpose::TcUpload => "tc_upload",
            AdvicePurpose::ScriptResult => "script_result",
            AdvicePurpose::ESign => "esign",
        }
    }
    fn parse(text: &str) -> Result<AdvicePurpose, StoreError> {
        match text {
            "advice" => Ok(AdvicePurpose::Advice),
            "tc_upload" => Ok(AdvicePurpose::TcUpload),
            "script_result" => Ok(AdvicePurpose::ScriptResult),
            "esign" => Ok(AdvicePurpose::ESign),
            other => Err(StoreError::InvalidValue {
                column: "saf_queue.purpose",
                value: other.to_owned(),
            }),
        }
    }
}

impl AdviceState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            AdviceState::Pending => "pending",
            AdviceState::Sent => "sent",
            AdviceState::Expired => "expired",
        }
    }
    pub(super) fn parse(text: &str) -> Result<AdviceState, StoreError> {
        match text {
            "pending" => Ok(AdviceState::Pending),
            "sent" => Ok(AdviceState::Sent),
            "expired" => Ok(AdviceState::Expired),
            other => Err(StoreError::InvalidValue {
                column: "saf_queue.state",
                value: other.to_owned(),
            }),
        }
    }
}

/// Queues an advice inside the caller's transaction (so `record_outcome` can do it in its commit).
pub(crate) fn enqueue_advice(
    tx: &WriteTxn<'_>,
    transaction_id: i64,
    expires_at: i64,
) -> Result<i64, StoreError> {
    enqueue_upload(tx, transaction_id, AdvicePurpose::Advice, expires_at)
}

/// Queues an upload of `purpose`; one that is a message of its own consumes its STAN now.
pub(crate) fn enqueue_upload(
    tx: &WriteTxn<'_>,
    transaction_id: i64,
    purpose: AdvicePurpose,
    expires_at: i64,
) -> Result<i64, StoreError> {
    let stan = match purpose {
        AdvicePurpose::ScriptResult | AdvicePurpose::ESign => {
            Some(super::journal::consume_stan(tx)?.value())
        }
        AdvicePurpose::Advice | AdvicePurpose::TcUpload => None,
    };
    tx.prepare_cached(
        "INSERT INTO saf_queue (transaction_id, state, expires_at, purpose, stan) \
         VALUES (?1, 'pending', ?2, ?3, ?4)",
    )?
    .execute(params![transaction_id, expires_at, purpose.as_str(), stan])?;
    Ok(tx.last_insert_rowid())
}

/// Stores (or replaces) a receipt inside the caller's transaction, unprinted.
pub(crate) fn put_receipt(
    tx: &WriteTxn<'_>,
    transaction_id: i64,
    body: &str,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO receipts (transaction_id, body, printed) VALUES (?1, ?2, 0) \
         ON CONFLICT (transaction_id) DO UPDATE SET body = ?2, printed = 0",
    )?
    .execute(params![transaction_id, body])?;
    Ok(())
}

/// The advice queries name their state as a literal. With `state = ?1` and an ORDER BY, SQLite
/// marks the statement to be recompiled whenever the parameter is bound, so the cached statement
/// was parsed afresh before every sale (asked before each online message).
pub(super) const PENDING_ADVICES: &str = "SELECT seq, transaction_id, state, attempts, expires_at, \
     last_error, purpose, stan FROM saf_queue WHERE state = 'pending' ORDER BY seq";
const EXPIRED_ADVICES: &str = "SELECT seq, transaction_id, state, attempts, expires_at, \
     last_error, purpose, stan FROM saf_queue WHERE state = 'expired' ORDER BY seq";

impl Journal {
    /// Queues an advice on its own (one commit); prefer `HostOutcome::advice_expires_at`.
    pub fn enqueue_advice(
        &mut self,
        transaction_id: i64,
        expires_at: i64,
    ) -> Result<i64, StoreError> {
        self.write(|tx| enqueue_advice(tx, transaction_id, expires_at))
    }

    /// Pending advices in queue order.
    pub fn pending_advices(&self) -> Result<Vec<Advice>, StoreError> {
        self.advices_in(PENDING_ADVICES)
    }

    /// Expired advices, kept for the operator.
    pub fn expired_advices(&self) -> Result<Vec<Advice>, StoreError> {
        self.advices_in(EXPIRED_ADVICES)
    }

    fn advices_in(&self, sql: &str) -> Result<Vec<Advice>, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(advice_from_row(row)?);
        }
        Ok(out)
    }

    /// The host acknowledged the advice; field 55 of its transaction is no longer needed once
    /// no other upload or reversal of the same transaction still needs it.
    pub fn advice_sent(&mut self, seq: i64) -> Result<(), StoreError> {
        self.write(|tx| {
            let transaction_id: Option<i64> = tx
                .prepare_cached(
                    "UPDATE saf_queue SET state = ?2, attempts = attempts + 1 WHERE seq = ?1 \
                     RETURNING transaction_id",
                )?
                .query_row(params![seq, AdviceState::Sent.as_str()], |row| row.get(0))
                .optional()?;
            let transaction_id = transaction_id.ok_or(StoreError::NotFound { id: seq })?;
            tx.prepare_cached(
                "UPDATE transactions SET icc_data = NULL WHERE id = ?1 AND NOT EXISTS \
                 (SELECT 1 FROM reversals WHERE transaction_id = ?1 \
                  AND state IN ('armed', 'pending', 'sent')) AND NOT EXISTS \
                 (SELECT 1 FROM saf_queue WHERE transaction_id = ?1 AND state = 'pending')",
            )?
            .execute([transaction_id])?;
            Ok(())
        })
    }

    /// An attempt failed; the advice stays pending unless it is past `expires_at` at `now_ms`,
    /// in which case it becomes `expired` (never deleted).
    pub fn advice_failed(&mut self, seq: i64, error: &str, now_ms: i64) -> Result<(), StoreError> {
        self.write(|tx| {
            let changed = tx
                .prepare_cached(
                    "UPDATE saf_queue SET attempts = attempts + 1, last_error = ?2, \
                 state = CASE WHEN expires_at <= ?3 THEN 'expired' ELSE 'pending' END \
                 WHERE seq = ?1",
                )?
                .execute(params![seq, error, now_ms])?;
            if changed == 0 {
                return Err(StoreError::NotFound { id: seq });
            }
            Ok(())
        })
    }

    /// Stores a receipt to print (one commit); prefer `HostOutcome::receipt`.
    pub fn save_receipt(&mut self, transaction_id: i64, body: &str) -> Result<(), StoreError> {
        self.write(|tx| put_receipt(tx, transaction_id, body))
    }

    pub fn mark_printed(&mut self, transaction_id: i64) -> Result<(), StoreError> {
        self.write(|tx| {
            if tx
                .prepare_cached("UPDATE receipts SET printed = 1 WHERE transaction_id = ?1")?
                .execute([transaction_id])?
                == 0
            {
                return Err(StoreError::NotFound { id: transaction_id });
            }
            Ok(())
        })
    }

    /// Receipts a printer fault left unprinted, oldest first: (transaction id, body).
    pub fn unprinted_receipts(&self) -> Result<Vec<(i64, String)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT transaction_id, body FROM receipts WHERE printed = 0 ORDER BY transaction_id",
        )?;
        let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Stores a sealed key blob under `label`, replacing any previous one.
    pub fn put_key(
        &mut self,
        label: &str,
        sealed: &OpaqueBlob,
        at_ms: i64,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.prepare_cached(
                "INSERT INTO keys (label, sealed, loaded_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (label) DO UPDATE SET sealed = ?2, loaded_at = ?3",
            )?
            .execute(params![label, sealed.as_bytes(), at_ms])?;
            Ok(())
        })
    }

    /// Forgets the key under `label` (sign-off). One commit.
    pub fn delete_key(&mut self, label: &str) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.prepare_cached("DELETE FROM keys WHERE label = ?1")?
                .execute([label])?;
            Ok(())
        })
    }

    /// The sealed key blob under `label` and when it was loaded.
    pub fn key(&self, label: &str) -> Result<Option<(OpaqueBlob, i64)>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT sealed, loaded_at FROM keys WHERE label = ?1")?
            .query_row([label], |row| {
                Ok((OpaqueBlob::new(row.get(0)?), row.get(1)?))
            })
            .optional()?)
    }
}

/// One `saf_queue` row as an [`Advice`]; the query selects `seq, transaction_id, state,
/// attempts, expires_at, last_error, purpose, stan` first (it may add columns after them).
pub(super) fn advice_from_row(row: &rusqlite::Row<'_>) -> Result<Advice, StoreError> {
    let state: String = row.get(2)?;
    let attempts: i64 = row.get(3)?;
    let purpose: String = row.get(6)?;
    let stan: Option<i64> = row.get(7)?;
    Ok(Advice {
        seq: row.get(0)?,
        transaction_id: row.get(1)?,
        purpose: AdvicePurpose::parse(&purpose)?,
        stan: stan.map(super::journal::stan_from_db).transpose()?,
        state: AdviceState::parse(&state)?,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        expires_at: row.get(4)?,
        last_error: row.get(5)?,
    })
}
