//! Signed application data: SDA (EMV 4.4 Book 2 5.4), DDA (6.5) and CDA (6.6).

use super::ca_keys::{Rid, sha1};
use super::certs::{IccPublicKey, IssuerPublicKey, recover_issuer_key, required};
use super::error::{OdaError, Signed};
use super::recover::{body_and_hash, hash_matches, recover_framed};
use super::{CardTags, OdaTerminal, tags};

/// What a successful SDA yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdaOutcome {
    /// Data authentication code (9F45), kept by the kernel for the issuer.
    pub data_authentication_code: [u8; 2],
    pub issuer_key: IssuerPublicKey,
}

/// Static data authentication: the issuer key from 90, then the signed static application
/// data 93 (format 03) over the static data to authenticate.
pub fn verify_sda(
    terminal: &OdaTerminal<'_>,
    rid: Rid,
    card: &impl CardTags,
    static_data: &[u8],
) -> Result<SdaOutcome, OdaError> {
    const WHAT: Signed = Signed::StaticData;
    let issuer_key = recover_issuer_key(terminal, rid, card)?;
    let ssad = required(card, tags::SIGNED_STATIC_DATA)?;
    let x = recover_framed(&issuer_key.modulus, &issuer_key.exponent, ssad, WHAT, 0x03)?;
    // Header, format, hash algorithm, DAC (2), hash (20), trailer.
    if x.len() < 26 {
        return Err(OdaError::KeyLayout { what: WHAT });
    }
    if x[2] != 0x01 {
        return Err(OdaError::Algorithm {
            what: WHAT,
            hash: x[2],
            key: 0x01,
        });
    }
    let (body, hash) = body_and_hash(&x);
    let mut input = body.to_vec();
    input.extend_from_slice(static_data);
    if !hash_matches(&sha1(&input), hash) {
        return Err(OdaError::Signature { what: WHAT });
    }
    Ok(SdaOutcome {
        data_authentication_code: [x[3], x[4]],
        issuer_key,
    })
}

/// Recovers signed dynamic application data (format 05) and checks its hash over the
/// terminal's dynamic data; returns the ICC dynamic data field.
fn recover_sdad(
    icc: &IccPublicKey,
    sdad: &[u8],
    terminal_data: &[u8],
) -> Result<Vec<u8>, OdaError> {
    recover_sdad_format(icc, sdad, terminal_data, 0x05)
}

fn recover_sdad_format(
    icc: &IccPublicKey,
    sdad: &[u8],
    terminal_data: &[u8],
    format: u8,
) -> Result<Vec<u8>, OdaError> {
    const WHAT: Signed = Signed::DynamicData;
    let x = recover_framed(&icc.modulus, &icc.exponent, sdad, WHAT, format)?;
    let n = x.len();
    if n < 25 {
        return Err(OdaError::KeyLayout { what: WHAT });
    }
    if x[2] != 0x01 {
        return Err(OdaError::Algorithm {
            what: WHAT,
            hash: x[2],
            key: 0x01,
        });
    }
    let (body, hash) = body_and_hash(&x);
    let mut input = body.to_vec();
    input.extend_from_slice(terminal_data);
    if !hash_matches(&sha1(&input), hash) {
        return Err(OdaError::Signature { what: WHAT });
    }
    let ldd = usize::from(x[3]);
    if ldd > n - 25 {
        return Err(OdaError::DynamicData);
    }
    Ok(x[4..4 + ldd].to_vec())
}

/// The ICC dynamic number at the start of the ICC dynamic data (length byte, 2 to 8 bytes).
fn dynamic_number(icc_dynamic_data: &[u8]) -> Result<(Vec<u8>, &[u8]), OdaError> {
    let (&len, rest) = icc_dynamic_data
        .split_first()
        .ok_or(OdaError::DynamicData)?;
    let len = usize::from(len);
    if !(2..=8).contains(&len) || rest.len() < len {
        return Err(OdaError::DynamicData);
    }
    Ok((rest[..len].to_vec(), &rest[len..]))
}

