//! The records a download carries in field 62: one CA public key or one AID's parameters.
//!
//! CA key (UnionPay POS specification, IC card public key download, as the sources in `wire`
//! implement it): 9F06 RID, 9F22 index, DF05 expiry, DF06 hash algorithm, DF07 public key
//! algorithm, DF02 modulus, DF04 exponent, DF03 checksum. DF06/DF07 use the EMV indicators
//! (Book 2 Annex B2: hash 01 = SHA-1; public key 01 = RSA) and PBOC 3.0's for SM cards (JR/T
//! 0025.17: hash 07 = SM3, public key 04 = SM2). DF05 comes as eight ASCII digits YYYYMMDD in
//! the hosts we read and as four BCD bytes in some terminal tables; both are accepted.
//!
//! IC parameters: 9F06 AID, DF01 application selection indicator (00: a card AID that starts
//! with this one matches; 01: exact match only), 9F09 application version, DF11/DF12/DF13
//! TAC default/online/denial, 9F1B floor limit, DF15 random-selection threshold, DF16 maximum
//! target percentage, DF17 target percentage, DF14 default DDOL, DF18 online PIN capability,
//! 9F7B electronic-cash limit, DF19 contactless floor limit, DF20 contactless transaction
//! limit, DF21 CVM-required limit. Where the sources disagree: bestpay's host sends the
//! version under 9F08 with a comment that the specification's 9F09 is wrong; 9F09 is the
//! terminal's application version number (EMV Book 3 Annex A), 9F08 the card's, so 9F09 is
//! sent and 9F08 accepted. 9F1B and DF15 are four binary bytes (EMV n/b 4 for 9F1B); the
//! percentages are read as two BCD digits, the only reading under which the common published
//! value 99 (`DF160199`) is a percentage; the contactless and EC limits are n12 BCD.

use serde::Serialize;
use thiserror::Error;

use super::wire::{WireError, encode_object, parse_flat};
use crate::card::emv::{AidParams, default_aids};
use crate::card::oda::{CaKeyAlgorithm, CaKeyError, CaKeyTable, CaPublicKey, Rid};

/// Where a downloaded key came from (`CaPublicKey::source`).
pub const DOWNLOAD_SOURCE: &str = "acquirer download";

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RecordError {
    #[error(transparent)]
    Wire(#[from] WireError),
    #[error("tag {0:X} missing")]
    Missing(u32),
    #[error("tag {tag:X}: {detail}")]
    Value { tag: u32, detail: String },
    #[error(transparent)]
    Key(#[from] CaKeyError),
    #[error("expired on {expiry} (YYMMDD; today is {today})")]
    Expired { expiry: String, today: String },
}

fn bad(tag: u32, detail: impl Into<String>) -> RecordError {
    RecordError::Value {
        tag,
        detail: detail.into(),
    }
}

/// The objects of a record by tag; a tag given twice is refused (which one would count?).
struct Objects<'a>(Vec<(u32, &'a [u8])>);

impl<'a> Objects<'a> {
    fn parse(record: &'a [u8]) -> Result<Self, RecordError> {
        let objects = parse_flat(record)?;
        for (i, (tag, _)) in objects.iter().enumerate() {
            if objects[..i].iter().any(|(t, _)| t == tag) {
                return Err(bad(*tag, "given twice"));
            }
        }
        Ok(Objects(objects))
    }

    fn get(&self, tag: u32) -> Option<&'a [u8]> {
        self.0.iter().find(|(t, _)| *t == tag).map(|(_, v)| *v)
    }

    fn need(&self, tag: u32) -> Result<&'a [u8], RecordError> {
        self.get(tag).ok_or(RecordError::Missing(tag))
    }

    fn fixed<const N: usize>(&self, tag: u32) -> Result<[u8; N], RecordError> {
        let v = self.need(tag)?;
        v.try_into()
            .map_err(|_| bad(tag, format!("{} bytes, expected {N}", v.len())))
    }
}

