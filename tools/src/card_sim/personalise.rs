//! Turns a short card description ([`CardSpec`]) into the personalised data a bureau would
//! write: records, DOLs, CVM list, action codes, counters and keys.

use smartpos_core::card::oda::issuer_pki::PkiError;
use smartpos_core::card::{CardError, Pan};
use smartpos_core::codec::tlv::{self, Tlv};
use smartpos_core::crypto::EmvAcError;
use thiserror::Error;
use zeroize::Zeroizing;

use super::dol;
use super::keys::IssuerMasterKeys;
use super::oda::{self, OdaKind};
use super::profile::{Application, Behaviour, Counters, IadFormat, RecordFile, ReferencePin};

/// Why a card could not be built.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CatalogueError {
    #[error("no card named {name:?} in the catalogue")]
    UnknownCard { name: String },
    #[error("card number refused: {0}")]
    Pan(#[from] CardError),
    #[error("card keys could not be derived: {0}")]
    Keys(#[from] EmvAcError),
    #[error("ODA certificates could not be made: {0}")]
    Certificates(#[from] PkiError),
}

/// The CVM list (8E) a card carries: amounts X and Y zero, then rules (Book 3 §10.5, Annex C3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CvmPolicy {
    /// Online PIN, else signature, else no CVM: UnionPay's usual list (42 03, 1E 03, 1F 00).
    OnlinePin,
    /// Offline plaintext PIN first (41 03), then online PIN, signature, no CVM.
    OfflinePlaintextPin,
    /// Signature, else no CVM (Visa and Mastercard contact cards here).
    Signature,
}

impl CvmPolicy {
    fn list(self) -> Vec<u8> {
        let rules: &[u8] = match self {
            CvmPolicy::OnlinePin => &[0x42, 0x03, 0x1E, 0x03, 0x1F, 0x00],
            CvmPolicy::OfflinePlaintextPin => &[0x41, 0x03, 0x42, 0x03, 0x1E, 0x03, 0x1F, 0x00],
            CvmPolicy::Signature => &[0x5E, 0x03, 0x1F, 0x00],
        };
        let mut out = vec![0u8; 8];
        out.extend_from_slice(rules);
        out
    }
}

/// The scheme a card belongs to, which fixes its AID, DOLs and IAD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    UnionPayDebit,
    UnionPayCredit,
    Visa,
    Mastercard,
}

impl Scheme {
    pub fn aid(self) -> Vec<u8> {
        match self {
            Scheme::UnionPayDebit => vec![0xA0, 0, 0, 0x03, 0x33, 0x01, 0x01, 0x01],
            Scheme::UnionPayCredit => vec![0xA0, 0, 0, 0x03, 0x33, 0x01, 0x01, 0x02],
            Scheme::Visa => vec![0xA0, 0, 0, 0, 0x03, 0x10, 0x10],
            Scheme::Mastercard => vec![0xA0, 0, 0, 0, 0x04, 0x10, 0x10],
        }
    }

