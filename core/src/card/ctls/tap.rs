//! What every contactless kernel shares: the transaction's state during one tap, GET
//! PROCESSING OPTIONS with its contactless status words, the records, and the request the
//! engine gets.

use crate::card::emv::bits::{Tsi, Tvr};
use crate::card::emv::channel::{Card, ChannelError, cmd};
use crate::card::emv::data::{TagStore, bcd_u64};
use crate::card::emv::records::{self, StaticData};
use crate::card::emv::{
    AcRecord, IccCardData, IccRequest, OdaMethod, OdaResult, TerminalParams, TerminationReason,
    TransactionData, dol, field55,
};
use crate::card::{Pan, Track2};
use crate::codec::tlv;

use super::outcome::{CtlsCvm, CtlsOutcome, CtlsResult, InsertReason};
use super::params::CtlsAid;
use super::preprocess::Indicators;

/// Why a kernel stopped before deciding.
#[derive(Debug)]
pub(super) enum Stop {
    /// The entry point tries the next candidate (Book B §3.4, outcome Select Next).
    SelectNext,
    /// An outcome decided without a cryptogram (see phone, insert, try again).
    Outcome(CtlsOutcome),
    Terminate(TerminationReason),
}

impl From<TerminationReason> for Stop {
    fn from(r: TerminationReason) -> Self {
        match r {
            // A reader fault during a tap is the card leaving the field: present it again.
            TerminationReason::CardRemoved | TerminationReason::ReaderFault => {
                Stop::Outcome(CtlsOutcome::TryAgain)
            }
            r => Stop::Terminate(r),
        }
    }
}

impl From<ChannelError> for Stop {
    fn from(e: ChannelError) -> Self {
        match e {
            ChannelError::Device(_) => Stop::Outcome(CtlsOutcome::TryAgain),
            ChannelError::NoStatusWord => Stop::Terminate(TerminationReason::CardProtocolError),
            _ => Stop::Terminate(TerminationReason::TooManyCommands),
        }
    }
}

/// One tap's state. Card values live in the `TagStore` (zeroized, Debug shows tags only).
#[derive(Debug, Clone)]
pub(super) struct TapState {
    pub terminal: TerminalParams,
    pub txn: TransactionData,
    pub row: CtlsAid,
    pub ind: Indicators,
    pub store: TagStore,
    pub tvr: Tvr,
    pub tsi: Tsi,
    pub cvm_results: [u8; 3],
    pub oda_method: OdaMethod,
    pub oda_result: OdaResult,
    pub acs: Vec<AcRecord>,
    pub aid: Vec<u8>,
    pub label: String,
    pub pdol_data: Vec<u8>,
}

/// GET PROCESSING OPTIONS' answer.
pub(super) enum GpoAnswer {
    /// Format 1 (tag 80): AIP and AFL only.
    Format1,
    /// Format 2 (tag 77): its objects are in the store.
    Format2,
}

/// CVM results (9F34) for each outcome: "no CVM required" successful, online PIN, signature
/// (result unknown until the receipt is signed), and the device's own verification as
/// Mastercard reports it (CVM code 01 "performed by the device", successful).
pub(super) fn cvm_results(cvm: CtlsCvm) -> [u8; 3] {
    match cvm {
        CtlsCvm::NoCvm => [0x1F, 0x00, 0x02],
        CtlsCvm::OnlinePin => [0x02, 0x00, 0x00],
        CtlsCvm::Signature => [0x1E, 0x00, 0x00],
        CtlsCvm::ConsumerDevice => [0x01, 0x00, 0x02],
    }
}

impl TapState {
    /// GPO with the PDOL (the TTQ in it), and the contactless status words: 6986 "see phone",
    /// 6984 "try another interface", 6985 "select next" (VCPS 2.2 §5.2, Book C-2 §3.3).
    pub fn gpo(&mut self, card: &mut Card) -> Result<GpoAnswer, Stop> {
        let pdol = match self.store.card(0x9F38) {
            Some(p) => dol::parse(p).map_err(|_| TerminationReason::GpoFailed)?,
            None => Vec::new(),
        };
        self.pdol_data = dol::build(&pdol, |t| self.store.get(t));
        if self.pdol_data.len() > 250 {
            return Err(TerminationReason::GpoFailed.into());
        }
        let r = card.send(&cmd::gpo(&self.pdol_data))?;
        match r.sw {
            0x9000 => {}
            0x6986 => return Err(Stop::Outcome(CtlsOutcome::SeePhone)),
            0x6984 => {
                return Err(Stop::Outcome(CtlsOutcome::TryAnotherInterface(
                    InsertReason::CardRequested,
                )));
            }
            0x6985 => return Err(Stop::SelectNext),
            _ => return Err(TerminationReason::GpoFailed.into()),
        }
        let objs = tlv::parse(&r.data).map_err(|_| TerminationReason::GpoFailed)?;
        match objs.as_slice() {
            [o] if o.tag == 0x80 => {
                let v = o.bytes().unwrap_or_default();
                if v.len() < 2 {
                    return Err(TerminationReason::GpoFailed.into());
                }
                self.store.set_card(0x82, &v[..2]);
                self.store.set_card(0x94, &v[2..]);
                Ok(GpoAnswer::Format1)
            }
            [o] if o.tag == 0x77 => {
                self.store
                    .add_card_objects(o.children())
                    .map_err(|_| TerminationReason::DuplicateData)?;
                if self.store.card(0x82).is_none_or(|a| a.len() != 2) {
                    return Err(TerminationReason::GpoFailed.into());
                }
                Ok(GpoAnswer::Format2)
            }
            _ => Err(TerminationReason::GpoFailed.into()),
        }
    }

