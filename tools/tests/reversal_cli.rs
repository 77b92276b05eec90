//! `smartpos reversal list|release`: a reversal the acquirer never confirms is parked after its
//! attempts, listed with what the merchant is told, blocks settlement with an explanation, and
//! can be released by the operator — journaled, never silently.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use smartpos_tools::sim::{OnPathProxy, Tamper};

mod common;
use common::{json_with_exit, ledger_net_fen, ok_json, simulator, smartpos};

#[test]
fn a_parked_reversal_is_listed_blocks_settlement_and_the_operator_releases_it() {
    let dir = tempfile::tempdir().unwrap();
    let ledger_file = dir.path().join("ledger.json");
    let sim = simulator(&ledger_file);
    let proxy = OnPathProxy::start(sim.addr()).unwrap();
    // The sale reaches the acquirer, its answer is lost, and every reversal is answered by a
    // forger (unsigned 00): three attempts, none authenticated.
    proxy.next("0200", Tamper::DropAnswer);
    for _ in 0..3 {
        proxy.next("0400", Tamper::ForgeUnsigned { code: "00".into() });
    }
    let db = dir.path().join("journal.db");
    let db_arg = db.to_str().unwrap();
    let (via_proxy, direct) = (proxy.addr().to_string(), sim.addr().to_string());
    // Exit 1: the one payment terminated.
    let pay = json_with_exit(
        &smartpos(&[
            "pay",
            "--host",
            &via_proxy,
            "--journal",
            db_arg,
            "--count",
            "1",
            "--amount-range",
            "4321..4322",
            "--json",
        ]),
        1,
    );
    assert_eq!(pay["approved"], 0, "{pay}");
    let listing = ok_json(&smartpos(&[
        "reversal",
        "list",
        "--journal",
        db_arg,
        "--json",
    ]));
    assert_eq!(listing["owed"], 1, "{listing}");
    assert_eq!(
        listing["reversals"][0]["attempts"], 2,
        "sent, signed on, sent again"
    );

    // The third attempt, at the next start, parks it.
    let _ = smartpos(&["recover", "--journal", db_arg, "--host", &via_proxy]);
    assert!(proxy.plan_done());
    let listing = ok_json(&smartpos(&[
        "reversal",
        "list",
        "--journal",
        db_arg,
        "--json",
    ]));
    assert_eq!(listing["parked"], 1, "{listing}");
    let parked = &listing["reversals"][0];
    assert_eq!(parked["state"], "parked");
    assert_eq!(parked["termination_code"], "NET_REVERSAL_PARKED");
    assert!(parked["merchant_en"].as_str().unwrap().contains("parked"));
    assert!(parked["last_error"].as_str().unwrap().contains("no MAC"));
    let pan = parked["pan_masked"].as_str().unwrap();
    assert!(pan.starts_with("622202******"), "masked 6+4: {pan}");

    // Settlement says what blocks it and how to clear it.
    let settle = smartpos(&["settle", "--journal", db_arg, "--host", &direct]);
    let stderr = String::from_utf8_lossy(&settle.stderr);
    assert!(!settle.status.success());
    assert!(
        stderr.contains("MNT_REVERSAL_BLOCKS_SETTLEMENT") && stderr.contains("parked"),
        "{stderr}"
    );

    // Only a parked reversal can be released, and releasing says so.
    let id = parked["id"].as_i64().unwrap().to_string();
    let wrong = smartpos(&["reversal", "release", "--journal", db_arg, "--id", "999"]);
    assert_eq!(wrong.status.code(), Some(2));
    let released = ok_json(&smartpos(&[
        "reversal",
        "release",
        "--journal",
        db_arg,
        "--id",
        &id,
        "--json",
    ]));
    assert_eq!(released["state"], "released");
    let listing = ok_json(&smartpos(&[
        "reversal",
        "list",
        "--journal",
        db_arg,
        "--json",
    ]));
    assert_eq!(listing["reversals"].as_array().unwrap().len(), 0);

    // The acquirer kept the sale (no reversal ever reached it); settlement now goes through and
    // the batch upload tells the acquirer what the terminal counted.
    assert_eq!(ledger_net_fen(&ledger_file), 4_321);
    let settled = ok_json(&smartpos(&[
        "settle",
        "--journal",
        db_arg,
        "--host",
        &direct,
        "--json",
    ]));
    assert_eq!(settled["balanced"], false, "{settled}");
}
