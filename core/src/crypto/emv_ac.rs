//! EMV application cryptograms: the ICC master key an issuer derives for each card, the
//! per-transaction session key, the ARQC/TC/AAC the card computes, and the ARPC the issuer
//! answers with (EMV 4.4 Book 2 section 8 and Annex A1).
//!
//! Two block-cipher families share one API; the key's algorithm picks the rule:
//! - TDES (8-byte blocks): the EMV rules as written in Book 2.
//! - SM4 (16-byte blocks), for UnionPay SM cards (PBOC 3.0 / JR/T 0025.17): the same
//!   constructions applied to one 16-byte block, see each function.
//!
//! The kernel, the card simulator and the acquirer simulator all call these, so a cryptogram
//! the simulated card makes is checked by exactly the rule the simulated issuer uses.

use zeroize::{Zeroize, Zeroizing};

use super::block::{KeyedCipher, xor_into};
use super::mac::constant_time_eq;
use super::{CryptoError, KeyAlgorithm, SecretKey};

/// Why an EMV cryptogram operation refused its input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EmvAcError {
    #[error("PAN must be 1 to 19 decimal digits, got {len} characters")]
    PanLength { len: usize },
    #[error("PAN has a non-digit at offset {offset}")]
    PanDigit { offset: usize },
    #[error("PAN sequence number {value:#04x} is not two BCD digits")]
    PanSequenceNumber { value: u8 },
    #[error("{operation} needs a 16-byte TDES or SM4 key, got {actual} of {len} bytes")]
    KeyType {
        operation: &'static str,
        actual: KeyAlgorithm,
        len: usize,
    },
    #[error("proprietary authentication data is at most 8 bytes, got {len}")]
    ProprietaryDataLength { len: usize },
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

/// The two cipher families EMV cryptograms run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Tdes,
    Sm4,
}

/// Only double-length TDES and SM4 keys are EMV application keys (Book 2 A1.4: the ICC master
/// key and session keys are 16 bytes).
fn family(key: &SecretKey, operation: &'static str) -> Result<Family, EmvAcError> {
    match (key.algorithm(), key.len()) {
        (KeyAlgorithm::Tdes, 16) => Ok(Family::Tdes),
        (KeyAlgorithm::Sm4, 16) => Ok(Family::Sm4),
        (actual, len) => Err(EmvAcError::KeyType {
            operation,
            actual,
            len,
        }),
    }
}

/// Sets each byte to odd parity, as issuers' HSMs output derived DES keys (pyemv does the
/// same); DES ignores the parity bits, so only the printed value changes.
fn adjust_odd_parity(bytes: &mut [u8]) {
    for b in bytes {
        if b.count_ones() % 2 == 0 {
            *b ^= 1;
        }
    }
}

/// The 8 bytes "Y" of Option A: the rightmost 16 digits of PAN || PSN, zero-padded on the
/// left when shorter (Book 2 A1.4.1).
fn option_a_y(pan: &str, psn: Option<u8>) -> Result<[u8; 8], EmvAcError> {
    let pan = pan.trim();
    if pan.is_empty() || pan.len() > 19 {
        return Err(EmvAcError::PanLength { len: pan.len() });
    }
    if let Some(offset) = pan.bytes().position(|b| !b.is_ascii_digit()) {
        return Err(EmvAcError::PanDigit { offset });
    }
    // 5F34 is n2: one BCD byte; an absent PSN counts as 00.
    let psn = psn.unwrap_or(0);
    if psn >> 4 > 9 || psn & 0x0F > 9 {
        return Err(EmvAcError::PanSequenceNumber { value: psn });
    }
    let mut digits: Vec<u8> = pan.bytes().map(|b| b - b'0').collect();
    digits.push(psn >> 4);
    digits.push(psn & 0x0F);
    let tail = &digits[digits.len().saturating_sub(16)..];
    let mut padded = [0u8; 16];
    padded[16 - tail.len()..].copy_from_slice(tail);
    let mut y = [0u8; 8];
    for (i, pair) in padded.chunks_exact(2).enumerate() {
        y[i] = (pair[0] << 4) | pair[1];
    }
    digits.zeroize();
    Ok(y)
}

