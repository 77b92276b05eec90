//! How a contact transaction ends, as data the engine maps to a termination or a message.

use serde::{Deserialize, Serialize};

use crate::card::{Pan, Track2};

/// Why the kernel stopped the transaction. Stable snake_case codes for journals and the CLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TerminationReason {
    /// SELECT of the PSE answered 6A81 (Book 1 §12.3.2): the card is blocked.
    CardBlocked,
    /// Every candidate was blocked, refused by the cardholder or failed its final SELECT/GPO.
    NoApplicationAccepted,
    /// The cardholder declined every application offered.
    CardholderDeclinedApplication,
    /// GPO returned something other than 9000 or 6985, or a malformed AIP/AFL.
    GpoFailed,
    /// A READ RECORD failed or returned a record that breaks Book 3 §10.2.
    ReadRecordFailed,
    /// PAN, expiry, CDOL1 or CDOL2 missing after the records were read.
    MandatoryDataMissing,
    /// The card answered GENERATE AC with an error or a malformed response, or with a
    /// cryptogram type above the one requested (Book 3 §9.3).
    GenerateAcFailed,
    /// The card returned the same data object twice.
    DuplicateData,
    /// The card sent status or data the kernel cannot use (bad TLV, short answer).
    CardProtocolError,
    /// The card asked for more commands than any transaction needs.
    TooManyCommands,
    /// The card left the slot or the field mid-dialogue.
    CardRemoved,
    /// The reader itself failed mid-dialogue (not the card leaving it).
    ReaderFault,
    /// The card cannot be used for this transaction type (e.g. no EC application for balance).
    NotSupported,
}

impl TerminationReason {
    pub fn code(self) -> &'static str {
        use TerminationReason::*;
        match self {
            CardBlocked => "card_blocked",
            NoApplicationAccepted => "no_application_accepted",
            CardholderDeclinedApplication => "cardholder_declined_application",
            GpoFailed => "gpo_failed",
            ReadRecordFailed => "read_record_failed",
            MandatoryDataMissing => "mandatory_data_missing",
            GenerateAcFailed => "generate_ac_failed",
            DuplicateData => "duplicate_data",
            CardProtocolError => "card_protocol_error",
            TooManyCommands => "too_many_commands",
            CardRemoved => "card_removed",
            ReaderFault => "reader_fault",
            NotSupported => "not_supported",
        }
    }
}

/// Why the chip could not be used and a swipe is acceptable (the fact that replaces the shell's
/// old `chip_failed` flag).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FallbackReason {
    /// No response to the first command, or a response that is not ISO 7816 at all.
    ChipNotResponding,
    /// The card and terminal have no application in common (Book 1 §12.4).
    NoMutualApplication,
}

/// Cryptogram types (CID bits 8-7, Book 3 §6.5.5.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AcType {
    Aac,
    Arqc,
    Tc,
}

impl AcType {
    /// P1 of GENERATE AC without the CDA bit.
    pub fn p1(self) -> u8 {
        match self {
            AcType::Aac => 0x00,
            AcType::Tc => 0x40,
            AcType::Arqc => 0x80,
        }
    }

    pub fn from_cid(cid: u8) -> Option<AcType> {
        match cid & 0xC0 {
            0x00 => Some(AcType::Aac),
            0x40 => Some(AcType::Tc),
            0x80 => Some(AcType::Arqc),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            AcType::Aac => "aac",
            AcType::Tc => "tc",
            AcType::Arqc => "arqc",
        }
    }
}

/// One GENERATE AC exchange as the journal and `emv replay` show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcRecord {
    pub requested: AcType,
    pub cid: u8,
    pub cryptogram: [u8; 8],
    pub atc: [u8; 2],
}

/// The card data an authorisation request needs besides field 55. Redacting types only.
#[derive(Debug, Clone)]
pub struct IccCardData {
    pub pan: Pan,
    /// 5F34.
    pub pan_sequence: Option<u8>,
    /// 57, when the card has one.
    pub track2: Option<Track2>,
    /// 5F24 as YYMMDD BCD.
    pub expiry: [u8; 3],
    /// The selected application (DF name).
    pub aid: Vec<u8>,
    pub label: String,
}

/// What the engine sends online, or uploads for an offline decision.
#[derive(Debug, Clone)]
pub struct IccRequest {
    pub card: IccCardData,
    /// Field 55 (the UnionPay tag set), BER-TLV.
    pub field55: Vec<u8>,
    /// A signature line belongs on the receipt (a signature CVM was chosen).
    pub signature_required: bool,
    /// The cardholder entered an online PIN (the block stays with the CVM handler).
    pub online_pin: bool,
}

/// The result of the first GENERATE AC.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum FirstAcDecision {
    /// The card asked for online authorisation (ARQC).
    Online(IccRequest),
    /// Y1: the card approved offline (TC).
    ApprovedOffline(IccRequest),
    /// Z1: the card declined offline (AAC).
    DeclinedOffline(IccRequest),
    /// The card asked for another interface (not raised by the contact kernel today; kept so
    /// the contactless kernels share the type).
    TryAnotherInterface,
    FallbackToMagstripe(FallbackReason),
    Terminated(TerminationReason),
}

/// What the host said, from the 0210.
#[derive(Debug, Clone, Default)]
pub struct HostAnswer {
    /// Field 39 / tag 8A, two ASCII characters; `None` when the host could not be reached.
    pub response_code: Option<[u8; 2]>,
    /// Tag 91 from field 55.
    pub issuer_authentication_data: Option<Vec<u8>>,
    /// The 71/72 templates from field 55, concatenated as received.
    pub issuer_scripts: Vec<u8>,
}

impl HostAnswer {
    pub fn approved(&self) -> bool {
        matches!(self.response_code, Some(c) if &c == b"00" || &c == b"10" || &c == b"11")
    }
}

/// The end of an online transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Completion {
    ApprovedOnline,
    DeclinedOnline,
    /// The host approved and the card answered AAC: the engine reverses with reason 96.
    CardDeclinedAfterApproval,
    /// Y3: no host answer and the card approved with TC (default action analysis passed).
    ApprovedUnableOnline,
    /// Z3: no host answer and the card or the terminal declined.
    DeclinedUnableOnline,
    Terminated(TerminationReason),
}

/// What came back from completion besides the decision: field 55 for the TC upload or the
/// reversal, and the script results for the script advice.
#[derive(Debug, Clone)]
pub struct CompletionReport {
    pub completion: Completion,
    pub field55: Vec<u8>,
    /// 5 bytes per script (Book 4 Annex A5 / tag DF31).
    pub script_results: Vec<u8>,
}
