//! EMVCo merchant-presented QR payloads (EMV QRCPS Merchant-Presented Mode v1.1): the dynamic
//! payload a terminal shows for one sale ([`MerchantQr::make`]) and a parser for any payload a
//! customer's or a merchant's device might show ([`parse`]).
//!
//! The parsed model keeps every data object and sub-object in payload order with its byte offset;
//! what bends the rules but can still be read (a payload format indicator other than "01", ID 00
//! out of place, a missing mandatory object) is a [`MpmWarning`], while a wrong CRC or a broken
//! structure is an [`MpmError`].

mod make;
mod names;
mod parse;

use std::fmt;

use thiserror::Error;

use super::emv_tlv::EmvTlvError;
use crate::money::Amount;

pub use make::{AccountTemplate, LocalMerchantName, MerchantQr, UnionPayAccount};
pub use names::{field_name, sub_field_name};
pub use parse::{parse, parse_bytes, parse_unverified};

/// Why a payload cannot be made or read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum MpmError {
    #[error("the payload is empty")]
    Empty,
    #[error("the payload is not UTF-8 text (byte {offset})")]
    NotUtf8 { offset: usize },
    #[error("data object format: {0}")]
    Format(#[from] EmvTlvError),
    #[error("ID 00 (payload format indicator) is missing")]
    NoPayloadFormatIndicator,
    #[error("ID 63 (CRC) is missing; it must be the last data object")]
    CrcMissing,
    #[error("ID 63 (CRC) at byte {offset} is not the last data object")]
    CrcNotLast { offset: usize },
    #[error("ID 63 (CRC) at byte {offset} must be 4 hex digits, found {found:?}")]
    CrcMalformed { offset: usize, found: String },
    #[error("CRC mismatch: the payload carries {found}, its content gives {expected}")]
    CrcMismatch { expected: String, found: String },
    #[error("ID {id:02} ({name}): {reason}")]
    InvalidField {
        id: u8,
        name: &'static str,
        reason: String,
    },
}

/// A rule the payload bends without becoming unreadable.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MpmWarning {
    /// ID 00 carries something other than "01".
    PayloadFormatIndicator { found: String },
    /// ID 00 is present but not the first data object.
    PayloadFormatNotFirst { offset: usize },
    /// ID 01 is neither "11" (static) nor "12" (dynamic).
    InitiationMethod { found: String },
    /// A data object the specification makes mandatory is absent.
    MissingMandatory { id: u8 },
    /// None of IDs 02–51 (merchant account information) is present.
    NoMerchantAccount,
    /// An ID appears more than once at the same level.
    DuplicateId { id: u8, offset: usize },
    /// A template's value does not hold data objects; it is kept as text.
    TemplateNotParsed { id: u8, reason: EmvTlvError },
    /// ID 54 is not an amount of the form digits[.dd].
    AmountFormat { found: String },
}

impl MpmWarning {
    /// A stable code for scripts and JSON.
    pub fn code(&self) -> &'static str {
        match self {
            MpmWarning::PayloadFormatIndicator { .. } => "payload_format_indicator",
            MpmWarning::PayloadFormatNotFirst { .. } => "payload_format_not_first",
            MpmWarning::InitiationMethod { .. } => "initiation_method",
            MpmWarning::MissingMandatory { .. } => "missing_mandatory",
            MpmWarning::NoMerchantAccount => "no_merchant_account",
            MpmWarning::DuplicateId { .. } => "duplicate_id",
            MpmWarning::TemplateNotParsed { .. } => "template_not_parsed",
            MpmWarning::AmountFormat { .. } => "amount_format",
        }
    }
}

impl fmt::Display for MpmWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MpmWarning::PayloadFormatIndicator { found } => {
                write!(
                    f,
                    "ID 00 (payload format indicator) is {found:?}, not \"01\""
                )
            }
            MpmWarning::PayloadFormatNotFirst { offset } => write!(
                f,
                "ID 00 (payload format indicator) is at byte {offset}, not first"
            ),
            MpmWarning::InitiationMethod { found } => write!(
                f,
                "ID 01 (point of initiation method) is {found:?}, neither \"11\" nor \"12\""
            ),
            MpmWarning::MissingMandatory { id } => {
                write!(f, "mandatory ID {id:02} ({}) is missing", field_name(*id))
            }
            MpmWarning::NoMerchantAccount => {
                f.write_str("no merchant account information (IDs 02 to 51)")
            }
            MpmWarning::DuplicateId { id, offset } => {
                write!(f, "ID {id:02} appears again at byte {offset}")
            }
            MpmWarning::TemplateNotParsed { id, reason } => write!(
                f,
                "ID {id:02} ({}) should be a template but its value does not parse ({reason}); kept as text",
                field_name(*id)
            ),
            MpmWarning::AmountFormat { found } => {
                write!(f, "ID 54 (transaction amount) {found:?} is not digits[.dd]")
            }
        }
    }
}

/// One data object of a parsed payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MpmField<'a> {
    pub id: u8,
    /// Byte offset of the ID in the whole payload.
    pub offset: usize,
    /// The value as it lies in the payload (a template's whole content included).
    pub value: &'a str,
    /// The data objects inside a template, in order; `None` for a primitive object or a template
    /// whose content did not parse (see [`MpmWarning::TemplateNotParsed`]).
    pub sub_fields: Option<Vec<MpmField<'a>>>,
}

impl<'a> MpmField<'a> {
    /// The sub-field `id` of a template.
    pub fn sub_field(&self, id: u8) -> Option<&MpmField<'a>> {
        self.sub_fields.as_deref()?.iter().find(|f| f.id == id)
    }
}

/// The CRC a payload carries and the one its content gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrcCheck<'a> {
    /// Four hex digits as carried in ID 63.
    pub found: &'a str,
    /// Four upper-case hex digits computed over everything up to and including "6304".
    pub computed: String,
}

impl CrcCheck<'_> {
    pub fn is_valid(&self) -> bool {
        self.found.eq_ignore_ascii_case(&self.computed)
    }
}

/// A parsed merchant-presented payload.
#[derive(Debug, Clone, PartialEq, Eq)]
///
/// Values borrow from the payload text: parsing allocates only the lists, which keeps a parse
/// of a typical payload within a couple of microseconds.
pub struct MpmPayload<'a> {
    /// Every top-level data object in payload order, ID 63 included.
    pub fields: Vec<MpmField<'a>>,
    pub crc: CrcCheck<'a>,
    pub warnings: Vec<MpmWarning>,
}

impl<'a> MpmPayload<'a> {
    /// The first top-level data object with `id`.
    pub fn field(&self, id: u8) -> Option<&MpmField<'a>> {
        self.fields.iter().find(|f| f.id == id)
    }

    /// The value of the first top-level data object with `id`.
    pub fn text(&self, id: u8) -> Option<&'a str> {
        self.field(id).map(|f| f.value)
    }

    /// ID 54 as an amount in fen (2 decimals), when present and well formed.
    pub fn amount(&self) -> Option<Amount> {
        Amount::parse_yuan(self.text(54)?).ok()
    }

    /// ID 15 read as UnionPay merchant account information, when it has that shape.
    pub fn unionpay_account(&self) -> Option<UnionPayAccount> {
        UnionPayAccount::parse(self.text(15)?).ok()
    }

    /// Whether ID 01 says the payload is for one transaction ("12").
    pub fn is_dynamic(&self) -> bool {
        self.text(1) == Some("12")
    }
}
