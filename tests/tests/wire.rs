//! What leaves the terminal on the wire: with the acquirer's dialect asking for track
//! encryption, track 2 goes out with its TDB enciphered under the TDK (UnionPay track
//! encryption) and field 53.3 = 1, the acquirer deciphers and approves, and a wiretap (the
//! proxy) sees no clear track data. An acquirer that wants enciphered tracks refuses clear ones.

#![allow(clippy::unwrap_used)] // helpers outside #[test] functions

use smartpos_core::codec::bcd::{self, Align, Charset};
use smartpos_core::codec::iso8583::Frame;
use smartpos_core::crypto::MacAlgorithm;
use smartpos_core::host::AcquirerDialect;
use smartpos_core::store::TxnState;
use smartpos_core::txn::track_cipher::tdb_range;
use smartpos_core::txn::{Original, RefundRequest, VoidRequest};
use smartpos_e2e::Harness;
use smartpos_tools::demo_setup;
use smartpos_tools::sim::Tamper;

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

/// Where the dialect enciphers card data, no message carries the track's discretionary data
/// (the TDB, what a cloned card needs) in clear: not the sale, and not the messages rebuilt
/// from the journal — a void, a reversal, a repeated refund advice — which carry no track at
/// all. The PAN itself stays readable by design of UnionPay's scheme (in field 35 before the
/// TDB, in field 2 of rebuilt messages, for routing); TLS is what keeps it off an open
/// network. The day still reconciles with the acquirer's ledger.
#[test]
fn follow_ups_reversals_and_advice_repeats_carry_no_track_data() {
    let (h, proxy) = Harness::behind_proxy_with(enciphering(), true);
    let sale = h.sale("s1", "normal", PIN, 2_000);
    let stan = sale.approval().expect("sale").stan;
    let void = h.terminal.void(
        &VoidRequest {
            attempt_id: "v1".into(),
            original: Original { stan },
        },
        &h.cancel,
    );
    assert!(void.is_approved(), "{void:?}");

    // A sale whose answer is lost: reversed (0400 rebuilt from the journal).
    proxy.next("0200", Tamper::DropAnswer);
    assert!(!h.sale("s2", "normal", PIN, 3_000).is_approved());

    // A refund whose 0220 never reaches the acquirer: the 0221 repeat is the first it sees.
    let kept = h.sale("s3", "normal", PIN, 4_000);
    let kept_stan = kept.approval().expect("sale").stan;
    proxy.next("0220", Tamper::ForgeUnsigned { code: "00".into() });
    h.present("normal", None);
    let refund = h.terminal.refund(
        &RefundRequest {
            attempt_id: "r1".into(),
            amount_fen: 1_500,
            original: Original { stan: kept_stan },
        },
        &h.cancel,
    );
    assert!(!refund.is_approved(), "an unsigned answer settles nothing");
    let report = h.terminal.recover();
    assert!(proxy.plan_done());
    assert!(
        h.terminal.pending_reversals().unwrap().is_empty(),
        "{report:?}"
    );
    assert_eq!(h.transaction("r1").state, TxnState::Approved);

    let journal_net: i64 = h
        .terminal
        .transactions()
        .unwrap()
        .iter()
        .map(|r| r.net_effect_fen())
        .sum();
    assert_eq!(h.net_fen(), 4_000 - 1_500);
    assert_eq!(journal_net, h.net_fen(), "journal net = ledger net");

    let clear = demo_setup::demo_track2("normal").unwrap().replace('=', "D");
    let packed = bcd::encode(&clear, Align::Left, 0, Charset::Track).unwrap();
    let tdb = &packed[tdb_range(packed.len()).unwrap()];
    let mut mtis = Vec::new();
    for bytes in proxy.captured() {
        let frame = Frame::decode_body(&bytes).unwrap();
        let mti = frame.message.mti().to_string();
        assert!(
            !bytes.windows(tdb.len()).any(|w| w == tdb),
            "{mti} carries the clear TDB"
        );
        if frame.message.text(35).is_some() {
            assert_eq!(frame.message.text(53).unwrap().as_bytes()[2], b'1', "{mti}");
        }
        mtis.push(mti);
    }
    for mti in ["0200", "0400", "0220", "0221"] {
        assert!(
            mtis.iter().any(|m| m == mti),
            "{mti} was exercised: {mtis:?}"
        );
    }
}
