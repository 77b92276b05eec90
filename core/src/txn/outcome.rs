//! How a request ends: an approval, or a termination that explains itself. An ending is data,
//! not an `Err`.

use crate::diag::Termination;
use crate::ports::Receipt;
use crate::txn::kind::TxnKind;

#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)]
pub enum Outcome {
    Approved(Approval),
    Terminated(Termination),
}

impl Outcome {
    pub fn is_approved(&self) -> bool {
        matches!(self, Outcome::Approved(_))
    }

    pub fn approval(&self) -> Option<&Approval> {
        match self {
            Outcome::Approved(a) => Some(a),
            Outcome::Terminated(_) => None,
        }
    }

    pub fn termination(&self) -> Option<&Termination> {
        match self {
            Outcome::Approved(_) => None,
            Outcome::Terminated(t) => Some(t),
        }
    }
}

impl From<Termination> for Outcome {
    fn from(t: Termination) -> Self {
        Outcome::Terminated(t)
    }
}

/// An approved transaction, with no secret in it (the PAN is masked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    pub kind: TxnKind,
    pub attempt_id: String,
    pub amount_fen: u64,
    pub stan: u32,
    pub batch_no: u32,
    pub rrn: String,
    pub auth_code: String,
    pub pan_masked: String,
    /// Balance inquiry only: the available balance the host reported, in fen.
    pub balance_fen: Option<i64>,
    pub receipt: Receipt,
    /// False when nothing was printed: the printer failed (the receipt waits in the journal for
    /// a reprint), or the slip went paperless (`paperless`).
    pub receipt_printed: bool,
    /// Signed on the screen at a paperless merchant: no paper slip on purpose; the e-slip is the
    /// proof, and a reprint prints it on demand.
    pub paperless: bool,
    /// The e-signature this approval asked for, if one was (the payment stands either way).
    pub signature: Option<crate::txn::SignatureNote>,
}
