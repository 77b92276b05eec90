//! Primary account number (ISO/IEC 7812-1).

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

use super::CardError;

const MIN_LEN: usize = 12;
const MAX_LEN: usize = 19;

/// A full PAN. Only [`Pan::expose_digits`] gives the digits out; `Debug` and `Display` print the
/// masked form so a PAN cannot leak through a log line or an error message by accident.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Pan {
    digits: String,
}

/// Outcome of the Luhn (mod 10) check. Kept apart from parsing so that a Luhn failure can be
/// reported by the risk rules with its own reason instead of as a malformed card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LuhnCheck {
    Valid,
    Invalid { expected_check_digit: u8 },
}

/// Issuer identification number prefixes. Not secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Bin {
    digits: [u8; 8],
}

impl Bin {
    /// The 6-digit BIN.
    pub fn six(&self) -> &str {
        self.as_str(6)
    }

    /// The 8-digit BIN (ISO/IEC 7812-1:2017 moved to 8-digit IINs).
    pub fn eight(&self) -> &str {
        self.as_str(8)
    }

    fn as_str(&self, n: usize) -> &str {
        // Invariant: built only from ASCII digits, so this never fails.
        std::str::from_utf8(&self.digits[..n]).unwrap_or("")
    }
}

/// A PAN masked as first 6 + `*` + last 4, the only form allowed on receipts and screens.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MaskedPan(String);

impl MaskedPan {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MaskedPan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Pan {
    /// Parses 12–19 ASCII digits. The Luhn check digit is not enforced here: see [`Pan::luhn`].
    pub fn parse(digits: &str) -> Result<Pan, CardError> {
        if let Some(offset) = digits.bytes().position(|b| !b.is_ascii_digit()) {
            return Err(CardError::PanNotNumeric { offset });
        }
        let len = digits.len();
        if !(MIN_LEN..=MAX_LEN).contains(&len) {
            return Err(CardError::PanLength { len });
        }
        Ok(Pan {
            digits: digits.to_owned(),
        })
    }

    pub fn luhn(&self) -> LuhnCheck {
        let (body, check) = self.digits.as_bytes().split_at(self.digits.len() - 1);
        let expected = luhn_check_digit(body);
        if check.first().map(|c| c - b'0') == Some(expected) {
            LuhnCheck::Valid
        } else {
            LuhnCheck::Invalid {
                expected_check_digit: expected,
            }
        }
    }

    pub fn bin(&self) -> Bin {
        let mut digits = [0u8; 8];
        digits.copy_from_slice(&self.digits.as_bytes()[..8]);
        Bin { digits }
    }

    pub fn last4(&self) -> &str {
        &self.digits[self.digits.len() - 4..]
    }

    pub fn masked(&self) -> MaskedPan {
        let len = self.digits.len();
        let mut s = String::with_capacity(len);
        s.push_str(&self.digits[..6]);
        s.extend(std::iter::repeat_n('*', len - 10));
        s.push_str(self.last4());
        MaskedPan(s)
    }

    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> usize {
        self.digits.len()
    }

    /// The full digits, for the few places that must put the PAN on the wire (field 2, PIN block
    /// PAN field, encrypted journal). Deliberately verbose so every use stands out in review.
    pub fn expose_digits(&self) -> &str {
        &self.digits
    }
}

/// The check digit that makes `body` followed by it pass Luhn (ISO/IEC 7812-1 Annex B).
pub(crate) fn luhn_check_digit(body: &[u8]) -> u8 {
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, c)| {
            let d = u32::from(c - b'0');
            if i % 2 == 0 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

impl fmt::Debug for Pan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pan({})", self.masked())
    }
}

