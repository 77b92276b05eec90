//! QR outcomes, presented orders and journaled orders, mirrored for Kotlin. Only masked payment
//! codes ever appear here: the full code is a bearer credential and stays in the core.

use smartpos_core::diag::{Termination, TerminationCode};
use smartpos_core::qr::session::{PresentedOrder, QrOutcome};
use smartpos_core::store::{QrMode, QrOrder, QrOrderState};

use crate::outcome::TerminationRecord;

/// How a QR order ended (`qr::session::QrOutcome`), as the cashier must act on it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum QrOutcomeRecord {
    /// Hand over the goods. `transactionId` is the gateway's trade number, for the receipt.
    Paid {
        out_trade_no: String,
        transaction_id: Option<String>,
        amount_fen: u64,
    },
    /// Closed unpaid (deadline passed, customer gave up in the wallet, order already closed).
    Closed {
        out_trade_no: String,
        termination: TerminationRecord,
    },
    /// Cancelled by the operator or the shell before any payment.
    Cancelled {
        out_trade_no: String,
        termination: TerminationRecord,
    },
    /// Paid, then given back (a payment that landed before the cancel, or a refund).
    Refunded {
        out_trade_no: String,
        amount_fen: u64,
    },
    /// Refused; nothing was charged (invalid or expired code, insufficient balance, …).
    Declined {
        out_trade_no: String,
        termination: TerminationRecord,
    },
    /// The gateway could not be reached to close the order: hand over nothing; `recover()`
    /// finishes it later (any charge is given back).
    Unresolved {
        out_trade_no: String,
        termination: TerminationRecord,
    },
}

impl From<QrOutcome> for QrOutcomeRecord {
    fn from(o: QrOutcome) -> Self {
        match o {
            QrOutcome::Paid {
                out_trade_no,
                transaction_id,
                amount,
            } => QrOutcomeRecord::Paid {
                out_trade_no,
                transaction_id,
                amount_fen: amount.fen(),
            },
            QrOutcome::Closed {
                out_trade_no,
                termination,
            } => QrOutcomeRecord::Closed {
                out_trade_no,
                termination: termination.into(),
            },
            QrOutcome::Cancelled { out_trade_no } => QrOutcomeRecord::Cancelled {
                out_trade_no,
                termination: Termination::new(TerminationCode::OpCancelled).into(),
            },
            QrOutcome::Refunded {
                out_trade_no,
                amount,
            } => QrOutcomeRecord::Refunded {
                out_trade_no,
                amount_fen: amount.fen(),
            },
            QrOutcome::Declined {
                out_trade_no,
                termination,
            } => QrOutcomeRecord::Declined {
                out_trade_no,
                termination: termination.into(),
            },
            QrOutcome::Unresolved {
                out_trade_no,
                termination,
            } => QrOutcomeRecord::Unresolved {
                out_trade_no,
                termination: termination.into(),
            },
            // An ending this version does not know: treat it as not settled, so nothing is
            // handed over on it.
            other => QrOutcomeRecord::Unresolved {
                out_trade_no: other.out_trade_no().to_owned(),
                termination: Termination::new(TerminationCode::NetQrUnresolved).into(),
            },
        }
    }
}

/// A merchant-presented order after `present`: show the code, or read how it ended.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum PresentedRecord {
    /// Show `codeUrl` as a QR code, then call `poll(outTradeNo)`.
    Ready {
        out_trade_no: String,
        code_url: String,
    },
    /// The order ended before it could be shown.
    Ended { outcome: QrOutcomeRecord },
}

impl From<PresentedOrder> for PresentedRecord {
    fn from(p: PresentedOrder) -> Self {
        match p {
            PresentedOrder::Ready {
                out_trade_no,
                code_url,
            } => PresentedRecord::Ready {
                out_trade_no,
                code_url,
            },
            PresentedOrder::Ended(outcome) => PresentedRecord::Ended {
                outcome: outcome.into(),
            },
            // A form this version does not know: nothing to show, nothing to hand over.
            _ => PresentedRecord::Ended {
                outcome: QrOutcomeRecord::Unresolved {
                    out_trade_no: String::new(),
                    termination: Termination::new(TerminationCode::NetQrUnresolved).into(),
                },
            },
        }
    }
}

