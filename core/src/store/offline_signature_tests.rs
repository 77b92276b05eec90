//! The journal's side of an offline approval's signature: journaled with the approval in one
//! commit, queued behind the offline advice, and never bindable (so never sendable) before the
//! advice is answered.

use super::upload_tests::{offline_sale, open};
use super::*;

fn unbound() -> UnboundSignature {
    UnboundSignature {
        image_sealed: OpaqueBlob::new(vec![0x5A; 60]),
        date_time: "20261204101500".into(),
        jbig_bytes: 375,
        segments: 1,
        at_ms: 1_700_000_000_500,
    }
}

#[test]
fn an_offline_signature_is_journaled_with_the_approval_and_queued_behind_its_advice() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = open(dir.path());
    let before = j.commit_count();
    let t = j
        .record_offline_approval_signed(&offline_sale("o1"), 1_800_000_000_000, Some(&unbound()))
        .unwrap();
    assert_eq!(
        j.commit_count(),
        before + 1,
        "approval and signature: one commit"
    );
    drop(j);
    let j = open(dir.path());
    let stored = j.signature(t.id).unwrap().expect("journaled");
    assert_eq!(stored.state, SignatureState::Signed);
    assert_eq!(stored.digest, None, "no RRN yet: not bound");
    assert_eq!(stored.date_time, "20261204101500");
    let queued = j.pending_advices().unwrap();
    let purposes: Vec<_> = queued.iter().map(|a| a.purpose).collect();
    assert_eq!(purposes, [AdvicePurpose::Advice, AdvicePurpose::ESign]);
    assert!(queued[0].seq < queued[1].seq, "the advice goes first");
    let own = queued[1].stan.expect("the upload's own STAN");
    assert!(own.value() > t.stan.value());
    assert_eq!(j.advice_standing(t.id).unwrap(), AdviceStanding::Pending);
}

/// The store refuses to bind (and the engine sends only bound signatures) until the advice is
/// answered; the answer's RRN is kept on the transaction for the binding.
#[test]
fn an_offline_signature_is_never_bound_before_its_advice_is_answered() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = open(dir.path());
    let t = j
        .record_offline_approval_signed(&offline_sale("o1"), 1_800_000_000_000, Some(&unbound()))
        .unwrap();
    let advice = j.pending_advices().unwrap()[0].clone();
    assert!(matches!(
        j.bind_signature(t.id, &[0xD1; 32]),
        Err(StoreError::InvalidInput { .. })
    ));
    // An attempt that failed leaves the advice pending: still no binding.
    j.advice_failed(advice.seq, "timeout", 1_700_000_001_000)
        .unwrap();
    assert_eq!(j.advice_standing(t.id).unwrap(), AdviceStanding::Pending);
    assert!(j.bind_signature(t.id, &[0xD1; 32]).is_err());
    assert_eq!(j.signature(t.id).unwrap().unwrap().digest, None);

    let answer = HostOutcome {
        response_code: Some("00".into()),
        rrn: Some("000000000042".into()),
        auth_code: Some("123456".into()),
        keep_icc_data: true,
        ..HostOutcome::new(
            TxnState::Approved,
            ReversalAction::Disarm,
            1_700_000_002_000,
        )
    };
    j.record_outcome(t.id, &answer).unwrap();
    j.advice_sent(advice.seq).unwrap();
    assert_eq!(j.advice_standing(t.id).unwrap(), AdviceStanding::Answered);
    let record = j.transaction(t.id).unwrap().unwrap();
    assert_eq!(record.rrn.as_deref(), Some("000000000042"));
    j.bind_signature(t.id, &[0xD1; 32]).unwrap();
    // Bound once: a second binding (a crash between binding and sending) keeps the first.
    j.bind_signature(t.id, &[0xEE; 32]).unwrap();
    assert_eq!(j.signature(t.id).unwrap().unwrap().digest, Some([0xD1; 32]));
    let queued = j.pending_advices().unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].purpose, AdvicePurpose::ESign);
}

#[test]
fn an_advice_given_up_unanswered_leaves_its_signature_unbindable() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = open(dir.path());
    let t = j
        .record_offline_approval_signed(&offline_sale("o1"), 1_700_000_000_100, Some(&unbound()))
        .unwrap();
    let advice = j.pending_advices().unwrap()[0].clone();
    // Past its expiry: the advice becomes expired, never answered.
    j.advice_failed(advice.seq, "timeout", 1_700_000_001_000)
        .unwrap();
    assert_eq!(j.advice_standing(t.id).unwrap(), AdviceStanding::Unanswered);
    assert!(j.bind_signature(t.id, &[0xD1; 32]).is_err());
}

#[test]
fn an_unable_online_approval_takes_its_signature_in_the_same_commit() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = open(dir.path());
    let mut sale = offline_sale("y3");
    sale.kind = TxnKind::Sale;
    sale.needs_reversal = true;
    let t = j.begin_online(&sale).unwrap();
    let before = j.commit_count();
    j.approve_unable_online_signed(
        t.id,
        &OpaqueBlob::new(vec![0x8A, 0x02, b'Y', b'3']),
        1_800_000_000_000,
        1_700_000_001_000,
        Some(&unbound()),
    )
    .unwrap();
    assert_eq!(j.commit_count(), before + 1, "one commit");
    assert_eq!(j.signature(t.id).unwrap().unwrap().digest, None);
    let purposes: Vec<_> = j
        .pending_advices()
        .unwrap()
        .iter()
        .map(|a| a.purpose)
        .collect();
    assert_eq!(purposes, [AdvicePurpose::Advice, AdvicePurpose::ESign]);
    // A journal that cannot take the signature takes nothing: a second approval of the same
    // row is refused whole.
    assert!(
        j.approve_unable_online_signed(
            t.id,
            &OpaqueBlob::new(vec![0x8A, 0x02, b'Y', b'3']),
            1_800_000_000_000,
            1_700_000_001_000,
            Some(&unbound()),
        )
        .is_err()
    );
    assert_eq!(j.pending_advices().unwrap().len(), 2);
}
