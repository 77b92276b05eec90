//! The operators' contracts of `smartpos pay`, `journal` and `recover`, checked against the real
//! binary and an in-process acquirer simulator whose ledger is kept in a file.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use std::path::Path;

use serde_json::Value;

mod common;
use common::{json_with_exit, ledger_net_fen, ok_json as stdout_json, simulator, smartpos};

#[test]
fn pay_then_journal_lists_five_approved_sales_matching_the_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let ledger_file = dir.path().join("ledger.json");
    let server = simulator(&ledger_file);
    let db = dir.path().join("journal.db");
    let (host, db_arg) = (server.addr().to_string(), db.to_str().unwrap().to_owned());

    let pay = smartpos(&[
        "pay",
        "--host",
        &host,
        "--journal",
        &db_arg,
        "--count",
        "5",
        "--amount-range",
        "100..200",
        "--json",
        // Seven sales on the one demo card within seconds, random amounts that may repeat:
        // the velocity and duplicate rules would refuse some, by design. This test is about
        // the journal and the ledger agreeing.
        "--no-risk-checks",
    ]);
    let summary = stdout_json(&pay);
    assert_eq!(summary["attempted"], 5);
    assert_eq!(summary["approved"], 5, "{summary}");

    let listing = stdout_json(&smartpos(&["journal", &db_arg, "--json"]));
    let txns = listing["transactions"].as_array().unwrap();
    let sales: Vec<&Value> = txns.iter().filter(|t| t["kind"] == "sale").collect();
    assert_eq!(sales.len(), 5);
    let mut stans = std::collections::BTreeSet::new();
    let mut sum = 0;
    for t in &sales {
        assert_eq!(t["state"], "approved", "{t}");
        let amount = t["amount_fen"].as_i64().unwrap();
        assert!((100..200).contains(&amount), "{t}");
        sum += amount;
        assert!(t["attempt_id"].as_str().unwrap().starts_with("pay-"));
        let stan = t["stan"].as_str().unwrap();
        assert_eq!(stan.len(), 6, "{t}");
        assert!(stans.insert(stan.to_owned()), "STAN {stan} reused");
        assert_eq!(t["pan_masked"], "622202******0015", "{t}");
    }
    assert_eq!(listing["net_approved_fen"].as_i64(), Some(sum));
    assert_eq!(
        listing["net_approved_fen"].as_i64(),
        Some(ledger_net_fen(&ledger_file))
    );

    // The storage key is reused, not replaced: a second run on the same journal still signs,
    // seals and lists under the first run's key, and attempt ids do not collide.
    let key_before = std::fs::read(dir.path().join("journal.db.key")).unwrap();
    let again = stdout_json(&smartpos(&[
        "pay",
        "--host",
        &host,
        "--journal",
        &db_arg,
        "--count",
        "2",
        "--json",
        "--no-risk-checks",
    ]));
    assert_eq!(again["approved"], 2, "{again}");
    assert_eq!(
        std::fs::read(dir.path().join("journal.db.key")).unwrap(),
        key_before
    );
    let listing = stdout_json(&smartpos(&["journal", &db_arg, "--json"]));
    let approved = listing["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["kind"] == "sale" && t["state"] == "approved")
        .count();
    assert_eq!(approved, 7);
    assert_eq!(
        listing["net_approved_fen"].as_i64(),
        Some(ledger_net_fen(&ledger_file))
    );

    let recovered = stdout_json(&smartpos(&[
        "recover",
        "--journal",
        &db_arg,
        "--host",
        &host,
        "--json",
    ]));
    assert_eq!(recovered["in_flight_found"], 0, "{recovered}");
    assert_eq!(recovered["reversals_pending"], 0, "{recovered}");
}

#[test]
fn an_unreachable_host_leaves_no_money_moved_and_nothing_pending() {
    let dir = tempfile::tempdir().unwrap();
    // Bind then drop a listener: the port is free and refuses connections.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let host = format!("127.0.0.1:{port}");
    let db = dir.path().join("j.db");
    let db_arg = db.to_str().unwrap();
    // Exit 1: the payments ran and terminated.
    let summary = json_with_exit(
        &smartpos(&[
            "pay",
            "--host",
            &host,
            "--journal",
            db_arg,
            "--count",
            "2",
            "--json",
        ]),
        1,
    );
    assert_eq!(summary["approved"], 0, "{summary}");
    let terminated: u64 = summary["terminated"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(terminated, 2, "{summary}");
    let listing = stdout_json(&smartpos(&["journal", db_arg, "--json"]));
    assert_eq!(listing["net_approved_fen"], 0);
    assert!(
        listing["transactions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["state"] != "pending" && t["state"] != "approved"),
        "{listing}"
    );
}

#[test]
fn bad_arguments_exit_2_with_one_line_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.db");
    let missing = missing.to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["pay", "--bogus"], "--bogus"),
        (
            &[
                "pay",
                "--host",
                "127.0.0.1:1",
                "--journal",
                "j.db",
                "--count",
                "0",
            ],
            "--count",
        ),
        (
            &[
                "pay",
                "--host",
                "127.0.0.1:1",
                "--journal",
                "j.db",
                "--count",
                "3",
                "--amount-range",
                "500..100",
            ],
            "amount range",
        ),
        (
            &[
                "pay",
                "--host",
                "nowhere",
                "--journal",
                "j.db",
                "--count",
                "1",
            ],
            "--host",
        ),
        (&["journal", missing], "no such file"),
        (
            &["recover", "--journal", missing, "--host", "127.0.0.1:1"],
            "no such file",
        ),
    ];
    for (args, names) in cases {
        let out = smartpos(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains(names), "{args:?}: {stderr}");
    }
    // A missing journal is reported, never created empty.
    assert!(!Path::new(missing).exists());
}

#[test]
fn pay_runs_risk_checks_unless_told_not_to() {
    let dir = tempfile::tempdir().unwrap();
    let ledger_file = dir.path().join("ledger.json");
    let server = simulator(&ledger_file);
    let db = dir.path().join("journal.db");
    let (host, db_arg) = (server.addr().to_string(), db.to_str().unwrap().to_owned());
    // One fixed amount, seven times: the second is a suspected duplicate (no operator to
    // confirm it in the CLI), so at most one of them is approved.
    let pay = |extra: &[&str], exit: i32| {
        let mut args = vec![
            "pay",
            "--host",
            &host,
            "--journal",
            &db_arg,
            "--count",
            "7",
            "--amount-range",
            "300..301",
            "--json",
        ];
        args.extend_from_slice(extra);
        json_with_exit(&smartpos(&args), exit)
    };
    // Exit 1: six of the seven terminated.
    let checked = pay(&[], 1);
    assert_eq!(checked["approved"], 1, "{checked}");
    assert_eq!(checked["terminated"]["RISK_DUPLICATE"], 6, "{checked}");
    let unchecked = pay(&["--no-risk-checks"], 0);
    assert_eq!(unchecked["approved"], 7, "{unchecked}");
}
