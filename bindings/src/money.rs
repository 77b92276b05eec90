//! Amount parsing and formatting for the shell's keypad and display.

use smartpos_core::money::Amount;

use crate::error::{SmartPosError, guard};

/// An amount as the shell needs it: the integer to compute with, and both texts the core uses.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AmountRecord {
    /// Fen (1/100 yuan): the only value to compute with.
    pub fen: u64,
    /// Yuan with two decimals, e.g. "12.34", as printed on receipts.
    pub yuan: String,
    /// Twelve zero-padded digits, as sent in ISO 8583 field 4.
    pub field4: String,
}

impl From<Amount> for AmountRecord {
    fn from(a: Amount) -> Self {
        AmountRecord {
            fen: a.fen(),
            yuan: a.to_string(),
            field4: a.to_field4(),
        }
    }
}

/// Parses yuan text such as "12.34", "12" or "0.05".
#[uniffi::export]
pub fn parse_amount(text: String) -> Result<AmountRecord, SmartPosError> {
    guard("parse_amount", || Ok(Amount::parse_yuan(&text)?.into()))
}

/// Formats fen as yuan with two decimals; fails for more fen than ISO 8583 field 4 can carry.
#[uniffi::export]
pub fn format_amount(fen: u64) -> Result<String, SmartPosError> {
    guard("format_amount", || Ok(Amount::from_fen(fen)?.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::AmountProblem;

    #[test]
    fn parse_gives_all_three_views() {
        assert_eq!(
            parse_amount("12.34".into()),
            Ok(AmountRecord {
                fen: 1234,
                yuan: "12.34".into(),
                field4: "000000001234".into()
            })
        );
    }

    #[test]
    fn errors_are_typed() {
        assert!(matches!(
            parse_amount("1.234".into()),
            Err(SmartPosError::InvalidAmount {
                problem: AmountProblem::TooManyDecimals,
                ..
            })
        ));
        assert!(matches!(
            format_amount(1_000_000_000_000),
            Err(SmartPosError::InvalidAmount {
                problem: AmountProblem::TooLarge,
                ..
            })
        ));
        assert_eq!(format_amount(5), Ok("0.05".into()));
    }
}
