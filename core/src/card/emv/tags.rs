//! The EMV data element dictionary as a table (EMV 4.4 Book 3 Annex A, plus the PBOC 3.0 /
//! UnionPay qPBOC tags a UnionPay terminal meets, JR/T 0025 parts 5, 12 and 13).

/// Data element format (Book 3 §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Binary.
    B,
    /// Numeric BCD, right-justified, left-padded with zeros.
    N,
    /// Compressed numeric BCD, left-justified, right-padded with F.
    Cn,
    /// Alphanumeric.
    An,
    /// Alphanumeric special.
    Ans,
}

/// Who provides the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Card,
    Terminal,
    Issuer,
}

/// One row of the dictionary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TagInfo {
    pub tag: u32,
    pub name: &'static str,
    pub format: Format,
    pub source: Source,
    /// Card data that must never be printed or logged.
    pub sensitive: bool,
}

const fn t(tag: u32, name: &'static str, format: Format, source: Source) -> TagInfo {
    TagInfo {
        tag,
        name,
        format,
        source,
        sensitive: false,
    }
}

const fn secret(tag: u32, name: &'static str, format: Format, source: Source) -> TagInfo {
    TagInfo {
        tag,
        name,
        format,
        source,
        sensitive: true,
    }
}

use Format::{An, Ans, B, Cn, N};
use Source::{Card, Issuer, Terminal};

