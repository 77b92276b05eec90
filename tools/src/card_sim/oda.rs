//! Offline data authentication on the card side (EMV 4.4 Book 2 §5-6, PBOC 3.0 SM2): the
//! certificates and signed static data a card is personalised with, the dynamic signature of
//! INTERNAL AUTHENTICATE (DDA, Book 3 §6.5.9) and of GENERATE AC (CDA, Book 2 §6.6), and the
//! enciphered PIN's decipherment (Book 2 §7.2). The keys and certificate formats come from
//! `smartpos_core::card::oda::issuer_pki`, the same tooling the ODA verifier is tested with.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, OnceLock};

use smartpos_core::card::oda::issuer_pki::{
    self, PkiError, RsaSigner, RsaTestPki, Sm2Signer, Sm2TestPki, TestCardDates,
};
use smartpos_core::card::oda::{CaKeyTable, Rid};
use smartpos_core::codec::tlv::{self, Tlv};
use smartpos_core::crypto::{RandomSource, SystemRandomSource};

use super::apdu::sw;
use super::card::{Answer, Chip, ok};

/// The CA public key index of the simulator's test CAs under each scheme's RID (production
/// UnionPay, Visa and Mastercard keys use 01 to 0F; F9 is the test PKI's index).
pub const TEST_CA_INDEX: u8 = 0xF9;

/// The card's private key for dynamic signatures (and, with RSA, enciphered PIN). `Debug`
/// names the algorithm only.
#[derive(Clone)]
pub enum IccKey {
    Rsa(RsaSigner),
    Sm2(Sm2Signer),
}

impl std::fmt::Debug for IccKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            IccKey::Rsa(_) => "IccKey::Rsa([redacted])",
            IccKey::Sm2(_) => "IccKey::Sm2([redacted])",
        })
    }
}

/// Which certificates a card carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OdaKind {
    /// RSA, issuer certificate and signed static data only.
    Sda,
    /// RSA, with an ICC key and its certificate (DDA and CDA).
    Dynamic,
    /// PBOC 3.0 SM2: issuer and ICC certificates and signed static data, SM2 signatures.
    Sm2,
}

type Personalised = (Vec<Tlv>, Option<IccKey>);

/// The ODA data objects for a card and its ICC key, made under the test CA of its RID.
/// Certificates are made once per card data and kept: RSA signing is the slow part of
/// making a card, and tests make the same card many times.
pub fn personalise(
    kind: OdaKind,
    pan_5a: &[u8],
    static_data: &[u8],
) -> Result<Personalised, PkiError> {
    type Cache = Mutex<HashMap<(OdaKind, Vec<u8>, Vec<u8>), Personalised>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let key = (kind, pan_5a.to_vec(), static_data.to_vec());
    if let Some(hit) = cache.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
        return Ok(hit.clone());
    }
    let made = make(kind, pan_5a, static_data)?;
    cache
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(key, made.clone());
    Ok(made)
}

fn make(kind: OdaKind, pan_5a: &[u8], static_data: &[u8]) -> Result<Personalised, PkiError> {
    match kind {
        OdaKind::Sda | OdaKind::Dynamic => {
            let pki = RsaTestPki::rsa_1984()?;
            let objects: BTreeMap<u32, Vec<u8>> =
                pki.card(pan_5a, static_data, TestCardDates::default())?;
            let keep = |tag: &u32| kind == OdaKind::Dynamic || !matches!(tag, 0x9F46..=0x9F48);
            let mut out: Vec<Tlv> = objects
                .into_iter()
                .filter(|(tag, _)| *tag != 0x5A && keep(tag))
                .map(|(tag, v)| Tlv::primitive(tag, v))
                .collect();
            out.retain(|t| t.tag != 0x8F);
            out.push(Tlv::primitive(0x8F, vec![TEST_CA_INDEX]));
            let icc = (kind == OdaKind::Dynamic).then(|| IccKey::Rsa(pki.icc.clone()));
            Ok((out, icc))
        }
        OdaKind::Sm2 => {
            // The SM2 test PKI of `card::oda` (its CA under index E9), with the card's RID.
            let pki = Sm2TestPki {
                rid: UNIONPAY_RID,
                ..Sm2TestPki::new()?
            };
            let objects = pki.card(pan_5a, static_data, TestCardDates::default())?;
            let out = objects
                .into_iter()
                .filter(|(tag, _)| *tag != 0x5A)
                .map(|(tag, v)| Tlv::primitive(tag, v))
                .collect();
            Ok((out, Some(IccKey::Sm2(pki.icc))))
        }
    }
}

const UNIONPAY_RID: Rid = [0xA0, 0x00, 0x00, 0x03, 0x33];

