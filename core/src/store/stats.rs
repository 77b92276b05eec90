//! Diagnostics rows: endings, host round trips and settlements, plus the read-only facts the
//! health check needs (integrity, batch size, storage budget).
//!
//! Statistics are not money state, and writing them must not cost a payment anything: no fsync
//! of their own (the floor is two per online transaction, [`Journal::commit_count`] does not
//! count them) and no SQLite transaction of their own on the payment path. So a row is staged
//! in memory and written inside the next commit that opens a request
//! ([`Journal::begin_online`], a QR order), before that commit's own work: a statistics row
//! that cannot be written is dropped with the rest of the batch, and the request's commit goes
//! on without it. Never in a commit that records an outcome, so statistics can never be
//! what fills the disk between a request and its answer.
//!
//! Readers, a settlement, a full buffer and an orderly close write what is staged on their own
//! (`synchronous=NORMAL`, no fsync). A killed process loses what is staged — at most the rows
//! since the last request, typically the previous transaction's ending and round trip; a power
//! cut may lose a few more. Rows older than [`RETENTION_MS`] are pruned once an hour as new
//! ones are written, so statistics cannot grow into the journal's storage budget.

use rusqlite::{OptionalExtension, params};

use super::write_txn::WriteTxn;

use super::{BatchNo, Journal, StoreError};
use crate::diag::Cause;
use crate::diag::statistics::{EndingRow, ExchangeSample};

/// Statistics cover today and the last 7 days; one day more absorbs clock corrections.
pub const RETENTION_MS: i64 = 8 * 24 * 3600 * 1000;

/// Rows older than the retention are deleted at most this often.
const PRUNE_INTERVAL_MS: i64 = 3600 * 1000;

/// Staged rows written on their own once this many wait (a long run of endings with no request,
/// such as a card reader failing every tap).
const MAX_STAGED: usize = 64;

/// The outcome column's value for an approval.
const APPROVED: &str = "APPROVED";

/// One ending to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndingRecord<'a> {
    pub at_ms: i64,
    /// The request's idempotency key; `None` for endings without one (settlement, sign-on).
    pub attempt_id: Option<&'a str>,
    pub kind: &'a str,
    /// `None` for an approval, else the termination code and its cause.
    pub termination: Option<(&'a str, Cause)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum StagedRow {
    Ending {
        at_ms: i64,
        attempt_id: Option<String>,
        kind: String,
        outcome: String,
        cause: Option<&'static str>,
    },
    Exchange {
        at_ms: i64,
        mti: String,
        latency_ms: i64,
        answered: bool,
    },
    Settlement {
        at_ms: i64,
        batch_no: u32,
    },
}

impl StagedRow {
    fn at_ms(&self) -> i64 {
        match self {
            StagedRow::Ending { at_ms, .. }
            | StagedRow::Exchange { at_ms, .. }
            | StagedRow::Settlement { at_ms, .. } => *at_ms,
        }
    }

    fn insert(&self, tx: &WriteTxn<'_>) -> Result<(), StoreError> {
        match self {
            StagedRow::Ending {
                at_ms,
                attempt_id,
                kind,
                outcome,
                cause,
            } => tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO endings (at_ms, attempt_id, kind, outcome, cause) \
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )?
                .execute(params![at_ms, attempt_id, kind, outcome, cause])?,
            StagedRow::Exchange {
                at_ms,
                mti,
                latency_ms,
                answered,
            } => tx
                .prepare_cached(
                    "INSERT INTO host_exchanges (at_ms, mti, latency_ms, answered) \
                     VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![at_ms, mti, latency_ms, answered])?,
            StagedRow::Settlement { at_ms, batch_no } => tx
                .prepare_cached("INSERT INTO settlements (at_ms, batch_no) VALUES (?1, ?2)")?
                .execute(params![at_ms, batch_no])?,
        };
        Ok(())
    }
}

/// Statistics rows waiting for a commit to ride on.
#[derive(Debug, Default)]
pub(super) struct StagedStatistics {
    rows: Vec<StagedRow>,
    pruned_at: Option<i64>,
}

impl StagedStatistics {
    pub(super) fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub(super) fn discard(&mut self) {
        self.rows.clear();
    }

