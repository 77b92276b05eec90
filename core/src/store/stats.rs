//! Diagnostics rows: endings, host round trips and settlements, plus the read-only facts the
//! health check needs (integrity, batch size, storage budget).
//!
//! Statistics are not money state. They are written outside [`Journal::write`] with
//! `synchronous=NORMAL` for that one write, so they never add an fsync to a payment (the floor
//! is two per online transaction) and do not count in [`Journal::commit_count`]; a power cut may
//! lose the last few rows, nothing else. Rows older than [`RETENTION_MS`] are pruned as new
//! ones arrive, so statistics cannot grow into the journal's storage budget.

use rusqlite::{OptionalExtension, params};

use super::{BatchNo, Journal, StoreError};
use crate::diag::Cause;
use crate::diag::statistics::{EndingRow, ExchangeSample};

/// Statistics cover today and the last 7 days; one day more absorbs clock corrections.
pub const RETENTION_MS: i64 = 8 * 24 * 3600 * 1000;

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

impl Journal {
    /// Runs `sql` (statements with `?1` = now, `?2`… = `values`) in one transaction without an
    /// fsync; see the module notes.
    fn write_statistics(
        &mut self,
        prune: &str,
        insert: &str,
        at_ms: i64,
        values: &[&dyn rusqlite::ToSql],
    ) -> Result<(), StoreError> {
        // Outside the write door, so wait for the integrity verdict here too.
        self.verify()?;
        // Cached like every journal statement: two pragma switches per statistics row were
        // otherwise parsed afresh on every sale.
        self.conn
            .prepare_cached("PRAGMA synchronous = NORMAL")?
            .execute([])?;
        let written = (|| -> Result<(), StoreError> {
            let tx = self.conn.transaction()?;
            tx.prepare_cached(prune)?.execute([at_ms - RETENTION_MS])?;
            tx.prepare_cached(insert)?.execute(values)?;
            tx.commit()?;
            Ok(())
        })();
        // Every later write must fsync again; if restoring fails the first time, try once more
        // and report it rather than run on with weaker durability unnoticed.
        let full = || -> Result<usize, rusqlite::Error> {
            self.conn
                .prepare_cached("PRAGMA synchronous = FULL")?
                .execute([])
        };
        let restored = full().or_else(|_| full());
        written?;
        restored?;
        Ok(())
    }

    /// Records one ending. A replayed attempt with the same outcome is counted once.
    pub fn record_ending(&mut self, e: &EndingRecord<'_>) -> Result<(), StoreError> {
        let (outcome, cause) = match e.termination {
            None => (APPROVED, None),
            Some((code, cause)) => (code, Some(cause.as_str())),
        };
        self.write_statistics(
            "DELETE FROM endings WHERE at_ms < ?1",
            "INSERT OR IGNORE INTO endings (at_ms, attempt_id, kind, outcome, cause) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            e.at_ms,
            params![e.at_ms, e.attempt_id, e.kind, outcome, cause],
        )
    }

    /// Records one host round trip (answered or not) of `latency_ms`.
    pub fn record_exchange(
        &mut self,
        at_ms: i64,
        mti: &str,
        latency_ms: u64,
        answered: bool,
    ) -> Result<(), StoreError> {
        let latency = i64::try_from(latency_ms).unwrap_or(i64::MAX);
        self.write_statistics(
            "DELETE FROM host_exchanges WHERE at_ms < ?1",
            "INSERT INTO host_exchanges (at_ms, mti, latency_ms, answered) VALUES (?1, ?2, ?3, ?4)",
            at_ms,
            params![at_ms, mti, latency, answered],
        )
    }

    /// Records a completed settlement of `batch_no`. Only the last one matters, so older ones
    /// are pruned like the other statistics.
    pub fn record_settlement(&mut self, at_ms: i64, batch_no: BatchNo) -> Result<(), StoreError> {
        self.write_statistics(
            "DELETE FROM settlements WHERE at_ms < ?1",
            "INSERT INTO settlements (at_ms, batch_no) VALUES (?1, ?2)",
            at_ms,
            params![at_ms, batch_no.value()],
        )
    }

    /// When the last settlement completed, if one is on record.
    pub fn last_settlement_ms(&self) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT max(at_ms) FROM settlements", [], |r| {
                r.get::<_, Option<i64>>(0)
            })
            .optional()?
            .flatten())
    }

    /// Endings at or after `from_ms`, oldest first.
    pub fn endings_since(&self, from_ms: i64) -> Result<Vec<EndingRow>, StoreError> {
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
    pub fn exchanges_since(&self, from_ms: i64) -> Result<Vec<ExchangeSample>, StoreError> {
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
        &self,
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

    /// Approved transactions of any kind in `batch_no`: an upper bound of [`Journal::batch_fill`]
    /// that the index on (batch_no, state) answers alone, cheap enough to ask before every sale.
    pub fn batch_approved_count(&self, batch_no: BatchNo) -> Result<usize, StoreError> {
        let count: i64 = self
            .conn
            .prepare_cached(
                "SELECT count(*) FROM transactions WHERE batch_no = ?1 AND state = 'approved'",
            )?
            .query_row([batch_no.value()], |r| r.get(0))?;
        Ok(count.max(0) as usize)
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
