//! One test per simulator fault: the terminal's final state, the reversal it armed, and the
//! acquirer's ledger.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use smartpos_core::diag::Cause;
use smartpos_core::store::{ReversalState, TxnState};
use smartpos_e2e::Harness;
use smartpos_tools::demo_setup;
use smartpos_tools::sim::ledger::{Effect, Ledger};
use smartpos_tools::sim::{Acquirer, Fault, Matcher, SimServer};

fn only_txn(h: &Harness) -> smartpos_core::store::TransactionRecord {
    let all = h.terminal.transactions().expect("journal");
    assert_eq!(all.len(), 1, "{all:?}");
    all.into_iter().next().unwrap()
}

fn sale_fault(fault: Fault) -> Harness {
    let h = Harness::new();
    h.acquirer().inject(Matcher::Mti("0200".into()), fault);
    h
}

#[test]
fn no_response_after_the_host_charged_is_reversed_at_once() {
    let h = sale_fault(Fault::NoResponse { apply: true });
    let outcome = h.sale("t1", "normal", Some("123456"), 4_200);
    let t = outcome.termination().expect("terminated");
    assert_eq!(t.cause, Cause::Network);
    let txn = only_txn(&h);
    assert_eq!(txn.state, TxnState::Reversed);
    let reversals = h.terminal.reversals().unwrap();
    assert_eq!(reversals.len(), 1);
    assert_eq!(reversals[0].reason.as_str(), "98");
    assert_eq!(reversals[0].state, ReversalState::Cleared);
    assert_eq!(h.net_fen(), 0, "charged then reversed");
    let effects: Vec<_> = h
        .acquirer()
        .ledger()
        .postings()
        .iter()
        .map(|p| p.effect)
        .collect();
    assert_eq!(effects, [Effect::Debit, Effect::Reversal]);
}

#[test]
fn an_undelivered_reversal_goes_before_the_next_message() {
    let h = Harness::new();
    h.acquirer().inject(
        Matcher::Mti("0200".into()),
        Fault::NoResponse { apply: true },
    );
    h.acquirer().inject(
        Matcher::Mti("0400".into()),
        Fault::NoResponse { apply: false },
    );
    let outcome = h.sale("t1", "normal", Some("123456"), 4_200);
    assert_eq!(outcome.termination().map(|t| t.cause), Some(Cause::Network));
    let pending = h.terminal.reversals().unwrap();
    assert_eq!(pending[0].state, ReversalState::Pending);
    assert_eq!(h.net_fen(), 4_200, "the host still holds the charge");

    // The next online message sends the armed reversal first.
    let next = h.sale("t2", "normal", Some("123456"), 100);
    assert!(next.is_approved(), "{next:?}");
    assert_eq!(
        h.terminal.reversals().unwrap()[0].state,
        ReversalState::Cleared
    );
    assert_eq!(h.net_fen(), 100);
}

#[test]
fn a_late_response_is_treated_as_none_and_reversed() {
    let h = sale_fault(Fault::LateResponse {
        delay: Duration::from_millis(900),
    });
    let outcome = h.sale("t1", "normal", Some("123456"), 700);
    assert_eq!(outcome.termination().map(|t| t.cause), Some(Cause::Network));
    assert_eq!(only_txn(&h).state, TxnState::Reversed);
    assert_eq!(h.net_fen(), 0);
}

#[test]
fn a_connection_dropped_after_the_request_is_reversed() {
    let h = sale_fault(Fault::DropAfterRead);
    let outcome = h.sale("t1", "normal", Some("123456"), 700);
    assert_eq!(outcome.termination().map(|t| t.cause), Some(Cause::Network));
    assert_eq!(h.terminal.reversals().unwrap()[0].reason.as_str(), "98");
    assert_eq!(only_txn(&h).state, TxnState::Reversed);
    assert_eq!(h.net_fen(), 0);
}

#[test]
fn garbled_bytes_are_reversed_with_reason_06() {
    let h = sale_fault(Fault::Garbled);
    let outcome = h.sale("t1", "normal", Some("123456"), 700);
    assert!(!outcome.is_approved());
    assert_eq!(h.terminal.reversals().unwrap()[0].reason.as_str(), "06");
    assert_eq!(only_txn(&h).state, TxnState::Reversed);
    assert_eq!(h.net_fen(), 0);
}

