//! Offline approvals signed at the card, killed around their advice and their signature's
//! upload: the signature is journaled with the approval, binds only after the advice is
//! answered, and at the end every signed offline sale has exactly one signature at the
//! simulator, bound to the slip as the acquirer booked it.

use super::*;

/// Each signed offline sale is killed right after its approval's commit (`offline.recorded`:
/// the advice and the signature both owed), then recovery is killed at one point of the rest:
/// after the host answered the advice and before the journal knew, after the binding was
/// journaled, after a signature segment was answered, after the upload was acknowledged.
#[cfg(feature = "crash-points")]
#[test]
fn offline_signed_sales_killed_around_the_advice_and_upload_leave_exactly_one_signature_each() {
    let dir = tempfile::tempdir().unwrap();
    let ledger_file = dir.path().join("ledger.json");
    let esign_dir = dir.path().join("esign");
    let db = dir.path().join("journal.db").to_str().unwrap().to_owned();
    let sim = Sim::spawn(&ledger_file, None, Some(&esign_dir));
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../core/src/esign/fixtures/signature.json"
    );
    let tail = ["--journal", &db, "--host", &sim.addr];
    let pay: Vec<&str> = [
        "pay",
        "--count",
        "1",
        "--no-risk-checks",
        "--card",
        "unionpay-offline",
        "--offline-floor-limit",
        "100000",
        "--amount-range",
        "100..5000",
        "--signature",
        fixture,
    ]
    .into_iter()
    .chain(tail)
    .collect();
    let recover: Vec<&str> = ["recover", "--json"].into_iter().chain(tail).collect();
    let points = [
        "advice.answered",
        "esign.bound",
        "esign.segment_answered",
        "esign.segment_journaled",
        "esign.uploaded",
    ];
    for point in points {
        crash_at("offline.recorded", &pay);
        crash_at(point, &recover);
    }
    let report = run_json(&recover);
    assert_eq!(report["advices_pending"], 0, "{report}");
    // And a signed offline sale that runs to its end, uploaded by the next recovery.
    run_json(&[&pay[..], &["--json"]].concat());
    let summary = audit(&db, &sim.addr, &ledger_file);

    let signed = uploaded_signatures(&db, &esign_dir);
    for (t, sig) in &signed {
        assert_eq!(t.kind, smartpos_core::store::TxnKind::OfflineSale, "{t:?}");
        assert!(sig.digest.is_some(), "bound after the advice: {t:?}");
    }
    assert_eq!(
        signed.len(),
        points.len() + 1,
        "killed signed sales and one clean one"
    );
    eprintln!("signed offline sales around the advice and the upload: {summary}");
}
