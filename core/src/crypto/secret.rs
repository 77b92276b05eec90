//! Secret key material: wiped on drop, never printed, never implicitly copied.

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::CryptoError;
use super::error::decode_hex;

/// The block cipher a key is for; decides its valid lengths and its block size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyAlgorithm {
    /// Single DES (legacy; only for 8-byte MAKs of older UnionPay hosts).
    Des,
    /// Triple DES, 2-key (16 bytes) or 3-key (24 bytes).
    Tdes,
    /// SM4 (GB/T 32907-2016), 16 bytes.
    Sm4,
    /// AES-128/192/256.
    Aes,
}

impl KeyAlgorithm {
    pub const fn block_size(self) -> usize {
        match self {
            KeyAlgorithm::Des | KeyAlgorithm::Tdes => 8,
            KeyAlgorithm::Sm4 | KeyAlgorithm::Aes => 16,
        }
    }

    pub const fn valid_lengths(self) -> &'static [usize] {
        match self {
            KeyAlgorithm::Des => &[8],
            KeyAlgorithm::Tdes => &[16, 24],
            KeyAlgorithm::Sm4 => &[16],
            KeyAlgorithm::Aes => &[16, 24, 32],
        }
    }

    const fn expected_lengths_text(self) -> &'static str {
        match self {
            KeyAlgorithm::Des => "8",
            KeyAlgorithm::Tdes => "16 or 24",
            KeyAlgorithm::Sm4 => "16",
            KeyAlgorithm::Aes => "16, 24 or 32",
        }
    }
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyAlgorithm::Des => "DES",
            KeyAlgorithm::Tdes => "TDES",
            KeyAlgorithm::Sm4 => "SM4",
            KeyAlgorithm::Aes => "AES",
        })
    }
}

/// A symmetric key. No `Clone`: copies of secrets must be deliberate (`duplicate`).
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct SecretKey {
    #[zeroize(skip)]
    algorithm: KeyAlgorithm,
    bytes: Vec<u8>,
}

impl SecretKey {
    /// Copies `bytes` into a new key after checking the length fits `algorithm`.
    /// A fresh key from the system's random generator (ring).
    pub fn random(algorithm: KeyAlgorithm, len: usize) -> Result<Self, CryptoError> {
        use super::random::{RandomSource, SystemRandomSource};
        let mut bytes = Zeroizing::new(vec![0u8; len]);
        SystemRandomSource::new().fill(&mut bytes)?;
        Self::new(algorithm, &bytes)
    }

    pub fn new(algorithm: KeyAlgorithm, bytes: &[u8]) -> Result<Self, CryptoError> {
        if !algorithm.valid_lengths().contains(&bytes.len()) {
            return Err(CryptoError::KeyLength {
                algorithm,
                expected: algorithm.expected_lengths_text(),
                len: bytes.len(),
            });
        }
        Ok(Self {
            algorithm,
            bytes: bytes.to_vec(),
        })
    }

    /// Parses a key from hex (whitespace around it is ignored).
    pub fn from_hex(algorithm: KeyAlgorithm, text: &str) -> Result<Self, CryptoError> {
        let bytes = decode_hex("key", text)?;
        Self::new(algorithm, &bytes)
    }

    pub fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The raw key bytes, for feeding a cipher. Named so that every use is easy to audit.
    pub fn expose_secret(&self) -> &[u8] {
        &self.bytes
    }

    /// Uppercase hex of the key, wiped on drop. For the engineer's calculator only.
    pub fn expose_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode_upper(&self.bytes))
    }

    /// An explicit copy (for instance to hand one key to two owners).
    pub fn duplicate(&self) -> Self {
        Self {
            algorithm: self.algorithm,
            bytes: self.bytes.clone(),
        }
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey({} [redacted])", self.algorithm)
    }
}

impl fmt::Display for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_validated_per_algorithm() {
        assert!(SecretKey::new(KeyAlgorithm::Des, &[1; 8]).is_ok());
        assert!(SecretKey::new(KeyAlgorithm::Tdes, &[1; 16]).is_ok());
        assert!(SecretKey::new(KeyAlgorithm::Tdes, &[1; 24]).is_ok());
        assert!(SecretKey::new(KeyAlgorithm::Aes, &[1; 32]).is_ok());
        let err = SecretKey::new(KeyAlgorithm::Tdes, &[1; 8]).unwrap_err();
        assert_eq!(
            err,
            CryptoError::KeyLength {
                algorithm: KeyAlgorithm::Tdes,
                expected: "16 or 24",
                len: 8
            }
        );
        assert!(SecretKey::new(KeyAlgorithm::Sm4, &[1; 24]).is_err());
        assert!(SecretKey::new(KeyAlgorithm::Aes, &[1; 20]).is_err());
    }

    #[test]
    fn hex_errors_name_the_offset() {
        let err = SecretKey::from_hex(KeyAlgorithm::Tdes, "0123456789ABCDEFFEDCBA98765432G0")
            .unwrap_err();
        assert_eq!(
            err,
            CryptoError::HexCharacter {
                what: "key",
                offset: 30
            }
        );
        assert!(matches!(
            SecretKey::from_hex(KeyAlgorithm::Des, "012"),
            Err(CryptoError::HexOddLength { len: 3, .. })
        ));
    }

    #[test]
    fn debug_and_display_are_redacted() {
        let key =
            SecretKey::from_hex(KeyAlgorithm::Tdes, "0123456789ABCDEFFEDCBA9876543210").unwrap();
        let shown = format!("{key:?} {key}");
        assert!(shown.contains("[redacted]"));
        assert!(!shown.contains("0123"));
        assert!(!shown.to_lowercase().contains("89ab"));
    }

    #[test]
    fn duplicate_is_an_equal_independent_copy() {
        let key =
            SecretKey::from_hex(KeyAlgorithm::Sm4, "0123456789ABCDEFFEDCBA9876543210").unwrap();
        let copy = key.duplicate();
        drop(key);
        assert_eq!(
            copy.expose_hex().as_str(),
            "0123456789ABCDEFFEDCBA9876543210"
        );
    }
}
