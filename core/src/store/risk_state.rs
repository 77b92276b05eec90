//! The risk state that survives a restart: the active signed rule bundle and every signed
//! hot-list delta applied, kept as received (`risk_bundle`, `risk_hot_list_deltas`).
//!
//! The journal only keeps the bytes; the terminal verifies them again at open with its trusted
//! keys (`risk::restore`), so a row edited on the device is found there, not trusted here.
//! Each update costs one commit, made before the update becomes active: an update the journal
//! could not keep is not applied, so a restart never finds the terminal on rules it forgot.

use rusqlite::{OptionalExtension, params};

use super::{Journal, StoreError};
use crate::risk::{StoredBundle, StoredDelta, StoredRiskState};

fn to_db(what: &'static str, value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::InvalidInput {
        what,
        detail: format!("{value} is above 2^63 - 1"),
    })
}

fn from_db(column: &'static str, value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::InvalidValue {
        column,
        value: value.to_string(),
    })
}

impl Journal {
    /// What the journal keeps of the risk state, deltas in ascending sequence. Unverified: the
    /// caller verifies every envelope before trusting it.
    pub fn stored_risk_state(&self) -> Result<StoredRiskState, StoreError> {
        let bundle = self
            .conn
            .prepare_cached("SELECT version, signed FROM risk_bundle WHERE id = 1")?
            .query_row([], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?))
            })
            .optional()?
            .map(|(version, signed)| {
                Ok::<_, StoreError>(StoredBundle {
                    version: from_db("risk_bundle.version", version)?,
                    signed,
                })
            })
            .transpose()?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT sequence, signed FROM risk_hot_list_deltas ORDER BY sequence",
        )?;
        let rows = stmt.query_map([], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?))
        })?;
        let mut deltas = Vec::new();
        for row in rows {
            let (sequence, signed) = row?;
            deltas.push(StoredDelta {
                sequence: from_db("risk_hot_list_deltas.sequence", sequence)?,
                signed,
            });
        }
        Ok(StoredRiskState { bundle, deltas })
    }

    /// Keeps `signed` as the active bundle, replacing the one before. The journal refuses a
    /// version below the one it holds (the caller checked already; this is the last line). The
    /// same version is allowed: it restores a stored copy that failed its check at open.
    /// One commit.
    pub fn record_risk_bundle(
        &mut self,
        version: u64,
        key_id: &str,
        signed: &[u8],
        at_ms: i64,
    ) -> Result<(), StoreError> {
        let version_db = to_db("risk bundle version", version)?;
        self.write(|tx| {
            let changed = tx
                .prepare_cached(
                    "INSERT INTO risk_bundle (id, version, key_id, signed, loaded_at)
                     VALUES (1, ?1, ?2, ?3, ?4)
                     ON CONFLICT (id) DO UPDATE SET version = excluded.version,
                         key_id = excluded.key_id, signed = excluded.signed,
                         loaded_at = excluded.loaded_at
                     WHERE excluded.version >= risk_bundle.version",
                )?
                .execute(params![version_db, key_id, signed, at_ms])?;
            if changed == 0 {
                return Err(StoreError::InvalidInput {
                    what: "risk bundle version",
                    detail: format!(
                        "{version} is below the version the journal holds (rollback refused)"
                    ),
                });
            }
            Ok(())
        })
    }

    /// Keeps a hot-list delta the terminal is about to apply. Stored deltas from its sequence on
    /// are dropped first: they are left over from deltas that failed their check at open (the
    /// list was restored without them), and this one replaces them. One commit.
    pub fn record_hot_list_delta(
        &mut self,
        sequence: u64,
        key_id: &str,
        signed: &[u8],
        at_ms: i64,
    ) -> Result<(), StoreError> {
        let sequence_db = to_db("hot-list delta sequence", sequence)?;
        self.write(|tx| {
            tx.prepare_cached("DELETE FROM risk_hot_list_deltas WHERE sequence >= ?1")?
                .execute([sequence_db])?;
            tx.prepare_cached(
                "INSERT INTO risk_hot_list_deltas (sequence, key_id, signed, applied_at)
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![sequence_db, key_id, signed, at_ms])?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(dir: &std::path::Path) -> Journal {
        Journal::open(dir.join("journal.db")).expect("open journal")
    }

    #[test]
    fn the_risk_state_survives_a_reopen_as_stored() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut journal = open(dir.path());
        assert_eq!(
            journal.stored_risk_state().expect("read"),
            StoredRiskState::default()
        );
        let commits = journal.commit_count();
        journal
            .record_risk_bundle(4, "fleet-1", b"bundle v4", 1)
            .expect("bundle");
        journal
            .record_risk_bundle(5, "fleet-2", b"bundle v5", 2)
            .expect("bundle");
        journal
            .record_hot_list_delta(1, "fleet-1", b"delta 1", 3)
            .expect("delta");
        journal
            .record_hot_list_delta(2, "fleet-1", b"delta 2", 4)
            .expect("delta");
        assert_eq!(journal.commit_count(), commits + 4, "one commit per update");
        drop(journal);

        let journal = open(dir.path());
        assert_eq!(
            journal.stored_risk_state().expect("read"),
            StoredRiskState {
                bundle: Some(StoredBundle {
                    version: 5,
                    signed: b"bundle v5".to_vec()
                }),
                deltas: vec![
                    StoredDelta {
                        sequence: 1,
                        signed: b"delta 1".to_vec()
                    },
                    StoredDelta {
                        sequence: 2,
                        signed: b"delta 2".to_vec()
                    },
                ],
            }
        );
    }

    #[test]
    fn an_older_bundle_is_refused_and_the_same_version_restores() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut journal = open(dir.path());
        journal
            .record_risk_bundle(5, "fleet-1", b"v5", 1)
            .expect("bundle");
        let err = journal
            .record_risk_bundle(4, "fleet-1", b"v4", 2)
            .unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::InvalidInput {
                    what: "risk bundle version",
                    ..
                }
            ),
            "{err}"
        );
        journal
            .record_risk_bundle(5, "fleet-1", b"v5 again", 3)
            .expect("same version");
        let stored = journal
            .stored_risk_state()
            .expect("read")
            .bundle
            .expect("row");
        assert_eq!(stored.signed, b"v5 again");
        assert!(
            journal
                .record_risk_bundle(u64::MAX, "fleet-1", b"x", 4)
                .is_err()
        );
    }

    #[test]
    fn a_delta_replaces_those_from_its_sequence_on() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut journal = open(dir.path());
        for seq in 1..=3 {
            journal
                .record_hot_list_delta(seq, "fleet-1", format!("d{seq}").as_bytes(), 1)
                .expect("delta");
        }
        // Delta 2 failed its check at open; the back office sent 2 again.
        journal
            .record_hot_list_delta(2, "fleet-1", b"d2 again", 2)
            .expect("delta");
        let deltas = journal.stored_risk_state().expect("read").deltas;
        let seen: Vec<(u64, &[u8])> = deltas
            .iter()
            .map(|d| (d.sequence, d.signed.as_slice()))
            .collect();
        assert_eq!(seen, vec![(1, &b"d1"[..]), (2, &b"d2 again"[..])]);
    }
}
