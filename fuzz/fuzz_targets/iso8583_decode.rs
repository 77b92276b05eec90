//! Any bytes through the UnionPay decoders: no panic, and every message that unpacks packs back
//! and unpacks to the same message (so the decoder accepts nothing the encoder cannot express).
#![no_main]

use libfuzzer_sys::fuzz_target;
use smartpos_core::codec::iso8583::{CUPS, Frame};

fuzz_target!(|data: &[u8]| {
    let _ = Frame::decode(data);
    let _ = Frame::decode_body(data);
    if let Ok(msg) = CUPS.unpack(data) {
        let packed = match CUPS.pack(&msg) {
            Ok(p) => p,
            Err(e) => panic!("unpacked message does not re-pack: {e}"),
        };
        match CUPS.unpack(&packed) {
            Ok(again) => assert!(again == msg, "re-packed message unpacks differently"),
            Err(e) => panic!("re-packed message does not unpack: {e}"),
        }
    }
});
