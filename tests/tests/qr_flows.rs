//! QR payment flows in simulated time against the simulated gateway: every flow ends
//! closed-loop and the gateway's ledger shows each order charged once or not at all, and given
//! back when it must be.
#![allow(clippy::unwrap_used)]

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use smartpos_core::diag::TerminationCode;
use smartpos_core::host::CancelToken;
use smartpos_core::money::Amount;
use smartpos_core::ports::{Clock, SimulatedClock};
use smartpos_core::qr::gateway::{SigningKey, TradeState};
use smartpos_core::qr::session::{PresentedOrder, QrOutcome, QrSession, QrSettings};
use smartpos_core::store::QrOrderState;
use smartpos_tools::sim::gateway::{Behaviour, GatewayServer, QrGateway};

const KEY: &[u8] = b"qr-flow-test-signing-key-32bytes";
const MERCHANT: &str = "898310048161234";

fn start() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

type Event = Box<dyn FnOnce() + Send>;

/// Simulated time with things that happen when it passes given instants: the gateway going
/// down or up, or the process "dying" (a panic unwinding out of the session mid-flow).
struct ScriptedClock {
    inner: Arc<SimulatedClock>,
    events: Mutex<Vec<(Duration, Event)>>,
}

impl ScriptedClock {
    fn elapsed(&self) -> Duration {
        self.inner.now().duration_since(start()).unwrap()
    }

    fn at(&self, elapsed: Duration, event: impl FnOnce() + Send + 'static) {
        self.events.lock().unwrap().push((elapsed, Box::new(event)));
    }
}

impl Clock for ScriptedClock {
    fn now(&self) -> SystemTime {
        self.inner.now()
    }

    fn sleep(&self, duration: Duration) {
        self.inner.sleep(duration);
        let now = self.elapsed();
        let due: Vec<Event> = {
            let mut events = self.events.lock().unwrap();
            let (due, later): (Vec<_>, Vec<_>) = events.drain(..).partition(|(at, _)| *at <= now);
            *events = later;
            due.into_iter().map(|(_, e)| e).collect()
        };
        for event in due {
            event();
        }
    }
}

struct Lab {
    server: Arc<GatewayServer>,
    clock: Arc<ScriptedClock>,
    dir: tempfile::TempDir,
}

