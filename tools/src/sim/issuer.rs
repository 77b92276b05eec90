//! The acquirer simulator as the card's issuer: it checks the ARQC a chip card made (field 55)
//! and answers with the ARPC (tag 91) and, for a card it has scripts for, issuer script
//! template 72 — all with the same issuer master keys the simulated cards are personalised
//! under (`card_sim::catalogue::issuer_families`).
//!
//! The ARQC is rebuilt from the field-55 tags 9F02 9F03 9F1A 95 5F2A 9A 9C 9F37, then 82, 9F36
//! and the CVR from 9F10 — the EMV Book 2 §8.1.1 recommended minimum set in the order the card
//! uses ([`crate::card_sim::keys::ac_input`]). A cryptogram that does not verify is declined
//! with response code 59 (UnionPay's "suspected fraud, card verification failed", the code
//! the response-code catalogue gives for a failed card check) and moves no money; a field 55
//! missing any of those tags is a format error (30).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use smartpos_core::card::Pan;
use smartpos_core::codec::tlv::{self, Tlv};
use smartpos_core::crypto::mac::constant_time_eq;
use smartpos_core::crypto::{SecretKey, application_cryptogram, arpc_method1};
use thiserror::Error;

use crate::card_sim::catalogue::{IssuerFamily, issuer_families};
use crate::card_sim::keys::{self, CardKeys, script_mac};

/// Response code for a cryptogram that does not verify.
pub const CRYPTOGRAM_FAILED: &str = "59";
/// Response code for a field 55 the issuer cannot read.
pub const FIELD55_FORMAT_ERROR: &str = "30";

/// Why the issuer refuses a field 55; each maps to a response code.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ChipCheckError {
    #[error("field 55 is not BER-TLV or lacks tag {tag:X}")]
    MissingTag { tag: u32 },
    #[error("no issuer master key for this card's BIN")]
    UnknownBin,
    #[error("the ARQC does not verify")]
    CryptogramFailed,
}

impl ChipCheckError {
    pub fn response_code(&self) -> &'static str {
        match self {
            ChipCheckError::MissingTag { .. } => FIELD55_FORMAT_ERROR,
            // A chip card of a BIN the issuer does not know is a card it did not issue.
            ChipCheckError::UnknownBin => "14",
            ChipCheckError::CryptogramFailed => CRYPTOGRAM_FAILED,
        }
    }
}

/// One issuer script command, sent in template 72 with its secure-messaging MAC.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScriptCommand {
    ApplicationBlock,
    ApplicationUnblock,
    /// PUT DATA of a card data object the card lets the issuer update (9F79, 9F77, 9F14, 9F23).
    PutData {
        tag: u16,
        value: Vec<u8>,
    },
}

/// An ARQC that verified: what the answer's field 55 needs.
#[derive(Debug)]
pub struct VerifiedArqc {
    keys: CardKeys,
    pan_digits: String,
    arqc: [u8; 8],
    atc: u16,
}

/// The issuer: card families by BIN, scripts waiting for cards.
#[derive(Debug)]
pub struct Issuer {
    families: Vec<IssuerFamily>,
    scripts: Mutex<HashMap<String, Vec<ScriptCommand>>>,
}

impl Default for Issuer {
    fn default() -> Issuer {
        Issuer::new()
    }
}

impl Issuer {
    /// The issuer of every catalogue card.
    pub fn new() -> Issuer {
        Issuer {
            families: issuer_families(),
            scripts: Mutex::new(HashMap::new()),
        }
    }

    fn scripts(&self) -> MutexGuard<'_, HashMap<String, Vec<ScriptCommand>>> {
        self.scripts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sends `commands` in template 72 with the next online answer for the card `pan`.
    pub fn queue_script(&self, pan: &str, commands: Vec<ScriptCommand>) {
        self.scripts().insert(pan.to_string(), commands);
    }

    /// Checks the ARQC in `field55` of the card `pan` whose PAN sequence number is `psn` (field
    /// 23 or 5F34).
    pub fn verify_arqc(
        &self,
        pan: &str,
        psn: Option<u8>,
        field55: &[u8],
    ) -> Result<VerifiedArqc, ChipCheckError> {
        let objects = tlv::parse(field55).map_err(|_| ChipCheckError::MissingTag { tag: 0x55 })?;
        let get = |tag: u32| -> Result<&[u8], ChipCheckError> {
            tlv::find(&objects, tag)
                .and_then(Tlv::bytes)
                .ok_or(ChipCheckError::MissingTag { tag })
        };
        let arqc: [u8; 8] = get(0x9F26)?
            .try_into()
            .map_err(|_| ChipCheckError::MissingTag { tag: 0x9F26 })?;
        let aip: [u8; 2] = get(0x82)?
            .try_into()
            .map_err(|_| ChipCheckError::MissingTag { tag: 0x82 })?;
        let atc: [u8; 2] = get(0x9F36)?
            .try_into()
            .map_err(|_| ChipCheckError::MissingTag { tag: 0x9F36 })?;
        let atc = u16::from_be_bytes(atc);
        let iad = get(0x9F10)?;
        for (tag, _) in keys::AC_TERMINAL_TAGS {
            get(tag)?;
        }
        let input = keys::ac_input(|tag| get(tag).ok(), aip, atc, iad)
            .ok_or(ChipCheckError::MissingTag { tag: 0x9F10 })?;
        let psn = psn.or_else(|| get(0x5F34).ok().and_then(|v| v.first().copied()));
        let family = self
            .families
            .iter()
            .find(|f| pan.starts_with(f.bin8))
            .ok_or(ChipCheckError::UnknownBin)?;
        let pan_checked = Pan::parse(pan).map_err(|_| ChipCheckError::UnknownBin)?;
        let card_keys = family
            .keys
            .card_keys(&pan_checked, psn)
            .map_err(|_| ChipCheckError::CryptogramFailed)?;
        let expected = card_keys
            .ac_session(atc)
            .and_then(|sk| application_cryptogram(&sk, &input))
            .map_err(|_| ChipCheckError::CryptogramFailed)?;
        if !constant_time_eq(&expected, &arqc) {
            return Err(ChipCheckError::CryptogramFailed);
        }
        Ok(VerifiedArqc {
            keys: card_keys,
            pan_digits: pan.to_string(),
            arqc,
            atc,
        })
    }