/// What a successful DDA yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DdaOutcome {
    /// ICC dynamic number (9F4C).
    pub icc_dynamic_number: Vec<u8>,
}

/// Dynamic data authentication: the SDAD from INTERNAL AUTHENTICATE (9F4B) under the ICC
/// key, its hash over the DDOL data the terminal sent.
pub fn verify_dda(
    icc: &IccPublicKey,
    sdad: &[u8],
    ddol_data: &[u8],
) -> Result<DdaOutcome, OdaError> {
    let dynamic = recover_sdad(icc, sdad, ddol_data)?;
    let (icc_dynamic_number, _) = dynamic_number(&dynamic)?;
    Ok(DdaOutcome { icc_dynamic_number })
}

/// Fast DDA of the contactless quick kernels (Visa VCPS 2.2 Annex, UnionPay qPBOC): the
/// signature from the GPO answer or a record, over the fDDA terminal data (9F37, or 9F37 ‖
/// 9F02 ‖ 5F2A ‖ 9F69 for fDDA version 01). Visa signs it as signed data format 95; qPBOC
/// cards as the DDA format 05; both are accepted.
pub fn verify_fdda(
    icc: &IccPublicKey,
    sdad: &[u8],
    terminal_data: &[u8],
) -> Result<DdaOutcome, OdaError> {
    let dynamic = recover_sdad_format(icc, sdad, terminal_data, 0x95)
        .or_else(|_| recover_sdad_format(icc, sdad, terminal_data, 0x05))?;
    let (icc_dynamic_number, _) = dynamic_number(&dynamic)?;
    Ok(DdaOutcome { icc_dynamic_number })
}

/// The GENERATE AC answer facts CDA checks.
#[derive(Debug, Clone, Copy)]
pub struct CdaInput<'a> {
    /// Signed dynamic application data (9F4B) from the GENERATE AC answer.
    pub sdad: &'a [u8],
    /// Cryptogram information data (9F27) from the same answer.
    pub cid: u8,
    /// The unpredictable number (9F37) the terminal sent in this GENERATE AC.
    pub unpredictable_number: &'a [u8],
    /// The transaction data hashed into the signature: see [`cda_transaction_data`].
    pub transaction_data: &'a [u8],
}

/// What a successful CDA yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CdaOutcome {
    pub icc_dynamic_number: Vec<u8>,
    /// CID as signed by the card.
    pub cid: u8,
    /// The application cryptogram recovered from the signature (the card sends no 9F26 in
    /// the clear with CDA).
    pub cryptogram: [u8; 8],
}

/// Combined DDA/application cryptogram generation (Book 2 6.6.2): recover the SDAD from the
/// GENERATE AC answer, check its hash over the unpredictable number, that the signed CID is
/// the CID the card returned, and the transaction data hash code.
pub fn verify_cda(icc: &IccPublicKey, input: &CdaInput<'_>) -> Result<CdaOutcome, OdaError> {
    let dynamic = recover_sdad(icc, input.sdad, input.unpredictable_number)?;
    let (icc_dynamic_number, rest) = dynamic_number(&dynamic)?;
    // CID (1), cryptogram (8), transaction data hash code (20).
    if rest.len() < 29 {
        return Err(OdaError::DynamicData);
    }
    let signed_cid = rest[0];
    if signed_cid != input.cid {
        return Err(OdaError::CidMismatch {
            card: input.cid,
            signed: signed_cid,
        });
    }
    let mut cryptogram = [0u8; 8];
    cryptogram.copy_from_slice(&rest[1..9]);
    if !hash_matches(&sha1(input.transaction_data), &rest[9..29]) {
        return Err(OdaError::TransactionDataHash);
    }
    Ok(CdaOutcome {
        icc_dynamic_number,
        cid: signed_cid,
        cryptogram,
    })
}

