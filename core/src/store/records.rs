//! Reading the journal: single transactions, recovery work lists, CLI listings, batch totals.

use rusqlite::{OptionalExtension, Row, params};

use super::journal::{batch_from_db, stan_from_db};
use super::{
    BatchNo, EntryMode, Journal, OpaqueBlob, ReversalReason, ReversalState, Stan, StoreError,
    TxnKind, TxnState,
};

/// One journaled transaction as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionRecord {
    pub id: i64,
    pub attempt_id: String,
    pub kind: TxnKind,
    pub state: TxnState,
    pub amount_fen: u64,
    pub currency: String,
    pub stan: Stan,
    pub batch_no: BatchNo,
    pub pan_masked: Option<String>,
    pub pan_sealed: Option<OpaqueBlob>,
    pub entry_mode: EntryMode,
    pub rrn: Option<String>,
    pub auth_code: Option<String>,
    pub response_code: Option<String>,
    pub termination_code: Option<String>,
    pub original_id: Option<i64>,
    pub icc_data: Option<OpaqueBlob>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Journal {
    /// The rows with a sealed PAN, while they have not been bound to their rows yet (`None`
    /// once they have): (row id, attempt id, sealed PAN).
    #[allow(clippy::type_complexity)]
    pub fn unbound_sealed_pans(
        &self,
    ) -> Result<Option<Vec<(i64, String, OpaqueBlob)>>, StoreError> {
        let done: i64 = self
            .conn
            .prepare_cached("SELECT value FROM counters WHERE name = 'pan_binding'")?
            .query_row([], |row| row.get(0))?;
        if done != 0 {
            return Ok(None);
        }
        let mut stmt = self.conn.prepare(
            "SELECT id, attempt_id, pan_sealed FROM transactions WHERE pan_sealed IS NOT NULL",
        )?;
        let rows = stmt.query_map([], |row| {
            Ok((row.get(0)?, row.get(1)?, OpaqueBlob::new(row.get(2)?)))
        })?;
        Ok(Some(rows.collect::<Result<Vec<_>, _>>()?))
    }

    /// Stores resealed PANs and records that the journal's PANs are bound: one commit.
    pub fn store_bound_pans(&mut self, resealed: &[(i64, OpaqueBlob)]) -> Result<(), StoreError> {
        self.write(|tx| {
            for (id, blob) in resealed {
                tx.prepare_cached("UPDATE transactions SET pan_sealed = ?2 WHERE id = ?1")?
                    .execute(rusqlite::params![id, blob.as_bytes()])?;
            }
            tx.prepare_cached("UPDATE counters SET value = 1 WHERE name = 'pan_binding'")?
                .execute([])?;
            Ok(())
        })
    }
}

impl TransactionRecord {
    /// When the transaction was made: `created_at`, the terminal clock's milliseconds.
    pub fn created(&self) -> std::time::SystemTime {
        std::time::UNIX_EPOCH
            + std::time::Duration::from_millis(u64::try_from(self.created_at).unwrap_or(0))
    }

    /// Money the merchant is owed for this record: approved sales and completions add, approved
    /// refunds subtract; a voided or reversed sale is no longer approved, and voids and the
    /// pre-auth family move no settled money themselves. Summed over a journal it must equal the
    /// acquirer's ledger once nothing is owed.
    pub fn net_effect_fen(&self) -> i64 {
        if self.state != TxnState::Approved {
            return 0;
        }
        let amount = i64::try_from(self.amount_fen).unwrap_or(i64::MAX);
        match self.kind {
            TxnKind::Sale | TxnKind::Completion | TxnKind::OfflineSale => amount,
            TxnKind::Refund => -amount,
            _ => 0,
        }
    }
}

/// A reversal that recovery (or the engine) still has to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingReversal {
    pub transaction_id: i64,
    pub reason: ReversalReason,
    pub state: ReversalState,
    pub attempts: u32,
    pub last_error: Option<String>,
}

/// Settlement totals of one batch, as sent in the 0500 settlement request.
///
/// Debits: approved sales and completions that were not later voided or reversed (their state
/// is still `approved`). Credits: approved refunds not reversed. Voids, pre-auths and pre-auth
/// voids move no settled money and are not counted themselves; a void's effect shows as its
/// original leaving the debit side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BatchTotals {
    pub debit_count: u64,
    pub debit_fen: u64,
    pub credit_count: u64,
    pub credit_fen: u64,
}

