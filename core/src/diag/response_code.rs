//! Field 39, the two-character response code.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ResponseCodeError {
    #[error("field 39 (response code) must be 2 characters, got {len}")]
    Length { len: usize },
    #[error("field 39 (response code) has an invalid byte 0x{byte:02X} at offset {offset}")]
    BadChar { offset: usize, byte: u8 },
}

/// A validated response code: two ASCII digits or upper-case letters (an2).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResponseCode([u8; 2]);

impl ResponseCode {
    pub const APPROVED: ResponseCode = ResponseCode(*b"00");

    pub fn from_bytes(b: &[u8]) -> Result<ResponseCode, ResponseCodeError> {
        let [a, c] = b else {
            return Err(ResponseCodeError::Length { len: b.len() });
        };
        for (offset, &byte) in [*a, *c].iter().enumerate() {
            if !(byte.is_ascii_digit() || byte.is_ascii_uppercase()) {
                return Err(ResponseCodeError::BadChar { offset, byte });
            }
        }
        Ok(ResponseCode([*a, *c]))
    }

    pub fn as_str(&self) -> &str {
        // Invariant: both bytes are ASCII alphanumerics.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }

    pub fn is_approved(&self) -> bool {
        *self == Self::APPROVED
    }

    /// Every code the UnionPay POS specification can send: 00–99 and A0–A7.
    pub fn catalogued() -> impl Iterator<Item = ResponseCode> {
        let numeric = (0u8..100).map(|n| ResponseCode([b'0' + n / 10, b'0' + n % 10]));
        let alpha = (0u8..8).map(|n| ResponseCode([b'A', b'0' + n]));
        numeric.chain(alpha)
    }
}

impl FromStr for ResponseCode {
    type Err = ResponseCodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ResponseCode::from_bytes(s.as_bytes())
    }
}

impl fmt::Display for ResponseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for ResponseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ResponseCode({})", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn from_bytes_never_panics(b in proptest::collection::vec(proptest::num::u8::ANY, 0..4)) {
            if let Ok(rc) = ResponseCode::from_bytes(&b) {
                proptest::prop_assert_eq!(rc.as_str().as_bytes(), &b[..]);
            }
        }
    }

    #[test]
    fn validates() {
        assert_eq!("05".parse::<ResponseCode>().unwrap().as_str(), "05");
        assert_eq!("A0".parse::<ResponseCode>().unwrap().as_str(), "A0");
        assert_eq!(
            "5".parse::<ResponseCode>().unwrap_err(),
            ResponseCodeError::Length { len: 1 }
        );
        assert_eq!(
            "a0".parse::<ResponseCode>().unwrap_err(),
            ResponseCodeError::BadChar {
                offset: 0,
                byte: b'a'
            }
        );
        assert_eq!(
            ResponseCode::from_bytes(b"0\x00").unwrap_err(),
            ResponseCodeError::BadChar { offset: 1, byte: 0 }
        );
        assert!(ResponseCode::APPROVED.is_approved());
        assert_eq!(ResponseCode::catalogued().count(), 108);
    }
}
