//! The contract of `smartpos emv replay`, checked against the real binary.
//!
//! The replay files in `tests/data/emv/` are synthetic (a UnionPay debit card written for this
//! repository); no public contact capture with a GENERATE AC and its terminal data was found,
//! so the cryptograms checked are the recorded ones the kernel must carry through unchanged.

#![allow(clippy::unwrap_used)]

use serde_json::Value;

mod common;
use common::{ok_json, smartpos};

fn data(name: &str) -> String {
    format!("{}/tests/data/emv/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn replay(path: &str) -> Value {
    ok_json(&smartpos(&["emv", "replay", path, "--json"]))
}

#[test]
fn online_approval_replays_to_the_recorded_cryptograms() {
    let v = replay(&data("synthetic_unionpay_online.json"));
    assert_eq!(v["aid"], "A000000333010101");
    assert_eq!(v["outcome"], "approved_online");
    assert_eq!(v["termination"], Value::Null);
    assert_eq!(v["oda"]["method"], "none");
    assert_eq!(v["oda"]["result"], "not_performed");
    assert_eq!(v["tvr"], "8000048000");
    assert_eq!(v["cvm_results"], "420300");
    let ac = v["ac"].as_array().unwrap();
    assert_eq!(ac.len(), 2);
    assert_eq!(ac[0]["requested"], "arqc");
    assert_eq!(ac[0]["cid"], "80");
    assert_eq!(ac[0]["cryptogram"], "1122334455667788");
    assert_eq!(ac[0]["atc"], "0021");
    assert_eq!(ac[1]["requested"], "tc");
    assert_eq!(ac[1]["cryptogram"], "8877665544332211");
    assert_eq!(v["unmatched"].as_array().unwrap().len(), 0);
    let f55 = v["field55"].as_str().unwrap();
    assert!(f55.starts_with("9F26081122334455667788"), "{f55}");
    // The unpredictable number of the file is the one sent in CDOL1.
    let cmds = v["commands"].as_array().unwrap();
    let gen_ac = cmds
        .iter()
        .find(|c| c.as_str().unwrap().starts_with("80AE80"))
        .unwrap();
    assert!(gen_ac.as_str().unwrap().contains("DEADBEEF"));
    // No PAN or track in the output.
    let all = v.to_string();
    assert!(!all.contains("6222021234567890123"), "{all}");
}

#[test]
fn without_host_the_replay_ends_at_the_first_generate_ac() {
    let v = replay(&data("synthetic_unionpay_no_host.json"));
    assert_eq!(v["outcome"], "online");
    assert_eq!(v["ac"].as_array().unwrap().len(), 1);
}

#[test]
fn malformed_file_exits_2_and_a_broken_card_terminates() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"interface":"contact","apdus":[]}"#).unwrap();
    let out = smartpos(&["emv", "replay", bad.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(2));
    std::fs::write(&bad, "not json").unwrap();
    assert_eq!(
        smartpos(&["emv", "replay", bad.to_str().unwrap()])
            .status
            .code(),
        Some(2)
    );

    let mut doc: Value = serde_json::from_str(
        &std::fs::read_to_string(data("synthetic_unionpay_online.json")).unwrap(),
    )
    .unwrap();
    // GPO answers a format 1 template too short for an AIP.
    doc["apdus"][4][1] = Value::from("8001FF9000");
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, doc.to_string()).unwrap();
    let v = replay(broken.to_str().unwrap());
    assert_eq!(v["outcome"], "terminated");
    assert_eq!(v["termination"], "gpo_failed");
}
