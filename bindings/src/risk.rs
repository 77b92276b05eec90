//! Risk updates across the FFI: signed rule bundles and hot-list deltas from the fleet, the
//! trusted keys that verify them, and what the pre-check runs on now. Every refusal is typed
//! ([`RiskUpdateProblem`]) so the shell can tell a replay from a forgery from a missing delta.

use smartpos_core::risk::{
    BundleError, EnvelopeError, HotListError, KeyId, RestoreProblem, TrustedKey, TrustedKeys,
};
use smartpos_core::txn::{RiskStatus, RiskUpdateError};

use crate::error::{SmartPosError, guard};
use crate::terminal::Terminal;

/// One fleet public key the terminal trusts, under the id the signed envelopes name.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RiskTrustedKeyRecord {
    /// 1–32 characters of `A-Z a-z 0-9 . _ -`, as the back office signs with
    /// (`smartpos risk bundle sign --key-id`).
    pub key_id: String,
    /// Ed25519 public key, 32 bytes (not secret).
    pub public_key: Vec<u8>,
}

/// The configuration's keys as the core's set: `single` (the older one-key field, under its
/// fingerprint id) first, then the list. A bad entry is a `Config` error naming it.
pub(crate) fn trusted_keys(
    single: Option<&[u8]>,
    keys: &[RiskTrustedKeyRecord],
) -> Result<TrustedKeys, SmartPosError> {
    let config = |field: String, e: EnvelopeError| SmartPosError::Config {
        detail: format!("{field}: {e}"),
    };
    let mut set = match single {
        Some(key) => TrustedKeys::single(key).map_err(|e| config("risk_trusted_key".into(), e))?,
        None => TrustedKeys::none(),
    };
    for (i, k) in keys.iter().enumerate() {
        let field = || format!("risk_trusted_keys[{i}]");
        let key = KeyId::new(&k.key_id)
            .and_then(|id| TrustedKey::new(id, &k.public_key))
            .map_err(|e| config(field(), e))?;
        set.insert(key).map_err(|e| config(field(), e))?;
    }
    Ok(set)
}

/// Why a signed rule bundle or hot-list delta was refused. Nothing changed on the terminal.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
#[non_exhaustive]
pub enum RiskUpdateProblem {
    /// Risk checks are off on this terminal (`riskChecks = false`).
    NotEnabled,
    /// No fleet key is configured: only the built-in rules are trusted.
    NoTrustedKey,
    /// Signed under a key id the terminal does not trust (not configured, or retired).
    UnknownKeyId {
        key_id: String,
        trusted: Vec<String>,
    },
    /// The signature does not verify with the key its id names: altered, or signed by another
    /// key under that name.
    BadSignature { key_id: String },
    /// An envelope of the older format without a key id: re-sign it with one.
    NoKeyId,
    /// Not a signed update of the expected kind: cut short, extended, or a body that does not
    /// parse.
    Malformed,
    /// A bundle whose thresholds contradict each other.
    InvalidBundle,
    /// Not newer than what the terminal holds (a replay, or a rollback): `active` is the
    /// version or sequence it holds — for a bundle, the version its journal recorded even when
    /// the built-in rules stand in for a stored bundle that failed its check at open.
    NotNewer { offered: u64, active: u64 },
    /// A hot-list delta that skips ahead: `expected` is the one the terminal needs first.
    SequenceGap { offered: u64, expected: u64 },
    /// The hot list would hold more cards than it may.
    TooLarge,
    /// A reason this version of the bindings does not know by name (see the detail).
    Other,
}

impl From<&EnvelopeError> for RiskUpdateProblem {
    fn from(e: &EnvelopeError) -> Self {
        match e {
            EnvelopeError::NoTrustedKey => RiskUpdateProblem::NoTrustedKey,
            EnvelopeError::UnknownKeyId { key_id, trusted } => RiskUpdateProblem::UnknownKeyId {
                key_id: key_id.clone(),
                trusted: trusted.clone(),
            },
            EnvelopeError::BadSignature { key_id } => RiskUpdateProblem::BadSignature {
                key_id: key_id.clone(),
            },
            EnvelopeError::NoKeyId => RiskUpdateProblem::NoKeyId,
            EnvelopeError::Truncated { .. }
            | EnvelopeError::BadMagic
            | EnvelopeError::WrongKind { .. }
            | EnvelopeError::InvalidKeyId { .. }
            | EnvelopeError::Unsigned { .. }
            | EnvelopeError::TrailingBytes { .. } => RiskUpdateProblem::Malformed,
            _ => RiskUpdateProblem::Other,
        }
    }
}

