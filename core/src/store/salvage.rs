//! A corrupt journal's promises, kept. When a journal is quarantined, what it still owed the
//! acquirer (reversals not confirmed, refund advices not acknowledged) is read from the
//! quarantined copy — read-only — and carried into the fresh journal, where the ordinary recovery
//! sends it. The fault itself is journaled in the fresh file, so a restart does not forget it:
//! payments stay refused until an operator acknowledges, and if the quarantined copy could not
//! be read at all, the acknowledgement must say so explicitly (nobody can tell what it owed).

use std::path::{Path, PathBuf};

use rusqlite::{OptionalExtension, params};

use super::write_txn::WriteTxn;
use super::{Journal, StoreError, TransactionRecord};

/// A storage fault as journaled in the fresh journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedStorageFault {
    pub id: i64,
    pub detected_at_ms: i64,
    pub detail: String,
    /// The quarantined files (database, -wal, -shm), kept for investigation.
    pub moved_to: Vec<PathBuf>,
    /// Reversals and advices carried from the quarantined copy into this journal.
    pub carried: usize,
    /// Why the quarantined copy could not be read, if it could not: what it owed is unknown.
    pub unreadable: Option<String>,
    pub acknowledged_at_ms: Option<i64>,
}

/// Why an acknowledgement was refused.
pub const UNREADABLE_NEEDS_CONSENT: &str = "the quarantined journal could not be read, so what it \
     owed the acquirer is unknown: reconcile with the acquirer, then acknowledge accepting that";

impl Journal {
    /// Reads what the quarantined journal at `quarantined` still owed and carries it into this
    /// (fresh) journal in one commit: each transaction with an unresolved reversal or a queued
    /// advice, with its STAN, batch, sealed PAN and attempts, so the 0400 or 0221 goes out as
    /// the acquirer expects. Returns how many were carried; `Err` when the copy cannot be read.
    pub fn carry_owed_from(&mut self, quarantined: &Path) -> Result<usize, StoreError> {
        let old = Journal::open_view(quarantined, true)?;
        let mut reversals = Vec::new();
        for r in old.unresolved_reversals()? {
            let t = old
                .transaction(r.transaction_id)?
                .ok_or(StoreError::NotFound {
                    id: r.transaction_id,
                })?;
            reversals.push((t, r));
        }
        let mut advices = Vec::new();
        for a in old
            .pending_advices()?
            .into_iter()
            .chain(old.expired_advices()?)
        {
            let t = old
                .transaction(a.transaction_id)?
                .ok_or(StoreError::NotFound {
                    id: a.transaction_id,
                })?;
            advices.push((t, a));
        }
        // A refund in flight when the journal died has neither yet: recovery makes it an advice.
        let owed_ids: Vec<i64> = reversals
            .iter()
            .map(|(t, _)| t.id)
            .chain(advices.iter().map(|(t, _)| t.id))
            .collect();
        let in_flight: Vec<TransactionRecord> = old
            .in_flight()?
            .into_iter()
            .filter(|t| !owed_ids.contains(&t.id))
            .collect();
        let risk = risk_rows(&old);
        drop(old);
        let carried = reversals.len() + advices.len() + in_flight.len();
        self.write(|tx| {
            for (t, r) in &reversals {
                let id = insert_carried(tx, t)?;
                // A reversal in flight when the journal died is owed again; a parked one stays
                // parked for the operator.
                let state = if r.state.as_str() == "failed" {
                    "failed"
                } else {
                    "pending"
                };
                tx.prepare_cached(
                    "INSERT INTO reversals (transaction_id, reason, state, attempts, last_error) \
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )?
                .execute(params![
                    id,
                    r.reason.as_str(),
                    state,
                    r.attempts,
                    "carried from a quarantined journal"
                ])?;
            }
            for (t, a) in &advices {
                let id = insert_carried(tx, t)?;
                tx.prepare_cached(
                    "INSERT INTO saf_queue (transaction_id, state, attempts, expires_at, \
                     last_error) VALUES (?1, ?2, ?3, ?4, 'carried from a quarantined journal')",
                )?
                .execute(params![
                    id,
                    a.state.as_str(),
                    a.attempts,
                    a.expires_at
                ])?;
            }
            for t in &in_flight {
                insert_carried(tx, t)?;
            }
            // The risk state comes along too: without it an older rule bundle would be accepted
            // again (the version floor lived in the lost file) and the hot list would be empty.
            for (sql, rows) in [
                (
                    "INSERT OR REPLACE INTO risk_bundle (id, version, key_id, signed, loaded_at) \
                     VALUES (1, ?1, ?2, ?3, ?4)",
                    &risk.bundle,
                ),
                (
                    "INSERT OR REPLACE INTO risk_hot_list_deltas (sequence, key_id, signed, \
                     applied_at) VALUES (?1, ?2, ?3, ?4)",
                    &risk.deltas,
                ),
            ] {
                for (number, key_id, signed, at) in rows {
                    tx.prepare_cached(sql)?
                        .execute(params![number, key_id, signed, at])?;
                }
            }
            Ok(())
        })?;
        Ok(carried)
    }

    /// Journals a storage fault: what was found, where the files went, what was carried over.
    pub fn record_storage_fault(
        &mut self,
        detail: &str,
        moved_to: &[PathBuf],
        carried: usize,
        unreadable: Option<&str>,
        at_ms: i64,
    ) -> Result<i64, StoreError> {
        let moved: Vec<String> = moved_to
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        self.write(|tx| {
            tx.prepare_cached(
                "INSERT INTO storage_faults (detected_at, detail, moved_to, carried, unreadable) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                at_ms,
                detail,
                moved.join("\n"),
                i64::try_from(carried).unwrap_or(i64::MAX),
                unreadable
            ])?;
            Ok(tx.last_insert_rowid())
        })
    }

