//! The CLI policy (README, "CLI policy"), one rule at a time, against the real binary and an
//! in-process simulator on port 0: exit 0 when done as asked, 1 when the operation ran and did
//! not succeed, 2 for bad input, never 101; under `--json` an error is one JSON document on
//! stdout; a group alone prints its help.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use std::process::Output;

use serde_json::Value;
use smartpos_tools::sim::{OnPathProxy, Tamper};

mod common;
use common::{closed_port, json_with_exit, ok_json, simulator, smartpos};

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Bad input: exit 2, one line on stderr naming what is wrong, and with `--json` the one error
/// shape on stdout.
fn assert_bad_input(args: &[&str], names: &str) {
    let out = smartpos(args);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains(names), "{args:?}: {err}");
    if args.contains(&"--json") && !args.contains(&"paycode") {
        let doc: Value = serde_json::from_slice(&out.stdout).expect("an error document");
        assert_eq!(doc["error"]["code"], "bad_input", "{doc}");
        assert_eq!(doc["error"]["exit"], 2);
        assert!(
            doc["error"]["message"].as_str().unwrap().contains(names),
            "{doc}"
        );
    }
}

#[test]
fn pay_settle_health_and_recover_exit_by_the_policy() {
    let dir = tempfile::tempdir().unwrap();
    let sim = simulator(&dir.path().join("ledger.json"));
    let host = sim.addr().to_string();
    let down = closed_port();
    let db = dir.path().join("j.db");
    let db = db.to_str().unwrap();
    let pay = |host: &str, extra: &[&str]| {
        let mut args = vec![
            "pay",
            "--host",
            host,
            "--journal",
            db,
            "--count",
            "2",
            "--json",
            "--no-risk-checks",
        ];
        args.extend_from_slice(extra);
        smartpos(&args)
    };

    // pay: 0 with every payment approved, 1 with any terminated (the summary still printed,
    // and no error document after it), 2 for a bad count.
    assert_eq!(ok_json(&pay(&host, &[]))["approved"], 2);
    let failed = json_with_exit(&pay(&down, &[]), 1);
    assert_eq!(failed["approved"], 0, "{failed}");
    assert_eq!(failed["terminated"]["NET_HOST_UNREACHABLE"], 2, "{failed}");
    assert_bad_input(
        &[
            "pay",
            "--host",
            &host,
            "--journal",
            db,
            "--count",
            "0",
            "--json",
        ],
        "--count",
    );

    // health: 1 when a check is failing (the acquirer down), otherwise 0; 2 for no journal.
    let ill = json_with_exit(
        &smartpos(&["health", "--journal", db, "--host", &down, "--json"]),
        1,
    );
    assert_eq!(ill["overall"], "failing");
    let out = smartpos(&["health", "--journal", db, "--host", &host, "--json"]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let expected = if report["overall"] == "failing" { 1 } else { 0 };
    assert_eq!(out.status.code(), Some(expected), "{report}");
    // Remedies are `{id, zh, en}` here as in `explain`.
    for check in report["checks"].as_array().unwrap() {
        for r in check["remedies"].as_array().unwrap() {
            assert!(r["id"].is_string() && r["zh"].is_string() && r["en"].is_string());
        }
    }
    let missing = dir.path().join("none.db");
    let missing = missing.to_str().unwrap();
    assert_bad_input(
        &["health", "--journal", missing, "--host", &host, "--json"],
        "no such file",
    );

    // settle: "not settled" is 1 (the operation ran), not 2; settled is 0.
    let out = smartpos(&["settle", "--journal", db, "--host", &down, "--json"]);
    let doc = json_with_exit(&out, 1);
    assert_eq!(doc["error"]["code"], "not_done", "{doc}");
    assert!(stderr(&out).contains("settlement not done"));
    let settled = ok_json(&smartpos(&[
        "settle",
        "--journal",
        db,
        "--host",
        &host,
        "--json",
    ]));
    assert_eq!(settled["balanced"], true, "{settled}");
    assert_bad_input(
        &["settle", "--journal", db, "--host", "no-port", "--json"],
        "no-port",
    );

    // recover: 0 with nothing owed; 2 for no journal (recover's owed case is the next test).
    let clean = ok_json(&smartpos(&[
        "recover",
        "--journal",
        db,
        "--host",
        &host,
        "--json",
    ]));
    assert_eq!(clean["reversals_pending"], 0);
    assert_bad_input(
        &["recover", "--journal", missing, "--host", &host],
        "no such file",
    );
}

#[test]
fn recover_exits_1_while_a_reversal_is_still_owed_and_0_once_cleared() {
    let dir = tempfile::tempdir().unwrap();
    let sim = simulator(&dir.path().join("ledger.json"));
    let proxy = OnPathProxy::start(sim.addr()).unwrap();
    // The sale's answer is lost and both reversal attempts meet a host that never answers
    // (the proxy drops them): a reversal is owed when `pay` ends.
    proxy.next("0200", Tamper::DropAnswer);
    proxy.next("0400", Tamper::DropAnswer);
    proxy.next("0400", Tamper::DropAnswer);
    let db = dir.path().join("j.db");
    let db = db.to_str().unwrap();
    let via_proxy = proxy.addr().to_string();
    let pay = json_with_exit(
        &smartpos(&[
            "pay",
            "--host",
            &via_proxy,
            "--journal",
            db,
            "--count",
            "1",
            "--json",
        ]),
        1,
    );
    assert_eq!(pay["approved"], 0, "{pay}");

    // The third attempt is lost too: the reversal is parked for the operator, still owed.
    proxy.next("0400", Tamper::DropAnswer);
    let owed = smartpos(&["recover", "--journal", db, "--host", &via_proxy, "--json"]);
    let summary = json_with_exit(&owed, 1);
    assert_eq!(summary["reversals_pending"], 1, "{summary}");
    assert!(stderr(&owed).contains("owed"), "{}", stderr(&owed));

    // Once the operator releases it nothing is owed: exit 0.
    let listing = ok_json(&smartpos(&["reversal", "list", "--journal", db, "--json"]));
    let id = listing["reversals"][0]["id"].as_i64().unwrap().to_string();
    ok_json(&smartpos(&[
        "reversal",
        "release",
        "--journal",
        db,
        "--id",
        &id,
        "--json",
    ]));
    let cleared = ok_json(&smartpos(&[
        "recover",
        "--journal",
        db,
        "--host",
        &sim.addr().to_string(),
        "--json",
    ]));
    assert_eq!(cleared["reversals_pending"], 0, "{cleared}");
}

#[test]
fn offline_commands_exit_0_on_success_and_2_on_bad_input() {
    // explain: a known code (any case), an unknown well-formed one and a mistyped one.
    ok_json(&smartpos(&["explain", "a0", "--json"]));
    ok_json(&smartpos(&["explain", "net_timeout", "--json"]));
    assert_bad_input(&["explain", "XY", "--json"], "XY");
    assert_bad_input(&["explain", "ZZZ", "--json"], "ZZZ");
    // decode, tlv, paycode, qr parse, crypto: valid input and garbage.
    assert_bad_input(&["decode", "zz", "--json"], "hex");
    assert_bad_input(&["crypto", "kcv", "--key", "0G"], "hex");
    assert_bad_input(&["qr", "parse", "not a payload", "--json"], "");
    // paycode prints its verdict (not a payment code, and why) and exits 2: the verdict is the
    // one JSON document.
    let verdict = json_with_exit(&smartpos(&["paycode", "12", "--json"]), 2);
    assert_eq!(verdict["payment_code"], false);
    assert_eq!(
        smartpos(&["crypto", "kcv", "--key", "0123456789ABCDEFFEDCBA9876543210"])
            .status
            .code(),
        Some(0)
    );
    // sim: an address that does not parse.
    assert_bad_input(&["sim", "--listen", "nowhere"], "nowhere");
}

#[test]
fn a_group_alone_prints_its_help_and_exits_2() {
    for (args, shows) in [
        (&[][..], "Usage: smartpos"),
        (&["crypto"][..], "Usage: smartpos crypto"),
        (&["risk"][..], "Usage: smartpos risk"),
        (&["risk", "bundle"][..], "Usage: smartpos risk bundle"),
        (&["qr"][..], "Usage: smartpos qr"),
    ] {
        let out = smartpos(args);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(shows), "{args:?}: {text}");
        assert!(text.contains("Commands:"), "{args:?}: {text}");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
    // The top-level help states the exit codes.
    let help = String::from_utf8_lossy(&smartpos(&["--help"]).stdout).into_owned();
    assert!(help.contains("Exit codes"), "{help}");
}
