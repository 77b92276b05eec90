//! The pieces every certificate check shares: the RSA public operation (RustCrypto `rsa`,
//! hazmat), recovery framing, dates and the PAN comparisons.

use rsa::BoxedUint;
use rsa::PublicKey;
use rsa::hazmat::rsa_encrypt;

use super::error::{OdaError, Signed};

/// Keys shorter than this are not EMV keys (the smallest CA key was 512 bits in 1990s test
/// sets; ICC keys are at least 512 bits in every scheme we know of).
const MIN_MODULUS_BITS: usize = 512;
/// EMV keys are at most 1984 bits; 2048 leaves room for test keys.
const MAX_MODULUS_BITS: usize = 2048;

/// The RSA public operation `input^e mod n` of a card or CA key, as a byte string the length
/// of the modulus. `input` must be exactly as long as the modulus and numerically below it
/// (Book 2 A2.1: the signature is a number modulo n).
pub(crate) fn rsa_public(
    modulus: &[u8],
    exponent: &[u8],
    input: &[u8],
    what: Signed,
) -> Result<Vec<u8>, OdaError> {
    if input.len() != modulus.len() {
        return Err(OdaError::Length {
            what,
            len: input.len(),
            expected: modulus.len(),
        });
    }
    let bits = u32::try_from(modulus.len() * 8).map_err(|_| OdaError::Recovery { what })?;
    let n = BoxedUint::from_be_slice(modulus, bits).map_err(|_| OdaError::Recovery { what })?;
    let e = BoxedUint::from_be_slice(exponent, 64).map_err(|_| OdaError::Recovery { what })?;
    let key = PublicKey::new_with_size_limits(n.clone(), e, MIN_MODULUS_BITS..=MAX_MODULUS_BITS)
        .map_err(|_| OdaError::Recovery { what })?;
    let m = BoxedUint::from_be_slice(input, bits).map_err(|_| OdaError::Recovery { what })?;
    if m >= n {
        return Err(OdaError::Recovery { what });
    }
    let out = rsa_encrypt(&key, &m).map_err(|_| OdaError::Recovery { what })?;
    let bytes = out.to_be_bytes();
    // The integer is as wide as the modulus' precision, which may round up to a limb.
    let start = bytes.len().saturating_sub(modulus.len());
    Ok(bytes[start..].to_vec())
}

/// Recovers a signature and checks the ISO 9796-2 frame: header 6A, trailer BC, format byte.
pub(crate) fn recover_framed(
    modulus: &[u8],
    exponent: &[u8],
    signature: &[u8],
    what: Signed,
    format: u8,
) -> Result<Vec<u8>, OdaError> {
    let x = rsa_public(modulus, exponent, signature, what)?;
    // 6A, format, hash (20) and BC at least; every EMV key is far longer.
    if x.len() < 23 || x.first() != Some(&0x6A) || x.last() != Some(&0xBC) {
        return Err(OdaError::Recovery { what });
    }
    if x[1] != format {
        return Err(OdaError::Format {
            what,
            expected: format,
            found: x[1],
        });
    }
    Ok(x)
}

/// Splits a recovered block into the part the hash covers (format byte to just before the
/// hash) and the 20-byte hash.
pub(crate) fn body_and_hash(x: &[u8]) -> (&[u8], &[u8]) {
    let n = x.len();
    (&x[1..n - 21], &x[n - 21..n - 1])
}

/// Constant-time comparison of a recomputed hash (lengths are public).
pub(crate) fn hash_matches(a: &[u8], b: &[u8]) -> bool {
    crate::crypto::mac::constant_time_eq(a, b)
}

fn bcd_value(b: u8) -> Option<u32> {
    let (hi, lo) = (b >> 4, b & 0x0F);
    (hi <= 9 && lo <= 9).then_some(u32::from(hi) * 10 + u32::from(lo))
}

/// YY to a four-digit year with the EMV window (Book 4 6.7.3: 00–49 is 20YY, 50–99 is 19YY).
fn full_year(yy: u32) -> u32 {
    if yy < 50 { 2000 + yy } else { 1900 + yy }
}

/// The transaction date (9A, YYMMDD BCD) as (year, month).
pub(crate) fn transaction_month(date_9a: [u8; 3]) -> Option<(u32, u32)> {
    let yy = bcd_value(date_9a[0])?;
    let mm = bcd_value(date_9a[1])?;
    let dd = bcd_value(date_9a[2])?;
    ((1..=12).contains(&mm) && (1..=31).contains(&dd)).then_some((full_year(yy), mm))
}

