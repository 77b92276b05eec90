//! `smartpos emv replay` with `"interface": "contactless"`, against the real binary: a real
//! Visa qVSDC tap (fDDA under Visa's production CA key [09]) and the simulator's Mastercard C-2
//! tap (CDA), each with a one-byte change to the signed data, and the terminal's limit keys.

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