/// Who shows the code (`store::QrMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
#[non_exhaustive]
pub enum QrModeRecord {
    /// The terminal scanned the customer's payment code.
    CustomerPresented,
    /// The terminal showed a code the customer scanned.
    MerchantPresented,
    Other,
}

impl From<QrMode> for QrModeRecord {
    fn from(m: QrMode) -> Self {
        match m {
            QrMode::CustomerPresented => QrModeRecord::CustomerPresented,
            QrMode::MerchantPresented => QrModeRecord::MerchantPresented,
            _ => QrModeRecord::Other,
        }
    }
}

/// Where a journaled QR order stands (`store::QrOrderState`). The first four are open:
/// `recover()` finishes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
#[non_exhaustive]
pub enum QrOrderStateRecord {
    Requested,
    Polling,
    Cancelling,
    Refunding,
    Paid,
    Closed,
    Refunded,
    Declined,
    Other,
}

impl From<QrOrderState> for QrOrderStateRecord {
    fn from(s: QrOrderState) -> Self {
        use QrOrderStateRecord as R;
        match s {
            QrOrderState::Requested => R::Requested,
            QrOrderState::Polling => R::Polling,
            QrOrderState::Cancelling => R::Cancelling,
            QrOrderState::Refunding => R::Refunding,
            QrOrderState::Paid => R::Paid,
            QrOrderState::Closed => R::Closed,
            QrOrderState::Refunded => R::Refunded,
            QrOrderState::Declined => R::Declined,
            _ => R::Other,
        }
    }
}

/// One journaled QR order. `codeMasked` keeps the first 6 and last 4 characters only.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct QrOrderRecord {
    pub out_trade_no: String,
    pub mode: QrModeRecord,
    pub state: QrOrderStateRecord,
    pub amount_fen: u64,
    pub scheme: Option<String>,
    pub code_masked: Option<String>,
    pub transaction_id: Option<String>,
    pub refunded_fen: u64,
    /// Stable termination code of an order that did not end paid, e.g. "ACC_QR_CODE_INVALID".
    pub termination_code: Option<String>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

impl From<QrOrder> for QrOrderRecord {
    fn from(o: QrOrder) -> Self {
        QrOrderRecord {
            out_trade_no: o.out_trade_no,
            mode: o.mode.into(),
            state: o.state.into(),
            amount_fen: o.amount_fen,
            scheme: o.scheme,
            code_masked: o.code_masked,
            transaction_id: o.gateway_trade_no,
            refunded_fen: o.refunded_fen,
            termination_code: o.termination_code,
            created_at_ms: o.created_at_ms,
            updated_at_ms: o.updated_at_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Cause;
    use smartpos_core::money::Amount;

    #[test]
    fn a_cancel_is_explained_as_an_operator_ending() {
        let r = QrOutcomeRecord::from(QrOutcome::Cancelled {
            out_trade_no: "A1".into(),
        });
        match r {
            QrOutcomeRecord::Cancelled {
                out_trade_no,
                termination,
            } => {
                assert_eq!(out_trade_no, "A1");
                assert_eq!(termination.cause, Cause::Operator);
                assert_eq!(termination.code, TerminationCode::OpCancelled.to_string());
            }
            other => panic!("expected Cancelled, got {other:?}"),
        }
    }

    #[test]
    fn amounts_cross_in_fen() {
        let paid = QrOutcome::Paid {
            out_trade_no: "A2".into(),
            transaction_id: Some("T9".into()),
            amount: Amount::from_fen(1234).unwrap(),
        };
        assert_eq!(
            QrOutcomeRecord::from(paid),
            QrOutcomeRecord::Paid {
                out_trade_no: "A2".into(),
                transaction_id: Some("T9".into()),
                amount_fen: 1234
            }
        );
    }
}
