//! The active rule bundle and hot list of one terminal, replaced only by verified updates.

use super::bundle::{Bundle, BundleError};
use super::context::RiskContext;
use super::counters::Counters;
use super::decision::Decision;
use super::hotlist::{HotList, HotListError};
use super::rules::evaluate;

/// Holds what the rules run on. A rejected update leaves everything as it was.
#[derive(Debug, Clone)]
pub struct RiskEngine {
    bundle: Bundle,
    hot_list: HotList,
    /// Ed25519 public key (32 bytes) that signs bundles and hot-list deltas.
    trusted_key: Vec<u8>,
}

impl RiskEngine {
    /// Starts on the built-in bundle and an empty hot list.
    pub fn new(trusted_key: &[u8]) -> RiskEngine {
        RiskEngine {
            bundle: Bundle::built_in(),
            hot_list: HotList::default(),
            trusted_key: trusted_key.to_vec(),
        }
    }

    pub fn bundle(&self) -> &Bundle {
        &self.bundle
    }

    pub fn hot_list(&self) -> &HotList {
        &self.hot_list
    }

    /// Replaces the hot list wholesale (a snapshot verified elsewhere, tests, benchmarks).
    pub fn set_hot_list(&mut self, list: HotList) {
        self.hot_list = list;
    }

    /// Verifies a signed bundle and makes it active if it is newer than the active one.
    pub fn load_bundle(&mut self, signed: &[u8]) -> Result<u64, BundleError> {
        let next = Bundle::from_signed(signed, &self.trusted_key)?;
        if next.version <= self.bundle.version {
            return Err(BundleError::NotNewer {
                offered: next.version,
                active: self.bundle.version,
            });
        }
        self.bundle = next;
        Ok(self.bundle.version)
    }

    /// Verifies and applies a signed hot-list delta.
    pub fn apply_hot_list_delta(&mut self, signed: &[u8]) -> Result<u64, HotListError> {
        self.hot_list.apply_signed(signed, &self.trusted_key)?;
        Ok(self.hot_list.sequence())
    }

    /// Looks the card up in the hot list, then evaluates.
    pub fn check(&self, mut ctx: RiskContext, counters: &Counters) -> Decision {
        if let Some(card) = ctx.card.as_mut() {
            card.hot_listed = self.hot_list.contains(card.hash);
        }
        evaluate(&self.bundle, &ctx, counters)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::risk::envelope::tests::{other_key, test_key};
    use crate::risk::envelope::{self, EnvelopeError, Kind};
    use ring::signature::KeyPair;

    fn signed(version: u64, key: &ring::signature::Ed25519KeyPair) -> Vec<u8> {
        let mut b = Bundle::built_in();
        b.version = version;
        b.limits.card.max_fen = 12_345;
        envelope::seal(Kind::Bundle, b.to_json().as_bytes(), key)
    }

    #[test]
    fn rejected_bundles_leave_the_active_one() {
        let key = test_key();
        let mut engine = RiskEngine::new(key.public_key().as_ref());
        let v5 = signed(5, &key);
        assert_eq!(engine.load_bundle(&v5).unwrap(), 5);
        let active = engine.bundle().clone();

        let mut tampered = v5.clone();
        let n = tampered.len();
        tampered[n - 10] ^= 0x40;
        type Expect = fn(&BundleError) -> bool;
        let cases: Vec<(Vec<u8>, Expect)> = vec![
            (tampered, |e| {
                matches!(e, BundleError::Envelope(EnvelopeError::BadSignature))
            }),
            (signed(6, &other_key()), |e| {
                matches!(e, BundleError::Envelope(EnvelopeError::BadSignature))
            }),
            (v5.clone(), |e| {
                matches!(
                    e,
                    BundleError::NotNewer {
                        offered: 5,
                        active: 5
                    }
                )
            }),
            (signed(4, &key), |e| {
                matches!(
                    e,
                    BundleError::NotNewer {
                        offered: 4,
                        active: 5
                    }
                )
            }),
            (v5[..v5.len() / 2].to_vec(), |e| {
                matches!(e, BundleError::Envelope(EnvelopeError::Truncated { .. }))
            }),
            (envelope::unsigned(Kind::Bundle, b"{}"), |e| {
                matches!(e, BundleError::Envelope(EnvelopeError::Unsigned { .. }))
            }),
            (
                envelope::seal(Kind::Bundle, b"{\"version\": 9", &key),
                |e| matches!(e, BundleError::Body(_)),
            ),
        ];
        for (bytes, expected) in cases {
            let err = engine.load_bundle(&bytes).unwrap_err();
            assert!(expected(&err), "unexpected {err}");
            assert_eq!(engine.bundle(), &active, "after {err}");
        }
        assert_eq!(engine.load_bundle(&signed(6, &key)).unwrap(), 6);
    }
}
