//! The message log under a soak: `smartpos pay --count N --trace FILE` against a simulator whose
//! own log (`sim --log`) is kept too, with one answer lost on the way. Every request in either
//! log has its answer or a "no answer" record on its connection, and neither log holds a card
//! number or track data (a Luhn scan for anything card-shaped, and the demo cards' PANs and
//! tracks as text and BCD, as `secrets_scan.rs` looks for them).
//!
//! `SMARTPOS_SOAK_SALES` sets N (default 1,000: a few seconds in a debug build).

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use smartpos_tools::cli::msglog::MessageLog;
use smartpos_tools::demo_setup::{self, demo_track2};
use smartpos_tools::sim::ledger::Ledger;
use smartpos_tools::sim::{Acquirer, OnPathProxy, SimServer, Tamper};

mod common;
use common::json_with_exit;

fn luhn_valid(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let d = u32::from(d - b'0');
            if i % 2 == 1 {
                if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Runs of 13–19 digits that pass Luhn and start as the card schemes' numbers do (UnionPay 62,
/// Visa 4, Mastercard 5): what a leaked PAN looks like in a text log.
fn card_shaped(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        let run = &bytes[start..i];
        // Digits inside a hex string (a MAC, a cryptogram) are not a number of their own.
        let in_word = |at: Option<&u8>| at.is_some_and(|b| b.is_ascii_alphanumeric());
        if in_word(start.checked_sub(1).and_then(|p| bytes.get(p))) || in_word(bytes.get(i)) {
            continue;
        }
        let scheme = run.starts_with(b"62") || run[0] == b'4' || run[0] == b'5';
        if (13..=19).contains(&run.len()) && scheme && luhn_valid(run) {
            found.push(String::from_utf8_lossy(run).into_owned());
        }
    }
    found
}

fn assert_no_card_data(what: &str, log: &[u8]) {
    // A MAC (64, 128) or PIN block (52) is 16 hex digits, all of them decimal digits once in a
    // few thousand messages, and one such in ten passes Luhn: it is not a card number (the soak
    // below met one: "064 MAC: 4229294447175239"). Those lines are left out of the scan; what
    // they must never hold, the PAN, is checked byte for byte below all the same.
    let text: String = String::from_utf8_lossy(log)
        .lines()
        .filter(|l| {
            let field = l.split_whitespace().next().unwrap_or("");
            !matches!(field, "52" | "64" | "128")
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        card_shaped(&text).is_empty(),
        "{what}: {:?}",
        card_shaped(&text)
    );
    for name in Ledger::demo_card_names() {
        let track2 = demo_track2(name).unwrap();
        let pan = track2.split('=').next().unwrap().to_owned();
        let padded = if pan.len().is_multiple_of(2) {
            pan.clone()
        } else {
            format!("{pan}0")
        };
        for needle in [
            pan.as_bytes().to_vec(),
            hex::decode(padded).unwrap(),
            track2.as_bytes().to_vec(),
            track2.replace('=', "D").into_bytes(),
        ] {
            assert!(
                !log.windows(needle.len()).any(|w| w == needle.as_slice()),
                "{what}: card data of {name}"
            );
        }
    }
}

/// Per connection, what its records were, in order: `request`, `response`, `no answer`.
fn records(log: &str) -> BTreeMap<String, Vec<String>> {
    let mut by_conn: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in log.lines().filter(|l| !l.starts_with(' ')) {
        let mut words = line.split_whitespace();
        let (Some(_time), Some(conn), Some(_peer), Some(kind)) =
            (words.next(), words.next(), words.next(), words.next())
        else {
            panic!("not a record head: {line}");
        };
        assert!(conn.starts_with('#'), "{line}");
        let kind = if kind == "no" { "no answer" } else { kind };
        by_conn
            .entry(conn.to_owned())
            .or_default()
            .push(kind.to_owned());
    }
    by_conn
}

/// Every request is followed by its answer or a "no answer" before the next request.
fn assert_every_request_answered(what: &str, log: &str) -> usize {
    let mut requests = 0;
    for (conn, kinds) in records(log) {
        let mut open = false;
        for kind in &kinds {
            match kind.as_str() {
                "request" => {
                    assert!(
                        !open,
                        "{what} {conn}: a request without an answer: {kinds:?}"
                    );
                    open = true;
                    requests += 1;
                }
                "response" | "no answer" => {
                    assert!(open, "{what} {conn}: an answer to nothing: {kinds:?}");
                    open = false;
                }
                other => panic!("{what} {conn}: unknown record {other}"),
            }
        }
        assert!(
            !open,
            "{what} {conn}: the last request has no answer: {kinds:?}"
        );
    }
    requests
}

#[test]
fn a_soak_with_trace_logs_every_request_with_its_answer_and_no_card_data() {
    let sales: u32 = std::env::var("SMARTPOS_SOAK_SALES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let dir = tempfile::tempdir().unwrap();
    let sim_log = dir.path().join("sim.log");
    let acquirer = Acquirer::new(Ledger::with_demo_accounts(), demo_setup::demo_tmk());
    let sim = SimServer::start_logged(
        Arc::new(acquirer),
        "127.0.0.1:0".parse().unwrap(),
        None,
        Some(Arc::new(MessageLog::open(&sim_log, "").unwrap())),
    )
    .unwrap();
    // One sale's answer is lost between host and terminal: the trace says "no answer" for it,
    // and the reversal that follows is logged with its answer.
    let proxy = OnPathProxy::start(sim.addr()).unwrap();
    proxy.next("0200", Tamper::DropAnswer);
    let db = dir.path().join("j.db");
    let trace = dir.path().join("trace.log");
    let (host, db_arg, trace_arg) = (
        proxy.addr().to_string(),
        db.to_str().unwrap().to_owned(),
        trace.to_str().unwrap().to_owned(),
    );
    // A batch holds 500: the soak settles after every quarter, as a shop would each shift, and
    // every run appends to the one trace.
    let started = Instant::now();
    let per_run = sales.div_ceil(4);
    let mut run = 0;
    let (mut attempted, mut approved) = (0, 0);
    while attempted < sales {
        let count = per_run.min(sales - attempted);
        let out = common::smartpos(&[
            "pay",
            "--host",
            &host,
            "--journal",
            &db_arg,
            "--count",
            &count.to_string(),
            // Small amounts: a thousand sales stay within the demo card's balance.
            "--amount-range",
            "100..200",
            "--no-risk-checks",
            "--json",
            "--trace",
            &trace_arg,
        ]);
        // The first run loses one answer: exit 1.
        let summary = json_with_exit(&out, if run == 0 { 1 } else { 0 });
        attempted += summary["attempted"].as_u64().unwrap() as u32;
        approved += summary["approved"].as_u64().unwrap() as u32;
        let settled = json_with_exit(
            &common::smartpos(&[
                "settle",
                "--journal",
                &db_arg,
                "--host",
                &host,
                "--json",
                "--trace",
                &trace_arg,
            ]),
            0,
        );
        assert!(settled["batch_no"].is_number(), "{settled}");
        run += 1;
    }
    eprintln!(
        "{sales} sales and {run} settlements with --trace in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(approved, sales - 1);

    let trace = std::fs::read(&trace).unwrap();
    let text = String::from_utf8_lossy(&trace);
    // Sign-on, the sales, and the lost sale's reversal (after a sign-on of its own).
    let requests = assert_every_request_answered("trace", &text);
    assert!(requests > sales as usize, "{requests} requests");
    assert_eq!(
        text.matches(" no answer after ").count(),
        1,
        "one answer lost"
    );
    assert!(text.contains("request 0400"), "the reversal is logged");
    assert!(
        text.contains("    MTI     0210"),
        "field dumps follow the heads"
    );
    assert_no_card_data("trace", &trace);

    let sim_text = std::fs::read(&sim_log).unwrap();
    let served = assert_every_request_answered("sim log", &String::from_utf8_lossy(&sim_text));
    assert_eq!(
        served, requests,
        "the simulator saw every request the terminal sent"
    );
    assert_no_card_data("sim log", &sim_text);
}

#[test]
fn the_luhn_scan_finds_a_card_number_and_ignores_other_digits() {
    assert_eq!(card_shaped("x 6222021234567890123 y").len(), 0);
    // A UnionPay-shaped number with a valid check digit (Luhn mod 10, computed by hand).
    assert_eq!(
        card_shaped("pan 6222020000000000018"),
        vec!["6222020000000000018"]
    );
    assert!(card_shaped("merchant 898310048140001 amount 000000000333").is_empty());
    assert!(card_shaped("MAC A6222020000000000018F").is_empty());
}

/// `smartpos sim --log FILE` as a process, and `--trace` on `health` and `recover`: every
/// command that talks to the acquirer can log, and the simulator's log sees the same exchanges.
#[test]
fn sim_log_and_trace_on_health_and_recover() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let dir = tempfile::tempdir().unwrap();
    let sim_log = dir.path().join("sim.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_smartpos"))
        .args(["sim", "--listen", "127.0.0.1:0", "--log"])
        .arg(&sim_log)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    // "smartpos sim: acquirer listening on 127.0.0.1:PORT"
    let host = first.split_whitespace().last().unwrap().to_owned();
    std::thread::spawn(move || out.lines().for_each(drop));

    let db = dir.path().join("j.db");
    let trace = dir.path().join("trace.log");
    let (db, trace_arg) = (db.to_str().unwrap(), trace.to_str().unwrap());
    let pay = common::smartpos(&[
        "pay",
        "--host",
        &host,
        "--journal",
        db,
        "--count",
        "1",
        "--trace",
        trace_arg,
    ]);
    let health = common::smartpos(&[
        "health",
        "--host",
        &host,
        "--journal",
        db,
        "--trace",
        trace_arg,
    ]);
    let recover = common::smartpos(&[
        "recover",
        "--host",
        &host,
        "--journal",
        db,
        "--trace",
        trace_arg,
    ]);
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(pay.status.code(), Some(0));
    assert!(matches!(health.status.code(), Some(0 | 1)));
    assert_eq!(recover.status.code(), Some(0));

    let trace = std::fs::read(&trace).unwrap();
    let text = String::from_utf8_lossy(&trace);
    // Three processes appended to the one file: sign-on and sale, health's echo.
    let requests = assert_every_request_answered("trace", &text);
    assert!(requests >= 3, "{text}");
    assert!(
        text.contains("request 0200") && text.contains("response 0210"),
        "{text}"
    );
    assert_no_card_data("trace", &trace);
    let logged = std::fs::read(&sim_log).unwrap();
    let served = assert_every_request_answered("sim log", &String::from_utf8_lossy(&logged));
    assert_eq!(served, requests);
    assert_no_card_data("sim log", &logged);
}
