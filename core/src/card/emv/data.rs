//! The transaction's data objects: what the card returned and what the terminal provides,
//! looked up by tag for DOLs, field 55 and the steps.

use std::collections::BTreeMap;
use std::fmt;

use zeroize::Zeroizing;

use crate::codec::tlv::{Tlv, TlvValue};

#[derive(Default, Clone)]
pub struct TagStore {
    card: BTreeMap<u32, Zeroizing<Vec<u8>>>,
    terminal: BTreeMap<u32, Vec<u8>>,
}

impl fmt::Debug for TagStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let card: Vec<String> = self.card.keys().map(|t| format!("{t:X}")).collect();
        let term: Vec<String> = self.terminal.keys().map(|t| format!("{t:X}")).collect();
        f.debug_struct("TagStore")
            .field("card", &card)
            .field("terminal", &term)
            .finish()
    }
}

/// The card returned the same primitive data object twice (Book 3 §10.2: terminate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the card returned tag {tag:X} twice")]
pub struct DuplicateTag {
    pub tag: u32,
}

impl TagStore {
    /// The terminal's value first (it is authoritative for terminal tags), else the card's.
    pub fn get(&self, tag: u32) -> Option<&[u8]> {
        self.terminal
            .get(&tag)
            .map(Vec::as_slice)
            .or_else(|| self.card.get(&tag).map(|v| v.as_slice()))
    }

    pub fn card(&self, tag: u32) -> Option<&[u8]> {
        self.card.get(&tag).map(|v| v.as_slice())
    }

    pub fn has_card(&self, tag: u32) -> bool {
        self.card.contains_key(&tag)
    }

    pub fn set_terminal(&mut self, tag: u32, value: impl Into<Vec<u8>>) {
        self.terminal.insert(tag, value.into());
    }

    /// Stores a card value, replacing any earlier one (FCI data is replaced by a new SELECT).
    pub fn set_card(&mut self, tag: u32, value: &[u8]) {
        self.card.insert(tag, Zeroizing::new(value.to_vec()));
    }

    /// Stores every primitive inside `objects`; a primitive already present is a duplicate.
    pub fn add_card_objects(&mut self, objects: &[Tlv]) -> Result<(), DuplicateTag> {
        for o in objects {
            match &o.value {
                TlvValue::Primitive(v) => {
                    if self.card.contains_key(&o.tag) {
                        return Err(DuplicateTag { tag: o.tag });
                    }
                    self.card.insert(o.tag, Zeroizing::new(v.clone()));
                }
                TlvValue::Constructed(children) => self.add_card_objects(children)?,
            }
        }
        Ok(())
    }

    /// Forgets what the card said (a new application is being tried).
    pub fn clear_card(&mut self) {
        self.card.clear();
    }
}

/// Big-endian unsigned value of up to 8 bytes (binary data objects such as 9F13, 9F36).
pub fn be_u64(v: &[u8]) -> u64 {
    v.iter()
        .rev()
        .take(8)
        .rev()
        .fold(0, |a, &b| (a << 8) | u64::from(b))
}

/// Value of a BCD numeric data object; `None` if a nibble is not a digit.
pub fn bcd_u64(v: &[u8]) -> Option<u64> {
    let mut n: u64 = 0;
    for &b in v {
        for d in [b >> 4, b & 0x0F] {
            if d > 9 {
                return None;
            }
            n = n.checked_mul(10)?.checked_add(u64::from(d))?;
        }
    }
    Some(n)
}

/// `n` as `len` bytes of BCD.
pub fn to_bcd(mut n: u64, len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    for b in out.iter_mut().rev() {
        let lo = (n % 10) as u8;
        n /= 10;
        let hi = (n % 10) as u8;
        n /= 10;
        *b = (hi << 4) | lo;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(bcd_u64(&[0x00, 0x01, 0x23]), Some(123));
        assert_eq!(bcd_u64(&[0x1A]), None);
        assert_eq!(to_bcd(12345, 6), [0, 0, 0, 0x01, 0x23, 0x45]);
        assert_eq!(be_u64(&[0x01, 0x00]), 256);
    }

    #[test]
    fn duplicates_and_redaction() {
        let mut s = TagStore::default();
        let objs = vec![Tlv::primitive(0x5A, vec![0x62, 0x22])];
        s.add_card_objects(&objs).unwrap();
        assert_eq!(s.add_card_objects(&objs), Err(DuplicateTag { tag: 0x5A }));
        assert!(!format!("{s:?}").contains("6222"));
        s.set_terminal(0x9F37, vec![1, 2, 3, 4]);
        assert_eq!(s.get(0x9F37), Some(&[1, 2, 3, 4][..]));
    }
}
