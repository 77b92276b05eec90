//! Journal tests against real files (tempfile): durability is tested, not assumed.

use std::path::Path;

use super::*;

fn sale(attempt_id: &str, amount_fen: u64) -> NewTransaction {
    NewTransaction {
        attempt_id: attempt_id.to_owned(),
        kind: TxnKind::Sale,
        amount_fen,
        currency: "156".to_owned(),
        pan_masked: Some("622202******1234".to_owned()),
        pan_sealed: Some(OpaqueBlob::new(vec![0xA5; 44])),
        entry_mode: EntryMode::Chip,
        original_id: None,
        icc_data: Some(OpaqueBlob::new(vec![
            0x9F, 0x26, 0x08, 1, 2, 3, 4, 5, 6, 7, 8,
        ])),
        needs_reversal: true,
        at_ms: 1_700_000_000_000,
    }
}

fn approved(rrn: &str) -> HostOutcome {
    HostOutcome {
        state: TxnState::Approved,
        response_code: Some("00".to_owned()),
        rrn: Some(rrn.to_owned()),
        auth_code: Some("123456".to_owned()),
        termination_code: None,
        reversal: ReversalAction::Disarm,
        keep_icc_data: false,
        advice_expires_at: None,
        uploads: Vec::new(),
        icc_data: None,
        receipt: None,
        at_ms: 1_700_000_001_000,
    }
}

fn open(dir: &Path) -> Journal {
    Journal::open(dir.join("journal.db")).expect("open journal")
}

#[test]
fn stan_is_monotonic_and_survives_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut journal = open(dir.path());
    assert_eq!(journal.last_stan().expect("last"), None);
    let first = journal.next_stan_standalone().expect("stan");
    let second = journal.begin_online(&sale("a1", 100)).expect("begin").stan;
    assert_eq!(first.value(), 1);
    assert_eq!(second.value(), 2);
    assert_eq!(first.to_string(), "000001");
    drop(journal);

    let mut journal = open(dir.path());
    assert_eq!(journal.last_stan().expect("last"), Some(second));
    assert_eq!(journal.next_stan_standalone().expect("stan").value(), 3);
}

#[test]
fn stan_wraps_from_999999_to_000001() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut journal = open(dir.path());
    journal
        .conn
        .execute("UPDATE counters SET value = 999998 WHERE name = 'stan'", [])
        .expect("seed counter");
    assert_eq!(
        journal.next_stan_standalone().expect("stan").value(),
        999_999
    );
    let wrapped = journal.begin_online(&sale("a1", 100)).expect("begin").stan;
    assert_eq!(wrapped.to_string(), "000001");
    assert_eq!(Stan::new(999_999).expect("max").next().value(), 1);
    assert!(Stan::new(0).is_err());
    assert!(Stan::new(1_000_000).is_err());
}

#[test]
fn online_transaction_costs_exactly_two_commits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut journal = open(dir.path());
    let before = journal.commit_count();
    let txn = journal.begin_online(&sale("a1", 2_500)).expect("begin");
    assert_eq!(journal.commit_count(), before + 1);

    // Between the two commits the journal already says "reverse this if we die now".
    let owed = journal.pending_reversals().expect("pending");
    assert_eq!(owed.len(), 1);
    assert_eq!(owed[0].reason, ReversalReason::NoResponse);
    assert_eq!(owed[0].state, ReversalState::Armed);

    journal
        .record_outcome(txn.id, &approved("000000000001"))
        .expect("outcome");
    assert_eq!(journal.commit_count(), before + 2);
    assert!(journal.pending_reversals().expect("pending").is_empty());

    let record = journal.transaction(txn.id).expect("read").expect("present");
    assert_eq!(record.state, TxnState::Approved);
    assert_eq!(record.stan, txn.stan);
    assert_eq!(record.rrn.as_deref(), Some("000000000001"));
    assert_eq!(
        record.icc_data, None,
        "field 55 deleted once no longer needed"
    );
    assert_eq!(record.amount_fen, 2_500);
}

