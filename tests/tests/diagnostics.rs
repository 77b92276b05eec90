//! Every ending explained: simulator and port faults yield the right cause, remedy and
//! alternative; the health check reports each injected condition; statistics count them.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, SystemTime};

use smartpos_core::diag::statistics::Window;
use smartpos_core::diag::{
    Cause, CheckKind, CheckStatus, HealthReport, HealthThresholds, PaymentMethod, Remedy,
};
use smartpos_core::ports::{DeviceFault, NetworkMonitor, NetworkStatus};
use smartpos_core::txn::{Original, RefundRequest};
use smartpos_e2e::Harness;
use smartpos_tools::sim::{Fault, Matcher};

const PIN: Option<&str> = Some("123456");
const QR: Option<PaymentMethod> = Some(PaymentMethod::QrCustomerPresented);

/// What a termination must say: code, cause, one remedy it must offer, and the alternative.
struct Expect {
    code: &'static str,
    cause: Cause,
    remedy: Remedy,
    alternative: Option<PaymentMethod>,
}

fn expect(
    code: &'static str,
    cause: Cause,
    remedy: Remedy,
    alternative: Option<PaymentMethod>,
) -> Expect {
    Expect {
        code,
        cause,
        remedy,
        alternative,
    }
}

#[test]
fn each_simulator_fault_yields_its_cause_remedy_and_alternative() {
    let late = Fault::LateResponse {
        delay: Duration::from_millis(1_500),
    };
    let decline = |code: &str| Fault::Decline { code: code.into() };
    let cases = [
        (
            Fault::NoResponse { apply: true },
            expect("NET_TIMEOUT", Cause::Network, Remedy::Retry, QR),
        ),
        (
            late,
            expect("NET_TIMEOUT", Cause::Network, Remedy::Retry, QR),
        ),
        (
            Fault::DropAfterRead,
            expect("NET_TIMEOUT", Cause::Network, Remedy::CheckNetwork, QR),
        ),
        (
            Fault::Garbled,
            expect("NET_BAD_RESPONSE", Cause::Network, Remedy::Retry, QR),
        ),
        (
            Fault::WrongMac,
            expect("NET_BAD_MAC", Cause::Network, Remedy::SignOnAgain, None),
        ),
        (
            Fault::Maintenance { code: "90".into() },
            expect(
                "HOST_DECLINED_90",
                Cause::Maintenance,
                Remedy::RetryLater,
                QR,
            ),
        ),
        (
            decline("51"),
            expect(
                "HOST_DECLINED_51",
                Cause::Account,
                Remedy::UseAnotherCard,
                QR,
            ),
        ),
        (
            decline("55"),
            expect("HOST_DECLINED_55", Cause::Account, Remedy::ReEnterPin, None),
        ),
        (
            decline("34"),
            expect("HOST_DECLINED_34", Cause::Risk, Remedy::UseAnotherCard, QR),
        ),
        (
            decline("91"),
            expect("HOST_DECLINED_91", Cause::Network, Remedy::RetryLater, QR),
        ),
        (
            decline("96"),
            expect("HOST_DECLINED_96", Cause::Software, Remedy::RetryLater, QR),
        ),
        // A0 comes without a MAC (the host could not verify ours): an unauthenticated answer
        // proves nothing, so the outcome is unknown, the sale reversed, and the terminal signs on.
        (
            decline("A0"),
            expect("NET_BAD_MAC", Cause::Network, Remedy::SignOnAgain, None),
        ),
        (
            decline("61"),
            expect(
                "HOST_DECLINED_61",
                Cause::Account,
                Remedy::UseAnotherCard,
                QR,
            ),
        ),
    ];
    for (fault, want) in cases {
        let label = format!("{fault:?}");
        let h = Harness::new();
        h.acquirer().inject(Matcher::Mti("0200".into()), fault);
        let outcome = h.sale("f1", "normal", PIN, 1_000);
        let t = outcome.termination().unwrap_or_else(|| panic!("{label}"));
        assert_eq!(t.code.to_string(), want.code, "{label}");
        assert_eq!(t.cause, want.cause, "{label}");
        assert!(
            t.remedies.contains(&want.remedy),
            "{label}: {:?}",
            t.remedies
        );
        assert_eq!(t.alternative, want.alternative, "{label}");
        assert!(!t.merchant_zh.is_empty() && !t.merchant_en.is_empty());
        // Whatever the cause, the cardholder display never names it as risk or fraud.
        let shown = format!("{} {}", t.cardholder, t.cardholder_en).to_lowercase();
        assert!(!shown.contains("fraud") && !shown.contains("risk") && !shown.contains("风险"));
        // And the statistics count it under its code and cause.
        let week = h.terminal.report(SystemTime::now()).unwrap();
        let week = week.window(Window::Last7Days).unwrap();
        assert_eq!(week.by_code.get(want.code), Some(&1), "{label}");
        let counted = week
            .by_cause
            .iter()
            .find(|c| c.cause == want.cause)
            .unwrap();
        assert_eq!(counted.count, 1, "{label}");
    }
}

