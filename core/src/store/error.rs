use std::path::PathBuf;

/// Why a journal operation failed. Messages name the table/column or file at fault and never
/// carry card data (the store never holds clear PANs in the first place).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database file failed its integrity check or is not a SQLite database at all.
    /// Recovery is [`crate::store::Journal::quarantine`] then a fresh journal.
    #[error("journal {path} is corrupt: {detail}")]
    Corrupt { path: PathBuf, detail: String },
    /// Another process (or another journal object of this process) owns the journal: a second
    /// owner would run recovery under a payment still in flight. `holder_pid` is the owner's
    /// process id where it could be read.
    #[error(
        "journal {path} is in use by another process{}; only one may own a journal at a time",
        holder_pid.map(|p| format!(" (pid {p})")).unwrap_or_default()
    )]
    InUse {
        path: PathBuf,
        holder_pid: Option<u32>,
    },
    /// SQLITE_FULL: the device (or the configured page limit) has no room for the write.
    /// Nothing of the failed write was committed.
    #[error("journal disk full: the write was rolled back")]
    DiskFull,
    /// The file was written by a newer build; opening it would risk misreading it.
    #[error("journal schema version {found} is newer than this build supports ({supported})")]
    SchemaTooNew { found: i64, supported: i64 },
    /// An `attempt_id` was reused: the caller must look the earlier attempt up instead.
    #[error("attempt id {attempt_id:?} already exists in the journal")]
    DuplicateAttempt { attempt_id: String },
    #[error("transaction {id} not found in the journal")]
    NotFound { id: i64 },
    /// A stored value cannot be read back as its domain type (e.g. an unknown state name).
    #[error("journal column {column} holds an invalid value {value:?}")]
    InvalidValue { column: &'static str, value: String },
    /// A caller-supplied value is out of its domain range.
    #[error("invalid {what}: {detail}")]
    InvalidInput { what: &'static str, detail: String },
    #[error("journal file operation on {path} failed: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("journal SQLite error: {0}")]
    Sqlite(#[source] rusqlite::Error),
}

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match err.sqlite_error_code() {
            Some(ErrorCode::DiskFull) => StoreError::DiskFull,
            Some(ErrorCode::DatabaseCorrupt) | Some(ErrorCode::NotADatabase) => {
                StoreError::Corrupt {
                    path: PathBuf::new(),
                    detail: err.to_string(),
                }
            }
            _ => StoreError::Sqlite(err),
        }
    }
}