#[test]
fn a_wrong_response_mac_is_reversed_with_a0_and_forces_a_new_sign_on() {
    let h = sale_fault(Fault::WrongMac);
    let outcome = h.sale("t1", "normal", Some("123456"), 700);
    let t = outcome.termination().expect("terminated");
    assert_eq!(t.cause, Cause::Network);
    let reversal = &h.terminal.reversals().unwrap()[0];
    assert_eq!(reversal.reason.as_str(), "A0");
    assert_eq!(h.net_fen(), 0);
    let next = h.sale("t2", "normal", Some("123456"), 100);
    assert!(next.is_approved(), "{next:?}");
    assert_eq!(h.net_fen(), 100);
}

#[test]
fn connection_refused_on_the_primary_fails_over_to_the_backup() {
    let dead = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let acquirer = Arc::new(Acquirer::new(
        Ledger::with_demo_accounts(),
        demo_setup::demo_tmk(),
    ));
    let sim = SimServer::start(acquirer, "127.0.0.1:0".parse().unwrap()).unwrap();
    let h = Harness::with_endpoints(sim, Some(dead));
    h.terminal.sign_on().expect("sign-on via backup");
    let outcome = h.sale("t1", "normal", Some("123456"), 900);
    assert!(outcome.is_approved(), "{outcome:?}");
    assert_eq!(h.net_fen(), 900);
}

#[test]
fn connection_refused_everywhere_sends_nothing_and_arms_nothing() {
    let h = Harness::new();
    h.sim.set_refusing(true);
    let outcome = h.sale("t1", "normal", Some("123456"), 900);
    let t = outcome.termination().expect("terminated");
    assert_eq!(t.cause, Cause::Network);
    assert!(t.alternative.is_some(), "another way to pay is offered");
    assert!(h.terminal.pending_reversals().unwrap().is_empty());
    assert_eq!(only_txn(&h).state, TxnState::NotSent);
    h.sim.set_refusing(false);
    assert_eq!(h.net_fen(), 0);
}

#[test]
fn a_maintenance_window_is_explained_and_moves_nothing() {
    let h = sale_fault(Fault::Maintenance { code: "90".into() });
    let outcome = h.sale("t1", "normal", Some("123456"), 900);
    let t = outcome.termination().expect("terminated");
    assert_eq!(t.cause, Cause::Maintenance);
    assert!(t.retry_can_help);
    assert!(h.terminal.pending_reversals().unwrap().is_empty());
    assert_eq!(h.net_fen(), 0);
}

#[test]
fn a_reversal_that_keeps_failing_blocks_settlement() {
    let h = Harness::new();
    h.acquirer().inject(
        Matcher::Mti("0200".into()),
        Fault::NoResponse { apply: true },
    );
    for _ in 0..4 {
        h.acquirer().inject(
            Matcher::Mti("0400".into()),
            Fault::NoResponse { apply: false },
        );
    }
    h.sale("t1", "normal", Some("123456"), 4_200);
    // Two more tries, then it is parked for the operator.
    h.terminal.send_pending_reversals();
    h.terminal.send_pending_reversals();
    let r = &h.terminal.reversals().unwrap()[0];
    assert_eq!(r.attempts, 3);
    assert_eq!(r.state, ReversalState::Failed);
    let settle = h.terminal.settle();
    let t = settle.expect_err("blocked");
    assert!(
        t.merchant_en.to_lowercase().contains("reversal"),
        "{}",
        t.merchant_en
    );
    h.acquirer().faults().clear();
}

#[test]
fn a_response_for_another_stan_is_refused_and_reversed() {
    let h = sale_fault(Fault::AlterField {
        field: 11,
        value: "999999".into(),
    });
    let outcome = h.sale("t1", "normal", Some("123456"), 1_500);
    let t = outcome.termination().expect("not accepted");
    assert_eq!(t.code, smartpos_core::diag::TerminationCode::NetBadResponse);
    assert_eq!(h.terminal.reversals().unwrap()[0].reason.as_str(), "06");
    assert_eq!(only_txn(&h).state, TxnState::Reversed);
    assert_eq!(h.net_fen(), 0);
}

