//! The journal's side of chip uploads: an offline approval and its upload in one commit, the
//! uploads an outcome queues, and field 55 kept until the last of them is acknowledged.

use super::*;

pub(super) fn offline_sale(attempt_id: &str) -> NewTransaction {
    NewTransaction {
        attempt_id: attempt_id.to_owned(),
        kind: TxnKind::OfflineSale,
        amount_fen: 10_00,
        currency: "156".to_owned(),
        pan_masked: Some("622202******0312".to_owned()),
        pan_sealed: Some(OpaqueBlob::new(vec![0xA5; 44])),
        entry_mode: EntryMode::Chip,
        original_id: None,
        icc_data: Some(OpaqueBlob::new(vec![0x9F, 0x27, 0x01, 0x40])),
        needs_reversal: false,
        at_ms: 1_700_000_000_000,
    }
}

pub(super) fn open(dir: &std::path::Path) -> Journal {
    Journal::open(dir.join("journal.db")).expect("open journal")
}

#[test]
fn an_offline_approval_is_approved_with_its_upload_queued_in_one_commit() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = open(dir.path());
    let before = j.commit_count();
    let t = j
        .record_offline_approval(&offline_sale("o1"), 1_700_000_900_000)
        .unwrap();
    assert_eq!(j.commit_count(), before + 1, "one commit");
    drop(j);
    let j = open(dir.path());
    let record = j.transaction(t.id).unwrap().unwrap();
    assert_eq!(record.state, TxnState::Approved);
    assert_eq!(record.kind, TxnKind::OfflineSale);
    assert!(record.icc_data.is_some(), "kept for the upload");
    let queued = j.pending_advices().unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].purpose, AdvicePurpose::Advice);
    assert_eq!(queued[0].transaction_id, t.id);
    assert!(
        j.pending_reversals().unwrap().is_empty(),
        "nothing to reverse"
    );
    let totals = j.batch_totals(t.batch_no).unwrap();
    assert_eq!((totals.debit_count, totals.debit_fen), (1, 10_00));
}

#[test]
fn an_offline_approval_without_the_cards_data_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = open(dir.path());
    let mut bare = offline_sale("o1");
    bare.icc_data = None;
    assert!(matches!(
        j.record_offline_approval(&bare, 0),
        Err(StoreError::InvalidInput { .. })
    ));
    assert!(j.by_attempt_id("o1").unwrap().is_none());
}

/// An online chip approval queues its TC upload and script advice with the outcome; the
/// script advice has its own STAN; field 55 stays until the last one is acknowledged.
#[test]
fn chip_uploads_keep_the_cards_data_until_the_last_is_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = open(dir.path());
    let mut new = offline_sale("s1");
    new.kind = TxnKind::Sale;
    new.needs_reversal = true;
    let t = j.begin_online(&new).unwrap();
    let final_data = OpaqueBlob::new(vec![0x9F, 0x27, 0x01, 0x40, 0xDF, 0x31, 0x01, 0x20]);
    let outcome = HostOutcome {
        uploads: vec![
            (AdvicePurpose::TcUpload, 1_700_000_900_000),
            (AdvicePurpose::ScriptResult, 1_700_000_900_000),
        ],
        icc_data: Some(final_data.clone()),
        ..HostOutcome::new(
            TxnState::Approved,
            ReversalAction::Disarm,
            1_700_000_001_000,
        )
    };
    j.record_outcome(t.id, &outcome).unwrap();
    let queued = j.pending_advices().unwrap();
    let purposes: Vec<_> = queued.iter().map(|a| a.purpose).collect();
    assert_eq!(
        purposes,
        [AdvicePurpose::TcUpload, AdvicePurpose::ScriptResult]
    );
    assert_eq!(queued[0].stan, None, "the TC goes under the sale's STAN");
    let script_stan = queued[1].stan.expect("its own STAN");
    assert!(script_stan.value() > t.stan.value());
    assert_eq!(
        j.transaction(t.id).unwrap().unwrap().icc_data,
        Some(final_data.clone()),
        "replaced by the card's data after completion"
    );
    j.advice_sent(queued[0].seq).unwrap();
    assert!(
        j.transaction(t.id).unwrap().unwrap().icc_data.is_some(),
        "the script advice still needs it"
    );
    j.advice_sent(queued[1].seq).unwrap();
    assert!(j.transaction(t.id).unwrap().unwrap().icc_data.is_none());
    // The script advice's STAN was consumed: the next message gets a fresh one.
    assert!(j.next_stan_standalone().unwrap().value() > script_stan.value());
}