const COLUMNS: &str = "id, attempt_id, kind, state, amount_fen, currency, stan, batch_no, \
    pan_masked, pan_sealed, entry_mode, rrn, auth_code, response_code, termination_code, \
    original_id, icc_data, created_at, updated_at";

/// Row → record; column errors surface as rusqlite errors, domain errors as `StoreError`.
fn read_record(row: &Row<'_>) -> rusqlite::Result<Result<TransactionRecord, StoreError>> {
    let kind: String = row.get(2)?;
    let state: String = row.get(3)?;
    let amount: i64 = row.get(4)?;
    let stan: i64 = row.get(6)?;
    let batch: i64 = row.get(7)?;
    let entry: String = row.get(10)?;
    let blob = |index: usize| -> rusqlite::Result<Option<OpaqueBlob>> {
        Ok(row.get::<_, Option<Vec<u8>>>(index)?.map(OpaqueBlob::new))
    };
    let (id, attempt_id, currency) = (row.get(0)?, row.get(1)?, row.get(5)?);
    let (pan_masked, pan_sealed) = (row.get(8)?, blob(9)?);
    let (rrn, auth_code, response_code, termination_code) =
        (row.get(11)?, row.get(12)?, row.get(13)?, row.get(14)?);
    let (original_id, icc_data, created_at, updated_at) =
        (row.get(15)?, blob(16)?, row.get(17)?, row.get(18)?);
    Ok((|| {
        Ok(TransactionRecord {
            id,
            attempt_id,
            kind: TxnKind::parse(&kind)?,
            state: TxnState::parse(&state)?,
            amount_fen: u64::try_from(amount).map_err(|_| StoreError::InvalidValue {
                column: "transactions.amount_fen",
                value: amount.to_string(),
            })?,
            currency,
            stan: stan_from_db(stan)?,
            batch_no: batch_from_db(batch)?,
            pan_masked,
            pan_sealed,
            entry_mode: EntryMode::parse(&entry)?,
            rrn,
            auth_code,
            response_code,
            termination_code,
            original_id,
            icc_data,
            created_at,
            updated_at,
        })
    })())
}

impl Journal {
    pub fn transaction(&self, id: i64) -> Result<Option<TransactionRecord>, StoreError> {
        self.query_one(
            &format!("SELECT {COLUMNS} FROM transactions WHERE id = ?1"),
            id,
        )
    }

    /// Idempotency: the earlier attempt with this key, if the shell retries a request.
    pub fn by_attempt_id(&self, attempt_id: &str) -> Result<Option<TransactionRecord>, StoreError> {
        self.query_one(
            &format!("SELECT {COLUMNS} FROM transactions WHERE attempt_id = ?1"),
            attempt_id,
        )
    }

