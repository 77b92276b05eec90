//! ISO 9564-1 PIN blocks, formats 0, 1, 3 (8 bytes, TDES) and 4 (16 bytes, AES).

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::block::{KeyedCipher, xor_into};
use super::{CryptoError, KeyAlgorithm, RandomSource, SecretKey};

/// The ISO 9564-1 format, named by its control nibble.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PinBlockFormat {
    Iso0,
    Iso1,
    Iso3,
    Iso4,
}

impl PinBlockFormat {
    pub const fn control(self) -> u8 {
        match self {
            Self::Iso0 => 0,
            Self::Iso1 => 1,
            Self::Iso3 => 3,
            Self::Iso4 => 4,
        }
    }

    /// Bytes of the (clear or enciphered) block.
    pub const fn block_len(self) -> usize {
        match self {
            Self::Iso4 => 16,
            _ => 8,
        }
    }
}

/// A plaintext PIN block (formats 0/1/3), or for format 4 the plaintext PIN field.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct ClearPinBlock {
    #[zeroize(skip)]
    format: PinBlockFormat,
    bytes: Vec<u8>,
}

/// A PIN block enciphered under a PIN key; still wiped and redacted, as an offline attack on
/// a 4-digit PIN only needs the block, the PAN and the key.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct EncryptedPinBlock {
    #[zeroize(skip)]
    format: PinBlockFormat,
    bytes: Vec<u8>,
}

impl fmt::Debug for ClearPinBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClearPinBlock({:?} [redacted])", self.format)
    }
}

impl fmt::Debug for EncryptedPinBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EncryptedPinBlock({:?} [redacted])", self.format)
    }
}

fn check_len(format: PinBlockFormat, bytes: &[u8]) -> Result<(), CryptoError> {
    if bytes.len() != format.block_len() {
        return Err(CryptoError::PinBlockLength {
            expected: format.block_len(),
            len: bytes.len(),
        });
    }
    Ok(())
}

fn validate_pin(pin: &str) -> Result<(), CryptoError> {
    if !(4..=12).contains(&pin.len()) {
        return Err(CryptoError::PinLength { len: pin.len() });
    }
    if let Some(offset) = pin.bytes().position(|b| !b.is_ascii_digit()) {
        return Err(CryptoError::PinDigit { offset });
    }
    Ok(())
}

fn validate_pan(
    pan: &str,
    range: std::ops::RangeInclusive<usize>,
    expected: &'static str,
) -> Result<(), CryptoError> {
    if !range.contains(&pan.len()) {
        return Err(CryptoError::PanLength {
            expected,
            len: pan.len(),
        });
    }
    if let Some(offset) = pan.bytes().position(|b| !b.is_ascii_digit()) {
        return Err(CryptoError::PanDigit { offset });
    }
    Ok(())
}

fn set_nibble(buf: &mut [u8], index: usize, value: u8) {
    let byte = &mut buf[index / 2];
    if index.is_multiple_of(2) {
        *byte = (*byte & 0x0F) | (value << 4);
    } else {
        *byte = (*byte & 0xF0) | (value & 0x0F);
    }
}

fn nibble(buf: &[u8], index: usize) -> u8 {
    let byte = buf[index / 2];
    if index.is_multiple_of(2) {
        byte >> 4
    } else {
        byte & 0x0F
    }
}

/// Format 0/3 PAN field: 0000 then the rightmost 12 PAN digits excluding the check digit.
fn pan_field_8(pan: &str) -> Result<[u8; 8], CryptoError> {
    validate_pan(pan, 13..=19, "13 to 19")?;
    let digits = &pan.as_bytes()[pan.len() - 13..pan.len() - 1];
    let mut field = [0u8; 8];
    for (i, d) in digits.iter().enumerate() {
        set_nibble(&mut field, 4 + i, d - b'0');
    }
    Ok(field)
}