#[test]
fn crash_between_commits_leaves_an_owed_reversal_after_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut journal = open(dir.path());
    let txn = journal.begin_online(&sale("a1", 100)).expect("begin");
    drop(journal); // the process dies while waiting for the host

    let journal = open(dir.path());
    let owed = journal.pending_reversals().expect("pending");
    assert_eq!(owed.len(), 1);
    assert_eq!(owed[0].transaction_id, txn.id);
    let record = journal.transaction(txn.id).expect("read").expect("present");
    assert_eq!(record.state, TxnState::Sending);
    assert!(
        record.icc_data.is_some(),
        "the reversal still needs field 55"
    );
}

#[test]
fn bad_mac_changes_reversal_reason_and_keeps_it_owed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut journal = open(dir.path());
    let txn = journal.begin_online(&sale("a1", 100)).expect("begin");
    let outcome = HostOutcome {
        state: TxnState::Unknown,
        reversal: ReversalAction::Require(ReversalReason::MacFailure),
        keep_icc_data: true,
        termination_code: Some("MAC_MISMATCH".to_owned()),
        ..approved("000000000001")
    };
    journal.record_outcome(txn.id, &outcome).expect("outcome");
    let owed = journal.pending_reversals().expect("pending");
    assert_eq!(owed.len(), 1);
    assert_eq!(owed[0].reason.as_str(), "A0");
    assert_eq!(owed[0].state, ReversalState::Pending);

    journal.reversal_sending(txn.id).expect("sending");
    journal
        .reversal_attempt_failed(txn.id, "no response", false)
        .expect("failed");
    let owed = journal.pending_reversals().expect("pending");
    assert_eq!(owed[0].attempts, 1);
    assert_eq!(owed[0].last_error.as_deref(), Some("no response"));

    journal.reversal_sending(txn.id).expect("sending");
    journal.reversal_acknowledged(txn.id, 5).expect("ack");
    assert!(journal.pending_reversals().expect("pending").is_empty());
    let record = journal.transaction(txn.id).expect("read").expect("present");
    assert_eq!(record.state, TxnState::Reversed);
    assert_eq!(record.icc_data, None);
}

#[test]
fn messages_without_reversal_arm_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut journal = open(dir.path());
    let balance = NewTransaction {
        kind: TxnKind::Balance,
        needs_reversal: false,
        amount_fen: 0,
        ..sale("b1", 0)
    };
    journal.begin_online(&balance).expect("begin");
    assert!(journal.pending_reversals().expect("pending").is_empty());
}

#[test]
fn attempt_id_is_unique_and_findable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut journal = open(dir.path());
    let txn = journal.begin_online(&sale("same", 100)).expect("begin");
    let commits = journal.commit_count();
    let err = journal
        .begin_online(&sale("same", 100))
        .expect_err("duplicate");
    assert!(matches!(err, StoreError::DuplicateAttempt { .. }), "{err}");
    assert_eq!(
        journal.commit_count(),
        commits,
        "a refused write commits nothing"
    );
    // The refused attempt must not have burnt a STAN either.
    assert_eq!(
        journal.next_stan_standalone().expect("stan"),
        txn.stan.next()
    );
    let found = journal
        .by_attempt_id("same")
        .expect("query")
        .expect("present");
    assert_eq!(found.id, txn.id);
    assert!(journal.by_attempt_id("other").expect("query").is_none());
}

#[test]
fn clear_pan_in_masked_field_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut journal = open(dir.path());
    let leaky = NewTransaction {
        pan_masked: Some("6222021234567890123".to_owned()),
        ..sale("a1", 1)
    };
    let err = journal.begin_online(&leaky).expect_err("clear PAN");
    assert!(matches!(
        err,
        StoreError::InvalidInput {
            what: "pan_masked",
            ..
        }
    ));
}

