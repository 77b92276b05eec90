//! Risk counters: what the pre-check rules need from history, kept in `risk_events`.
//!
//! An online transaction costs exactly two commits, so the risk event may not add a third. The
//! caller stages the event in a TEMP table (connection memory, no fsync) before
//! `begin_online`; a TEMP trigger copies it into `risk_events` inside the very commit that
//! inserts the transaction row. The event is therefore exactly as durable as the transaction,
//! and counts read amount, time and approval state from `transactions` itself.

use rusqlite::{OptionalExtension, params};

use super::{Journal, StoreError};
use crate::risk::{CardHash, CounterQuery, Counters};

/// Facts staged for the next transaction row with this attempt id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedRiskEvent {
    pub card: Option<CardHash>,
    pub method: &'static str,
    pub fallback: bool,
    pub offline: bool,
}

const STAGE_SETUP: &str = "
    CREATE TEMP TABLE IF NOT EXISTS risk_stage (
        attempt_id TEXT PRIMARY KEY,
        card_hash  INTEGER,
        method     TEXT NOT NULL,
        fallback   INTEGER NOT NULL,
        offline    INTEGER NOT NULL
    );
    CREATE TEMP TRIGGER IF NOT EXISTS risk_stage_to_event AFTER INSERT ON main.transactions
    BEGIN
        INSERT INTO main.risk_events (transaction_id, card_hash, method, fallback, offline)
            SELECT NEW.id, card_hash, method, fallback, offline FROM temp.risk_stage
            WHERE attempt_id = NEW.attempt_id;
        DELETE FROM temp.risk_stage WHERE attempt_id = NEW.attempt_id;
    END;";

