//! The ledger's vocabulary: accounts, message references, replies, postings.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    Normal,
    Lost,
    Stolen,
    Expired,
    Frozen,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardKind {
    Debit,
    Credit,
}

/// A cardholder account. The PAN and PIN are issuer secrets: they are never serialised and
/// never shown by `Debug`; the saved file names the account by `id` and masked PAN only.
#[derive(Clone, Serialize, Deserialize)]
pub struct Account {
    pub id: String,
    pub pan_masked: String,
    pub kind: CardKind,
    pub status: AccountStatus,
    pub expiry_yymm: String,
    /// Available funds (debit) or available credit (credit). Signed: a forced reversal of a
    /// void may take an account below zero, and the ledger must record it rather than refuse.
    pub balance_fen: i64,
    pub wrong_pin_count: u8,
    #[serde(skip)]
    pub(super) pan: String,
    #[serde(skip)]
    pub(super) pin: String,
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("id", &self.id)
            .field("pan_masked", &self.pan_masked)
            .field("kind", &self.kind)
            .field("status", &self.status)
            .field("expiry_yymm", &self.expiry_yymm)
            .field("balance_fen", &self.balance_fen)
            .field("wrong_pin_count", &self.wrong_pin_count)
            .finish_non_exhaustive()
    }
}

/// First 6 and last 4 digits, the rest starred.
pub fn mask_pan(pan: &str) -> String {
    let len = pan.chars().count();
    if len <= 10 {
        return "*".repeat(len);
    }
    pan.chars()
        .enumerate()
        .map(|(i, c)| if i < 6 || i >= len - 4 { c } else { '*' })
        .collect()
}

/// Identifies a message: the terminal that sent it, its batch and its STAN.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MsgRef {
    pub terminal_id: String,
    pub batch_no: u32,
    pub stan: u32,
}

impl MsgRef {
    pub fn new(terminal_id: &str, batch_no: u32, stan: u32) -> MsgRef {
        MsgRef {
            terminal_id: terminal_id.to_owned(),
            batch_no,
            stan,
        }
    }
}

/// The card as presented: PAN and, when the cardholder entered one, the PIN.
#[derive(Clone)]
pub struct CardInput {
    pub pan: String,
    pub pin: Option<String>,
}

impl fmt::Debug for CardInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CardInput")
            .field("pan", &mask_pan(&self.pan))
            .field("pin", &self.pin.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

/// How a void/completion names the transaction it acts on (fields 37 and 61 in CUP).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginalRef {
    pub batch_no: u32,
    pub stan: u32,
    pub rrn: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub rrn: String,
    pub auth_code: String,
    /// Filled for balance inquiries.
    pub balance_fen: Option<i64>,
}

/// Why the simulated host declined, with its ISO 8583 field 39 code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Decline {
    InvalidAmount,
    UnknownCard,
    LostCard,
    StolenCard,
    InsufficientFunds,
    ExpiredCard,
    WrongPin,
    Restricted,
    AmountMismatch,
    ExceedsHold,
    PinTriesExceeded,
    OriginalNotFound,
    AlreadyCancelled,
    DuplicateTransmission,
}

impl Decline {
    pub fn code(self) -> &'static str {
        match self {
            Decline::AlreadyCancelled => "12",
            Decline::InvalidAmount => "13",
            Decline::UnknownCard => "14",
            Decline::OriginalNotFound => "25",
            Decline::LostCard => "41",
            Decline::StolenCard => "43",
            Decline::InsufficientFunds => "51",
            Decline::ExpiredCard => "54",
            Decline::WrongPin => "55",
            Decline::ExceedsHold => "61",
            Decline::Restricted => "62",
            Decline::AmountMismatch => "64",
            Decline::PinTriesExceeded => "75",
            Decline::DuplicateTransmission => "94",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reply {
    Approved(Approval),
    Declined(Decline),
}

impl Reply {
    /// Field 39 of the response.
    pub fn response_code(&self) -> &'static str {
        match self {
            Reply::Approved(_) => "00",
            Reply::Declined(decline) => decline.code(),
        }
    }
    pub fn approval(&self) -> Option<&Approval> {
        match self {
            Reply::Approved(approval) => Some(approval),
            Reply::Declined(_) => None,
        }
    }
}

/// What a posting does to the merchant's position. `debit`, `completion`, `void_reversal` and
/// `refund_reversal` add; `reversal`, `void` and `refund` subtract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    Debit,
    Completion,
    Refund,
    Void,
    Reversal,
    /// A reversal of an approved void (or completion void): the debit stands again.
    VoidReversal,
    /// A reversal of an approved refund: the credit is taken back.
    RefundReversal,
}

impl Effect {
    pub fn signed(self, amount_fen: u64) -> i128 {
        let amount = i128::from(amount_fen);
        match self {
            Effect::Debit | Effect::Completion | Effect::VoidReversal | Effect::RefundReversal => {
                amount
            }
            Effect::Refund | Effect::Void | Effect::Reversal => -amount,
        }
    }
}

/// One money movement, in the export contract's shape (`terminal_id`, `stan`, `amount_fen`,
/// `effect`) plus context fields. `stan` is the STAN of the message that moved the money.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Posting {
    pub terminal_id: String,
    pub stan: String,
    pub amount_fen: u64,
    pub effect: Effect,
    pub batch_no: String,
    pub account_id: String,
    pub rrn: String,
}

/// Settlement totals, as the terminal sends them and as the host computes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Totals {
    pub debit_count: u64,
    pub debit_fen: u64,
    pub credit_count: u64,
    pub credit_fen: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settlement {
    pub host: Totals,
    pub balanced: bool,
}

/// One line of a batch upload (the terminal's record of a transaction after an unbalanced
/// settlement).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadLine {
    pub stan: u32,
    pub amount_fen: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UploadReport {
    pub accepted: usize,
    /// STANs the host has no matching approved debit/credit for (or with another amount).
    pub mismatched: Vec<u32>,
}
