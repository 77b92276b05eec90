//! Any bytes through the risk bundle and hot-list delta parsers, raw and inside a validly signed
//! envelope: no panic; a parsed bundle re-encodes to the same bundle, a parsed delta likewise;
//! a rejected update leaves the engine as it was.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smartpos_core::risk::{
    Bundle, EnvelopeKind, HotList, HotListDelta, RiskEngine, Signer,
};

/// RFC 8032 §7.1 TEST 1 seed.
const SEED: [u8; 32] = [
    0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec, 0x2c, 0xc4,
    0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60,
];

fuzz_target!(|data: &[u8]| {
    let Ok(signer) = Signer::from_seed(&SEED) else {
        return;
    };
    let pk = signer.public_key();

    // Raw bytes as a signed envelope of either kind.
    let mut engine = RiskEngine::new(&pk);
    let before = engine.bundle().clone();
    if engine.load_bundle(data).is_err() {
        assert!(engine.bundle() == &before, "rejected bundle changed the engine");
    }
    let _ = engine.apply_hot_list_delta(data);

    // Raw bytes as a bundle body, then signed so the body parser is reached every time.
    if let Ok(bundle) = Bundle::from_json(data) {
        let again = Bundle::from_json(bundle.to_json().as_bytes());
        assert!(again.ok().as_ref() == Some(&bundle), "bundle does not round-trip");
    }
    let mut engine = RiskEngine::new(&pk);
    let _ = engine.load_bundle(&signer.seal(EnvelopeKind::Bundle, data));

    // Raw bytes as a delta body.
    if let Ok(delta) = HotListDelta::decode(data) {
        let again = HotListDelta::decode(&delta.encode());
        assert!(again.ok().as_ref() == Some(&delta), "delta does not round-trip");
        let mut list = HotList::default();
        let _ = list.apply(&delta);
    }
    let mut list = HotList::default();
    let signed = signer.seal(EnvelopeKind::HotListDelta, data);
    let _ = list.apply_signed(&signed, engine.trusted_keys());
});