#[test]
fn port_faults_yield_their_cause_remedy_and_alternative() {
    let h = Harness::new();
    h.reader.fail_detect(DeviceFault::ReaderFailure {
        message: "IC slot not responding".into(),
    });
    let t = h.terminal.sale(
        &smartpos_core::txn::SaleRequest {
            attempt_id: "r1".into(),
            amount_fen: 100,
        },
        &h.cancel,
    );
    let t = t.termination().unwrap();
    assert_eq!(t.code.to_string(), "DEV_READER");
    assert_eq!(t.cause, Cause::Device);
    assert!(t.remedies.contains(&Remedy::PresentCardAgain));
    assert_eq!(t.alternative, QR);
    assert!(t.merchant_en.ends_with("IC slot not responding"));
    assert!(!t.cardholder_en.contains("IC slot"));
    assert!(
        h.terminal.transactions().unwrap().is_empty(),
        "nothing journaled"
    );

    // The PIN pad fails after the card was read.
    h.present("normal", PIN);
    h.pin_pad.fail_next(DeviceFault::PinPadFailure {
        message: "tamper switch".into(),
    });
    let t = h.terminal.sale(
        &smartpos_core::txn::SaleRequest {
            attempt_id: "p1".into(),
            amount_fen: 100,
        },
        &h.cancel,
    );
    let t = t.termination().unwrap();
    assert_eq!(
        (t.code.to_string().as_str(), t.cause),
        ("DEV_PINPAD", Cause::Device)
    );

    // Scanner and printer faults as the shell reports them (the QR flow that scans lands with
    // the QR module; a printer fault during a sale never ends it — see durability.rs).
    let scanner = DeviceFault::ScannerFailure {
        message: "camera busy".into(),
    }
    .termination();
    assert_eq!(scanner.cause, Cause::Device);
    assert!(scanner.remedies.contains(&Remedy::KeyInCode));
    assert_eq!(scanner.alternative, Some(PaymentMethod::Contactless));
    let paper = DeviceFault::PrinterOutOfPaper.termination();
    assert!(paper.remedies.contains(&Remedy::ReplacePaper));
    assert!(paper.remedies.contains(&Remedy::Reprint));

    // Terminations that happened before any journal row still count.
    let report = h.terminal.report(SystemTime::now()).unwrap();
    let today = report.window(Window::Today).unwrap();
    assert_eq!(today.by_code.get("DEV_READER"), Some(&1));
    assert_eq!(today.by_code.get("DEV_PINPAD"), Some(&1));
}

#[test]
fn a_printer_fault_after_approval_counts_as_an_approval_and_shows_in_health() {
    let h = Harness::new();
    h.printer.fail_next(DeviceFault::PrinterOutOfPaper);
    h.printer.set_status(Some(DeviceFault::PrinterOutOfPaper));
    let outcome = h.sale("p1", "normal", PIN, 2_000);
    let approval = outcome.approval().expect("still approved");
    assert!(!approval.receipt_printed, "receipt waits for a reprint");
    let report = h.terminal.report(SystemTime::now()).unwrap();
    let today = report.window(Window::Today).unwrap();
    assert_eq!((today.approved, today.terminated), (1, 0));
    let printer = h
        .terminal
        .health()
        .check(CheckKind::Printer)
        .cloned()
        .unwrap();
    assert_eq!(printer.status, CheckStatus::Failing);
    assert!(printer.remedies.contains(&Remedy::ReplacePaper));
}

