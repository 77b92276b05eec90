//! Offline data authentication for PBOC 3.0 SM cards (JR/T 0025.17, the SM2 counterpart of
//! EMV Book 2): certificates and signed data carry an SM2 signature (r || s, 64 bytes) over
//! SM3 with Z computed from the signer's key and the default user id "1234567812345678"
//! (GB/T 32918.2 / GM/T 0009); nothing is recovered, the signed fields are sent in clear.
//!
//! Layouts (offsets in bytes; the signature covers everything before it):
//! - issuer certificate (90), format 12: format, issuer identifier (4), expiry MMYY (2),
//!   serial (3), signature algorithm 04, parameter index 00, key length 40, key x || y (64),
//!   signature by the CA key;
//! - ICC certificate (9F46), format 14: format, PAN (10), expiry (2), serial (3), 04, 00, 40,
//!   key (64), signature by the issuer key over the fields and the static data to authenticate;
//! - signed static data (93), format 13: format, 04, DAC (2), signature over the fields and the
//!   static data to authenticate;
//! - signed dynamic data (9F4B), format 15: format, 04, length of ICC dynamic data, the data,
//!   signature over the fields and the terminal dynamic data (DDOL values).

use std::fmt;

use sm2::dsa::signature::Verifier;
use sm2::dsa::{Signature, VerifyingKey};
use sm3::{Digest, Sm3};

use super::ca_keys::{CaKeyAlgorithm, Rid};
use super::certs::required;
use super::error::{OdaError, Signed};
use super::recover::{
    certificate_pan_matches, check_expiry, issuer_identifier_matches, transaction_month,
};
use super::{CardTags, OdaTerminal, tags};

/// The default SM2 user id (GM/T 0009 / GB/T 35276) PBOC uses for every signer.
pub const DEFAULT_USER_ID: &str = "1234567812345678";
/// PBOC's algorithm indicator for SM2 in certificates and signed data.
pub const SM2_ALGORITHM: u8 = 0x04;
const SIGNATURE_LEN: usize = 64;
const KEY_LEN: usize = 64;

/// SM3 over the concatenation of `parts` (RustCrypto `sm3`).
pub fn sm3_digest(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sm3::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// An SM2 public key recovered from a certificate.
#[derive(Clone, PartialEq, Eq)]
pub struct Sm2PublicKey {
    /// The point x || y (64 bytes).
    pub point: Vec<u8>,
    pub expiry_mmyy: [u8; 2],
    pub serial: [u8; 3],
}

impl fmt::Debug for Sm2PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Sm2PublicKey(expires {}, serial {})",
            hex::encode_upper(self.expiry_mmyy),
            hex::encode_upper(self.serial)
        )
    }
}

/// Verifies an SM2 signature (r || s) by the key `point` (x || y) over `parts` joined.
pub fn sm2_verify(point: &[u8], parts: &[&[u8]], signature: &[u8]) -> bool {
    if point.len() != KEY_LEN || signature.len() != SIGNATURE_LEN {
        return false;
    }
    let mut sec1 = Vec::with_capacity(65);
    sec1.push(0x04);
    sec1.extend_from_slice(point);
    let Ok(key) = VerifyingKey::from_sec1_bytes(DEFAULT_USER_ID, &sec1) else {
        return false;
    };
    let Ok(sig) = Signature::from_slice(signature) else {
        return false;
    };
    let message = parts.concat();
    key.verify(&message, &sig).is_ok()
}

/// Splits signed data into the signed fields and the trailing 64-byte signature.
fn split_signed(data: &[u8], min_fields: usize, what: Signed) -> Result<(&[u8], &[u8]), OdaError> {
    if data.len() < min_fields + SIGNATURE_LEN {
        return Err(OdaError::Length {
            what,
            len: data.len(),
            expected: min_fields + SIGNATURE_LEN,
        });
    }
    Ok(data.split_at(data.len() - SIGNATURE_LEN))
}

fn check_format(fields: &[u8], format: u8, what: Signed) -> Result<(), OdaError> {
    match fields.first() {
        Some(&f) if f == format => Ok(()),
        found => Err(OdaError::Format {
            what,
            expected: format,
            found: found.copied().unwrap_or(0),
        }),
    }
}

/// The key fields shared by both certificates: algorithm (04), parameter index, length 40, key.
fn certificate_key(fields: &[u8], at: usize, what: Signed) -> Result<Vec<u8>, OdaError> {
    let (alg, len) = (fields[at], fields[at + 2]);
    if alg != SM2_ALGORITHM {
        return Err(OdaError::Algorithm {
            what,
            hash: 0x07,
            key: alg,
        });
    }
    if usize::from(len) != KEY_LEN {
        return Err(OdaError::KeyLayout { what });
    }
    Ok(fields[at + 3..at + 3 + KEY_LEN].to_vec())
}

fn txn_month(terminal: &OdaTerminal<'_>, what: Signed) -> Result<(u32, u32), OdaError> {
    transaction_month(terminal.transaction_date).ok_or(OdaError::Date { what })
}

