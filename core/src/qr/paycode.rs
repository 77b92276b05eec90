//! Customer-presented payment codes (付款码): what a scanner reads off a customer's phone, or a
//! cashier keys in, recognised by scheme before anything goes to a gateway.
//!
//! Numeric codes by length and prefix, as the schemes publish them for merchants: WeChat Pay
//! 18 digits beginning 10–15; Alipay 16–24 digits beginning 25–30; UnionPay 19 digits beginning
//! 62; e-CNY 19 digits beginning 01. Anything else with letters in it is tried as an EMVCo
//! consumer-presented payload (base64 of BER-TLV, see [`super::cpm`]).
//!
//! A payment code is a bearer credential for its lifetime (about a minute): it is held in a
//! zeroizing string, and `Debug`/`Display` show the first 4 and last 4 characters only. Error
//! messages never contain it.

use std::fmt;

use thiserror::Error;
use zeroize::Zeroizing;

use super::cpm::{self, CpmError, CpmPayload};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PaycodeScheme {
    WeChatPay,
    Alipay,
    UnionPay,
    ECny,
    EmvCpm,
}

impl PaycodeScheme {
    /// A stable identifier for JSON and journals.
    pub fn code(self) -> &'static str {
        match self {
            PaycodeScheme::WeChatPay => "wechat_pay",
            PaycodeScheme::Alipay => "alipay",
            PaycodeScheme::UnionPay => "unionpay",
            PaycodeScheme::ECny => "e_cny",
            PaycodeScheme::EmvCpm => "emv_cpm",
        }
    }
}

impl fmt::Display for PaycodeScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PaycodeScheme::WeChatPay => "WeChat Pay",
            PaycodeScheme::Alipay => "Alipay",
            PaycodeScheme::UnionPay => "UnionPay",
            PaycodeScheme::ECny => "e-CNY",
            PaycodeScheme::EmvCpm => "EMVCo consumer-presented QR",
        })
    }
}

/// One numeric scheme: its two-digit prefixes and allowed lengths.
struct NumericRule {
    scheme: PaycodeScheme,
    prefixes: (u8, u8),
    lengths: (usize, usize),
}

const NUMERIC_RULES: &[NumericRule] = &[
    NumericRule {
        scheme: PaycodeScheme::WeChatPay,
        prefixes: (10, 15),
        lengths: (18, 18),
    },
    NumericRule {
        scheme: PaycodeScheme::Alipay,
        prefixes: (25, 30),
        lengths: (16, 24),
    },
    NumericRule {
        scheme: PaycodeScheme::UnionPay,
        prefixes: (62, 62),
        lengths: (19, 19),
    },
    NumericRule {
        scheme: PaycodeScheme::ECny,
        prefixes: (1, 1),
        lengths: (19, 19),
    },
];

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PaycodeError {
    #[error("the code is empty")]
    Empty,
    #[error("the code has whitespace inside it at byte {offset}")]
    InnerWhitespace { offset: usize },
    #[error("{scheme} codes have {expected} digits; this one has {found}")]
    WrongLength {
        scheme: PaycodeScheme,
        expected: &'static str,
        found: usize,
    },
    #[error(
        "no payment scheme uses the prefix {prefix} (WeChat Pay 10-15, Alipay 25-30, UnionPay 62, e-CNY 01)"
    )]
    UnknownPrefix { prefix: String },
    #[error("a numeric payment code has a non-digit at byte {offset}")]
    NotDigits { offset: usize },
    #[error("not a numeric code and not an EMVCo consumer-presented payload: {0}")]
    Cpm(#[from] CpmError),
}

/// A recognised payment code.
#[derive(Clone)]
pub struct PaymentCode {
    scheme: PaycodeScheme,
    code: Zeroizing<String>,
    cpm: Option<CpmPayload>,
}

impl PaymentCode {
    pub fn scheme(&self) -> PaycodeScheme {
        self.scheme
    }

    /// The code as the gateway needs it (`auth_code`). Never log it.
    pub fn expose_code(&self) -> &str {
        &self.code
    }

    /// First 4 and last 4 characters, the rest as `*`; short codes fully masked.
    pub fn masked(&self) -> String {
        mask(&self.code)
    }