    fn label(self) -> &'static str {
        match self {
            Scheme::UnionPayDebit => "UnionPay Debit",
            Scheme::UnionPayCredit => "UnionPay Credit",
            Scheme::Visa => "VISA CREDIT",
            Scheme::Mastercard => "MASTERCARD",
        }
    }

    fn unionpay(self) -> bool {
        matches!(self, Scheme::UnionPayDebit | Scheme::UnionPayCredit)
    }

    /// PDOL: UnionPay asks for the EC terminal support indicator, amount and currency (PBOC
    /// 3.0 part 5); the Visa and Mastercard cards here have none.
    fn pdol(self) -> Vec<u8> {
        if self.unionpay() {
            dol::build(&[(0x9F7A, 1), (0x9F02, 6), (0x5F2A, 2)])
        } else {
            Vec::new()
        }
    }

    fn cdol1(self) -> Vec<u8> {
        // CDOL1 asks first for what the cryptogram covers, so card and issuer agree by design.
        let mut pairs: Vec<(u32, u8)> = super::keys::AC_TERMINAL_TAGS
            .iter()
            .map(|&(tag, len)| (tag, len as u8))
            .collect();
        if self.unionpay() {
            pairs.extend([(0x9F21, 3), (0x9F4E, 20)]);
        } else {
            pairs.extend([(0x9F35, 1), (0x9F45, 2), (0x9F34, 3)]);
        }
        dol::build(&pairs)
    }

    /// CDOL2: ARC and the transaction data again; the Mastercard card takes the issuer
    /// authentication data (91) here instead of EXTERNAL AUTHENTICATE.
    fn cdol2(self) -> Vec<u8> {
        match self {
            Scheme::Mastercard => dol::build(&[(0x91, 10), (0x8A, 2), (0x95, 5), (0x9F37, 4)]),
            Scheme::Visa => dol::build(&[
                (0x8A, 2),
                (0x9F02, 6),
                (0x9F03, 6),
                (0x9F1A, 2),
                (0x95, 5),
                (0x5F2A, 2),
                (0x9A, 3),
                (0x9C, 1),
                (0x9F37, 4),
            ]),
            _ => dol::build(&[
                (0x8A, 2),
                (0x9F02, 6),
                (0x9F03, 6),
                (0x9F1A, 2),
                (0x95, 5),
                (0x5F2A, 2),
                (0x9A, 3),
                (0x9C, 1),
                (0x9F37, 4),
                (0x9F21, 3),
                (0x9F4E, 20),
            ]),
        }
    }
}

/// What distinguishes one catalogue card. `Debug` shows the masked PAN and no PIN.
#[derive(Clone)]
pub struct CardSpec {
    pub scheme: Scheme,
    pub pan: &'static str,
    pub psn: u8,
    /// YYMMDD.
    pub expiry: &'static str,
    pub aip: [u8; 2],
    pub cvm: CvmPolicy,
    pub pin: Option<&'static str>,
    pub pin_try_limit: u8,
    pub behaviour: Behaviour,
    pub iad: IadFormat,
    pub ec_balance_fen: u64,
    /// The certificates it carries; `None` for a card without offline data authentication.
    pub oda: Option<OdaKind>,
}

impl std::fmt::Debug for CardSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let masked = Pan::parse(self.pan)
            .map(|p| p.masked().to_string())
            .unwrap_or_default();
        f.debug_struct("CardSpec")
            .field("scheme", &self.scheme)
            .field("pan", &masked)
            .field("expiry", &self.expiry)
            .field("aip", &self.aip)
            .field("oda", &self.oda)
            .finish_non_exhaustive()
    }
}