/// EMV 4.4 Book 3 Annex A, table 33, in tag order; then PBOC 3.0 / UnionPay tags.
pub const TAGS: &[TagInfo] = &[
    t(0x42, "issuer identification number", N, Card),
    t(0x4F, "application identifier (card)", B, Card),
    t(0x50, "application label", Ans, Card),
    secret(0x56, "track 1 data", Ans, Card),
    secret(0x57, "track 2 equivalent data", B, Card),
    secret(0x5A, "application PAN", Cn, Card),
    secret(0x5F20, "cardholder name", Ans, Card),
    t(0x5F24, "application expiration date", N, Card),
    t(0x5F25, "application effective date", N, Card),
    t(0x5F28, "issuer country code", N, Card),
    t(0x5F2A, "transaction currency code", N, Terminal),
    t(0x5F2D, "language preference", An, Card),
    t(0x5F30, "service code", N, Card),
    t(0x5F34, "PAN sequence number", N, Card),
    t(0x5F36, "transaction currency exponent", N, Terminal),
    t(0x5F50, "issuer URL", Ans, Card),
    t(0x5F53, "IBAN", B, Card),
    t(0x5F54, "bank identifier code", B, Card),
    t(0x5F55, "issuer country code (alpha2)", An, Card),
    t(0x5F56, "issuer country code (alpha3)", An, Card),
    t(0x61, "application template", B, Card),
    t(0x6F, "FCI template", B, Card),
    t(0x70, "READ RECORD response template", B, Card),
    t(0x71, "issuer script template 1", B, Issuer),
    t(0x72, "issuer script template 2", B, Issuer),
    t(0x73, "directory discretionary template", B, Card),
    t(0x77, "response message template format 2", B, Card),
    t(0x80, "response message template format 1", B, Card),
    t(0x81, "amount, authorised (binary)", B, Terminal),
    t(0x82, "application interchange profile", B, Card),
    t(0x83, "command template", B, Terminal),
    t(0x84, "dedicated file name", B, Card),
    t(0x86, "issuer script command", B, Issuer),
    t(0x87, "application priority indicator", B, Card),
    t(0x88, "short file identifier", B, Card),
    t(0x89, "authorisation code", Ans, Issuer),
    t(0x8A, "authorisation response code", An, Issuer),
    t(0x8C, "CDOL1", B, Card),
    t(0x8D, "CDOL2", B, Card),
    t(0x8E, "CVM list", B, Card),
    t(0x8F, "CA public key index (card)", B, Card),
    t(0x90, "issuer public key certificate", B, Card),
    t(0x91, "issuer authentication data", B, Issuer),
    t(0x92, "issuer public key remainder", B, Card),
    t(0x93, "signed static application data", B, Card),
    t(0x94, "application file locator", B, Card),
    t(0x95, "terminal verification results", B, Terminal),
    t(0x97, "TDOL", B, Card),
    t(0x98, "TC hash value", B, Terminal),
    secret(0x99, "transaction PIN data", B, Terminal),
    t(0x9A, "transaction date", N, Terminal),
    t(0x9B, "transaction status information", B, Terminal),
    t(0x9C, "transaction type", N, Terminal),
    t(0x9D, "DDF name", B, Card),
    t(0x9F01, "acquirer identifier", N, Terminal),
    t(0x9F02, "amount, authorised", N, Terminal),
    t(0x9F03, "amount, other", N, Terminal),
    t(0x9F04, "amount, other (binary)", B, Terminal),
    t(0x9F05, "application discretionary data", B, Card),
    t(0x9F06, "application identifier (terminal)", B, Terminal),
    t(0x9F07, "application usage control", B, Card),
    t(0x9F08, "application version number (card)", B, Card),
    t(0x9F09, "application version number (terminal)", B, Terminal),
    secret(0x9F0B, "cardholder name extended", Ans, Card),
    t(0x9F0D, "issuer action code - default", B, Card),
    t(0x9F0E, "issuer action code - denial", B, Card),
    t(0x9F0F, "issuer action code - online", B, Card),
    t(0x9F10, "issuer application data", B, Card),
    t(0x9F11, "issuer code table index", N, Card),
    t(0x9F12, "application preferred name", Ans, Card),
    t(0x9F13, "last online ATC register", B, Card),
    t(0x9F14, "lower consecutive offline limit", B, Card),
    t(0x9F15, "merchant category code", N, Terminal),
    t(0x9F16, "merchant identifier", Ans, Terminal),
    t(0x9F17, "PIN try counter", B, Card),
    t(0x9F18, "issuer script identifier", B, Issuer),
    t(0x9F19, "token requestor ID", N, Card),
    t(0x9F1A, "terminal country code", N, Terminal),
    t(0x9F1B, "terminal floor limit", B, Terminal),
    t(0x9F1C, "terminal identification", An, Terminal),
    t(0x9F1D, "terminal risk management data", B, Terminal),
    t(0x9F1E, "IFD serial number", An, Terminal),
    secret(0x9F1F, "track 1 discretionary data", Ans, Card),
    secret(0x9F20, "track 2 discretionary data", Cn, Card),
    t(0x9F21, "transaction time", N, Terminal),
    t(0x9F22, "CA public key index (terminal)", B, Terminal),
    t(0x9F23, "upper consecutive offline limit", B, Card),
    t(0x9F24, "payment account reference", An, Card),
    t(0x9F25, "last 4 digits of PAN", N, Card),
    t(0x9F26, "application cryptogram", B, Card),
    t(0x9F27, "cryptogram information data", B, Card),
    t(
        0x9F2D,
        "ICC PIN encipherment public key certificate",
        B,
        Card,
    ),
    t(0x9F2E, "ICC PIN encipherment public key exponent", B, Card),
    t(0x9F2F, "ICC PIN encipherment public key remainder", B, Card),
    t(0x9F32, "issuer public key exponent", B, Card),
    t(0x9F33, "terminal capabilities", B, Terminal),
    t(0x9F34, "CVM results", B, Terminal),
    t(0x9F35, "terminal type", N, Terminal),
    t(0x9F36, "application transaction counter", B, Card),
    t(0x9F37, "unpredictable number", B, Terminal),
    t(0x9F38, "PDOL", B, Card),
    t(0x9F39, "POS entry mode", N, Terminal),
    t(0x9F3A, "amount, reference currency", B, Terminal),
    t(0x9F3B, "application reference currency", N, Card),
    t(0x9F3C, "transaction reference currency code", N, Terminal),
    t(
        0x9F3D,
        "transaction reference currency exponent",
        N,
        Terminal,
    ),
    t(0x9F40, "additional terminal capabilities", B, Terminal),
    t(0x9F41, "transaction sequence counter", N, Terminal),
    t(0x9F42, "application currency code", N, Card),
    t(0x9F43, "application reference currency exponent", N, Card),
    t(0x9F44, "application currency exponent", N, Card),
    t(0x9F45, "data authentication code", B, Card),
    t(0x9F46, "ICC public key certificate", B, Card),
    t(0x9F47, "ICC public key exponent", B, Card),
    t(0x9F48, "ICC public key remainder", B, Card),
    t(0x9F49, "DDOL", B, Card),
    t(0x9F4A, "static data authentication tag list", B, Card),
    t(0x9F4B, "signed dynamic application data", B, Card),
    t(0x9F4C, "ICC dynamic number", B, Card),
    t(0x9F4D, "log entry", B, Card),
    t(0x9F4E, "merchant name and location", Ans, Terminal),
    t(0x9F4F, "log format", B, Card),
    t(0x9F53, "transaction category code", An, Terminal),
    t(0x9F5B, "issuer script results", B, Terminal),
    t(0xA5, "FCI proprietary template", B, Card),
    t(0xBF0C, "FCI issuer discretionary data", B, Card),
    // PBOC 3.0 (JR/T 0025.5 Annex A, JR/T 0025.12 qPBOC, JR/T 0025.13 electronic cash).
    t(0x9F51, "application currency code (PBOC)", N, Card),
    t(0x9F52, "application default action", B, Card),
    t(0x9F57, "issuer country code (PBOC)", N, Card),
    t(0x9F5D, "available offline spending amount", N, Card),
    t(0x9F63, "card product identification information", B, Card),
    t(0x9F66, "terminal transaction qualifiers", B, Terminal),
    t(0x9F69, "card authentication related data", B, Card),
    secret(0x9F6B, "track 2 data (qPBOC)", B, Card),
    t(0x9F6C, "card transaction qualifiers", B, Card),
    t(0x9F6D, "EC reset threshold", N, Card),
    t(0x9F74, "EC issuer authorisation code", An, Card),
    t(0x9F77, "EC balance limit", N, Card),
    t(0x9F78, "EC single transaction limit", N, Card),
    t(0x9F79, "EC balance", N, Card),
    t(0x9F7A, "EC terminal support indicator", B, Terminal),
    t(0x9F7B, "EC terminal transaction limit", N, Terminal),
    t(0xDF31, "issuer script results (UnionPay)", B, Terminal),
    t(0xDF4D, "EC load log entry", B, Card),
    t(0xDF4F, "EC load log format", B, Card),
    t(0xDF69, "SM algorithm supported indicator", B, Terminal),
];