    /// The transaction with this STAN in this batch (a merchant names an original by the voucher
    /// number on its receipt).
    pub fn by_stan(
        &self,
        batch_no: BatchNo,
        stan: Stan,
    ) -> Result<Option<TransactionRecord>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM transactions WHERE batch_no = ?1 AND stan = ?2 \
             ORDER BY id DESC LIMIT 1"
        ))?;
        let found = stmt
            .query_row(params![batch_no.value(), stan.value()], read_record)
            .optional()?;
        found.transpose()
    }

    /// Transactions whose request may be on the wire or whose outcome was never recorded
    /// (state `sending`): what recovery must resolve after a crash.
    pub fn in_flight(&self) -> Result<Vec<TransactionRecord>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM transactions WHERE state = 'sending' ORDER BY id"
        ))?;
        let rows = stmt.query_map([], read_record)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row??);
        }
        Ok(out)
    }

    /// Approved sales, completions and refunds of a batch, in order: the batch-upload lines.
    pub fn batch_records(&self, batch_no: BatchNo) -> Result<Vec<TransactionRecord>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM transactions WHERE batch_no = ?1 AND state = 'approved' \
             AND kind IN ('sale', 'completion', 'refund') ORDER BY id"
        ))?;
        let rows = stmt.query_map([batch_no.value()], read_record)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row??);
        }
        Ok(out)
    }

    fn query_one(
        &self,
        sql: &str,
        key: impl rusqlite::ToSql,
    ) -> Result<Option<TransactionRecord>, StoreError> {
        let found = self
            .conn
            .prepare_cached(sql)?
            .query_row([key], read_record)
            .optional()?;
        found.transpose()
    }

    /// Newest first, `limit` rows after skipping `offset` (for the CLI and the shell's history).
    pub fn list(&self, limit: u32, offset: u32) -> Result<Vec<TransactionRecord>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM transactions ORDER BY id DESC LIMIT ?1 OFFSET ?2"
        ))?;
        let rows = stmt.query_map(params![limit, offset], read_record)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row??);
        }
        Ok(out)
    }

    /// Reversals still owed to the host, oldest first. An `armed` reversal whose transaction is
    /// still `sending` means the process died mid-exchange: it is owed too (reason 98).
    pub fn pending_reversals(&self) -> Result<Vec<PendingReversal>, StoreError> {
        self.reversals_where(
            "r.state IN ('pending', 'sent') OR (r.state = 'armed' AND t.state = 'sending')",
        )
    }

    /// Whether anything is owed to the host before new business: what
    /// [`Journal::pending_reversals`] or [`Journal::pending_advices`] would list. One cheap read
    /// before every online message; the lists are read only when it says yes.
    pub fn owes_host(&self) -> Result<bool, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM reversals WHERE state = 'pending') \
                 OR EXISTS (SELECT 1 FROM reversals WHERE state = 'sent') \
                 OR EXISTS (SELECT 1 FROM reversals r JOIN transactions t \
                            ON t.id = r.transaction_id \
                            WHERE r.state = 'armed' AND t.state = 'sending') \
                 OR EXISTS (SELECT 1 FROM saf_queue WHERE state = 'pending')",
            )?
            .query_row([], |r| r.get(0))?)
    }

    /// Every reversal ever armed, whatever its state (history for the operator and tests).
    pub fn reversals(&self) -> Result<Vec<PendingReversal>, StoreError> {
        self.reversals_where("1 = 1")
    }

    /// Reversals the host has not confirmed, including those given up on (`failed`): each one
    /// keeps settlement blocked until an operator resolves it.
    pub fn unresolved_reversals(&self) -> Result<Vec<PendingReversal>, StoreError> {
        self.reversals_where(
            "r.state IN ('pending', 'sent', 'failed') OR (r.state = 'armed' AND t.state = 'sending')",
        )
    }

    fn reversals_where(&self, condition: &str) -> Result<Vec<PendingReversal>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT r.transaction_id, r.reason, r.state, r.attempts, r.last_error \
             FROM reversals r JOIN transactions t ON t.id = r.transaction_id \
             WHERE {condition} ORDER BY r.transaction_id"
        ))?;
        let rows = stmt.query_map([], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, i64>(3)?,
                row.get::<_, Option<String>>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (transaction_id, reason, state, attempts, last_error) = row?;
            out.push(PendingReversal {
                transaction_id,
                reason: ReversalReason::parse(&reason)?,
                state: ReversalState::parse(&state)?,
                attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                last_error,
            });
        }
        Ok(out)
    }

    /// Totals for settlement; see [`BatchTotals`] for what counts as debit and credit.
    pub fn batch_totals(&self, batch_no: BatchNo) -> Result<BatchTotals, StoreError> {
        let (debit_count, debit_fen, credit_count, credit_fen): (i64, i64, i64, i64) = self
            .conn
            .prepare_cached(
                "SELECT \
                   COUNT(*) FILTER (WHERE kind IN ('sale', 'completion', 'offline_sale')), \
                   COALESCE(SUM(amount_fen) FILTER \
                     (WHERE kind IN ('sale', 'completion', 'offline_sale')), 0), \
                   COUNT(*) FILTER (WHERE kind = 'refund'), \
                   COALESCE(SUM(amount_fen) FILTER (WHERE kind = 'refund'), 0) \
                 FROM transactions WHERE batch_no = ?1 AND state = 'approved'",
            )?
            .query_row([batch_no.value()], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
            })?;
        let non_negative = |value: i64| {
            u64::try_from(value).map_err(|_| StoreError::InvalidValue {
                column: "batch totals",
                value: value.to_string(),
            })
        };
        Ok(BatchTotals {
            debit_count: non_negative(debit_count)?,
            debit_fen: non_negative(debit_fen)?,
            credit_count: non_negative(credit_count)?,
            credit_fen: non_negative(credit_fen)?,
        })
    }
}
