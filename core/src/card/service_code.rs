//! The 3-digit service code of ISO/IEC 7813 (track 2), one table per digit position.

use std::fmt;

use zeroize::Zeroize;

use super::CardError;

/// Digit 1: interchange and technology.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Interchange {
    International,
    InternationalChip,
    National,
    NationalChip,
    Private,
    Test,
    Reserved(u8),
}

/// Digit 2: authorization processing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthorizationProcessing {
    Normal,
    ByIssuer,
    ByIssuerExceptBilateral,
    Reserved(u8),
}

/// Digit 3: allowed services and PIN requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServiceRestriction {
    NoRestrictionsPinRequired,
    NoRestrictions,
    GoodsAndServicesOnly,
    AtmOnlyPinRequired,
    CashOnly,
    GoodsAndServicesOnlyPinRequired,
    NoRestrictionsPinIfPad,
    GoodsAndServicesOnlyPinIfPad,
    Reserved(u8),
}

const INTERCHANGE: [Interchange; 10] = [
    Interchange::Reserved(0),
    Interchange::International,
    Interchange::InternationalChip,
    Interchange::Reserved(3),
    Interchange::Reserved(4),
    Interchange::National,
    Interchange::NationalChip,
    Interchange::Private,
    Interchange::Reserved(8),
    Interchange::Test,
];

const AUTHORIZATION: [AuthorizationProcessing; 10] = [
    AuthorizationProcessing::Normal,
    AuthorizationProcessing::Reserved(1),
    AuthorizationProcessing::ByIssuer,
    AuthorizationProcessing::Reserved(3),
    AuthorizationProcessing::ByIssuerExceptBilateral,
    AuthorizationProcessing::Reserved(5),
    AuthorizationProcessing::Reserved(6),
    AuthorizationProcessing::Reserved(7),
    AuthorizationProcessing::Reserved(8),
    AuthorizationProcessing::Reserved(9),
];

const RESTRICTION: [ServiceRestriction; 10] = [
    ServiceRestriction::NoRestrictionsPinRequired,
    ServiceRestriction::NoRestrictions,
    ServiceRestriction::GoodsAndServicesOnly,
    ServiceRestriction::AtmOnlyPinRequired,
    ServiceRestriction::CashOnly,
    ServiceRestriction::GoodsAndServicesOnlyPinRequired,
    ServiceRestriction::NoRestrictionsPinIfPad,
    ServiceRestriction::GoodsAndServicesOnlyPinIfPad,
    ServiceRestriction::Reserved(8),
    ServiceRestriction::Reserved(9),
];

/// A validated service code. Digits are kept so that reserved values survive a round trip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Zeroize)]
pub struct ServiceCode {
    digits: [u8; 3],
}

impl ServiceCode {
    pub fn parse(s: &str) -> Result<ServiceCode, CardError> {
        let b = s.as_bytes();
        if b.len() != 3 || !b.iter().all(u8::is_ascii_digit) {
            return Err(CardError::ServiceCodeFormat);
        }
        Ok(ServiceCode {
            digits: [b[0] - b'0', b[1] - b'0', b[2] - b'0'],
        })
    }

    pub fn interchange(&self) -> Interchange {
        INTERCHANGE[usize::from(self.digits[0] % 10)]
    }

    pub fn authorization(&self) -> AuthorizationProcessing {
        AUTHORIZATION[usize::from(self.digits[1] % 10)]
    }

    pub fn restriction(&self) -> ServiceRestriction {
        RESTRICTION[usize::from(self.digits[2] % 10)]
    }

    /// Digit 1 is 2 or 6: the card has a chip that should be used where the terminal can.
    pub fn is_chip_card(&self) -> bool {
        matches!(
            self.interchange(),
            Interchange::InternationalChip | Interchange::NationalChip
        )
    }

    /// Digit 2 is 2 or 4: the issuer wants to authorise online.
    pub fn requires_online(&self) -> bool {
        matches!(
            self.authorization(),
            AuthorizationProcessing::ByIssuer | AuthorizationProcessing::ByIssuerExceptBilateral
        )
    }

    /// Digit 3 is 0, 3 or 5.
    pub fn pin_required(&self) -> bool {
        matches!(
            self.restriction(),
            ServiceRestriction::NoRestrictionsPinRequired
                | ServiceRestriction::AtmOnlyPinRequired
                | ServiceRestriction::GoodsAndServicesOnlyPinRequired
        )
    }

    /// Digit 3 is 6 or 7: ask for a PIN when a PIN pad is present.
    pub fn pin_if_pad_present(&self) -> bool {
        matches!(
            self.restriction(),
            ServiceRestriction::NoRestrictionsPinIfPad
                | ServiceRestriction::GoodsAndServicesOnlyPinIfPad
        )
    }

    /// Whether a purchase of goods and services is allowed (not ATM-only nor cash-only).
    pub fn allows_goods_and_services(&self) -> bool {
        !matches!(
            self.restriction(),
            ServiceRestriction::AtmOnlyPinRequired
                | ServiceRestriction::CashOnly
                | ServiceRestriction::Reserved(_)
        )
    }
}

impl fmt::Display for ServiceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{}", self.digits[0], self.digits[1], self.digits[2])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Meanings per ISO/IEC 7813:2006 clause 10.2 (service code), also summarised in the
    // "ISO/IEC 7813" Wikipedia article's service-code table.
    #[test]
    fn chip_digit_one() {
        for (code, chip) in [
            ("101", false),
            ("201", true),
            ("501", false),
            ("601", true),
            ("701", false),
            ("901", false),
        ] {
            assert_eq!(
                ServiceCode::parse(code).unwrap().is_chip_card(),
                chip,
                "{code}"
            );
        }
        assert_eq!(
            ServiceCode::parse("301").unwrap().interchange(),
            Interchange::Reserved(3)
        );
    }

    #[test]
    fn authorization_digit_two() {
        assert!(!ServiceCode::parse("201").unwrap().requires_online());
        assert!(ServiceCode::parse("221").unwrap().requires_online());
        assert!(ServiceCode::parse("241").unwrap().requires_online());
    }

    #[test]
    fn pin_digit_three() {
        let required: Vec<u8> = (0..10)
            .filter(|d| {
                ServiceCode::parse(&format!("20{d}"))
                    .unwrap()
                    .pin_required()
            })
            .collect();
        assert_eq!(required, vec![0, 3, 5]);
        let prompt: Vec<u8> = (0..10)
            .filter(|d| {
                ServiceCode::parse(&format!("20{d}"))
                    .unwrap()
                    .pin_if_pad_present()
            })
            .collect();
        assert_eq!(prompt, vec![6, 7]);
        assert!(
            !ServiceCode::parse("204")
                .unwrap()
                .allows_goods_and_services()
        );
        assert!(
            !ServiceCode::parse("203")
                .unwrap()
                .allows_goods_and_services()
        );
        assert!(
            ServiceCode::parse("202")
                .unwrap()
                .allows_goods_and_services()
        );
    }

    #[test]
    fn rejects_bad_format() {
        for bad in ["20", "2011", "2a1", ""] {
            assert_eq!(
                ServiceCode::parse(bad).unwrap_err(),
                CardError::ServiceCodeFormat
            );
        }
        assert_eq!(ServiceCode::parse("026").unwrap().to_string(), "026");
    }
}
