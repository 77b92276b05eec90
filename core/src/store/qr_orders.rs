//! QR gateway orders: one row per out_trade_no, moved through its states by the QR session,
//! each state committed before the gateway call it enables.

use rusqlite::{OptionalExtension, Row, params};

use super::{Journal, StoreError};

macro_rules! qr_text_enum {
    ($(#[$meta:meta])* $name:ident, $column:literal { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            pub fn parse(text: &str) -> Result<$name, StoreError> {
                match text {
                    $($text => Ok($name::$variant),)+
                    other => Err(StoreError::InvalidValue { column: $column, value: other.to_owned() }),
                }
            }
        }
    };
}

qr_text_enum!(
    /// Who shows the code: the customer (the terminal scans it) or the merchant (dynamic MPM).
    QrMode, "qr_orders.mode" {
        CustomerPresented => "customer_presented",
        MerchantPresented => "merchant_presented",
    }
);

qr_text_enum!(
    /// Where a QR order stands. The first four are open: a crash leaves the outcome unknown and
    /// recovery finishes them (query, then cancel).
    QrOrderState, "qr_orders.state" {
        /// Written before micropay/precreate is sent.
        Requested => "requested",
        /// The gateway said the customer is paying (or the MPM is shown): polling.
        Polling => "polling",
        /// Written before the cancel (reverse) is sent.
        Cancelling => "cancelling",
        /// Written before a refund is sent.
        Refunding => "refunding",
        Paid => "paid",
        /// Closed unpaid (deadline passed, operator cancel, or the customer gave up).
        Closed => "closed",
        /// Paid, then given back (cancel after payment, or refund).
        Refunded => "refunded",
        /// Refused by the gateway; nothing charged.
        Declined => "declined",
    }
);

impl QrOrderState {
    pub fn is_open(self) -> bool {
        matches!(
            self,
            QrOrderState::Requested
                | QrOrderState::Polling
                | QrOrderState::Cancelling
                | QrOrderState::Refunding
        )
    }
}

/// A new order, journaled in state `requested` before the gateway hears of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewQrOrder {
    pub out_trade_no: String,
    pub mode: QrMode,
    pub amount_fen: u64,
    pub currency: String,
    pub scheme: Option<String>,
    /// Masked by the caller (6+4); the store refuses a value without a mask character.
    pub code_masked: Option<String>,
    pub at_ms: i64,
}

/// A state change; `None` fields keep their stored value.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QrOrderUpdate {
    pub gateway_trade_no: Option<String>,
    pub code_url: Option<String>,
    pub refunded_fen: Option<u64>,
    /// The refund asked for, journaled before it is sent so recovery can send it again.
    pub refund_fen: Option<u64>,
    pub termination_code: Option<String>,
}

/// One journaled QR order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrOrder {
    pub out_trade_no: String,
    pub mode: QrMode,
    pub state: QrOrderState,
    pub amount_fen: u64,
    pub currency: String,
    pub scheme: Option<String>,
    pub code_masked: Option<String>,
    pub gateway_trade_no: Option<String>,
    pub code_url: Option<String>,
    pub refunded_fen: u64,
    pub refund_fen: Option<u64>,
    pub termination_code: Option<String>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

impl QrOrder {
    /// What the customer has paid the merchant through this order: a paid order's amount less
    /// what was given back (a refund, or a cancel that reversed the payment). Open orders count
    /// nothing yet: recovery settles them, one way or the other.
    pub fn net_effect_fen(&self) -> i64 {
        match self.state {
            QrOrderState::Paid | QrOrderState::Refunded | QrOrderState::Refunding => {
                let net = self.amount_fen.saturating_sub(self.refunded_fen);
                i64::try_from(net).unwrap_or(i64::MAX)
            }
            _ => 0,
        }
    }
}

const COLUMNS: &str = "out_trade_no, mode, state, amount_fen, currency, scheme, code_masked, \
                       gateway_trade_no, code_url, refunded_fen, termination_code, created_at, \
                       updated_at, refund_fen";

fn fen_to_db(column: &'static str, fen: u64) -> Result<i64, StoreError> {
    i64::try_from(fen).map_err(|_| StoreError::InvalidInput {
        what: column,
        detail: format!("{fen} fen is out of range"),
    })
}

