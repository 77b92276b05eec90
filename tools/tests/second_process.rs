//! A second process on a journal while a sale is in flight: `smartpos pay` waits for an answer
//! the on-path proxy holds back, and meanwhile `recover`, `health` and another `pay` try the same
//! journal. Before journals had one owner, `recover` reversed the in-flight sale and the first
//! process then recorded it approved: journal and ledger disagreed and `settle` said all was well.
//! Now the second process is refused (exit 1, naming the holder's pid), the read-only views still
//! answer, and the day ends with journal net = ledger net and nothing owed.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use smartpos_core::store::{Journal, TxnState};
use smartpos_tools::sim::{OnPathProxy, Tamper};

mod common;
use common::{ok_json, simulator, smartpos};

/// Waits (bounded) until the journal shows a request sent and not yet answered.
fn wait_in_flight(db: &Path) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let in_flight = Journal::open_read_only(db)
            .ok()
            .and_then(|j| j.in_flight().ok())
            .is_some_and(|v| v.iter().any(|t| t.state == TxnState::Sending));
        if in_flight {
            return;
        }
        assert!(Instant::now() < deadline, "no sale went in flight");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_second_process_is_refused_while_a_sale_is_in_flight_and_the_day_reconciles() {
    let dir = tempfile::tempdir().unwrap();
    let ledger_file = dir.path().join("ledger.json");
    let sim = simulator(&ledger_file);
    let proxy = OnPathProxy::start(sim.addr()).unwrap();
    // The acquirer approves at once; the answer reaches the terminal 3 s later (its deadline is 5 s).
    proxy.next(
        "0200",
        Tamper::Hold {
            delay: Duration::from_secs(3),
        },
    );
    let db = dir.path().join("journal.db");
    let db_arg = db.to_str().unwrap();
    let (via_proxy, direct) = (proxy.addr().to_string(), sim.addr().to_string());

    let first = Command::new(env!("CARGO_BIN_EXE_smartpos"))
        .args(["pay", "--host", &via_proxy, "--journal", db_arg])
        .args(["--count", "1", "--amount-range", "10547..10548", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = first.id().to_string();
    wait_in_flight(&db);

    for (what, args) in [
        (
            "recover",
            vec!["recover", "--journal", db_arg, "--host", &direct],
        ),
        (
            "health",
            vec!["health", "--journal", db_arg, "--host", &direct],
        ),
        (
            "pay",
            vec![
                "pay",
                "--journal",
                db_arg,
                "--host",
                &direct,
                "--count",
                "1",
            ],
        ),
    ] {
        let out = smartpos(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{what}: {stderr}");
        assert!(
            stderr.contains("in use") && stderr.contains(&format!("pid {pid}")),
            "{what}: {stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "{what}: one line: {stderr}");
    }
    // The read-only view answers meanwhile and shows the sale as pending.
    let listing = ok_json(&smartpos(&["journal", db_arg, "--json"]));
    assert_eq!(listing["transactions"][0]["state"], "pending");

    let out = first.wait_with_output().unwrap();
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["approved"], 1, "{summary}");

    // The shop's next step after a scare: recover against the real host. Nothing to do.
    let recovered = ok_json(&smartpos(&[
        "recover",
        "--journal",
        db_arg,
        "--host",
        &direct,
        "--json",
    ]));
    assert_eq!(recovered["reversals_pending"], 0, "{recovered}");
    assert_eq!(recovered["in_flight_found"], 0, "{recovered}");
    let listing = ok_json(&smartpos(&["journal", db_arg, "--json"]));
    assert_eq!(listing["pending_reversals"], 0);
    assert_eq!(listing["net_approved_fen"], 10_547);
    let ledger: Value = serde_json::from_slice(&std::fs::read(&ledger_file).unwrap()).unwrap();
    assert_eq!(ledger["net_fen"], listing["net_approved_fen"]);
}

/// A journal path that is not there is refused by every command that needs one, and is not
/// created: a typo must not become a fresh journal that signs on with the acquirer.
#[test]
fn commands_needing_a_journal_refuse_a_missing_one_and_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("typo.db");
    let m = missing.to_str().unwrap();
    for args in [
        vec!["journal", m],
        vec!["report", "--journal", m],
        vec!["recover", "--journal", m, "--host", "127.0.0.1:9"],
        vec!["health", "--journal", m, "--host", "127.0.0.1:9"],
        vec!["settle", "--journal", m, "--host", "127.0.0.1:9"],
    ] {
        let out = smartpos(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("no such file"), "{args:?}: {stderr}");
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing was created"
    );
}
