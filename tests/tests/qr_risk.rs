//! The risk pre-check of QR payments, in simulated time against the simulated gateway: a
//! payment over the PBOC dynamic-code daily cap is refused before anything is journaled or
//! sent; one that fits passes; a refund or a new local day makes room again.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use smartpos_core::diag::{Cause, Remedy, TerminationCode};
use smartpos_core::host::CancelToken;
use smartpos_core::money::Amount;
use smartpos_core::ports::{Clock, SimulatedClock};
use smartpos_core::qr::gateway::SigningKey;
use smartpos_core::qr::session::{PresentedOrder, QrOutcome, QrRisk, QrSession, QrSettings};
use smartpos_core::risk::QrGrade;
use smartpos_tools::sim::gateway::{GatewayServer, QrGateway};

const KEY: &[u8] = b"qr-risk-test-signing-key-32bytes";
const MERCHANT: &str = "898310048161234";
/// Grade B (payer grade unknown): 1,000 yuan per day (Yinfa [2017] No. 296, as in the
/// built-in bundle).
const CAP_B: u64 = 100_000;

/// 2023-11-15 06:13:20 in China (UTC+8): the local day started 6 hours ago.
fn start() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

struct Lab {
    server: GatewayServer,
    clock: Arc<SimulatedClock>,
    dir: tempfile::TempDir,
}

impl Lab {
    fn new() -> Lab {
        let clock = Arc::new(SimulatedClock::new(start()));
        let gateway = Arc::new(QrGateway::new(KEY, MERCHANT, clock.clone()));
        let server = GatewayServer::start(gateway, "127.0.0.1:0".parse().unwrap()).unwrap();
        Lab {
            server,
            clock,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn session(&self, risk: QrRisk) -> QrSession {
        let mut settings = QrSettings::new(
            &self.server.url(),
            MERCHANT,
            "TRM00001",
            SigningKey::new(KEY),
        );
        settings.request_timeout = Duration::from_millis(800);
        settings.risk = risk;
        QrSession::open(settings, self.dir.path().join("qr.db"), self.clock.clone()).unwrap()
    }

    fn pay(&self, session: &QrSession, id: &str, fen: u64) -> QrOutcome {
        smartpos_e2e::qr_micropay(session, id, fen)
    }

    fn charged(&self, id: &str) -> u64 {
        self.server.gateway().ledger().charged_fen(id)
    }
}

fn paid(o: &QrOutcome) -> bool {
    matches!(o, QrOutcome::Paid { .. })
}

fn assert_cap_decline(o: &QrOutcome) {
    let QrOutcome::Declined { termination: t, .. } = o else {
        panic!("not declined: {o:?}");
    };
    assert_eq!(t.cause, Cause::Risk);
    assert_eq!(t.code, TerminationCode::RiskLimit);
    assert!(
        t.merchant_en.contains("qr_dynamic_daily_cap"),
        "{}",
        t.merchant_en
    );
    assert!(!t.remedies.contains(&Remedy::UseQr), "{:?}", t.remedies);
}

#[test]
fn a_micropay_over_the_daily_cap_is_refused_before_anything_is_sent() {
    let lab = Lab::new();
    let session = lab.session(QrRisk::default());
    assert!(paid(&lab.pay(&session, "Q1", 60_000)));

    let over = lab.pay(&session, "Q2", CAP_B - 60_000 + 1);
    assert_cap_decline(&over);
    assert_eq!(lab.charged("Q2"), 0);
    assert!(
        lab.server.gateway().ledger().order("Q2").is_none(),
        "never sent"
    );
    assert_eq!(session.orders().unwrap().len(), 1, "nothing journaled");

    // Exactly up to the cap passes.
    assert!(paid(&lab.pay(&session, "Q3", CAP_B - 60_000)));
    assert_eq!(lab.charged("Q3"), CAP_B - 60_000);
    assert_cap_decline(&lab.pay(&session, "Q4", 1));
}

#[test]
fn a_refund_or_a_new_day_makes_room_and_the_refused_attempt_can_be_retried() {
    let lab = Lab::new();
    let session = lab.session(QrRisk::default());
    assert!(paid(&lab.pay(&session, "R1", CAP_B)));
    assert_cap_decline(&lab.pay(&session, "R2", 500));

    session
        .refund("R1", Amount::from_fen(500).unwrap())
        .unwrap();
    // The refused attempt id was never journaled, so the same id is checked afresh.
    assert!(paid(&lab.pay(&session, "R2", 500)));
    assert_cap_decline(&lab.pay(&session, "R3", 1));

    // 18 hours later it is the next local day (the day starts at midnight UTC+8).
    lab.clock.sleep(Duration::from_secs(18 * 3600));
    assert!(paid(&lab.pay(&session, "R3", 1)));
}

#[test]
fn a_merchant_presented_order_counts_and_is_capped_too() {
    let lab = Lab::new();
    let session = lab.session(QrRisk::default());
    assert!(paid(&lab.pay(&session, "P1", CAP_B - 100)));
    let cancel = CancelToken::new();
    let ended = session
        .precreate("P2", Amount::from_fen(101).unwrap(), "tea", &cancel)
        .unwrap();
    let PresentedOrder::Ended(outcome) = ended else {
        panic!("shown despite the cap: {ended:?}");
    };
    assert_cap_decline(&outcome);
    let shown = session
        .precreate("P3", Amount::from_fen(100).unwrap(), "tea", &cancel)
        .unwrap();
    assert!(matches!(shown, PresentedOrder::Ready { .. }), "{shown:?}");
    // An open order may still be paid: it counts until it is closed.
    assert_cap_decline(&lab.pay(&session, "P4", 1));
}

#[test]
fn a_configured_grade_a_payer_has_the_higher_cap_and_checks_can_be_turned_off() {
    let lab = Lab::new();
    let graded = lab.session(QrRisk {
        grade: Some(QrGrade::A),
        ..QrRisk::default()
    });
    // 5,000 yuan per day for grade A.
    assert!(paid(&lab.pay(&graded, "G1", 300_000)));
    assert!(paid(&lab.pay(&graded, "G2", 200_000)));
    assert_cap_decline(&lab.pay(&graded, "G3", 1));
    drop(graded);
    let unchecked = lab.session(QrRisk::disabled());
    assert!(paid(&lab.pay(&unchecked, "G3", 1)));
}
