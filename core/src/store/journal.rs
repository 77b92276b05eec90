//! Opening, checking, quarantining and writing the journal file.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags};

use super::integrity::{Integrity, quick_check};
use super::owner::JournalOwner;
use super::stats::StagedStatistics;
use super::write_txn::WriteTxn;
use super::{BatchNo, Stan, StoreError, schema};

/// The SQLite journal: every state a transaction passes through, written before the side effect
/// it enables. One `Journal` owns one connection; wrap it in a `Mutex` to share it.
pub struct Journal {
    pub(crate) conn: Connection,
    path: PathBuf,
    /// The lock that makes this process the journal's one owner; `None` for a read-only view.
    owner: Option<JournalOwner>,
    commits: u64,
    integrity: Integrity,
    pub(super) statistics: StagedStatistics,
    /// The open batch and the id of its first transaction (see `batch_size_bound`).
    pub(super) batch_first: Option<(u32, i64)>,
}

impl fmt::Debug for Journal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Journal")
            .field("path", &self.path)
            .field("commits", &self.commits)
            .finish_non_exhaustive()
    }
}

impl Drop for Journal {
    /// An orderly close keeps the staged statistics.
    fn drop(&mut self) {
        if self.statistics.is_empty() {
            return;
        }
        if let Err(e) = self.flush_statistics() {
            log::warn!(
                "journal {}: statistics lost at close: {e}",
                self.path.display()
            );
        }
    }
}

/// One journal shared by the objects of a process that write to it (a card terminal and a QR
/// session on one file): one connection, one owner lock, one writer at a time.
pub type SharedJournal = std::sync::Arc<std::sync::Mutex<Journal>>;

fn begin_immediate<'c>(conn: &'c Connection, path: &Path) -> Result<WriteTxn<'c>, StoreError> {
    WriteTxn::begin(conn).map_err(|e| at_path(path, e))
}

fn corrupt(path: &Path, detail: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        path: path.to_path_buf(),
        detail: detail.into(),
    }
}

/// Attaches the file path to errors raised while opening (rusqlite errors do not know it).
fn at_path(path: &Path, err: impl Into<StoreError>) -> StoreError {
    match err.into() {
        StoreError::Corrupt { detail, .. } => corrupt(path, detail),
        other => other,
    }
}

impl Journal {
    /// Opens (creating if absent) the journal at `path`: WAL, `synchronous=FULL`, foreign keys on,
    /// `PRAGMA quick_check`, then pending migrations. A file that is not a sound SQLite database
    /// yields [`StoreError::Corrupt`]; the caller decides whether to [`Journal::quarantine`] it.
    ///
    /// The caller becomes the journal's one owner ([`JournalOwner`]); a journal another process
    /// owns yields [`StoreError::InUse`]. Share one `Journal` ([`SharedJournal`]) between the
    /// objects of a process that write to the same file.
    pub fn open(path: impl AsRef<Path>) -> Result<Journal, StoreError> {
        let path = path.as_ref();
        Journal::open_owned(path, JournalOwner::acquire(path)?, false)
    }

    /// Like [`Journal::open`], but a journal already at the current schema is checked on a
    /// background thread, so open costs milliseconds whatever the journal's size. Reads work at
    /// once; the first write waits for the verdict and fails with [`StoreError::Corrupt`] if the
    /// check found damage — and since every side effect is preceded by a write, nothing leaves
    /// the terminal before the journal is known sound. [`Journal::verify`] waits explicitly.
    pub fn open_checking_in_background(path: impl AsRef<Path>) -> Result<Journal, StoreError> {
        let path = path.as_ref();
        Journal::open_owned(path, JournalOwner::acquire(path)?, true)
    }

    /// Opens the journal `owner` holds (so a caller can quarantine a corrupt file and start a
    /// fresh one without letting go of it in between).
    pub fn open_owned(
        path: &Path,
        owner: JournalOwner,
        background: bool,
    ) -> Result<Journal, StoreError> {
        let mut journal = Journal::open_with(path, background)?;
        journal.owner = Some(owner);
        Ok(journal)
    }

    /// A read-only view for reports and listings: no lock, no migration, no recovery, no
    /// integrity check; it reads what the owner has committed, while the owner works. A journal
    /// at another schema version is refused rather than misread.
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Journal, StoreError> {
        Journal::open_view(path.as_ref(), false)
    }

