//! Any bytes through the EMVCo merchant-presented parser: no panic; what parses has its CRC
//! verified, and its fields lie in the text at the offsets they report.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smartpos_core::qr::mpm;

fuzz_target!(|data: &[u8]| {
    let _ = mpm::parse_bytes(data);
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(payload) = mpm::parse_unverified(text)
    {
        for f in &payload.fields {
            let at = text.get(f.offset..).unwrap_or_default();
            assert!(
                at.starts_with(&format!("{:02}", f.id)),
                "field {} not at its offset",
                f.id
            );
        }
        if mpm::parse(text).is_ok() {
            assert!(payload.crc.is_valid(), "parse accepted a wrong CRC");
        }
    }
});
