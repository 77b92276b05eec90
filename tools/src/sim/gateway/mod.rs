//! Simulated aggregator QR gateway: the JSON/HMAC protocol of `smartpos_core::qr::gateway`
//! served over HTTP/1.1 on loopback, with its own ledger of QR orders (in memory) and scriptable
//! customer behaviours and faults. Time is the shared [`Clock`], so "the user pays after 20 s"
//! happens in simulated time.
//!
//! The card ledger (`sim::ledger`) is not shared: QR money never touches a card account, and
//! the card ledger's postings are keyed by STAN/RRN, which QR orders do not have.

mod ledger;
mod server;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use smartpos_core::ports::Clock;
use smartpos_core::qr::gateway::protocol::{self, Operation};
use smartpos_core::qr::gateway::{SigningKey, TradeState};

pub use ledger::{QrLedger, SimOrder};
pub use server::GatewayServer;

/// The signing key `smartpos sim --qr-listen` uses (demo only; never a production key).
pub const DEMO_SIGNING_KEY: &[u8] = b"smartpos-demo-qr-gateway-key-000";

/// What the customer (or the wallet) does with an order.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Behaviour {
    /// Paid at once.
    PayNow,
    /// "User paying", then paid once this much clock time has passed since the order.
    PayAfter(Duration),
    /// "User paying" forever.
    NeverPay,
    /// "User paying", then the customer cancels in the wallet after this long.
    UserCancelsAfter(Duration),
    /// "User paying" until a cancel arrives; the payment lands just before the cancel is
    /// processed (the race the cancel must reverse).
    PayOnCancel,
    /// Refused with this result code (e.g. "NOTENOUGH", "AUTHCODE_INVALID").
    Decline(&'static str),
}

/// What a misreporting gateway gets wrong in an answer it still signs: a bug, a mixed-up
/// back end, or an answer replayed from another order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Misreport {
    /// `total_fee` says this many fen, whatever the order is for.
    Amount(u64),
    /// The answer leaves out `out_trade_no`.
    NoOrderId,
}

/// Faults applied to the next answers.
#[derive(Debug, Default, Clone)]
struct Faults {
    bad_signatures: u32,
    slow: Option<(Duration, u32)>,
    /// Per order: what its next answers misreport, and how many more answers do.
    misreports: HashMap<String, (Misreport, u32)>,
}

#[derive(Debug)]
struct State {
    ledger: QrLedger,
    scripts: HashMap<String, Behaviour>,
    default_behaviour: Behaviour,
    faults: Faults,
}

/// The gateway's logic, independent of HTTP.
pub struct QrGateway {
    key: SigningKey,
    merchant_id: String,
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
    ledger_file: Option<PathBuf>,
}

impl std::fmt::Debug for QrGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QrGateway")
            .field("merchant_id", &self.merchant_id)
            .finish_non_exhaustive()
    }
}

/// What the server should do with an answer.
#[derive(Debug)]
pub(crate) struct Answer {
    pub body: Vec<u8>,
    /// Real time to wait before answering (a slow gateway).
    pub delay: Option<Duration>,
}

impl QrGateway {
    pub fn new(key: &[u8], merchant_id: &str, clock: Arc<dyn Clock>) -> QrGateway {
        QrGateway {
            key: SigningKey::new(key),
            merchant_id: merchant_id.to_owned(),
            clock,
            state: Mutex::new(State {
                ledger: QrLedger::default(),
                scripts: HashMap::new(),
                default_behaviour: Behaviour::PayNow,
                faults: Faults::default(),
            }),
            ledger_file: None,
        }
    }