    /// Writes the staged rows (and prunes, when due) inside `tx`, stopping at the first that
    /// fails. No savepoint is needed: SQLite undoes a failed statement, or (a full disk, at
    /// worst) the whole transaction, which the caller then starts over. The rows are gone
    /// either way: statistics are dropped, never retried into a commit that matters more.
    pub(super) fn write_into(&mut self, tx: &WriteTxn<'_>) -> Result<(), StoreError> {
        let rows = std::mem::take(&mut self.rows);
        let newest = rows.iter().map(StagedRow::at_ms).max();
        let prune_before = newest.filter(|&at| {
            self.pruned_at
                .is_none_or(|last| at - last >= PRUNE_INTERVAL_MS)
        });
        for row in &rows {
            row.insert(tx)?;
        }
        if let Some(at) = prune_before {
            for sql in [
                "DELETE FROM endings WHERE at_ms < ?1",
                "DELETE FROM host_exchanges WHERE at_ms < ?1",
                "DELETE FROM settlements WHERE at_ms < ?1",
            ] {
                tx.prepare_cached(sql)?.execute([at - RETENTION_MS])?;
            }
            self.pruned_at = Some(at);
        }
        Ok(())
    }
}

impl Journal {
    fn stage(&mut self, row: StagedRow) -> Result<(), StoreError> {
        self.statistics.rows.push(row);
        if self.statistics.rows.len() >= MAX_STAGED {
            self.flush_statistics()?;
        }
        Ok(())
    }

    /// Writes staged statistics now, in a transaction of their own without an fsync; see the
    /// module notes. Readers call it first so they see every row.
    pub fn flush_statistics(&mut self) -> Result<(), StoreError> {
        if self.statistics.is_empty() {
            return Ok(());
        }
        // Outside the write door, so wait for the integrity verdict here too; a journal found
        // damaged takes no more writes, and its statistics go with it.
        if let Err(e) = self.verify() {
            self.statistics.discard();
            return Err(e);
        }
        // A pragma statement is compiled anew each time it runs (SQLite applies the setting
        // while compiling), so these are plain `execute_batch` calls.
        self.conn.execute_batch("PRAGMA synchronous = NORMAL")?;
        let written = (|| -> Result<(), StoreError> {
            let tx = WriteTxn::begin(&self.conn)?;
            self.statistics.write_into(&tx)?;
            tx.commit()?;
            Ok(())
        })();
        // Every later write must fsync again; if restoring fails the first time, try once more
        // and report it rather than run on with weaker durability unnoticed.
        let full = || self.conn.execute_batch("PRAGMA synchronous = FULL");
        let restored = full().or_else(|_| full());
        written?;
        restored?;
        Ok(())
    }

    /// Stages one ending (see the module notes). A replayed attempt with the same outcome is
    /// counted once.
    pub fn record_ending(&mut self, e: &EndingRecord<'_>) -> Result<(), StoreError> {
        let (outcome, cause) = match e.termination {
            None => (APPROVED, None),
            Some((code, cause)) => (code, Some(cause.as_str())),
        };
        self.stage(StagedRow::Ending {
            at_ms: e.at_ms,
            attempt_id: e.attempt_id.map(str::to_owned),
            kind: e.kind.to_owned(),
            outcome: outcome.to_owned(),
            cause,
        })
    }

    /// Stages one host round trip (answered or not) of `latency_ms`.
    pub fn record_exchange(
        &mut self,
        at_ms: i64,
        mti: &str,
        latency_ms: u64,
        answered: bool,
    ) -> Result<(), StoreError> {
        self.stage(StagedRow::Exchange {
            at_ms,
            mti: mti.to_owned(),
            latency_ms: i64::try_from(latency_ms).unwrap_or(i64::MAX),
            answered,
        })
    }

    /// Records a completed settlement of `batch_no`, written at once: the health check's "days
    /// since settlement" must not forget one because the process stopped. Only the last one
    /// matters, so older ones are pruned like the other statistics.
    pub fn record_settlement(&mut self, at_ms: i64, batch_no: BatchNo) -> Result<(), StoreError> {
        self.statistics.rows.push(StagedRow::Settlement {
            at_ms,
            batch_no: batch_no.value(),
        });
        self.flush_statistics()
    }

    /// Writes what is staged before a read; a failure is logged, and the read shows what is
    /// stored.
    fn flush_before_reading(&mut self) {
        if let Err(e) = self.flush_statistics() {
            log::warn!(
                "journal {}: statistics not written: {e}",
                self.path().display()
            );
        }
    }