/// ICC master key derivation, Option A (EMV 4.4 Book 2 A1.4.1), from the issuer master key
/// for the key's purpose (AC, SMI or SMC), the PAN digits and the PAN sequence number as the
/// card holds it in 5F34 (one BCD byte: 0x01 is sequence 01; `None` when the card has none).
///
/// TDES: MK = DES3(IMK)[Y] || DES3(IMK)[Y xor FF..FF], parity adjusted.
/// SM4: MK = SM4(IMK)[Y || (Y xor FF..FF)]: the same 16 input bytes as one SM4 block, which
/// is how PBOC 3.0 part 17 carries the TDES rule over to a 16-byte block cipher.
pub fn derive_icc_master_key(
    imk: &SecretKey,
    pan: &str,
    psn: Option<u8>,
) -> Result<SecretKey, EmvAcError> {
    let fam = family(imk, "ICC master key derivation")?;
    let y = option_a_y(pan, psn)?;
    let mut block = Zeroizing::new([0u8; 16]);
    block[..8].copy_from_slice(&y);
    for (d, s) in block[8..].iter_mut().zip(y) {
        *d = s ^ 0xFF;
    }
    let cipher = KeyedCipher::new(imk)?;
    match fam {
        Family::Tdes => {
            cipher.encrypt_block(&mut block[..8]);
            cipher.encrypt_block(&mut block[8..]);
            adjust_odd_parity(&mut block[..]);
            Ok(SecretKey::new(KeyAlgorithm::Tdes, &block[..])?)
        }
        Family::Sm4 => {
            cipher.encrypt_block(&mut block[..]);
            Ok(SecretKey::new(KeyAlgorithm::Sm4, &block[..])?)
        }
    }
}

/// How the session key for the application cryptogram is derived from the ICC master key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionKeyDerivation {
    /// EMV common session key derivation (Book 2 A1.3.1) with R = ATC || 00..00.
    EmvCommon,
    /// The PBOC 2.0/3.0 rule UnionPay debit/credit cards use (cryptogram version 01, SM
    /// cards likewise): SK = E(MK)[00*6 || ATC] || E(MK)[00*6 || (ATC xor FFFF)]; with SM4
    /// both halves form one 16-byte block.
    Pboc,
}

/// EMV common session key derivation (Book 2 A1.3.1) from an arbitrary diversification value
/// `r` of one cipher block (8 bytes for TDES, 16 for SM4).
///
/// TDES (k = 2n): SK = DES3(MK)[R with byte 3 = F0] || DES3(MK)[R with byte 3 = 0F], parity
/// adjusted. SM4 (k = n): SK = SM4(MK)[R with byte 3 = F0].
pub fn derive_common_session_key(mk: &SecretKey, r: &[u8]) -> Result<SecretKey, EmvAcError> {
    let fam = family(mk, "common session key derivation")?;
    let cipher = KeyedCipher::new(mk)?;
    let n = cipher.block_size();
    if r.len() != n {
        return Err(CryptoError::DataNotBlockAligned {
            len: r.len(),
            block_size: n,
        }
        .into());
    }
    let mut out = Zeroizing::new(vec![0u8; 16]);
    match fam {
        Family::Tdes => {
            out[..8].copy_from_slice(r);
            out[8..].copy_from_slice(r);
            out[2] = 0xF0;
            out[10] = 0x0F;
            cipher.encrypt_block(&mut out[..8]);
            cipher.encrypt_block(&mut out[8..]);
            adjust_odd_parity(&mut out);
            Ok(SecretKey::new(KeyAlgorithm::Tdes, &out)?)
        }
        Family::Sm4 => {
            out.copy_from_slice(r);
            out[2] = 0xF0;
            cipher.encrypt_block(&mut out);
            Ok(SecretKey::new(KeyAlgorithm::Sm4, &out)?)
        }
    }
}

/// The AC session key for the transaction counter `atc` (9F36).
pub fn derive_session_key(
    mk: &SecretKey,
    atc: [u8; 2],
    method: SessionKeyDerivation,
) -> Result<SecretKey, EmvAcError> {
    let fam = family(mk, "session key derivation")?;
    match method {
        SessionKeyDerivation::EmvCommon => {
            let mut r = vec![0u8; if fam == Family::Tdes { 8 } else { 16 }];
            r[..2].copy_from_slice(&atc);
            derive_common_session_key(mk, &r)
        }
        SessionKeyDerivation::Pboc => {
            let cipher = KeyedCipher::new(mk)?;
            let mut out = Zeroizing::new([0u8; 16]);
            out[6..8].copy_from_slice(&atc);
            out[14] = atc[0] ^ 0xFF;
            out[15] = atc[1] ^ 0xFF;
            match fam {
                Family::Tdes => {
                    cipher.encrypt_block(&mut out[..8]);
                    cipher.encrypt_block(&mut out[8..]);
                    Ok(SecretKey::new(KeyAlgorithm::Tdes, &out[..])?)
                }
                Family::Sm4 => {
                    cipher.encrypt_block(&mut out[..]);
                    Ok(SecretKey::new(KeyAlgorithm::Sm4, &out[..])?)
                }
            }
        }
    }
}

/// ISO 9797-1 padding of the cryptogram input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AcPadding {
    /// Method 2 (0x80 then zeros): EMV Book 2 A1.2 and PBOC.
    Emv,
    /// Method 1 (zeros): Visa CVN 10/18 cards.
    Visa,
}