    /// Keeps the ledger on disk: written after every request (`smartpos sim --qr-ledger`), so
    /// a crash harness can compare it with the terminal's journal. Not read back: the simulated
    /// gateway starts empty.
    pub fn with_ledger_file(mut self, path: PathBuf) -> QrGateway {
        self.ledger_file = Some(path);
        self
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The behaviour of the order `out_trade_no` (set before it is created).
    pub fn script(&self, out_trade_no: &str, behaviour: Behaviour) {
        self.state()
            .scripts
            .insert(out_trade_no.to_owned(), behaviour);
    }

    pub fn set_default_behaviour(&self, behaviour: Behaviour) {
        self.state().default_behaviour = behaviour;
    }

    /// The next `count` answers carry a wrong signature (the operation is still applied).
    pub fn bad_signatures(&self, count: u32) {
        self.state().faults.bad_signatures = count;
    }

    /// The next `count` answers are held back `delay` of real time (the operation is applied
    /// at once, so a client that gives up leaves an order whose outcome it does not know).
    pub fn slow_answers(&self, delay: Duration, count: u32) {
        self.state().faults.slow = Some((delay, count));
    }

    /// The next `answers` answers about `out_trade_no` (any operation) misreport it as `what`
    /// says, signed as usual; the order itself is handled truthfully.
    pub fn misreport(&self, out_trade_no: &str, what: Misreport, answers: u32) {
        self.state()
            .faults
            .misreports
            .insert(out_trade_no.to_owned(), (what, answers));
    }

    /// A snapshot of the ledger for assertions.
    pub fn ledger(&self) -> QrLedger {
        self.state().ledger.clone()
    }

    /// Handles one request body for `op`; always returns a (signed) protocol answer.
    pub(crate) fn handle(&self, op: Operation, body: &[u8]) -> Answer {
        let mut state = self.state();
        let reply = match protocol::params_from_json(body) {
            Err(err) => error_reply("PARAM_ERROR", &err.to_string()),
            Ok(params) => {
                if self.key.verify(&params).is_err() {
                    error_reply("SIGN_ERROR", "request signature does not verify")
                } else if params.get("mch_id") != Some(&self.merchant_id) {
                    error_reply("MCH_NOT_EXISTS", "unknown merchant")
                } else {
                    self.apply(&mut state, op, &params)
                }
            }
        };
        let mut reply = reply;
        misreport(&mut state.faults, &mut reply);
        reply.insert(
            "nonce_str".into(),
            format!("{:016X}", state.ledger.next_transaction),
        );
        protocol::sign_params(&self.key, &mut reply);
        if state.faults.bad_signatures > 0 {
            state.faults.bad_signatures -= 1;
            reply.insert("sign".into(), "00".repeat(32));
        }
        if let Some(path) = &self.ledger_file
            && let Err(e) = state.ledger.save(path)
        {
            eprintln!("QR gateway ledger {}: {e}", path.display());
        }
        let delay = match &mut state.faults.slow {
            Some((delay, count)) if *count > 0 => {
                *count -= 1;
                Some(*delay)
            }
            _ => None,
        };
        Answer {
            body: protocol::params_to_json(&reply),
            delay,
        }
    }

    fn apply(
        &self,
        state: &mut State,
        op: Operation,
        params: &BTreeMap<String, String>,
    ) -> BTreeMap<String, String> {
        let Some(out) = params
            .get("out_trade_no")
            .filter(|s| !s.is_empty())
            .cloned()
        else {
            return error_reply("PARAM_ERROR", "out_trade_no missing");
        };
        let now = self.clock.now();
        if let Some(order) = state.ledger.orders.get_mut(&out) {
            advance(order, now);
        }
        let fee = params.get("total_fee").and_then(|f| f.parse::<u64>().ok());
        let mut reply = match op {
            Operation::Micropay => self.micropay(state, &out, fee, params.get("auth_code")),
            Operation::Precreate => self.precreate(state, &out, fee),
            Operation::Query => match state.ledger.orders.get(&out) {
                None => error_reply("ORDERNOTEXIST", "no such order"),
                Some(order) => order_reply(order),
            },
            Operation::Cancel => cancel(state, &out, now),
            Operation::Refund => refund(state, &out, params),
        };
        reply.insert("out_trade_no".into(), out);
        reply
    }

    fn micropay(
        &self,
        state: &mut State,
        out: &str,
        fee: Option<u64>,
        auth_code: Option<&String>,
    ) -> BTreeMap<String, String> {
        if let Some(order) = state.ledger.orders.get_mut(out) {
            order.micropay_requests += 1;
            // Idempotent: the repeat learns the order's state, and nothing is charged again.
            return match order.state {
                TradeState::Success => order_reply(order),
                TradeState::UserPaying | TradeState::NotPay => {
                    with_code("USERPAYING", order_reply(order))
                }
                TradeState::Revoked => error_reply("ORDERREVERSED", "order cancelled"),
                _ => error_reply("ORDERCLOSED", "order closed"),
            };
        }
        let Some(fee) = fee.filter(|f| *f > 0) else {
            return error_reply("PARAM_ERROR", "total_fee must be a positive amount in fen");
        };
        let code_ok = auth_code
            .is_some_and(|c| (16..=24).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_digit()));
        if !code_ok {
            return error_reply("AUTHCODE_INVALID", "payment code invalid");
        }
        let behaviour = state
            .scripts
            .get(out)
            .cloned()
            .unwrap_or_else(|| state.default_behaviour.clone());
        let initial = match behaviour {
            Behaviour::PayNow => TradeState::Success,
            Behaviour::Decline(_) => TradeState::PayError,
            _ => TradeState::UserPaying,
        };
        let transaction_id = state.ledger.new_transaction_id();
        let order = SimOrder {
            out_trade_no: out.to_owned(),
            total_fee: fee,
            state: initial,
            transaction_id,
            charged_fen: if initial == TradeState::Success {
                fee
            } else {
                0
            },
            refunded_fen: 0,
            created_at: self.clock.now(),
            behaviour: behaviour.clone(),
            micropay_requests: 1,
            refund_nos: Vec::new(),
        };
        let reply = match behaviour {
            Behaviour::Decline(code) => error_reply(code, "declined by the wallet"),
            Behaviour::PayNow => order_reply(&order),
            _ => with_code("USERPAYING", order_reply(&order)),
        };
        state.ledger.orders.insert(out.to_owned(), order);
        reply
    }

