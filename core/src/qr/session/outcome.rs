use crate::diag::{Termination, TerminationCode};
use crate::money::Amount;
use crate::store::{QrOrder, QrOrderState, StoreError};

/// How a QR order ended, as the cashier must act on it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum QrOutcome {
    Paid {
        out_trade_no: String,
        /// The gateway's trade number, for receipts and refunds.
        transaction_id: Option<String>,
        amount: Amount,
    },
    /// Closed unpaid (deadline passed, customer gave up, order already closed).
    Closed {
        out_trade_no: String,
        termination: Termination,
    },
    /// Cancelled by the operator (or the shell's cancel token) before any payment.
    Cancelled { out_trade_no: String },
    /// Paid, then given back: a payment that landed before the cancel, or a refund.
    Refunded {
        out_trade_no: String,
        amount: Amount,
    },
    /// Refused; nothing was charged.
    Declined {
        out_trade_no: String,
        termination: Termination,
    },
    /// The gateway could not be reached to close the order. Its cancel is journaled and
    /// [`super::QrSession::recover`] finishes it (any charge is given back); hand over nothing.
    Unresolved {
        out_trade_no: String,
        termination: Termination,
    },
}

impl QrOutcome {
    pub fn out_trade_no(&self) -> &str {
        match self {
            QrOutcome::Paid { out_trade_no, .. }
            | QrOutcome::Closed { out_trade_no, .. }
            | QrOutcome::Cancelled { out_trade_no }
            | QrOutcome::Refunded { out_trade_no, .. }
            | QrOutcome::Declined { out_trade_no, .. }
            | QrOutcome::Unresolved { out_trade_no, .. } => out_trade_no,
        }
    }

    /// The outcome a journaled order stands for (what a repeated attempt id gets back).
    pub fn from_order(order: &QrOrder) -> Result<QrOutcome, StoreError> {
        let out_trade_no = order.out_trade_no.clone();
        let amount = |fen: u64| {
            Amount::from_fen(fen).map_err(|_| StoreError::InvalidValue {
                column: "qr_orders.amount_fen",
                value: fen.to_string(),
            })
        };
        let code = order
            .termination_code
            .as_deref()
            .and_then(|c| c.parse::<TerminationCode>().ok());
        let termination = |fallback| Termination::new(code.unwrap_or(fallback));
        Ok(match order.state {
            QrOrderState::Paid => QrOutcome::Paid {
                out_trade_no,
                transaction_id: order.gateway_trade_no.clone(),
                amount: amount(order.amount_fen)?,
            },
            QrOrderState::Closed if code == Some(TerminationCode::OpCancelled) => {
                QrOutcome::Cancelled { out_trade_no }
            }
            QrOrderState::Closed => QrOutcome::Closed {
                out_trade_no,
                termination: termination(TerminationCode::OpQrOrderClosed),
            },
            QrOrderState::Refunded => QrOutcome::Refunded {
                out_trade_no,
                amount: amount(order.refunded_fen)?,
            },
            QrOrderState::Declined => QrOutcome::Declined {
                out_trade_no,
                termination: termination(TerminationCode::AccQrDeclined),
            },
            _ => QrOutcome::Unresolved {
                out_trade_no,
                termination: Termination::new(TerminationCode::NetQrUnresolved),
            },
        })
    }
}
