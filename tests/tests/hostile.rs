//! An on-path attacker between terminal and acquirer (`OnPathProxy`): nothing an unauthenticated
//! answer says moves money. Each test ends the way a shop would — a restart that recovers against
//! the real host — and then the journal's net must equal the acquirer ledger's with nothing owed.

#![allow(clippy::unwrap_used)] // helpers outside #[test] functions

use smartpos_core::store::{ReversalState, TxnState};
use smartpos_core::txn::{Original, RefundRequest};
use smartpos_e2e::Harness;
use smartpos_tools::demo_setup;
use smartpos_tools::sim::Tamper;

const PIN: Option<&str> = Some("123456");

/// The journal's card net and what is still owed, after a recovery against the real host.
fn reconcile(h: &mut Harness) {
    h.reopen_direct();
    let records = h.terminal.transactions().unwrap();
    let journal_net: i64 = records.iter().map(|r| r.net_effect_fen()).sum();
    assert_eq!(journal_net, h.net_fen(), "journal net = ledger net");
    assert!(
        h.terminal.pending_reversals().unwrap().is_empty(),
        "nothing owed: {:?}",
        h.terminal.pending_reversals().unwrap()
    );
    assert!(
        records
            .iter()
            .all(|r| !matches!(r.state, TxnState::Sending | TxnState::Unknown))
    );
}

fn code(outcome: &smartpos_core::txn::Outcome) -> String {
    outcome
        .termination()
        .map(|t| t.code.to_string())
        .unwrap_or_else(|| "APPROVED".into())
}

/// The attack of the issue: approvals with field 64 stripped and 39 = 05. Before, the journal
/// recorded three declines while the acquirer kept the money.
#[test]
fn an_approval_stripped_of_its_mac_and_turned_into_a_decline_is_reversed_not_believed() {
    let (mut h, proxy) = Harness::behind_proxy();
    for (i, fen) in [5_411u64, 4_307, 6_513].into_iter().enumerate() {
        proxy.next("0200", Tamper::StripMacAndSay { code: "05".into() });
        let outcome = h.sale(&format!("s{i}"), "normal", PIN, fen);
        assert_eq!(code(&outcome), "NET_BAD_MAC");
    }
    assert_eq!(proxy.tampered(), 3);
    // The reversals went at once, unhindered: the acquirer gave the money back.
    assert_eq!(h.net_fen(), 0);
    let reversals = h.terminal.reversals().unwrap();
    assert_eq!(reversals.len(), 3);
    assert!(reversals.iter().all(|r| r.reason.as_str() == "A0"));
    assert!(h.sale("s3", "normal", PIN, 1_000).is_approved());
    reconcile(&mut h);
    assert_eq!(h.net_fen(), 1_000);
}

/// The attacker also fakes the reversal's answer ("00", unsigned): the reversal is not cleared;
/// the terminal signs on and resends it, and in the end the real host clears it.
#[test]
fn a_forged_reversal_answer_clears_nothing() {
    let (mut h, proxy) = Harness::behind_proxy();
    proxy.next("0200", Tamper::StripMacAndSay { code: "05".into() });
    for _ in 0..2 {
        proxy.next("0400", Tamper::StripMacAndSay { code: "00".into() });
    }
    let outcome = h.sale("s1", "normal", PIN, 2_345);
    assert_eq!(code(&outcome), "NET_BAD_MAC");
    assert!(proxy.plan_done());
    let owed = h.terminal.pending_reversals().unwrap();
    assert_eq!(
        owed.len(),
        1,
        "still owed after two unauthenticated answers"
    );
    assert_eq!(owed[0].attempts, 2);
    // The host acted on both 0400s the proxy forwarded: the first undid the sale.
    assert_eq!(h.net_fen(), 0);
    reconcile(&mut h);
}

/// The issue's second case: the 0210 is dropped and an unsigned 0410 with 39 = 25 ("original not
/// found") answers the reversal. Before, the journal said reversed and the acquirer kept the
/// debit.
#[test]
fn a_dropped_approval_and_an_unsigned_25_leave_the_reversal_owed_until_the_real_host_takes_it() {
    let (mut h, proxy) = Harness::behind_proxy();
    proxy.next("0200", Tamper::DropAnswer);
    // Every 0400 this terminal sends through the proxy is answered by the attacker.
    for _ in 0..2 {
        proxy.next("0400", Tamper::ForgeUnsigned { code: "25".into() });
    }
    let outcome = h.sale("s1", "normal", PIN, 9_714);
    assert_eq!(code(&outcome), "NET_TIMEOUT");
    assert!(proxy.plan_done());
    assert_eq!(h.net_fen(), 9_714, "the acquirer holds the debit");
    let owed = h.terminal.pending_reversals().unwrap();
    assert_eq!(owed.len(), 1);
    assert_ne!(owed[0].state, ReversalState::Cleared);
    assert!(
        owed[0]
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains("no MAC")
    );
    reconcile(&mut h);
    assert_eq!(h.net_fen(), 0);
}