#[test]
fn batch_totals_count_live_debits_and_credits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut journal = open(dir.path());
    let s1 = journal.begin_online(&sale("s1", 1_000)).expect("s1");
    journal
        .record_outcome(s1.id, &approved("1"))
        .expect("s1 ok");
    let s2 = journal.begin_online(&sale("s2", 2_000)).expect("s2");
    journal
        .record_outcome(s2.id, &approved("2"))
        .expect("s2 ok");
    let s3 = journal.begin_online(&sale("s3", 4_000)).expect("s3");
    let declined = HostOutcome {
        state: TxnState::Declined,
        response_code: Some("51".to_owned()),
        ..approved("3")
    };
    journal
        .record_outcome(s3.id, &declined)
        .expect("s3 declined");
    let void = NewTransaction {
        kind: TxnKind::Void,
        original_id: Some(s2.id),
        ..sale("v2", 2_000)
    };
    let v2 = journal.begin_online(&void).expect("void");
    journal
        .record_outcome(v2.id, &approved("4"))
        .expect("void ok");
    let refund = NewTransaction {
        kind: TxnKind::Refund,
        ..sale("r1", 300)
    };
    let r1 = journal.begin_online(&refund).expect("refund");
    journal
        .record_outcome(r1.id, &approved("5"))
        .expect("refund ok");

    let batch = journal.batch_no().expect("batch");
    let totals = journal.batch_totals(batch).expect("totals");
    assert_eq!(
        totals,
        BatchTotals {
            debit_count: 1,
            debit_fen: 1_000,
            credit_count: 1,
            credit_fen: 300
        }
    );
    let original = journal.transaction(s2.id).expect("read").expect("present");
    assert_eq!(original.state, TxnState::Voided);

    // Reversing the void revives the sale it had cancelled.
    journal
        .reversal_acknowledged(v2.id, 9)
        .expect("void reversed");
    let totals = journal.batch_totals(batch).expect("totals");
    assert_eq!((totals.debit_count, totals.debit_fen), (2, 3_000));

    let next = journal.advance_batch().expect("advance");
    assert_eq!(next, batch.next());
    assert_eq!(
        journal.batch_totals(next).expect("totals"),
        BatchTotals::default()
    );
    assert_eq!(journal.list(2, 0).expect("list")[0].id, r1.id);
}

#[test]
fn garbage_file_is_corrupt_and_quarantined_without_deleting() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("journal.db");
    std::fs::write(&path, vec![0x5Au8; 8192]).expect("write garbage");
    std::fs::write(dir.path().join("journal.db-wal"), b"wal bytes").expect("write wal");
    let err = Journal::open(&path).expect_err("corrupt");
    match &err {
        StoreError::Corrupt { path: at, .. } => assert_eq!(at, &path),
        other => panic!("expected Corrupt, got {other:?}"),
    }

    let moved = Journal::quarantine(&path).expect("quarantine");
    assert_eq!(moved.len(), 2, "db and -wal moved, absent -shm skipped");
    assert!(!path.exists());
    for moved_path in &moved {
        assert!(moved_path.exists(), "{} kept", moved_path.display());
    }
    assert_eq!(std::fs::read(&moved[0]).expect("read"), vec![0x5Au8; 8192]);

    // A second quarantine at the same second must not overwrite the first.
    std::fs::write(&path, b"garbage again").expect("write");
    let again = Journal::quarantine(&path).expect("quarantine");
    assert_ne!(again[0], moved[0]);
    let kept = std::fs::read_dir(dir.path())
        .expect("ls")
        .filter(|e| {
            let name = e.as_ref().expect("entry").file_name();
            !name.to_string_lossy().ends_with(".lock")
        })
        .count();
    assert_eq!(
        kept, 3,
        "two quarantines (db, -wal, db) and nothing else but the lock"
    );

    // A fresh journal opens in its place.
    let mut journal = Journal::open(&path).expect("fresh");
    assert_eq!(journal.next_stan_standalone().expect("stan").value(), 1);
}

#[test]
fn truncated_database_is_corrupt() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = filled_journal(dir.path(), MIGRATIONS_LEN);
    let len = std::fs::metadata(&path).expect("meta").len();
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .expect("open file");
    file.set_len(len / 2).expect("truncate");
    drop(file);
    let err = Journal::open(&path).expect_err("truncated");
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
}

const MIGRATIONS_LEN: i64 = crate::store::schema::MIGRATIONS.len() as i64;

/// A journal of 200 sales at schema `user_version` with its WAL folded into the main file, so
/// damage to the file reaches committed pages.
fn filled_journal(dir: &std::path::Path, user_version: i64) -> std::path::PathBuf {
    let path = dir.join("journal.db");
    let mut journal = Journal::open(&path).expect("open");
    for n in 0..200 {
        journal
            .begin_online(&sale(&format!("a{n}"), n))
            .expect("begin");
    }
    journal
        .conn
        .pragma_update(None, "user_version", user_version)
        .expect("user_version");
    journal
        .conn
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .expect("checkpoint");
    path
}