impl From<&BundleError> for RiskUpdateProblem {
    fn from(e: &BundleError) -> Self {
        match e {
            BundleError::Envelope(e) => e.into(),
            BundleError::Body(_) => RiskUpdateProblem::Malformed,
            BundleError::Invalid(_) => RiskUpdateProblem::InvalidBundle,
            BundleError::NotNewer { offered, active } => RiskUpdateProblem::NotNewer {
                offered: *offered,
                active: *active,
            },
            BundleError::BelowRecorded { offered, recorded } => RiskUpdateProblem::NotNewer {
                offered: *offered,
                active: *recorded,
            },
            _ => RiskUpdateProblem::Other,
        }
    }
}

impl From<&HotListError> for RiskUpdateProblem {
    fn from(e: &HotListError) -> Self {
        match e {
            HotListError::Envelope(e) => e.into(),
            HotListError::Truncated { .. }
            | HotListError::BadOperation { .. }
            | HotListError::CountMismatch { .. } => RiskUpdateProblem::Malformed,
            HotListError::NotNewer { offered, active } => RiskUpdateProblem::NotNewer {
                offered: *offered,
                active: *active,
            },
            HotListError::Gap { offered, expected } => RiskUpdateProblem::SequenceGap {
                offered: *offered,
                expected: *expected,
            },
            HotListError::TooLarge(_) => RiskUpdateProblem::TooLarge,
            _ => RiskUpdateProblem::Other,
        }
    }
}

impl From<RiskUpdateError> for SmartPosError {
    fn from(e: RiskUpdateError) -> Self {
        // The update verified but could not be kept: a journal problem, not a refusal.
        if let RiskUpdateError::Journal(store) = e {
            return store.into();
        }
        let problem = match &e {
            RiskUpdateError::NotEnabled => RiskUpdateProblem::NotEnabled,
            RiskUpdateError::Bundle(b) => b.into(),
            RiskUpdateError::HotList(h) => h.into(),
            _ => RiskUpdateProblem::Other,
        };
        SmartPosError::RiskUpdateRefused {
            problem,
            detail: e.to_string(),
        }
    }
}

/// Which part of the stored risk state a restore problem concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum RiskStatePart {
    /// The stored rule bundle: the built-in rules run instead.
    Bundle,
    /// A stored hot-list delta: the hot list stands as of the delta before it.
    HotList,
    /// The journal's risk rows could not be read at all.
    Journal,
}

/// Something the journal kept that did not come back when the terminal opened.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RiskRestoreProblemRecord {
    pub part: RiskStatePart,
    pub problem: RiskUpdateProblem,
    /// What was refused and why, and what runs instead (English, for logs and support).
    pub detail: String,
}

impl From<&RestoreProblem> for RiskRestoreProblemRecord {
    fn from(p: &RestoreProblem) -> Self {
        let (part, problem) = match p {
            RestoreProblem::Bundle { reason, .. } => (RiskStatePart::Bundle, reason.into()),
            RestoreProblem::HotList { reason, .. } => (RiskStatePart::HotList, reason.into()),
            _ => (RiskStatePart::Journal, RiskUpdateProblem::Other),
        };
        RiskRestoreProblemRecord {
            part,
            problem,
            detail: p.to_string(),
        }
    }
}

/// What the risk pre-check runs on now.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RiskStatusRecord {
    pub bundle_version: u64,
    /// The built-in rules run: nothing newer was loaded, or the stored bundle was refused.
    pub built_in: bool,
    /// Sequence of the last hot-list delta applied; 0 for none.
    pub hot_list_sequence: u64,
    pub hot_list_entries: u64,
    pub trusted_key_ids: Vec<String>,
    /// Empty when everything the journal kept came back at open.
    pub restore_problems: Vec<RiskRestoreProblemRecord>,
}

impl From<RiskStatus> for RiskStatusRecord {
    fn from(s: RiskStatus) -> Self {
        RiskStatusRecord {
            bundle_version: s.bundle_version,
            built_in: s.built_in,
            hot_list_sequence: s.hot_list_sequence,
            hot_list_entries: s.hot_list_entries as u64,
            trusted_key_ids: s.trusted_key_ids,
            restore_problems: s.restore_problems.iter().map(Into::into).collect(),
        }
    }
}