/// Format 4 PAN field: length nibble (PAN length - 12, 0 when shorter), PAN right-justified in
/// 12 digits when short, then zero fill to 32 nibbles.
fn pan_field_16(pan: &str) -> Result<[u8; 16], CryptoError> {
    validate_pan(pan, 1..=19, "1 to 19")?;
    let mut field = [0u8; 16];
    let m = pan.len().saturating_sub(12);
    set_nibble(&mut field, 0, m as u8);
    let start = 1 + 12usize.saturating_sub(pan.len());
    for (i, d) in pan.bytes().enumerate() {
        set_nibble(&mut field, start + i, d - b'0');
    }
    Ok(field)
}

/// Random nibbles in 0xA..=0xF without modulo bias (rejection sampling over bytes).
fn random_fill_nibbles(rng: &dyn RandomSource, count: usize) -> Result<Vec<u8>, CryptoError> {
    let mut out = Vec::with_capacity(count);
    let mut pool = [0u8; 16];
    // 252 = 42 * 6: bytes at or above it would favour the first values.
    let mut rounds = 0;
    while out.len() < count {
        rounds += 1;
        if rounds > 64 {
            return Err(CryptoError::RandomFailure);
        }
        rng.fill(&mut pool)?;
        out.extend(
            pool.iter()
                .filter(|b| **b < 252)
                .map(|b| 0xA + b % 6)
                .take(count - out.len()),
        );
    }
    pool.zeroize();
    Ok(out)
}

impl ClearPinBlock {
    /// Builds a clear PIN block. `pan` is needed for formats 0, 3 and 4 (ignored for 1);
    /// `rng` supplies the random fill of formats 1, 3 and 4.
    pub fn encode(
        format: PinBlockFormat,
        pin: &str,
        pan: &str,
        rng: &dyn RandomSource,
    ) -> Result<Self, CryptoError> {
        validate_pin(pin)?;
        let mut bytes = vec![0u8; format.block_len()];
        set_nibble(&mut bytes, 0, format.control());
        set_nibble(&mut bytes, 1, pin.len() as u8);
        for (i, d) in pin.bytes().enumerate() {
            set_nibble(&mut bytes, 2 + i, d - b'0');
        }
        let fill_start = 2 + pin.len();
        match format {
            PinBlockFormat::Iso0 => {
                for i in fill_start..16 {
                    set_nibble(&mut bytes, i, 0xF);
                }
                xor_into(&mut bytes, &pan_field_8(pan)?);
            }
            PinBlockFormat::Iso1 => {
                let mut fill = Zeroizing::new(vec![0u8; 8]);
                rng.fill(&mut fill)?;
                for i in fill_start..16 {
                    set_nibble(&mut bytes, i, nibble(&fill, i));
                }
            }
            PinBlockFormat::Iso3 => {
                let fill = Zeroizing::new(random_fill_nibbles(rng, 16 - fill_start)?);
                for (i, f) in (fill_start..16).zip(fill.iter()) {
                    set_nibble(&mut bytes, i, *f);
                }
                xor_into(&mut bytes, &pan_field_8(pan)?);
            }
            PinBlockFormat::Iso4 => {
                // PAN checked now so a bad PAN fails before any PIN is formatted.
                pan_field_16(pan)?;
                for i in fill_start..16 {
                    set_nibble(&mut bytes, i, 0xA);
                }
                rng.fill(&mut bytes[8..])?;
            }
        }
        Ok(Self { format, bytes })
    }

    /// Wraps clear bytes (e.g. from a PIN pad in simulation) after checking their length.
    pub fn from_bytes(format: PinBlockFormat, bytes: &[u8]) -> Result<Self, CryptoError> {
        check_len(format, bytes)?;
        Ok(Self {
            format,
            bytes: bytes.to_vec(),
        })
    }

    pub fn format(&self) -> PinBlockFormat {
        self.format
    }

    pub fn expose_secret(&self) -> &[u8] {
        &self.bytes
    }