/// [`filled_journal`] with one b-tree page near the end overwritten with garbage, as failing
/// flash would: the header, the schema and the file size are intact, so only reading every page
/// (`quick_check`) finds the damage.
fn damaged_journal(dir: &std::path::Path, user_version: i64) -> std::path::PathBuf {
    let path = filled_journal(dir, user_version);
    let mut bytes = std::fs::read(&path).expect("read");
    let page = 4096;
    let last_full = bytes.len() / page - 2;
    bytes[last_full * page..(last_full + 1) * page].fill(0xA5);
    std::fs::write(&path, bytes).expect("write");
    path
}

#[test]
fn background_check_lets_a_damaged_journal_open_but_refuses_its_writes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = damaged_journal(dir.path(), MIGRATIONS_LEN);
    let before = std::fs::read(&path).expect("read");

    let mut journal = Journal::open_checking_in_background(&path).expect("opens unchecked");
    let err = journal
        .next_stan_standalone()
        .expect_err("write waits for the verdict");
    assert!(
        matches!(&err, StoreError::Corrupt { path: at, .. } if at == &path),
        "{err:?}"
    );
    assert!(!journal.verification_pending());
    assert!(matches!(journal.verify(), Err(StoreError::Corrupt { .. })));
    // The refused write changed nothing on disk.
    assert_eq!(std::fs::read(&path).expect("read"), before);

    let moved = journal.restart_after_corruption().expect("restart");
    assert_eq!(std::fs::read(&moved[0]).expect("kept"), before);
    assert_eq!(journal.next_stan_standalone().expect("fresh").value(), 1);
    journal.verify().expect("fresh journal is sound");
}

#[test]
fn background_check_passes_a_sound_journal_and_keeps_its_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("journal.db");
    {
        let mut journal = Journal::open(&path).expect("open");
        journal.begin_online(&sale("kept", 100)).expect("begin");
    }
    let mut journal = Journal::open_checking_in_background(&path).expect("open");
    assert!(journal.by_attempt_id("kept").expect("read").is_some());
    journal.verify().expect("sound");
    assert_eq!(journal.next_stan_standalone().expect("stan").value(), 2);
}

#[test]
fn a_journal_needing_migration_is_checked_before_it_is_migrated() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = damaged_journal(dir.path(), 1);
    let err = Journal::open_checking_in_background(&path).expect_err("checked at once");
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
}

#[test]
fn disk_full_is_typed_and_rolls_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut journal = open(dir.path());
    let pages: i64 = journal
        .conn
        .pragma_query_value(None, "page_count", |row| row.get(0))
        .expect("page_count");
    journal
        .conn
        .pragma_update(None, "max_page_count", pages)
        .expect("limit");
    let stan_before = journal.last_stan().expect("stan");
    let big = NewTransaction {
        icc_data: Some(OpaqueBlob::new(vec![0; 64 * 1024])),
        ..sale("big", 1)
    };
    let err = journal.begin_online(&big).expect_err("full");
    assert!(matches!(err, StoreError::DiskFull), "{err:?}");
    assert_eq!(
        journal.last_stan().expect("stan"),
        stan_before,
        "STAN not consumed"
    );
    assert!(journal.by_attempt_id("big").expect("query").is_none());
}

#[test]
fn migrations_are_idempotent_on_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = open(dir.path());
    assert_eq!(journal.commit_count(), schema::MIGRATIONS.len() as u64);
    drop(journal);
    let journal = open(dir.path());
    assert_eq!(journal.commit_count(), 0, "no step re-applied");
    let version: i64 = journal
        .conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .expect("version");
    assert_eq!(version, schema::MIGRATIONS.len() as i64);
    let mode: String = journal
        .conn
        .pragma_query_value(None, "journal_mode", |row| row.get(0))
        .expect("mode");
    assert_eq!(mode, "wal");
    let sync: i64 = journal
        .conn
        .pragma_query_value(None, "synchronous", |row| row.get(0))
        .expect("sync");
    assert_eq!(sync, 2, "synchronous=FULL");
}

#[test]
fn newer_schema_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = open(dir.path());
    journal
        .conn
        .pragma_update(None, "user_version", 99)
        .expect("bump");
    drop(journal);
    let err = Journal::open(dir.path().join("journal.db")).expect_err("too new");
    assert!(matches!(err, StoreError::SchemaTooNew { found: 99, .. }));
}