fn fen_from_db(column: &'static str, value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::InvalidValue {
        column,
        value: value.to_string(),
    })
}

fn read_order(row: &Row<'_>) -> rusqlite::Result<Result<QrOrder, StoreError>> {
    let mode: String = row.get(1)?;
    let state: String = row.get(2)?;
    let amount: i64 = row.get(3)?;
    let refunded: i64 = row.get(9)?;
    let out_trade_no: String = row.get(0)?;
    let currency: String = row.get(4)?;
    let scheme: Option<String> = row.get(5)?;
    let code_masked: Option<String> = row.get(6)?;
    let gateway_trade_no: Option<String> = row.get(7)?;
    let code_url: Option<String> = row.get(8)?;
    let termination_code: Option<String> = row.get(10)?;
    let created_at_ms: i64 = row.get(11)?;
    let updated_at_ms: i64 = row.get(12)?;
    let refund: Option<i64> = row.get(13)?;
    Ok((|| {
        Ok(QrOrder {
            out_trade_no,
            mode: QrMode::parse(&mode)?,
            state: QrOrderState::parse(&state)?,
            amount_fen: fen_from_db("qr_orders.amount_fen", amount)?,
            currency,
            scheme,
            code_masked,
            gateway_trade_no,
            code_url,
            refunded_fen: fen_from_db("qr_orders.refunded_fen", refunded)?,
            refund_fen: refund
                .map(|fen| fen_from_db("qr_orders.refund_fen", fen))
                .transpose()?,
            termination_code,
            created_at_ms,
            updated_at_ms,
        })
    })())
}

impl Journal {
    /// Journals a new order in state `requested`. One commit. A reused out_trade_no is
    /// [`StoreError::DuplicateAttempt`]: the caller looks the earlier order up instead.
    pub fn begin_qr_order(&mut self, new: &NewQrOrder) -> Result<(), StoreError> {
        if let Some(code) = &new.code_masked
            && !code.contains('*')
        {
            return Err(StoreError::InvalidInput {
                what: "qr_orders.code_masked",
                detail: "payment code is not masked".into(),
            });
        }
        let amount = fen_to_db("qr_orders.amount_fen", new.amount_fen)?;
        self.write_with_statistics(|tx| {
            let taken: Option<i64> = tx
                .query_row(
                    "SELECT 1 FROM qr_orders WHERE out_trade_no = ?1",
                    [&new.out_trade_no],
                    |row| row.get(0),
                )
                .optional()?;
            if taken.is_some() {
                return Err(StoreError::DuplicateAttempt {
                    attempt_id: new.out_trade_no.clone(),
                });
            }
            tx.execute(
                "INSERT INTO qr_orders (out_trade_no, mode, state, amount_fen, currency, scheme, \
                 code_masked, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
                params![
                    new.out_trade_no,
                    new.mode.as_str(),
                    QrOrderState::Requested.as_str(),
                    amount,
                    new.currency,
                    new.scheme,
                    new.code_masked,
                    new.at_ms,
                ],
            )?;
            Ok(())
        })
    }

    /// Moves an order to `state`, keeping stored values the update leaves `None`. One commit.
    pub fn update_qr_order(
        &mut self,
        out_trade_no: &str,
        state: QrOrderState,
        update: &QrOrderUpdate,
        at_ms: i64,
    ) -> Result<(), StoreError> {
        let refunded = update
            .refunded_fen
            .map(|fen| fen_to_db("qr_orders.refunded_fen", fen))
            .transpose()?;
        let refund = update
            .refund_fen
            .map(|fen| fen_to_db("qr_orders.refund_fen", fen))
            .transpose()?;
        self.write(|tx| {
            let changed = tx.execute(
                "UPDATE qr_orders SET state = ?2, \
                 gateway_trade_no = COALESCE(?3, gateway_trade_no), \
                 code_url = COALESCE(?4, code_url), \
                 refunded_fen = COALESCE(?5, refunded_fen), \
                 termination_code = COALESCE(?6, termination_code), \
                 updated_at = ?7, refund_fen = COALESCE(?8, refund_fen) WHERE out_trade_no = ?1",
                params![
                    out_trade_no,
                    state.as_str(),
                    update.gateway_trade_no,
                    update.code_url,
                    refunded,
                    update.termination_code,
                    at_ms,
                    refund,
                ],
            )?;
            if changed == 0 {
                return Err(StoreError::InvalidInput {
                    what: "qr_orders.out_trade_no",
                    detail: format!("no QR order {out_trade_no:?}"),
                });
            }
            Ok(())
        })
    }

