//! Amounts of money in fen (1/100 yuan), the unit of ISO 8583 field 4 for CNY.
//!
//! Amounts are integers from the moment they enter the core: floating point never touches money.
//! The upper bound is what field 4 (n12) can carry, so every `Amount` can be put on the wire.

use std::fmt;

/// Largest amount field 4 (n12) can carry: twelve nines, in fen.
pub const MAX_FEN: u64 = 999_999_999_999;

/// Why a text or a computation does not give a valid amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AmountError {
    #[error("amount is empty")]
    Empty,
    #[error("amount must not be negative")]
    Negative,
    #[error("amount has invalid character {found:?} at byte offset {offset}")]
    InvalidCharacter { found: char, offset: usize },
    #[error("amount has {decimals} decimal places; at most 2 are allowed")]
    TooManyDecimals { decimals: usize },
    #[error("amount exceeds {max} fen, the 12 digits of ISO 8583 field 4")]
    TooLarge { max: u64 },
}

/// A non-negative amount in fen, at most [`MAX_FEN`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Amount(u64);

impl Amount {
    pub const ZERO: Amount = Amount(0);

    /// An amount of `fen`, rejected when field 4 could not carry it.
    pub fn from_fen(fen: u64) -> Result<Self, AmountError> {
        if fen > MAX_FEN {
            return Err(AmountError::TooLarge { max: MAX_FEN });
        }
        Ok(Amount(fen))
    }

    pub fn fen(self) -> u64 {
        self.0
    }

    /// Parses yuan text: digits, optionally a point and one or two decimal digits
    /// ("12.34", "12", "0.05", ".5"). No sign, no grouping, no exponent, no surrounding space:
    /// the text comes from a keypad or a QR payload, where anything else is a fault to report.
    pub fn parse_yuan(text: &str) -> Result<Self, AmountError> {
        if text.is_empty() {
            return Err(AmountError::Empty);
        }
        if text.starts_with('-') {
            return Err(AmountError::Negative);
        }
        let (whole, frac) = match text.split_once('.') {
            Some((w, f)) => (w, Some(f)),
            None => (text, None),
        };
        check_digits(whole, 0)?;
        if let Some(frac) = frac {
            check_digits(frac, whole.len() + 1)?;
            if frac.len() > 2 {
                return Err(AmountError::TooManyDecimals {
                    decimals: frac.len(),
                });
            }
            if whole.is_empty() && frac.is_empty() {
                return Err(AmountError::InvalidCharacter {
                    found: '.',
                    offset: 0,
                });
            }
        }
        let too_large = AmountError::TooLarge { max: MAX_FEN };
        let mut fen: u64 = 0;
        for b in whole.bytes() {
            fen = fen
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(b - b'0')))
                .filter(|v| *v <= MAX_FEN)
                .ok_or_else(|| too_large.clone())?;
        }
        let frac = frac.unwrap_or("");
        let mut cents: u64 = 0;
        for i in 0..2 {
            let digit = frac.as_bytes().get(i).map_or(0, |b| u64::from(b - b'0'));
            cents = cents * 10 + digit;
        }
        let fen = fen
            .checked_mul(100)
            .and_then(|v| v.checked_add(cents))
            .ok_or_else(|| too_large.clone())?;
        Amount::from_fen(fen)
    }

    /// The 12-digit, zero-padded text of ISO 8583 field 4.
    pub fn to_field4(self) -> String {
        format!("{:012}", self.0)
    }

    pub fn checked_add(self, other: Amount) -> Option<Amount> {
        self.0
            .checked_add(other.0)
            .and_then(|v| Amount::from_fen(v).ok())
    }

    pub fn checked_sub(self, other: Amount) -> Option<Amount> {
        self.0.checked_sub(other.0).map(Amount)
    }
}

/// Every byte of `part` must be an ASCII digit; `base` is the part's offset in the whole text.
fn check_digits(part: &str, base: usize) -> Result<(), AmountError> {
    match part.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, c)) => Err(AmountError::InvalidCharacter {
            found: c,
            offset: base + i,
        }),
        None => Ok(()),
    }
}

/// Yuan with exactly two decimals, e.g. "12.34", as printed on receipts.
impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