/// Verifies the issuer certificate (90, format 12) under the SM2 CA key named by RID and 8F.
pub fn sm2_recover_issuer_key(
    terminal: &OdaTerminal<'_>,
    rid: Rid,
    card: &impl CardTags,
) -> Result<Sm2PublicKey, OdaError> {
    const WHAT: Signed = Signed::IssuerCertificate;
    let index = match required(card, tags::CA_PUBLIC_KEY_INDEX)? {
        [i] => *i,
        _ => {
            return Err(OdaError::IccDataMissing {
                tag: tags::CA_PUBLIC_KEY_INDEX,
            });
        }
    };
    let ca = terminal
        .ca_keys
        .get(rid, index)
        .filter(|k| k.algorithm == CaKeyAlgorithm::Sm2)
        .ok_or(OdaError::CaKeyMissing { rid, index })?;
    let certificate = required(card, tags::ISSUER_PK_CERTIFICATE)?;
    let pan = required(card, tags::PAN)?;
    let (fields, signature) = split_signed(certificate, 13 + KEY_LEN, WHAT)?;
    if fields.len() != 13 + KEY_LEN {
        return Err(OdaError::KeyLayout { what: WHAT });
    }
    check_format(fields, 0x12, WHAT)?;
    if !sm2_verify(&ca.modulus, &[fields], signature) {
        return Err(OdaError::Signature { what: WHAT });
    }
    if !issuer_identifier_matches(&fields[1..5], pan) {
        return Err(OdaError::IssuerIdentifier);
    }
    check_expiry(&fields[5..7], txn_month(terminal, WHAT)?, WHAT)?;
    let serial = [fields[7], fields[8], fields[9]];
    if terminal.revocations.is_revoked(rid, index, serial) {
        return Err(OdaError::Revoked { serial });
    }
    Ok(Sm2PublicKey {
        point: certificate_key(fields, 10, WHAT)?,
        expiry_mmyy: [fields[5], fields[6]],
        serial,
    })
}

/// Verifies the ICC certificate (9F46, format 14) under the issuer's SM2 key; the signature
/// also covers the static data to authenticate.
pub fn sm2_recover_icc_key(
    terminal: &OdaTerminal<'_>,
    issuer: &Sm2PublicKey,
    card: &impl CardTags,
    static_data: &[u8],
) -> Result<Sm2PublicKey, OdaError> {
    const WHAT: Signed = Signed::IccCertificate;
    let certificate = required(card, tags::ICC_PK_CERTIFICATE)?;
    let pan = required(card, tags::PAN)?;
    let (fields, signature) = split_signed(certificate, 19 + KEY_LEN, WHAT)?;
    if fields.len() != 19 + KEY_LEN {
        return Err(OdaError::KeyLayout { what: WHAT });
    }
    check_format(fields, 0x14, WHAT)?;
    if !sm2_verify(&issuer.point, &[fields, static_data], signature) {
        return Err(OdaError::Signature { what: WHAT });
    }
    if !certificate_pan_matches(&fields[1..11], pan) {
        return Err(OdaError::PanMismatch);
    }
    check_expiry(&fields[11..13], txn_month(terminal, WHAT)?, WHAT)?;
    Ok(Sm2PublicKey {
        point: certificate_key(fields, 16, WHAT)?,
        expiry_mmyy: [fields[11], fields[12]],
        serial: [fields[13], fields[14], fields[15]],
    })
}

/// SM2 static data authentication: the issuer certificate, then 93 (format 13) over the
/// static data to authenticate. Returns the data authentication code.
pub fn sm2_verify_sda(
    terminal: &OdaTerminal<'_>,
    rid: Rid,
    card: &impl CardTags,
    static_data: &[u8],
) -> Result<[u8; 2], OdaError> {
    const WHAT: Signed = Signed::StaticData;
    let issuer = sm2_recover_issuer_key(terminal, rid, card)?;
    let ssad = required(card, tags::SIGNED_STATIC_DATA)?;
    let (fields, signature) = split_signed(ssad, 4, WHAT)?;
    if fields.len() != 4 {
        return Err(OdaError::KeyLayout { what: WHAT });
    }
    check_format(fields, 0x13, WHAT)?;
    if fields[1] != SM2_ALGORITHM {
        return Err(OdaError::Algorithm {
            what: WHAT,
            hash: 0x07,
            key: fields[1],
        });
    }
    if !sm2_verify(&issuer.point, &[fields, static_data], signature) {
        return Err(OdaError::Signature { what: WHAT });
    }
    Ok([fields[2], fields[3]])
}

/// SM2 dynamic data authentication: the SDAD (format 15) from INTERNAL AUTHENTICATE under the
/// ICC key, over the DDOL data. Returns the ICC dynamic number.
pub fn sm2_verify_dda(
    icc: &Sm2PublicKey,
    sdad: &[u8],
    ddol_data: &[u8],
) -> Result<Vec<u8>, OdaError> {
    const WHAT: Signed = Signed::DynamicData;
    let (fields, signature) = split_signed(sdad, 3, WHAT)?;
    check_format(fields, 0x15, WHAT)?;
    if fields[1] != SM2_ALGORITHM {
        return Err(OdaError::Algorithm {
            what: WHAT,
            hash: 0x07,
            key: fields[1],
        });
    }
    let ldd = usize::from(fields[2]);
    if fields.len() != 3 + ldd {
        return Err(OdaError::DynamicData);
    }
    if !sm2_verify(&icc.point, &[fields, ddol_data], signature) {
        return Err(OdaError::Signature { what: WHAT });
    }
    let dynamic = &fields[3..];
    let (&len, rest) = dynamic.split_first().ok_or(OdaError::DynamicData)?;
    let len = usize::from(len);
    if !(2..=8).contains(&len) || rest.len() < len {
        return Err(OdaError::DynamicData);
    }
    Ok(rest[..len].to_vec())
}

#[cfg(test)]
#[path = "sm2_tests.rs"]
mod tests;