    /// Recovers and validates the PIN (control nibble, length, digits, fill rules).
    pub fn decode_pin(&self, pan: &str) -> Result<Zeroizing<String>, CryptoError> {
        let format = self.format;
        let mut field = Zeroizing::new(self.bytes.clone());
        match format {
            PinBlockFormat::Iso0 | PinBlockFormat::Iso3 => xor_into(&mut field, &pan_field_8(pan)?),
            PinBlockFormat::Iso4 => {
                pan_field_16(pan)?;
            }
            PinBlockFormat::Iso1 => {}
        }
        let control = nibble(&field, 0);
        if control != format.control() {
            return Err(CryptoError::PinBlockControl {
                format: format.control(),
                expected: format.control(),
                found: control,
            });
        }
        let len = nibble(&field, 1);
        if !(4..=12).contains(&len) {
            return Err(CryptoError::PinBlockPinLength { found: len });
        }
        let len = usize::from(len);
        let mut pin = Zeroizing::new(String::with_capacity(len));
        for offset in 2..2 + len {
            let d = nibble(&field, offset);
            if d > 9 {
                return Err(CryptoError::PinBlockPinDigit { offset, found: d });
            }
            pin.push(char::from(b'0' + d));
        }
        for offset in 2 + len..16 {
            let f = nibble(&field, offset);
            let ok = match format {
                PinBlockFormat::Iso0 => f == 0xF,
                PinBlockFormat::Iso3 => f >= 0xA,
                PinBlockFormat::Iso4 => f == 0xA,
                PinBlockFormat::Iso1 => true,
            };
            if !ok {
                return Err(CryptoError::PinBlockFill {
                    format: format.control(),
                    offset,
                    found: f,
                });
            }
        }
        Ok(pin)
    }

    /// Enciphers under the PIN key: TDES ECB for formats 0/1/3; for format 4 AES
    /// encipher-XOR(PAN field)-encipher (ISO 9564-1:2017 clause 9.4.2).
    pub fn encrypt(&self, key: &SecretKey, pan: &str) -> Result<EncryptedPinBlock, CryptoError> {
        let cipher = self.cipher_for(key)?;
        let mut bytes = self.bytes.clone();
        cipher.encrypt_block(&mut bytes);
        if self.format == PinBlockFormat::Iso4 {
            xor_into(&mut bytes, &pan_field_16(pan)?);
            cipher.encrypt_block(&mut bytes);
        }
        Ok(EncryptedPinBlock {
            format: self.format,
            bytes,
        })
    }

    fn cipher_for(&self, key: &SecretKey) -> Result<KeyedCipher, CryptoError> {
        cipher_for(self.format, key)
    }
}

fn cipher_for(format: PinBlockFormat, key: &SecretKey) -> Result<KeyedCipher, CryptoError> {
    let (ok, expected) = match format {
        PinBlockFormat::Iso4 => (key.algorithm() == KeyAlgorithm::Aes, "AES"),
        _ => (
            matches!(key.algorithm(), KeyAlgorithm::Tdes | KeyAlgorithm::Des),
            "TDES",
        ),
    };
    if !ok {
        return Err(CryptoError::WrongKeyAlgorithm {
            operation: "PIN block encipherment",
            expected,
            actual: key.algorithm(),
        });
    }
    KeyedCipher::new(key)
}

impl EncryptedPinBlock {
    pub fn from_bytes(format: PinBlockFormat, bytes: &[u8]) -> Result<Self, CryptoError> {
        check_len(format, bytes)?;
        Ok(Self {
            format,
            bytes: bytes.to_vec(),
        })
    }

    pub fn format(&self) -> PinBlockFormat {
        self.format
    }

