//! What leaves the terminal on the wire: with the acquirer's dialect asking for track
//! encryption, track 2 goes out with its TDB enciphered under the TDK (UnionPay track
//! encryption) and field 53.3 = 1, the acquirer deciphers and approves, and a wiretap (the
//! proxy) sees no clear track data. An acquirer that wants enciphered tracks refuses clear ones.

#![allow(clippy::unwrap_used)] // helpers outside #[test] functions

use smartpos_core::codec::bcd::{self, Align, Charset};
use smartpos_core::codec::iso8583::Frame;
use smartpos_core::crypto::MacAlgorithm;
use smartpos_core::host::AcquirerDialect;
use smartpos_core::txn::track_cipher::tdb_range;
use smartpos_e2e::Harness;
use smartpos_tools::demo_setup;

const PIN: Option<&str> = Some("123456");

fn enciphering() -> AcquirerDialect {
    AcquirerDialect {
        track_encryption: true,
        ..AcquirerDialect::unionpay(MacAlgorithm::X919)
    }
}

#[test]
fn track_data_leaves_enciphered_and_the_acquirer_approves() {
    let (h, proxy) = Harness::behind_proxy_with(enciphering(), true);
    assert!(h.sale("s1", "normal", PIN, 1_234).is_approved());
    assert_eq!(h.net_fen(), 1_234);

    let clear = demo_setup::demo_track2("normal").unwrap().replace('=', "D");
    let packed = bcd::encode(&clear, Align::Left, 0, Charset::Track).unwrap();
    let tdb = &packed[tdb_range(packed.len()).unwrap()];
    let sale = proxy
        .captured()
        .into_iter()
        .map(|b| (Frame::decode_body(&b).unwrap(), b))
        .find(|(f, _)| f.message.mti() == "0200")
        .unwrap();
    let (frame, bytes) = sale;
    let on_wire = frame.message.text(35).unwrap();
    assert_eq!(on_wire.len(), clear.len());
    assert_ne!(on_wire, clear, "field 35 is not the clear track");
    assert_eq!(
        frame.message.text(53).unwrap().as_bytes()[2],
        b'1',
        "53.3 says so"
    );
    assert!(
        frame.message.text(2).is_none(),
        "no PAN field beside the track"
    );
    assert!(
        !bytes.windows(tdb.len()).any(|w| w == tdb),
        "the clear TDB appears nowhere in the frame"
    );
}

#[test]
fn an_acquirer_that_wants_enciphered_tracks_refuses_clear_ones() {
    let (h, _proxy) = Harness::behind_proxy_with(AcquirerDialect::default(), true);
    let refused = h.sale("s1", "normal", PIN, 1_234);
    assert_eq!(
        refused.termination().map(|t| t.code.to_string()).as_deref(),
        Some("HOST_DECLINED_30")
    );
    assert_eq!(h.net_fen(), 0);
}

#[test]
fn without_a_data_key_nothing_is_sent() {
    // The terminal is told to encipher, but this acquirer issues no TDK at sign-on.
    let (h, proxy) = Harness::behind_proxy_with(enciphering(), false);
    let before = proxy.captured().len();
    let refused = h.sale("s1", "normal", PIN, 1_234);
    assert_eq!(
        refused.termination().map(|t| t.code.to_string()).as_deref(),
        Some("SW_KEYS_MISSING")
    );
    assert_eq!(proxy.captured().len(), before, "nothing left the terminal");
    assert_eq!(h.net_fen(), 0);
}
