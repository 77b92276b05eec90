use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use smartpos_core::ports::SimulatedClock;
use smartpos_core::qr::gateway::protocol::{params_from_json, params_to_json, sign_params};
use smartpos_core::qr::gateway::{Operation, SigningKey, TradeState};

use super::{Behaviour, QrGateway};

const KEY: &[u8] = b"sim-key";

fn gateway() -> QrGateway {
    let clock = Arc::new(SimulatedClock::new(
        UNIX_EPOCH + Duration::from_secs(1_700_000_000),
    ));
    QrGateway::new(KEY, "M1", clock)
}

fn call(
    gw: &QrGateway,
    op: Operation,
    pairs: &[(&str, &str)],
    key: &[u8],
) -> BTreeMap<String, String> {
    let mut params: BTreeMap<String, String> = [("mch_id", "M1")]
        .iter()
        .chain(pairs)
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    sign_params(&SigningKey::new(key), &mut params);
    let reply = params_from_json(&gw.handle(op, &params_to_json(&params)).body).unwrap();
    // Every answer, errors included, is signed with the gateway key.
    assert_eq!(SigningKey::new(KEY).verify(&reply), Ok(()), "{reply:?}");
    reply
}

fn pay(gw: &QrGateway, out: &str) -> BTreeMap<String, String> {
    call(
        gw,
        Operation::Micropay,
        &[
            ("out_trade_no", out),
            ("total_fee", "100"),
            ("auth_code", "134567890123456789"),
        ],
        KEY,
    )
}

#[test]
fn wrong_request_signature_is_refused_and_charges_nothing() {
    let gw = gateway();
    let reply = call(
        &gw,
        Operation::Micropay,
        &[
            ("out_trade_no", "A1"),
            ("total_fee", "100"),
            ("auth_code", "134567890123456789"),
        ],
        b"wrong key",
    );
    assert_eq!(reply["result_code"], "SIGN_ERROR");
    assert_eq!(gw.ledger().charged_fen("A1"), 0);
}

#[test]
fn micropay_is_idempotent_by_out_trade_no() {
    let gw = gateway();
    let first = pay(&gw, "A1");
    let again = pay(&gw, "A1");
    assert_eq!(first["transaction_id"], again["transaction_id"]);
    let ledger = gw.ledger();
    assert_eq!(ledger.charged_fen("A1"), 100);
    assert_eq!(ledger.order("A1").unwrap().micropay_requests, 2);
}

#[test]
fn cancel_before_a_late_micropay_leaves_a_tombstone() {
    let gw = gateway();
    let reply = call(&gw, Operation::Cancel, &[("out_trade_no", "A2")], KEY);
    assert_eq!(reply["trade_state"], "REVOKED");
    assert_eq!(pay(&gw, "A2")["result_code"], "ORDERREVERSED");
    assert_eq!(gw.ledger().charged_fen("A2"), 0);
}

#[test]
fn refunds_are_bounded_and_idempotent_by_refund_number() {
    let gw = gateway();
    pay(&gw, "A3");
    let refund = |no: &str, fee: &str| {
        call(
            &gw,
            Operation::Refund,
            &[
                ("out_trade_no", "A3"),
                ("out_refund_no", no),
                ("refund_fee", fee),
            ],
            KEY,
        )
    };
    assert_eq!(refund("R1", "60")["refund_fee"], "60");
    assert_eq!(refund("R1", "60")["refund_fee"], "60");
    assert_eq!(refund("R2", "41")["result_code"], "REFUND_NOT_ALLOWED");
    let ledger = gw.ledger();
    assert_eq!(ledger.refunded_fen("A3"), 60);
    assert_eq!(ledger.state("A3"), Some(TradeState::Refund));
}

#[test]
fn scripted_decline_and_bad_code() {
    let gw = gateway();
    gw.script("A4", Behaviour::Decline("NOTENOUGH"));
    assert_eq!(pay(&gw, "A4")["result_code"], "NOTENOUGH");
    let reply = call(
        &gw,
        Operation::Micropay,
        &[
            ("out_trade_no", "A5"),
            ("total_fee", "100"),
            ("auth_code", "12ab"),
        ],
        KEY,
    );
    assert_eq!(reply["result_code"], "AUTHCODE_INVALID");
    assert_eq!(
        gw.ledger().charged_fen("A4") + gw.ledger().charged_fen("A5"),
        0
    );
}

#[test]
fn bad_signature_fault_applies_the_operation_anyway() {
    let gw = gateway();
    gw.bad_signatures(1);
    let mut params: BTreeMap<String, String> = [
        ("mch_id", "M1"),
        ("out_trade_no", "A6"),
        ("total_fee", "100"),
        ("auth_code", "134567890123456789"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    sign_params(&SigningKey::new(KEY), &mut params);
    let reply = params_from_json(
        &gw.handle(Operation::Micropay, &params_to_json(&params))
            .body,
    )
    .unwrap();
    assert!(SigningKey::new(KEY).verify(&reply).is_err());
    assert_eq!(gw.ledger().charged_fen("A6"), 100);
}