/// The key a CA key record carries, checked: shape, checksum (SHA-1 or SM3 over RID, index,
/// modulus and exponent), algorithm indicators that agree, and an expiry not before `today`
/// (YYMMDD). Anything else is refused: a key is trusted whole or not at all.
pub fn decode_ca_key(record: &[u8], today_yymmdd: &str) -> Result<CaPublicKey, RecordError> {
    let o = Objects::parse(record)?;
    let rid: Rid = o.fixed(0x9F06)?;
    let [index] = o.fixed::<1>(0x9F22)?;
    let algorithm = match o.get(0xDF07) {
        None | Some([0x01]) => CaKeyAlgorithm::Rsa,
        Some([0x04]) => CaKeyAlgorithm::Sm2,
        Some(v) => return Err(bad(0xDF07, format!("algorithm {}", hex::encode_upper(v)))),
    };
    match (algorithm, o.get(0xDF06)) {
        (CaKeyAlgorithm::Rsa, None | Some([0x01])) | (CaKeyAlgorithm::Sm2, None | Some([0x07])) => {
        }
        (_, Some(v)) => {
            return Err(bad(
                0xDF06,
                format!("hash {} with {algorithm:?}", hex::encode_upper(v)),
            ));
        }
    }
    let expiry = o.get(0xDF05).map(expiry_yymmdd).transpose()?;
    let key = CaPublicKey {
        rid,
        index,
        algorithm,
        modulus: o.need(0xDF02)?.to_vec(),
        exponent: o.get(0xDF04).unwrap_or_default().to_vec(),
        expiry_yymmdd: expiry.clone(),
        checksum: o.need(0xDF03)?.to_vec(),
        source: DOWNLOAD_SOURCE.to_string(),
    };
    // The table's own check: the one every key passes, whatever its source.
    CaKeyTable::new().insert(key.clone())?;
    if let Some(expiry) = expiry
        && expiry.as_str() < today_yymmdd
    {
        return Err(RecordError::Expired {
            expiry,
            today: today_yymmdd.to_string(),
        });
    }
    Ok(key)
}

/// DF05 as YYMMDD: eight ASCII digits YYYYMMDD (20YY) or four BCD bytes.
fn expiry_yymmdd(v: &[u8]) -> Result<String, RecordError> {
    let digits = match v.len() {
        8 => String::from_utf8(v.to_vec()).map_err(|_| bad(0xDF05, "not ASCII digits"))?,
        4 => hex::encode(v),
        n => return Err(bad(0xDF05, format!("{n} bytes, expected 8 or 4"))),
    };
    let valid = digits.bytes().all(|b| b.is_ascii_digit())
        && digits.starts_with("20")
        && (1..=12).contains(&digits[4..6].parse::<u8>().unwrap_or(0))
        && (1..=31).contains(&digits[6..8].parse::<u8>().unwrap_or(0));
    if !valid {
        return Err(bad(0xDF05, format!("{digits:?} is not a date YYYYMMDD")));
    }
    Ok(digits[2..].to_string())
}

/// The record of a key (the host side, and a test's).
pub fn encode_ca_key(key: &CaPublicKey) -> Vec<u8> {
    let (hash, algorithm) = match key.algorithm {
        CaKeyAlgorithm::Sm2 => (0x07, 0x04),
        _ => (0x01, 0x01),
    };
    let mut out = encode_object(0x9F06, &key.rid);
    out.extend(encode_object(0x9F22, &[key.index]));
    if let Some(expiry) = &key.expiry_yymmdd {
        out.extend(encode_object(0xDF05, format!("20{expiry}").as_bytes()));
    }
    out.extend(encode_object(0xDF06, &[hash]));
    out.extend(encode_object(0xDF07, &[algorithm]));
    out.extend(encode_object(0xDF02, &key.modulus));
    if !key.exponent.is_empty() {
        out.extend(encode_object(0xDF04, &key.exponent));
    }
    out.extend(encode_object(0xDF03, &key.checksum));
    out
}