impl std::str::FromStr for Amount {
    type Err = AmountError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Amount::parse_yuan(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fen(text: &str) -> Result<u64, AmountError> {
        Amount::parse_yuan(text).map(Amount::fen)
    }

    #[test]
    fn parses_whole_and_decimal_yuan() {
        assert_eq!(fen("12.34"), Ok(1234));
        assert_eq!(fen("12"), Ok(1200));
        assert_eq!(fen("0.05"), Ok(5));
        assert_eq!(fen("0.5"), Ok(50));
        assert_eq!(fen(".5"), Ok(50));
        assert_eq!(fen("7."), Ok(700));
        assert_eq!(fen("0"), Ok(0));
        assert_eq!(fen("000012.30"), Ok(1230));
    }

    #[test]
    fn rejects_bad_text_with_the_reason() {
        assert_eq!(fen(""), Err(AmountError::Empty));
        assert_eq!(fen("-1.00"), Err(AmountError::Negative));
        assert_eq!(
            fen("1.234"),
            Err(AmountError::TooManyDecimals { decimals: 3 })
        );
        assert_eq!(
            fen("12a.00"),
            Err(AmountError::InvalidCharacter {
                found: 'a',
                offset: 2
            })
        );
        assert_eq!(
            fen("1.2x"),
            Err(AmountError::InvalidCharacter {
                found: 'x',
                offset: 3
            })
        );
        assert_eq!(
            fen("1.2.3"),
            Err(AmountError::InvalidCharacter {
                found: '.',
                offset: 3
            })
        );
        assert!(matches!(
            fen("+1"),
            Err(AmountError::InvalidCharacter { offset: 0, .. })
        ));
        assert!(matches!(
            fen(" 1"),
            Err(AmountError::InvalidCharacter { offset: 0, .. })
        ));
        assert!(matches!(
            fen("."),
            Err(AmountError::InvalidCharacter { .. })
        ));
        assert!(matches!(
            fen("１"),
            Err(AmountError::InvalidCharacter { .. })
        ));
    }

    #[test]
    fn bounds_at_twelve_digits_of_fen() {
        assert_eq!(fen("9999999999.99"), Ok(MAX_FEN));
        let too_large = Err(AmountError::TooLarge { max: MAX_FEN });
        assert_eq!(fen("10000000000"), too_large);
        assert_eq!(fen("10000000000.00"), too_large);
        assert_eq!(fen("99999999999999999999999999"), too_large);
        assert_eq!(Amount::from_fen(MAX_FEN + 1).map(Amount::fen), too_large);
    }

    #[test]
    fn formats_yuan_and_field4() {
        let a = Amount::from_fen(1234).unwrap();
        assert_eq!(a.to_string(), "12.34");
        assert_eq!(a.to_field4(), "000000001234");
        assert_eq!(Amount::from_fen(5).unwrap().to_string(), "0.05");
        assert_eq!(Amount::ZERO.to_string(), "0.00");
        let max = Amount::from_fen(MAX_FEN).unwrap();
        assert_eq!(max.to_field4(), "999999999999");
        assert_eq!(max.to_field4().len(), 12);
    }

    #[test]
    fn checked_arithmetic_stays_in_field4() {
        let a = Amount::from_fen(150).unwrap();
        let b = Amount::from_fen(100).unwrap();
        assert_eq!(a.checked_add(b).map(Amount::fen), Some(250));
        assert_eq!(a.checked_sub(b).map(Amount::fen), Some(50));
        assert_eq!(b.checked_sub(a), None);
        let max = Amount::from_fen(MAX_FEN).unwrap();
        assert_eq!(max.checked_add(Amount::from_fen(1).unwrap()), None);
        assert_eq!(max.checked_add(Amount::ZERO), Some(max));
    }

    proptest! {
        #[test]
        fn format_then_parse_round_trips(fen in 0..=MAX_FEN) {
            let a = Amount::from_fen(fen).unwrap();
            prop_assert_eq!(Amount::parse_yuan(&a.to_string()), Ok(a));
            prop_assert_eq!(a.to_field4().parse::<u64>().unwrap(), fen);
        }

        #[test]
        fn parse_never_panics(text in "\\PC{0,24}") {
            let _ = Amount::parse_yuan(&text);
        }

        #[test]
        fn parse_never_panics_on_near_valid_text(text in "[-0-9.a ]{0,20}") {
            if let Ok(a) = Amount::parse_yuan(&text) {
                prop_assert!(a.fen() <= MAX_FEN);
            }
        }
    }
}
