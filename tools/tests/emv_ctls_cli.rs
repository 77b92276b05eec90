//! `smartpos emv replay` with `"interface": "contactless"`, against the real binary: a real
//! Visa qVSDC tap (fDDA under Visa's production CA key [09]), a real Mastercard PayPass M/Chip
//! tap (CDA under Mastercard's test key [EF]) and the simulator's Mastercard C-2 tap (CDA), each
//! with a one-byte change to the signed data, and the terminal's limit keys.

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

/// The file with its terminal keys changed, written to a temporary file and replayed.
fn replay_with(name: &str, edit: impl FnOnce(&mut Value)) -> Value {
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(data(name)).unwrap()).unwrap();
    edit(&mut v);
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("smartpos-ctls-{}-{n}.json", std::process::id()));
    std::fs::write(&path, v.to_string()).unwrap();
    let out = replay(path.to_str().unwrap());
    let _ = std::fs::remove_file(path);
    out
}

/// MichaelsPlayground/TalkToYourCreditCardPart7, the Visa DKB log: a real tap starting at the
/// PPSE. Same AID, the card's ARQC DE1C4251186F7A5E at ATC 007A, and fDDA verified under the
/// production Visa key [09] (signed data format 95 over 9F37 ‖ 9F02 ‖ 5F2A ‖ 9F69).
#[test]
fn real_visa_tap_verifies_fdda_and_goes_online() {
    let v = replay(&data("ctls_visa_dkb_qvsdc.json"));
    assert_eq!(v["aid"], "A0000000031010");
    assert_eq!(v["kernel"], "c3_visa");
    assert_eq!(v["oda"]["method"], "dda");
    assert_eq!(v["oda"]["result"], "ok");
    assert_eq!(v["outcome"], "online");
    assert_eq!(v["tvr"], "0000000000");
    assert_eq!(v["cvm"], "no_cvm");
    let ac = &v["ac"][0];
    assert_eq!(ac["cid"], "80");
    assert_eq!(ac["cryptogram"], "DE1C4251186F7A5E");
    assert_eq!(ac["atc"], "007A");
    let f55 = v["field55"].as_str().unwrap();
    assert!(
        f55.starts_with("9F2608DE1C4251186F7A5E9F2701809F100706010A03A02000"),
        "{f55}"
    );
    assert_eq!(v["unmatched"].as_array().unwrap().len(), 0);
    assert_eq!(
        v["ui"],
        serde_json::json!(["processing", "card_read_ok", "processing"])
    );
}

/// One byte of the card's signature flipped: fDDA failed (TVR byte 1 bit 4); the card's CTQ
/// (3800: go online if ODA fails) sends it online for the issuer to refuse — never approved.
#[test]
fn real_visa_tap_with_a_flipped_signature_byte_fails_fdda() {
    let v = replay(&data("ctls_visa_dkb_qvsdc_flipped.json"));
    assert_eq!(v["oda"]["result"], "failed");
    assert_eq!(v["tvr"], "0800000000");
    assert_ne!(v["outcome"], "approved_offline");
    assert_eq!(v["outcome"], "online");
}

/// The limit keys override every combination: over the CVM required limit an online PIN is
/// asked for; at the contactless limit the card is told to insert before any command.
#[test]
fn terminal_limit_keys_override_the_aid() {
    let v = replay_with("ctls_visa_dkb_qvsdc.json", |f| {
        f["terminal"]["cvm_required_limit_fen"] = 500.into();
    });
    assert_eq!(v["cvm"], "online_pin");
    assert_eq!(v["ttq"], "37C04080");
    let v = replay_with("ctls_visa_dkb_qvsdc.json", |f| {
        f["terminal"]["contactless_limit_fen"] = 1000.into();
    });
    assert_eq!(v["outcome"], "terminated");
    assert_eq!(
        v["termination"],
        "try_another_interface_over_contactless_limit"
    );
    assert_eq!(v["commands"].as_array().unwrap().len(), 0);
    let v = replay_with("ctls_visa_dkb_qvsdc.json", |f| {
        f["terminal"]["contactless_floor_limit_fen"] = 5000.into();
    });
    assert_eq!(
        v["ttq"], "37004080",
        "under the floor limit no online cryptogram is required"
    );
}

/// C-2: the cryptogram exists only inside the CDA signature; the replay reports the recovered
/// one (the ARQC the acquirer simulator verifies for this card). A flipped byte: CDA failed,
/// declined offline, never online.
#[test]
fn mastercard_cda_recovers_the_cryptogram_and_a_flipped_byte_declines() {
    let v = replay(&data("ctls_sim_mastercard_cda.json"));
    assert_eq!(v["kernel"], "c2_mastercard");
    assert_eq!(v["oda"]["method"], "cda");
    assert_eq!(v["oda"]["result"], "ok");
    assert_eq!(v["ac"][0]["cryptogram"], "16E6AFDDFD09F606");
    assert_eq!(v["outcome"], "online");
    let v = replay_with("ctls_sim_mastercard_cda.json", |f| {
        f["host"] = serde_json::json!({"response_code": "00"});
    });
    assert_eq!(v["outcome"], "approved_online");

    let v = replay(&data("ctls_sim_mastercard_cda_flipped.json"));
    assert_eq!(v["oda"]["result"], "failed");
    assert_eq!(v["outcome"], "declined_offline");
    assert_eq!(v["tvr"].as_str().unwrap()[..2], *"04");
    assert_eq!(v["ac"][0]["cryptogram"], "0000000000000000");
}

