//! Track 2 equivalent data (ISO/IEC 7813 track 2; EMV tag 57; ISO 8583 field 35).

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::{CardError, Expiry, Pan, ServiceCode};

/// Borrows validated track bytes as text without copying card data into temporaries. Callers
/// pass only ASCII digits, so the empty fallback is never taken.
fn ascii(b: &[u8]) -> &str {
    std::str::from_utf8(b).unwrap_or_default()
}

/// ISO/IEC 7813 caps track 2 at 40 characters including start sentinel, end sentinel and LRC,
/// which leaves 37 for PAN, separator and the rest (also the ISO 8583 field 35 maximum).
const MAX_LEN: usize = 37;

/// Parsed track 2. Holds the full PAN and discretionary data (which may carry CVV/iCVV), so it
/// zeroizes on drop and its `Debug` shows only the masked PAN.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Track2 {
    pan: Pan,
    expiry: Expiry,
    service_code: ServiceCode,
    discretionary: String,
}

impl Track2 {
    /// Parses the ASCII form (`PAN=YYMMSSS...`, optional `;`/`?` sentinels) or the nibble form as
    /// hex text (`PAN D YYMM SSS ... [F]`, separator `D`, optional trailing `F` pad).
    pub fn parse(text: &str) -> Result<Track2, CardError> {
        let mut body = text.as_bytes();
        let mut base = 0;
        if let Some(rest) = body.strip_prefix(b";") {
            body = rest;
            base = 1;
        }
        if let Some(rest) = body.strip_suffix(b"?") {
            body = rest;
        }
        if let Some(rest) = body.strip_suffix(b"F").or_else(|| body.strip_suffix(b"f")) {
            body = rest;
        }
        if body.len() > MAX_LEN {
            return Err(CardError::Track2TooLong { len: body.len() });
        }
        let sep = body
            .iter()
            .position(|&c| matches!(c, b'=' | b'D' | b'd'))
            .ok_or(CardError::Track2NoSeparator)?;
        if let Some(i) = body
            .iter()
            .position(|&c| !(c.is_ascii_digit() || matches!(c, b'=' | b'D' | b'd')))
        {
            return Err(CardError::Track2BadChar { offset: base + i });
        }
        if let Some(i) = body[sep + 1..].iter().position(|c| !c.is_ascii_digit()) {
            return Err(CardError::Track2BadChar {
                offset: base + sep + 1 + i,
            });
        }
        let pan = Pan::parse(ascii(&body[..sep]))?;
        let after = &body[sep + 1..];
        let truncated = |element| CardError::Track2Truncated {
            offset: base + body.len(),
            element,
        };
        let expiry = Expiry::parse(ascii(
            after.get(..4).ok_or_else(|| truncated("expiry date"))?,
        ))?;
        let service_code = ServiceCode::parse(ascii(
            after.get(4..7).ok_or_else(|| truncated("service code"))?,
        ))?;
        Ok(Track2 {
            pan,
            expiry,
            service_code,
            discretionary: ascii(after.get(7..).unwrap_or_default()).to_owned(),
        })
    }

    /// Parses the packed binary form (EMV tag 57, BCD nibbles with `D` separator, `F` pad).
    pub fn from_nibbles(bytes: &[u8]) -> Result<Track2, CardError> {
        let text = Zeroizing::new(hex::encode_upper(bytes));
        Track2::parse(&text)
    }

    pub fn pan(&self) -> &Pan {
        &self.pan
    }

    pub fn expiry(&self) -> Expiry {
        self.expiry
    }

    pub fn service_code(&self) -> ServiceCode {
        self.service_code
    }

    /// Issuer discretionary data (may hold PVV/CVV): never log or print it.
    pub fn expose_discretionary(&self) -> &str {
        &self.discretionary
    }

    /// Field 35 content as nibble characters with `D` as the separator (UnionPay packs field 35
    /// as BCD where `=` becomes nibble D); no padding, length ≤ 37.
    pub fn field35_digits(&self) -> Zeroizing<String> {
        let mut s = Zeroizing::new(String::with_capacity(MAX_LEN));
        s.push_str(self.pan.expose_digits());
        s.push('D');
        s.push_str(&self.expiry.yymm());
        s.push_str(&self.service_code.to_string());
        s.push_str(&self.discretionary);
        s
    }
}

