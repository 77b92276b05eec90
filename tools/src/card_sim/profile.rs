//! A card's personalisation: the data an issuer's bureau writes into the chip. One
//! [`CardProfile`] holds the applications; each [`Application`] holds its records, DOLs,
//! counters and keys. The catalogue (`catalogue.rs`) builds the named cards from these.

use smartpos_core::card::Pan;
use smartpos_core::codec::tlv::{self, Tlv};
use zeroize::Zeroizing;

use super::keys::CardKeys;
use super::oda::IccKey;

/// One linear record file: its SFI (1 to 30, EMV 4.4 Book 3 §5.3.2) and its records, each the
/// content of a record template 70.
#[derive(Debug, Clone)]
pub struct RecordFile {
    pub sfi: u8,
    pub records: Vec<Vec<Tlv>>,
    /// How many of the first records take part in offline data authentication (AFL byte 4).
    pub oda_records: u8,
}

/// The counters an application keeps between transactions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    /// Application transaction counter (9F36), incremented at every GET PROCESSING OPTIONS.
    pub atc: u16,
    /// ATC of the last transaction that went online and passed issuer authentication (9F13).
    pub last_online_atc: u16,
    /// PIN try counter (9F17) and the limit it is reset to.
    pub pin_tries: u8,
    pub pin_try_limit: u8,
    /// Electronic cash balance (9F79) in fen.
    pub ec_balance_fen: u64,
    /// Lower / upper consecutive offline limits (9F14 / 9F23).
    pub lcol: u8,
    pub ucol: u8,
    /// The last online transaction's issuer authentication failed (CVR byte 2 bit 4).
    pub last_issuer_auth_failed: bool,
    /// An issuer script command failed in the last online transaction (CVR byte 2 bit 3).
    pub last_script_failed: bool,
    /// Issuer script commands with secure messaging processed, modulo 16 (CVR byte 3).
    pub scripts_processed: u8,
}

/// How an application departs from a card that simply works.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Behaviour {
    /// Blocked application: SELECT answers the FCI with 6283 and every later command 6985.
    pub blocked: bool,
    /// GET PROCESSING OPTIONS answers 6985 (conditions of use not satisfied).
    pub refuse_gpo: bool,
    /// Answers AAC to the second GENERATE AC whatever the terminal asks.
    pub decline_second_ac: bool,
    /// Approves offline (TC) at the first GENERATE AC when asked for a TC and the
    /// consecutive offline count is under the lower limit; otherwise the card goes online.
    pub approve_offline: bool,
    /// Takes issuer script commands (APPLICATION BLOCK, PUT DATA) under secure messaging.
    pub accepts_scripts: bool,
}

/// Which shape the IAD (9F10) takes, and with it the cryptogram version number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IadFormat {
    /// UnionPay / PBOC 3.0: length 07, DKI, CVN, CVR (03 + 3 bytes), algorithm indicator
    /// (01 TDES, 04 SM4), then issuer discretionary data 0A 01 + 9 bytes.
    Pboc { cvn: u8, algorithm: u8 },
    /// Visa VIS 1.5 / CVN 10: length 06, DKI, CVN, CVR (03 + 3 bytes).
    Visa { cvn: u8 },
}

/// The card's reference PIN. `Debug` never shows it.
#[derive(Clone)]
pub struct ReferencePin(pub Zeroizing<String>);

impl std::fmt::Debug for ReferencePin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReferencePin([redacted])")
    }
}

/// One payment application.
#[derive(Debug, Clone)]
pub struct Application {
    pub aid: Vec<u8>,
    pub label: String,
    /// Application priority indicator (87): bit 8 = cardholder confirmation required.
    pub priority: u8,
    pub aip: [u8; 2],
    pub pdol: Vec<u8>,
    pub cdol1: Vec<u8>,
    pub cdol2: Vec<u8>,
    pub files: Vec<RecordFile>,
    /// Data objects readable by GET DATA besides the counters (EMV 4.4 Book 3 §6.5.7).
    pub get_data: Vec<Tlv>,
    pub counters: Counters,
    pub behaviour: Behaviour,
    pub iad: IadFormat,
    /// Derivation key index in the IAD.
    pub dki: u8,
    pub pan: Pan,
    /// PAN sequence number as in 5F34 (one BCD byte), if the card has one.
    pub psn: Option<u8>,
    pub keys: CardKeys,
    /// The reference PIN for offline PIN, `None` when the card has no offline PIN.
    pub pin: Option<ReferencePin>,
    /// The ICC private key for DDA/CDA (and enciphered PIN with RSA); `None` for an SDA card.
    pub icc_key: Option<IccKey>,
    /// How the application answers a tap; `None` for a contact-only application.
    pub contactless: Option<super::contactless::Contactless>,
}

impl Application {
    /// The AFL (94): per file SFI << 3, first record, last record, ODA record count.
    pub fn afl(&self) -> Vec<u8> {
        let mut afl = Vec::with_capacity(self.files.len() * 4);
        for f in &self.files {
            let last = u8::try_from(f.records.len()).unwrap_or(u8::MAX);
            afl.extend_from_slice(&[f.sfi << 3, 1, last, f.oda_records]);
        }
        afl
    }

    /// The encoded record `number` (from 1) of the file `sfi`, wrapped in template 70.
    pub fn record(&self, sfi: u8, number: u8) -> Option<Vec<u8>> {
        let file = self.files.iter().find(|f| f.sfi == sfi)?;
        let body = file.records.get(usize::from(number).checked_sub(1)?)?;
        Some(tlv::encode(&[Tlv::constructed(0x70, body.clone())]))
    }

    /// The first value of `tag` in the records or the GET DATA objects.
    pub fn find(&self, tag: u32) -> Option<&[u8]> {
        self.files
            .iter()
            .flat_map(|f| f.records.iter())
            .find_map(|r| tlv::find(r, tag))
            .or_else(|| tlv::find(&self.get_data, tag))
            .and_then(Tlv::bytes)
    }

    /// Whether the AIP says the card does combined DDA/AC generation (byte 1 bit 1).
    pub fn supports_cda(&self) -> bool {
        self.aip[0] & 0x01 != 0 && self.icc_key.is_some()
    }

    /// Whether the AIP says the card does DDA (byte 1 bit 6).
    pub fn supports_dda(&self) -> bool {
        self.aip[0] & 0x20 != 0 && self.icc_key.is_some()
    }
}

/// Where the card leaves the slot (tearing): at the `occurrence`-th command (from 1) with
/// instruction byte `ins`. With `after_processing` the card acts on the command (counters
/// move) and the answer is lost; without it the command never reaches the chip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tear {
    pub ins: u8,
    pub occurrence: u32,
    pub after_processing: bool,
}

/// A personalised card.
#[derive(Debug, Clone)]
pub struct CardProfile {
    pub name: String,
    /// Whether the card has the payment system environment 1PAY.SYS.DDF01.
    pub pse: bool,
    /// Whether the card answers the contactless PPSE 2PAY.SYS.DDF01 (it is then tapped).
    pub ppse: bool,
    pub applications: Vec<Application>,
    pub tear: Option<Tear>,
}

impl CardProfile {
    /// The card leaves the slot at this command.
    pub fn with_tear(mut self, tear: Tear) -> CardProfile {
        self.tear = Some(tear);
        self
    }
}
