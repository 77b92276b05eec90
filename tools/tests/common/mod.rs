//! What the CLI contract tests share: running the `smartpos` binary and reading its answer.
// Each test binary compiles this module and uses only some of it.
#![allow(dead_code)]

use std::process::{Command, Output};

use serde_json::Value;
use smartpos_tools::demo_setup;
use smartpos_tools::sim::ledger::Ledger;
use smartpos_tools::sim::{Acquirer, SimServer};

/// The demo acquirer in-process on a loopback port, its ledger kept in `ledger_file`.
pub fn simulator(ledger_file: &std::path::Path) -> SimServer {
    let acquirer = Acquirer::new(Ledger::with_demo_accounts(), demo_setup::demo_tmk())
        .with_ledger_file(ledger_file.to_path_buf());
    SimServer::start(
        std::sync::Arc::new(acquirer),
        "127.0.0.1:0".parse().expect("address"),
    )
    .expect("simulator")
}

/// The acquirer ledger's net, as its file says.
pub fn ledger_net_fen(ledger_file: &std::path::Path) -> i64 {
    let doc: Value =
        serde_json::from_slice(&std::fs::read(ledger_file).expect("ledger file")).expect("JSON");
    doc["net_fen"].as_i64().expect("ledger file has net_fen")
}

pub fn smartpos(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_smartpos"))
        .args(args)
        .output()
        .expect("the smartpos binary runs")
}

/// The command succeeded and printed one JSON document.
pub fn ok_json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "exit {:?}, stderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is one JSON document")
}

/// The command exited with `code` and printed one JSON document (a report that says how the
/// operation ended, or an error document).
pub fn json_with_exit(out: &Output, code: i32) -> Value {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is one JSON document")
}

/// A loopback port nothing listens on: connects are refused, as with a host that is down.
pub fn closed_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    addr.to_string()
}
