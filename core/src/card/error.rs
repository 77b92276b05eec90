use thiserror::Error;

/// Why card data was rejected. Messages name the element and, for track 2, the character offset;
/// they never contain the card data itself.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CardError {
    #[error("PAN has {len} digits; ISO/IEC 7812-1 allows 12 to 19")]
    PanLength { len: usize },
    #[error("PAN contains a non-digit at offset {offset}")]
    PanNotNumeric { offset: usize },
    #[error("track 2 is {len} characters long; at most 37 are allowed")]
    Track2TooLong { len: usize },
    #[error("track 2 has no field separator ('=' or 'D')")]
    Track2NoSeparator,
    #[error("track 2 has an invalid character at offset {offset}")]
    Track2BadChar { offset: usize },
    #[error("track 2 ends at offset {offset} before the {element} is complete")]
    Track2Truncated {
        offset: usize,
        element: &'static str,
    },
    #[error("expiry date must be 4 digits YYMM")]
    ExpiryFormat,
    #[error("expiry month {month} is not 01..12")]
    ExpiryMonth { month: u8 },
    #[error("service code must be 3 digits")]
    ServiceCodeFormat,
    #[error("calendar month {month} is not 1..12")]
    CalendarMonth { month: u8 },
}
