//! Data object lists (EMV 4.4 Book 3 §5.4): a DOL is a list of tag + length pairs, and the data a
//! terminal sends for it is the concatenation of the values, each at exactly that length.

use smartpos_core::codec::tlv;

/// One entry of a DOL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DolEntry {
    pub tag: u32,
    pub len: usize,
}

/// Reads a DOL's tag/length pairs. Returns `None` when it is malformed (a card never holds a
/// malformed DOL; the catalogue's are checked by a test).
pub fn entries(dol: &[u8]) -> Option<Vec<DolEntry>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < dol.len() {
        let first = *dol.get(at)?;
        let mut tag = u32::from(first);
        at += 1;
        if first & 0x1F == 0x1F {
            loop {
                let b = *dol.get(at)?;
                tag = (tag << 8) | u32::from(b);
                at += 1;
                if b & 0x80 == 0 {
                    break;
                }
                if tag > 0x00FF_FFFF {
                    return None;
                }
            }
        }
        let len = usize::from(*dol.get(at)?);
        at += 1;
        out.push(DolEntry { tag, len });
    }
    Some(out)
}

/// The total length of the data a DOL asks for.
pub fn data_len(dol: &[u8]) -> Option<usize> {
    Some(entries(dol)?.iter().map(|e| e.len).sum())
}

/// The DOL-related data split by tag, as the terminal sent it.
#[derive(Debug, Clone, Default)]
pub struct DolData {
    values: Vec<(u32, Vec<u8>)>,
}

impl DolData {
    /// Splits `data` by the DOL; `None` when its length is not exactly the DOL's.
    pub fn split(dol: &[u8], data: &[u8]) -> Option<DolData> {
        let entries = entries(dol)?;
        if entries.iter().map(|e| e.len).sum::<usize>() != data.len() {
            return None;
        }
        let mut values = Vec::with_capacity(entries.len());
        let mut at = 0;
        for e in entries {
            values.push((e.tag, data.get(at..at + e.len)?.to_vec()));
            at += e.len;
        }
        Some(DolData { values })
    }

    pub fn get(&self, tag: u32) -> Option<&[u8]> {
        self.values
            .iter()
            .find(|(t, _)| *t == tag)
            .map(|(_, v)| v.as_slice())
    }
}

/// Encodes a DOL from (tag, length) pairs; a test helper for profiles and terminals.
pub fn build(pairs: &[(u32, u8)]) -> Vec<u8> {
    let mut out = Vec::new();
    for &(tag, len) in pairs {
        // Reuse the TLV encoder for the tag bytes: encode a primitive with an empty value and
        // drop its length byte.
        let mut encoded = tlv::encode(&[tlv::Tlv::primitive(tag, Vec::new())]);
        encoded.pop();
        out.extend_from_slice(&encoded);
        out.push(len);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_data_by_the_dol_and_checks_its_length() {
        let dol = build(&[(0x9F02, 6), (0x9F37, 4), (0x95, 5)]);
        assert_eq!(
            hex::encode_upper(&dol),
            "9F02069F370495 05".replace(' ', "")
        );
        assert_eq!(data_len(&dol), Some(15));
        let data: Vec<u8> = (0..15).collect();
        let split = DolData::split(&dol, &data).expect("exact length");
        assert_eq!(split.get(0x9F37), Some(&[6, 7, 8, 9][..]));
        assert_eq!(split.get(0x95), Some(&[10, 11, 12, 13, 14][..]));
        assert!(DolData::split(&dol, &data[..14]).is_none());
    }

    #[test]
    fn a_truncated_dol_is_refused() {
        assert!(entries(&[0x9F]).is_none());
        assert!(entries(&[0x9F, 0x02]).is_none());
    }
}