/// A0: the host could not verify the request's MAC, so nothing it says is authenticated. The
/// sale stays owed as unknown, its reversal (reason A0) goes at once after a new sign-on, and
/// the host, which never acted on the sale, answers 25: nothing charged, nothing owed.
#[test]
fn an_a0_answer_keeps_the_sale_owed_signs_on_and_reverses_it() {
    let h = sale_fault(Fault::Decline { code: "A0".into() });
    let tid = demo_setup::DEMO_TERMINAL_ID;
    let first = h.sale("t1", "normal", Some("123456"), 100);
    assert_eq!(
        first.termination().map(|t| t.code.to_string()).as_deref(),
        Some("NET_BAD_MAC")
    );
    assert_eq!(
        h.acquirer().sign_ons(tid),
        2,
        "signed on to send the reversal"
    );
    let reversals = h.terminal.reversals().unwrap();
    assert_eq!(reversals.len(), 1);
    assert_eq!(reversals[0].reason.as_str(), "A0");
    assert_eq!(reversals[0].state, ReversalState::Cleared);
    assert_eq!(only_txn(&h).state, TxnState::Reversed);
    assert_eq!(h.net_fen(), 0);
    assert!(h.sale("t2", "normal", Some("123456"), 100).is_approved());
    assert_eq!(h.acquirer().sign_ons(tid), 2, "keys in step since");
}

#[test]
fn a_response_with_another_amount_is_refused_and_reversed() {
    let h = sale_fault(Fault::AlterField {
        field: 4,
        value: "000000000001".into(),
    });
    assert!(!h.sale("t1", "normal", Some("123456"), 1_500).is_approved());
    assert_eq!(only_txn(&h).state, TxnState::Reversed);
    assert_eq!(h.net_fen(), 0);
}

#[test]
fn response_codes_77_and_99_force_a_new_sign_on() {
    for code in ["77", "99"] {
        let h = sale_fault(Fault::Decline { code: code.into() });
        let tid = demo_setup::DEMO_TERMINAL_ID;
        assert_eq!(h.acquirer().sign_ons(tid), 1);
        let first = h.sale("t1", "normal", Some("123456"), 100);
        assert_eq!(
            first
                .termination()
                .and_then(|t| t.host_code)
                .map(|c| c.to_string()),
            Some(code.to_string())
        );
        assert_eq!(
            h.acquirer().sign_ons(tid),
            1,
            "no sign-on until the next message"
        );
        assert!(h.sale("t2", "normal", Some("123456"), 100).is_approved());
        assert_eq!(
            h.acquirer().sign_ons(tid),
            2,
            "{code} demanded a new sign-on"
        );
    }
}

#[test]
fn an_ordinary_decline_does_not_sign_on_again() {
    let h = sale_fault(Fault::Decline { code: "05".into() });
    assert!(!h.sale("t1", "normal", Some("123456"), 100).is_approved());
    assert!(h.sale("t2", "normal", Some("123456"), 100).is_approved());
    assert_eq!(h.acquirer().sign_ons(demo_setup::DEMO_TERMINAL_ID), 1);
}

fn refund_after_sale(h: &Harness, attempt: &str, fen: u64) -> smartpos_core::txn::Outcome {
    let sale = h.sale(&format!("{attempt}-sale"), "normal", Some("123456"), 10_000);
    let stan = sale.approval().expect("sale").stan;
    h.present("normal", None);
    h.terminal.refund(
        &smartpos_core::txn::RefundRequest {
            attempt_id: attempt.into(),
            amount_fen: fen,
            original: smartpos_core::txn::Original { stan },
        },
        &h.cancel,
    )
}

/// A refund the host credits but whose answer is lost.
fn refund_with_lost_answer(h: &Harness, attempt: &str, fen: u64) -> smartpos_core::txn::Outcome {
    h.acquirer().inject(
        Matcher::Mti("0220".into()),
        Fault::NoResponse { apply: true },
    );
    refund_after_sale(h, attempt, fen)
}

/// How many refunds the acquirer's ledger has credited.
fn refund_postings(h: &Harness) -> usize {
    h.acquirer()
        .ledger()
        .postings()
        .iter()
        .filter(|p| p.effect == Effect::Refund)
        .count()
}

#[test]
fn an_unanswered_refund_is_forwarded_as_a_repeat_and_credited_once() {
    let h = Harness::new();
    let refund = refund_with_lost_answer(&h, "r1", 2_500);
    assert_eq!(refund.termination().map(|t| t.cause), Some(Cause::Network));
    assert!(
        h.terminal.pending_reversals().unwrap().is_empty(),
        "a refund is not reversed"
    );
    assert_eq!(h.net_fen(), 7_500);

    // The next online message forwards the advice first (0221, same STAN): answered once.
    assert!(h.sale("next", "normal", Some("123456"), 100).is_approved());
    let refund_row = h
        .terminal
        .transactions()
        .unwrap()
        .into_iter()
        .find(|t| t.attempt_id == "r1")
        .unwrap();
    assert_eq!(refund_row.state, TxnState::Approved);
    assert_eq!(refund_postings(&h), 1, "credited exactly once");
    assert_eq!(h.net_fen(), 7_600);
}

