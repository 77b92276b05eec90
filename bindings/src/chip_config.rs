//! The acquirer's IC parameter and CA public key downloads across the FFI, and what the chip
//! kernel runs on now. A refused download is an outcome, not an exception: the shell shows the
//! merchant that the tables in force are unchanged and which entry the acquirer got wrong.

use smartpos_core::card::oda::CaKeyAlgorithm;
use smartpos_core::txn::{ChipDownload, ChipDownloadError, ChipSet};

use crate::error::{SmartPosError, guard};
use crate::outcome::TerminationRecord;
use crate::terminal::Terminal;

/// Which chip table a download replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ChipTable {
    /// The AID table and its per-AID terminal parameters.
    IcParameters,
    /// The certification authority public keys.
    CaKeys,
}

impl From<ChipSet> for ChipTable {
    fn from(s: ChipSet) -> Self {
        match s {
            ChipSet::IcParameters => ChipTable::IcParameters,
            ChipSet::CaKeys => ChipTable::CaKeys,
        }
    }
}

/// One finished download.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ChipDownloadRecord {
    pub table: ChipTable,
    pub entries: u32,
    /// False when the acquirer listed nothing and the table in force stayed.
    pub applied: bool,
}

impl From<&ChipDownload> for ChipDownloadRecord {
    fn from(d: &ChipDownload) -> Self {
        ChipDownloadRecord {
            table: d.set.into(),
            entries: u32::try_from(d.entries).unwrap_or(u32::MAX),
            applied: d.applied,
        }
    }
}

/// Why the acquirer's data was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ChipDownloadProblem {
    /// A record failed its checks (a CA key's checksum, an expired key, contradictory
    /// parameters).
    BadRecord,
    /// The answers do not follow the download protocol.
    Protocol,
}

/// How an update of the chip tables ended. `done` lists the tables updated before the one
/// that failed; those stay in force, the failed one is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum ChipUpdateOutcome {
    Updated {
        downloads: Vec<ChipDownloadRecord>,
    },
    /// The host could not be reached or refused, or the journal could not keep the table.
    Terminated {
        table: ChipTable,
        termination: TerminationRecord,
        done: Vec<ChipDownloadRecord>,
    },
    Refused {
        table: ChipTable,
        problem: ChipDownloadProblem,
        /// English, for logs and support: the entry and what is wrong with it.
        detail: String,
        done: Vec<ChipDownloadRecord>,
    },
}

/// One CA public key the kernel trusts (public data).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CaKeySummaryRecord {
    /// RID, 10 hex digits.
    pub rid: String,
    pub index: u8,
    /// "rsa" or "sm2".
    pub algorithm: String,
    pub bits: u32,
    /// YYMMDD, where the key has one.
    pub expiry: Option<String>,
    /// Where it came from: a scheme publication, "acquirer download", "test".
    pub source: String,
}

/// What the chip kernel runs on now.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ChipConfigRecord {
    /// The AIDs accepted, hex.
    pub aids: Vec<String>,
    pub ca_keys: Vec<CaKeySummaryRecord>,
}

fn outcome(
    result: Result<ChipDownload, ChipDownloadError>,
    done: &mut Vec<ChipDownloadRecord>,
) -> Option<ChipUpdateOutcome> {
    let e = match result {
        Ok(d) => {
            done.push((&d).into());
            return None;
        }
        Err(e) => e,
    };
    let done = std::mem::take(done);
    Some(match e {
        ChipDownloadError::Terminated { set, termination } => ChipUpdateOutcome::Terminated {
            table: set.into(),
            termination: (*termination).into(),
            done,
        },
        ChipDownloadError::Refused { set, .. } => ChipUpdateOutcome::Refused {
            table: set.into(),
            problem: ChipDownloadProblem::BadRecord,
            detail: e.to_string(),
            done,
        },
        ChipDownloadError::Protocol { set, .. } => ChipUpdateOutcome::Refused {
            table: set.into(),
            problem: ChipDownloadProblem::Protocol,
            detail: e.to_string(),
            done,
        },
        // A kind of failure this build does not name: refused, with its text.
        other => ChipUpdateOutcome::Refused {
            table: ChipTable::CaKeys,
            problem: ChipDownloadProblem::Protocol,
            detail: other.to_string(),
            done,
        },
    })
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

#[uniffi::export]
impl Terminal {
    /// Downloads the acquirer's IC parameters, then its CA public keys (UnionPay network
    /// management), each checked whole, journaled and put in force; they stay in force across
    /// restarts. Blocking: call from a background thread.
    pub fn update_chip_config(&self) -> Result<ChipUpdateOutcome, SmartPosError> {
        guard("Terminal.update_chip_config", || {
            let core = self.core()?;
            let mut done = Vec::new();
            for set in ChipSet::ALL {
                if let Some(ended) = outcome(core.download_chip_set(set), &mut done) {
                    return Ok(ended);
                }
            }
            Ok(ChipUpdateOutcome::Updated { downloads: done })
        })
    }

    /// The AIDs and CA public keys the chip kernel uses now.
    pub fn chip_config(&self) -> Result<ChipConfigRecord, SmartPosError> {
        guard("Terminal.chip_config", || {
            let chip = self.core()?.chip_config();
            Ok(ChipConfigRecord {
                aids: chip.kernel.aids.iter().map(|a| hex_upper(&a.aid)).collect(),
                ca_keys: chip
                    .ca_keys
                    .iter()
                    .map(|k| CaKeySummaryRecord {
                        rid: hex_upper(&k.rid),
                        index: k.index,
                        algorithm: match k.algorithm {
                            CaKeyAlgorithm::Sm2 => "sm2",
                            _ => "rsa",
                        }
                        .into(),
                        bits: u32::try_from(k.modulus.len() * 8).unwrap_or(u32::MAX),
                        expiry: k.expiry_yymmdd.clone(),
                        source: k.source.clone(),
                    })
                    .collect(),
            })
        })
    }
}