/// One AID's parameters as the acquirer sends them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IcParameters {
    #[serde(serialize_with = "hex_upper")]
    pub aid: Vec<u8>,
    pub partial_selection: bool,
    #[serde(serialize_with = "hex_upper")]
    pub application_version: [u8; 2],
    #[serde(serialize_with = "hex_upper")]
    pub tac_default: [u8; 5],
    #[serde(serialize_with = "hex_upper")]
    pub tac_online: [u8; 5],
    #[serde(serialize_with = "hex_upper")]
    pub tac_denial: [u8; 5],
    pub floor_limit_fen: u64,
    pub random_threshold_fen: u64,
    pub max_target_percent: u8,
    pub target_percent: u8,
    #[serde(serialize_with = "hex_upper")]
    pub default_ddol: Vec<u8>,
    /// DF18: whether the terminal takes online PINs for this AID.
    pub online_pin: Option<bool>,
    /// 9F7B.
    pub ec_limit_fen: Option<u64>,
    /// DF19, DF20, DF21: for the contactless kernel.
    pub contactless_floor_limit_fen: Option<u64>,
    pub contactless_limit_fen: Option<u64>,
    pub cvm_limit_fen: Option<u64>,
}

fn hex_upper<S: serde::Serializer>(v: impl AsRef<[u8]>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode_upper(v))
}

impl IcParameters {
    /// The row of the kernel's AID table: the label and TDOL come from the built-in row of the
    /// same AID when there is one (the download carries neither).
    pub fn to_aid_params(&self) -> AidParams {
        let defaults = default_aids();
        let builtin = defaults.iter().find(|a| a.aid == self.aid);
        let label = builtin.map_or_else(
            || format!("AID {}", hex::encode_upper(&self.aid)),
            |a| a.label.clone(),
        );
        let default_tdol = builtin
            .or(defaults.first())
            .map(|a| a.default_tdol.clone())
            .unwrap_or_default();
        AidParams {
            aid: self.aid.clone(),
            label,
            partial_selection: self.partial_selection,
            application_version: self.application_version,
            tac_default: self.tac_default,
            tac_denial: self.tac_denial,
            tac_online: self.tac_online,
            floor_limit_fen: self.floor_limit_fen,
            random_threshold_fen: self.random_threshold_fen,
            target_percent: self.target_percent,
            max_target_percent: self.max_target_percent,
            default_ddol: self.default_ddol.clone(),
            default_tdol,
        }
    }

    /// The parameters of a kernel row, as a host would send them.
    pub fn from_aid_params(a: &AidParams) -> IcParameters {
        IcParameters {
            aid: a.aid.clone(),
            partial_selection: a.partial_selection,
            application_version: a.application_version,
            tac_default: a.tac_default,
            tac_online: a.tac_online,
            tac_denial: a.tac_denial,
            floor_limit_fen: a.floor_limit_fen,
            random_threshold_fen: a.random_threshold_fen,
            max_target_percent: a.max_target_percent,
            target_percent: a.target_percent,
            default_ddol: a.default_ddol.clone(),
            online_pin: Some(true),
            ec_limit_fen: None,
            contactless_floor_limit_fen: None,
            contactless_limit_fen: None,
            cvm_limit_fen: None,
        }
    }
}