    /// The oldest storage fault the operator has not acknowledged yet.
    pub fn unacknowledged_storage_fault(&self) -> Result<Option<RecordedStorageFault>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT id, detected_at, detail, moved_to, carried, unreadable, acknowledged_at \
                 FROM storage_faults WHERE acknowledged_at IS NULL ORDER BY id LIMIT 1",
            )?
            .query_row([], |row| {
                let moved: String = row.get(3)?;
                let carried: i64 = row.get(4)?;
                Ok(RecordedStorageFault {
                    id: row.get(0)?,
                    detected_at_ms: row.get(1)?,
                    detail: row.get(2)?,
                    moved_to: moved
                        .lines()
                        .filter(|l| !l.is_empty())
                        .map(PathBuf::from)
                        .collect(),
                    carried: usize::try_from(carried).unwrap_or(0),
                    unreadable: row.get(5)?,
                    acknowledged_at_ms: row.get(6)?,
                })
            })
            .optional()?)
    }

    /// The operator acknowledges every open storage fault. One whose quarantined copy could not
    /// be read is acknowledged only with `accept_unreadable`: the operator has reconciled with
    /// the acquirer (a settlement will upload the batch) and accepts what cannot be known.
    /// Returns how many faults were acknowledged.
    pub fn acknowledge_storage_faults(
        &mut self,
        at_ms: i64,
        accept_unreadable: bool,
    ) -> Result<usize, StoreError> {
        if !accept_unreadable
            && self
                .unacknowledged_storage_fault()?
                .is_some_and(|f| f.unreadable.is_some())
        {
            return Err(StoreError::InvalidInput {
                what: "storage fault acknowledgement",
                detail: UNREADABLE_NEEDS_CONSENT.to_string(),
            });
        }
        self.write(|tx| {
            Ok(tx
                .prepare_cached(
                    "UPDATE storage_faults SET acknowledged_at = ?1 WHERE acknowledged_at IS NULL",
                )?
                .execute([at_ms])?)
        })
    }
}

/// A quarantined journal's risk rows: (version or sequence, key id, signed bytes, when).
#[derive(Default)]
struct RiskRows {
    bundle: Vec<(i64, String, Vec<u8>, i64)>,
    deltas: Vec<(i64, String, Vec<u8>, i64)>,
}

/// Reads them as stored (the terminal verifies them again at open). A journal written before
/// they existed, or whose pages holding them are damaged, gives none: the built-in bundle runs.
fn risk_rows(old: &Journal) -> RiskRows {
    let read = |sql: &str| -> Vec<(i64, String, Vec<u8>, i64)> {
        let rows = old.conn.prepare(sql).and_then(|mut stmt| {
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect::<Result<Vec<_>, _>>()
        });
        rows.unwrap_or_else(|e| {
            log::warn!("risk state not carried from the quarantined journal: {e}");
            Vec::new()
        })
    };
    RiskRows {
        bundle: read("SELECT version, key_id, signed, loaded_at FROM risk_bundle WHERE id = 1"),
        deltas: read(
            "SELECT sequence, key_id, signed, applied_at FROM risk_hot_list_deltas ORDER BY sequence",
        ),
    }
}

/// Inserts a carried transaction as it stood (state, STAN, batch, sealed PAN), without links to
/// rows the fresh journal does not have. Returns its new id.
fn insert_carried(tx: &WriteTxn<'_>, t: &TransactionRecord) -> Result<i64, StoreError> {
    tx.prepare_cached(
        "INSERT INTO transactions (attempt_id, kind, state, amount_fen, currency, stan, \
         batch_no, pan_masked, pan_sealed, entry_mode, rrn, auth_code, response_code, \
         termination_code, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
    )?
    .execute(params![
        t.attempt_id,
        t.kind.as_str(),
        t.state.as_str(),
        i64::try_from(t.amount_fen).unwrap_or(i64::MAX),
        t.currency,
        t.stan.value(),
        t.batch_no.value(),
        t.pan_masked,
        t.pan_sealed.as_ref().map(|b| b.as_bytes()),
        t.entry_mode.as_str(),
        t.rrn,
        t.auth_code,
        t.response_code,
        t.termination_code,
        t.created_at,
        t.updated_at,
    ])?;
    Ok(tx.last_insert_rowid())
}
