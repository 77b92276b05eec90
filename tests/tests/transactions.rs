//! One end-to-end test per transaction type: the terminal's outcome and the acquirer's ledger
//! (money moved once, or not at all).

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use smartpos_core::diag::Cause;
use smartpos_core::txn::{
    BalanceRequest, FollowUpRequest, Original, PreAuthRequest, RefundRequest, VoidRequest,
};
use smartpos_e2e::Harness;

#[test]
fn sign_on_then_sale_moves_money_once() {
    let h = Harness::new();
    let before = h.balance("normal");
    let outcome = h.sale("a1", "normal", Some("123456"), 12_345);
    let approval = outcome.approval().expect("approved");
    assert_eq!(approval.amount_fen, 12_345);
    assert_eq!(approval.rrn.len(), 12);
    assert_eq!(approval.auth_code.len(), 6);
    assert!(approval.pan_masked.contains("******"));
    assert!(approval.receipt_printed);
    let printed = h.printer.printed();
    assert_eq!(printed.len(), 1);
    let text = printed[0].to_string();
    assert!(text.contains(&approval.pan_masked), "{text}");
    assert!(
        !text.contains("6222020000000015"),
        "full PAN on a receipt: {text}"
    );
    assert_eq!(h.net_fen(), 12_345);
    assert_eq!(h.balance("normal"), before - 12_345);
}

#[test]
fn the_same_attempt_id_charges_once() {
    let h = Harness::new();
    let first = h.sale("same", "normal", Some("123456"), 500);
    let again = h.sale("same", "normal", Some("123456"), 500);
    assert!(first.is_approved() && again.is_approved());
    assert_eq!(
        first.approval().unwrap().stan,
        again.approval().unwrap().stan
    );
    assert_eq!(h.net_fen(), 500);
    assert_eq!(h.acquirer().ledger().postings().len(), 1);
}

/// A duplicate slip is a copy of the transaction's: it shows the time the sale was made, not the
/// time it is reprinted (here the journal says the sale was made on 2 January, Beijing time).
#[test]
fn a_reprinted_slip_shows_the_time_of_the_sale() {
    let h = Harness::new();
    assert!(h.sale("old", "normal", Some("123456"), 700).is_approved());
    // 2026-01-02 03:04:05 in Beijing is 2026-01-01 19:04:05 UTC.
    let made_at_ms: i64 = 1_767_294_245_000;
    rusqlite::Connection::open(h.journal_path())
        .unwrap()
        .execute(
            "UPDATE transactions SET created_at = ?1 WHERE attempt_id = 'old'",
            [made_at_ms],
        )
        .unwrap();
    let copy = h.terminal.reprint("old").unwrap().to_string();
    assert!(copy.contains("2026-01-02 03:04:05"), "{copy}");
    assert!(copy.contains("DUPLICATE"), "{copy}");
    // The same duplicate answers a repeated attempt id.
    let again = h.sale("old", "normal", Some("123456"), 700);
    let replay = again.approval().unwrap().receipt.to_string();
    assert!(replay.contains("2026-01-02 03:04:05"), "{replay}");
}

#[test]
fn sale_declines_carry_the_host_reason() {
    let h = Harness::new();
    for (card, pin, code, cause) in [
        ("low", "123456", "51", Cause::Account),
        ("normal", "999999", "55", Cause::Account),
        ("lost", "123456", "41", Cause::Account),
        ("stolen", "123456", "43", Cause::Account),
        ("frozen", "123456", "62", Cause::Account),
    ] {
        let outcome = h.sale(&format!("d-{card}-{code}"), card, Some(pin), 99_999);
        let t = outcome
            .termination()
            .unwrap_or_else(|| panic!("{card} approved"));
        assert_eq!(
            t.host_code.as_ref().map(|c| c.as_str()),
            Some(code),
            "{card}"
        );
        assert_eq!(t.cause, cause, "{card}");
        assert!(!t.merchant_zh.is_empty() && !t.merchant_en.is_empty());
    }
    // A card past its expiry month (track 2 says 2001) never reaches the host to be told 54:
    // the terminal's own risk check refuses it after the read.
    let outcome = h.sale("d-expired", "expired", Some("123456"), 99_999);
    let t = outcome.termination().expect("expired card refused");
    assert_eq!(t.cause, Cause::Risk);
    assert_eq!(t.code, smartpos_core::diag::TerminationCode::RiskCardCheck);
    assert!(t.merchant_en.contains("card_expired"), "{}", t.merchant_en);
    assert_eq!(t.host_code, None);
    assert_eq!(h.net_fen(), 0);
    assert!(h.acquirer().ledger().postings().is_empty());
}