/// The parameters a record carries, checked: an AID of 5 to 16 bytes, percentages of at most
/// 99 with the target not above the maximum, a threshold not above the floor limit (EMV Book 3
/// 10.6.2 biases selection between the two), a DDOL that fits a command.
pub fn decode_ic_parameters(record: &[u8]) -> Result<IcParameters, RecordError> {
    let o = Objects::parse(record)?;
    let aid = o.need(0x9F06)?;
    if !(5..=16).contains(&aid.len()) {
        return Err(bad(
            0x9F06,
            format!("{} bytes, expected 5 to 16", aid.len()),
        ));
    }
    let partial_selection = match o.get(0xDF01) {
        None | Some([0x00]) => true,
        Some([0x01]) => false,
        Some(v) => return Err(bad(0xDF01, format!("{} is not 00 or 01", hex::encode(v)))),
    };
    let application_version = match o.get(0x9F09) {
        Some(_) => o.fixed(0x9F09)?,
        None if o.get(0x9F08).is_some() => o.fixed(0x9F08)?,
        None => return Err(RecordError::Missing(0x9F09)),
    };
    let floor_limit_fen = u64::from(u32::from_be_bytes(o.fixed(0x9F1B)?));
    let random_threshold_fen = match o.get(0xDF15) {
        Some(_) => u64::from(u32::from_be_bytes(o.fixed(0xDF15)?)),
        None => 0,
    };
    let max_target_percent = percent(&o, 0xDF16)?;
    let target_percent = percent(&o, 0xDF17)?;
    if target_percent > max_target_percent {
        return Err(bad(
            0xDF17,
            format!("target {target_percent}% above the maximum {max_target_percent}%"),
        ));
    }
    if random_threshold_fen > floor_limit_fen {
        return Err(bad(
            0xDF15,
            "random-selection threshold above the floor limit",
        ));
    }
    let default_ddol = o.get(0xDF14).unwrap_or(&[0x9F, 0x37, 0x04]).to_vec();
    if default_ddol.len() > 252 {
        return Err(bad(0xDF14, "longer than a command can carry"));
    }
    let online_pin = match o.get(0xDF18) {
        None => None,
        Some([0x00]) => Some(false),
        Some([0x01]) => Some(true),
        Some(v) => return Err(bad(0xDF18, format!("{} is not 00 or 01", hex::encode(v)))),
    };
    Ok(IcParameters {
        aid: aid.to_vec(),
        partial_selection,
        application_version,
        tac_default: o.fixed(0xDF11)?,
        tac_online: o.fixed(0xDF12)?,
        tac_denial: o.fixed(0xDF13)?,
        floor_limit_fen,
        random_threshold_fen,
        max_target_percent,
        target_percent,
        default_ddol,
        online_pin,
        ec_limit_fen: amount(&o, 0x9F7B)?,
        contactless_floor_limit_fen: amount(&o, 0xDF19)?,
        contactless_limit_fen: amount(&o, 0xDF20)?,
        cvm_limit_fen: amount(&o, 0xDF21)?,
    })
}

fn percent(o: &Objects<'_>, tag: u32) -> Result<u8, RecordError> {
    match o.get(tag) {
        None => Ok(0),
        Some([b]) if b >> 4 <= 9 && b & 0x0F <= 9 => Ok((b >> 4) * 10 + (b & 0x0F)),
        Some(v) => Err(bad(
            tag,
            format!("{} is not two BCD digits", hex::encode(v)),
        )),
    }
}

fn amount(o: &Objects<'_>, tag: u32) -> Result<Option<u64>, RecordError> {
    let Some(v) = o.get(tag) else {
        return Ok(None);
    };
    let digits = hex::encode(v);
    if v.len() != 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(tag, format!("{digits} is not n12")));
    }
    digits
        .parse()
        .map(Some)
        .map_err(|_| bad(tag, format!("{digits} is not n12")))
}

fn bcd_percent(p: u8) -> u8 {
    let p = p.min(99);
    ((p / 10) << 4) | (p % 10)
}

fn n12(fen: u64) -> Vec<u8> {
    hex::decode(format!("{:012}", fen.min(999_999_999_999))).unwrap_or_default()
}