    /// As [`Journal::open_read_only`]; `older` also reads a journal an older build wrote (the
    /// tables a salvage reads have been there since the first schema).
    pub(crate) fn open_view(path: &Path, older: bool) -> Result<Journal, StoreError> {
        if !path.is_file() {
            return Err(StoreError::Io {
                path: path.to_path_buf(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such journal"),
            });
        }
        check_header(path)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| at_path(path, e))?;
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(|e| at_path(path, e))?;
        let supported = schema::MIGRATIONS.len() as i64;
        if version > supported {
            return Err(StoreError::SchemaTooNew {
                found: version,
                supported,
            });
        }
        if version < supported && !older {
            return Err(StoreError::InvalidInput {
                what: "journal schema",
                detail: format!(
                    "version {version} needs migrating to {supported}: open it with a terminal first"
                ),
            });
        }
        conn.set_prepared_statement_cache_capacity(64);
        Ok(Journal {
            conn,
            path: path.to_path_buf(),
            owner: None,
            commits: 0,
            integrity: Integrity::Sound,
            statistics: StagedStatistics::default(),
            batch_first: None,
        })
    }

    fn open_with(path: &Path, background: bool) -> Result<Journal, StoreError> {
        check_header(path)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn = Connection::open_with_flags(path, flags).map_err(|e| at_path(path, e))?;
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(|e| at_path(path, e))?;
        // Migrating writes to the file, so a journal that needs it is checked first, as is every
        // journal opened without the background option.
        let check_now = !background || version != schema::MIGRATIONS.len() as i64;
        if check_now {
            // Before the journal_mode pragma: on a garbage file that would already fail, and
            // either way the failure must read as "corrupt", not as a generic SQLite error.
            if let Some(findings) = quick_check(&conn).map_err(|e| at_path(path, e))? {
                return Err(corrupt(path, findings));
            }
        }
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(|e| at_path(path, e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::InvalidValue {
                column: "PRAGMA journal_mode",
                value: mode,
            });
        }
        // FULL: every commit fsyncs the WAL, so a committed STAN or armed reversal survives
        // power loss, not just a process kill.
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(|e| at_path(path, e))?;
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(|e| at_path(path, e))?;
        let applied = schema::migrate(&mut conn).map_err(|e| at_path(path, e))?;
        // Statements are prepared once and reused: parsing SQL was a fifth of a sale's CPU.
        // Room for every statement the journal uses, so the hot ones are never evicted.
        conn.set_prepared_statement_cache_capacity(128);
        let integrity = if check_now {
            Integrity::Sound
        } else {
            Integrity::check_in_background(path)
        };
        Ok(Journal {
            conn,
            path: path.to_path_buf(),
            owner: None,
            commits: applied,
            integrity,
            statistics: StagedStatistics::default(),
            batch_first: None,
        })
    }

    /// Waits for the integrity verdict (at once if it is known) and returns it.
    pub fn verify(&mut self) -> Result<(), StoreError> {
        let path = self.path.clone();
        self.integrity
            .settle(&self.conn)
            .map_err(|e| at_path(&path, e))
    }

    /// The background integrity check has not reported yet.
    pub fn verification_pending(&self) -> bool {
        self.integrity.is_pending()
    }