#[test]
fn void_undoes_the_sale() {
    let h = Harness::new();
    let sale = h.sale("s1", "normal", Some("123456"), 8_800);
    let stan = sale.approval().expect("sale").stan;
    let void = h.terminal.void(
        &VoidRequest {
            attempt_id: "v1".into(),
            original: Original { stan },
        },
        &h.cancel,
    );
    assert!(void.is_approved(), "{void:?}");
    assert_eq!(h.net_fen(), 0);
    let again = h.terminal.void(
        &VoidRequest {
            attempt_id: "v2".into(),
            original: Original { stan },
        },
        &h.cancel,
    );
    assert!(!again.is_approved(), "a voided sale cannot be voided twice");
    assert_eq!(h.net_fen(), 0);
}

#[test]
fn refund_credits_at_most_the_original() {
    let h = Harness::new();
    let sale = h.sale("s1", "normal", Some("123456"), 10_000);
    let stan = sale.approval().expect("sale").stan;
    h.present("normal", None);
    let too_much = h.terminal.refund(
        &RefundRequest {
            attempt_id: "r0".into(),
            amount_fen: 10_001,
            original: Original { stan },
        },
        &h.cancel,
    );
    assert_eq!(
        too_much.termination().map(|t| t.cause),
        Some(Cause::Operator)
    );
    h.present("normal", None);
    let refund = h.terminal.refund(
        &RefundRequest {
            attempt_id: "r1".into(),
            amount_fen: 2_500,
            original: Original { stan },
        },
        &h.cancel,
    );
    assert!(refund.is_approved(), "{refund:?}");
    assert_eq!(h.net_fen(), 7_500);
}

#[test]
fn balance_inquiry_reports_without_moving_money() {
    let h = Harness::new();
    h.present("normal", Some("123456"));
    let outcome = h.terminal.balance(
        &BalanceRequest {
            attempt_id: "b1".into(),
        },
        &h.cancel,
    );
    let a = outcome.approval().expect("balance");
    assert_eq!(a.balance_fen, Some(h.balance("normal")));
    assert_eq!(h.net_fen(), 0);
}

#[test]
fn pre_auth_completion_and_completion_void() {
    let h = Harness::new();
    let before = h.balance("normal");
    h.present("normal", Some("123456"));
    let pre = h.terminal.pre_auth(
        &PreAuthRequest {
            attempt_id: "p1".into(),
            amount_fen: 30_000,
        },
        &h.cancel,
    );
    let stan = pre.approval().expect("pre-auth").stan;
    assert_eq!(h.net_fen(), 0, "a hold is not a posting");
    let over = h.terminal.completion(
        &FollowUpRequest {
            attempt_id: "c0".into(),
            original: Original { stan },
            amount_fen: 30_001,
        },
        &h.cancel,
    );
    assert!(!over.is_approved());
    let done = h.terminal.completion(
        &FollowUpRequest {
            attempt_id: "c1".into(),
            original: Original { stan },
            amount_fen: 25_000,
        },
        &h.cancel,
    );
    let completion_stan = done.approval().expect("completion").stan;
    assert_eq!(h.net_fen(), 25_000);
    assert_eq!(h.balance("normal"), before - 25_000);
    let undone = h.terminal.completion_void(
        &FollowUpRequest {
            attempt_id: "cv1".into(),
            original: Original {
                stan: completion_stan,
            },
            amount_fen: 0,
        },
        &h.cancel,
    );
    assert!(undone.is_approved(), "{undone:?}");
    assert_eq!(h.net_fen(), 0);
    assert_eq!(h.balance("normal"), before);
}

#[test]
fn pre_auth_void_releases_the_hold() {
    let h = Harness::new();
    h.present("normal", Some("123456"));
    let pre = h.terminal.pre_auth(
        &PreAuthRequest {
            attempt_id: "p1".into(),
            amount_fen: 10_000,
        },
        &h.cancel,
    );
    let stan = pre.approval().expect("pre-auth").stan;
    let held = h.held("normal");
    assert_eq!(held, 10_000);
    let void = h.terminal.pre_auth_void(
        &FollowUpRequest {
            attempt_id: "pv1".into(),
            original: Original { stan },
            amount_fen: 0,
        },
        &h.cancel,
    );
    assert!(void.is_approved(), "{void:?}");
    assert_eq!(h.held("normal"), 0);
    assert_eq!(h.net_fen(), 0);
}

