//! The simulated gateway's book of QR orders: what was charged and given back per
//! out_trade_no, which tests assert after each flow.

use std::collections::BTreeMap;
use std::time::SystemTime;

use smartpos_core::qr::gateway::TradeState;

use super::Behaviour;

/// One order as the gateway sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimOrder {
    pub out_trade_no: String,
    pub total_fee: u64,
    pub state: TradeState,
    pub transaction_id: String,
    /// Money taken from the customer over the order's life (at most `total_fee`, once).
    pub charged_fen: u64,
    /// Money given back (cancel after payment, refunds).
    pub refunded_fen: u64,
    pub created_at: SystemTime,
    pub behaviour: Behaviour,
    /// Micropay requests seen for this out_trade_no (repeats included).
    pub micropay_requests: u32,
    pub refund_nos: Vec<String>,
}

impl SimOrder {
    pub fn net_fen(&self) -> i64 {
        self.charged_fen as i64 - self.refunded_fen as i64
    }
}

/// All orders, keyed by out_trade_no.
#[derive(Debug, Default, Clone)]
pub struct QrLedger {
    pub(super) orders: BTreeMap<String, SimOrder>,
    pub(super) next_transaction: u64,
}

impl QrLedger {
    pub fn order(&self, out_trade_no: &str) -> Option<&SimOrder> {
        self.orders.get(out_trade_no)
    }

    pub fn orders(&self) -> impl Iterator<Item = &SimOrder> {
        self.orders.values()
    }

    /// Total charged for `out_trade_no` (0 if the gateway never saw it).
    pub fn charged_fen(&self, out_trade_no: &str) -> u64 {
        self.order(out_trade_no).map_or(0, |o| o.charged_fen)
    }

    pub fn refunded_fen(&self, out_trade_no: &str) -> u64 {
        self.order(out_trade_no).map_or(0, |o| o.refunded_fen)
    }

    pub fn state(&self, out_trade_no: &str) -> Option<TradeState> {
        self.order(out_trade_no).map(|o| o.state)
    }

    pub(super) fn new_transaction_id(&mut self) -> String {
        self.next_transaction += 1;
        format!("4200000{:011}", self.next_transaction)
    }
}