    /// Replaces a journal found corrupt after open with a fresh one at the same path: closes
    /// it without a checkpoint (the WAL is evidence), moves the files aside with
    /// [`Journal::quarantine`] and opens an empty journal. Returns where the files went.
    pub fn restart_after_corruption(&mut self) -> Result<Vec<PathBuf>, StoreError> {
        let path = self.path.clone();
        // Let a running check finish first: it reads the files about to move.
        let _ = self.integrity.settle(&self.conn);
        // Nothing more is written to the files about to become evidence.
        self.statistics.discard();
        let placeholder = Connection::open_in_memory()?;
        let old = std::mem::replace(&mut self.conn, placeholder);
        let _ = old.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true);
        old.close().map_err(|(_, e)| at_path(&path, e))?;
        let moved = Journal::quarantine(&path)?;
        let commits = self.commits;
        // The fresh file is opened under the lock this journal already holds: no other process
        // can slip in between the quarantine and the new journal.
        let owner = self.owner.clone();
        let mut fresh = Journal::open_with(&path, false)?;
        fresh.owner = owner;
        *self = fresh;
        self.commits += commits;
        Ok(moved)
    }

    /// Caps the journal at about `max_bytes` (a storage budget on devices with a small data
    /// partition). A write that would pass it fails with [`StoreError::DiskFull`], exactly as a
    /// full disk does — which is also how tests make the disk "full".
    pub fn limit_size(&self, max_bytes: u64) -> Result<(), StoreError> {
        let page_size: i64 = self
            .conn
            .pragma_query_value(None, "page_size", |row| row.get(0))?;
        let pages = (max_bytes / page_size.max(512) as u64).max(1);
        self.conn
            .pragma_update(None, "max_page_count", pages as i64)?;
        Ok(())
    }

    /// Pages the database uses now (for size budgets and tests).
    pub fn page_count(&self) -> Result<u64, StoreError> {
        let pages: i64 = self
            .conn
            .pragma_query_value(None, "page_count", |row| row.get(0))?;
        Ok(pages.max(0) as u64)
    }

    /// Moves a (corrupt) journal and its `-wal`/`-shm` companions aside, next to it, under
    /// `<name>.corrupt-<unix seconds>[-n]<suffix>`. Never deletes anything: the files are evidence
    /// and may still hold reversals to finish by hand. Returns the new paths.
    pub fn quarantine(path: impl AsRef<Path>) -> Result<Vec<PathBuf>, StoreError> {
        let path = path.as_ref();
        let stamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let base = path.as_os_str().to_owned();
        // Pick one tag free for all three names so the set stays recognisable together.
        let mut tag = format!(".corrupt-{stamp}");
        let mut n = 1;
        while ["", "-wal", "-shm"].iter().any(|suffix| {
            let mut candidate = base.clone();
            candidate.push(&tag);
            candidate.push(suffix);
            Path::new(&candidate).exists()
        }) {
            tag = format!(".corrupt-{stamp}-{n}");
            n += 1;
        }
        let mut moved = Vec::new();
        for suffix in ["", "-wal", "-shm"] {
            let mut from = base.clone();
            from.push(suffix);
            let from = PathBuf::from(from);
            if !from.exists() {
                continue;
            }
            let mut to = base.clone();
            to.push(&tag);
            to.push(suffix);
            let to = PathBuf::from(to);
            std::fs::rename(&from, &to).map_err(|source| StoreError::Io {
                path: from.clone(),
                source,
            })?;
            log::warn!(
                "journal file quarantined: {} -> {}",
                from.display(),
                to.display()
            );
            moved.push(to);
        }
        Ok(moved)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Write transactions committed through this handle since it was opened (migrations
    /// included). With `synchronous=FULL` in WAL mode each one is one fsync of the WAL.
    pub fn commit_count(&self) -> u64 {
        self.commits
    }

    /// The single door for writes: an IMMEDIATE transaction (takes the write lock up front, so
    /// no upgrade deadlock), committed only if `work` succeeds, and counted.
    pub(crate) fn write<T>(
        &mut self,
        work: impl FnOnce(&WriteTxn<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.write_carrying(false, work)
    }

    /// [`Journal::write`] for a commit that opens a request: the staged statistics ride in
    /// it, written first (see `stats`). If writing them failed so badly that SQLite rolled the
    /// whole transaction back (a full disk), the transaction starts over without them; `work`
    /// runs once either way.
    pub(crate) fn write_with_statistics<T>(
        &mut self,
        work: impl FnOnce(&WriteTxn<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.write_carrying(true, work)
    }

    fn write_carrying<T>(
        &mut self,
        statistics: bool,
        work: impl FnOnce(&WriteTxn<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let path = self.path.clone();
        self.integrity
            .settle(&self.conn)
            .map_err(|e| at_path(&path, e))?;
        let mut tx = begin_immediate(&self.conn, &path)?;
        if statistics
            && !self.statistics.is_empty()
            && let Err(e) = self.statistics.write_into(&tx)
        {
            log::warn!("journal {}: statistics dropped: {e}", path.display());
            if tx.is_autocommit() {
                drop(tx);
                tx = begin_immediate(&self.conn, &path)?;
            }
        }
        let value = work(&tx).map_err(|e| at_path(&path, e))?;
        tx.commit().map_err(|e| at_path(&path, e))?;
        self.commits += 1;
        Ok(value)
    }

    /// Consumes a STAN outside any journaled transaction (sign-on, echo test). One commit.
    pub fn next_stan_standalone(&mut self) -> Result<Stan, StoreError> {
        self.write(consume_stan)
    }

    /// The last STAN consumed, if any.
    pub fn last_stan(&self) -> Result<Option<Stan>, StoreError> {
        let value = read_counter(&self.conn, "stan")?;
        if value == 0 {
            Ok(None)
        } else {
            Ok(Some(stan_from_db(value)?))
        }
    }

    /// The open settlement batch.
    pub fn batch_no(&self) -> Result<BatchNo, StoreError> {
        batch_from_db(read_counter(&self.conn, "batch_no")?)
    }

    /// Moves the STAN counter so the next STAN is `next`. Used only when a journal had to be
    /// started afresh after its predecessor was lost: the old STANs are unknown, and reusing one
    /// the host has seen in this batch would be refused as a duplicate (or worse, matched).
    pub fn reseed_stan(&mut self, next: Stan) -> Result<(), StoreError> {
        let last = if next.value() == 1 {
            999_999
        } else {
            next.value() - 1
        };
        self.write(|tx| {
            tx.prepare_cached("UPDATE counters SET value = ?1 WHERE name = 'stan'")?
                .execute([last])?;
            Ok(())
        })
    }

    /// Adopts the batch number the host assigned at sign-on (60.2 of the 0810). One commit.
    pub fn set_batch_no(&mut self, batch_no: BatchNo) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.prepare_cached("UPDATE counters SET value = ?1 WHERE name = 'batch_no'")?
                .execute([batch_no.value()])?;
            Ok(())
        })
    }

    /// Closes the open batch (after settlement) and returns the new one. One commit.
    pub fn advance_batch(&mut self) -> Result<BatchNo, StoreError> {
        self.write(|tx| {
            let value: i64 = tx.prepare_cached("UPDATE counters SET value = CASE WHEN value >= 999999 THEN 1 ELSE value + 1 END \
                 WHERE name = 'batch_no' RETURNING value")?.query_row([],
                |row| row.get(0),)?;
            batch_from_db(value)
        })
    }
}

/// Refuses a non-empty file that does not start with the SQLite magic before SQLite touches it:
/// SQLite, failing to read such a file, still deletes its `-wal`/`-shm` on close, destroying
/// evidence that quarantine must keep. An empty or absent file is a new journal.
fn check_header(path: &Path) -> Result<(), StoreError> {
    use std::io::Read;
    const MAGIC: &[u8; 16] = b"SQLite format 3\0";
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(StoreError::Io {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let mut head = Vec::with_capacity(MAGIC.len());
    file.by_ref()
        .take(MAGIC.len() as u64)
        .read_to_end(&mut head)
        .map_err(|source| StoreError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    if head.is_empty() || head == MAGIC {
        Ok(())
    } else {
        Err(corrupt(
            path,
            format!(
                "bytes 0..{} are not the SQLite header \"SQLite format 3\"",
                head.len()
            ),
        ))
    }
}

fn read_counter(conn: &Connection, name: &str) -> Result<i64, StoreError> {
    Ok(conn
        .prepare_cached("SELECT value FROM counters WHERE name = ?1")?
        .query_row([name], |row| row.get(0))?)
}

/// Consumes the next STAN inside the caller's transaction, so it is committed (and can never be
/// handed out again) exactly when the message using it is.
pub(crate) fn consume_stan(tx: &WriteTxn<'_>) -> Result<Stan, StoreError> {
    // Read, then write, inside the caller's write transaction: `UPDATE … RETURNING` would
    // buffer its one row in a temporary table on every request.
    let last: i64 = tx
        .prepare_cached("SELECT value FROM counters WHERE name = 'stan'")?
        .query_row([], |row| row.get(0))?;
    let next = if last >= 999_999 { 1 } else { last + 1 };
    tx.prepare_cached("UPDATE counters SET value = ?1 WHERE name = 'stan'")?
        .execute([next])?;
    stan_from_db(next)
}

pub(crate) fn stan_from_db(value: i64) -> Result<Stan, StoreError> {
    u32::try_from(value)
        .ok()
        .and_then(|v| Stan::new(v).ok())
        .ok_or(StoreError::InvalidValue {
            column: "stan",
            value: value.to_string(),
        })
}

pub(crate) fn batch_from_db(value: i64) -> Result<BatchNo, StoreError> {
    u32::try_from(value)
        .ok()
        .and_then(|v| BatchNo::new(v).ok())
        .ok_or(StoreError::InvalidValue {
            column: "batch_no",
            value: value.to_string(),
        })
}
