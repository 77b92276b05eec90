//! Bringing the risk state back at open from what the journal kept: the active bundle and every
//! hot-list delta, each as the signed bytes received, verified again with today's trusted keys.
//!
//! Why the signed bytes and not a parsed copy: the journal is a file on the device, and a row
//! the terminal wrote itself carries no proof of where it came from. Stored as received, each
//! bundle and delta proves itself again at every open with the fleet's key, exactly as it did
//! when it arrived, and a changed byte is found. For the hot list that means replaying the
//! deltas rather than keeping the entries: an entry list could only be protected by a tag the
//! terminal makes itself. Replay costs one signature check per delta and a hash-set pass over
//! the entries ([`Replay`]).
//!
//! Nothing is restored silently wrong: what does not verify is left out, named in a
//! [`RestoreProblem`], and the terminal runs the built-in bundle (or the hot list as of the last
//! delta that verified, as a terminal that had not yet received the rest would).

use super::bundle::{Bundle, BundleError};
use super::engine::RiskEngine;
use super::hotlist::{HotListDelta, HotListError, Replay};
use super::keys::TrustedKeys;

/// The bundle row of the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBundle {
    /// The version the journal recorded when it accepted the bundle.
    pub version: u64,
    /// The envelope as received.
    pub signed: Vec<u8>,
}

/// One applied hot-list delta as the journal keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDelta {
    pub sequence: u64,
    pub signed: Vec<u8>,
}

/// Everything the journal keeps of a terminal's risk state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredRiskState {
    pub bundle: Option<StoredBundle>,
    /// In ascending sequence.
    pub deltas: Vec<StoredDelta>,
}

/// Why part of the stored risk state was not restored. Logged at open and kept for the status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RestoreProblem {
    #[error(
        "stored rule bundle version {version} refused, running the built-in rules (version \
         {running}) and refusing bundles older than {version}: {reason}"
    )]
    Bundle {
        version: u64,
        running: u64,
        reason: BundleError,
    },
    #[error(
        "stored hot-list delta {sequence} refused, hot list restored to sequence {kept}; the next \
         delta accepted is {}: {reason}", kept + 1
    )]
    HotList {
        sequence: u64,
        kept: u64,
        reason: HotListError,
    },
    #[error(
        "stored risk state could not be read, running the built-in rules and an empty hot list: \
         {0}"
    )]
    Unreadable(String),
}

impl RiskEngine {
    /// An engine trusting `trusted` with what `stored` holds that still verifies, and why the
    /// rest was left out.
    pub fn restore(
        trusted: TrustedKeys,
        stored: &StoredRiskState,
    ) -> (RiskEngine, Vec<RestoreProblem>) {
        let mut engine = RiskEngine::with_keys(trusted);
        let mut problems = Vec::new();
        if let Some(b) = &stored.bundle
            && let Err(reason) = engine.restore_bundle(b)
        {
            engine.recorded_version = Some(b.version);
            problems.push(RestoreProblem::Bundle {
                version: b.version,
                running: engine.bundle.version,
                reason,
            });
        }
        if let Err(p) = engine.restore_hot_list(&stored.deltas) {
            problems.push(p);
        }
        (engine, problems)
    }

    fn restore_bundle(&mut self, stored: &StoredBundle) -> Result<(), BundleError> {
        let bundle = Bundle::from_signed(&stored.signed, &self.trusted)?;
        if bundle.version != stored.version {
            return Err(BundleError::Invalid(format!(
                "the journal records version {} but the signed bundle is version {}",
                stored.version, bundle.version
            )));
        }
        // A software update may have shipped newer built-in rules than the fleet's last bundle:
        // the newer rules run, and the fleet's next bundle must be newer than them.
        if bundle.version <= self.bundle.version {
            log::info!(
                "risk: stored bundle version {} is not newer than the built-in version {}; \
                 running the built-in rules",
                bundle.version,
                self.bundle.version
            );
            return Ok(());
        }
        self.bundle = bundle;
        Ok(())
    }

