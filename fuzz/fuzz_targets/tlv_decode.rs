//! Any bytes through the BER-TLV parser: no panic, and whatever parses encodes to bytes that
//! parse to the same objects.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smartpos_core::codec::tlv;

fuzz_target!(|data: &[u8]| {
    if let Ok(objects) = tlv::parse(data) {
        let encoded = tlv::encode(&objects);
        match tlv::parse(&encoded) {
            Ok(again) => assert!(again == objects, "encoded TLV parses differently"),
            Err(e) => panic!("encoded TLV does not parse: {e}"),
        }
    }
});