    pub fn aip(&self) -> [u8; 2] {
        self.store
            .card(0x82)
            .and_then(|v| <[u8; 2]>::try_from(v).ok())
            .unwrap_or_default()
    }

    /// READ RECORD per the AFL (none without one) and the static data to authenticate.
    pub fn read_records(&mut self, card: &mut Card) -> Result<StaticData, Stop> {
        let afl = match self.store.card(0x94) {
            None | Some([]) => Vec::new(),
            Some(a) => records::parse_afl(a).ok_or(TerminationReason::GpoFailed)?,
        };
        let mut sd = records::read_records(card, &mut self.store, &afl)?;
        records::add_tag_list(&self.store, &mut sd);
        Ok(sd)
    }

    /// The PAN from 5A, else from the track 2 equivalent data 57.
    pub fn pan(&self) -> Option<Pan> {
        let digits = match self.store.card(0x5A) {
            Some(v) => zeroize::Zeroizing::new(hex::encode_upper(v)),
            None => {
                let t2 = zeroize::Zeroizing::new(hex::encode_upper(self.store.card(0x57)?));
                zeroize::Zeroizing::new(t2.split('D').next()?.to_owned())
            }
        };
        Pan::parse(digits.trim_end_matches('F')).ok()
    }

    /// 5F24 (YYMMDD), else YYMM from the track 2 equivalent data with day 31.
    fn expiry(&self) -> Option<[u8; 3]> {
        if let Some(v) = self
            .store
            .card(0x5F24)
            .and_then(|v| <[u8; 3]>::try_from(v).ok())
        {
            return Some(v);
        }
        let t2 = zeroize::Zeroizing::new(hex::encode_upper(self.store.card(0x57)?));
        let yymm = t2.split('D').nth(1)?.get(..4)?;
        let b = hex::decode(yymm).ok()?;
        Some([*b.first()?, *b.get(1)?, 0x31])
    }

    /// Whether the application has expired at the transaction date (both YYMMDD BCD, same
    /// century window as Book 3 §10.4.3: YY < 50 is 20YY).
    pub fn expired(&self) -> bool {
        let key = |d: [u8; 3]| {
            let yy = bcd_u64(&d[..1]).unwrap_or(0);
            let century = if yy < 50 { 2000 } else { 1900 };
            (century + yy) * 10_000 + bcd_u64(&d[1..]).unwrap_or(0)
        };
        self.expiry().is_some_and(|e| key(e) < key(self.txn.date))
    }

    /// The request for the engine with the CVM results the quick kernels report for `cvm`.
    pub fn result(&mut self, cvm: CtlsCvm) -> Result<Box<CtlsResult>, Stop> {
        self.cvm_results = cvm_results(cvm);
        self.request(cvm)
    }

    /// The request for the engine: card data, field 55 as UnionPay wants it, the CVM, and the
    /// CVM results the kernel set (C-2 records the card's own CV rule).
    pub fn request(&mut self, cvm: CtlsCvm) -> Result<Box<CtlsResult>, Stop> {
        let pan = self.pan().ok_or(TerminationReason::MandatoryDataMissing)?;
        self.store.set_terminal(0x9F34, self.cvm_results);
        self.store.set_terminal(0x9B, self.tsi.0);
        let s = &self.store;
        let card = IccCardData {
            pan,
            pan_sequence: s
                .card(0x5F34)
                .and_then(bcd_u64)
                .and_then(|n| u8::try_from(n).ok()),
            track2: s.card(0x57).and_then(|v| Track2::from_nibbles(v).ok()),
            expiry: self.expiry().unwrap_or_default(),
            aid: self.aid.clone(),
            label: self.label.clone(),
        };
        Ok(Box::new(CtlsResult {
            request: IccRequest {
                card,
                field55: field55::build(s),
                signature_required: cvm == CtlsCvm::Signature,
                // The online PIN is collected by the engine after the card has gone.
                online_pin: false,
            },
            cvm,
        }))
    }
}

/// The outcome after the card is read: `Err` values are turned into outcomes by the entry
/// point.
pub(super) type KernelResult = Result<CtlsOutcome, Stop>;