#[test]
fn opaque_blob_debug_is_redacted() {
    let record = sale("a1", 1);
    let shown = format!("{record:?}");
    assert!(shown.contains("[redacted; 44 bytes]"), "{shown}");
    assert!(
        !shown.contains("165"),
        "no sealed byte values (0xA5 = 165) leak: {shown}"
    );
}

#[test]
fn advice_and_receipt_ride_in_the_outcome_commit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut journal = open(dir.path());
    let txn = journal.begin_online(&sale("a1", 100)).expect("begin");
    let before = journal.commit_count();
    let outcome = HostOutcome {
        keep_icc_data: true,
        advice_expires_at: Some(2_000),
        receipt: Some("SALE 1.00".to_owned()),
        ..approved("1")
    };
    journal.record_outcome(txn.id, &outcome).expect("outcome");
    assert_eq!(journal.commit_count(), before + 1, "still one commit");

    let advices = journal.pending_advices().expect("advices");
    assert_eq!(advices.len(), 1);
    assert_eq!(advices[0].transaction_id, txn.id);
    assert_eq!(
        journal.unprinted_receipts().expect("receipts"),
        vec![(txn.id, "SALE 1.00".to_owned())]
    );
    journal.mark_printed(txn.id).expect("printed");
    assert!(journal.unprinted_receipts().expect("receipts").is_empty());

    // A failure before expiry keeps it pending; once sent, field 55 goes.
    journal
        .advice_failed(advices[0].seq, "timeout", 1_000)
        .expect("failed");
    assert_eq!(journal.pending_advices().expect("advices")[0].attempts, 1);
    journal.advice_sent(advices[0].seq).expect("sent");
    assert!(journal.pending_advices().expect("advices").is_empty());
    let record = journal.transaction(txn.id).expect("read").expect("present");
    assert_eq!(record.icc_data, None);
}

#[test]
fn expired_advice_is_kept_not_dropped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut journal = open(dir.path());
    let txn = journal.begin_online(&sale("a1", 100)).expect("begin");
    let seq = journal.enqueue_advice(txn.id, 1_000).expect("enqueue");
    journal
        .advice_failed(seq, "host down", 1_000)
        .expect("failed");
    assert!(journal.pending_advices().expect("pending").is_empty());
    let expired = journal.expired_advices().expect("expired");
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].last_error.as_deref(), Some("host down"));
}

#[test]
fn sealed_keys_are_replaced_by_label() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut journal = open(dir.path());
    assert!(journal.key("tmk").expect("read").is_none());
    journal
        .put_key("tmk", &OpaqueBlob::new(vec![1; 32]), 10)
        .expect("put");
    journal
        .put_key("tmk", &OpaqueBlob::new(vec![2; 32]), 20)
        .expect("replace");
    let (blob, loaded_at) = journal.key("tmk").expect("read").expect("present");
    assert_eq!(blob.as_bytes(), &[2; 32]);
    assert_eq!(loaded_at, 20);
}

#[test]
fn reseeding_moves_the_next_stan_and_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.db");
    {
        let mut j = Journal::open(&path).unwrap();
        j.reseed_stan(Stan::new(123_456).unwrap()).unwrap();
        assert_eq!(j.next_stan_standalone().unwrap().value(), 123_456);
    }
    let mut j = Journal::open(&path).unwrap();
    assert_eq!(j.next_stan_standalone().unwrap().value(), 123_457);
    j.reseed_stan(Stan::FIRST).unwrap();
    assert_eq!(j.next_stan_standalone().unwrap().value(), 1);
}

fn rows_in(journal: &Journal, table: &str) -> i64 {
    journal
        .conn
        .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .expect("count")
}

/// Stages what a finished sale leaves for statistics: its host round trip, then its ending.
fn stage_statistics(journal: &mut Journal, attempt_id: &str) {
    journal
        .record_exchange(1_700_000_000_000, "0200", 40, true)
        .expect("stage");
    journal
        .record_ending(&ending(attempt_id, "sale"))
        .expect("stage");
}