/// A refund advice acknowledged by a forged, unsigned 0230 stays queued and is re-sent to the
/// real host: the customer is credited once.
#[test]
fn a_forged_advice_answer_leaves_the_refund_queued() {
    let (mut h, proxy) = Harness::behind_proxy();
    let sale = h.sale("s1", "normal", PIN, 3_000);
    let stan = sale.approval().expect("sale").stan;
    proxy.next("0220", Tamper::DropAnswer);
    proxy.next("0221", Tamper::ForgeUnsigned { code: "00".into() });
    h.present("normal", None);
    let refund = h.terminal.refund(
        &RefundRequest {
            attempt_id: "r1".into(),
            amount_fen: 1_000,
            original: Original { stan },
        },
        &h.cancel,
    );
    assert!(!refund.is_approved());
    // The next sale forwards the advice first; the forged answer does not settle it.
    let _ = h.sale("s2", "normal", PIN, 500);
    assert!(proxy.plan_done());
    reconcile(&mut h);
    assert_eq!(h.transaction("r1").state, TxnState::Approved);
}

/// A sign-on answer whose key check value fails installs nothing and moves nothing: the keys,
/// their sealed copy and the batch number are as before.
#[test]
fn a_sign_on_answer_with_a_bad_check_value_changes_nothing() {
    let (h, proxy) = Harness::behind_proxy();
    let journal = smartpos_core::store::Journal::open_read_only(h.journal_path()).unwrap();
    let before = journal.key("working-keys").unwrap().unwrap();
    proxy.next("0800", Tamper::CorruptCheckValue);
    let refused = h.terminal.sign_on().unwrap_err();
    assert_eq!(refused.code.to_string(), "SW_KEYS_MISSING");
    let after = journal.key("working-keys").unwrap().unwrap();
    assert_eq!(before, after, "sealed keys untouched");
    // The keys in use are still the host's: the next sale signs on again and is approved.
    let tid = demo_setup::DEMO_TERMINAL_ID;
    let sign_ons = h.acquirer().sign_ons(tid);
    assert!(h.sale("s1", "normal", PIN, 100).is_approved());
    assert_eq!(h.acquirer().sign_ons(tid), sign_ons + 1);
}

/// The forgery a live test made against the UnionPay ECB MAC: field 39 "00" → "05" with the XOR
/// undone in an RRN digit at the same block offset. Under the ECB MAC it verifies and the journal
/// believes a decline while the acquirer keeps the money — which is why the terminal's default
/// is X9.19, under which the same edit fails its MAC, the sale is reversed, and the day
/// reconciles.
#[test]
fn an_ecb_compensated_edit_fools_cup_ecb_but_not_x919() {
    use smartpos_core::crypto::MacAlgorithm;
    // The attack works against the ECB MAC: proof the edit keeps that MAC intact.
    let (h, proxy) = Harness::behind_proxy_with_mac(MacAlgorithm::CupEcb);
    proxy.next("0200", Tamper::EcbCompensatedDecline);
    let fooled = h.sale("s1", "normal", PIN, 7_731);
    assert_eq!(
        code(&fooled),
        "HOST_DECLINED_05",
        "the ECB MAC verified the edit"
    );
    assert_eq!(h.net_fen(), 7_731, "and the acquirer kept the money");

    // The default dialect refuses it.
    let (mut h, proxy) = Harness::behind_proxy();
    proxy.next("0200", Tamper::EcbCompensatedDecline);
    let refused = h.sale("s1", "normal", PIN, 7_731);
    assert_eq!(code(&refused), "NET_BAD_MAC");
    assert_eq!(proxy.tampered(), 1);
    reconcile(&mut h);
    assert_eq!(h.net_fen(), 0);
}

/// Three reversals owed (a process died with three requests in flight), no working keys, the
/// host down: the recovery at open tries one sign-on, not one per reversal (each would wait for
/// the same unreachable host), and all three stay owed for the next pass.
#[test]
fn with_the_host_down_one_failed_sign_on_ends_the_reversal_pass() {
    use smartpos_core::store::{EntryMode, Journal, NewTransaction, TxnKind};
    let (mut h, proxy) = Harness::behind_proxy();
    h.close();
    {
        let mut journal = Journal::open(h.journal_path()).unwrap();
        for i in 0..3u64 {
            journal
                .begin_online(&NewTransaction {
                    attempt_id: format!("in-flight-{i}"),
                    kind: TxnKind::Sale,
                    amount_fen: 100 + i,
                    currency: "156".into(),
                    pan_masked: None,
                    pan_sealed: None,
                    entry_mode: EntryMode::Magstripe,
                    original_id: None,
                    icc_data: None,
                    needs_reversal: true,
                    at_ms: 0,
                })
                .unwrap();
        }
        journal.delete_key("working-keys").unwrap();
    }
    h.sim.set_refusing(true);
    let before = proxy.connections();
    h.reopen();
    assert_eq!(h.terminal.pending_reversals().unwrap().len(), 3);
    assert_eq!(
        proxy.connections() - before,
        1,
        "one sign-on attempt, then the pass ends"
    );
    h.sim.set_refusing(false);
    reconcile(&mut h);
}
