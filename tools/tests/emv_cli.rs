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

/// Cards under the test CA (files written by `card::emv::oda_tests::write_replay_files`, the CA
/// key carried in `ca_keys`): each method verifies, and one flipped byte of the issuer
/// certificate sets the method's TVR byte 1 bit (EMV 4.4 Book 3 Annex C5).
#[test]
fn oda_verdicts_and_flipped_certificates() {
    let rows = [
        ("test_pki_sda.json", "sda", "ok", "0200008000"),
        ("test_pki_sda_flipped.json", "sda", "failed", "4200008000"),
        ("test_pki_dda.json", "dda", "ok", "0000008000"),
        ("test_pki_dda_flipped.json", "dda", "failed", "0800008000"),
        ("test_pki_cda.json", "cda", "ok", "0000008000"),
        ("test_pki_cda_flipped.json", "cda", "failed", "0400008000"),
    ];
    for (file, method, result, tvr) in rows {
        let v = replay(&data(file));
        assert_eq!(v["aid"], "A000000333010101", "{file}");
        assert_eq!(v["oda"]["method"], method, "{file}");
        assert_eq!(v["oda"]["result"], result, "{file}");
        assert_eq!(v["tvr"], tvr, "{file}");
        assert_eq!(v["outcome"], "online", "{file}");
        let ac = &v["ac"][0];
        assert_eq!(ac["requested"], "arqc", "{file}");
        assert_eq!(ac["cryptogram"], "5A5A5A5A5A5A5A5A", "{file}");
        assert_eq!(ac["atc"], "002A", "{file}");
    }
}

/// Published card data: the Mastercard card of emv-tools' ODA tests (as kept in
/// RfidResearchGroup/proxmark3 client/src/emv/test/cda_test.c), its signed record, certificates
/// under the shipped production CA key [05] and its GENERATE AC answer with CDA. The kernel must
/// build the same CDOL1 values the card signed (TVR 0, CVM results 1E0300, UN 12345779) for the
/// signature to verify, and recovers the published cryptogram 16AFBA13C52FB173. A flipped byte
/// of the ICC certificate fails CDA (TVR byte 1 bit 3), after which the terminal asks for an
/// AAC the recording does not hold: the replay terminates.
#[test]
fn emv_tools_mastercard_card_verifies_cda_with_the_published_cryptogram() {
    let v = replay(&data("emv_tools_mastercard_cda.json"));
    assert_eq!(v["aid"], "A0000000041010");
    assert_eq!(v["oda"]["method"], "cda");
    assert_eq!(v["oda"]["result"], "ok");
    assert_eq!(v["tvr"], "0000000000");
    assert_eq!(v["cvm_results"], "1E0300");
    assert_eq!(v["outcome"], "approved_offline");
    let ac = &v["ac"][0];
    assert_eq!(ac["requested"], "tc");
    assert_eq!(ac["cid"], "40");
    assert_eq!(ac["cryptogram"], "16AFBA13C52FB173");
    assert_eq!(ac["atc"], "0010");
    assert_eq!(v["unmatched"].as_array().unwrap().len(), 0);

    let v = replay(&data("emv_tools_mastercard_cda_flipped.json"));
    assert_eq!(v["oda"]["result"], "failed");
    assert_eq!(v["tvr"], "0400000000");
    assert_eq!(v["outcome"], "terminated");
}

/// The same published card through DDA (dda_test.c: the SDAD over DDOL data 00000000) when
/// the terminal does not offer CDA; no GENERATE AC answer was published with it, so the replay
/// ends there. A flipped ICC certificate byte sets DDA failed (TVR byte 1 bit 4).
#[test]
fn emv_tools_mastercard_card_verifies_dda() {
    let v = replay(&data("emv_tools_mastercard_dda.json"));
    assert_eq!(v["aid"], "A0000000041010");
    assert_eq!(
        (v["oda"]["method"].as_str(), v["oda"]["result"].as_str()),
        (Some("dda"), Some("ok"))
    );
    assert_eq!(v["tvr"], "0000000000");
    let cmds = v["commands"].as_array().unwrap();
    assert!(cmds.iter().any(|c| c == "00880000040000000000"));
    let v = replay(&data("emv_tools_mastercard_dda_flipped.json"));
    assert_eq!(v["oda"]["result"], "failed");
    assert_eq!(v["tvr"], "0800000000");
}

/// emv-tools' Visa card (sda_test.c) under Visa's retired CA key [01], carried in the file:
/// SDA verifies over the signed record and the AIP (9F4A = 82); "ICC data missing" is the
/// absent CVM list of the reconstructed records. A flipped issuer certificate byte: SDA failed.
#[test]
fn emv_tools_visa_card_verifies_sda() {
    let v = replay(&data("emv_tools_visa_sda.json"));
    assert_eq!(v["aid"], "A0000000031010");
    assert_eq!(
        (v["oda"]["method"].as_str(), v["oda"]["result"].as_str()),
        (Some("sda"), Some("ok"))
    );
    assert_eq!(v["tvr"], "2200000000");
    let v = replay(&data("emv_tools_visa_sda_flipped.json"));
    assert_eq!(v["oda"]["result"], "failed");
    assert_eq!(v["tvr"], "6200000000");
}
