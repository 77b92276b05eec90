//! Public key certificates: the issuer key under a CA key (EMV 4.4 Book 2 5.3 and 6.3) and
//! the ICC key (or ICC PIN encipherment key) under the issuer key (6.4, 7.1).

use std::fmt;

use crate::crypto::IccPinKey;

use super::ca_keys::{CaKeyAlgorithm, Rid, sha1};
use super::error::{OdaError, Signed};
use super::recover::{
    body_and_hash, certificate_pan_matches, check_expiry, hash_matches, issuer_identifier_matches,
    recover_framed, transaction_month,
};
use super::{CardTags, OdaTerminal, tags};

/// An RSA public key recovered from a certificate, with the certificate facts a kernel or a
/// receipt may want.
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveredKey {
    pub modulus: Vec<u8>,
    pub exponent: Vec<u8>,
    /// Certificate expiry, MMYY BCD.
    pub expiry_mmyy: [u8; 2],
    /// Certificate serial number.
    pub serial: [u8; 3],
}

impl fmt::Debug for RecoveredKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RecoveredKey({} bits, e={}, expires {}, serial {})",
            self.modulus.len() * 8,
            hex::encode_upper(&self.exponent),
            hex::encode_upper(self.expiry_mmyy),
            hex::encode_upper(self.serial)
        )
    }
}

/// The issuer public key, recovered and verified.
pub type IssuerPublicKey = RecoveredKey;

/// The ICC public key (or ICC PIN encipherment key), recovered and verified.
pub type IccPublicKey = RecoveredKey;

impl RecoveredKey {
    /// The key in the shape the PED needs for enciphered offline PIN (VERIFY P2 = 88), with the
    /// card's GET CHALLENGE answer.
    pub fn pin_key(&self, challenge: [u8; 8]) -> IccPinKey {
        IccPinKey {
            modulus: self.modulus.clone(),
            exponent: self.exponent.clone(),
            challenge,
        }
    }
}

pub(crate) fn required(card: &impl CardTags, tag: u32) -> Result<&[u8], OdaError> {
    match card.tag(tag) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(OdaError::IccDataMissing { tag }),
    }
}

fn txn_month(terminal: &OdaTerminal<'_>, what: Signed) -> Result<(u32, u32), OdaError> {
    transaction_month(terminal.transaction_date).ok_or(OdaError::Date { what })
}

/// Joins the modulus digits carried in a certificate with the remainder when the key is longer
/// than the certificate can hold (Book 2 5.3 step 11, 6.4 step 10).
fn assemble_modulus(
    in_cert: &[u8],
    key_len: usize,
    remainder: Option<&[u8]>,
    remainder_tag: u32,
    what: Signed,
) -> Result<Vec<u8>, OdaError> {
    if key_len <= in_cert.len() {
        return Ok(in_cert[..key_len].to_vec());
    }
    let rest = remainder.ok_or(OdaError::IccDataMissing { tag: remainder_tag })?;
    if in_cert.len() + rest.len() != key_len {
        return Err(OdaError::KeyLayout { what });
    }
    let mut modulus = in_cert.to_vec();
    modulus.extend_from_slice(rest);
    Ok(modulus)
}

/// Recovers the issuer public key from 90 under the CA key named by RID and 8F, checking
/// header, format 02, trailer, SHA-1 over the certificate || 92 || 9F32, the issuer
/// identifier against the PAN, expiry, revocation and the algorithm indicators.
pub fn recover_issuer_key(
    terminal: &OdaTerminal<'_>,
    rid: Rid,
    card: &impl CardTags,
) -> Result<IssuerPublicKey, OdaError> {
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
        .filter(|k| k.algorithm == CaKeyAlgorithm::Rsa)
        .ok_or(OdaError::CaKeyMissing { rid, index })?;
    let certificate = required(card, tags::ISSUER_PK_CERTIFICATE)?;
    let exponent = required(card, tags::ISSUER_PK_EXPONENT)?;
    let pan = required(card, tags::PAN)?;
    let remainder = card.tag(tags::ISSUER_PK_REMAINDER);

    let x = recover_framed(&ca.modulus, &ca.exponent, certificate, WHAT, 0x02)?;
    let n_ca = x.len();
    // Header 15 bytes + hash 20 + trailer 1: a CA key shorter than 36 bytes cannot sign this.
    if n_ca < 36 + 1 {
        return Err(OdaError::KeyLayout { what: WHAT });
    }
    let (body, hash) = body_and_hash(&x);
    let (hash_alg, key_alg) = (x[11], x[12]);
    if hash_alg != 0x01 || key_alg != 0x01 {
        return Err(OdaError::Algorithm {
            what: WHAT,
            hash: hash_alg,
            key: key_alg,
        });
    }
    // A key longer than the certificate can hold needs 92 (Book 2 5.1: then 92 is mandatory).
    if usize::from(x[13]) > n_ca - 36 && remainder.is_none() {
        return Err(OdaError::IccDataMissing {
            tag: tags::ISSUER_PK_REMAINDER,
        });
    }
    let mut input = body.to_vec();
    input.extend_from_slice(remainder.unwrap_or_default());
    input.extend_from_slice(exponent);
    if !hash_matches(&sha1(&input), hash) {
        return Err(OdaError::Signature { what: WHAT });
    }
    if !issuer_identifier_matches(&x[2..6], pan) {
        return Err(OdaError::IssuerIdentifier);
    }
    check_expiry(&x[6..8], txn_month(terminal, WHAT)?, WHAT)?;
    let serial = [x[8], x[9], x[10]];
    if terminal.revocations.is_revoked(rid, index, serial) {
        return Err(OdaError::Revoked { serial });
    }
    let (key_len, exp_len) = (usize::from(x[13]), usize::from(x[14]));
    if exp_len != exponent.len() || key_len == 0 {
        return Err(OdaError::KeyLayout { what: WHAT });
    }
    let modulus = assemble_modulus(
        &x[15..n_ca - 21],
        key_len,
        remainder,
        tags::ISSUER_PK_REMAINDER,
        WHAT,
    )?;
    Ok(RecoveredKey {
        modulus,
        exponent: exponent.to_vec(),
        expiry_mmyy: [x[6], x[7]],
        serial,
    })
}

