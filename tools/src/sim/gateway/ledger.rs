//! The simulated gateway's book of QR orders: what was charged and given back per
//! out_trade_no, which tests assert after each flow.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::SystemTime;

use serde::Serialize;

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

    /// Net money the merchant holds: charged minus given back, over every order.
    pub fn net_fen(&self) -> i64 {
        self.orders().map(SimOrder::net_fen).sum()
    }

    /// The operators' export: `{"orders": [{"out_trade_no", "total_fee", "state",
    /// "charged_fen", "refunded_fen"}, …], "net_fen": N}`.
    pub fn export_json(&self) -> serde_json::Value {
        #[derive(Serialize)]
        struct Order<'a> {
            out_trade_no: &'a str,
            total_fee: u64,
            state: &'static str,
            charged_fen: u64,
            refunded_fen: u64,
        }
        #[derive(Serialize)]
        struct Export<'a> {
            orders: Vec<Order<'a>>,
            net_fen: i64,
        }
        serde_json::to_value(Export {
            orders: self
                .orders()
                .map(|o| Order {
                    out_trade_no: &o.out_trade_no,
                    total_fee: o.total_fee,
                    state: o.state.as_str(),
                    charged_fen: o.charged_fen,
                    refunded_fen: o.refunded_fen,
                })
                .collect(),
            net_fen: self.net_fen(),
        })
        .unwrap_or(serde_json::Value::Null)
    }

    /// Writes [`QrLedger::export_json`] atomically (temp file, fsync, rename), so a reader never
    /// sees half a file.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let bytes = serde_json::to_vec_pretty(&self.export_json())?;
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let mut temp = tempfile::NamedTempFile::new_in(dir)?;
        temp.write_all(&bytes)?;
        temp.as_file().sync_all()?;
        temp.persist(path).map_err(|e| e.error)?;
        Ok(())
    }

    pub(super) fn new_transaction_id(&mut self) -> String {
        self.next_transaction += 1;
        format!("4200000{:011}", self.next_transaction)
    }
}
