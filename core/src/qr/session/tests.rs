use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use super::flow::check_attempt_id;
use super::*;
use crate::diag::TerminationCode;
use crate::money::Amount;
use crate::ports::SimulatedClock;
use crate::qr::gateway::{AuthCode, SigningKey};
use crate::store::{QrMode, QrOrder};

fn clock() -> Arc<SimulatedClock> {
    Arc::new(SimulatedClock::new(
        UNIX_EPOCH + Duration::from_secs(1_700_000_000),
    ))
}

/// A URL on loopback where nothing listens (bound, then released).
fn dead_url() -> String {
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    format!("http://{addr}")
}

fn order(state: QrOrderState, termination: Option<&str>) -> QrOrder {
    QrOrder {
        out_trade_no: "A1".into(),
        mode: QrMode::CustomerPresented,
        state,
        amount_fen: 500,
        currency: "156".into(),
        scheme: None,
        code_masked: None,
        gateway_trade_no: Some("G1".into()),
        code_url: None,
        refunded_fen: 200,
        refund_fen: None,
        termination_code: termination.map(str::to_owned),
        created_at_ms: 0,
        updated_at_ms: 0,
    }
}

#[test]
fn attempt_ids_are_checked() {
    assert!(check_attempt_id("POS-0001_a|b*").is_ok());
    for bad in ["", "has space", "x=1&y", &"9".repeat(33), "中文"] {
        assert!(check_attempt_id(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn recorded_orders_map_to_outcomes() {
    let paid = QrOutcome::from_order(&order(QrOrderState::Paid, None)).unwrap();
    assert!(
        matches!(&paid, QrOutcome::Paid { transaction_id: Some(t), amount, .. }
            if t == "G1" && amount.fen() == 500)
    );
    let cancelled = order(QrOrderState::Closed, Some("OP_CANCELLED"));
    assert!(matches!(
        QrOutcome::from_order(&cancelled).unwrap(),
        QrOutcome::Cancelled { .. }
    ));
    let closed = order(QrOrderState::Closed, Some("OP_QR_NOT_PAID"));
    assert!(matches!(
        QrOutcome::from_order(&closed).unwrap(),
        QrOutcome::Closed { termination, .. } if termination.code == TerminationCode::OpQrNotPaid
    ));
    assert!(matches!(
        QrOutcome::from_order(&order(QrOrderState::Refunded, None)).unwrap(),
        QrOutcome::Refunded { amount, .. } if amount.fen() == 200
    ));
    for open in [QrOrderState::Requested, QrOrderState::Cancelling] {
        assert!(matches!(
            QrOutcome::from_order(&order(open, None)).unwrap(),
            QrOutcome::Unresolved { .. }
        ));
    }
}

#[test]
fn settings_are_checked_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let settings = QrSettings::new("ftp://gw", "M", "T", SigningKey::new(b"k"));
    let err = QrSession::open(settings, dir.path().join("j.db"), clock())
        .err()
        .unwrap();
    assert!(matches!(err, QrError::Settings(_)), "{err}");
}

#[test]
fn journal_row_precedes_the_call_and_keeps_only_the_masked_code() {
    let dir = tempfile::tempdir().unwrap();
    let settings = QrSettings::new(&dead_url(), "M", "T", SigningKey::new(b"k"));
    let session = QrSession::open(settings, dir.path().join("j.db"), clock()).unwrap();
    let code = AuthCode::new("134567890123456789");
    let amount = Amount::from_fen(100).unwrap();
    let cancel = CancelToken::new();
    assert!(matches!(
        session.micropay("bad id", amount, &code, "wechat", &cancel),
        Err(QrError::InvalidInput { .. })
    ));
    assert!(matches!(
        session.micropay("Z1", Amount::ZERO, &code, "wechat", &cancel),
        Err(QrError::InvalidInput { what: "amount", .. })
    ));
    assert!(matches!(
        session.precreate("Z2", Amount::ZERO, "nothing", &cancel),
        Err(QrError::InvalidInput { what: "amount", .. })
    ));
    assert!(session.orders().unwrap().is_empty(), "nothing journaled");

    let outcome = session
        .micropay("A1", amount, &code, "wechat", &cancel)
        .unwrap();
    assert!(matches!(
        &outcome,
        QrOutcome::Declined { termination, .. }
            if termination.code == TerminationCode::NetQrGatewayUnreachable
    ));
    let orders = session.orders().unwrap();
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].state, QrOrderState::Declined);
    assert_eq!(orders[0].code_masked.as_deref(), Some("134567********6789"));
    // The same attempt id gets the recorded ending, not a new order.
    assert_eq!(
        session
            .micropay("A1", amount, &code, "wechat", &cancel)
            .unwrap(),
        outcome
    );
    assert!(matches!(
        session.refund("A1", amount),
        Err(QrError::NotUsable { .. })
    ));
    assert!(matches!(
        session.cancel("nope"),
        Err(QrError::UnknownOrder { .. })
    ));
}

#[test]
fn a_cancelled_token_sends_nothing_and_closes_the_order() {
    let dir = tempfile::tempdir().unwrap();
    let settings = QrSettings::new(&dead_url(), "M", "T", SigningKey::new(b"k"));
    let session = QrSession::open(settings, dir.path().join("j.db"), clock()).unwrap();
    let cancel = CancelToken::new();
    cancel.cancel();
    let outcome = session
        .micropay(
            "A2",
            Amount::from_fen(1).unwrap(),
            &AuthCode::new("134567890123456789"),
            "wechat",
            &cancel,
        )
        .unwrap();
    assert!(
        matches!(outcome, QrOutcome::Cancelled { .. }),
        "{outcome:?}"
    );
}

/// The payment's thread and an operator's cancel race on one order; the journal must end the
/// way the operator's cancel ends it, whichever answer lands last.
#[test]
fn a_late_answer_never_undoes_an_operator_cancel() {
    use crate::diag::TerminationCode as T;
    let dir = tempfile::tempdir().unwrap();
    let settings = QrSettings::new(&dead_url(), "M", "T", SigningKey::new(b"k"));
    let session = QrSession::open(settings, dir.path().join("j.db"), clock()).unwrap();
    session
        .journal()
        .begin_qr_order(&crate::store::NewQrOrder {
            out_trade_no: "OP1".into(),
            mode: QrMode::CustomerPresented,
            amount_fen: 700,
            currency: "156".into(),
            scheme: Some("wechat_pay".into()),
            code_masked: None,
            at_ms: 0,
        })
        .unwrap();
    let cancelling = QrOrderUpdate {
        termination_code: Some(T::OpCancelled.to_string()),
        ..QrOrderUpdate::default()
    };
    session
        .record("OP1", QrOrderState::Cancelling, cancelling)
        .unwrap();
    // The micropay's "user paying" lands after the operator journaled the cancel.
    let late = QrOrderUpdate {
        gateway_trade_no: Some("4200".into()),
        ..QrOrderUpdate::default()
    };
    session.record("OP1", QrOrderState::Polling, late).unwrap();
    assert_eq!(
        session.order("OP1").unwrap().state,
        QrOrderState::Cancelling
    );
    // The poll's query sees the order revoked by that cancel before the cancel's answer.
    let seen = session
        .record(
            "OP1",
            QrOrderState::Closed,
            QrOrderUpdate {
                termination_code: Some(T::OpQrOrderClosed.to_string()),
                ..QrOrderUpdate::default()
            },
        )
        .unwrap();
    assert!(matches!(seen, QrOutcome::Cancelled { .. }), "{seen:?}");
    // And an even later "user paying" does not reopen the ended order.
    let again = session
        .record("OP1", QrOrderState::Polling, QrOrderUpdate::default())
        .unwrap();
    assert!(matches!(again, QrOutcome::Cancelled { .. }), "{again:?}");
    let order = session.order("OP1").unwrap();
    assert_eq!(order.state, QrOrderState::Closed);
    assert_eq!(order.gateway_trade_no.as_deref(), Some("4200"));
}