/// Which key a format-04 certificate carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IccCertKind {
    /// 9F46 / 9F48 / 9F47; the hash also covers the static data to authenticate.
    Icc,
    /// 9F2D / 9F2F / 9F2E (Book 2 7.1); the hash covers no static data.
    Pin,
}

fn recover_icc_cert(
    terminal: &OdaTerminal<'_>,
    issuer: &IssuerPublicKey,
    card: &impl CardTags,
    static_data: &[u8],
    kind: IccCertKind,
) -> Result<IccPublicKey, OdaError> {
    let (what, cert_tag, rem_tag, exp_tag) = match kind {
        IccCertKind::Icc => (
            Signed::IccCertificate,
            tags::ICC_PK_CERTIFICATE,
            tags::ICC_PK_REMAINDER,
            tags::ICC_PK_EXPONENT,
        ),
        IccCertKind::Pin => (
            Signed::IccPinCertificate,
            tags::ICC_PIN_PK_CERTIFICATE,
            tags::ICC_PIN_PK_REMAINDER,
            tags::ICC_PIN_PK_EXPONENT,
        ),
    };
    let certificate = required(card, cert_tag)?;
    let exponent = required(card, exp_tag)?;
    let pan = required(card, tags::PAN)?;
    let remainder = card.tag(rem_tag);

    let x = recover_framed(&issuer.modulus, &issuer.exponent, certificate, what, 0x04)?;
    let n_i = x.len();
    // Header 21 bytes + hash 20 + trailer 1.
    if n_i < 42 + 1 {
        return Err(OdaError::KeyLayout { what });
    }
    let (body, hash) = body_and_hash(&x);
    let (hash_alg, key_alg) = (x[17], x[18]);
    if hash_alg != 0x01 || key_alg != 0x01 {
        return Err(OdaError::Algorithm {
            what,
            hash: hash_alg,
            key: key_alg,
        });
    }
    if usize::from(x[19]) > n_i - 42 && remainder.is_none() {
        return Err(OdaError::IccDataMissing { tag: rem_tag });
    }
    let mut input = body.to_vec();
    input.extend_from_slice(remainder.unwrap_or_default());
    input.extend_from_slice(exponent);
    if kind == IccCertKind::Icc {
        input.extend_from_slice(static_data);
    }
    if !hash_matches(&sha1(&input), hash) {
        return Err(OdaError::Signature { what });
    }
    if !certificate_pan_matches(&x[2..12], pan) {
        return Err(OdaError::PanMismatch);
    }
    check_expiry(&x[12..14], txn_month(terminal, what)?, what)?;
    let (key_len, exp_len) = (usize::from(x[19]), usize::from(x[20]));
    if exp_len != exponent.len() || key_len == 0 || key_len > n_i {
        return Err(OdaError::KeyLayout { what });
    }
    let modulus = assemble_modulus(&x[21..n_i - 21], key_len, remainder, rem_tag, what)?;
    Ok(RecoveredKey {
        modulus,
        exponent: exponent.to_vec(),
        expiry_mmyy: [x[12], x[13]],
        serial: [x[14], x[15], x[16]],
    })
}

/// Recovers the ICC public key from 9F46 (with 9F48, 9F47) under the issuer key. The hash
/// covers the static data to authenticate (the records flagged for ODA, and the AIP when
/// 9F4A lists it), which the kernel assembles.
pub fn recover_icc_key(
    terminal: &OdaTerminal<'_>,
    issuer: &IssuerPublicKey,
    card: &impl CardTags,
    static_data: &[u8],
) -> Result<IccPublicKey, OdaError> {
    recover_icc_cert(terminal, issuer, card, static_data, IccCertKind::Icc)
}

/// Recovers the ICC PIN encipherment public key from 9F2D (with 9F2F, 9F2E), when the card
/// has a separate key for enciphered PIN (Book 2 7.1).
pub fn recover_icc_pin_key(
    terminal: &OdaTerminal<'_>,
    issuer: &IssuerPublicKey,
    card: &impl CardTags,
) -> Result<IccPublicKey, OdaError> {
    recover_icc_cert(terminal, issuer, card, &[], IccCertKind::Pin)
}
