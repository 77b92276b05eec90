//! The active rule bundle and hot list of one terminal, replaced only by verified updates.
//!
//! An update is verified first ([`RiskEngine::verify_bundle`], [`RiskEngine::verify_hot_list_delta`])
//! and activated after: the terminal journals what it verified in between, so what is active
//! is never something the journal could not bring back after a restart.

use super::bundle::{Bundle, BundleError};
use super::context::RiskContext;
use super::counters::Counters;
use super::decision::Decision;
use super::envelope::{self, EnvelopeError, Kind};
use super::hotlist::{HotList, HotListDelta, HotListError};
use super::keys::TrustedKeys;
use super::rules::evaluate;

/// Holds what the rules run on. A rejected update leaves everything as it was.
#[derive(Debug, Clone)]
pub struct RiskEngine {
    pub(super) bundle: Bundle,
    /// The version the journal records as the last one accepted, when its stored copy could not
    /// be restored (the built-in bundle runs instead): no older bundle may come in meanwhile.
    pub(super) recorded_version: Option<u64>,
    pub(super) hot_list: HotList,
    /// The Ed25519 public keys, by id, that sign bundles and hot-list deltas; empty trusts only
    /// the built-in bundle and refuses every run-time update.
    pub(super) trusted: TrustedKeys,
    /// Why the key given to [`RiskEngine::new`] is unusable; every update is refused with it.
    key_problem: Option<EnvelopeError>,
}

/// A signed bundle that verified and is newer than the active one, not active yet.
#[derive(Debug)]
pub struct VerifiedBundle<'a> {
    bundle: Bundle,
    key_id: &'a str,
    signed: &'a [u8],
}

impl VerifiedBundle<'_> {
    pub fn version(&self) -> u64 {
        self.bundle.version
    }

    /// The id of the key that signed it.
    pub fn key_id(&self) -> &str {
        self.key_id
    }

    /// The envelope as received (what the journal keeps, to verify again at open).
    pub fn signed(&self) -> &[u8] {
        self.signed
    }
}

/// A signed hot-list delta that verified and follows the active list, and the list it makes.
#[derive(Debug)]
pub struct VerifiedDelta<'a> {
    next: HotList,
    key_id: &'a str,
    signed: &'a [u8],
}

impl VerifiedDelta<'_> {
    pub fn sequence(&self) -> u64 {
        self.next.sequence()
    }

    pub fn key_id(&self) -> &str {
        self.key_id
    }

    pub fn signed(&self) -> &[u8] {
        self.signed
    }
}

impl RiskEngine {
    /// Starts on the built-in bundle and an empty hot list, trusting `trusted_key` under its
    /// fingerprint id (see [`TrustedKeys::single`]). A key that is not 32 bytes trusts nothing:
    /// every update is refused with [`EnvelopeError::BadTrustedKey`].
    pub fn new(trusted_key: &[u8]) -> RiskEngine {
        match TrustedKeys::single(trusted_key) {
            Ok(keys) => RiskEngine::with_keys(keys),
            Err(e) => RiskEngine {
                key_problem: Some(e),
                ..RiskEngine::built_in_only()
            },
        }
    }

    /// Starts on the built-in bundle and an empty hot list, trusting `trusted`.
    pub fn with_keys(trusted: TrustedKeys) -> RiskEngine {
        RiskEngine {
            trusted,
            ..RiskEngine::built_in_only()
        }
    }

    /// Starts on the built-in bundle with no fleet key: signed bundles and hot-list deltas are
    /// refused with [`EnvelopeError::NoTrustedKey`].
    pub fn built_in_only() -> RiskEngine {
        RiskEngine {
            bundle: Bundle::built_in(),
            recorded_version: None,
            hot_list: HotList::default(),
            trusted: TrustedKeys::none(),
            key_problem: None,
        }
    }

    fn keys(&self) -> Result<&TrustedKeys, EnvelopeError> {
        match &self.key_problem {
            Some(problem) => Err(problem.clone()),
            None => Ok(&self.trusted),
        }
    }

    pub fn bundle(&self) -> &Bundle {
        &self.bundle
    }

    pub fn hot_list(&self) -> &HotList {
        &self.hot_list
    }

    pub fn trusted_keys(&self) -> &TrustedKeys {
        &self.trusted
    }

    /// Replaces the hot list wholesale (a snapshot verified elsewhere, tests, benchmarks).
    pub fn set_hot_list(&mut self, list: HotList) {
        self.hot_list = list;
    }