/// Default thresholds except storage: the test machine's free disk is not the terminal's, so
/// the storage limits are scaled down to what any CI runner has (a 1 MiB budget still fails).
fn limits() -> HealthThresholds {
    HealthThresholds {
        storage_warning_bytes: 4 << 20,
        storage_failing_bytes: 2 << 20,
        ..HealthThresholds::default()
    }
}

fn health(h: &Harness) -> HealthReport {
    h.terminal.health_with(&limits())
}

fn assert_only(report: &HealthReport, kinds: &[CheckKind], status: CheckStatus) {
    for c in &report.checks {
        if kinds.contains(&c.kind) {
            assert_eq!(c.status, status, "{c:?}");
            assert!(!c.remedies.is_empty(), "{c:?}");
        } else {
            assert_eq!(c.status, CheckStatus::Ok, "{c:?}");
        }
    }
}

#[test]
fn a_healthy_terminal_reports_every_check_ok() {
    let h = Harness::new();
    let report = health(&h);
    assert_eq!(report.overall(), CheckStatus::Ok, "{report:#?}");
    let host = report.check(CheckKind::Host).unwrap();
    assert!(host.detail_en.contains("round trip"), "{host:?}");
    let clock = report.check(CheckKind::ClockDrift).unwrap();
    assert!(clock.detail_en.contains("from host time"), "{clock:?}");
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["checks"].as_array().unwrap().len(), 14);
    // The link check came last, so the positions fleet tools read did not move.
    assert_eq!(json["checks"][13]["kind"], "link_security");
}

#[test]
fn health_reports_each_device_and_network_fault() {
    let h = Harness::new();
    h.network.set(NetworkStatus::DISCONNECTED);
    assert_only(&health(&h), &[CheckKind::Network], CheckStatus::Failing);
    h.network.set(NetworkStatus {
        signal_dbm: Some(-108),
        ..smartpos_e2e::OptionalPorts::fitted().network.status()
    });
    assert_only(&health(&h), &[CheckKind::Network], CheckStatus::Warning);
    h.network
        .set(smartpos_e2e::OptionalPorts::fitted().network.status());

    h.printer.set_status(Some(DeviceFault::PrinterJammed));
    assert_only(&health(&h), &[CheckKind::Printer], CheckStatus::Failing);
    h.printer.set_status(None);
    h.reader.set_status(Some(DeviceFault::ReaderFailure {
        message: "no power".into(),
    }));
    assert_only(&health(&h), &[CheckKind::CardReader], CheckStatus::Failing);
    h.reader.set_status(None);
    h.scanner.set_status(Some(DeviceFault::ScannerFailure {
        message: "camera".into(),
    }));
    let report = health(&h);
    assert_only(&report, &[CheckKind::Scanner], CheckStatus::Failing);
    assert!(
        report
            .check(CheckKind::Scanner)
            .unwrap()
            .remedies
            .contains(&Remedy::KeyInCode)
    );
    h.scanner.set_status(None);
    assert_eq!(health(&h).overall(), CheckStatus::Ok);
}