    fn precreate(
        &self,
        state: &mut State,
        out: &str,
        fee: Option<u64>,
    ) -> BTreeMap<String, String> {
        if state.ledger.orders.contains_key(out) {
            return error_reply("ORDERPAID", "out_trade_no already used");
        }
        let Some(fee) = fee.filter(|f| *f > 0) else {
            return error_reply("PARAM_ERROR", "total_fee must be a positive amount in fen");
        };
        let behaviour = state
            .scripts
            .get(out)
            .cloned()
            .unwrap_or(Behaviour::NeverPay);
        let transaction_id = state.ledger.new_transaction_id();
        let order = SimOrder {
            out_trade_no: out.to_owned(),
            total_fee: fee,
            state: TradeState::NotPay,
            transaction_id,
            charged_fen: 0,
            refunded_fen: 0,
            created_at: self.clock.now(),
            behaviour,
            micropay_requests: 0,
            refund_nos: Vec::new(),
        };
        let mut reply = order_reply(&order);
        reply.insert(
            "code_url".into(),
            format!("https://qr.sim.invalid/pay/{out}"),
        );
        state.ledger.orders.insert(out.to_owned(), order);
        reply
    }
}

/// Applies a planned misreport to an answer about its order.
fn misreport(faults: &mut Faults, reply: &mut BTreeMap<String, String>) {
    let Some(order) = reply.get("out_trade_no").cloned() else {
        return;
    };
    let Some((what, left)) = faults.misreports.get_mut(&order) else {
        return;
    };
    if *left == 0 {
        return;
    }
    *left -= 1;
    match *what {
        Misreport::Amount(fen) => {
            reply.insert("total_fee".into(), fen.to_string());
        }
        Misreport::NoOrderId => {
            reply.remove("out_trade_no");
        }
    }
}

