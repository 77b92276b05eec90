//! Journal durability: two commits per online sale, the same attempt id never charges twice
//! (before or after a restart), recovery at open, and storage faults.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use smartpos_core::diag::{Cause, TerminationCode};
use smartpos_core::store::{ReversalState, TxnState};
use smartpos_e2e::Harness;
use smartpos_tools::sim::ledger::Effect;
use smartpos_tools::sim::{Fault, Matcher};

#[test]
fn an_online_sale_costs_exactly_two_journal_commits() {
    let h = Harness::new();
    // Warm-up: the first sale after sign-on is no different, but measure a steady state.
    h.sale("warm", "normal", Some("123456"), 100);
    for (i, fen) in [1_000u64, 2_500, 99].into_iter().enumerate() {
        let before = h.terminal.journal_commits();
        let outcome = h.sale(&format!("s{i}"), "normal", Some("123456"), fen);
        assert!(outcome.is_approved(), "{outcome:?}");
        assert_eq!(h.terminal.journal_commits() - before, 2, "sale {i}");
    }
    // A decline is an online transaction too.
    let before = h.terminal.journal_commits();
    assert!(!h.sale("d", "low", Some("123456"), 999_999).is_approved());
    assert_eq!(h.terminal.journal_commits() - before, 2);
}

#[test]
fn a_replayed_attempt_id_commits_nothing_and_sends_nothing() {
    let h = Harness::new();
    h.sale("once", "normal", Some("123456"), 700);
    let commits = h.terminal.journal_commits();
    let postings = h.acquirer().ledger().postings().len();
    let again = h.sale("once", "normal", Some("123456"), 700);
    assert!(again.is_approved());
    assert_eq!(h.terminal.journal_commits(), commits);
    assert_eq!(h.acquirer().ledger().postings().len(), postings);
}

#[test]
fn the_same_attempt_id_after_a_restart_charges_once() {
    let mut h = Harness::new();
    let first = h.sale("a1", "normal", Some("123456"), 1_234);
    assert!(first.is_approved());
    h.reopen();
    let again = h.sale("a1", "normal", Some("123456"), 1_234);
    let a = again.approval().expect("the recorded approval");
    assert_eq!(a.stan, first.approval().unwrap().stan);
    assert!(a.receipt.title().contains("DUPLICATE"));
    assert_eq!(h.net_fen(), 1_234);
    assert_eq!(h.acquirer().ledger().postings().len(), 1);
}

#[test]
fn an_unanswered_sale_is_reversed_by_recovery_after_a_restart_and_never_recharged() {
    let mut h = Harness::new();
    h.acquirer().inject(
        Matcher::Mti("0200".into()),
        Fault::NoResponse { apply: true },
    );
    // The host is unreachable for reversals until the "restart".
    for _ in 0..2 {
        h.acquirer().inject(
            Matcher::Mti("0400".into()),
            Fault::NoResponse { apply: false },
        );
    }
    let outcome = h.sale("lost", "normal", Some("123456"), 4_000);
    assert_eq!(outcome.termination().map(|t| t.cause), Some(Cause::Network));
    assert_eq!(h.net_fen(), 4_000, "the host holds the charge");

    h.reopen();
    // Open ran recovery, but the host still swallows one reversal: it stays pending.
    assert_eq!(h.terminal.pending_reversals().unwrap().len(), 1);
    let report = h.terminal.recover();
    assert_eq!(report.reversals_sent, 1, "{report:?}");
    assert_eq!(report.reversals_pending, 0);
    assert_eq!(h.net_fen(), 0);

    // The cashier retries the same attempt: the recorded outcome, no new charge.
    let retry = h.sale("lost", "normal", Some("123456"), 4_000);
    assert!(!retry.is_approved());
    let effects: Vec<Effect> = h
        .acquirer()
        .ledger()
        .postings()
        .iter()
        .map(|p| p.effect)
        .collect();
    assert_eq!(effects, [Effect::Debit, Effect::Reversal]);
    let txn = &h.terminal.transactions().unwrap()[0];
    assert_eq!(txn.state, TxnState::Reversed);
    assert_eq!(
        h.terminal.reversals().unwrap()[0].state,
        ReversalState::Cleared
    );
}