    /// The decoded payload of an EMVCo consumer-presented code.
    pub fn cpm(&self) -> Option<&CpmPayload> {
        self.cpm.as_ref()
    }
}

impl fmt::Debug for PaymentCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PaymentCode")
            .field("scheme", &self.scheme)
            .field("code", &self.masked())
            .finish()
    }
}

impl fmt::Display for PaymentCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.scheme, self.masked())
    }
}

fn mask(code: &str) -> String {
    let chars: Vec<char> = code.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let mut out: String = chars[..4].iter().collect();
    out.extend(std::iter::repeat_n('*', chars.len() - 8));
    out.extend(&chars[chars.len() - 4..]);
    out
}

/// Recognises a payment code. Leading and trailing whitespace (a scanner's line ending, a
/// pasted space) is dropped; whitespace inside is an error, since no scheme has any.
pub fn recognise(code: &str) -> Result<PaymentCode, PaycodeError> {
    let trimmed = code.trim();
    if trimmed.is_empty() {
        return Err(PaycodeError::Empty);
    }
    let lead = code.len() - code.trim_start().len();
    if let Some(i) = trimmed.find(char::is_whitespace) {
        return Err(PaycodeError::InnerWhitespace { offset: lead + i });
    }
    let bytes = trimmed.as_bytes();
    let first_non_digit = bytes.iter().position(|b| !b.is_ascii_digit());
    let Some(non_digit) = first_non_digit else {
        let scheme = numeric_scheme(trimmed)?;
        return Ok(PaymentCode {
            scheme,
            code: Zeroizing::new(trimmed.to_owned()),
            cpm: None,
        });
    };
    match cpm::decode_base64(trimmed) {
        Ok(payload) => Ok(PaymentCode {
            scheme: PaycodeScheme::EmvCpm,
            code: Zeroizing::new(trimmed.to_owned()),
            cpm: Some(payload),
        }),
        // Mostly digits with a stray character: a mistyped numeric code is the likelier story
        // than a base64 payload, so say that.
        Err(_) if looks_numeric(bytes) => Err(PaycodeError::NotDigits {
            offset: lead + non_digit,
        }),
        Err(e) => Err(PaycodeError::Cpm(e)),
    }
}

/// At most two non-digits in a code no longer than the longest numeric scheme.
fn looks_numeric(bytes: &[u8]) -> bool {
    bytes.len() <= 24 && bytes.iter().filter(|b| !b.is_ascii_digit()).count() <= 2
}

