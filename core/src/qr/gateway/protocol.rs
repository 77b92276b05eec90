//! The wire protocol: one flat JSON object of string values each way, POSTed to one path per
//! operation, signed as in [`super::sign`]. Shared by the client and the simulated gateway.

use std::collections::BTreeMap;

use super::codes::{self, Verdict};
use super::{GatewayError, SIGN_FIELD, SigningKey};

/// A gateway operation and its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// Charge a customer-presented payment code (`auth_code`).
    Micropay,
    Query,
    /// Close an order; a paid one is reversed (refunded in full).
    Cancel,
    Refund,
    /// Create a dynamic merchant-presented order; the answer carries `code_url`.
    Precreate,
}

impl Operation {
    pub const ALL: [Operation; 5] = [
        Operation::Micropay,
        Operation::Query,
        Operation::Cancel,
        Operation::Refund,
        Operation::Precreate,
    ];

    pub const fn path(self) -> &'static str {
        match self {
            Operation::Micropay => "/pay/micropay",
            Operation::Query => "/pay/orderquery",
            Operation::Cancel => "/pay/reverse",
            Operation::Refund => "/pay/refund",
            Operation::Precreate => "/pay/precreate",
        }
    }

    pub fn from_path(path: &str) -> Option<Operation> {
        Operation::ALL.into_iter().find(|op| op.path() == path)
    }
}

/// The state of an order as the gateway reports it (`trade_state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TradeState {
    /// Paid.
    Success,
    UserPaying,
    /// Created, not paid (e.g. a precreated order nobody scanned yet).
    NotPay,
    /// Closed without payment.
    Closed,
    /// Cancelled: not paid, or paid and reversed (then `refund_fee` says so).
    Revoked,
    /// Paid and (partly or fully) refunded.
    Refund,
    /// The wallet failed the payment (e.g. the customer cancelled it).
    PayError,
}

impl TradeState {
    const NAMES: [(TradeState, &'static str); 7] = [
        (TradeState::Success, "SUCCESS"),
        (TradeState::UserPaying, "USERPAYING"),
        (TradeState::NotPay, "NOTPAY"),
        (TradeState::Closed, "CLOSED"),
        (TradeState::Revoked, "REVOKED"),
        (TradeState::Refund, "REFUND"),
        (TradeState::PayError, "PAYERROR"),
    ];

    pub fn as_str(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(s, _)| *s == self)
            .map(|(_, n)| *n)
            .unwrap_or("SUCCESS")
    }

    pub fn parse(text: &str) -> Option<TradeState> {
        Self::NAMES
            .iter()
            .find(|(_, n)| *n == text)
            .map(|(s, _)| *s)
    }
}

/// A verified gateway answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayReply {
    pub result_code: String,
    /// The order the answer is about, when it says (`parse_reply` already refused any other).
    pub out_trade_no: Option<String>,
    pub verdict: Verdict,
    pub trade_state: Option<TradeState>,
    /// The gateway's trade number (`transaction_id`).
    pub transaction_id: Option<String>,
    pub total_fee: Option<u64>,
    /// Amount refunded so far on this order (`refund_fee`).
    pub refund_fee: Option<u64>,
    pub code_url: Option<String>,
    /// The gateway's own text (`err_msg`), for the merchant.
    pub message: Option<String>,
}

/// Encodes parameters as the protocol's JSON object.
pub fn params_to_json(params: &BTreeMap<String, String>) -> Vec<u8> {
    // Serialising a map of strings cannot fail.
    serde_json::to_vec(params).unwrap_or_default()
}

/// Decodes a protocol JSON object; every value must be a string.
pub fn params_from_json(body: &[u8]) -> Result<BTreeMap<String, String>, GatewayError> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| GatewayError::BadResponse {
            field: "(body)".into(),
            detail: format!("not JSON at line {} column {}: {e}", e.line(), e.column()),
        })?;
    let serde_json::Value::Object(object) = value else {
        return Err(GatewayError::BadResponse {
            field: "(body)".into(),
            detail: "not a JSON object".into(),
        });
    };
    object
        .into_iter()
        .map(|(key, value)| match value {
            serde_json::Value::String(s) => Ok((key, s)),
            other => Err(GatewayError::BadResponse {
                detail: format!("expected a string, found {}", json_kind(&other)),
                field: key,
            }),
        })
        .collect()
}

fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Verifies and reads an answer to a request about `out_trade_no`.
pub fn parse_reply(
    body: &[u8],
    key: &SigningKey,
    out_trade_no: &str,
) -> Result<GatewayReply, GatewayError> {
    let params = params_from_json(body)?;
    key.verify(&params).map_err(GatewayError::BadSignature)?;
    let field = |name: &str| params.get(name).filter(|v| !v.is_empty()).cloned();
    let result_code = field("result_code").ok_or_else(|| GatewayError::BadResponse {
        field: "result_code".into(),
        detail: "missing".into(),
    })?;
    // A signed answer about another order (a proxy mix-up, a replay) must not settle this one.
    if let Some(echo) = field("out_trade_no")
        && echo != out_trade_no
    {
        return Err(GatewayError::BadResponse {
            field: "out_trade_no".into(),
            detail: format!("answer is for {echo:?}, request was for {out_trade_no:?}"),
        });
    }
    let trade_state = match field("trade_state") {
        None => None,
        Some(text) => Some(TradeState::parse(&text).ok_or(GatewayError::BadResponse {
            field: "trade_state".into(),
            detail: format!("unknown state {text:?}"),
        })?),
    };
    let fen = |name: &str| -> Result<Option<u64>, GatewayError> {
        field(name)
            .map(|text| {
                text.parse::<u64>().map_err(|_| GatewayError::BadResponse {
                    field: name.into(),
                    detail: format!("{text:?} is not an amount in fen"),
                })
            })
            .transpose()
    };
    Ok(GatewayReply {
        out_trade_no: field("out_trade_no"),
        verdict: codes::verdict(&result_code),
        result_code,
        trade_state,
        transaction_id: field("transaction_id"),
        total_fee: fen("total_fee")?,
        refund_fee: fen("refund_fee")?,
        code_url: field("code_url"),
        message: field("err_msg"),
    })
}

/// Signs `params` in place (adds `sign`).
pub fn sign_params(key: &SigningKey, params: &mut BTreeMap<String, String>) {
    let sign = key.sign(params);
    params.insert(SIGN_FIELD.into(), sign);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SigningKey {
        SigningKey::new(b"k")
    }

    fn signed(pairs: &[(&str, &str)]) -> Vec<u8> {
        let mut params: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        sign_params(&key(), &mut params);
        params_to_json(&params)
    }

    #[test]
    fn reads_a_signed_reply() {
        let body = signed(&[
            ("result_code", "SUCCESS"),
            ("out_trade_no", "A1"),
            ("trade_state", "USERPAYING"),
            ("total_fee", "100"),
        ]);
        let reply = parse_reply(&body, &key(), "A1").unwrap();
        assert_eq!(reply.verdict, Verdict::Success);
        assert_eq!(reply.trade_state, Some(TradeState::UserPaying));
        assert_eq!(reply.total_fee, Some(100));
        assert_eq!(reply.refund_fee, None);
    }

    #[test]
    fn refuses_tampered_foreign_or_malformed_replies() {
        let mut body = signed(&[("result_code", "SUCCESS"), ("out_trade_no", "A1")]);
        let err = parse_reply(&body, &key(), "A2").unwrap_err();
        assert!(err.to_string().contains("out_trade_no"), "{err}");
        // Flip one byte of the (signed) result code.
        let at = body.windows(7).position(|w| w == b"SUCCESS").unwrap();
        body[at] = b'X';
        assert!(matches!(
            parse_reply(&body, &key(), "A1"),
            Err(GatewayError::BadSignature(_))
        ));
        let err = parse_reply(br#"{"total_fee":5}"#, &key(), "A1").unwrap_err();
        assert!(err.to_string().contains("total_fee"), "{err}");
        assert!(parse_reply(b"[1]", &key(), "A1").is_err());
        let err = parse_reply(b"{\"a\":", &key(), "A1").unwrap_err();
        assert!(err.to_string().contains("column"), "{err}");
        let bad_fee = signed(&[("result_code", "SUCCESS"), ("total_fee", "1.5")]);
        let err = parse_reply(&bad_fee, &key(), "A1").unwrap_err();
        assert!(err.to_string().contains("total_fee"), "{err}");
    }

    #[test]
    fn paths_round_trip() {
        for op in Operation::ALL {
            assert_eq!(Operation::from_path(op.path()), Some(op));
        }
        for (state, name) in TradeState::NAMES {
            assert_eq!(TradeState::parse(name), Some(state));
            assert_eq!(state.as_str(), name);
        }
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let _ = parse_reply(&bytes, &key(), "A1");
        }
    }
}
