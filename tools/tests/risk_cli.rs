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
    // Without --key-id the key signs under its fingerprint id, which --public-key trusts.
    let fingerprint = signed["key_id"].as_str().unwrap().to_owned();
    assert_eq!(fingerprint.len(), 16);
    assert_eq!(
        verified,
        serde_json::json!({"valid": true, "version": 7, "key_id": fingerprint})
    );

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

#[test]
fn bundles_name_their_key_id_and_verify_only_with_a_key_trusted_under_it() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).to_str().unwrap().to_owned();
    let keygen = |name: &str| {
        let out = smartpos(&["risk", "bundle", "keygen", "--out", &p(name)]);
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let fleet_1 = keygen("k1.pk8");
    let fleet_2 = keygen("k2.pk8");
    let mut bundle: Value = ok_json(&smartpos(&["risk", "bundle", "export"]));
    bundle["version"] = 4.into();
    std::fs::write(p("b.json"), bundle.to_string()).unwrap();

    let signed = ok_json(&smartpos(&[
        "risk",
        "bundle",
        "sign",
        "--in",
        &p("b.json"),
        "--key",
        &p("k2.pk8"),
        "--key-id",
        "fleet-2",
        "--out",
        &p("b.sig"),
        "--json",
    ]));
    assert_eq!(signed["key_id"], "fleet-2");

    // Two trusted keys, as a terminal rotating from fleet-1 to fleet-2 holds them.
    let verified = ok_json(&smartpos(&[
        "risk",
        "bundle",
        "verify",
        "--in",
        &p("b.sig"),
        "--trusted-key",
        &format!("fleet-1={fleet_1}"),
        "--trusted-key",
        &format!("fleet-2={fleet_2}"),
        "--json",
    ]));
    assert_eq!(
        verified,
        serde_json::json!({"valid": true, "version": 4, "key_id": "fleet-2"})
    );

    // fleet-2 is not trusted: refused by name, listing what is trusted.
    failed_with(
        &smartpos(&[
            "risk",
            "bundle",
            "verify",
            "--in",
            &p("b.sig"),
            "--trusted-key",
            &format!("fleet-1={fleet_1}"),
        ]),
        "key id \"fleet-2\", which is not a trusted key (trusted: fleet-1)",
    );
    // The right name on the wrong key is a bad signature, not a match.
    failed_with(
        &smartpos(&[
            "risk",
            "bundle",
            "verify",
            "--in",
            &p("b.sig"),
            "--trusted-key",
            &format!("fleet-2={fleet_1}"),
        ]),
        "signature does not verify",
    );
    // The bare key trusts only its fingerprint id, not the name it was signed under.
    failed_with(
        &smartpos(&[
            "risk",
            "bundle",
            "verify",
            "--in",
            &p("b.sig"),
            "--public-key",
            &fleet_2,
        ]),
        "not a trusted key",
    );
    failed_with(
        &smartpos(&["risk", "bundle", "verify", "--in", &p("b.sig")]),
        "needs --trusted-key",
    );
    failed_with(
        &smartpos(&[
            "risk",
            "bundle",
            "sign",
            "--in",
            &p("b.json"),
            "--key",
            &p("k1.pk8"),
            "--key-id",
            "bad id",
            "--out",
            &p("x.sig"),
        ]),
        "--key-id",
    );
    assert!(!dir.path().join("x.sig").exists());
    failed_with(
        &smartpos(&[
            "risk",
            "bundle",
            "verify",
            "--in",
            &p("b.sig"),
            "--trusted-key",
            &fleet_2,
        ]),
        "expected ID=HEX",
    );

    // `check` evaluates with a bundle verified under the trusted key set too.
    let d = ok_json(&smartpos(&[
        "risk",
        "check",
        "--bundle",
        &p("b.sig"),
        "--trusted-key",
        &format!("fleet-2={fleet_2}"),
        "--json",
    ]));
    assert_eq!(d["bundle_version"], 4);
}
