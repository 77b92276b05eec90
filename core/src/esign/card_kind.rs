//! The card's account kind for the acquirer's signature rules, from what the card itself says
//! or what the acquirer configured — never from a BIN table of our own.
//!
//! In order:
//! 1. The selected application's AID. UnionPay's PBOC applications carry the kind in their PIX
//!    (JR/T 0025, the PBOC debit/credit application specification, as the registered AIDs
//!    are published, e.g. "AID-应用标识符的组成规则", cnblogs.com/ttss/p/4466337.html):
//!    A000000333 010101 借记 (debit), 010102 贷记 (credit), 010103 准贷记 (quasi-credit, a
//!    credit account the holder prefunds; an acquirer's "credit" rule means it too), 010106
//!    纯电子现金 (a pure electronic-cash purse, no account behind it). Visa registered
//!    A000000003101001 "VISA Credit" and A000000003101002 "VISA Debit" besides the mixed
//!    A0000000031010 (the EFTlab list of registered AIDs, mirrored at
//!    cnblogs.com/merray/p/9558197.html). Every other AID (Visa's and Mastercard's classic
//!    ones, UnionPay's US common debit 010108, which is not a PBOC account type, JCB, Amex,
//!    Discover) says nothing.
//! 2. For an AID that says nothing, the card's Application Label (tag 50, the issuer's words)
//!    when it names exactly one of DEBIT / CREDIT as a word ("VISA DEBIT"); never for a
//!    UnionPay AID, whose pure e-cash cards are labelled "PBOC DEBIT" too.
//! 3. The acquirer's configured BIN ranges (`SignaturePolicy::card_kind_bins`), for swiped
//!    cards and for chips whose AID and label said nothing.
//! 4. Otherwise `Unknown`, matched only by rules that say "any".
//!
//! Not used: 9F0A (Application Selection Registered Proprietary Data) can carry a product
//! type, but no public source of its encoding was found; the issuer country (5F28) names a
//! country, not a kind.

use thiserror::Error;

use super::policy::CardKind;

/// UnionPay's RID and the application-type prefix of its PBOC PIX.
const UNIONPAY_PBOC: [u8; 7] = [0xA0, 0x00, 0x00, 0x03, 0x33, 0x01, 0x01];
const VISA_CREDIT: [u8; 8] = [0xA0, 0x00, 0x00, 0x00, 0x03, 0x10, 0x10, 0x01];
const VISA_DEBIT: [u8; 8] = [0xA0, 0x00, 0x00, 0x00, 0x03, 0x10, 0x10, 0x02];

/// The most digits a configured range may have: the 8-digit IIN of ISO/IEC 7812-1:2017 (the
/// PAN itself never leaves `card::Pan`).
pub const MAX_BIN_DIGITS: usize = 8;

/// The kind the selected application's AID names, if it names one.
pub fn kind_of_aid(aid: &[u8]) -> Option<CardKind> {
    if aid.len() == UNIONPAY_PBOC.len() + 1 && aid.starts_with(&UNIONPAY_PBOC) {
        return match aid[UNIONPAY_PBOC.len()] {
            0x01 => Some(CardKind::Debit),
            0x02 | 0x03 => Some(CardKind::Credit),
            0x06 => Some(CardKind::ElectronicCash),
            _ => None,
        };
    }
    if aid == VISA_CREDIT {
        return Some(CardKind::Credit);
    }
    if aid == VISA_DEBIT {
        return Some(CardKind::Debit);
    }
    None
}

/// The kind the card's Application Label names: exactly one of the words DEBIT and CREDIT.
fn kind_of_label(label: &str) -> Option<CardKind> {
    let mut debit = false;
    let mut credit = false;
    for word in label.split(|c: char| !c.is_ascii_alphanumeric()) {
        debit |= word.eq_ignore_ascii_case("debit");
        credit |= word.eq_ignore_ascii_case("credit");
    }
    match (debit, credit) {
        (true, false) => Some(CardKind::Debit),
        (false, true) => Some(CardKind::Credit),
        _ => None,
    }
}

/// What the chip said about itself: its AID, else (outside UnionPay) its label.
pub fn kind_of_chip(aid: &[u8], label: &str) -> Option<CardKind> {
    if let Some(kind) = kind_of_aid(aid) {
        return Some(kind);
    }
    if aid.starts_with(&UNIONPAY_PBOC[..5]) {
        return None;
    }
    kind_of_label(label)
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum BinRangeError {
    #[error("a BIN range bound is 1 to {MAX_BIN_DIGITS} digits")]
    Digits,
    #[error("the two bounds of a BIN range have different lengths")]
    Lengths,
    #[error("a BIN range's low bound is above its high bound")]
    Order,
}

/// One row of the acquirer's BIN table: PANs whose first digits fall in `low..=high` (both
/// the same length) are of `kind`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinRange {
    low: String,
    high: String,
    kind: CardKind,
}

