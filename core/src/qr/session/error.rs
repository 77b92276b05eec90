use crate::qr::gateway::GatewayError;
use crate::qr::paycode::PaycodeError;
use crate::store::{QrOrderState, StoreError};

/// A QR session call that could not run. Payment endings (declined, closed, refunded, not yet
/// resolved) are [`super::QrOutcome`]s, not errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QrError {
    #[error("QR journal: {0}")]
    Store(#[from] StoreError),
    #[error("QR gateway settings: {0}")]
    Settings(#[source] GatewayError),
    /// What was scanned or typed is not a payment code of any scheme this terminal takes; the
    /// reason says why (length, prefix, characters). Nothing was journaled or sent.
    #[error("not a payment code: {0}")]
    NotAPaymentCode(#[from] PaycodeError),
    #[error("invalid {what}: {detail}")]
    InvalidInput { what: &'static str, detail: String },
    #[error("no QR order {out_trade_no:?} in the journal")]
    UnknownOrder { out_trade_no: String },
    #[error("QR order {out_trade_no:?} is {state:?}; {action} is not possible")]
    NotUsable {
        out_trade_no: String,
        state: QrOrderState,
        action: &'static str,
    },
}