#[test]
fn health_reports_an_unreachable_host_and_a_drifting_clock() {
    let h = Harness::new();
    h.acquirer().inject(
        Matcher::Mti("0820".into()),
        Fault::NoResponse { apply: false },
    );
    let report = health(&h);
    assert_eq!(report.status(CheckKind::Host), CheckStatus::Failing);
    assert!(
        report
            .check(CheckKind::Host)
            .unwrap()
            .detail_en
            .contains("NET_TIMEOUT")
    );
    // Without an answer the clock cannot be compared; everything else is fine.
    assert_eq!(report.status(CheckKind::ClockDrift), CheckStatus::Warning);
    assert_eq!(report.status(CheckKind::Printer), CheckStatus::Ok);

    h.acquirer().set_clock_skew_ms(2 * 60_000);
    assert_only(&health(&h), &[CheckKind::ClockDrift], CheckStatus::Warning);
    h.acquirer().set_clock_skew_ms(-20 * 60_000);
    let report = health(&h);
    assert_only(&report, &[CheckKind::ClockDrift], CheckStatus::Failing);
    assert!(
        report
            .check(CheckKind::ClockDrift)
            .unwrap()
            .detail_en
            .contains("-1200 s")
    );
}

#[test]
fn health_reports_missing_keys() {
    let h = Harness::unsigned();
    assert_only(&health(&h), &[CheckKind::WorkingKeys], CheckStatus::Failing);
    h.terminal.sign_on().unwrap();
    assert_eq!(health(&h).overall(), CheckStatus::Ok);
}