impl BinRange {
    pub fn new(low: &str, high: &str, kind: CardKind) -> Result<BinRange, BinRangeError> {
        let digits = |s: &str| {
            (1..=MAX_BIN_DIGITS).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
        };
        if !digits(low) || !digits(high) {
            return Err(BinRangeError::Digits);
        }
        if low.len() != high.len() {
            return Err(BinRangeError::Lengths);
        }
        // Same length, digits only: text order is numeric order.
        if low > high {
            return Err(BinRangeError::Order);
        }
        Ok(BinRange {
            low: low.to_owned(),
            high: high.to_owned(),
            kind,
        })
    }

    pub fn kind(&self) -> CardKind {
        self.kind
    }

    /// Whether a PAN starting with `bin8` (its first eight digits) falls in the range.
    pub fn contains(&self, bin8: &str) -> bool {
        bin8.get(..self.low.len())
            .is_some_and(|prefix| self.low.as_str() <= prefix && prefix <= self.high.as_str())
    }
}

/// The kind of a card: the chip's word when it has one, else the acquirer's first BIN range
/// holding `bin8`, else `Unknown`.
pub fn card_kind(chip: Option<(&[u8], &str)>, bin8: &str, bins: &[BinRange]) -> CardKind {
    chip.and_then(|(aid, label)| kind_of_chip(aid, label))
        .or_else(|| bins.iter().find(|r| r.contains(bin8)).map(BinRange::kind))
        .unwrap_or(CardKind::Unknown)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aid(hex: &str) -> Vec<u8> {
        hex::decode(hex).expect("hex")
    }

    #[test]
    fn unionpay_aids_name_the_account_kind() {
        // JR/T 0025 PIX values (see the module doc).
        for (hex, kind) in [
            ("A000000333010101", Some(CardKind::Debit)),
            ("A000000333010102", Some(CardKind::Credit)),
            ("A000000333010103", Some(CardKind::Credit)),
            ("A000000333010106", Some(CardKind::ElectronicCash)),
            ("A000000333010108", None),
            ("A0000003330101", None),
            ("A00000033301010101", None),
            ("A000000003101001", Some(CardKind::Credit)),
            ("A000000003101002", Some(CardKind::Debit)),
            ("A0000000031010", None),
            ("A0000000041010", None),
            ("", None),
        ] {
            assert_eq!(kind_of_aid(&aid(hex)), kind, "{hex}");
        }
    }

    #[test]
    fn a_label_decides_only_for_other_schemes_and_only_when_it_says_one_kind() {
        let visa = aid("A0000000031010");
        assert_eq!(kind_of_chip(&visa, "VISA DEBIT"), Some(CardKind::Debit));
        assert_eq!(kind_of_chip(&visa, "Visa Credit"), Some(CardKind::Credit));
        assert_eq!(kind_of_chip(&visa, "VISA"), None);
        assert_eq!(kind_of_chip(&visa, "DEBIT/CREDIT"), None);
        // A word, not a substring.
        assert_eq!(kind_of_chip(&visa, "CREDITOR BANK"), None);
        // The AID wins over the label, and UnionPay labels are never read ("PBOC DEBIT" is
        // also what pure e-cash cards say).
        let credit = aid("A000000333010102");
        assert_eq!(kind_of_chip(&credit, "PBOC DEBIT"), Some(CardKind::Credit));
        assert_eq!(kind_of_chip(&aid("A000000333010108"), "PBOC DEBIT"), None);
    }

    #[test]
    fn bin_ranges_are_checked_and_matched_by_prefix() {
        assert_eq!(
            BinRange::new("62", "6", CardKind::Debit),
            Err(BinRangeError::Lengths)
        );
        assert_eq!(
            BinRange::new("622", "621", CardKind::Debit),
            Err(BinRangeError::Order)
        );
        for bad in ["", "62x", "622202001"] {
            assert_eq!(
                BinRange::new(bad, bad, CardKind::Debit),
                Err(BinRangeError::Digits),
                "{bad:?}"
            );
        }
        let r = BinRange::new("622200", "622299", CardKind::Credit).expect("range");
        assert!(r.contains("62220200"));
        assert!(r.contains("62229999"));
        assert!(!r.contains("62230000"));
        assert!(!r.contains("6222"), "a prefix shorter than the range");
        let bins = vec![
            BinRange::new("622202", "622202", CardKind::Debit).expect("range"),
            r,
        ];
        // First match wins; the chip's own word wins over both.
        assert_eq!(card_kind(None, "62220200", &bins), CardKind::Debit);
        assert_eq!(card_kind(None, "62221000", &bins), CardKind::Credit);
        assert_eq!(card_kind(None, "40000000", &bins), CardKind::Unknown);
        let credit = aid("A000000333010102");
        assert_eq!(
            card_kind(Some((&credit, "")), "62220200", &bins),
            CardKind::Credit
        );
        // A chip that says nothing falls back on the acquirer's table.
        let visa = aid("A0000000031010");
        assert_eq!(
            card_kind(Some((&visa, "VISA")), "62220200", &bins),
            CardKind::Debit
        );
        assert_eq!(card_kind(None, "62220200", &[]), CardKind::Unknown);
    }
}