fn ending<'a>(attempt_id: &'a str, kind: &'a str) -> EndingRecord<'a> {
    EndingRecord {
        at_ms: 1_700_000_000_000,
        attempt_id: Some(attempt_id),
        kind,
        termination: None,
    }
}

#[test]
fn statistics_ride_in_the_next_request_commit_and_never_in_an_outcome() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut journal = open(dir.path());
    stage_statistics(&mut journal, "a0");
    assert_eq!(rows_in(&journal, "endings"), 0, "staged, not written");
    let commits = journal.commit_count();

    let started = journal.begin_online(&sale("a1", 100)).expect("begin");
    assert_eq!(
        journal.commit_count(),
        commits + 1,
        "no commit of their own"
    );
    assert_eq!(rows_in(&journal, "endings"), 1);
    assert_eq!(rows_in(&journal, "host_exchanges"), 1);

    journal.record_ending(&ending("a1", "sale")).expect("stage");
    journal
        .record_outcome(started.id, &approved("000000000001"))
        .expect("outcome");
    assert_eq!(
        rows_in(&journal, "endings"),
        1,
        "an outcome's commit carries no statistics"
    );
    drop(journal);
    let journal = open(dir.path());
    assert_eq!(
        rows_in(&journal, "endings"),
        2,
        "an orderly close keeps them"
    );
}

#[test]
fn statistics_that_cannot_be_written_never_fail_the_request() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut journal = open(dir.path());
    journal
        .conn
        .execute_batch("DROP TABLE host_exchanges")
        .expect("break the statistics");
    // The failing row (the round trip) first: the ending staged after it goes with it.
    stage_statistics(&mut journal, "a0");
    journal
        .begin_online(&sale("a1", 100))
        .expect("request journaled");
    assert!(journal.by_attempt_id("a1").expect("query").is_some());
    assert_eq!(
        rows_in(&journal, "endings"),
        0,
        "dropped with the failed batch"
    );
    journal.record_ending(&ending("a1", "sale")).expect("stage");
    journal.begin_online(&sale("a2", 100)).expect("not retried");
    assert_eq!(
        rows_in(&journal, "endings"),
        1,
        "only the new ending: the dropped rows are not retried"
    );
}

#[test]
fn statistics_filling_the_disk_leave_the_request_to_its_own_fate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut journal = open(dir.path());
    journal.begin_online(&sale("seed", 1)).expect("seed");
    let pages: i64 = journal
        .conn
        .pragma_query_value(None, "page_count", |row| row.get(0))
        .expect("page_count");
    journal
        .conn
        .pragma_update(None, "max_page_count", pages)
        .expect("limit");
    // Far more statistics than the free space in the file's pages can hold; the request
    // itself fits in the transactions table's last page.
    let kind = "k".repeat(2000);
    for i in 0..60 {
        let attempt = format!("old-{i}");
        journal
            .record_ending(&ending(&attempt, &kind))
            .expect("stage");
    }
    let stan_before = journal.last_stan().expect("stan").expect("one");
    let small = NewTransaction {
        icc_data: None,
        pan_sealed: None,
        ..sale("small", 1)
    };
    let started = journal.begin_online(&small).expect("the request fits");
    assert_eq!(started.stan.value(), stan_before.value() + 1, "one STAN");
    assert_eq!(rows_in(&journal, "endings"), 0);
    assert_eq!(rows_in(&journal, "transactions"), 2);
}

#[test]
fn the_advice_query_asked_before_every_request_is_compiled_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = open(dir.path());
    for _ in 0..3 {
        assert!(journal.pending_advices().expect("advices").is_empty());
    }
    let stmt = journal
        .conn
        .prepare_cached(queue::PENDING_ADVICES)
        .expect("cached");
    assert_eq!(stmt.get_status(rusqlite::StatementStatus::RePrepare), 0);
}