/// Lets scripted time-based behaviour happen up to `now`.
fn advance(order: &mut SimOrder, now: std::time::SystemTime) {
    let open = matches!(order.state, TradeState::UserPaying | TradeState::NotPay);
    let elapsed = now.duration_since(order.created_at).unwrap_or_default();
    match order.behaviour {
        Behaviour::PayAfter(after) if open && elapsed >= after => pay(order),
        Behaviour::UserCancelsAfter(after) if open && elapsed >= after => {
            order.state = TradeState::PayError;
        }
        _ => {}
    }
}

fn pay(order: &mut SimOrder) {
    order.state = TradeState::Success;
    order.charged_fen = order.total_fee;
}

fn cancel(state: &mut State, out: &str, now: std::time::SystemTime) -> BTreeMap<String, String> {
    let Some(order) = state.ledger.orders.get_mut(out) else {
        // A tombstone: a micropay still in flight must not create the order afterwards.
        let transaction_id = state.ledger.new_transaction_id();
        let order = SimOrder {
            out_trade_no: out.to_owned(),
            total_fee: 0,
            state: TradeState::Revoked,
            transaction_id,
            charged_fen: 0,
            refunded_fen: 0,
            created_at: now,
            behaviour: Behaviour::NeverPay,
            micropay_requests: 0,
            refund_nos: Vec::new(),
        };
        let reply = order_reply(&order);
        state.ledger.orders.insert(out.to_owned(), order);
        return reply;
    };
    let open = matches!(order.state, TradeState::UserPaying | TradeState::NotPay);
    if open && order.behaviour == Behaviour::PayOnCancel {
        pay(order);
    }
    match order.state {
        TradeState::Success => {
            order.refunded_fen = order.charged_fen;
            order.state = TradeState::Revoked;
        }
        TradeState::UserPaying | TradeState::NotPay => order.state = TradeState::Revoked,
        _ => {}
    }
    order_reply(order)
}

fn refund(
    state: &mut State,
    out: &str,
    params: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let Some(order) = state.ledger.orders.get_mut(out) else {
        return error_reply("ORDERNOTEXIST", "no such order");
    };
    let refund_no = params.get("out_refund_no").cloned().unwrap_or_default();
    let fee = params.get("refund_fee").and_then(|f| f.parse::<u64>().ok());
    if order.refund_nos.contains(&refund_no) {
        return order_reply(order);
    }
    let room = order.charged_fen.saturating_sub(order.refunded_fen);
    match fee {
        Some(fee) if fee > 0 && fee <= room && !refund_no.is_empty() => {
            order.refunded_fen += fee;
            order.state = TradeState::Refund;
            order.refund_nos.push(refund_no);
            order_reply(order)
        }
        _ => error_reply(
            "REFUND_NOT_ALLOWED",
            "nothing left to refund or bad refund_fee",
        ),
    }
}

fn order_reply(order: &SimOrder) -> BTreeMap<String, String> {
    let mut reply = BTreeMap::from([
        ("result_code".to_owned(), "SUCCESS".to_owned()),
        ("trade_state".to_owned(), order.state.as_str().to_owned()),
        ("transaction_id".to_owned(), order.transaction_id.clone()),
        ("total_fee".to_owned(), order.total_fee.to_string()),
    ]);
    if order.refunded_fen > 0 {
        reply.insert("refund_fee".into(), order.refunded_fen.to_string());
    }
    reply
}

fn with_code(code: &str, mut reply: BTreeMap<String, String>) -> BTreeMap<String, String> {
    reply.insert("result_code".into(), code.to_owned());
    reply
}

fn error_reply(code: &str, message: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("result_code".to_owned(), code.to_owned()),
        ("err_msg".to_owned(), message.to_owned()),
    ])
}
