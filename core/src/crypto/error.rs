//! The one error type of the crypto module: every variant names what is wrong.

use super::KeyAlgorithm;

/// Why a crypto operation refused its input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    #[error("{what}: invalid hex character at offset {offset}")]
    HexCharacter { what: &'static str, offset: usize },
    #[error("{what}: hex string has an odd number of digits ({len})")]
    HexOddLength { what: &'static str, len: usize },
    #[error("{algorithm} key must be {expected} bytes, got {len}")]
    KeyLength {
        algorithm: KeyAlgorithm,
        expected: &'static str,
        len: usize,
    },
    #[error("{operation} needs a {expected} key, got a {actual} key")]
    WrongKeyAlgorithm {
        operation: &'static str,
        expected: &'static str,
        actual: KeyAlgorithm,
    },
    #[error("data length {len} is not a multiple of the {block_size}-byte block size")]
    DataNotBlockAligned { len: usize, block_size: usize },
    #[error("IV must be {block_size} bytes, got {len}")]
    IvLength { len: usize, block_size: usize },
    #[error("PIN must be 4 to 12 decimal digits, got {len} characters")]
    PinLength { len: usize },
    #[error("PIN has a non-digit at offset {offset}")]
    PinDigit { offset: usize },
    #[error("PAN must be {expected} decimal digits, got {len} characters")]
    PanLength { expected: &'static str, len: usize },
    #[error("PAN has a non-digit at offset {offset}")]
    PanDigit { offset: usize },
    #[error("PIN block must be {expected} bytes, got {len}")]
    PinBlockLength { expected: usize, len: usize },
    #[error("PIN block control field is {found:X}, expected {expected:X} (format {format})")]
    PinBlockControl { format: u8, expected: u8, found: u8 },
    #[error("PIN block PIN length nibble is {found}, must be 4 to 12")]
    PinBlockPinLength { found: u8 },
    #[error("PIN block has a non-digit PIN nibble {found:X} at nibble offset {offset}")]
    PinBlockPinDigit { offset: usize, found: u8 },
    #[error(
        "PIN block fill nibble {found:X} at nibble offset {offset} is not allowed in format {format}"
    )]
    PinBlockFill {
        format: u8,
        offset: usize,
        found: u8,
    },
    #[error("KSN must be {expected} bytes, got {len}")]
    KsnLength { expected: usize, len: usize },
    #[error("KSN transaction counter {counter:#x} is not valid ({reason})")]
    KsnCounter { counter: u32, reason: &'static str },
    #[error("the system random source failed")]
    RandomFailure,
}

/// Decodes hex into a buffer that is wiped on drop; `what` names the field in errors.
pub(crate) fn decode_hex(
    what: &'static str,
    text: &str,
) -> Result<zeroize::Zeroizing<Vec<u8>>, CryptoError> {
    let text = text.trim();
    if !text.len().is_multiple_of(2) {
        return Err(CryptoError::HexOddLength {
            what,
            len: text.len(),
        });
    }
    let mut out = zeroize::Zeroizing::new(vec![0u8; text.len() / 2]);
    hex::decode_to_slice(text, out.as_mut_slice()).map_err(|e| match e {
        hex::FromHexError::InvalidHexCharacter { index, .. } => CryptoError::HexCharacter {
            what,
            offset: index,
        },
        _ => CryptoError::HexOddLength {
            what,
            len: text.len(),
        },
    })?;
    Ok(out)
}