#[test]
fn the_batch_size_bound_covers_the_open_batch_and_restarts_with_the_next() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut journal = open(dir.path());
    let (batch, bound) = journal.batch_size_bound().expect("bound");
    assert_eq!((batch.value(), bound), (1, 0), "an empty batch");
    for i in 0..3 {
        let t = journal
            .begin_online(&sale(&format!("a{i}"), 100))
            .expect("begin");
        journal
            .record_outcome(t.id, &approved("1"))
            .expect("outcome");
    }
    assert_eq!(journal.batch_size_bound().expect("bound").1, 3);
    assert_eq!(journal.batch_fill(batch).expect("fill").0, 3);
    let next = journal.advance_batch().expect("settled");
    assert_eq!(journal.batch_size_bound().expect("bound"), (next, 0));
    journal.begin_online(&sale("b0", 100)).expect("begin");
    assert_eq!(journal.batch_size_bound().expect("bound"), (next, 1));
    drop(journal);
    let mut journal = open(dir.path());
    assert_eq!(
        journal.batch_size_bound().expect("bound"),
        (next, 1),
        "the same after reopening"
    );
}

/// `owes_host` must agree with the two lists it stands in for, in every state they pass through.
#[test]
fn owes_host_agrees_with_the_pending_lists() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut journal = open(dir.path());
    let agree = |j: &Journal, expected: bool, when: &str| {
        let lists = !j.pending_reversals().expect("r").is_empty()
            || !j.pending_advices().expect("a").is_empty();
        assert_eq!(lists, expected, "lists {when}");
        assert_eq!(j.owes_host().expect("owes"), expected, "owes_host {when}");
    };
    agree(&journal, false, "fresh");
    let t = journal.begin_online(&sale("a1", 100)).expect("begin");
    agree(&journal, true, "in flight (armed, sending)");
    journal
        .record_outcome(t.id, &approved("1"))
        .expect("outcome");
    agree(&journal, false, "approved");

    let t = journal.begin_online(&sale("a2", 100)).expect("begin");
    let unknown = HostOutcome {
        reversal: ReversalAction::Require(ReversalReason::NoResponse),
        ..HostOutcome::new(TxnState::Unknown, ReversalAction::Disarm, 1)
    };
    journal.record_outcome(t.id, &unknown).expect("outcome");
    agree(&journal, true, "reversal pending");
    journal.reversal_sending(t.id).expect("sending");
    agree(&journal, true, "reversal sent");
    journal
        .reversal_attempt_failed(t.id, "down", true)
        .expect("failed");
    agree(
        &journal,
        false,
        "reversal given up (operator's, not the host's)",
    );

    let t = journal.begin_online(&sale("a3", 100)).expect("begin");
    journal
        .record_outcome(t.id, &approved("3"))
        .expect("outcome");
    let seq = journal.enqueue_advice(t.id, i64::MAX).expect("advice");
    agree(&journal, true, "advice pending");
    journal.advice_sent(seq).expect("sent");
    agree(&journal, false, "advice sent");
}

/// A journal moved aside as corrupt hands its debts and its risk state to the fresh one: the
/// reversal still owed, and the rule bundle and hot-list deltas as stored (so an older bundle
/// is not accepted again after the loss).
#[test]
fn a_quarantined_journals_reversal_and_risk_state_are_carried_over() {
    let dir = tempfile::tempdir().expect("tempdir");
    let old_path = dir.path().join("old.db");
    {
        let mut old = Journal::open(&old_path).expect("old");
        let started = old.begin_online(&sale("owed", 1_500)).expect("begin");
        assert_eq!(started.stan.value(), 1);
        old.record_risk_bundle(7, "fleet", b"signed bundle", 1)
            .expect("bundle");
        old.record_hot_list_delta(1, "fleet", b"delta 1", 2)
            .expect("delta 1");
        old.record_hot_list_delta(2, "fleet", b"delta 2", 3)
            .expect("delta 2");
    }
    let mut fresh = open(dir.path());
    assert_eq!(fresh.carry_owed_from(&old_path).expect("carried"), 1);
    let owed = fresh.pending_reversals().expect("reversals");
    assert_eq!(owed.len(), 1);
    let carried = fresh.transaction(owed[0].transaction_id).unwrap().unwrap();
    assert_eq!(
        (carried.attempt_id.as_str(), carried.amount_fen),
        ("owed", 1_500)
    );
    let risk = fresh.stored_risk_state().expect("risk state");
    assert_eq!(risk.bundle.map(|b| b.version), Some(7));
    assert_eq!(
        risk.deltas.iter().map(|d| d.sequence).collect::<Vec<_>>(),
        [1, 2]
    );
    // The fresh journal keeps the version floor: an older bundle is refused.
    assert!(fresh.record_risk_bundle(6, "fleet", b"older", 4).is_err());
}