/// Builds the application of `spec` with keys derived from `issuer`.
pub fn application(
    spec: &CardSpec,
    issuer: &IssuerMasterKeys,
) -> Result<Application, CatalogueError> {
    let pan = Pan::parse(spec.pan)?;
    let keys = issuer.card_keys(&pan, Some(spec.psn))?;
    let s = spec.scheme;
    let yymm = spec.expiry.get(..4).unwrap_or(spec.expiry);
    let mut track2 = format!("{}D{yymm}2010000000000", spec.pan);
    if track2.len() % 2 == 1 {
        track2.push('F');
    }
    let mut pan_bcd = spec.pan.to_string();
    if pan_bcd.len() % 2 == 1 {
        pan_bcd.push('F');
    }
    let hex = |s: &str| hex::decode(s).unwrap_or_default();
    let unionpay = s.unionpay();
    let record1 = vec![
        Tlv::primitive(0x57, hex(&track2)),
        Tlv::primitive(0x5F20, b"TEST/CARDHOLDER".to_vec()),
    ];
    let mut record2 = vec![
        Tlv::primitive(0x5A, hex(&pan_bcd)),
        Tlv::primitive(0x5F34, vec![spec.psn]),
        Tlv::primitive(0x5F24, hex(spec.expiry)),
        Tlv::primitive(0x5F25, hex("200101")),
        Tlv::primitive(0x5F28, hex(if unionpay { "0156" } else { "0840" })),
        Tlv::primitive(0x9F07, vec![0xFF, 0x00]),
        // Application version as the terminal's AID table has it for the scheme (a mismatch
        // sets TVR byte 2 bit 8).
        Tlv::primitive(
            0x9F08,
            hex(match s {
                Scheme::Visa => "008C",
                Scheme::Mastercard => "0002",
                _ => "0030",
            }),
        ),
        Tlv::primitive(0x8E, spec.cvm.list()),
        Tlv::primitive(0x8C, s.cdol1()),
        Tlv::primitive(0x8D, s.cdol2()),
        // Issuer action codes (denial, online, default): go online for most failures, decline
        // for none, and on no connection decline what the terminal could not verify.
        Tlv::primitive(0x9F0E, hex("0010000000")),
        Tlv::primitive(0x9F0F, hex("DC4004F800")),
        Tlv::primitive(0x9F0D, hex("DC4000A800")),
        Tlv::primitive(0x9F4A, vec![0x82]),
    ];
    if spec.aip[0] & 0x21 != 0 {
        record2.push(Tlv::primitive(0x9F49, dol::build(&[(0x9F37, 4)])));
    }
    // Static data to authenticate (Book 3 §10.3): the ODA record's content, then the AIP as
    // the SDA tag list 9F4A asks. The certificates themselves go to SFI 3, outside it.
    let mut files = vec![
        RecordFile {
            sfi: 1,
            records: vec![record1],
            oda_records: 0,
        },
        RecordFile {
            sfi: 2,
            records: vec![record2],
            oda_records: 1,
        },
    ];
    let mut icc_key = None;
    if let Some(kind) = spec.oda {
        let mut static_data = tlv::encode(&files[1].records[0]);
        static_data.extend_from_slice(&spec.aip);
        let (objects, key) = oda::personalise(kind, &hex(&pan_bcd), &static_data)?;
        icc_key = key;
        files.push(RecordFile {
            sfi: 3,
            records: pack_records(objects),
            oda_records: 0,
        });
    }
    let mut get_data = vec![Tlv::primitive(0x9F77, hex("000000100000"))];
    if unionpay {
        get_data.push(Tlv::primitive(0x9F6D, hex("000000050000")));
    }
    Ok(Application {
        aid: s.aid(),
        label: s.label().to_string(),
        priority: 0x01,
        aip: spec.aip,
        pdol: s.pdol(),
        cdol1: s.cdol1(),
        cdol2: s.cdol2(),
        files,
        get_data,
        counters: Counters {
            atc: 0x0010,
            last_online_atc: 0x000F,
            pin_tries: spec.pin_try_limit,
            pin_try_limit: spec.pin_try_limit,
            ec_balance_fen: spec.ec_balance_fen,
            lcol: 3,
            ucol: 10,
            ..Counters::default()
        },
        behaviour: spec.behaviour.clone(),
        iad: spec.iad,
        dki: 0x01,
        pan,
        psn: Some(spec.psn),
        keys,
        pin: spec
            .pin
            .map(|p| ReferencePin(Zeroizing::new(p.to_string()))),
        icc_key,
        contactless: None,
    })
}

/// Packs data objects into records whose READ RECORD answer fits one short response (256
/// bytes with template 70's three header bytes): at most 252 bytes of content each.
fn pack_records(objects: Vec<Tlv>) -> Vec<Vec<Tlv>> {
    const ROOM: usize = 252;
    let mut records: Vec<Vec<Tlv>> = Vec::new();
    let mut used = ROOM;
    for o in objects {
        let len = tlv::encode(std::slice::from_ref(&o)).len();
        match records.last_mut() {
            Some(r) if used + len <= ROOM => {
                r.push(o);
                used += len;
            }
            _ => {
                records.push(vec![o]);
                used = len;
            }
        }
    }
    records
}