/// The record of an AID's parameters (the host side, and a test's).
pub fn encode_ic_parameters(p: &IcParameters) -> Vec<u8> {
    let clamp = |fen: u64| u32::try_from(fen).unwrap_or(u32::MAX).to_be_bytes();
    let mut out = encode_object(0x9F06, &p.aid);
    out.extend(encode_object(
        0xDF01,
        &[if p.partial_selection { 0x00 } else { 0x01 }],
    ));
    out.extend(encode_object(0x9F09, &p.application_version));
    out.extend(encode_object(0xDF11, &p.tac_default));
    out.extend(encode_object(0xDF12, &p.tac_online));
    out.extend(encode_object(0xDF13, &p.tac_denial));
    out.extend(encode_object(0x9F1B, &clamp(p.floor_limit_fen)));
    out.extend(encode_object(0xDF15, &clamp(p.random_threshold_fen)));
    out.extend(encode_object(0xDF16, &[bcd_percent(p.max_target_percent)]));
    out.extend(encode_object(0xDF17, &[bcd_percent(p.target_percent)]));
    out.extend(encode_object(0xDF14, &p.default_ddol));
    if let Some(pin) = p.online_pin {
        out.extend(encode_object(0xDF18, &[u8::from(pin)]));
    }
    for (tag, value) in [
        (0x9F7B, p.ec_limit_fen),
        (0xDF19, p.contactless_floor_limit_fen),
        (0xDF20, p.contactless_limit_fen),
        (0xDF21, p.cvm_limit_fen),
    ] {
        if let Some(fen) = value {
            out.extend(encode_object(tag, &n12(fen)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const UNIONPAY: Rid = [0xA0, 0x00, 0x00, 0x03, 0x33];

    fn production_key() -> CaPublicKey {
        CaKeyTable::production()
            .unwrap()
            .get(UNIONPAY, 0x0B)
            .unwrap()
            .clone()
    }

    #[test]
    fn a_published_key_round_trips_with_its_checksum() {
        let key = production_key();
        let record = encode_ca_key(&key);
        let back = decode_ca_key(&record, "261204").unwrap();
        assert_eq!(back.modulus, key.modulus);
        assert_eq!(back.exponent, key.exponent);
        assert_eq!(back.expiry_yymmdd.as_deref(), Some("301231"));
        // UnionPay [0B]'s published DF03 (the value in the production table's test).
        assert_eq!(
            hex::encode_upper(&back.checksum),
            "BD331F9996A490B33C13441066A09AD3FEB5F66C"
        );
        assert_eq!(back.source, DOWNLOAD_SOURCE);
    }

    #[test]
    fn a_key_with_a_wrong_checksum_or_a_past_expiry_is_refused() {
        let mut key = production_key();
        key.checksum[0] ^= 0x01;
        assert_eq!(
            decode_ca_key(&encode_ca_key(&key), "261204"),
            Err(RecordError::Key(CaKeyError::Checksum {
                rid: UNIONPAY,
                index: 0x0B
            }))
        );
        let key = production_key();
        assert_eq!(
            decode_ca_key(&encode_ca_key(&key), "310101"),
            Err(RecordError::Expired {
                expiry: "301231".into(),
                today: "310101".into()
            })
        );
    }

    #[test]
    fn key_records_missing_parts_or_with_odd_indicators_are_refused() {
        let key = production_key();
        let record = encode_ca_key(&key);
        let objects = parse_flat(&record).unwrap();
        let without = |skip: u32| -> Vec<u8> {
            objects
                .iter()
                .filter(|(t, _)| *t != skip)
                .flat_map(|(t, v)| encode_object(*t, v))
                .collect()
        };
        assert_eq!(
            decode_ca_key(&without(0xDF03), "261204"),
            Err(RecordError::Missing(0xDF03))
        );
        assert_eq!(
            decode_ca_key(&without(0xDF02), "261204"),
            Err(RecordError::Missing(0xDF02))
        );
        let sm3_with_rsa = [without(0xDF06), encode_object(0xDF06, &[0x07])].concat();
        assert!(matches!(
            decode_ca_key(&sm3_with_rsa, "261204"),
            Err(RecordError::Value { tag: 0xDF06, .. })
        ));
        let twice = [record.clone(), encode_object(0xDF03, &[0; 20])].concat();
        assert!(matches!(
            decode_ca_key(&twice, "261204"),
            Err(RecordError::Value { tag: 0xDF03, .. })
        ));
        // Expiry as four BCD bytes, and a date that is none.
        let bcd = [
            without(0xDF05),
            encode_object(0xDF05, &[0x20, 0x30, 0x12, 0x31]),
        ]
        .concat();
        assert_eq!(
            decode_ca_key(&bcd, "261204")
                .unwrap()
                .expiry_yymmdd
                .as_deref(),
            Some("301231")
        );
        let nonsense = [without(0xDF05), encode_object(0xDF05, b"20301399")].concat();
        assert!(decode_ca_key(&nonsense, "261204").is_err());
    }

    /// A UnionPay debit AID as acquirers' parameter files commonly publish it (values of the
    /// shape `9F0608A000000333010101 DF0101 00 9F08020030 DF1105D84000A800 ...`).
    #[test]
    fn parameters_decode_with_every_tag() {
        let record = hex::decode(concat!(
            "9F0608A000000333010101",
            "DF010100",
            "9F08020030",
            "DF1105D84000A800",
            "DF1205D84004F800",
            "DF13050010000000",
            "9F1B0400000064",
            "DF150400000032",
            "DF160199",
            "DF170120",
            "DF14039F3704",
            "DF180101",
            "9F7B06000000100000",
            "DF1906000000050000",
            "DF2006000000100000",
            "DF2106000000030000",
        ))
        .unwrap();
        let p = decode_ic_parameters(&record).unwrap();
        assert_eq!(hex::encode_upper(&p.aid), "A000000333010101");
        assert!(p.partial_selection);
        assert_eq!(p.application_version, [0x00, 0x30]);
        assert_eq!(p.tac_online, [0xD8, 0x40, 0x04, 0xF8, 0x00]);
        assert_eq!(p.floor_limit_fen, 100);
        assert_eq!(p.random_threshold_fen, 50);
        assert_eq!((p.max_target_percent, p.target_percent), (99, 20));
        assert_eq!(p.ec_limit_fen, Some(100_000));
        assert_eq!(p.contactless_floor_limit_fen, Some(50_000));
        assert_eq!(p.cvm_limit_fen, Some(30_000));
        assert_eq!(p.online_pin, Some(true));
        let row = p.to_aid_params();
        assert_eq!(row.label, "UnionPay Debit");
        assert_eq!(row.floor_limit_fen, 100);
        // And back: what a host would send for it decodes to the same parameters.
        assert_eq!(decode_ic_parameters(&encode_ic_parameters(&p)).unwrap(), p);
    }

    #[test]
    fn contradictory_or_broken_parameters_are_refused() {
        let base = IcParameters::from_aid_params(&default_aids()[0]);
        let mut p = base.clone();
        p.target_percent = 60;
        p.max_target_percent = 50;
        assert!(matches!(
            decode_ic_parameters(&encode_ic_parameters(&p)),
            Err(RecordError::Value { tag: 0xDF17, .. })
        ));
        let mut p = base.clone();
        p.random_threshold_fen = 10;
        p.floor_limit_fen = 5;
        assert!(matches!(
            decode_ic_parameters(&encode_ic_parameters(&p)),
            Err(RecordError::Value { tag: 0xDF15, .. })
        ));
        let record = encode_ic_parameters(&base);
        let truncated = &record[..record.len() - 1];
        assert!(decode_ic_parameters(truncated).is_err());
        assert_eq!(
            decode_ic_parameters(&encode_object(0x9F06, &[0xA0; 7])),
            Err(RecordError::Missing(0x9F09))
        );
        let bad_percent = [record.clone(), encode_object(0xDF16, &[0xA0])].concat();
        assert!(decode_ic_parameters(&bad_percent).is_err());
    }

    #[test]
    fn an_unknown_aid_gets_a_label_and_the_default_tdol() {
        let mut p = IcParameters::from_aid_params(&default_aids()[0]);
        p.aid = hex::decode("A0000009990101").unwrap();
        let row = p.to_aid_params();
        assert_eq!(row.label, "AID A0000009990101");
        assert!(!row.default_tdol.is_empty());
    }
}