#[test]
fn a_corrupt_journal_is_moved_aside_and_payments_wait_for_the_operator() {
    let mut h = Harness::new();
    h.sale("before", "normal", Some("123456"), 500);
    let path = h.journal_path();
    h.close();
    // Overwrite the journal with garbage, as a failing flash chip might.
    drop(std::fs::remove_file(path.with_extension("db-wal")));
    std::fs::write(&path, b"this is not a database, just bad flash").unwrap();
    h.reopen();

    let fault = h
        .terminal
        .unacknowledged_storage_fault()
        .expect("fault reported");
    assert!(!fault.moved_to.is_empty());
    for moved in &fault.moved_to {
        assert!(moved.exists(), "{} kept", moved.display());
    }
    let refused = h.sale("after", "normal", Some("123456"), 500);
    let t = refused.termination().expect("refused");
    assert_eq!(t.cause, Cause::Software);
    assert_eq!(t.code, TerminationCode::SwStorageCorrupt);
    assert_eq!(h.net_fen(), 500, "nothing new reached the host");

    // Garbage cannot be read back: what it owed is unknown, so a plain acknowledgement is
    // refused, and a restart does not forget the fault either.
    assert!(fault.unreadable.is_some());
    let refused = h.terminal.acknowledge_storage_fault(false).unwrap_err();
    assert!(
        refused.to_string().contains("could not be read"),
        "{refused}"
    );
    h.reopen();
    assert!(h.terminal.unacknowledged_storage_fault().is_some());
    assert!(
        !h.sale("after-restart", "normal", Some("123456"), 500)
            .is_approved()
    );
    h.terminal.acknowledge_storage_fault(true).unwrap();
    h.reopen();
    assert!(
        h.terminal.unacknowledged_storage_fault().is_none(),
        "acknowledged for good"
    );
    assert!(
        h.sale("after-ack", "normal", Some("123456"), 300)
            .is_approved()
    );
    assert_eq!(h.net_fen(), 800);
}

#[test]
fn damage_found_by_the_background_check_stops_payments_like_damage_found_at_open() {
    // Sixty sales on one card in seconds grow the journal; risk checks would (rightly) stop
    // the card after five.
    let mut h = Harness::without_risk_checks();
    for n in 0..60 {
        h.sale(&format!("before-{n}"), "normal", Some("123456"), 100);
    }
    let path = h.journal_path();
    h.close();
    // Fold the WAL in, then overwrite one b-tree page with garbage: the header, schema and size
    // are intact, so open succeeds and only the integrity check (run after open) sees it.
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    let page = 4096;
    let victim = bytes.len() / page - 2;
    bytes[victim * page..(victim + 1) * page].fill(0xA5);
    std::fs::write(&path, &bytes).unwrap();
    h.reopen();

    let refused = h.sale("after", "normal", Some("123456"), 500);
    let t = refused.termination().expect("refused");
    assert_eq!(t.code, TerminationCode::SwStorageCorrupt);
    assert_eq!(h.net_fen(), 6_000, "nothing new reached the host");
    let fault = h
        .terminal
        .unacknowledged_storage_fault()
        .expect("fault reported");
    assert_eq!(
        std::fs::read(&fault.moved_to[0]).unwrap(),
        bytes,
        "evidence kept as found"
    );

    h.terminal
        .acknowledge_storage_fault(fault.unreadable.is_some())
        .unwrap();
    assert!(
        h.sale("after-ack", "normal", Some("123456"), 300)
            .is_approved()
    );
    assert_eq!(h.net_fen(), 6_300);
}

#[test]
fn a_printer_fault_after_approval_keeps_the_payment_and_the_receipt() {
    let h = Harness::new();
    h.printer
        .fail_next(smartpos_core::ports::DeviceFault::PrinterOutOfPaper);
    let outcome = h.sale("p1", "normal", Some("123456"), 2_000);
    let a = outcome.approval().expect("still approved");
    assert!(!a.receipt_printed);
    assert_eq!(h.net_fen(), 2_000);
    assert_eq!(h.terminal.recover().receipts_unprinted, 1);
}

#[test]
fn a_full_disk_fails_the_sale_before_anything_is_sent() {
    // Identical sales on one card until the budget fills: risk checks off, or the duplicate
    // guard would end the loop first.
    let mut h = Harness::without_risk_checks();
    h.sale("first", "normal", Some("123456"), 100);
    let pages = smartpos_core::store::Journal::open_read_only(h.journal_path())
        .unwrap()
        .page_count()
        .unwrap();
    // Room for the pages the journal has now and hardly more.
    h.reopen_with_budget(pages * 4096 + 4096);
    let mut full = None;
    for i in 0..200 {
        let outcome = h.sale(&format!("fill-{i}"), "normal", Some("123456"), 100);
        if let Some(t) = outcome.termination() {
            full = Some(t.clone());
            break;
        }
    }
    let t = full.expect("the budget fills up");
    assert_eq!(t.code, TerminationCode::DevStorage, "{t:?}");
    assert_eq!(t.cause, Cause::Device);
    // Whatever the journal did not record never reached the host: the ledger holds exactly the
    // journal's approved sales.
    let approved: u64 = h
        .terminal
        .transactions()
        .unwrap()
        .iter()
        .filter(|r| r.state == TxnState::Approved)
        .map(|r| r.amount_fen)
        .sum();
    assert_eq!(h.net_fen(), approved as i64);
    assert!(h.terminal.pending_reversals().unwrap().is_empty());
}