    /// The answer's field 55: 91 = ARPC (method 1, Book 2 §8.2.1) || ARC, where the ARC is the
    /// response code in ASCII as UnionPay sends it (8A = field 39); then template 72 with the
    /// card's queued script commands, each MACed for this transaction.
    pub fn answer_field55(&self, verified: &VerifiedArqc, response_code: &str) -> Vec<u8> {
        let code = response_code.as_bytes();
        let arc = [
            code.first().copied().unwrap_or(b'0'),
            code.get(1).copied().unwrap_or(b'0'),
        ];
        let mut objects = Vec::new();
        let arpc = verified
            .keys
            .ac_session(verified.atc)
            .and_then(|sk| arpc_method1(&sk, &verified.arqc, &arc));
        match arpc {
            Ok(arpc) => {
                let mut v = arpc.to_vec();
                v.extend_from_slice(&arc);
                objects.push(Tlv::primitive(0x91, v));
            }
            Err(e) => log::error!("sim issuer: no ARPC: {e}"),
        }
        let queued = self.scripts().remove(&verified.pan_digits);
        if let Some(commands) = queued {
            match self.script_template(verified, &commands) {
                Some(t) => objects.push(t),
                None => log::error!("sim issuer: script not built"),
            }
        }
        tlv::encode(&objects)
    }

    fn script_template(&self, v: &VerifiedArqc, commands: &[ScriptCommand]) -> Option<Tlv> {
        let sk: SecretKey = v.keys.smi_session(v.atc, &v.arqc).ok()?;
        let mut children = vec![Tlv::primitive(0x9F18, vec![0, 0, 0, 1])];
        for c in commands {
            let (header, plain) = match c {
                ScriptCommand::ApplicationBlock => ([0x84, 0x1E, 0, 0], Vec::new()),
                ScriptCommand::ApplicationUnblock => ([0x84, 0x18, 0, 0], Vec::new()),
                ScriptCommand::PutData { tag, value } => {
                    let [p1, p2] = tag.to_be_bytes();
                    ([0x04, 0xDA, p1, p2], value.clone())
                }
            };
            let lc = u8::try_from(plain.len() + crate::card_sim::SCRIPT_MAC_LEN).ok()?;
            let mac = script_mac(&sk, header, lc, v.atc, &v.arqc, &plain).ok()?;
            let mut apdu = header.to_vec();
            apdu.push(lc);
            apdu.extend_from_slice(&plain);
            apdu.extend_from_slice(&mac);
            children.push(Tlv::primitive(0x86, apdu));
        }
        Some(Tlv::constructed(0x72, children))
    }
}

/// The PAN sequence number of field 23 (n3, "001") as the BCD byte 5F34 holds.
pub fn psn_from_field23(field23: &str) -> Option<u8> {
    let digits = field23.get(field23.len().checked_sub(2)?..)?;
    u8::from_str_radix(digits, 16)
        .ok()
        .filter(|_| digits.bytes().all(|b| b.is_ascii_digit()))
}

impl Issuer {
    /// The chip check an authorisation request needs: `None` for a request without field 55,
    /// an advice or any message whose cryptogram is not an ARQC (9F27 says TC or AAC: offline
    /// decisions are uploaded, not authorised); otherwise whether the ARQC verifies.
    pub fn check_request(
        &self,
        req: &smartpos_core::codec::iso8583::Message,
        pan: impl FnOnce() -> Option<String>,
    ) -> Option<Result<VerifiedArqc, ChipCheckError>> {
        if !matches!(req.mti(), "0100" | "0200") {
            return None;
        }
        let field55 = req.bytes(55)?;
        let cid = tlv::parse(field55).ok().and_then(|o| {
            tlv::find(&o, 0x9F27)
                .and_then(Tlv::bytes)
                .map(<[u8]>::to_vec)
        });
        if cid.is_some_and(|c| c.first().is_some_and(|b| b & 0xC0 != 0x80)) {
            return None;
        }
        let Some(pan) = pan() else {
            return Some(Err(ChipCheckError::UnknownBin));
        };
        let psn = req.text(23).and_then(psn_from_field23);
        Some(self.verify_arqc(&pan, psn, field55))
    }
}