    fn restore_hot_list(&mut self, deltas: &[StoredDelta]) -> Result<(), RestoreProblem> {
        let mut replay = Replay::new();
        let mut outcome = Ok(());
        for stored in deltas {
            let applied = HotListDelta::open(&stored.signed, &self.trusted).and_then(|delta| {
                if delta.sequence != stored.sequence {
                    // The row says one sequence, the signed bytes another: the row was edited.
                    return Err(HotListError::Gap {
                        offered: delta.sequence,
                        expected: stored.sequence,
                    });
                }
                replay.apply(&delta)
            });
            if let Err(reason) = applied {
                outcome = Err(RestoreProblem::HotList {
                    sequence: stored.sequence,
                    kept: replay.sequence(),
                    reason,
                });
                break;
            }
        }
        self.hot_list = replay.finish();
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::risk::context::CardHash;
    use crate::risk::envelope::tests::{id, other_key, test_key, trust};
    use crate::risk::envelope::{self, EnvelopeError, Kind};

    fn bundle(version: u64) -> StoredBundle {
        let mut b = Bundle::built_in();
        b.version = version;
        b.limits.card.max_fen = 4_321;
        StoredBundle {
            version,
            signed: envelope::seal(
                Kind::Bundle,
                &id("fleet-1"),
                b.to_json().as_bytes(),
                &test_key(),
            ),
        }
    }

    fn delta(sequence: u64, add: &[u64]) -> StoredDelta {
        let d = HotListDelta {
            sequence,
            add: add.iter().copied().map(CardHash).collect(),
            remove: vec![],
        };
        StoredDelta {
            sequence,
            signed: envelope::seal(Kind::HotListDelta, &id("fleet-1"), &d.encode(), &test_key()),
        }
    }

    #[test]
    fn what_verifies_comes_back() {
        let stored = StoredRiskState {
            bundle: Some(bundle(5)),
            deltas: vec![delta(1, &[10, 11]), delta(2, &[12])],
        };
        let (engine, problems) = RiskEngine::restore(trust("fleet-1", &test_key()), &stored);
        assert_eq!(problems, vec![]);
        assert_eq!(engine.bundle().version, 5);
        assert_eq!(engine.bundle().limits.card.max_fen, 4_321);
        assert_eq!(engine.hot_list().sequence(), 2);
        assert!(engine.hot_list().contains(CardHash(12)));
        assert_eq!(engine.hot_list().len(), 3);
    }

    #[test]
    fn a_tampered_bundle_falls_back_to_the_built_in_one_and_keeps_the_floor() {
        let mut b = bundle(5);
        // The card maximum in the body: 4321 → 9321.
        let at = b.signed.windows(4).position(|w| w == b"4321").unwrap();
        b.signed[at] = b'9';
        let stored = StoredRiskState {
            bundle: Some(b),
            deltas: vec![],
        };
        let (mut engine, problems) = RiskEngine::restore(trust("fleet-1", &test_key()), &stored);
        assert_eq!(
            problems,
            vec![RestoreProblem::Bundle {
                version: 5,
                running: 1,
                reason: BundleError::Envelope(EnvelopeError::BadSignature {
                    key_id: "fleet-1".into()
                }),
            }]
        );
        assert_eq!(engine.bundle(), &Bundle::built_in());
        // Version 4 would be a rollback past what the journal recorded; 5 itself restores it.
        assert_eq!(
            engine.load_bundle(&bundle(4).signed),
            Err(BundleError::BelowRecorded {
                offered: 4,
                recorded: 5
            })
        );
        assert_eq!(engine.load_bundle(&bundle(5).signed), Ok(5));
        assert_eq!(
            engine.load_bundle(&bundle(5).signed),
            Err(BundleError::NotNewer {
                offered: 5,
                active: 5
            })
        );
    }

    #[test]
    fn an_edited_version_column_or_a_retired_key_is_refused() {
        let mut b = bundle(5);
        b.version = 9;
        let (engine, problems) = RiskEngine::restore(
            trust("fleet-1", &test_key()),
            &StoredRiskState {
                bundle: Some(b),
                deltas: vec![],
            },
        );
        assert!(matches!(
            &problems[..],
            [RestoreProblem::Bundle {
                version: 9,
                reason: BundleError::Invalid(_),
                ..
            }]
        ));
        assert_eq!(engine.bundle().version, 1);

        // The key that signed the stored bundle is no longer trusted.
        let (_, problems) = RiskEngine::restore(
            trust("fleet-2", &other_key()),
            &StoredRiskState {
                bundle: Some(bundle(5)),
                deltas: vec![],
            },
        );
        assert!(
            problems[0].to_string().contains("not a trusted key"),
            "{}",
            problems[0]
        );
    }

    #[test]
    fn a_stored_bundle_older_than_the_built_in_one_is_not_a_problem() {
        let (engine, problems) = RiskEngine::restore(
            trust("fleet-1", &test_key()),
            &StoredRiskState {
                bundle: Some(bundle(1)),
                deltas: vec![],
            },
        );
        assert_eq!(problems, vec![]);
        assert_eq!(engine.bundle(), &Bundle::built_in());
    }

    #[test]
    fn the_hot_list_stops_at_the_first_delta_that_does_not_verify() {
        let mut second = delta(2, &[12]);
        let n = second.signed.len();
        second.signed[n - 1] ^= 1;
        let stored = StoredRiskState {
            bundle: None,
            deltas: vec![delta(1, &[10]), second, delta(3, &[13])],
        };
        let (mut engine, problems) = RiskEngine::restore(trust("fleet-1", &test_key()), &stored);
        assert!(
            matches!(
                &problems[..],
                [RestoreProblem::HotList {
                    sequence: 2,
                    kept: 1,
                    reason: HotListError::Envelope(EnvelopeError::BadSignature { .. })
                }]
            ),
            "{problems:?}"
        );
        assert!(problems[0].to_string().contains("next delta accepted is 2"));
        assert_eq!(engine.hot_list().sequence(), 1);
        assert!(engine.hot_list().contains(CardHash(10)));
        assert!(!engine.hot_list().contains(CardHash(13)));
        // The back office resends from 2; 3 is a gap until then.
        assert!(matches!(
            engine.apply_hot_list_delta(&delta(3, &[13]).signed),
            Err(HotListError::Gap {
                offered: 3,
                expected: 2
            })
        ));
        assert_eq!(engine.apply_hot_list_delta(&delta(2, &[12]).signed), Ok(2));
    }

    #[test]
    fn a_missing_or_renumbered_delta_is_found() {
        let (engine, problems) = RiskEngine::restore(
            trust("fleet-1", &test_key()),
            &StoredRiskState {
                bundle: None,
                deltas: vec![delta(1, &[10]), delta(3, &[13])],
            },
        );
        assert!(matches!(
            &problems[..],
            [RestoreProblem::HotList {
                sequence: 3,
                kept: 1,
                reason: HotListError::Gap {
                    offered: 3,
                    expected: 2
                }
            }]
        ));
        assert_eq!(engine.hot_list().sequence(), 1);

        let mut renumbered = delta(2, &[12]);
        renumbered.sequence = 7;
        let (_, problems) = RiskEngine::restore(
            trust("fleet-1", &test_key()),
            &StoredRiskState {
                bundle: None,
                deltas: vec![delta(1, &[10]), renumbered],
            },
        );
        assert!(matches!(
            &problems[..],
            [RestoreProblem::HotList {
                sequence: 7,
                kept: 1,
                ..
            }]
        ));
    }

    #[test]
    fn without_keys_nothing_stored_is_trusted_and_each_part_says_so() {
        let stored = StoredRiskState {
            bundle: Some(bundle(5)),
            deltas: vec![delta(1, &[10])],
        };
        let (engine, problems) = RiskEngine::restore(TrustedKeys::none(), &stored);
        assert_eq!(problems.len(), 2);
        assert!(
            problems
                .iter()
                .all(|p| p.to_string().contains("no fleet signing key")),
            "{problems:?}"
        );
        assert_eq!(engine.bundle().version, 1);
        assert!(engine.hot_list().is_empty());
    }
}