    /// Verifies a signed bundle with the trusted key it names and checks that it is newer than
    /// the active one (and not older than the version the journal records); activates nothing.
    pub fn verify_bundle<'a>(&self, signed: &'a [u8]) -> Result<VerifiedBundle<'a>, BundleError> {
        let opened = envelope::open(signed, Kind::Bundle, self.keys()?)?;
        let next = Bundle::from_json(opened.body)?;
        if next.version <= self.bundle.version {
            return Err(BundleError::NotNewer {
                offered: next.version,
                active: self.bundle.version,
            });
        }
        if let Some(recorded) = self.recorded_version
            && next.version < recorded
        {
            return Err(BundleError::BelowRecorded {
                offered: next.version,
                recorded,
            });
        }
        Ok(VerifiedBundle {
            bundle: next,
            key_id: opened.key_id,
            signed,
        })
    }

    /// Makes a verified bundle active; returns its version.
    pub fn activate_bundle(&mut self, verified: VerifiedBundle<'_>) -> u64 {
        self.bundle = verified.bundle;
        self.recorded_version = None;
        self.bundle.version
    }

    /// Verifies a signed bundle and makes it active if it is newer than the active one.
    pub fn load_bundle(&mut self, signed: &[u8]) -> Result<u64, BundleError> {
        let verified = self.verify_bundle(signed)?;
        Ok(self.activate_bundle(verified))
    }

    /// Verifies a signed hot-list delta and builds the list it makes; activates nothing.
    pub fn verify_hot_list_delta<'a>(
        &self,
        signed: &'a [u8],
    ) -> Result<VerifiedDelta<'a>, HotListError> {
        let keys = self.keys()?;
        let opened = envelope::open(signed, Kind::HotListDelta, keys)?;
        let delta = HotListDelta::decode(opened.body)?;
        Ok(VerifiedDelta {
            next: self.hot_list.applied(&delta)?,
            key_id: opened.key_id,
            signed,
        })
    }

    /// Makes the list of a verified delta active; returns its sequence.
    pub fn activate_hot_list(&mut self, verified: VerifiedDelta<'_>) -> u64 {
        self.hot_list = verified.next;
        self.hot_list.sequence()
    }

    /// Verifies and applies a signed hot-list delta.
    pub fn apply_hot_list_delta(&mut self, signed: &[u8]) -> Result<u64, HotListError> {
        let verified = self.verify_hot_list_delta(signed)?;
        Ok(self.activate_hot_list(verified))
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
    use crate::risk::envelope::tests::{id, other_key, test_key, trust};
    use crate::risk::envelope::{self, EnvelopeError, Kind};

    fn signed(version: u64, key: &ring::signature::Ed25519KeyPair) -> Vec<u8> {
        let mut b = Bundle::built_in();
        b.version = version;
        b.limits.card.max_fen = 12_345;
        envelope::seal(Kind::Bundle, &id("fleet-1"), b.to_json().as_bytes(), key)
    }

    #[test]
    fn rejected_bundles_leave_the_active_one() {
        let key = test_key();
        let mut engine = RiskEngine::with_keys(trust("fleet-1", &key));
        let v5 = signed(5, &key);
        assert_eq!(engine.load_bundle(&v5).unwrap(), 5);
        let active = engine.bundle().clone();

        let mut tampered = v5.clone();
        let n = tampered.len();
        tampered[n - 10] ^= 0x40;
        type Expect = fn(&BundleError) -> bool;
        let cases: Vec<(Vec<u8>, Expect)> = vec![
            (tampered, |e| {
                matches!(e, BundleError::Envelope(EnvelopeError::BadSignature { .. }))
            }),
            (signed(6, &other_key()), |e| {
                matches!(e, BundleError::Envelope(EnvelopeError::BadSignature { .. }))
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
            (
                envelope::unsigned(Kind::Bundle, &id("fleet-1"), b"{}"),
                |e| matches!(e, BundleError::Envelope(EnvelopeError::Unsigned { .. })),
            ),
            (
                envelope::seal(Kind::Bundle, &id("fleet-1"), b"{\"version\": 9", &key),
                |e| matches!(e, BundleError::Body(_)),
            ),
            (
                envelope::seal(Kind::Bundle, &id("retired"), b"{}", &key),
                |e| matches!(e, BundleError::Envelope(EnvelopeError::UnknownKeyId { key_id, .. }) if key_id == "retired"),
            ),
        ];
        for (bytes, expected) in cases {
            let err = engine.load_bundle(&bytes).unwrap_err();
            assert!(expected(&err), "unexpected {err}");
            assert_eq!(engine.bundle(), &active, "after {err}");
        }
        assert_eq!(engine.load_bundle(&signed(6, &key)).unwrap(), 6);
    }

    #[test]
    fn without_a_fleet_key_every_update_is_refused() {
        let key = test_key();
        let mut engine = RiskEngine::built_in_only();
        let err = engine.load_bundle(&signed(2, &key)).unwrap_err();
        assert!(
            matches!(err, BundleError::Envelope(EnvelopeError::NoTrustedKey)),
            "{err}"
        );
        assert!(err.to_string().contains("only the built-in rules"), "{err}");
        assert_eq!(engine.bundle(), &Bundle::built_in());
        let delta = envelope::seal(Kind::HotListDelta, &id("fleet-1"), b"anything", &key);
        assert!(matches!(
            engine.apply_hot_list_delta(&delta),
            Err(HotListError::Envelope(EnvelopeError::NoTrustedKey))
        ));
    }

    #[test]
    fn a_bare_key_is_trusted_under_its_fingerprint_and_a_bad_one_trusts_nothing() {
        use ring::signature::KeyPair;
        let key = test_key();
        let mut engine = RiskEngine::new(key.public_key().as_ref());
        let fingerprint = crate::risk::KeyId::fingerprint(key.public_key().as_ref());
        let mut b = Bundle::built_in();
        b.version = 3;
        let v3 = envelope::seal(Kind::Bundle, &fingerprint, b.to_json().as_bytes(), &key);
        assert_eq!(engine.load_bundle(&v3).unwrap(), 3);

        let mut broken = RiskEngine::new(&[1; 31]);
        assert_eq!(
            broken.load_bundle(&v3),
            Err(BundleError::Envelope(EnvelopeError::BadTrustedKey(31)))
        );
    }

    #[test]
    fn verifying_activates_nothing() {
        let key = test_key();
        let engine = RiskEngine::with_keys(trust("fleet-1", &key));
        let v2 = signed(2, &key);
        let verified = engine.verify_bundle(&v2).unwrap();
        assert_eq!((verified.version(), verified.key_id()), (2, "fleet-1"));
        assert_eq!(verified.signed(), &v2[..]);
        assert_eq!(engine.bundle().version, 1);
    }
}
