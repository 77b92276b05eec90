//! `smartpos chip-config download|show`: the acquirer's IC parameters and CA keys downloaded
//! into a journal and shown from it; a key with a bad checksum refuses the download (exit 1)
//! with the tables in force unchanged; with crash points, a kill before the journal commit
//! keeps the old complete set and a kill after it the new one.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use std::sync::Arc;

use serde_json::Value;
use smartpos_tools::demo_setup;
use smartpos_tools::sim::ledger::Ledger;
use smartpos_tools::sim::{Acquirer, SimServer};

mod common;
use common::{closed_port, json_with_exit, ok_json, smartpos};

fn acquirer() -> (Arc<Acquirer>, SimServer) {
    let acquirer = Arc::new(Acquirer::new(
        Ledger::with_demo_accounts(),
        demo_setup::demo_tmk(),
    ));
    let sim = SimServer::start(acquirer.clone(), "127.0.0.1:0".parse().unwrap()).unwrap();
    (acquirer, sim)
}

fn show(db: &str) -> Value {
    ok_json(&smartpos(&[
        "chip-config",
        "show",
        "--journal",
        db,
        "--json",
    ]))
}

#[test]
fn downloads_are_shown_and_a_bad_key_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("journal.db");
    let db = db.to_str().unwrap();
    // No acquirer: exit 1, and the terminal keeps its built-in tables.
    let offline = json_with_exit(
        &smartpos(&[
            "chip-config",
            "download",
            "--journal",
            db,
            "--host",
            &closed_port(),
            "--create",
            "--json",
        ]),
        1,
    );
    assert_eq!(offline["error"]["code"], "not_done", "{offline}");
    let builtin = show(db);
    assert_eq!(builtin["ca_keys"]["source"], "built_in");
    assert_eq!(builtin["ca_keys"]["entries"].as_array().unwrap().len(), 8);
    assert_eq!(builtin["ic_parameters"]["source"], "built_in");

    let (acquirer, sim) = acquirer();
    let host = sim.addr().to_string();
    let done = ok_json(&smartpos(&[
        "chip-config",
        "download",
        "--journal",
        db,
        "--host",
        &host,
        "--json",
    ]));
    assert_eq!(done["downloads"][0]["set"], "ic_parameters", "{done}");
    assert_eq!(done["downloads"][0]["entries"], 10);
    assert_eq!(done["downloads"][1]["set"], "ca_keys");
    assert_eq!(done["downloads"][1]["entries"], 4);
    let shown = show(db);
    assert_eq!(shown["ca_keys"]["source"], "download");
    let keys = shown["ca_keys"]["entries"].as_array().unwrap();
    assert_eq!(keys.len(), 4);
    assert!(keys.iter().any(|k| k["algorithm"] == "sm2"));
    assert_eq!(
        shown["ic_parameters"]["entries"][0]["aid"],
        "A000000333010101"
    );

    let first = &acquirer.ic_params().ca_keys()[0];
    acquirer
        .ic_params()
        .corrupt_checksum(first.rid, first.index);
    let refused = json_with_exit(
        &smartpos(&[
            "chip-config",
            "download",
            "--journal",
            db,
            "--host",
            &host,
            "--set",
            "ca-keys",
            "--json",
        ]),
        1,
    );
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(message.contains("checksum"), "{message}");
    assert!(message.contains("unchanged"), "{message}");
    assert_eq!(show(db), shown, "the tables in force are as before");

    // Text output names each set.
    let text = smartpos(&["chip-config", "show", "--journal", db]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("CA public keys (downloaded"), "{text}");
    assert!(text.contains("A000000333 [E9] sm2"), "{text}");
}

#[cfg(feature = "crash-points")]
#[test]
fn a_kill_mid_download_keeps_the_old_complete_set() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("journal.db");
    let db = db.to_str().unwrap();
    let (acquirer, sim) = acquirer();
    let host = sim.addr().to_string();
    let download = |crash_at: Option<&str>| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_smartpos"));
        cmd.args([
            "chip-config",
            "download",
            "--journal",
            db,
            "--host",
            &host,
            "--set",
            "ca-keys",
            "--create",
        ]);
        if let Some(point) = crash_at {
            cmd.env("SMARTPOS_CRASH_AT", point);
        }
        cmd.output().unwrap()
    };
    // Every record received and checked, the commit not made: the built-in set stays.
    let killed = download(Some("ic_download.received@ca_keys"));
    assert!(!killed.status.success());
    assert_eq!(show(db)["ca_keys"]["source"], "built_in");
    // Killed right after the commit: the new set is what the next start loads.
    let killed = download(Some("ic_download.journaled@ca_keys"));
    assert!(!killed.status.success());
    let shown = show(db);
    assert_eq!(shown["ca_keys"]["source"], "download");
    assert_eq!(shown["ca_keys"]["entries"].as_array().unwrap().len(), 4);
    // The acquirer rotates to one key: a kill before the commit keeps the complete old set
    // of four, never a mix.
    let keys = acquirer.ic_params().ca_keys();
    acquirer.ic_params().set_ca_keys(keys[..1].to_vec());
    let killed = download(Some("ic_download.received@ca_keys"));
    assert!(!killed.status.success());
    assert_eq!(show(db)["ca_keys"]["entries"].as_array().unwrap().len(), 4);
    assert!(download(None).status.success());
    assert_eq!(show(db)["ca_keys"]["entries"].as_array().unwrap().len(), 1);
}
