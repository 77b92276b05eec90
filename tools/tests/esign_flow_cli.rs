//! The issue #18 contracts around a signed sale: `smartpos pay --signature FILE` signs whenever
//! the terminal asks, `sim --esign-dir` keeps the accepted signature as
//! `<terminal id>-<batch>-<STAN>.jbg`, and `smartpos slip --journal DB --stan N [--png] [--json]`
//! shows the e-slip.

use std::path::{Path, PathBuf};
use std::sync::Arc;

mod common;
use common::{json_with_exit, ok_json, smartpos};
use smartpos_tools::demo_setup;
use smartpos_tools::sim::ledger::Ledger;
use smartpos_tools::sim::{Acquirer, SimServer};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/src/esign/fixtures")
}

fn path(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

fn simulator(esign_dir: &Path) -> SimServer {
    let acquirer = Acquirer::new(Ledger::with_demo_accounts(), demo_setup::demo_tmk())
        .with_esign_dir(esign_dir.to_path_buf());
    SimServer::start(Arc::new(acquirer), "127.0.0.1:0".parse().expect("address"))
        .expect("simulator")
}

#[test]
fn a_signed_pay_reaches_the_esign_dir_and_its_slip_shows_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let esign_dir = dir.path().join("esign");
    let sim = simulator(&esign_dir);
    let db = dir.path().join("t.db");
    let host = sim.addr().to_string();
    let strokes = fixtures().join("signature.json");
    let summary = ok_json(&smartpos(&[
        "pay",
        "--host",
        &host,
        "--journal",
        path(&db),
        "--count",
        "1",
        "--no-risk-checks",
        "--signature",
        path(&strokes),
        "--terminal-id",
        "20000002",
        "--json",
    ]));
    assert_eq!(summary["approved"], 1);
    let kept: Vec<PathBuf> = std::fs::read_dir(&esign_dir)
        .expect("esign dir")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    let name = kept[0].file_name().and_then(|n| n.to_str()).expect("name");
    let parts: Vec<&str> = name.trim_end_matches(".jbg").split('-').collect();
    assert_eq!(parts[0], "20000002");
    let stan = parts[2];

    let png = dir.path().join("sig.png");
    let slip = ok_json(&smartpos(&[
        "slip",
        "--journal",
        path(&db),
        "--stan",
        stan,
        "--png",
        path(&png),
        "--terminal-id",
        "20000002",
        "--json",
    ]));
    assert_eq!(slip["stan"].as_u64(), stan.parse::<u64>().ok());
    assert_eq!(
        slip["terminal_id"], "20000002",
        "the id the slip was asked to print"
    );
    assert_eq!(slip["merchant_id"], demo_setup::DEMO_MERCHANT_ID);
    assert_eq!(slip["signature"]["state"], "signed");
    assert_eq!(
        slip["signature"]["jbig_bytes"].as_u64(),
        std::fs::metadata(&kept[0]).ok().map(|m| m.len())
    );
    let masked = slip["masked_pan"].as_str().expect("masked PAN");
    assert!(masked.contains('*'), "{masked}");
    assert!(std::fs::read(&png).expect("png").starts_with(b"\x89PNG"));
    let text = smartpos(&["slip", "--journal", path(&db), "--stan", stan]);
    assert!(text.status.success());
    assert!(
        String::from_utf8_lossy(&text.stdout).contains('#'),
        "the signature sketched"
    );
}

#[test]
fn a_bad_strokes_file_or_an_unknown_stan_exits_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{not json").expect("write");
    let db = dir.path().join("t.db");
    let out = smartpos(&[
        "pay",
        "--host",
        &common::closed_port(),
        "--journal",
        path(&db),
        "--count",
        "1",
        "--signature",
        path(&bad),
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let sim_dir = dir.path().join("esign");
    let sim = simulator(&sim_dir);
    let host = sim.addr().to_string();
    let summary = ok_json(&smartpos(&[
        "pay",
        "--host",
        &host,
        "--journal",
        path(&db),
        "--count",
        "1",
        "--json",
    ]));
    assert_eq!(summary["approved"], 1);
    json_with_exit(
        &smartpos(&["slip", "--journal", path(&db), "--stan", "999999", "--json"]),
        2,
    );
}
