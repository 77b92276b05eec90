//! Any bytes through the UnionPay decoders: no panic, every message that unpacks packs back and
//! unpacks to the same message (so the decoder accepts nothing the encoder cannot express), and
//! the borrowed view agrees with the owned unpacker (same error, or the same message and MAC scope).
#![no_main]

use libfuzzer_sys::fuzz_target;
use smartpos_core::codec::iso8583::{CUPS, Frame, FrameView};

fuzz_target!(|data: &[u8]| {
    let _ = Frame::decode(data);
    match (FrameView::decode_body(data), Frame::decode_body(data)) {
        (Ok(view), Ok(frame)) => {
            assert!(view.message == frame.message, "frame view reads differently");
            assert!(view.message.to_message() == frame.message);
        }
        (Err(a), Err(b)) => assert!(a == b, "frame view fails differently: {a} / {b}"),
        _ => panic!("frame view and frame decode disagree"),
    }
    let view = CUPS.view(data);
    match (&view, CUPS.unpack(data)) {
        (Err(a), Err(b)) => assert!(*a == b, "view fails differently: {a} / {b}"),
        (Ok(view), Ok(msg)) => {
            assert!(*view == msg, "view reads differently");
            for n in msg.field_numbers() {
                assert!(view.text(n).as_deref() == msg.text(n));
                assert!(view.bytes(n) == msg.bytes(n));
                if let Some(t) = msg.text(n) {
                    assert!(view.text_is(n, t));
                }
            }
            let packed = match CUPS.pack(&msg) {
                Ok(p) => p,
                Err(e) => panic!("unpacked message does not re-pack: {e}"),
            };
            match CUPS.unpack(&packed) {
                Ok(again) => assert!(again == msg, "re-packed message unpacks differently"),
                Err(e) => panic!("re-packed message does not unpack: {e}"),
            }
            if let Some((input, tag)) = view.mac_scope() {
                assert!(input.len() + tag.len() == data.len() && tag.len() == 8);
            }
        }
        _ => panic!("view and unpack disagree"),
    }
});
