//! The TLS contracts of the CLI, against the real binaries: `smartpos sim --tls-cert --tls-key
//! [--tls-client-ca]` serving, and `pay`, `health`, `settle`, `recover` taking
//! `--host tls://HOST:PORT --ca FILE [--client-cert --client-key]`. Certificates come from a test
//! CA made at run time and written to a temporary folder.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;
use smartpos_tools::sim::pki::{LOOPBACK_NAMES, TestCa};

mod common;
use common::{ledger_net_fen, ok_json, smartpos};

/// `smartpos sim` as a child process; killed when dropped.
struct Sim {
    child: Child,
    /// As printed: `tls://127.0.0.1:PORT`.
    host: String,
}

impl Sim {
    fn start(args: &[&str]) -> Sim {
        let mut child = Command::new(env!("CARGO_BIN_EXE_smartpos"))
            .args(["sim", "--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        out.read_line(&mut first).unwrap();
        // "smartpos sim: acquirer listening on tls://127.0.0.1:PORT (TLS)"
        let host = first
            .split_whitespace()
            .find(|w| w.starts_with("tls://"))
            .unwrap_or_else(|| panic!("no tls:// address in {first:?}"))
            .to_owned();
        // Keep reading: a closed pipe would kill the simulator at its next line of output.
        std::thread::spawn(move || out.lines().for_each(drop));
        Sim { child, host }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A test CA, a server certificate for loopback and a terminal certificate, as files.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Pki {
        let dir = tempfile::tempdir().unwrap();
        let ca = TestCa::new("CLI test acquirer CA").unwrap();
        let server = ca.server_cert(&LOOPBACK_NAMES).unwrap();
        let terminal = ca.client_cert("10000001").unwrap();
        let other = TestCa::new("another CA").unwrap();
        for (name, text) in [
            ("ca.pem", ca.cert_pem()),
            ("server.pem", server.cert_pem.clone()),
            ("server.key", server.key_pem.to_string()),
            ("terminal.pem", terminal.cert_pem.clone()),
            ("terminal.key", terminal.key_pem.to_string()),
            ("other-ca.pem", other.cert_pem()),
        ] {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        Pki { dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().unwrap().to_owned()
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn pay(host: &str, db: &Path, tls: &[&str]) -> Value {
    let db = db.to_str().unwrap();
    let mut args = vec!["pay", "--host", host, "--journal", db, "--count", "2"];
    args.extend_from_slice(tls);
    args.extend_from_slice(&["--amount-range", "100..200", "--json", "--no-risk-checks"]);
    let out = smartpos(&args);
    let summary: Value = serde_json::from_slice(&out.stdout).expect("the pay summary");
    // The CLI policy: 0 when every payment is approved, 1 when any terminated.
    let expected = if summary["approved"] == 2 { 0 } else { 1 };
    assert_eq!(out.status.code(), Some(expected), "{summary}");
    summary
}

#[test]
fn pay_health_settle_and_recover_over_tls_and_a_wrong_ca_sends_nothing() {
    let pki = Pki::new();
    let ledger = pki.file("ledger.json");
    let sim = Sim::start(&[
        "--tls-cert",
        &pki.path("server.pem"),
        "--tls-key",
        &pki.path("server.key"),
        "--ledger",
        ledger.to_str().unwrap(),
    ]);
    let ca = pki.path("ca.pem");
    let db = pki.file("journal.db");
    let paid = pay(&sim.host, &db, &["--ca", &ca]);
    assert_eq!(paid["approved"], 2, "{paid}");
    let journal = ok_json(&smartpos(&["journal", db.to_str().unwrap(), "--json"]));
    assert_eq!(
        journal["net_approved_fen"].as_i64(),
        Some(ledger_net_fen(&ledger))
    );
    assert!(ledger_net_fen(&ledger) > 0);

    let db_arg = db.to_str().unwrap();
    let health = ok_json(&smartpos(&[
        "health",
        "--journal",
        db_arg,
        "--host",
        &sim.host,
        "--ca",
        &ca,
        "--json",
    ]));
    let check = |kind: &str| {
        health["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["kind"] == kind)
            .cloned()
            .unwrap()
    };
    assert_eq!(check("host")["status"], "ok", "{health}");
    let link = check("link_security");
    assert_eq!(link["status"], "ok", "{link}");
    assert!(
        link["detail_en"]
            .as_str()
            .unwrap()
            .contains("configured CA"),
        "{link}"
    );
    let settled = ok_json(&smartpos(&[
        "settle",
        "--journal",
        db_arg,
        "--host",
        &sim.host,
        "--ca",
        &ca,
        "--json",
    ]));
    assert_eq!(settled["debit_count"], 2, "{settled}");
    let recovered = ok_json(&smartpos(&[
        "recover",
        "--journal",
        db_arg,
        "--host",
        &sim.host,
        "--ca",
        &ca,
        "--json",
    ]));
    assert_eq!(recovered["reversals_pending"], 0, "{recovered}");

    // Trusting another CA: every sale ends NET_TLS and the acquirer's ledger does not move.
    let before = ledger_net_fen(&ledger);
    let refused = pay(
        &sim.host,
        &pki.file("other.db"),
        &["--ca", &pki.path("other-ca.pem")],
    );
    assert_eq!(refused["approved"], 0, "{refused}");
    assert_eq!(refused["terminated"]["NET_TLS"], 2, "{refused}");
    assert_eq!(ledger_net_fen(&ledger), before);
    let listing = ok_json(&smartpos(&[
        "journal",
        pki.file("other.db").to_str().unwrap(),
        "--json",
    ]));
    assert_eq!(listing["pending_reversals"], 0, "{listing}");

    // TLS flags on a plain address are refused, not ignored.
    let plain = sim.host.trim_start_matches("tls://");
    let out = smartpos(&["health", "--journal", db_arg, "--host", plain, "--ca", &ca]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("tls://"));
}

#[test]
fn a_sim_requiring_client_certificates_serves_only_terminals_that_present_one() {
    let pki = Pki::new();
    let sim = Sim::start(&[
        "--tls-cert",
        &pki.path("server.pem"),
        "--tls-key",
        &pki.path("server.key"),
        "--tls-client-ca",
        &pki.path("ca.pem"),
    ]);
    let ca = pki.path("ca.pem");
    let without = pay(&sim.host, &pki.file("without.db"), &["--ca", &ca]);
    assert_eq!(without["terminated"]["NET_TLS"], 2, "{without}");
    let with = pay(
        &sim.host,
        &pki.file("with.db"),
        &[
            "--ca",
            &ca,
            "--client-cert",
            &pki.path("terminal.pem"),
            "--client-key",
            &pki.path("terminal.key"),
        ],
    );
    assert_eq!(with["approved"], 2, "{with}");
}
