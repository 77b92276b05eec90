//! Any bytes through the EMVCo consumer-presented decoder, raw and as base64 text, and through
//! payment-code recognition: no panic, and nothing decoded prints a PAN in full.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smartpos_core::qr::{cpm, paycode};

fuzz_target!(|data: &[u8]| {
    if let Ok(mut payload) = cpm::decode(data)
        && let Some(digits) = payload.pan().map(|p| p.expose_digits().to_owned())
    {
        // AIDs, labels and raw data objects print as they are and can hold the same digits by
        // chance (the fuzzer found an AID that did); the check is on the fields that carry card
        // data.
        for t in payload
            .applications
            .iter_mut()
            .chain(payload.common.as_mut())
        {
            t.aid = None;
            t.label = None;
            t.data.clear();
            t.transparent.clear();
        }
        let shown = format!("{payload:?}");
        assert!(!shown.contains(&digits), "Debug shows the PAN");
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = cpm::decode_base64(text);
        let _ = paycode::recognise(text);
    }
});