    /// The enciphered bytes, as they go into field 52.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn decrypt(&self, key: &SecretKey, pan: &str) -> Result<ClearPinBlock, CryptoError> {
        let cipher = cipher_for(self.format, key)?;
        let mut bytes = self.bytes.clone();
        cipher.decrypt_block(&mut bytes);
        if self.format == PinBlockFormat::Iso4 {
            xor_into(&mut bytes, &pan_field_16(pan)?);
            cipher.decrypt_block(&mut bytes);
        }
        Ok(ClearPinBlock {
            format: self.format,
            bytes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::FixedRandom;

    fn no_random() -> FixedRandom {
        FixedRandom(vec![])
    }

    #[test]
    fn format0_matches_x9_24_1_annex_a_pin_block() {
        // ANSI X9.24-1:2009 A.4: PIN 1234, PAN 4012345678909 -> clear block 041274EDCBA9876F.
        let b = ClearPinBlock::encode(PinBlockFormat::Iso0, "1234", "4012345678909", &no_random())
            .unwrap();
        assert_eq!(hex::encode_upper(b.expose_secret()), "041274EDCBA9876F");
        assert_eq!(b.decode_pin("4012345678909").unwrap().as_str(), "1234");
    }

    #[test]
    fn format0_long_pin_and_encryption() {
        // psec 1.3.0 encode_pinblock_iso_0("123456789012", "5555554444444444441")
        // and encrypt_tdes_ecb cross-checks.
        let pan = "5555554444444444441";
        let b =
            ClearPinBlock::encode(PinBlockFormat::Iso0, "123456789012", pan, &no_random()).unwrap();
        assert_eq!(hex::encode_upper(b.expose_secret()), "0C1270123CD456BB");
        let k =
            SecretKey::from_hex(KeyAlgorithm::Tdes, "0123456789ABCDEFFEDCBA9876543210").unwrap();
        let e = b.encrypt(&k, pan).unwrap();
        assert_eq!(hex::encode_upper(e.as_bytes()), "C49F779CCF3275E3");
        let back = e.decrypt(&k, pan).unwrap();
        assert_eq!(back.decode_pin(pan).unwrap().as_str(), "123456789012");
    }

    #[test]
    fn format1_and_3_use_the_random_fill() {
        let rng = FixedRandom(vec![0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC, 0xDE, 0xF0]);
        let b1 = ClearPinBlock::encode(PinBlockFormat::Iso1, "1234", "", &rng).unwrap();
        // Control 1, length 4, PIN, then the fill nibbles at the same positions of the random bytes.
        assert_eq!(hex::encode_upper(b1.expose_secret()), "141234789ABCDEF0");
        assert_eq!(b1.decode_pin("").unwrap().as_str(), "1234");

        let pan = "4111111111111111";
        let b3 = ClearPinBlock::encode(PinBlockFormat::Iso3, "1234", pan, &rng).unwrap();
        // Fill nibbles: 0xA + byte % 6 for 12,34,56,78,9A,BC,DE,F0,12,34 -> A,E,C,A,E,C,A,A,A,E.
        // PIN field 341234AECAECAAAE xor PAN field 0000111111111111 (psec 1.3.0
        // decode_pinblock_iso_3 accepts the result and returns 1234).
        assert_eq!(hex::encode_upper(b3.expose_secret()), "341225BFDBFDBBBF");
        assert_eq!(b3.decode_pin(pan).unwrap().as_str(), "1234");
    }

    #[test]
    fn format4_with_fixed_random_matches_psec() {
        // psec 1.3.0 encipher_pinblock_iso_4 with its random pad fixed to 0102030405060708,
        // key 000102030405060708090A0B0C0D0E0F, PIN 1234, PAN 432198765432109870.
        let k = SecretKey::from_hex(KeyAlgorithm::Aes, "000102030405060708090A0B0C0D0E0F").unwrap();
        let rng = FixedRandom((1..=8).collect());
        let pan = "432198765432109870";
        let b = ClearPinBlock::encode(PinBlockFormat::Iso4, "1234", pan, &rng).unwrap();
        assert_eq!(
            hex::encode_upper(b.expose_secret()),
            "441234AAAAAAAAAA0102030405060708"
        );
        let e = b.encrypt(&k, pan).unwrap();
        assert_eq!(
            hex::encode_upper(e.as_bytes()),
            "D58645EC62BD6AB888EC033C95C13B88"
        );
        let back = e.decrypt(&k, pan).unwrap();
        assert_eq!(back.decode_pin(pan).unwrap().as_str(), "1234");
        // The PAN is bound in: another PAN yields garbage that fails validation.
        let wrong = e.decrypt(&k, "432198765432109871").unwrap();
        assert!(wrong.decode_pin("432198765432109871").is_err());
    }

    #[test]
    fn format4_pan_field_layout() {
        // ISO 9564-1:2017 9.4.2.3 layout; psec encode_pan_field_iso_4 examples.
        assert_eq!(
            hex::encode_upper(pan_field_16("1122334455667788990").unwrap()),
            "71122334455667788990000000000000"
        );
        assert_eq!(
            hex::encode_upper(pan_field_16("12345").unwrap()),
            "00000000123450000000000000000000"
        );
    }

    #[test]
    fn decode_rejects_bad_blocks() {
        let pan = "4012345678909";
        let bad_control = ClearPinBlock::from_bytes(
            PinBlockFormat::Iso0,
            &hex::decode("141274EDCBA9876F").unwrap(),
        )
        .unwrap();
        assert!(matches!(
            bad_control.decode_pin(pan),
            Err(CryptoError::PinBlockControl { found: 1, .. })
        ));
        let bad_len = ClearPinBlock::from_bytes(
            PinBlockFormat::Iso0,
            &hex::decode("031274EDCBA9876F").unwrap(),
        )
        .unwrap();
        assert_eq!(
            bad_len.decode_pin(pan).unwrap_err(),
            CryptoError::PinBlockPinLength { found: 3 }
        );
        let bad_fill = ClearPinBlock::from_bytes(
            PinBlockFormat::Iso0,
            &hex::decode("041274EDCBA9876E").unwrap(),
        )
        .unwrap();
        assert!(matches!(
            bad_fill.decode_pin(pan),
            Err(CryptoError::PinBlockFill { offset: 15, .. })
        ));
        assert!(matches!(
            ClearPinBlock::from_bytes(PinBlockFormat::Iso4, &[0; 8]),
            Err(CryptoError::PinBlockLength {
                expected: 16,
                len: 8
            })
        ));
    }

    #[test]
    fn encode_rejects_bad_pin_and_pan() {
        let r = no_random();
        assert_eq!(
            ClearPinBlock::encode(PinBlockFormat::Iso0, "123", "4012345678909", &r).unwrap_err(),
            CryptoError::PinLength { len: 3 }
        );
        assert_eq!(
            ClearPinBlock::encode(PinBlockFormat::Iso0, "12a4", "4012345678909", &r).unwrap_err(),
            CryptoError::PinDigit { offset: 2 }
        );
        assert!(matches!(
            ClearPinBlock::encode(PinBlockFormat::Iso0, "1234", "401234567890", &r),
            Err(CryptoError::PanLength { .. })
        ));
        assert_eq!(
            ClearPinBlock::encode(PinBlockFormat::Iso0, "1234", "40123456789x9", &r).unwrap_err(),
            CryptoError::PanDigit { offset: 11 }
        );
        let aes = SecretKey::new(KeyAlgorithm::Aes, &[0; 16]).unwrap();
        let b = ClearPinBlock::encode(PinBlockFormat::Iso0, "1234", "4012345678909", &r).unwrap();
        assert!(matches!(
            b.encrypt(&aes, "4012345678909"),
            Err(CryptoError::WrongKeyAlgorithm { .. })
        ));
    }

    #[test]
    fn debug_is_redacted() {
        let b = ClearPinBlock::encode(PinBlockFormat::Iso0, "1234", "4012345678909", &no_random())
            .unwrap();
        let s = format!("{b:?}");
        assert!(s.contains("[redacted]") && !s.contains("0412"));
    }
}
