//! JSON export (the operators' contract) and the on-disk ledger file.
//!
//! The export is exactly `{"postings": [...], "net_fen": N}`. The saved file is that same
//! document plus a `state` key (accounts by id and masked PAN, message records, counters), so
//! scripts reading `postings`/`net_fen` work on either. PANs and PINs are never written: on
//! load, accounts are re-bound to the demo card table by id.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::model::{Account, Posting};
use super::{DEMO_CARDS, DEMO_PIN, Ledger, Record};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    #[error("ledger file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("ledger file {path} is not valid ledger JSON: {source}")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

#[derive(Serialize)]
struct Export<'a> {
    postings: &'a [Posting],
    net_fen: i64,
}

#[derive(Serialize, Deserialize)]
struct SavedState {
    accounts: Vec<Account>,
    records: Vec<Record>,
    closed_batches: Vec<(String, u32)>,
    next_rrn: u64,
    next_auth: u32,
    today_yymm: String,
}

#[derive(Serialize, Deserialize)]
struct SavedLedger {
    postings: Vec<Posting>,
    net_fen: i64,
    state: SavedState,
}

impl Ledger {
    /// The operators' export: `{"postings": [...], "net_fen": N}`.
    pub fn export_json(&self) -> serde_json::Value {
        serde_json::to_value(Export {
            postings: &self.postings,
            net_fen: self.net_fen(),
        })
        .unwrap_or(serde_json::Value::Null)
    }

    /// Writes the ledger atomically: a temp file in the same directory, fsynced, then renamed
    /// over `path`, so a crash leaves either the old file or the new one.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), LedgerError> {
        let path = path.as_ref();
        let io = |source| LedgerError::Io {
            path: path.to_path_buf(),
            source,
        };
        let doc = SavedLedger {
            postings: self.postings.clone(),
            net_fen: self.net_fen(),
            state: SavedState {
                accounts: self.accounts.values().cloned().collect(),
                records: self.records.clone(),
                closed_batches: self.closed_batches.clone(),
                next_rrn: self.next_rrn,
                next_auth: self.next_auth,
                today_yymm: self.today_yymm.clone(),
            },
        };
        let bytes = serde_json::to_vec_pretty(&doc).map_err(|source| LedgerError::Json {
            path: path.to_path_buf(),
            source,
        })?;
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
        temp.write_all(&bytes).map_err(io)?;
        temp.as_file().sync_all().map_err(io)?;
        temp.persist(path).map_err(|e| io(e.error))?;
        Ok(())
    }

    /// Loads a file written by [`Ledger::save`]. Accounts are re-bound to their PAN and PIN
    /// through the demo card table (by id); an account id not in it keeps its balance but no
    /// card can reach it.
    pub fn load(path: impl AsRef<Path>) -> Result<Ledger, LedgerError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| LedgerError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let doc: SavedLedger =
            serde_json::from_slice(&bytes).map_err(|source| LedgerError::Json {
                path: path.to_path_buf(),
                source,
            })?;
        let mut ledger = Ledger::new();
        for mut account in doc.state.accounts {
            if let Some(&(_, pan, ..)) = DEMO_CARDS.iter().find(|card| card.0 == account.id) {
                account.pan = pan.to_owned();
                account.pin = DEMO_PIN.to_owned();
            }
            ledger.accounts.insert(account.id.clone(), account);
        }
        ledger.records = doc.state.records;
        ledger.postings = doc.postings;
        ledger.closed_batches = doc.state.closed_batches;
        ledger.next_rrn = doc.state.next_rrn;
        ledger.next_auth = doc.state.next_auth;
        ledger.today_yymm = doc.state.today_yymm;
        Ok(ledger)
    }
}