/// A swiped chip card is sent to the chip, every time: the fallback is a fact the chip kernel
/// reports for an inserted card in the same transaction (`tests/tests/chip.rs`), never a flag
/// the shell could set.
#[test]
fn a_chip_card_swiped_must_use_the_chip() {
    let h = Harness::new();
    for attempt in ["chip1", "chip2"] {
        let outcome = h.sale(attempt, "chip", Some("123456"), 1_000);
        let t = outcome.termination().expect("must insert");
        assert_eq!(t.cause, Cause::Operator);
        assert_eq!(t.code.to_string(), "OP_USE_CHIP");
    }
    assert_eq!(h.net_fen(), 0);
    assert!(h.acquirer().ledger().postings().is_empty());
}

#[test]
fn settlement_balances_and_opens_the_next_batch() {
    let h = Harness::new();
    h.sale("s1", "normal", Some("123456"), 1_000);
    h.sale("s2", "credit", Some("123456"), 2_000);
    let report = h.terminal.settle().expect("settle");
    assert!(report.balanced);
    assert_eq!((report.debit_count, report.debit_fen), (2, 3_000));
    assert_eq!(report.uploaded, 0);
    assert_eq!(report.next_batch_no, report.batch_no + 1);
    let next = h.sale("s3", "normal", Some("123456"), 100);
    assert_eq!(next.approval().unwrap().batch_no, report.next_batch_no);
}

#[test]
fn unbalanced_settlement_uploads_the_batch() {
    let h = Harness::new();
    let sale = h.sale("s1", "normal", Some("123456"), 1_000);
    h.sale("s2", "normal", Some("123456"), 2_000);
    // The acquirer lost one posting (a host-side fault): the totals disagree.
    let stan = sale.approval().unwrap().stan;
    assert!(
        h.acquirer()
            .ledger()
            .lose_record(smartpos_tools::demo_setup::DEMO_TERMINAL_ID, stan)
    );
    let report = h.terminal.settle().expect("settle");
    assert!(!report.balanced);
    assert_eq!(report.uploaded, 2);
    // The report says which totals differ: the host counts one debit of 1,000 fewer.
    let differ: Vec<_> = report
        .differences
        .iter()
        .map(|d| (d.total, d.terminal, d.host))
        .collect();
    assert_eq!(
        differ,
        [("debit_count", 2, 1), ("debit_fen", 3_000, 2_000)],
        "{report:?}"
    );
}

/// A0 on the settlement (the host could not verify its MAC): sign on again and settle once more.
#[test]
fn settlement_answered_a0_signs_on_and_settles_once_more() {
    let h = Harness::new();
    h.sale("s1", "normal", Some("123456"), 1_000);
    let tid = smartpos_tools::demo_setup::DEMO_TERMINAL_ID;
    let sign_ons = h.acquirer().sign_ons(tid);
    h.acquirer().inject(
        smartpos_tools::sim::Matcher::Mti("0500".into()),
        smartpos_tools::sim::Fault::Decline { code: "A0".into() },
    );
    let report = h.terminal.settle().expect("settled on the second try");
    assert!(report.balanced);
    assert_eq!(h.acquirer().sign_ons(tid), sign_ons + 1);
    // Twice A0: the one retry is spent, and settlement says why it stopped.
    h.sale("s2", "normal", Some("123456"), 500);
    for _ in 0..2 {
        h.acquirer().inject(
            smartpos_tools::sim::Matcher::Mti("0500".into()),
            smartpos_tools::sim::Fault::Decline { code: "A0".into() },
        );
    }
    let refused = h.terminal.settle().expect_err("A0 twice");
    assert_eq!(refused.code.to_string(), "NET_BAD_MAC");
}

#[test]
fn sign_off_discards_keys_and_the_next_sale_signs_on_again() {
    let h = Harness::new();
    h.terminal.sign_off().expect("sign-off");
    let outcome = h.sale("after", "normal", Some("123456"), 300);
    assert!(outcome.is_approved(), "{outcome:?}");
    assert_eq!(h.net_fen(), 300);
}