#[test]
fn health_reports_a_pending_reversal_and_a_pending_advice() {
    let h = Harness::new();
    h.acquirer().inject(
        Matcher::Mti("0200".into()),
        Fault::NoResponse { apply: true },
    );
    for _ in 0..5 {
        h.acquirer().inject(
            Matcher::Mti("0400".into()),
            Fault::NoResponse { apply: false },
        );
    }
    assert!(!h.sale("s1", "normal", PIN, 1_000).is_approved());
    let report = health(&h);
    assert_eq!(
        report.status(CheckKind::PendingReversals),
        CheckStatus::Failing
    );
    assert!(
        report
            .check(CheckKind::PendingReversals)
            .unwrap()
            .detail_en
            .starts_with("1 reversal")
    );

    let h = Harness::new();
    let sale = h.sale("s1", "normal", PIN, 10_000);
    let stan = sale.approval().unwrap().stan;
    h.acquirer().inject(
        Matcher::Mti("0220".into()),
        Fault::NoResponse { apply: true },
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
    assert!(!refund.is_approved());
    assert_only(
        &health(&h),
        &[CheckKind::PendingAdvices],
        CheckStatus::Warning,
    );
}

#[test]
fn health_reports_a_full_batch_low_storage_and_a_corrupt_journal() {
    let mut h = Harness::new();
    // Different amounts: the same card for the same amount within minutes is the duplicate
    // guard's business (risk checks are on), not this test's.
    for i in 0..2 {
        assert!(
            h.sale(&format!("s{i}"), "normal", PIN, 100 + i)
                .is_approved()
        );
    }
    let small_batch = HealthThresholds {
        batch_capacity: 2,
        ..limits()
    };
    assert_only(
        &h.terminal.health_with(&small_batch),
        &[CheckKind::Batch],
        CheckStatus::Failing,
    );
    // This journal has never settled: the check dates the open batch and says so.
    let settlement = health(&h);
    let since = settlement.check(CheckKind::Settlement).unwrap();
    assert!(
        since
            .detail_en
            .starts_with("never settled; the open batch began"),
        "{since:?}"
    );
    h.terminal.settle().unwrap();
    let after = health(&h);
    assert_eq!(
        after.check(CheckKind::Settlement).unwrap().detail_en,
        "nothing to settle"
    );

    // A 1 MiB storage budget is far below the failing threshold.
    h.reopen_with_budget(1 << 20);
    assert_only(&health(&h), &[CheckKind::Storage], CheckStatus::Failing);

    h.close();
    std::fs::write(h.journal_path(), b"bad flash, not a database").unwrap();
    for suffix in ["-wal", "-shm"] {
        let mut p = h.journal_path().into_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
    h.reopen();
    let report = health(&h);
    assert_eq!(report.status(CheckKind::Journal), CheckStatus::Failing);
    h.terminal.acknowledge_storage_fault(true).unwrap();
    assert_eq!(health(&h).status(CheckKind::Journal), CheckStatus::Ok);
}

#[test]
fn statistics_count_approvals_declines_and_latency_once_per_attempt() {
    let h = Harness::new();
    assert!(h.sale("a1", "normal", PIN, 100).is_approved());
    // Another amount: a second identical sale on the card would be a suspected duplicate.
    assert!(h.sale("a2", "normal", PIN, 200).is_approved());
    assert!(!h.sale("d1", "low", PIN, 900_000).is_approved());
    // A replay of a recorded attempt returns its outcome and is not counted again.
    assert!(h.sale("a1", "normal", PIN, 100).is_approved());
    let report = h.terminal.report(SystemTime::now()).unwrap();
    let today = report.window(Window::Today).unwrap();
    assert_eq!((today.total, today.approved, today.terminated), (3, 2, 1));
    assert_eq!(today.by_code.get("HOST_DECLINED_51"), Some(&1));
    assert_eq!(today.top_causes[0].cause, Cause::Account);
    let rate = today.approval_rate.unwrap();
    assert!((rate - 2.0 / 3.0).abs() < 1e-9, "{rate}");
    // Sign-on plus three sales went to the host.
    assert!(
        today.host_latency.exchanges >= 4,
        "{:?}",
        today.host_latency
    );
    assert!(today.host_latency.p50_ms.is_some());
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["terminal_id"], h.terminal.terminal_id());
}

#[test]
fn statistics_do_not_add_journal_commits_to_a_sale() {
    let h = Harness::new();
    let before = h.terminal.journal_commits();
    assert!(h.sale("c1", "normal", PIN, 100).is_approved());
    assert_eq!(h.terminal.journal_commits() - before, 2);
    let today = h.terminal.report(SystemTime::now()).unwrap();
    assert_eq!(today.window(Window::Today).unwrap().approved, 1);
}

/// Adds `n` copies of the journal's "seed" sale to its open batch through SQLite, in `state`
/// (the engine would need two fsyncs each and trip the velocity rule to get there).
fn fill_batch(h: &Harness, n: i64, state: &str) {
    let conn = rusqlite::Connection::open(h.journal_path()).unwrap();
    let mut stmt = conn
        .prepare(
            "INSERT INTO transactions (attempt_id, kind, state, amount_fen, currency, stan, \
             batch_no, pan_masked, pan_sealed, entry_mode, rrn, auth_code, response_code, \
             created_at, updated_at) \
             SELECT ?1, kind, ?3, amount_fen, currency, ?2, batch_no, pan_masked, \
             pan_sealed, entry_mode, rrn, auth_code, response_code, created_at, updated_at \
             FROM transactions WHERE attempt_id = 'seed'",
        )
        .unwrap();
    for i in 0..n {
        stmt.execute(rusqlite::params![
            format!("fill-{state}-{i}"),
            1000 + i,
            state
        ])
        .unwrap();
    }
}

#[test]
fn a_full_batch_refuses_new_sales_until_settlement_and_says_settle_now() {
    let h = Harness::new();
    assert!(h.sale("seed", "normal", Some("123456"), 100).is_approved());
    // 499 more approved sales: the batch is at its capacity of 500.
    fill_batch(&h, 499, "approved");
    let net = h.net_fen();
    let refused = h.sale("one-too-many", "credit", Some("123456"), 700);
    let t = refused.termination().expect("refused");
    assert_eq!(t.code, smartpos_core::diag::TerminationCode::MntBatchFull);
    assert_eq!(t.cause, Cause::Maintenance);
    assert!(t.remedies.contains(&Remedy::SettleNow), "{:?}", t.remedies);
    assert_eq!(h.net_fen(), net, "nothing reached the host");
}

#[test]
fn declined_rows_do_not_fill_the_batch() {
    let h = Harness::new();
    assert!(h.sale("seed", "normal", Some("123456"), 100).is_approved());
    // 600 declines in the open batch: past the cheap bound, so the exact count decides.
    fill_batch(&h, 600, "declined");
    assert!(
        h.sale("still-room", "credit", Some("123456"), 700)
            .is_approved()
    );
}
