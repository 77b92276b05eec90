//! The journal's side of e-signatures: signature and upload in one commit, progress that only
//! moves forward and survives a reopen, and the states settlement reads.

use super::*;

fn sale(attempt_id: &str) -> NewTransaction {
    NewTransaction {
        attempt_id: attempt_id.to_owned(),
        kind: TxnKind::Sale,
        amount_fen: 88_00,
        currency: "156".to_owned(),
        pan_masked: Some("622202******0015".to_owned()),
        pan_sealed: Some(OpaqueBlob::new(vec![0xA5; 44])),
        entry_mode: EntryMode::Magstripe,
        original_id: None,
        icc_data: None,
        needs_reversal: true,
        at_ms: 1_700_000_000_000,
    }
}

fn open(dir: &std::path::Path) -> Journal {
    Journal::open(dir.join("journal.db")).expect("open journal")
}

fn approved_sale(j: &mut Journal, attempt_id: &str) -> OnlineTxn {
    let t = j.begin_online(&sale(attempt_id)).unwrap();
    let outcome = HostOutcome {
        response_code: Some("00".into()),
        rrn: Some("000000000001".into()),
        auth_code: Some("000001".into()),
        ..HostOutcome::new(
            TxnState::Approved,
            ReversalAction::Disarm,
            1_700_000_001_000,
        )
    };
    j.record_outcome(t.id, &outcome).unwrap();
    t
}

fn signature(transaction_id: i64, segments: u32) -> NewSignature {
    NewSignature {
        transaction_id,
        image_sealed: OpaqueBlob::new(vec![0x5A; 60]),
        digest: [0xD1; 32],
        date_time: "20261204101500".into(),
        jbig_bytes: 700,
        segments,
        at_ms: 1_700_000_002_000,
    }
}

#[test]
fn a_signature_and_its_upload_are_one_commit_with_their_own_stan() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = open(dir.path());
    let t = approved_sale(&mut j, "s1");
    let before = j.commit_count();
    let seq = j
        .record_signature(&signature(t.id, 2), 1_800_000_000_000)
        .unwrap();
    assert_eq!(j.commit_count(), before + 1, "one commit");
    drop(j);
    let mut j = open(dir.path());
    let stored = j.signature(t.id).unwrap().expect("journaled");
    assert_eq!(stored.state, SignatureState::Signed);
    assert_eq!(stored.digest, Some([0xD1; 32]));
    assert_eq!((stored.segments, stored.segments_acked), (2, 0));
    assert_eq!(
        stored.image_sealed.map(|b| b.as_bytes().to_vec()),
        Some(vec![0x5A; 60])
    );
    let upload = stored.upload.expect("queued");
    assert_eq!((upload.seq, upload.purpose), (seq, AdvicePurpose::ESign));
    let own = upload.stan.expect("its own STAN");
    assert!(own.value() > t.stan.value());
    assert!(j.next_stan_standalone().unwrap().value() > own.value());
    // The same transaction cannot be signed twice.
    assert!(j.record_signature(&signature(t.id, 1), 0).is_err());
}

#[test]
fn upload_progress_only_moves_forward_and_survives_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = open(dir.path());
    let t = approved_sale(&mut j, "s1");
    j.record_signature(&signature(t.id, 3), 1_800_000_000_000)
        .unwrap();
    j.signature_segment_acked(t.id, 2).unwrap();
    // A segment acknowledged again after a crash (the host deduplicated it) changes nothing.
    j.signature_segment_acked(t.id, 1).unwrap();
    drop(j);
    let mut j = open(dir.path());
    assert_eq!(j.signature(t.id).unwrap().unwrap().segments_acked, 2);
    assert!(matches!(
        j.signature_segment_acked(t.id, 4),
        Err(StoreError::NotFound { .. })
    ));
    let seq = j.signature(t.id).unwrap().unwrap().upload.unwrap().seq;
    j.advice_sent(seq).unwrap();
    let upload = j.signature(t.id).unwrap().unwrap().upload.unwrap();
    assert_eq!(upload.state, AdviceState::Sent);
    assert!(j.pending_advices().unwrap().is_empty());
}

#[test]
fn a_given_up_upload_is_kept_expired_and_a_missing_signature_has_no_image() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = open(dir.path());
    let t = approved_sale(&mut j, "s1");
    let seq = j
        .record_signature(&signature(t.id, 1), 1_800_000_000_000)
        .unwrap();
    j.advice_failed(seq, "host unreachable", 1_700_000_003_000)
        .unwrap();
    j.esign_given_up(seq, "attempts used up").unwrap();
    let uploads = j.esign_uploads_in_batch(t.batch_no).unwrap();
    assert_eq!(uploads.len(), 1);
    assert_eq!(uploads[0].0, t.stan);
    assert_eq!(
        (uploads[0].1.state, uploads[0].1.attempts),
        (AdviceState::Expired, 2)
    );
    let next_batch = BatchNo::new(t.batch_no.value() + 1).unwrap();
    assert!(j.esign_uploads_in_batch(next_batch).unwrap().is_empty());
    assert_eq!(
        j.expired_advices().unwrap().len(),
        1,
        "listed for the operator"
    );
    assert!(j.pending_advices().unwrap().is_empty());

    let refused = approved_sale(&mut j, "s2");
    j.record_missing_signature(refused.id, "cancelled", "20261204101600", 0)
        .unwrap();
    let stored = j.signature(refused.id).unwrap().unwrap();
    assert_eq!(stored.state, SignatureState::Missing);
    assert_eq!(stored.missing_reason.as_deref(), Some("cancelled"));
    assert!(stored.image_sealed.is_none() && stored.upload.is_none());
    assert!(j.signature(999).unwrap().is_none());
}