#[uniffi::export]
impl Terminal {
    /// Verifies a signed rule bundle with the trusted key it names and, once the journal has
    /// kept it, makes it active; returns its version. It stays active across restarts, and an
    /// older or equal version is refused after it (`RiskUpdateRefused`, `NotNewer`).
    pub fn load_risk_bundle(&self, bytes: Vec<u8>) -> Result<u64, SmartPosError> {
        guard("Terminal.load_risk_bundle", || {
            Ok(self.core()?.load_risk_bundle(&bytes)?)
        })
    }

    /// Verifies a signed hot-list delta and, once the journal has kept it, applies it; returns
    /// its sequence. Only the delta right after the last one applied is accepted, across
    /// restarts too (`NotNewer`, `SequenceGap`).
    pub fn apply_hot_list_delta(&self, bytes: Vec<u8>) -> Result<u64, SmartPosError> {
        guard("Terminal.apply_hot_list_delta", || {
            Ok(self.core()?.apply_hot_list_delta(&bytes)?)
        })
    }

    /// The bundle version and hot list the pre-check runs on, and what the journal kept that
    /// did not come back at open; null while risk checks are off.
    pub fn risk_status(&self) -> Result<Option<RiskStatusRecord>, SmartPosError> {
        guard("Terminal.risk_status", || {
            Ok(self.core()?.risk_status().map(Into::into))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, key: &[u8]) -> RiskTrustedKeyRecord {
        RiskTrustedKeyRecord {
            key_id: id.into(),
            public_key: key.to_vec(),
        }
    }

    fn config_detail(r: Result<TrustedKeys, SmartPosError>) -> String {
        match r {
            Err(SmartPosError::Config { detail }) => detail,
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    #[test]
    fn the_configured_keys_become_one_set_and_each_bad_one_is_named() {
        let set = trusted_keys(Some(&[1; 32]), &[record("fleet-2", &[2; 32])]).unwrap();
        assert_eq!(
            set.ids(),
            vec![
                KeyId::fingerprint(&[1; 32]).to_string(),
                "fleet-2".to_owned()
            ]
        );
        let d = config_detail(trusted_keys(
            None,
            &[record("a", &[2; 32]), record("a", &[3; 32])],
        ));
        assert!(
            d.starts_with("risk_trusted_keys[1]") && d.contains("share the id"),
            "{d}"
        );
        let d = config_detail(trusted_keys(None, &[record("bad id", &[2; 32])]));
        assert!(d.starts_with("risk_trusted_keys[0]"), "{d}");
        let d = config_detail(trusted_keys(None, &[record("a", &[2; 31])]));
        assert!(d.contains("32 bytes"), "{d}");
        let d = config_detail(trusted_keys(Some(&[1; 5]), &[]));
        assert!(d.starts_with("risk_trusted_key:"), "{d}");
    }

    #[test]
    fn each_refusal_keeps_its_kind_and_numbers() {
        let refused = |e: RiskUpdateError| match SmartPosError::from(e) {
            SmartPosError::RiskUpdateRefused { problem, .. } => problem,
            other => panic!("expected RiskUpdateRefused, got {other:?}"),
        };
        assert_eq!(
            refused(RiskUpdateError::NotEnabled),
            RiskUpdateProblem::NotEnabled
        );
        assert_eq!(
            refused(
                BundleError::BelowRecorded {
                    offered: 2,
                    recorded: 5
                }
                .into()
            ),
            RiskUpdateProblem::NotNewer {
                offered: 2,
                active: 5
            }
        );
        assert_eq!(
            refused(
                HotListError::Gap {
                    offered: 4,
                    expected: 2
                }
                .into()
            ),
            RiskUpdateProblem::SequenceGap {
                offered: 4,
                expected: 2
            }
        );
        assert_eq!(
            refused(
                BundleError::Envelope(EnvelopeError::UnknownKeyId {
                    key_id: "x".into(),
                    trusted: vec!["fleet-1".into()]
                })
                .into()
            ),
            RiskUpdateProblem::UnknownKeyId {
                key_id: "x".into(),
                trusted: vec!["fleet-1".into()]
            }
        );
        assert_eq!(
            refused(HotListError::Envelope(EnvelopeError::NoKeyId).into()),
            RiskUpdateProblem::NoKeyId
        );
        assert_eq!(
            refused(BundleError::Body("eof".into()).into()),
            RiskUpdateProblem::Malformed
        );
        // A journal that could not keep the update is a journal error, not a refusal.
        assert!(matches!(
            SmartPosError::from(RiskUpdateError::Journal(
                smartpos_core::store::StoreError::DiskFull
            )),
            SmartPosError::Journal { .. }
        ));
    }
}
