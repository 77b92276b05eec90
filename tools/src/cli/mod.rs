//! One module per `smartpos` subcommand; each owns its arguments and its `run`.

pub mod acquirer;
pub mod crypto;
pub mod decode;
pub mod demo;
mod demo_qr;
pub mod emv;
pub mod explain;
pub mod health;
pub mod journal;
pub mod pay;
pub mod paycode;
pub mod qr;
pub mod recover;
pub mod report;
pub mod reversal;
pub mod risk;
pub mod settle;
pub mod sim;
pub mod tlv;

use std::fmt;
use std::path::Path;

use smartpos_core::store::StoreError;

/// A CLI failure: one line on stderr naming what is wrong, and the exit code: 2 for bad input
/// (a missing journal, a malformed argument), 1 for a refusal of the moment (the journal is
/// owned by another process).
#[derive(Debug)]
pub struct CliError {
    message: String,
    exit_code: u8,
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

impl CliError {
    pub fn new(msg: impl Into<String>) -> Self {
        CliError {
            message: msg.into(),
            exit_code: 2,
        }
    }

    /// Another process owns the journal: try again once it has finished (exit code 1).
    pub fn busy(msg: impl Into<String>) -> Self {
        CliError {
            message: msg.into(),
            exit_code: 1,
        }
    }

    /// The error a journal failure of `db` becomes: "in use" exits 1, everything else 2.
    pub fn journal(db: &Path, e: &StoreError) -> Self {
        let message = format!("journal {}: {e}", db.display());
        match e {
            StoreError::InUse { .. } => CliError::busy(message),
            _ => CliError::new(message),
        }
    }

    pub fn exit_code(&self) -> u8 {
        self.exit_code
    }
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
