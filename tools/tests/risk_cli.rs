//! Contracts of `smartpos risk bundle export|sign|verify` and `smartpos risk check`.

#![allow(clippy::unwrap_used)]

use std::process::Output;

use serde_json::Value;

mod common;
use common::{ok_json, smartpos};

fn failed_with(out: &Output, words: &str) {
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(words), "{err}");
}

#[test]
fn export_edit_sign_verify_and_reject_tampering_and_replay() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).to_str().unwrap().to_owned();
    let key_out = smartpos(&["risk", "bundle", "keygen", "--out", &p("key.pk8")]);
    assert!(key_out.status.success());
    let public_key = String::from_utf8(key_out.stdout).unwrap().trim().to_owned();
    assert_eq!(public_key.len(), 64);

    let exported = smartpos(&["risk", "bundle", "export"]);
    let mut bundle: Value = ok_json(&exported);
    assert_eq!(bundle["version"], 1);
    bundle["version"] = 7.into();
    bundle["limits"]["card"]["max_fen"] = 1_000.into();
    std::fs::write(p("b.json"), bundle.to_string()).unwrap();

    let signed = ok_json(&smartpos(&[
        "risk",
        "bundle",
        "sign",
        "--in",
        &p("b.json"),
        "--key",
        &p("key.pk8"),
        "--out",
        &p("b.sig"),
        "--json",
    ]));
    assert_eq!(signed["version"], 7);
    assert_eq!(signed["public_key"], public_key.as_str());

    let verified = ok_json(&smartpos(&[
        "risk",
        "bundle",
        "verify",
        "--in",
        &p("b.sig"),
        "--public-key",
        &public_key,
        "--json",
    ]));
    assert_eq!(verified, serde_json::json!({"valid": true, "version": 7}));

    failed_with(
        &smartpos(&[
            "risk",
            "bundle",
            "verify",
            "--in",
            &p("b.sig"),
            "--public-key",
            &public_key,
            "--active-version",
            "7",
        ]),
        "replay",
    );
    let mut bytes = std::fs::read(p("b.sig")).unwrap();
    let n = bytes.len();
    bytes[n - 3] ^= 0x10;
    std::fs::write(p("bad.sig"), &bytes).unwrap();
    failed_with(
        &smartpos(&[
            "risk",
            "bundle",
            "verify",
            "--in",
            &p("bad.sig"),
            "--public-key",
            &public_key,
        ]),
        "signature does not verify",
    );
    std::fs::write(p("cut.sig"), &bytes[..n - 70]).unwrap();
    failed_with(
        &smartpos(&[
            "risk",
            "bundle",
            "verify",
            "--in",
            &p("cut.sig"),
            "--public-key",
            &public_key,
        ]),
        "truncated",
    );

    // The signed bundle drives `check`: 1,001 fen is above its card maximum of 1,000.
    let d = ok_json(&smartpos(&[
        "risk",
        "check",
        "--bundle",
        &p("b.sig"),
        "--public-key",
        &public_key,
        "--amount-fen",
        "1001",
        "--json",
    ]));
    assert_eq!(d["verdict"], "decline");
    assert_eq!(d["rule"], "above_maximum");
    assert_eq!(d["bundle_version"], 7);
}

#[test]
fn check_from_flags_and_from_a_json_context() {
    // 2026-11-26 12:00 CST. The built-in bundle allows a 100-yuan chip sale.
    let allow = ok_json(&smartpos(&[
        "risk",
        "check",
        "--amount-fen",
        "10000",
        "--bin",
        "621700",
        "--expiry",
        "3012",
        "--time",
        "1795665600",
        "--json",
    ]));
    assert_eq!(allow["verdict"], "allow");
    assert_eq!(allow["rule"], "none");

    let text = smartpos(&[
        "risk",
        "check",
        "--bin",
        "621700",
        "--expiry",
        "2610",
        "--time",
        "1795665600",
    ]);
    let out = String::from_utf8(text.stdout).unwrap();
    assert!(out.starts_with("decline\nrule: card_expired"), "{out}");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ctx.json");
    let doc = serde_json::json!({
        "context": {
            "amount_fen": 20000,
            "method": {"type": "qr_static"},
            "card": null,
            "terminal": {"unix_time": 1795665600, "utc_offset_minutes": 480, "position": null,
                         "cell_id": null, "online": true, "mcc": "5812"},
            "random_1_99": 50
        },
        "counters": {"method_day_fen": 40000}
    });
    std::fs::write(&file, doc.to_string()).unwrap();
    let d = ok_json(&smartpos(&[
        "risk",
        "check",
        "--json",
        file.to_str().unwrap(),
    ]));
    assert_eq!(d["verdict"], "decline");
    assert_eq!(d["rule"], "qr_static_daily_cap");
    assert_eq!(
        d["cardholder"]["en"],
        "Not approved. Please use another card or payment method."
    );

    failed_with(
        &smartpos(&["risk", "check", "--card-hash", "zz", "--bin", "1"]),
        "--card-hash",
    );
}