/// The row for `tag`, `None` outside the dictionary.
pub fn lookup(tag: u32) -> Option<&'static TagInfo> {
    TAGS.iter().find(|i| i.tag == tag)
}

/// The dictionary name of `tag`.
pub fn name(tag: u32) -> Option<&'static str> {
    lookup(tag).map(|i| i.name)
}

/// Card data that must not be shown: the dictionary's sensitive rows and the codec's list.
pub fn is_sensitive(tag: u32) -> bool {
    lookup(tag).is_some_and(|i| i.sensitive) || crate::codec::tlv::is_sensitive(tag)
}

/// Whether the value is numeric (BCD right-justified) for DOL padding (Book 3 §5.4).
pub fn is_numeric(tag: u32) -> bool {
    lookup(tag).is_some_and(|i| i.format == Format::N)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_unique_and_in_dictionary_form() {
        for (i, a) in TAGS.iter().enumerate() {
            assert!(!a.name.is_empty());
            for b in &TAGS[i + 1..] {
                assert_ne!(a.tag, b.tag, "duplicate {:X}", a.tag);
            }
        }
    }

    /// Formats and sources from Book 3 Annex A table 33.
    #[test]
    fn known_rows() {
        let pan = lookup(0x5A).unwrap();
        assert_eq!((pan.format, pan.source, pan.sensitive), (Cn, Card, true));
        assert!(is_numeric(0x9F02) && is_numeric(0x5F2A) && is_numeric(0x9A));
        assert!(!is_numeric(0x9F37) && !is_numeric(0x95));
        assert_eq!(lookup(0x8A).unwrap().source, Issuer);
        assert_eq!(name(0x9F79), Some("EC balance"));
        assert!(is_sensitive(0x57) && is_sensitive(0x9F6B) && !is_sensitive(0x9F26));
    }
}