/// Card hashes are unsigned 64-bit; SQLite integers are signed. Same bits either way.
fn hash_to_db(h: CardHash) -> i64 {
    h.0 as i64
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn to_u32(v: i64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

impl Journal {
    /// Stages the risk facts of `attempt_id`; they land in `risk_events` with its transaction
    /// row in `begin_online`'s commit. Costs no commit of its own.
    pub fn stage_risk_event(
        &mut self,
        attempt_id: &str,
        event: &StagedRiskEvent,
    ) -> Result<(), StoreError> {
        self.conn.execute_batch(STAGE_SETUP)?;
        self.conn.execute(
            "INSERT OR REPLACE INTO temp.risk_stage \
             (attempt_id, card_hash, method, fallback, offline) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                attempt_id,
                event.card.map(hash_to_db),
                event.method,
                event.fallback,
                event.offline
            ],
        )?;
        Ok(())
    }

    /// Drops a staged event whose transaction never reached the journal (a decline before
    /// sending), so it cannot attach to a later row.
    pub fn discard_staged_risk_event(&mut self, attempt_id: &str) -> Result<(), StoreError> {
        self.conn.execute_batch(STAGE_SETUP)?;
        self.conn.execute(
            "DELETE FROM temp.risk_stage WHERE attempt_id = ?1",
            [attempt_id],
        )?;
        Ok(())
    }

    /// The counters for one check. Approved transactions count towards limits and velocity;
    /// fallbacks count whenever they were sent, approved or not.
    pub fn risk_counters(&self, q: &CounterQuery) -> Result<Counters, StoreError> {
        let ms = |s: i64| s.saturating_mul(1000);
        let card = q.card.map(hash_to_db);
        let row = self
            .conn
            .query_row(
                "SELECT
                   COALESCE(SUM(CASE WHEN t.created_at >= ?2 THEN t.amount_fen END), 0),
                   COALESCE(SUM(CASE WHEN t.created_at >= ?2 AND e.card_hash = ?1 THEN t.amount_fen END), 0),
                   COALESCE(SUM(CASE WHEN t.created_at >= ?2 AND e.method = ?3 THEN t.amount_fen END), 0),
                   COUNT(CASE WHEN t.created_at >= ?4 AND e.card_hash = ?1 THEN 1 END),
                   COUNT(CASE WHEN t.created_at >= ?4 THEN 1 END),
                   COUNT(CASE WHEN t.created_at >= ?5 AND e.card_hash = ?1 AND t.amount_fen = ?6 THEN 1 END),
                   COUNT(CASE WHEN t.created_at >= ?7 AND e.card_hash = ?1 AND ?8 > 0
                                AND t.amount_fen >= ?8 AND t.amount_fen % ?8 = 0 THEN 1 END),
                   COUNT(CASE WHEN t.created_at >= ?7 AND e.card_hash = ?1
                                AND t.amount_fen >= ?9 AND t.amount_fen < ?10 THEN 1 END),
                   COUNT(CASE WHEN t.created_at >= ?7 AND e.card_hash = ?1 THEN 1 END),
                   COALESCE(SUM(CASE WHEN t.created_at >= ?7 AND e.card_hash = ?1 THEN t.amount_fen END), 0)
                 FROM risk_events e JOIN transactions t ON t.id = e.transaction_id
                 WHERE t.state = 'approved' AND t.created_at >= ?11",
                params![
                    card,
                    ms(q.day_start),
                    q.method,
                    ms(q.velocity_since),
                    ms(q.duplicate_since),
                    i64::try_from(q.amount_fen).unwrap_or(i64::MAX),
                    ms(q.cash_out_since),
                    i64::try_from(q.round_unit_fen).unwrap_or(0),
                    i64::try_from(q.just_below_low_fen).unwrap_or(0),
                    i64::try_from(q.just_below_high_fen).unwrap_or(0),
                    ms(earliest(q)),
                ],
                |r| {
                    Ok(Counters {
                        terminal_day_fen: to_u64(r.get(0)?),
                        card_day_fen: to_u64(r.get(1)?),
                        method_day_fen: to_u64(r.get(2)?),
                        card_window_count: to_u32(r.get(3)?),
                        terminal_window_count: to_u32(r.get(4)?),
                        duplicate_count: to_u32(r.get(5)?),
                        card_round_count: to_u32(r.get(6)?),
                        card_just_below_count: to_u32(r.get(7)?),
                        card_recent_count: to_u32(r.get(8)?),
                        card_recent_fen: to_u64(r.get(9)?),
                        ..Counters::default()
                    })
                },
            )
            .optional()?;
        let mut counters = row.unwrap_or_default();
        let (card_fallbacks, terminal_fallbacks): (i64, i64) = self.conn.query_row(
            "SELECT COUNT(CASE WHEN e.card_hash = ?1 THEN 1 END), COUNT(*)
             FROM risk_events e JOIN transactions t ON t.id = e.transaction_id
             WHERE e.fallback = 1 AND t.created_at >= ?2",
            params![card, ms(q.fallback_since)],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        counters.card_fallbacks = to_u32(card_fallbacks);
        counters.terminal_fallbacks = to_u32(terminal_fallbacks);
        if card.is_none() {
            // Without a card nothing is per card (a QR payment, or the pass before the read).
            counters.card_day_fen = 0;
            counters.card_fallbacks = 0;
        }
        Ok(counters)
    }
}

/// The oldest instant any counter looks at, so the index on `created_at` bounds the scan.
fn earliest(q: &CounterQuery) -> i64 {
    [
        q.day_start,
        q.velocity_since,
        q.duplicate_since,
        q.cash_out_since,
    ]
    .into_iter()
    .min()
    .unwrap_or(q.day_start)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{EntryMode, HostOutcome, NewTransaction, ReversalAction, TxnKind, TxnState};

    const DAY: i64 = 1_795_622_400; // 2026-11-26 00:00 CST (16:00 UTC the day before)

    fn query(card: Option<u64>, now: i64, amount: u64) -> CounterQuery {
        CounterQuery {
            card: card.map(CardHash),
            method: "card",
            amount_fen: amount,
            now,
            day_start: DAY,
            velocity_since: now - 600,
            duplicate_since: now - 300,
            fallback_since: now - 86_400,
            cash_out_since: now - 86_400,
            round_unit_fen: 100_000,
            just_below_low_fen: 4_750_000,
            just_below_high_fen: 5_000_000,
        }
    }

    fn pay(j: &mut Journal, id: &str, card: u64, amount: u64, at: i64, fallback: bool, ok: bool) {
        j.stage_risk_event(
            id,
            &StagedRiskEvent {
                card: Some(CardHash(card)),
                method: "card",
                fallback,
                offline: false,
            },
        )
        .unwrap();
        let t = j
            .begin_online(&NewTransaction {
                attempt_id: id.into(),
                kind: TxnKind::Sale,
                amount_fen: amount,
                currency: "156".into(),
                pan_masked: Some("621700******0001".into()),
                pan_sealed: None,
                entry_mode: EntryMode::Magstripe,
                original_id: None,
                icc_data: None,
                needs_reversal: true,
                at_ms: at * 1000,
            })
            .unwrap();
        let state = if ok {
            TxnState::Approved
        } else {
            TxnState::Declined
        };
        j.record_outcome(
            t.id,
            &HostOutcome::new(state, ReversalAction::Disarm, at * 1000),
        )
        .unwrap();
    }

    #[test]
    fn staging_costs_no_commit_and_counts_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.db");
        let now = DAY + 12 * 3600;
        {
            let mut j = Journal::open(&path).unwrap();
            let before = j.commit_count();
            pay(&mut j, "a", 7, 100_000, now - 100, false, true);
            assert_eq!(
                j.commit_count() - before,
                2,
                "stage + begin + outcome = two commits"
            );
            pay(&mut j, "b", 7, 4_850_050, now - 200, true, true);
            pay(&mut j, "c", 8, 500, now - 50, true, false);
            pay(&mut j, "old", 7, 900, DAY - 10, false, true);
        }
        let j = Journal::open(&path).unwrap();
        let c = j.risk_counters(&query(Some(7), now, 100_000)).unwrap();
        assert_eq!(
            c.terminal_day_fen, 4_950_050,
            "declined and yesterday's excluded"
        );
        assert_eq!(c.card_day_fen, 4_950_050);
        assert_eq!(c.method_day_fen, 4_950_050);
        assert_eq!(c.card_window_count, 2);
        assert_eq!(c.terminal_window_count, 2);
        assert_eq!(c.duplicate_count, 1, "same card, same amount, 100 s ago");
        assert_eq!(c.card_round_count, 1);
        assert_eq!(c.card_just_below_count, 1);
        assert_eq!(
            c.card_recent_count, 3,
            "within 24 h: includes yesterday evening"
        );
        assert_eq!(c.card_fallbacks, 1);
        assert_eq!(c.terminal_fallbacks, 2, "a declined fallback still counts");
        let other = j.risk_counters(&query(Some(9), now, 100_000)).unwrap();
        assert_eq!((other.card_day_fen, other.duplicate_count), (0, 0));
        assert_eq!(other.terminal_day_fen, 4_950_050);
        let none = j.risk_counters(&query(None, now, 1)).unwrap();
        assert_eq!(none.card_window_count, 0);
    }

    #[test]
    fn a_discarded_stage_never_attaches() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(dir.path().join("j.db")).unwrap();
        j.stage_risk_event(
            "x",
            &StagedRiskEvent {
                card: Some(CardHash(u64::MAX)),
                method: "card",
                fallback: false,
                offline: false,
            },
        )
        .unwrap();
        j.discard_staged_risk_event("x").unwrap();
        let n: i64 = j
            .conn
            .query_row("SELECT COUNT(*) FROM temp.risk_stage", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0);
        // The full u64 range survives the signed column.
        pay(&mut j, "y", u64::MAX, 10, DAY + 10, false, true);
        let c = j
            .risk_counters(&query(Some(u64::MAX), DAY + 20, 10))
            .unwrap();
        assert_eq!(c.card_window_count, 1);
    }
}