/// The terminal's CA public key table for the catalogue cards: the RSA test CA under the
/// UnionPay, Visa and Mastercard RIDs (index F9) and the SM2 test CA under UnionPay's (E9).
pub fn test_ca_keys() -> Result<CaKeyTable, PkiError> {
    let pki = RsaTestPki::rsa_1984()?;
    let sm2 = Sm2TestPki::new()?;
    let mut table = CaKeyTable::new();
    let rids: [Rid; 3] = [
        UNIONPAY_RID,
        [0xA0, 0x00, 0x00, 0x00, 0x03],
        [0xA0, 0x00, 0x00, 0x00, 0x04],
    ];
    for rid in rids {
        table
            .insert(pki.ca.ca_public_key(rid, TEST_CA_INDEX))
            .map_err(|e| PkiError::Key(e.to_string()))?;
    }
    table
        .insert(sm2.ca.ca_public_key(UNIONPAY_RID, sm2.ca_index))
        .map_err(|e| PkiError::Key(e.to_string()))?;
    Ok(table)
}

/// A fresh ICC dynamic number (9F4C): 8 bytes, the ATC then 6 random bytes.
pub(super) fn dynamic_number(atc: u16) -> Result<[u8; 8], u16> {
    let mut n = [0u8; 8];
    n[..2].copy_from_slice(&atc.to_be_bytes());
    SystemRandomSource::new()
        .fill(&mut n[2..])
        .map_err(|_| sw::NO_PRECISE_DIAGNOSIS)?;
    Ok(n)
}

/// INTERNAL AUTHENTICATE: the signed dynamic application data over the DDOL data the
/// terminal sent, answered in format 1 (template 80).
pub(super) fn sign_dynamic_data(chip: &mut Chip, ddol_data: &[u8]) -> Answer {
    let app = chip.usable_app()?;
    let key = app.icc_key.as_ref().ok_or(sw::INS_NOT_SUPPORTED)?;
    let number = dynamic_number(app.counters.atc)?;
    let icc_dynamic = issuer_pki::dda_dynamic_data(&number);
    let sdad = match key {
        IccKey::Rsa(k) => issuer_pki::signed_dynamic_data(k, &icc_dynamic, ddol_data),
        IccKey::Sm2(k) => issuer_pki::sm2_signed_dynamic_data(k, &icc_dynamic, ddol_data),
    }
    .map_err(|_| sw::NO_PRECISE_DIAGNOSIS)?;
    ok(tlv::encode(&[Tlv::primitive(0x80, sdad)]))
}

/// The GENERATE AC answer with a CDA signature (format 2: 9F27, 9F36, 9F4B, 9F10). The
/// transaction data hash covers the PDOL data, the CDOL data of this and the earlier
/// GENERATE AC, and the answer's objects except 9F4B (Book 2 §6.6.1); the terminal's
/// dynamic data is its unpredictable number. `None` for a card without an RSA ICC key.
pub(super) fn cda_response(
    chip: &Chip,
    cid: u8,
    atc: u16,
    ac: [u8; 8],
    iad: &[u8],
    cdol_values: &[&[u8]],
    unpredictable_number: &[u8],
) -> Option<Answer> {
    let app = chip.app()?;
    let Some(IccKey::Rsa(key)) = &app.icc_key else {
        return None;
    };
    let cid_tlv = Tlv::primitive(0x9F27, vec![cid]);
    let atc_tlv = Tlv::primitive(0x9F36, atc.to_be_bytes().to_vec());
    let iad_tlv = Tlv::primitive(0x9F10, iad.to_vec());
    let unsigned = tlv::encode(&[cid_tlv.clone(), atc_tlv.clone(), iad_tlv.clone()]);
    let mut transaction_data = chip.session.pdol_data.clone();
    for v in cdol_values {
        transaction_data.extend_from_slice(v);
    }
    transaction_data.extend_from_slice(&unsigned);
    let answer = dynamic_number(atc).and_then(|number| {
        let icc_dynamic = issuer_pki::cda_dynamic_data(&number, cid, ac, &transaction_data);
        let sdad = issuer_pki::signed_dynamic_data(key, &icc_dynamic, unpredictable_number)
            .map_err(|_| sw::NO_PRECISE_DIAGNOSIS)?;
        let template = Tlv::constructed(
            0x77,
            vec![cid_tlv, atc_tlv, Tlv::primitive(0x9F4B, sdad), iad_tlv],
        );
        ok(tlv::encode(&[template]))
    });
    Some(answer)
}

/// Deciphers an enciphered PIN block (VERIFY P2 = 88, Book 2 §7.2): the card's private
/// operation recovers 7F || PIN block || ICC challenge || padding. Returns the PIN block when
/// the header and the challenge from GET CHALLENGE are right.
pub(super) fn decipher_pin(key: &IccKey, data: &[u8], challenge: &[u8; 8]) -> Option<[u8; 8]> {
    let IccKey::Rsa(key) = key else {
        return None;
    };
    let plain = key.sign_raw(data).ok()?;
    if plain.first() != Some(&0x7F) || plain.get(9..17)? != challenge {
        return None;
    }
    plain.get(1..9)?.try_into().ok()
}