impl fmt::Display for Pan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.masked(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_valid_published_vectors() {
        // 79927398713: the worked example of the Luhn algorithm (ISO/IEC 7812-1 Annex B method;
        // example as published in the "Luhn algorithm" Wikipedia article) — too short for a PAN,
        // so the check digit routine is tested directly.
        assert_eq!(luhn_check_digit(b"7992739871"), 3);
        // Published test PANs (Stripe "Testing" docs, card numbers for Visa, Mastercard, Amex,
        // UnionPay); each re-checked with an independent Python mod-10 implementation.
        for p in [
            "4242424242424242",
            "4111111111111111",
            "5555555555554444",
            "378282246310005",
            "6200000000000005",
            "6205500000000000004",
        ] {
            assert_eq!(Pan::parse(p).unwrap().luhn(), LuhnCheck::Valid, "{p}");
        }
    }

    #[test]
    fn luhn_reports_expected_digit() {
        // 4111111111111111 is valid (Stripe test card), so ...112 must fail and expect 1.
        let pan = Pan::parse("4111111111111112").unwrap();
        assert_eq!(
            pan.luhn(),
            LuhnCheck::Invalid {
                expected_check_digit: 1
            }
        );
    }

    #[test]
    fn length_and_charset_errors() {
        assert_eq!(
            Pan::parse("12345678901").unwrap_err(),
            CardError::PanLength { len: 11 }
        );
        assert_eq!(
            Pan::parse("12345678901234567890").unwrap_err(),
            CardError::PanLength { len: 20 }
        );
        assert_eq!(
            Pan::parse("6222 0212345678").unwrap_err(),
            CardError::PanNotNumeric { offset: 4 }
        );
        assert_eq!(Pan::parse("").unwrap_err(), CardError::PanLength { len: 0 });
        assert!(Pan::parse("123456789012").is_ok());
        assert!(Pan::parse("1234567890123456789").is_ok());
    }

    #[test]
    fn masking_keeps_six_and_four() {
        let pan = Pan::parse("6222021234561234").unwrap();
        assert_eq!(pan.masked().as_str(), "622202******1234");
        assert_eq!(format!("{pan}"), "622202******1234");
        assert_eq!(format!("{pan:?}"), "Pan(622202******1234)");
        let short = Pan::parse("123456789012").unwrap();
        assert_eq!(short.masked().as_str(), "123456**9012");
        let long = Pan::parse("6217001234567890123").unwrap();
        assert_eq!(long.masked().as_str(), "621700*********0123");
        assert!(!format!("{long:?}").contains("1234567890"));
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,25}") {
            let _ = Pan::parse(&s).map(|p| (p.luhn(), p.masked(), p.bin()));
        }

        #[test]
        fn appending_check_digit_makes_luhn_valid(body in "[0-9]{11,18}") {
            let digit = luhn_check_digit(body.as_bytes());
            let pan = Pan::parse(&format!("{body}{digit}")).unwrap();
            proptest::prop_assert_eq!(pan.luhn(), LuhnCheck::Valid);
            let wrong = (digit + 1) % 10;
            let bad = Pan::parse(&format!("{body}{wrong}")).unwrap();
            proptest::prop_assert_eq!(bad.luhn(), LuhnCheck::Invalid { expected_check_digit: digit });
        }

        #[test]
        fn masked_keeps_length_and_hides_middle(pan in "[0-9]{12,19}") {
            let p = Pan::parse(&pan).unwrap();
            let m = p.masked();
            proptest::prop_assert_eq!(m.as_str().len(), pan.len());
            proptest::prop_assert_eq!(&m.as_str()[..6], &pan[..6]);
            proptest::prop_assert!(m.as_str()[6..pan.len() - 4].chars().all(|c| c == '*'));
        }
    }

    #[test]
    fn bin_and_last4() {
        let pan = Pan::parse("6222021234561234").unwrap();
        assert_eq!(pan.bin().six(), "622202");
        assert_eq!(pan.bin().eight(), "62220212");
        assert_eq!(pan.last4(), "1234");
        assert_eq!(pan.expose_digits(), "6222021234561234");
    }
}