/// binaryfoo/emv-bertlv `src/test/resources/cases/contactless-mastercard-in.txt`: a real
/// PayPass M/Chip tap of a physical Mastercard test card (CA key [EF]), from the added PPSE to
/// GENERATE AC with CDA. The kernel's CVM selection walks the card's list (5E03 1F03) to a
/// signature (AUD 100.01 over a CVM required limit of AUD 100.00), so the CDOL1 data are the
/// capture's byte for byte, CVM results 5E0300 included; CDA recovers the card's TC
/// D58B731AF5885C06 (the value emv-bertlv's own decoding shows), and the reader approves
/// offline with a signature.
#[test]
fn real_mastercard_tap_recovers_its_tc_through_cda() {
    let v = replay(&data("ctls_binaryfoo_mastercard_cda.json"));
    assert_eq!(v["aid"], "A0000000041010");
    assert_eq!(v["kernel"], "c2_mastercard");
    assert_eq!(v["oda"]["method"], "cda");
    assert_eq!(v["oda"]["result"], "ok");
    assert_eq!(v["ac"][0]["cid"], "40");
    assert_eq!(v["ac"][0]["cryptogram"], "D58B731AF5885C06");
    assert_eq!(v["ac"][0]["atc"], "0035");
    assert_eq!(v["tvr"], "0000000000");
    assert_eq!(v["cvm_results"], "5E0300");
    assert_eq!(v["cvm"], "signature");
    assert_eq!(v["outcome"], "approved_offline");
    assert_eq!(v["unmatched"].as_array().unwrap().len(), 0);
    let commands = v["commands"].as_array().unwrap();
    assert_eq!(
        commands.last().unwrap(),
        "80AE50002B00000001000100000000000000020000000000003612031500000EEC85\
         22000000000000000000005E030000",
        "the GENERATE AC the capture's reader sent, CDOL1 data byte for byte"
    );
    assert_eq!(
        v["ui"],
        serde_json::json!(["processing", "card_read_ok", "approved"])
    );
}

/// The same tap with one byte of the signed dynamic data (9F4B) changed: CDA failed (TVR byte
/// 1 bit 3), declined offline, no cryptogram reported, never approved.
#[test]
fn real_mastercard_tap_with_a_flipped_signature_byte_fails_cda() {
    let v = replay(&data("ctls_binaryfoo_mastercard_cda_flipped.json"));
    assert_eq!(v["aid"], "A0000000041010");
    assert_eq!(v["oda"]["method"], "cda");
    assert_eq!(v["oda"]["result"], "failed");
    assert_eq!(v["tvr"], "0400000000");
    assert_eq!(v["outcome"], "declined_offline");
    assert_eq!(v["ac"][0]["cryptogram"], "0000000000000000");
    for outcome in ["approved_offline", "approved_online", "online"] {
        assert_ne!(v["outcome"], outcome);
    }
}

/// At the CVM required limit (not over it) C-2 offers only "no CVM": the card's list ends at
/// 1F03, the CVM results differ from the capture's, and so the signed transaction data hash no
/// longer matches — CDA fails and the tap is declined, as it must be when the data the card
/// signed are not the data the reader sent.
#[test]
fn real_mastercard_tap_at_the_cvm_limit_selects_no_cvm() {
    let v = replay_with("ctls_binaryfoo_mastercard_cda.json", |f| {
        f["terminal"]["cvm_required_limit_fen"] = 10_001.into();
    });
    assert_eq!(v["cvm_results"], "1F0302");
    assert_eq!(v["cvm"], "no_cvm");
    assert_eq!(v["oda"]["result"], "failed");
    assert_eq!(v["outcome"], "declined_offline");
}

/// The C-2 CVM capability keys: a reader offering only online PIN over the limit supports
/// neither rule of the card's list (5E03 1F03), so cardholder verification fails (3F0001, TVR
/// byte 3 bit 8), the terminal action codes ask for an ARQC (P1 90) — a command the capture
/// has no answer for, so the tap ends there, never approved.
#[test]
fn cvm_capability_keys_reach_the_c2_kernel() {
    let v = replay_with("ctls_binaryfoo_mastercard_cda.json", |f| {
        f["terminal"]["cvm_capability_cvm_required"] = "40".into();
    });
    assert_eq!(v["cvm_results"], "3F0001");
    assert_eq!(v["tvr"], "0000800000");
    let unmatched = v["unmatched"][0].as_str().unwrap();
    assert!(unmatched.starts_with("80AE9000"), "{unmatched}");
    assert!(unmatched.ends_with("3F000100"), "{unmatched}");
    assert_eq!(v["outcome"], "terminated");
}