#[test]
fn a_refund_that_never_arrived_is_credited_when_its_repeat_does() {
    let h = Harness::new();
    h.acquirer().inject(
        Matcher::Mti("0220".into()),
        Fault::NoResponse { apply: false },
    );
    let refund = refund_after_sale(&h, "r2", 1_000);
    assert!(!refund.is_approved());
    assert_eq!(h.net_fen(), 10_000, "nothing credited yet");
    let report = h.terminal.recover();
    let rows = h.terminal.transactions().unwrap();
    assert_eq!(report.advices_pending, 0, "{report:?} {rows:?}");
    assert_eq!(h.net_fen(), 9_000);
}

/// The host credited a refund whose answer was lost, and its repeat goes unanswered too: the
/// batch is not closed on totals that leave the refund out (the host has it), settlement says
/// it waits; the next settlement repeats the advice, the host answers it once, and both sides'
/// totals hold the refund exactly once.
#[test]
fn settlement_waits_for_a_refund_advice_the_host_has_not_answered() {
    let h = Harness::new();
    let refund = refund_with_lost_answer(&h, "r3", 2_000);
    assert!(!refund.is_approved());
    assert_eq!(h.net_fen(), 8_000, "the host credited it");

    // Settlement forwards advices twice (as every online message does first, then before the
    // totals): both repeats go unanswered.
    for _ in 0..2 {
        h.acquirer().inject(
            Matcher::Mti("0221".into()),
            Fault::NoResponse { apply: false },
        );
    }
    let refused = h.terminal.settle().unwrap_err();
    assert_eq!(refused.code.to_string(), "MNT_UPLOADS_BLOCK_SETTLEMENT");
    assert!(refused.merchant_en.contains("STAN"), "{refused:?}");

    let report = h.terminal.settle().unwrap();
    assert!(report.balanced, "{report:?}");
    assert_eq!(
        (report.credit_count, report.credit_fen),
        (1, 2_000),
        "{report:?}"
    );
    assert_eq!(refund_postings(&h), 1, "credited exactly once");
    assert_eq!(h.net_fen(), 8_000);
}

/// Working keys a terminal must refuse whatever the host sends: single-length DES, equal halves,
/// a DES weak key, and one key as both PIN and MAC key. Each sign-on ends as SW_WEAK_KEYS, and
/// the keys in use and their sealed copy stay as they were.
#[test]
fn weak_or_shared_working_keys_are_refused_at_sign_on_and_change_nothing() {
    const GOOD: &str = "0123456789ABCDEFFEDCBA9876543210";
    const OTHER: &str = "1C2D3E4F5A6B7C8D8D7C6B5A4F3E2D1C";
    for (what, pik, mak) in [
        ("single-length keys", "0123456789ABCDEF", "1C2D3E4F5A6B7C8D"),
        ("equal halves", "0123456789ABCDEF0123456789ABCDEF", OTHER),
        ("weak half", GOOD, "FEFEFEFEFEFEFEFE8D7C6B5A4F3E2D1C"),
        ("PIK = MAK", GOOD, GOOD),
    ] {
        let h = Harness::new();
        let sealed = || {
            smartpos_core::store::Journal::open_read_only(h.journal_path())
                .unwrap()
                .key("working-keys")
                .unwrap()
        };
        let before = sealed();
        h.acquirer().inject(
            Matcher::Mti("0800".into()),
            Fault::IssueKeys {
                pik_hex: pik.into(),
                mak_hex: mak.into(),
            },
        );
        let refused = h.terminal.sign_on().expect_err(what);
        assert_eq!(refused.code.to_string(), "SW_WEAK_KEYS", "{what}");
        assert_eq!(sealed(), before, "{what}: sealed keys untouched");
        // The host holds the keys it issued; the terminal's next message signs on again.
        assert!(
            h.sale("after", "normal", Some("123456"), 100).is_approved(),
            "{what}"
        );
    }
}
