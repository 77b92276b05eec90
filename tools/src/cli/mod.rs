//! One module per `smartpos` subcommand; each owns its arguments and its `run`.

pub mod acquirer;
pub mod app;
pub mod chip_config;
pub mod crypto;
pub mod decode;
pub mod decode_wire;
pub mod demo;
mod demo_chip;
mod demo_qr;
mod demo_tap;
pub mod emv;
mod emv_ctls;
pub mod esign;
pub mod explain;
pub mod health;
pub mod journal;
pub mod meanings;
pub mod msglog;
pub mod pay;
pub mod paycode;
pub mod qr;
pub mod recover;
pub mod report;
pub mod reversal;
pub mod risk;
pub mod settle;
pub mod shape;
pub mod sim;
pub mod slip;
pub mod tlv;

use std::fmt;
use std::path::Path;

use smartpos_core::store::StoreError;

/// A CLI failure: one line on stderr naming what is wrong, and the exit code of the CLI policy
/// (README, "CLI policy"): 2 for bad input (a missing journal, a malformed argument), 1 when the
/// operation ran and did not succeed (a payment terminated, settlement not done, health failing,
/// something still owed after recovery) or was refused for the moment (the journal is owned by
/// another process). Never 101.
#[derive(Debug)]
pub struct CliError {
    message: String,
    kind: ErrorKind,
    /// The command already printed its report, which says how it ended: `--json` adds no
    /// error document after it (stdout stays one JSON document).
    reported: bool,
}

/// Which rule of the policy an error falls under; its `code` is the `error.code` of `--json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input was wrong: nothing ran (exit 2).
    BadInput,
    /// Another process owns the journal: try again once it has finished (exit 1).
    Busy,
    /// The operation ran and did not succeed (exit 1).
    NotDone,
}

impl ErrorKind {
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::BadInput => "bad_input",
            ErrorKind::Busy => "busy",
            ErrorKind::NotDone => "not_done",
        }
    }

    pub fn exit_code(self) -> u8 {
        match self {
            ErrorKind::BadInput => 2,
            ErrorKind::Busy | ErrorKind::NotDone => 1,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

impl CliError {
    /// Bad input (exit 2).
    pub fn new(msg: impl Into<String>) -> Self {
        CliError {
            message: msg.into(),
            kind: ErrorKind::BadInput,
            reported: false,
        }
    }

    /// Another process owns the journal: try again once it has finished (exit code 1).
    pub fn busy(msg: impl Into<String>) -> Self {
        CliError {
            message: msg.into(),
            kind: ErrorKind::Busy,
            reported: false,
        }
    }

    /// The operation ran and did not succeed, nothing printed yet (exit 1).
    pub fn not_done(msg: impl Into<String>) -> Self {
        CliError {
            message: msg.into(),
            kind: ErrorKind::NotDone,
            reported: false,
        }
    }

    /// The operation ran, its report is printed and says it did not succeed (exit 1).
    pub fn reported(msg: impl Into<String>) -> Self {
        CliError {
            message: msg.into(),
            kind: ErrorKind::NotDone,
            reported: true,
        }
    }

    /// This error follows a report the command printed, which already says what is wrong.
    pub fn after_report(mut self) -> Self {
        self.reported = true;
        self
    }

    /// Whether the command printed its report before this error.
    pub fn is_reported(&self) -> bool {
        self.reported
    }

    /// The error a journal failure of `db` becomes: "in use" exits 1, everything else 2.
    pub fn journal(db: &Path, e: &StoreError) -> Self {
        let message = format!("journal {}: {e}", db.display());
        match e {
            StoreError::InUse { .. } => CliError::busy(message),
            _ => CliError::new(message),
        }
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn exit_code(&self) -> u8 {
        self.kind.exit_code()
    }

    /// The `--json` error document: one shape for every command,
    /// `{"error": {"code": "bad_input"|"busy"|"not_done", "exit": N, "message": "..."}}`.
    pub fn to_json(&self) -> serde_json::Value {
        error_json(self.kind.code(), self.exit_code(), &self.message)
    }
}

/// The one shape of an error under `--json` (see [`CliError::to_json`]).
pub fn error_json(code: &str, exit: u8, message: &str) -> serde_json::Value {
    serde_json::json!({"error": {"code": code, "exit": exit, "message": message}})
}

pub type CliResult = Result<(), CliError>;

/// `--mac cup-ecb|x919|sm4`: the acquirer's MAC algorithm on the command line.
pub fn parse_mac(name: &str) -> Result<smartpos_core::crypto::MacAlgorithm, String> {
    smartpos_core::host::mac_by_name(name)
        .ok_or_else(|| format!("unknown MAC {name:?}: cup-ecb, x919 or sm4"))
}

/// Commands that work on a terminal's journal refuse a path where there is none: `Journal::open`
/// would create it, and a mistyped path would become an empty journal that signs on with the
/// acquirer. `create` is the command's `--create` flag, `None` for commands without one; only
/// that flag (and `pay`, `demo`) makes a journal.
pub fn existing_journal(db: &Path, create: Option<bool>) -> CliResult {
    if create == Some(true) || db.is_file() {
        return Ok(());
    }
    let hint = if create.is_some() {
        "; --create starts a new journal"
    } else {
        ""
    };
    Err(CliError::new(format!(
        "journal {}: no such file (a terminal that never ran has none: check the path{hint})",
        db.display()
    )))
}
