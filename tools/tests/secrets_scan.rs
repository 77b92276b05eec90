//! The secrets scan: after a whole demo day, with the core's log at its most verbose, no demo
//! card's number appears in clear or as packed BCD — nor any track 2 — in what the demo printed,
//! what it logged, or the journal files it leaves (database and WAL). The journal may hold a
//! PAN only masked (6+4) or sealed (AES-GCM).

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use std::process::Command;

use smartpos_tools::demo_setup::demo_track2;
use smartpos_tools::sim::ledger::Ledger;

/// What must never be found: each demo card's PAN as text and as packed BCD, and each track 2
/// (separator '=' and 'D').
fn needles() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for name in Ledger::demo_card_names() {
        let track2 = demo_track2(name).unwrap();
        let pan = track2.split('=').next().unwrap().to_owned();
        let bcd = hex::decode(if pan.len().is_multiple_of(2) {
            pan.clone()
        } else {
            format!("{pan}0")
        })
        .unwrap();
        out.push((format!("PAN of {name} (text)"), pan.as_bytes().to_vec()));
        out.push((format!("PAN of {name} (BCD)"), bcd));
        out.push((format!("track 2 of {name}"), track2.as_bytes().to_vec()));
        out.push((
            format!("track 2 of {name} (D)"),
            track2.replace('=', "D").into_bytes(),
        ));
    }
    out
}

fn assert_clean(what: &str, haystack: &[u8]) {
    for (name, needle) in needles() {
        assert!(
            !haystack
                .windows(needle.len())
                .any(|w| w == needle.as_slice()),
            "{name} found in {what}"
        );
    }
}

#[test]
fn a_demo_day_leaves_no_card_number_or_track_in_output_logs_or_journal() {
    let dir = tempfile::tempdir().unwrap();
    let kept = dir.path().join("journal");
    let out = Command::new(env!("CARGO_BIN_EXE_smartpos"))
        .args([
            "demo",
            "--receipts",
            "--journal-dir",
            kept.to_str().unwrap(),
        ])
        .env("RUST_LOG", "trace")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.len() > 1_000,
        "the log was on: {} bytes",
        out.stderr.len()
    );
    // The scan would be vacuous if the demo never showed a masked card.
    assert!(String::from_utf8_lossy(&out.stdout).contains("622202******0015"));
    assert_clean("the demo's output", &out.stdout);
    assert_clean("the log", &out.stderr);
    let mut files = 0;
    // The folder holds the journal and, under esign/, the signatures the acquirer kept.
    let mut folders = vec![kept.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
                continue;
            }
            assert_clean(&path.display().to_string(), &std::fs::read(&path).unwrap());
            files += 1;
        }
    }
    assert!(files >= 1, "the journal was kept");
}