impl fmt::Debug for Track2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Track2")
            .field("pan", &self.pan.masked())
            .field("expiry", &"[redacted]")
            .field("service_code", &self.service_code.to_string())
            .field("discretionary", &"[redacted]")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Layout per EMV 4.4 Book 3 Annex A, tag 57 (Track 2 Equivalent Data): PAN, separator D,
    // YYMM, service code, discretionary data, F pad to whole bytes. PAN 4761739001010119 is the
    // Visa test PAN published in acquirer test-card kits; the remaining fields are constructed.
    const TAG57_HEX: &str = "4761739001010119D22122011143804400000F";

    #[test]
    fn parses_ascii_with_sentinels() {
        let t = Track2::parse(";6222021234561234=25122011234567890?").unwrap();
        assert_eq!(t.pan().expose_digits(), "6222021234561234");
        assert_eq!(t.expiry().yymm(), "2512");
        assert_eq!(t.service_code().to_string(), "201");
        assert!(t.service_code().is_chip_card());
        assert_eq!(t.expose_discretionary(), "1234567890");
        assert_eq!(&*t.field35_digits(), "6222021234561234D25122011234567890");
    }

    #[test]
    fn parses_nibble_forms() {
        let t = Track2::parse(TAG57_HEX).unwrap();
        assert_eq!(t.pan().expose_digits(), "4761739001010119");
        assert_eq!(t.expiry().yymm(), "2212");
        assert_eq!(t.service_code().to_string(), "201");
        assert_eq!(t.expose_discretionary(), "1143804400000");
        let bin = hex::decode(TAG57_HEX.replace('D', "d").to_lowercase()).unwrap();
        assert_eq!(Track2::from_nibbles(&bin).unwrap(), t);
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_any_text(s in "\\PC{0,60}") {
            let _ = Track2::parse(&s);
        }

        #[test]
        fn never_panics_on_track_like_text(s in "[;0-9=DdFf?]{0,45}") {
            let _ = Track2::parse(&s);
        }

        #[test]
        fn never_panics_on_any_bytes(b in proptest::collection::vec(proptest::num::u8::ANY, 0..30)) {
            let _ = Track2::from_nibbles(&b);
        }

        #[test]
        fn field35_round_trips(pan in "[0-9]{12,19}", yy in 0u8..100, mm in 1u8..13,
                               sc in "[0-9]{3}", dd in "[0-9]{0,4}") {
            let text = format!("{pan}={yy:02}{mm:02}{sc}{dd}");
            let t = Track2::parse(&text).unwrap();
            let f35 = t.field35_digits();
            let expected = text.replace('=', "D");
            proptest::prop_assert_eq!(f35.as_str(), expected.as_str());
            proptest::prop_assert_eq!(Track2::parse(&t.field35_digits()).unwrap(), t);
        }
    }

    #[test]
    fn debug_is_masked() {
        let t = Track2::parse("6222021234561234=25122011234567890").unwrap();
        let dbg = format!("{t:?}");
        assert!(dbg.contains("622202******1234"), "{dbg}");
        assert!(!dbg.contains("6222021234561234"), "{dbg}");
        assert!(!dbg.contains("2512"), "{dbg}");
        assert!(!dbg.contains("1234567890"), "{dbg}");
    }

    #[test]
    fn typed_errors_with_offsets() {
        assert_eq!(
            Track2::parse("6222021234561234").unwrap_err(),
            CardError::Track2NoSeparator
        );
        assert_eq!(
            Track2::parse("62220212345612X4=2512201").unwrap_err(),
            CardError::Track2BadChar { offset: 14 }
        );
        assert_eq!(
            Track2::parse(";6222021234561234=2512201=9").unwrap_err(),
            CardError::Track2BadChar { offset: 25 }
        );
        assert_eq!(
            Track2::parse("6222021234561234=25").unwrap_err(),
            CardError::Track2Truncated {
                offset: 19,
                element: "expiry date"
            }
        );
        assert_eq!(
            Track2::parse("6222021234561234=251220").unwrap_err(),
            CardError::Track2Truncated {
                offset: 23,
                element: "service code"
            }
        );
        assert_eq!(
            Track2::parse("6222021234561234=2513201").unwrap_err(),
            CardError::ExpiryMonth { month: 13 }
        );
        let long = format!("6222021234561234=2512201{}", "1".repeat(14));
        assert_eq!(
            Track2::parse(&long).unwrap_err(),
            CardError::Track2TooLong { len: 38 }
        );
        let max = format!("6222021234561234=2512201{}", "1".repeat(13));
        assert!(Track2::parse(&max).is_ok());
        assert_eq!(
            Track2::parse("1234=2512201").unwrap_err(),
            CardError::PanLength { len: 4 }
        );
    }
}