fn numeric_scheme(digits: &str) -> Result<PaycodeScheme, PaycodeError> {
    let prefix_text = digits.get(..2).unwrap_or(digits);
    let prefix: u8 = prefix_text.parse().unwrap_or(u8::MAX);
    let rule = NUMERIC_RULES
        .iter()
        .find(|r| digits.len() >= 2 && (r.prefixes.0..=r.prefixes.1).contains(&prefix))
        .ok_or_else(|| PaycodeError::UnknownPrefix {
            prefix: prefix_text.to_owned(),
        })?;
    let (min, max) = rule.lengths;
    if !(min..=max).contains(&digits.len()) {
        return Err(PaycodeError::WrongLength {
            scheme: rule.scheme,
            expected: match rule.scheme {
                PaycodeScheme::Alipay => "16 to 24",
                PaycodeScheme::WeChatPay => "18",
                _ => "19",
            },
            found: digits.len(),
        });
    }
    Ok(rule.scheme)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Synthetic codes shaped by the schemes' published rules (lengths and prefixes quoted in the
    // module comment); real codes are one-time credentials and are never published.
    #[test]
    fn each_scheme_by_length_and_prefix() {
        let cases = [
            ("134567890123456789", PaycodeScheme::WeChatPay),
            ("104567890123456789", PaycodeScheme::WeChatPay),
            ("154567890123456789", PaycodeScheme::WeChatPay),
            ("2845678901234567", PaycodeScheme::Alipay),
            ("284567890123456789012345", PaycodeScheme::Alipay),
            ("254567890123456789", PaycodeScheme::Alipay),
            ("304567890123456789", PaycodeScheme::Alipay),
            ("6212345678901234567", PaycodeScheme::UnionPay),
            ("0123456789012345678", PaycodeScheme::ECny),
        ];
        for (code, scheme) in cases {
            assert_eq!(recognise(code).unwrap().scheme(), scheme, "{code}");
        }
    }

    #[test]
    fn boundaries_fall_outside() {
        // 16 and 31 just outside WeChat's and Alipay's prefix ranges; 09 and 24 likewise.
        for code in [
            "164567890123456789",
            "314567890123456789",
            "094567890123456789",
            "244567890123456789",
        ] {
            let e = recognise(code).unwrap_err();
            assert_eq!(
                e,
                PaycodeError::UnknownPrefix {
                    prefix: code[..2].into()
                }
            );
        }
        assert_eq!(
            recognise("13456789012345678").err(),
            Some(PaycodeError::WrongLength {
                scheme: PaycodeScheme::WeChatPay,
                expected: "18",
                found: 17
            })
        );
        assert_eq!(
            recognise("2845678901234567890123456").err(),
            Some(PaycodeError::WrongLength {
                scheme: PaycodeScheme::Alipay,
                expected: "16 to 24",
                found: 25
            })
        );
        assert_eq!(
            recognise("621234567890123456").err(),
            Some(PaycodeError::WrongLength {
                scheme: PaycodeScheme::UnionPay,
                expected: "19",
                found: 18
            })
        );
        assert!(matches!(
            recognise("012345678901234567"),
            Err(PaycodeError::WrongLength {
                scheme: PaycodeScheme::ECny,
                ..
            })
        ));
        assert_eq!(
            recognise("6").err(),
            Some(PaycodeError::UnknownPrefix { prefix: "6".into() })
        );
    }

    #[test]
    fn whitespace_policy() {
        assert_eq!(
            recognise(" 134567890123456789\r\n").unwrap().scheme(),
            PaycodeScheme::WeChatPay
        );
        assert_eq!(recognise("   ").err(), Some(PaycodeError::Empty));
        assert_eq!(
            recognise(" 1345678901 23456789").err(),
            Some(PaycodeError::InnerWhitespace { offset: 11 })
        );
    }

    #[test]
    fn typo_in_a_numeric_code_is_named_as_such() {
        assert_eq!(
            recognise("13456789O123456789").err(),
            Some(PaycodeError::NotDigits { offset: 8 })
        );
    }

    #[test]
    fn emvco_cpm_payload() {
        // EMV QRCPS Consumer-Presented Mode v1.0 example payload (see cpm.rs).
        let code = "hQVDUFYwMWETTwegAAAAVVVVUAhQcm9kdWN0MWETTwegAAAAZmZmUAhQcm9kdWN0MmJJWggSNFZ4kBI0WF8gDkNBUkRIT0xERVIvRU1WXy0IcnVlc2RlZW5kIZ8QBwYBCgMAAACfJghYT9OF+iNLzJ82AgABnzcEbVjvEw==";
        let pc = recognise(code).unwrap();
        assert_eq!(pc.scheme(), PaycodeScheme::EmvCpm);
        assert_eq!(pc.cpm().unwrap().applications.len(), 2);
        assert!(matches!(
            recognise("not-a-code-at-all!!"),
            Err(PaycodeError::Cpm(CpmError::Base64 { .. }))
        ));
        // Valid base64 of something that is not CPM TLV.
        assert!(matches!(
            recognise("SGVsbG8gd29ybGQh"),
            Err(PaycodeError::Cpm(_))
        ));
    }

    #[test]
    fn the_code_never_shows_in_full() {
        let pc = recognise("134567890123456789").unwrap();
        assert_eq!(pc.masked(), "1345**********6789");
        assert_eq!(format!("{pc}"), "WeChat Pay 1345**********6789");
        let dbg = format!("{pc:?}");
        assert!(!dbg.contains("134567890123456789"), "{dbg}");
        assert_eq!(pc.expose_code(), "134567890123456789");
        assert_eq!(mask("12345678"), "********");
        // Errors carry no digits beyond a two-digit prefix.
        let e = recognise("99456789012345678912").unwrap_err().to_string();
        assert!(!e.contains("456789"), "{e}");
    }

    proptest::proptest! {
        #[test]
        fn any_text_never_panics(s in "\\PC{0,64}") {
            let _ = recognise(&s);
        }
    }
}