/// A reversal owed in a journal later found corrupt is not lost with it: the quarantined copy is
/// read (read-only), the reversal carried into the fresh journal, and once the operator
/// acknowledges, the fresh journal sends it before the next payment.
#[test]
fn a_reversal_owed_in_a_corrupt_journal_is_carried_over_and_sent() {
    let mut h = Harness::without_risk_checks();
    assert!(h.sale("kept", "normal", Some("123456"), 700).is_approved());
    assert!(!h.sale_left_owing_a_reversal("lost", 4_200).is_approved());
    assert_eq!(h.terminal.pending_reversals().unwrap().len(), 1);
    assert_eq!(h.net_fen(), 4_900, "the host holds the unanswered sale");
    h.close();
    // Damage one page the payments do not read (an index of the statistics): the journal opens,
    // its integrity check fails, and it is quarantined.
    let path = h.journal_path();
    let root: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row(
            "SELECT rootpage FROM sqlite_master WHERE name = 'endings_at'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    let page = 4096;
    let at = (root as usize - 1) * page;
    bytes[at..at + page].fill(0xA5);
    std::fs::write(&path, &bytes).unwrap();
    h.reopen();

    let refused = h.sale("while-unacknowledged", "normal", Some("123456"), 100);
    assert_eq!(
        refused.termination().unwrap().code,
        TerminationCode::SwStorageCorrupt
    );
    let fault = h.terminal.unacknowledged_storage_fault().unwrap();
    assert_eq!(fault.carried, 1, "{fault:?}");
    assert_eq!(fault.unreadable, None);
    assert_eq!(h.terminal.pending_reversals().unwrap().len(), 1, "carried");
    h.terminal.acknowledge_storage_fault(false).unwrap();

    assert!(h.sale("after", "normal", Some("123456"), 300).is_approved());
    assert!(h.terminal.pending_reversals().unwrap().is_empty());
    assert_eq!(h.transaction("lost").state, TxnState::Reversed);
    assert_eq!(
        h.net_fen(),
        700 + 300,
        "the lost sale was reversed at the host"
    );
}

/// A reversal whose sealed PAN no longer opens (the storage key was reset) still goes: without
/// field 2, matched by the acquirer on terminal, batch and STAN. Before, it was never attempted
/// and blocked every payment without a word.
#[test]
fn a_reversal_whose_pan_cannot_be_unsealed_goes_without_it_and_is_cleared() {
    let mut h = Harness::without_risk_checks();
    assert!(!h.sale_left_owing_a_reversal("lost", 2_500).is_approved());
    assert_eq!(h.net_fen(), 2_500);
    h.reopen_with_new_storage_key();
    let reversals = h.terminal.reversals().unwrap();
    assert_eq!(reversals[0].state, ReversalState::Cleared, "{reversals:?}");
    assert_eq!(h.net_fen(), 0, "the acquirer reversed it by STAN");
    assert!(h.sale("next", "normal", Some("123456"), 100).is_approved());
}

/// Sealed PANs are bound to their journal row (associated data = attempt id): a blob copied onto
/// another row does not open there. PANs an older build sealed without binding are rebound when
/// the journal is next opened, and the voids that need them keep working.
#[test]
fn sealed_pans_are_bound_to_their_rows_and_old_ones_are_rebound_at_open() {
    use smartpos_core::crypto::{KeyAlgorithm, SecretKey, open, seal};
    let mut h = Harness::without_risk_checks();
    let first = h.sale("first", "normal", Some("123456"), 1_000);
    let stan = first.approval().unwrap().stan;
    assert!(
        h.sale("second", "normal", Some("123456"), 2_000)
            .is_approved()
    );
    let key = SecretKey::new(KeyAlgorithm::Aes, h.storage_key_bytes()).unwrap();
    let path = h.journal_path();
    let blob_of = |attempt: &str| -> Vec<u8> {
        rusqlite::Connection::open(&path)
            .unwrap()
            .query_row(
                "SELECT pan_sealed FROM transactions WHERE attempt_id = ?1",
                [attempt],
                |r| r.get(0),
            )
            .unwrap()
    };
    let first_blob = blob_of("first");
    let pan = open(&key, b"pan/first", &first_blob).unwrap();
    assert!(
        open(&key, b"pan/second", &first_blob).is_err(),
        "bound to its row"
    );
    assert!(open(&key, b"pan", &first_blob).is_err());

    // As an older build left it: the first row sealed under the constant label, not yet bound.
    h.close();
    let legacy = seal(&key, b"pan", &pan).unwrap();
    let db = rusqlite::Connection::open(h.journal_path()).unwrap();
    db.execute(
        "UPDATE transactions SET pan_sealed = ?1 WHERE attempt_id = 'first'",
        [&legacy],
    )
    .unwrap();
    db.execute(
        "UPDATE counters SET value = 0 WHERE name = 'pan_binding'",
        [],
    )
    .unwrap();
    drop(db);
    h.reopen();
    assert_eq!(*open(&key, b"pan/first", &blob_of("first")).unwrap(), *pan);

    // The void needs the original's PAN: it opens under the row's binding.
    h.present("normal", None);
    let void = h.terminal.void(
        &smartpos_core::txn::VoidRequest {
            attempt_id: "void-first".into(),
            original: smartpos_core::txn::Original { stan },
        },
        &h.cancel,
    );
    assert!(void.is_approved(), "{void:?}");
    assert_eq!(h.net_fen(), 2_000);
}