fn pad(data: &[u8], block: usize, padding: AcPadding) -> Vec<u8> {
    let mut out = data.to_vec();
    if padding == AcPadding::Emv {
        out.push(0x80);
    }
    if out.is_empty() {
        out.resize(block, 0);
    }
    let rem = out.len() % block;
    if rem != 0 {
        out.resize(out.len() + block - rem, 0);
    }
    out
}

/// The full MAC block over `data` under a session key.
///
/// TDES: ISO 9797-1 MAC algorithm 3 (single-DES CBC under K_L, last block D(K_R) then E(K_L)),
/// Book 2 A1.2.1. SM4: ISO 9797-1 MAC algorithm 1 (plain CBC-MAC), the UnionPay SM rule.
fn mac_block(sk: &SecretKey, data: &[u8], padding: AcPadding) -> Result<Vec<u8>, EmvAcError> {
    let fam = family(sk, "application cryptogram")?;
    match fam {
        Family::Tdes => {
            let k = sk.expose_secret();
            let left = KeyedCipher::new(&SecretKey::new(KeyAlgorithm::Des, &k[..8])?)?;
            let right = KeyedCipher::new(&SecretKey::new(KeyAlgorithm::Des, &k[8..])?)?;
            let mut padded = pad(data, 8, padding);
            left.cbc_encrypt_in_place(&[0u8; 8], &mut padded)?;
            let mut last = padded[padded.len() - 8..].to_vec();
            right.decrypt_block(&mut last);
            left.encrypt_block(&mut last);
            Ok(last)
        }
        Family::Sm4 => {
            let cipher = KeyedCipher::new(sk)?;
            let mut padded = pad(data, 16, padding);
            cipher.cbc_encrypt_in_place(&[0u8; 16], &mut padded)?;
            Ok(padded[padded.len() - 16..].to_vec())
        }
    }
}

/// The 8-byte application cryptogram (ARQC, TC or AAC; tag 9F26) over the CDOL-selected
/// `data`, with EMV padding (method 2). SM4 keeps the leftmost 8 bytes of the 16-byte MAC.
pub fn application_cryptogram(sk: &SecretKey, data: &[u8]) -> Result<[u8; 8], EmvAcError> {
    application_cryptogram_padded(sk, data, AcPadding::Emv)
}

/// As [`application_cryptogram`] with the padding named.
pub fn application_cryptogram_padded(
    sk: &SecretKey,
    data: &[u8],
    padding: AcPadding,
) -> Result<[u8; 8], EmvAcError> {
    let block = mac_block(sk, data, padding)?;
    let mut out = [0u8; 8];
    out.copy_from_slice(&block[..8]);
    Ok(out)
}

/// Recomputes the cryptogram and compares it with the card's in constant time.
pub fn verify_application_cryptogram(
    sk: &SecretKey,
    data: &[u8],
    cryptogram: &[u8],
) -> Result<bool, EmvAcError> {
    let expected = application_cryptogram(sk, data)?;
    Ok(constant_time_eq(&expected, cryptogram))
}

/// ARPC method 1 (Book 2 8.2.1): ARPC = E(SK)[ARQC xor (ARC || 00..00)], 8 bytes.
/// With SM4 the XOR result is extended with 8 zero bytes to one block and the leftmost 8
/// bytes of the result are the ARPC.
pub fn arpc_method1(sk: &SecretKey, arqc: &[u8; 8], arc: &[u8; 2]) -> Result<[u8; 8], EmvAcError> {
    family(sk, "ARPC method 1")?;
    let cipher = KeyedCipher::new(sk)?;
    let mut y = vec![0u8; cipher.block_size()];
    y[..8].copy_from_slice(arqc);
    xor_into(&mut y[..2], arc);
    cipher.encrypt_block(&mut y);
    let mut out = [0u8; 8];
    out.copy_from_slice(&y[..8]);
    Ok(out)
}

/// ARPC method 2 (Book 2 8.2.2): the leftmost 4 bytes of the MAC (as for the cryptogram)
/// over ARQC || CSU || proprietary authentication data (0 to 8 bytes). Tag 91 then carries
/// ARPC || CSU || proprietary data.
pub fn arpc_method2(
    sk: &SecretKey,
    arqc: &[u8; 8],
    csu: &[u8; 4],
    proprietary: &[u8],
) -> Result<[u8; 4], EmvAcError> {
    if proprietary.len() > 8 {
        return Err(EmvAcError::ProprietaryDataLength {
            len: proprietary.len(),
        });
    }
    let mut input = Vec::with_capacity(20);
    input.extend_from_slice(arqc);
    input.extend_from_slice(csu);
    input.extend_from_slice(proprietary);
    let block = mac_block(sk, &input, AcPadding::Emv)?;
    let mut out = [0u8; 4];
    out.copy_from_slice(&block[..4]);
    Ok(out)
}

#[cfg(test)]
#[path = "emv_ac_tests.rs"]
mod tests;