    pub fn qr_order(&self, out_trade_no: &str) -> Result<Option<QrOrder>, StoreError> {
        let found = self
            .conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM qr_orders WHERE out_trade_no = ?1"),
                [out_trade_no],
                read_order,
            )
            .optional()?;
        found.transpose()
    }

    /// Every QR order, oldest first.
    pub fn qr_orders(&self) -> Result<Vec<QrOrder>, StoreError> {
        self.select_orders("")
    }

    /// Orders a crash left open (requested, polling, cancelling, refunding), oldest first.
    pub fn open_qr_orders(&self) -> Result<Vec<QrOrder>, StoreError> {
        self.select_orders("WHERE state IN ('requested', 'polling', 'cancelling', 'refunding')")
    }

    /// Orders created at or after `from_ms` (the risk counters' window), oldest first.
    pub fn qr_orders_since(&self, from_ms: i64) -> Result<Vec<QrOrder>, StoreError> {
        self.select_orders_with("WHERE created_at >= ?1", [from_ms])
    }

    fn select_orders(&self, filter: &str) -> Result<Vec<QrOrder>, StoreError> {
        self.select_orders_with(filter, [])
    }

    fn select_orders_with<P: rusqlite::Params>(
        &self,
        filter: &str,
        params: P,
    ) -> Result<Vec<QrOrder>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM qr_orders {filter} ORDER BY created_at, out_trade_no"
        ))?;
        let rows = stmt.query_map(params, read_order)?;
        let mut orders = Vec::new();
        for row in rows {
            orders.push(row??);
        }
        Ok(orders)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_order(id: &str, at_ms: i64) -> NewQrOrder {
        NewQrOrder {
            out_trade_no: id.into(),
            mode: QrMode::CustomerPresented,
            amount_fen: 1234,
            currency: "156".into(),
            scheme: Some("wechat".into()),
            code_masked: Some("134567********6789".into()),
            at_ms,
        }
    }

    #[test]
    fn order_life_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.db");
        {
            let mut j = Journal::open(&path).unwrap();
            j.begin_qr_order(&new_order("A1", 1)).unwrap();
            j.begin_qr_order(&new_order("A2", 2)).unwrap();
            assert!(matches!(
                j.begin_qr_order(&new_order("A1", 3)),
                Err(StoreError::DuplicateAttempt { .. })
            ));
            let update = QrOrderUpdate {
                gateway_trade_no: Some("G1".into()),
                ..Default::default()
            };
            j.update_qr_order("A1", QrOrderState::Polling, &update, 5)
                .unwrap();
            j.update_qr_order("A1", QrOrderState::Paid, &QrOrderUpdate::default(), 6)
                .unwrap();
            assert!(
                j.update_qr_order("nope", QrOrderState::Paid, &update, 7)
                    .is_err()
            );
        }
        let j = Journal::open(&path).unwrap();
        let a1 = j.qr_order("A1").unwrap().unwrap();
        assert_eq!(a1.state, QrOrderState::Paid);
        // COALESCE kept the trade number written by the earlier update.
        assert_eq!(a1.gateway_trade_no.as_deref(), Some("G1"));
        assert_eq!((a1.created_at_ms, a1.updated_at_ms), (1, 6));
        let open: Vec<_> = j
            .open_qr_orders()
            .unwrap()
            .into_iter()
            .map(|o| o.out_trade_no)
            .collect();
        assert_eq!(open, ["A2"]);
        assert_eq!(j.qr_orders().unwrap().len(), 2);
        assert_eq!(j.qr_order("A3").unwrap(), None);
    }

    #[test]
    fn refuses_an_unmasked_code() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(dir.path().join("j.db")).unwrap();
        let mut order = new_order("A1", 1);
        order.code_masked = Some("134567890123456789".into());
        assert!(matches!(
            j.begin_qr_order(&order),
            Err(StoreError::InvalidInput { .. })
        ));
        assert_eq!(j.qr_orders().unwrap(), []);
    }
}
