//! The chip tables the acquirer downloaded (CA public keys, IC parameters), kept as the records
//! received (`chip_sets`, `chip_set_records`).
//!
//! A set is replaced whole in one commit, made only once every record of the new set has
//! been received and checked: a crash before it keeps the old complete set, after it the new
//! one. The journal keeps bytes; the terminal checks them again when it loads them at open
//! (`txn::ic_download`), so a row damaged on the device is found there, not trusted here.

use rusqlite::params;

use super::{Journal, StoreError};

/// One downloaded set as the journal keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredChipSet {
    /// Which table: `ca_keys` or `ic_parameters`.
    pub name: String,
    /// The records in the order received.
    pub records: Vec<Vec<u8>>,
    /// How many records the set had when it was written; differs from `records.len()` only
    /// in a damaged journal.
    pub entries: u64,
    pub applied_at_ms: i64,
}

impl StoredChipSet {
    /// The rows of the set all came back.
    pub fn is_complete(&self) -> bool {
        self.records.len() as u64 == self.entries
    }
}

impl Journal {
    /// Every downloaded set, by name. Unverified: the caller checks each record.
    pub fn stored_chip_sets(&self) -> Result<Vec<StoredChipSet>, StoreError> {
        let mut sets = Vec::new();
        let mut stmt = self
            .conn
            .prepare_cached("SELECT name, entries, applied_at FROM chip_sets ORDER BY name")?;
        let rows = stmt.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, i64>(2)?,
            ))
        })?;
        for row in rows {
            let (name, entries, applied_at_ms) = row?;
            let entries = u64::try_from(entries).map_err(|_| StoreError::InvalidValue {
                column: "chip_sets.entries",
                value: entries.to_string(),
            })?;
            sets.push(StoredChipSet {
                name,
                records: Vec::new(),
                entries,
                applied_at_ms,
            });
        }
        let mut stmt = self
            .conn
            .prepare_cached("SELECT record FROM chip_set_records WHERE name = ?1 ORDER BY seq")?;
        for set in &mut sets {
            let records = stmt.query_map([&set.name], |row| row.get::<_, Vec<u8>>(0))?;
            for record in records {
                set.records.push(record?);
            }
        }
        Ok(sets)
    }

    /// Replaces the set `name` with `records`, in one commit.
    pub fn replace_chip_set(
        &mut self,
        name: &str,
        records: &[Vec<u8>],
        at_ms: i64,
    ) -> Result<(), StoreError> {
        if name.is_empty() {
            return Err(StoreError::InvalidInput {
                what: "chip set name",
                detail: "empty".into(),
            });
        }
        self.write(|tx| {
            tx.prepare_cached("DELETE FROM chip_set_records WHERE name = ?1")?
                .execute([name])?;
            tx.prepare_cached(
                "INSERT INTO chip_sets (name, entries, applied_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (name) DO UPDATE SET entries = excluded.entries,
                     applied_at = excluded.applied_at",
            )?
            .execute(params![name, records.len() as i64, at_ms])?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO chip_set_records (name, seq, record) VALUES (?1, ?2, ?3)",
            )?;
            for (seq, record) in records.iter().enumerate() {
                insert.execute(params![name, seq as i64, record])?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_is_replaced_whole_in_one_commit_and_survives_a_reopen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("journal.db");
        {
            let mut journal = Journal::open(&path).expect("open");
            assert!(journal.stored_chip_sets().expect("read").is_empty());
            let commits = journal.commit_count();
            journal
                .replace_chip_set("ca_keys", &[b"k1".to_vec(), b"k2".to_vec()], 5)
                .expect("write");
            journal
                .replace_chip_set("ca_keys", &[b"k3".to_vec()], 7)
                .expect("write");
            journal
                .replace_chip_set("ic_parameters", &[b"p1".to_vec()], 8)
                .expect("write");
            assert_eq!(journal.commit_count(), commits + 3);
        }
        let journal = Journal::open(&path).expect("reopen");
        let sets = journal.stored_chip_sets().expect("read");
        assert_eq!(sets.len(), 2);
        assert_eq!(sets[0].name, "ca_keys");
        assert_eq!(sets[0].records, vec![b"k3".to_vec()]);
        assert_eq!(sets[0].applied_at_ms, 7);
        assert!(sets[0].is_complete());
        assert_eq!(sets[1].records, vec![b"p1".to_vec()]);
    }

    #[test]
    fn a_set_that_lost_rows_is_seen_as_incomplete() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut journal = Journal::open(dir.path().join("journal.db")).expect("open");
        journal
            .replace_chip_set("ca_keys", &[b"k1".to_vec(), b"k2".to_vec()], 5)
            .expect("write");
        journal
            .conn
            .execute("DELETE FROM chip_set_records WHERE seq = 1", [])
            .expect("damage");
        let sets = journal.stored_chip_sets().expect("read");
        assert!(!sets[0].is_complete());
        assert!(journal.replace_chip_set("", &[], 1).is_err());
    }
}