/// One top-level BER-TLV object as raw bytes (tag, length and value as the card sent them).
fn next_raw_tlv(bytes: &[u8]) -> Result<(u32, &[u8], &[u8]), OdaError> {
    let mut i = 0;
    let first = *bytes.first().ok_or(OdaError::DynamicData)?;
    let mut tag = u32::from(first);
    i += 1;
    if first & 0x1F == 0x1F {
        loop {
            let b = *bytes.get(i).ok_or(OdaError::DynamicData)?;
            tag = (tag << 8) | u32::from(b);
            i += 1;
            if b & 0x80 == 0 {
                break;
            }
            if i > 3 {
                return Err(OdaError::DynamicData);
            }
        }
    }
    let l0 = *bytes.get(i).ok_or(OdaError::DynamicData)?;
    i += 1;
    let len = match l0 {
        0..=0x7F => usize::from(l0),
        0x81 => {
            let v = usize::from(*bytes.get(i).ok_or(OdaError::DynamicData)?);
            i += 1;
            v
        }
        0x82 => {
            let hi = usize::from(*bytes.get(i).ok_or(OdaError::DynamicData)?);
            let lo = usize::from(*bytes.get(i + 1).ok_or(OdaError::DynamicData)?);
            i += 2;
            (hi << 8) | lo
        }
        _ => return Err(OdaError::DynamicData),
    };
    let end = i.checked_add(len).ok_or(OdaError::DynamicData)?;
    if end > bytes.len() {
        return Err(OdaError::DynamicData);
    }
    Ok((tag, &bytes[..end], &bytes[end..]))
}

/// The input of the CDA transaction data hash code (Book 2 6.6.1): the PDOL values sent in
/// GET PROCESSING OPTIONS, the CDOL1 values (and, for the second GENERATE AC, the CDOL2 values)
/// sent in GENERATE AC, then every data object of the GENERATE AC answer (the contents of
/// template 77) in the order received, tag and length included, except 9F4B.
pub fn cda_transaction_data(
    pdol_values: &[u8],
    cdol_values: &[&[u8]],
    generate_ac_template: &[u8],
) -> Result<Vec<u8>, OdaError> {
    let mut out = pdol_values.to_vec();
    for values in cdol_values {
        out.extend_from_slice(values);
    }
    let mut rest = generate_ac_template;
    while !rest.is_empty() {
        let (tag, raw, tail) = next_raw_tlv(rest)?;
        if tag != tags::SIGNED_DYNAMIC_DATA {
            out.extend_from_slice(raw);
        }
        rest = tail;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transaction_data_keeps_raw_objects_and_drops_the_sdad() {
        let template = hex::decode("9F2701809F360200419F4B03AABBCC9F10020102").unwrap();
        let data = cda_transaction_data(&[0x11], &[&[0x22, 0x33]], &template).unwrap();
        assert_eq!(
            hex::encode_upper(data),
            "1122339F2701809F360200419F10020102"
        );
        // Truncated or oversize objects are errors, never a panic.
        assert!(cda_transaction_data(&[], &[], &[0x9F]).is_err());
        assert!(cda_transaction_data(&[], &[], &[0x9F, 0x27, 0x05, 0x01]).is_err());
        assert!(cda_transaction_data(&[], &[], &[0x9F, 0x27, 0x84, 1, 1, 1, 1]).is_err());
        assert!(cda_transaction_data(&[], &[], &[0x9F, 0xFF, 0xFF, 0xFF, 0x01, 0x00]).is_err());
        let long = [&[0x9F, 0x4B, 0x81, 0x80][..], &[0u8; 0x80]].concat();
        assert!(cda_transaction_data(&[], &[], &long).unwrap().is_empty());
    }

    #[test]
    fn dynamic_number_bounds() {
        assert!(dynamic_number(&[]).is_err());
        assert!(dynamic_number(&[1, 0xAA]).is_err());
        assert!(dynamic_number(&[4, 1, 2, 3]).is_err());
        let (n, rest) = dynamic_number(&[2, 0xAB, 0xCD, 0x80]).unwrap();
        assert_eq!(n, [0xAB, 0xCD]);
        assert_eq!(rest, [0x80]);
    }
}