/// A certificate's MMYY expiry: valid through the last day of that month (Book 2 5.3 step 7).
pub(crate) fn check_expiry(mmyy: &[u8], txn: (u32, u32), what: Signed) -> Result<(), OdaError> {
    let (mm, yy) = match mmyy {
        [m, y] => (
            bcd_value(*m).ok_or(OdaError::Date { what })?,
            bcd_value(*y).ok_or(OdaError::Date { what })?,
        ),
        _ => return Err(OdaError::Date { what }),
    };
    if !(1..=12).contains(&mm) {
        return Err(OdaError::Date { what });
    }
    if (full_year(yy), mm) < txn {
        return Err(OdaError::Expired {
            what,
            mmyy: hex::encode_upper(mmyy),
        });
    }
    Ok(())
}

/// The digits of a cn field (PAN 5A, issuer identifier): nibbles up to the first F pad.
pub(crate) fn cn_digits(field: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(field.len() * 2);
    let mut padded = false;
    for nibble in field.iter().flat_map(|b| [b >> 4, b & 0x0F]) {
        match nibble {
            0..=9 if !padded => out.push(nibble),
            0x0F => padded = true,
            _ => return None,
        }
    }
    Some(out)
}

/// Issuer identifier (3 to 8 digits, F padded) against the leftmost PAN digits (Book 2 5.3
/// step 6).
pub(crate) fn issuer_identifier_matches(identifier: &[u8], pan_5a: &[u8]) -> bool {
    match (cn_digits(identifier), cn_digits(pan_5a)) {
        (Some(id), Some(pan)) => (3..=8).contains(&id.len()) && pan.starts_with(&id),
        _ => false,
    }
}

/// The PAN in an ICC certificate (10 bytes, F padded) against the card's 5A (Book 2 6.4 step 7).
pub(crate) fn certificate_pan_matches(cert_pan: &[u8], pan_5a: &[u8]) -> bool {
    match (cn_digits(cert_pan), cn_digits(pan_5a)) {
        (Some(a), Some(b)) => !a.is_empty() && a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_is_the_end_of_the_month_with_the_emv_year_window() {
        let txn = transaction_month([0x26, 0x12, 0x04]).unwrap();
        assert_eq!(txn, (2026, 12));
        assert!(check_expiry(&[0x12, 0x26], txn, Signed::IssuerCertificate).is_ok());
        assert!(check_expiry(&[0x01, 0x27], txn, Signed::IssuerCertificate).is_ok());
        assert!(matches!(
            check_expiry(&[0x11, 0x26], txn, Signed::IssuerCertificate),
            Err(OdaError::Expired { .. })
        ));
        // 99 is 1999, long gone; 49 is 2049.
        assert!(check_expiry(&[0x12, 0x99], txn, Signed::IccCertificate).is_err());
        assert!(check_expiry(&[0x12, 0x49], txn, Signed::IccCertificate).is_ok());
        assert!(matches!(
            check_expiry(&[0x13, 0x30], txn, Signed::IccCertificate),
            Err(OdaError::Date { .. })
        ));
        assert!(transaction_month([0x26, 0x13, 0x01]).is_none());
        assert!(transaction_month([0x2A, 0x01, 0x01]).is_none());
    }

    #[test]
    fn issuer_identifier_and_pan_rules() {
        let pan = [0x62, 0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x34, 0x56, 0x7F];
        assert!(issuer_identifier_matches(&[0x62, 0x12, 0x34, 0xFF], &pan));
        assert!(issuer_identifier_matches(&[0x62, 0x12, 0x34, 0x56], &pan));
        assert!(!issuer_identifier_matches(&[0x62, 0x13, 0xFF, 0xFF], &pan));
        // Fewer than 3 digits is not an identifier; a digit after the pad is malformed.
        assert!(!issuer_identifier_matches(&[0x62, 0xFF, 0xFF, 0xFF], &pan));
        assert!(!issuer_identifier_matches(&[0x62, 0xF1, 0xFF, 0xFF], &pan));
        let mut cert_pan = [0xFF; 10];
        cert_pan[..10].copy_from_slice(&pan);
        assert!(certificate_pan_matches(&cert_pan, &pan));
        assert!(!certificate_pan_matches(
            &[0x62, 0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x34, 0x56, 0xFF],
            &pan
        ));
    }

    #[test]
    fn rsa_input_must_fit_the_modulus() {
        let modulus = vec![0xC5; 64];
        assert!(matches!(
            rsa_public(&modulus, &[3], &[0; 63], Signed::StaticData),
            Err(OdaError::Length { .. })
        ));
        assert!(matches!(
            rsa_public(&modulus, &[3], &[0xFF; 64], Signed::StaticData),
            Err(OdaError::Recovery { .. })
        ));
        // 2^3 mod n for a small base: the public operation itself.
        let mut two = vec![0u8; 64];
        two[63] = 2;
        let out = rsa_public(&modulus, &[3], &two, Signed::StaticData).unwrap();
        assert_eq!(out.len(), 64);
        assert_eq!(out[63], 8);
        assert!(out[..63].iter().all(|b| *b == 0));
    }
}
