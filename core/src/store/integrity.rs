//! The journal's integrity check (`PRAGMA quick_check`), run either before open returns or on a
//! thread of its own while the terminal starts.
//!
//! `quick_check` reads every page, so its cost grows with the journal (about 50 ms for 100,000
//! transactions on a 2-core host). Running it in the background lets open and recovery return
//! in a few milliseconds, and costs no safety: [`super::Journal`]'s single write door waits for
//! the verdict, and every side effect of the engine (a request, a reversal, an advice) is preceded
//! by a journal write, so nothing leaves the terminal on a journal not yet found sound.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver};
use std::thread::JoinHandle;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags};

use super::StoreError;

/// Where the check stands for one open journal.
#[derive(Debug)]
pub(crate) enum Integrity {
    Sound,
    /// Not checked yet (the background check could not give a verdict): the next settle checks
    /// on the journal's own connection.
    Unchecked,
    Pending(Background),
    /// What `quick_check` (or SQLite while checking) reported.
    Failed(String),
}

type Finding = Result<Option<String>, rusqlite::Error>;

#[derive(Debug)]
pub(crate) struct Background {
    verdict: Receiver<Finding>,
    /// Taken when the verdict is settled; joined on drop otherwise.
    worker: Option<JoinHandle<()>>,
}

/// A journal closed (or whose open failed) before the verdict was needed still waits for its
/// checker: a detached checker could go on opening the file, and create its `-shm`, after the
/// caller has moved or deleted the journal's folder.
impl Drop for Background {
    fn drop(&mut self) {
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

impl Integrity {
    /// Starts `quick_check` on its own read-only connection (WAL lets it read beside the
    /// writer). A thread that cannot start leaves the journal unchecked, never sound.
    pub(crate) fn check_in_background(path: &Path) -> Integrity {
        let (send, verdict) = mpsc::channel();
        let path: PathBuf = path.to_path_buf();
        let spawned = std::thread::Builder::new()
            .name("journal-check".into())
            .spawn(move || {
                let finding = Connection::open_with_flags(
                    &path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .and_then(|conn| {
                    // A reader should never checkpoint; make sure, since the WAL is evidence
                    // if the file turns out corrupt.
                    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)?;
                    quick_check(&conn)
                });
                // The journal may have been dropped meanwhile; then nobody needs the verdict.
                let _ = send.send(finding);
            });
        match spawned {
            Ok(worker) => Integrity::Pending(Background {
                verdict,
                worker: Some(worker),
            }),
            Err(e) => {
                log::warn!("journal integrity check could not start in the background: {e}");
                Integrity::Unchecked
            }
        }
    }

    /// Blocks until the verdict is known and returns it; later calls return at once. `conn` is
    /// the journal's own connection, used when no background verdict is available.
    pub(crate) fn settle(&mut self, conn: &Connection) -> Result<(), StoreError> {
        let finding = match std::mem::replace(self, Integrity::Unchecked) {
            Integrity::Sound => Ok(None),
            Integrity::Failed(detail) => Ok(Some(detail)),
            Integrity::Unchecked => quick_check(conn),
            Integrity::Pending(mut background) => {
                let received = background.verdict.recv();
                if let Some(worker) = background.worker.take() {
                    let _ = worker.join();
                }
                match received {
                    Ok(Ok(finding)) => Ok(finding),
                    Ok(Err(e)) if is_corruption(&e) => Ok(Some(e.to_string())),
                    // The checker could not read the file (descriptor limit, lock): check here.
                    _ => quick_check(conn),
                }
            }
        };
        match finding {
            Ok(None) => {
                *self = Integrity::Sound;
                Ok(())
            }
            Ok(Some(detail)) => {
                *self = Integrity::Failed(detail.clone());
                Err(StoreError::Corrupt {
                    path: PathBuf::new(),
                    detail,
                })
            }
            // Stays `Unchecked`: a passing I/O problem must not pass for a verdict either way.
            Err(e) => Err(e.into()),
        }
    }

    pub(crate) fn is_pending(&self) -> bool {
        matches!(self, Integrity::Pending(_))
    }
}

fn is_corruption(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
    )
}

/// `PRAGMA quick_check`: `None` when SQLite answers the single row "ok", else its findings.
pub(crate) fn quick_check(conn: &Connection) -> Finding {
    let rows: Vec<String> = conn
        .prepare("PRAGMA quick_check")?
        .query_map([], |row| row.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    if rows.len() == 1 && rows[0] == "ok" {
        Ok(None)
    } else {
        Ok(Some(rows.join("; ")))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    use super::*;

    /// Dropping a journal whose check is still running waits for the checker, so nothing
    /// touches the journal's folder after the journal is gone.
    #[test]
    fn a_dropped_pending_check_waits_for_its_checker() {
        let finished = Arc::new(AtomicBool::new(false));
        let (send, verdict) = mpsc::channel();
        let flag = finished.clone();
        let worker = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            flag.store(true, Ordering::SeqCst);
            let _ = send.send(Ok(None));
        });
        drop(Integrity::Pending(Background {
            verdict,
            worker: Some(worker),
        }));
        assert!(finished.load(Ordering::SeqCst));
    }
}