    /// When the last settlement completed, if one is on record.
    pub fn last_settlement_ms(&mut self) -> Result<Option<i64>, StoreError> {
        self.flush_before_reading();
        Ok(self
            .conn
            .query_row("SELECT max(at_ms) FROM settlements", [], |r| {
                r.get::<_, Option<i64>>(0)
            })
            .optional()?
            .flatten())
    }

    /// Endings at or after `from_ms`, oldest first.
    pub fn endings_since(&mut self, from_ms: i64) -> Result<Vec<EndingRow>, StoreError> {
        self.flush_before_reading();
        let mut stmt = self.conn.prepare(
            "SELECT at_ms, kind, outcome, cause FROM endings WHERE at_ms >= ?1 ORDER BY at_ms, id",
        )?;
        let rows = stmt.query_map([from_ms], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (at_ms, kind, outcome, cause) = row?;
            let termination = if outcome == APPROVED {
                None
            } else {
                let name = cause.unwrap_or_default();
                let cause = Cause::from_name(&name).ok_or(StoreError::InvalidValue {
                    column: "endings.cause",
                    value: name,
                })?;
                Some((outcome, cause))
            };
            out.push(EndingRow {
                at_ms,
                kind,
                termination,
            });
        }
        Ok(out)
    }

    /// Host round trips at or after `from_ms`, oldest first.
    pub fn exchanges_since(&mut self, from_ms: i64) -> Result<Vec<ExchangeSample>, StoreError> {
        self.flush_before_reading();
        let mut stmt = self.conn.prepare(
            "SELECT at_ms, latency_ms, answered FROM host_exchanges WHERE at_ms >= ?1 \
             ORDER BY at_ms, id",
        )?;
        let rows = stmt.query_map([from_ms], |r| {
            Ok(ExchangeSample {
                at_ms: r.get(0)?,
                latency_ms: r.get::<_, i64>(1)?.max(0) as u64,
                answered: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Statistics for today and the last 7 days as of `now_ms` (see `diag::statistics`).
    pub fn statistics(
        &mut self,
        terminal_id: &str,
        now_ms: i64,
    ) -> Result<crate::diag::StatisticsReport, StoreError> {
        let from = crate::diag::statistics::Window::Last7Days
            .start_ms(now_ms)
            .min(crate::diag::statistics::Window::Today.start_ms(now_ms));
        let endings = self.endings_since(from)?;
        let exchanges = self.exchanges_since(from)?;
        Ok(crate::diag::statistics::compute(
            terminal_id,
            now_ms,
            &endings,
            &exchanges,
        ))
    }

    /// `PRAGMA quick_check` on the open file: `Err(Corrupt)` naming what SQLite found.
    pub fn quick_check(&self) -> Result<(), StoreError> {
        let mut stmt = self.conn.prepare("PRAGMA quick_check")?;
        let verdict = stmt
            .query_map([], |row| row.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        if verdict.first().map(String::as_str) == Some("ok") {
            Ok(())
        } else {
            Err(StoreError::Corrupt {
                path: self.path().to_path_buf(),
                detail: verdict.join("; "),
            })
        }
    }

    /// Transactions in `batch_no` that settlement will count (approved sales, completions,
    /// refunds), and when the oldest of them was made.
    pub fn batch_fill(&self, batch_no: BatchNo) -> Result<(usize, Option<i64>), StoreError> {
        let (count, oldest) = self.conn.query_row(
            "SELECT count(*), min(created_at) FROM transactions WHERE batch_no = ?1 \
             AND state = 'approved' AND kind IN ('sale', 'completion', 'refund')",
            [batch_no.value()],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Option<i64>>(1)?)),
        )?;
        Ok((count.max(0) as usize, oldest))
    }

    /// The open batch and an upper bound of the transactions in it, cheap at any journal and
    /// batch size, for the capacity check before every sale. Ids are handed out in increasing
    /// order and a batch holds only rows inserted after its first one, so every row of the batch
    /// has an id between its first and the newest: their distance bounds the count. The first
    /// id is looked up once per batch; counting the batch's rows instead cost more than any
    /// other read of a sale.
    pub fn batch_size_bound(&mut self) -> Result<(BatchNo, usize), StoreError> {
        let (batch, newest): (i64, Option<i64>) = self
            .conn
            .prepare_cached(
                "SELECT (SELECT value FROM counters WHERE name = 'batch_no'), \
                 (SELECT max(id) FROM transactions)",
            )?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let batch_no = super::journal::batch_from_db(batch)?;
        let first = match self.batch_first {
            Some((b, first)) if b == batch_no.value() => Some(first),
            _ => {
                let first: Option<i64> = self
                    .conn
                    .prepare_cached("SELECT min(id) FROM transactions WHERE batch_no = ?1")?
                    .query_row([batch], |r| r.get(0))?;
                // An empty batch has no first row yet; ask again next time.
                self.batch_first = first.map(|f| (batch_no.value(), f));
                first
            }
        };
        let bound = match (first, newest) {
            (Some(first), Some(newest)) => usize::try_from(newest - first + 1).unwrap_or(0),
            _ => 0,
        };
        Ok((batch_no, bound))
    }

    /// Bytes left before the storage budget set by [`Journal::limit_size`] is reached (counting
    /// free pages inside the file); `None` when no budget is set.
    pub fn budget_left(&self) -> Result<Option<u64>, StoreError> {
        let get = |name: &str| -> Result<i64, StoreError> {
            Ok(self.conn.pragma_query_value(None, name, |r| r.get(0))?)
        };
        let max_pages = get("max_page_count")?;
        // SQLite's default maximum (0xfffffffe pages) means no budget was set.
        if max_pages >= 0xffff_fffe {
            return Ok(None);
        }
        let used = get("page_count")? - get("freelist_count")?;
        let page = get("page_size")?;
        Ok(Some(((max_pages - used).max(0) * page) as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_795_658_400_000;

    fn open(dir: &tempfile::TempDir) -> Journal {
        Journal::open(dir.path().join("j.db")).unwrap()
    }

    #[test]
    fn endings_round_trip_and_replays_count_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = open(&dir);
        let before = j.commit_count();
        let declined = EndingRecord {
            at_ms: T0,
            attempt_id: Some("a1"),
            kind: "sale",
            termination: Some(("HOST_DECLINED_51", Cause::Account)),
        };
        j.record_ending(&declined).unwrap();
        j.record_ending(&declined).unwrap();
        j.record_ending(&EndingRecord {
            at_ms: T0 + 1,
            attempt_id: Some("a1"),
            kind: "sale",
            termination: None,
        })
        .unwrap();
        j.record_ending(&EndingRecord {
            at_ms: T0 + 2,
            attempt_id: None,
            kind: "settlement",
            termination: Some(("NET_TIMEOUT", Cause::Network)),
        })
        .unwrap();
        let rows = j.endings_since(T0).unwrap();
        assert_eq!(rows.len(), 3, "{rows:?}");
        assert_eq!(
            rows[0].termination,
            Some(("HOST_DECLINED_51".to_owned(), Cause::Account))
        );
        assert_eq!(rows[1].termination, None);
        assert_eq!(rows[2].kind, "settlement");
        assert_eq!(
            j.commit_count(),
            before,
            "statistics are not journal commits"
        );
        let sync: i64 = j
            .conn
            .pragma_query_value(None, "synchronous", |r| r.get(0))
            .unwrap();
        assert_eq!(
            sync, 2,
            "synchronous is FULL again after a statistics write"
        );
    }

    #[test]
    fn old_rows_are_pruned_as_new_ones_arrive() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = open(&dir);
        j.record_exchange(T0 - RETENTION_MS - 1, "0200", 900, true)
            .unwrap();
        j.record_exchange(T0, "0200", 120, false).unwrap();
        let rows = j.exchanges_since(0).unwrap();
        assert_eq!(
            rows,
            vec![ExchangeSample {
                at_ms: T0,
                latency_ms: 120,
                answered: false
            }]
        );
    }

    #[test]
    fn settlements_and_budget() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = open(&dir);
        assert_eq!(j.last_settlement_ms().unwrap(), None);
        j.record_settlement(T0, BatchNo::new(1).unwrap()).unwrap();
        j.record_settlement(T0 + 5, BatchNo::new(2).unwrap())
            .unwrap();
        assert_eq!(j.last_settlement_ms().unwrap(), Some(T0 + 5));
        assert_eq!(j.budget_left().unwrap(), None);
        j.limit_size(1 << 20).unwrap();
        let left = j.budget_left().unwrap().unwrap();
        assert!(left > 0 && left < 1 << 20, "{left}");
        j.quick_check().unwrap();
        assert_eq!(j.batch_fill(BatchNo::new(1).unwrap()).unwrap(), (0, None));
    }
}
