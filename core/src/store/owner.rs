//! One owner per journal file. The first process to open a journal for writing holds an
//! exclusive `flock` on `<journal>.lock` for as long as it runs; the kernel drops the lock when
//! the process dies, however it dies, so a `kill -9` never leaves a stale lock to clear by hand.
//!
//! Without it, `smartpos recover` (or a second terminal object) could open a journal while a
//! sale waited for its answer, find the sale in flight, reverse it, and leave the first process
//! to record an approval the acquirer had already undone.
//!
//! The lock is on a side file, not on the database: SQLite's own locks are per transaction, the
//! quarantine of a corrupt database must move the database while its owner keeps the lock, and
//! read-only views (`smartpos journal`, `report`) read the database without owning it.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustix::fs::{FlockOperation, flock};

use super::StoreError;

/// The held lock of one journal; shared (cloned) by every object of this process that writes
/// to it through the same connection. Released when the last clone drops or the process ends.
#[derive(Debug, Clone)]
pub struct JournalOwner(Arc<Held>);

#[derive(Debug)]
struct Held {
    /// Kept open: closing it releases the lock.
    _file: File,
    journal: PathBuf,
}

/// Where the lock of journal `db` lives: `db` with `.lock` appended.
pub fn lock_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

impl JournalOwner {
    /// Takes the journal at `db` for this process, or says who has it.
    pub fn acquire(db: &Path) -> Result<JournalOwner, StoreError> {
        let path = lock_path(db);
        let io = |source| StoreError::Io {
            path: path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        if let Err(errno) = flock(&file, FlockOperation::NonBlockingLockExclusive) {
            if errno == rustix::io::Errno::WOULDBLOCK {
                return Err(StoreError::InUse {
                    path: db.to_path_buf(),
                    holder_pid: holder_pid(&mut file),
                });
            }
            return Err(io(errno.into()));
        }
        // Who holds it, for the next opener's message; the lock itself is what counts.
        file.set_len(0).map_err(io)?;
        file.write_all(std::process::id().to_string().as_bytes())
            .map_err(io)?;
        Ok(JournalOwner(Arc::new(Held {
            _file: file,
            journal: db.to_path_buf(),
        })))
    }

    /// The journal this owner holds.
    pub fn journal_path(&self) -> &Path {
        &self.0.journal
    }
}

fn holder_pid(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_second_owner_is_refused_with_the_holders_pid_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("j.db");
        let first = JournalOwner::acquire(&db).unwrap();
        let clone = first.clone();
        match JournalOwner::acquire(&db) {
            Err(StoreError::InUse { holder_pid, path }) => {
                assert_eq!(holder_pid, Some(std::process::id()));
                assert_eq!(path, db);
            }
            other => panic!("{other:?}"),
        }
        drop(first);
        assert!(
            JournalOwner::acquire(&db).is_err(),
            "a clone still holds it"
        );
        drop(clone);
        let again = JournalOwner::acquire(&db).unwrap();
        assert_eq!(again.journal_path(), db);
    }

    #[test]
    fn a_journal_has_one_writer_and_any_number_of_readers() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("j.db");
        let mut owner = crate::store::Journal::open(&db).unwrap();
        let stan = owner.next_stan_standalone().unwrap();
        assert!(matches!(
            crate::store::Journal::open(&db),
            Err(StoreError::InUse { .. })
        ));
        assert!(matches!(
            crate::store::Journal::open_checking_in_background(&db),
            Err(StoreError::InUse { .. })
        ));
        // A view reads what the owner committed, while the owner holds the journal.
        let view = crate::store::Journal::open_read_only(&db).unwrap();
        assert!(view.list(10, 0).unwrap().is_empty());
        let mut view = view;
        assert!(view.next_stan_standalone().is_err(), "a view cannot write");
        drop(owner);
        let mut next = crate::store::Journal::open(&db).unwrap();
        assert_eq!(
            next.next_stan_standalone().unwrap().value(),
            stan.value() + 1
        );
    }
}
