//! The knobs a soak needs and the words an integrator reads: several terminals on one simulator,
//! host names in `--host`, per-kind labels and amounts in `pay`, limits that contradict each
//! other refused at signing, "never settled" in `health`, risk verdicts in words.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use serde_json::Value;

mod common;
use common::{json_with_exit, ok_json, simulator, smartpos};

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn two_terminals_share_one_simulator_and_each_settles_balanced() {
    let dir = tempfile::tempdir().unwrap();
    let sim = simulator(&dir.path().join("ledger.json"));
    // A host name, resolved when parsed.
    let host = format!("localhost:{}", sim.addr().port());
    for (tid, mid) in [
        ("10000001", "898310048140001"),
        ("10000002", "898310048140002"),
    ] {
        let db = dir.path().join(format!("{tid}.db"));
        let db = db.to_str().unwrap();
        let ids = ["--terminal-id", tid, "--merchant-id", mid];
        let mut args = vec!["pay", "--host", &host, "--journal", db, "--count", "3"];
        args.extend_from_slice(&["--no-risk-checks", "--json"]);
        args.extend_from_slice(&ids);
        assert_eq!(ok_json(&smartpos(&args))["approved"], 3);
        let mut settle = vec!["settle", "--host", &host, "--journal", db, "--json"];
        settle.extend_from_slice(&ids);
        let settled = ok_json(&smartpos(&settle));
        assert_eq!(settled["balanced"], true, "{tid}: {settled}");
        assert_eq!(settled["debit_count"], 3, "{tid}: {settled}");
    }
    let bad = smartpos(&[
        "pay",
        "--host",
        &host,
        "--journal",
        "x.db",
        "--count",
        "1",
        "--terminal-id",
        "123",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("8 letters or digits"));
}

#[test]
fn pay_labels_each_kind_and_shows_its_own_amount() {
    let dir = tempfile::tempdir().unwrap();
    let sim = simulator(&dir.path().join("ledger.json"));
    let host = sim.addr().to_string();
    let db = dir.path().join("j.db");
    let db = db.to_str().unwrap();
    let pay = |kind: &str| {
        let out = smartpos(&[
            "pay",
            "--host",
            &host,
            "--journal",
            db,
            "--count",
            "1",
            "--kind",
            kind,
            "--amount-range",
            "1000..1001",
            "--no-risk-checks",
        ]);
        assert_eq!(out.status.code(), Some(0), "{kind}");
        stdout(&out)
    };
    let refund = pay("refund");
    // The refund returns half the sale: its own amount first, the sale's in brackets.
    assert!(
        refund.starts_with("refund 1/1 ")
            && refund.contains(" 5.00 (of sale 10.00): approved 5.00"),
        "{refund}"
    );
    assert!(
        refund.contains("summary: 1 attempted, 1 approved (RMB 5.00)"),
        "{refund}"
    );
    let void = pay("void");
    assert!(
        void.starts_with("void 1/1 ") && void.contains("(of sale 10.00)"),
        "{void}"
    );
    let completion = pay("completion");
    assert!(
        completion.starts_with("completion 1/1 ") && completion.contains("(of pre-auth 10.00)"),
        "{completion}"
    );
    let json = json_with_exit(
        &smartpos(&[
            "pay",
            "--host",
            &host,
            "--journal",
            db,
            "--count",
            "1",
            "--kind",
            "pre-auth",
            "--no-risk-checks",
            "--json",
        ]),
        0,
    );
    assert_eq!(json["kind"], "pre-auth");
}

#[test]
fn health_of_a_journal_never_settled_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let sim = simulator(&dir.path().join("ledger.json"));
    let host = sim.addr().to_string();
    let db = dir.path().join("j.db");
    let db = db.to_str().unwrap();
    ok_json(&smartpos(&[
        "pay",
        "--host",
        &host,
        "--journal",
        db,
        "--count",
        "1",
        "--json",
    ]));
    let out = smartpos(&["health", "--host", &host, "--journal", db, "--json"]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let settlement = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "settlement")
        .unwrap();
    assert!(
        settlement["detail_en"]
            .as_str()
            .unwrap()
            .starts_with("never settled"),
        "{settlement}"
    );
    ok_json(&smartpos(&[
        "settle",
        "--host",
        &host,
        "--journal",
        db,
        "--json",
    ]));
    let out = smartpos(&["health", "--host", &host, "--journal", db]);
    assert!(!stdout(&out).contains("never settled"), "{}", stdout(&out));
}

#[test]
fn signing_refuses_limits_that_contradict_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).to_str().unwrap().to_owned();
    assert!(
        smartpos(&["risk", "bundle", "keygen", "--out", &p("key.pk8")])
            .status
            .success()
    );
    let mut bundle: Value = ok_json(&smartpos(&["risk", "bundle", "export"]));
    bundle["version"] = 2.into();
    bundle["limits"]["card"]["min_fen"] = 5_000.into();
    bundle["limits"]["card"]["max_fen"] = 1_000.into();
    std::fs::write(p("b.json"), bundle.to_string()).unwrap();
    let sign = |input: &str| {
        smartpos(&[
            "risk",
            "bundle",
            "sign",
            "--in",
            input,
            "--key",
            &p("key.pk8"),
            "--out",
            &p("b.sig"),
        ])
    };
    let out = sign(&p("b.json"));
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("limits.card: min_fen 5000 is above max_fen 1000"),
        "{err}"
    );
    assert!(
        !std::path::Path::new(&p("b.sig")).exists(),
        "nothing signed"
    );
    bundle["limits"]["card"]["max_fen"] = 0.into(); // no maximum: consistent
    std::fs::write(p("b.json"), bundle.to_string()).unwrap();
    assert_eq!(sign(&p("b.json")).status.code(), Some(0));
}

#[test]
fn risk_verdicts_are_words_and_the_help_example_for_counters_works() {
    // Noon in Beijing: at night the night-time large-amount rule adds a step of its own.
    let noon = "1796356800"; // 2026-12-04 12:00 +08:00
    let out = stdout(&smartpos(&[
        "risk",
        "check",
        "--amount-fen",
        "2000000",
        "--bin",
        "622202",
        "--time",
        noon,
    ]));
    assert!(
        out.starts_with("step up: require the PIN, require a signature"),
        "{out}"
    );
    assert!(!out.contains("Require"), "{out}");
    let json: Value = serde_json::from_slice(
        &smartpos(&[
            "risk",
            "check",
            "--amount-fen",
            "2000000",
            "--bin",
            "622202",
            "--time",
            noon,
            "--json",
        ])
        .stdout,
    )
    .unwrap();
    assert_eq!(json["verdict"], "step_up", "{json}");
    assert_eq!(
        json["steps"],
        serde_json::json!(["require_pin", "require_signature"])
    );
    // The example the help of --counters gives.
    let help = stdout(&smartpos(&["risk", "check", "--help"]));
    assert!(help.contains(r#"{"card_window_count": 5}"#), "{help}");
    let dir = tempfile::tempdir().unwrap();
    let counters = dir.path().join("c.json");
    std::fs::write(&counters, r#"{"card_window_count": 5}"#).unwrap();
    let out = smartpos(&[
        "risk",
        "check",
        "--bin",
        "622202",
        "--counters",
        counters.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).contains("rule: card_velocity"),
        "{}",
        stdout(&out)
    );
}
