//! `smartpos journal ack`: after a corrupt journal is moved aside, payments wait for the
//! operator's acknowledgement — across restarts, since the fault is journaled — and a copy that
//! could not be read at all needs the acknowledgement to say so.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

mod common;
use common::{json_with_exit, ok_json, simulator, smartpos};

#[test]
fn payments_wait_for_the_operators_acknowledgement_of_a_storage_fault() {
    let dir = tempfile::tempdir().unwrap();
    let sim = simulator(&dir.path().join("ledger.json"));
    let host = sim.addr().to_string();
    let db = dir.path().join("journal.db");
    let db_arg = db.to_str().unwrap();
    // Exit 0 when the payment is approved, 1 when it is refused.
    let pay = |id: &str, exit: i32| {
        json_with_exit(
            &smartpos(&[
                "pay",
                "--host",
                &host,
                "--journal",
                db_arg,
                "--count",
                "1",
                "--json",
                "--amount-range",
                id,
            ]),
            exit,
        )
    };
    assert_eq!(pay("100..101", 0)["approved"], 1);
    std::fs::write(&db, b"bad flash, not a database").unwrap();
    let _ = std::fs::remove_file(dir.path().join("journal.db-wal"));

    // The first process after the damage quarantines it; this one and the next are refused.
    for _ in 0..2 {
        let refused = pay("200..201", 1);
        assert_eq!(refused["approved"], 0, "{refused}");
        assert!(
            refused.to_string().contains("SW_STORAGE_CORRUPT"),
            "{refused}"
        );
    }
    // Garbage cannot be read back: a plain acknowledgement is refused and says why.
    let plain = smartpos(&["journal", "ack", "--journal", db_arg]);
    assert_eq!(plain.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&plain.stderr).contains("could not be read"));
    let acked = ok_json(&smartpos(&[
        "journal",
        "ack",
        "--journal",
        db_arg,
        "--accept-unreadable",
        "--json",
    ]));
    assert_eq!(acked["acknowledged"], 1, "{acked}");
    assert!(acked["moved_to"][0].as_str().unwrap().contains(".corrupt-"));
    assert_eq!(pay("300..301", 0)["approved"], 1);
}
