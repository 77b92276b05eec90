//! Issue #13's acceptance: `smartpos decode` of a request captured on the wire from a terminal
//! whose acquirer wants card data enciphered shows field 35 as enciphered under the TDK, and
//! neither the capture nor the decoder's output holds the track's discretionary data in clear.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use std::sync::Arc;

use smartpos_core::codec::bcd::{self, Align, Charset};
use smartpos_core::codec::iso8583::Frame;
use smartpos_core::txn::track_cipher::tdb_range;
use smartpos_tools::demo_setup;
use smartpos_tools::sim::ledger::Ledger;
use smartpos_tools::sim::{Acquirer, OnPathProxy, SimServer};

mod common;
use common::smartpos;

#[test]
fn a_captured_request_decodes_with_its_track_enciphered() {
    let acquirer = Acquirer::new(Ledger::with_demo_accounts(), demo_setup::demo_tmk())
        .with_track_encryption(true);
    let sim = SimServer::start(Arc::new(acquirer), "127.0.0.1:0".parse().unwrap()).unwrap();
    let proxy = OnPathProxy::start(sim.addr()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.db");
    let host = proxy.addr().to_string();
    let paid = smartpos(&[
        "pay",
        "--host",
        &host,
        "--track-encryption",
        "--journal",
        journal.to_str().unwrap(),
        "--count",
        "1",
    ]);
    assert!(
        paid.status.success(),
        "{}",
        String::from_utf8_lossy(&paid.stderr)
    );

    let sale = proxy
        .captured()
        .into_iter()
        .find(|b| Frame::decode_body(b).is_ok_and(|f| f.message.mti() == "0200"))
        .expect("a 0200 on the wire");
    let clear = demo_setup::demo_track2("normal").unwrap().replace('=', "D");
    let packed = bcd::encode(&clear, Align::Left, 0, Charset::Track).unwrap();
    let tdb = &packed[tdb_range(packed.len()).unwrap()];
    assert!(
        !sale.windows(tdb.len()).any(|w| w == tdb),
        "clear TDB on the wire"
    );

    let decoded = smartpos(&["decode", &hex::encode(&sale), "--json"]);
    assert!(decoded.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&decoded.stdout).unwrap();
    let field35 = doc["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == 35)
        .expect("field 35 decoded");
    assert_eq!(field35["enciphered"], true, "{field35}");
    let text = String::from_utf8_lossy(&decoded.stdout);
    let tdb_hex = hex::encode_upper(tdb);
    assert!(
        !text.to_uppercase().contains(&tdb_hex),
        "decoder shows the TDB"
    );
    assert!(!text.contains(&clear), "decoder shows the clear track");
}