impl Lab {
    fn new() -> Lab {
        let sim_clock = Arc::new(SimulatedClock::new(start()));
        let gateway = Arc::new(QrGateway::new(KEY, MERCHANT, sim_clock.clone()));
        let server =
            Arc::new(GatewayServer::start(gateway, "127.0.0.1:0".parse().unwrap()).unwrap());
        let clock = Arc::new(ScriptedClock {
            inner: sim_clock,
            events: Mutex::new(Vec::new()),
        });
        Lab {
            server,
            clock,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn journal_path(&self) -> PathBuf {
        self.dir.path().join("qr-journal.db")
    }

    fn session(&self) -> QrSession {
        let mut settings = QrSettings::new(
            &self.server.url(),
            MERCHANT,
            "TRM00001",
            SigningKey::new(KEY),
        );
        settings.request_timeout = Duration::from_millis(800);
        settings.connect_timeout = Duration::from_millis(800);
        QrSession::open(settings, self.journal_path(), self.clock.clone()).unwrap()
    }

    fn gateway(&self) -> &QrGateway {
        self.server.gateway()
    }

    fn pay(&self, session: &QrSession, id: &str, fen: u64) -> QrOutcome {
        smartpos_e2e::qr_micropay(session, id, fen)
    }

    fn journal_state(&self, session: &QrSession, id: &str) -> QrOrderState {
        session
            .orders()
            .unwrap()
            .into_iter()
            .find(|o| o.out_trade_no == id)
            .unwrap()
            .state
    }

    /// The gateway ledger: (charged, refunded, state).
    fn ledger(&self, id: &str) -> (u64, u64, Option<TradeState>) {
        let ledger = self.gateway().ledger();
        (
            ledger.charged_fen(id),
            ledger.refunded_fen(id),
            ledger.state(id),
        )
    }
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[test]
fn paid_at_once_and_a_repeat_never_charges_again() {
    let lab = Lab::new();
    let session = lab.session();
    let outcome = lab.pay(&session, "A1", 1234);
    let QrOutcome::Paid {
        transaction_id,
        amount,
        ..
    } = &outcome
    else {
        panic!("{outcome:?}");
    };
    assert!(transaction_id.is_some());
    assert_eq!(amount.fen(), 1234);
    assert_eq!(lab.clock.elapsed(), Duration::ZERO);
    assert_eq!(lab.ledger("A1"), (1234, 0, Some(TradeState::Success)));

    assert_eq!(lab.pay(&session, "A1", 1234), outcome);
    assert_eq!(
        lab.gateway()
            .ledger()
            .order("A1")
            .unwrap()
            .micropay_requests,
        1
    );
    let order = &session.orders().unwrap()[0];
    assert_eq!(order.code_masked.as_deref(), Some("134567********6789"));
    assert_eq!(order.scheme.as_deref(), Some("wechat"));
}

#[test]
fn user_paying_then_paid_at_20s() {
    let lab = Lab::new();
    lab.gateway().script("A2", Behaviour::PayAfter(secs(20)));
    let session = lab.session();
    let outcome = lab.pay(&session, "A2", 500);
    assert!(matches!(outcome, QrOutcome::Paid { .. }), "{outcome:?}");
    assert_eq!(lab.clock.elapsed(), secs(20));
    assert_eq!(lab.ledger("A2"), (500, 0, Some(TradeState::Success)));
    assert_eq!(lab.journal_state(&session, "A2"), QrOrderState::Paid);
}

#[test]
fn never_paid_is_cancelled_at_45s() {
    let lab = Lab::new();
    lab.gateway().script("A3", Behaviour::NeverPay);
    let session = lab.session();
    let outcome = lab.pay(&session, "A3", 500);
    let QrOutcome::Closed { termination, .. } = &outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(termination.code, TerminationCode::OpQrNotPaid);
    assert_eq!(lab.clock.elapsed(), secs(45));
    assert_eq!(lab.ledger("A3"), (0, 0, Some(TradeState::Revoked)));
    assert_eq!(lab.journal_state(&session, "A3"), QrOrderState::Closed);
}

#[test]
fn payment_landing_before_the_cancel_is_reversed_and_recorded_as_refunded() {
    let lab = Lab::new();
    lab.gateway().script("A4", Behaviour::PayOnCancel);
    let session = lab.session();
    let outcome = lab.pay(&session, "A4", 800);
    let QrOutcome::Refunded { amount, .. } = &outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(amount.fen(), 800);
    assert_eq!(lab.ledger("A4"), (800, 800, Some(TradeState::Revoked)));
    assert_eq!(lab.journal_state(&session, "A4"), QrOrderState::Refunded);
}

#[test]
fn gateway_down_mid_poll_then_back_before_the_deadline() {
    let lab = Lab::new();
    lab.gateway().script("A5", Behaviour::PayAfter(secs(20)));
    let (down, up) = (lab.server.clone(), lab.server.clone());
    lab.clock.at(secs(10), move || down.set_down(true));
    lab.clock.at(secs(30), move || up.set_down(false));
    let session = lab.session();
    let outcome = lab.pay(&session, "A5", 600);
    assert!(matches!(outcome, QrOutcome::Paid { .. }), "{outcome:?}");
    // Queries at 10..25 s found the gateway down; the one at 30 s found the payment.
    assert_eq!(lab.clock.elapsed(), secs(30));
    assert_eq!(lab.ledger("A5"), (600, 0, Some(TradeState::Success)));
}

#[test]
fn gateway_down_past_the_deadline_leaves_a_cancel_that_recovery_finishes() {
    let lab = Lab::new();
    // The customer pays at 50 s, while the gateway is unreachable for the terminal.
    lab.gateway().script("A6", Behaviour::PayAfter(secs(50)));
    let down = lab.server.clone();
    lab.clock.at(secs(10), move || down.set_down(true));
    let session = lab.session();
    let outcome = lab.pay(&session, "A6", 700);
    let QrOutcome::Unresolved { termination, .. } = &outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(termination.code, TerminationCode::NetQrUnresolved);
    assert_eq!(lab.journal_state(&session, "A6"), QrOrderState::Cancelling);

    lab.server.set_down(false);
    lab.clock.sleep(secs(60));
    let recovered = session.recover().unwrap();
    assert_eq!(recovered.len(), 1);
    assert!(
        matches!(&recovered[0], QrOutcome::Refunded { amount, .. } if amount.fen() == 700),
        "{recovered:?}"
    );
    assert_eq!(lab.ledger("A6"), (700, 700, Some(TradeState::Revoked)));
    assert_eq!(lab.journal_state(&session, "A6"), QrOrderState::Refunded);
    assert!(session.recover().unwrap().is_empty());
}

/// Runs a payment whose process "dies" at `crash_at` (a panic unwinds out of the session,
/// which is then dropped with its order still open in the journal).
fn crash_while_polling(lab: &Lab, id: &str, crash_at: Duration) {
    lab.clock.at(crash_at, || panic!("simulated process death"));
    let session = lab.session();
    let died = catch_unwind(AssertUnwindSafe(|| lab.pay(&session, id, 900)));
    assert!(died.is_err(), "the flow should have been killed");
    assert_eq!(lab.journal_state(&session, id), QrOrderState::Polling);
    drop(session);
}

#[test]
fn killed_while_polling_recovery_cancels_an_unpaid_order() {
    let lab = Lab::new();
    lab.gateway().script("A7", Behaviour::NeverPay);
    crash_while_polling(&lab, "A7", secs(15));
    lab.clock.sleep(secs(120));
    let session = lab.session();
    let recovered = session.recover().unwrap();
    assert!(
        matches!(&recovered[..], [QrOutcome::Closed { .. }]),
        "{recovered:?}"
    );
    assert_eq!(lab.ledger("A7"), (0, 0, Some(TradeState::Revoked)));
    assert_eq!(lab.journal_state(&session, "A7"), QrOrderState::Closed);
}

#[test]
fn killed_while_polling_recovery_keeps_a_completed_payment_once() {
    let lab = Lab::new();
    lab.gateway().script("A8", Behaviour::PayAfter(secs(20)));
    crash_while_polling(&lab, "A8", secs(15));
    lab.clock.sleep(secs(60));
    let session = lab.session();
    let recovered = session.recover().unwrap();
    assert!(
        matches!(&recovered[..], [QrOutcome::Paid { .. }]),
        "{recovered:?}"
    );
    // The cashier retries with the same attempt id and learns the payment; no second charge.
    assert!(matches!(
        lab.pay(&session, "A8", 900),
        QrOutcome::Paid { .. }
    ));
    assert_eq!(lab.ledger("A8"), (900, 0, Some(TradeState::Success)));
    assert_eq!(
        lab.gateway()
            .ledger()
            .order("A8")
            .unwrap()
            .micropay_requests,
        1
    );
}

#[test]
fn bad_response_signature_leaves_the_order_unknown_until_queried() {
    let lab = Lab::new();
    lab.gateway().bad_signatures(1);
    let session = lab.session();
    let outcome = lab.pay(&session, "A9", 100);
    assert!(matches!(outcome, QrOutcome::Paid { .. }), "{outcome:?}");
    // Not trusted at once: known only from the first query, one interval later.
    assert_eq!(lab.clock.elapsed(), secs(5));
    assert_eq!(lab.ledger("A9"), (100, 0, Some(TradeState::Success)));
}

#[test]
fn slow_answer_past_the_timeout_is_resolved_by_query() {
    let lab = Lab::new();
    lab.gateway().slow_answers(Duration::from_millis(1500), 1);
    let session = lab.session();
    let outcome = lab.pay(&session, "A10", 100);
    assert!(matches!(outcome, QrOutcome::Paid { .. }), "{outcome:?}");
    assert_eq!(lab.clock.elapsed(), secs(5));
    assert_eq!(lab.ledger("A10"), (100, 0, Some(TradeState::Success)));
}

#[test]
fn declines_and_an_unreachable_gateway_charge_nothing() {
    let lab = Lab::new();
    lab.gateway().script("A11", Behaviour::Decline("NOTENOUGH"));
    let session = lab.session();
    let outcome = lab.pay(&session, "A11", 100);
    let QrOutcome::Declined { termination, .. } = &outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(termination.code, TerminationCode::AccQrInsufficient);
    assert_eq!(lab.ledger("A11").0, 0);

    lab.server.set_down(true);
    let outcome = lab.pay(&session, "A12", 100);
    let QrOutcome::Declined { termination, .. } = &outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(termination.code, TerminationCode::NetQrGatewayUnreachable);
    assert!(termination.alternative.is_some());
    assert_eq!(lab.ledger("A12"), (0, 0, None));
}

#[test]
fn customer_cancels_in_the_wallet() {
    let lab = Lab::new();
    lab.gateway()
        .script("A13", Behaviour::UserCancelsAfter(secs(12)));
    let session = lab.session();
    let outcome = lab.pay(&session, "A13", 100);
    let QrOutcome::Closed { termination, .. } = &outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(termination.code, TerminationCode::OpQrUserCancelled);
    assert_eq!(lab.clock.elapsed(), secs(15));
    assert_eq!(lab.ledger("A13").0, 0);
}

#[test]
fn merchant_presented_paid_then_partly_refunded() {
    let lab = Lab::new();
    lab.gateway().script("M1", Behaviour::PayAfter(secs(10)));
    let session = lab.session();
    let cancel = CancelToken::new();
    let shown = session
        .precreate("M1", Amount::from_fen(1234).unwrap(), "coffee", &cancel)
        .unwrap();
    let PresentedOrder::Ready { code_url, .. } = &shown else {
        panic!("{shown:?}");
    };
    assert!(code_url.ends_with("/M1"), "{code_url}");
    let outcome = session.poll_presented("M1", &cancel).unwrap();
    assert!(matches!(outcome, QrOutcome::Paid { .. }), "{outcome:?}");
    assert_eq!(lab.clock.elapsed(), secs(10));

    let refunded = session
        .refund("M1", Amount::from_fen(300).unwrap())
        .unwrap();
    assert!(
        matches!(&refunded, QrOutcome::Refunded { amount, .. } if amount.fen() == 300),
        "{refunded:?}"
    );
    assert_eq!(lab.ledger("M1"), (1234, 300, Some(TradeState::Refund)));
    assert!(session.refund("M1", Amount::from_fen(1).unwrap()).is_err());
}

#[test]
fn merchant_presented_customer_walks_away_and_operator_cancels() {
    let lab = Lab::new();
    let session = lab.session();
    let cancel = CancelToken::new();
    session
        .precreate("M2", Amount::from_fen(50).unwrap(), "tea", &cancel)
        .unwrap();
    cancel.cancel();
    let outcome = session.poll_presented("M2", &cancel).unwrap();
    assert!(
        matches!(outcome, QrOutcome::Cancelled { .. }),
        "{outcome:?}"
    );
    assert_eq!(lab.ledger("M2"), (0, 0, Some(TradeState::Revoked)));
}

#[test]
fn operator_cancel_reverses_a_paid_order() {
    let lab = Lab::new();
    let session = lab.session();
    assert!(matches!(
        lab.pay(&session, "A14", 321),
        QrOutcome::Paid { .. }
    ));
    let outcome = session.cancel("A14").unwrap();
    assert!(
        matches!(&outcome, QrOutcome::Refunded { amount, .. } if amount.fen() == 321),
        "{outcome:?}"
    );
    assert_eq!(lab.ledger("A14"), (321, 321, Some(TradeState::Revoked)));
}

#[test]
fn recovery_with_the_gateway_down_keeps_the_order_open_for_the_next_try() {
    let lab = Lab::new();
    lab.gateway().script("A15", Behaviour::NeverPay);
    crash_while_polling(&lab, "A15", secs(10));
    lab.server.set_down(true);
    let session = lab.session();
    let first = session.recover().unwrap();
    assert!(
        matches!(&first[..], [QrOutcome::Unresolved { .. }]),
        "{first:?}"
    );
    // One cancel attempt per order at recovery: no waiting out retries with the gateway down.
    assert_eq!(lab.clock.elapsed(), secs(10));
    assert_eq!(lab.journal_state(&session, "A15"), QrOrderState::Cancelling);
    assert_eq!(
        session
            .outcome("A15")
            .unwrap()
            .map(|o| matches!(o, QrOutcome::Unresolved { .. })),
        Some(true)
    );

    lab.server.set_down(false);
    let second = session.recover().unwrap();
    assert!(
        matches!(&second[..], [QrOutcome::Closed { .. }]),
        "{second:?}"
    );
    assert_eq!(lab.ledger("A15"), (0, 0, Some(TradeState::Revoked)));
}

#[test]
fn a_scanned_code_is_recognised_before_anything_is_journaled_or_sent() {
    let lab = Lab::new();
    let session = lab.session();
    let cancel = CancelToken::new();
    let fen = Amount::from_fen(880).unwrap();

    // An Alipay code (prefix 25–30, 16–24 digits) as a scanner delivers it, with a newline.
    let outcome = session
        .pay_code("S1", fen, "28763443825664394\n", &cancel)
        .unwrap();
    assert!(matches!(outcome, QrOutcome::Paid { .. }), "{outcome:?}");
    assert_eq!(lab.ledger("S1").0, 880);
    assert_eq!(
        session.orders().unwrap()[0].scheme.as_deref(),
        Some("alipay")
    );

    // A WeChat-length code with an unknown prefix: refused with the reason, nothing sent.
    let err = session
        .pay_code("S2", fen, "994567890123456789", &cancel)
        .unwrap_err();
    assert!(
        matches!(err, smartpos_core::qr::session::QrError::NotAPaymentCode(_)),
        "{err:?}"
    );
    assert!(!err.to_string().is_empty());
    assert!(lab.gateway().ledger().order("S2").is_none());
    assert_eq!(
        session.orders().unwrap().len(),
        1,
        "nothing journaled for S2"
    );
}
