//! A QR gateway answer counts as "paid" only when it names this order and this amount: the
//! simulated gateway, scripted to misreport, signs answers for another amount or without the
//! order id, and the session never records those as paid. It asks again; a truthful answer is
//! kept, and an order nothing confirms is cancelled, giving back whatever was charged.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use smartpos_core::diag::TerminationCode;
use smartpos_core::host::CancelToken;
use smartpos_core::money::Amount;
use smartpos_core::ports::{Clock, SimulatedClock};
use smartpos_core::qr::gateway::{SigningKey, TradeState};
use smartpos_core::qr::session::{PresentedOrder, QrOutcome, QrSession, QrSettings};
use smartpos_core::store::QrOrderState;
use smartpos_tools::sim::gateway::{Behaviour, GatewayServer, Misreport, QrGateway};

const KEY: &[u8] = b"qr-answer-test-signing-key-32byt";
const MERCHANT: &str = "898310048161234";

struct Lab {
    server: GatewayServer,
    clock: Arc<SimulatedClock>,
    session: QrSession,
    _dir: tempfile::TempDir,
}

impl Lab {
    fn new() -> Lab {
        let clock = Arc::new(SimulatedClock::new(
            UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        ));
        let gateway = Arc::new(QrGateway::new(KEY, MERCHANT, clock.clone()));
        let server = GatewayServer::start(gateway, "127.0.0.1:0".parse().unwrap()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let settings = QrSettings::new(&server.url(), MERCHANT, "TRM00001", SigningKey::new(KEY));
        let session = QrSession::open(settings, dir.path().join("qr.db"), clock.clone()).unwrap();
        Lab {
            server,
            clock,
            session,
            _dir: dir,
        }
    }

    fn gateway(&self) -> &QrGateway {
        self.server.gateway()
    }

    fn elapsed(&self) -> Duration {
        self.clock
            .now()
            .duration_since(UNIX_EPOCH + Duration::from_secs(1_700_000_000))
            .unwrap()
    }

    fn state(&self, id: &str) -> QrOrderState {
        self.session.outcome(id).unwrap().unwrap();
        self.session
            .orders()
            .unwrap()
            .into_iter()
            .find(|o| o.out_trade_no == id)
            .unwrap()
            .state
    }

    /// (charged, refunded) at the gateway.
    fn ledger(&self, id: &str) -> (u64, u64) {
        let ledger = self.gateway().ledger();
        (ledger.charged_fen(id), ledger.refunded_fen(id))
    }
}

#[test]
fn a_payment_only_ever_reported_for_another_amount_is_never_recorded_paid() {
    let lab = Lab::new();
    // The customer is charged 1,000 fen at once; every answer about the order says 1 fen.
    lab.gateway()
        .misreport("QA1", Misreport::Amount(1), u32::MAX);
    let outcome = smartpos_e2e::qr_micropay(&lab.session, "QA1", 1_000);
    assert!(
        !matches!(outcome, QrOutcome::Paid { .. }),
        "another amount is not this payment: {outcome:?}"
    );
    assert_ne!(lab.state("QA1"), QrOrderState::Paid);
    // It asked until the deadline, then cancelled: the charge was given back in full.
    assert_eq!(lab.elapsed(), Duration::from_secs(45));
    assert_eq!(lab.ledger("QA1"), (1_000, 1_000));
    assert_eq!(
        lab.gateway().ledger().state("QA1"),
        Some(TradeState::Revoked)
    );
}

#[test]
fn a_first_answer_for_another_amount_is_queried_and_the_confirmed_payment_kept() {
    let lab = Lab::new();
    lab.gateway().misreport("QA2", Misreport::Amount(1), 1);
    let outcome = smartpos_e2e::qr_micropay(&lab.session, "QA2", 1_000);
    let QrOutcome::Paid { amount, .. } = &outcome else {
        panic!("the query confirms the payment: {outcome:?}");
    };
    assert_eq!(amount.fen(), 1_000);
    // Recorded paid only after the first query, one poll interval later.
    assert_eq!(lab.elapsed(), Duration::from_secs(5));
    assert_eq!(lab.state("QA2"), QrOrderState::Paid);
    assert_eq!(lab.ledger("QA2"), (1_000, 0));
}

#[test]
fn a_paid_answer_that_names_no_order_is_not_taken_as_paid() {
    let lab = Lab::new();
    lab.gateway().misreport("QA3", Misreport::NoOrderId, 1);
    let outcome = smartpos_e2e::qr_micropay(&lab.session, "QA3", 2_500);
    assert!(matches!(outcome, QrOutcome::Paid { .. }), "{outcome:?}");
    assert_eq!(
        lab.elapsed(),
        Duration::from_secs(5),
        "it was queried first"
    );
    assert_eq!(lab.ledger("QA3"), (2_500, 0));
}

#[test]
fn a_merchant_code_created_for_another_amount_is_closed_unshown() {
    let lab = Lab::new();
    lab.gateway().script("QA4", Behaviour::NeverPay);
    lab.gateway().misreport("QA4", Misreport::Amount(1), 1);
    let order = lab
        .session
        .precreate(
            "QA4",
            Amount::from_fen(1_880).unwrap(),
            "demo",
            &CancelToken::new(),
        )
        .unwrap();
    let PresentedOrder::Ended(QrOutcome::Closed { termination, .. }) = &order else {
        panic!("a code for another amount must not be shown: {order:?}");
    };
    assert_eq!(termination.code, TerminationCode::NetBadResponse);
    assert_eq!(lab.ledger("QA4"), (0, 0));
    assert_eq!(lab.state("QA4"), QrOrderState::Closed);
}
