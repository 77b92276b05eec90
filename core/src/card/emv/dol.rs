//! Data object lists (EMV 4.4 Book 3 §5.4): PDOL, CDOL1/2, DDOL, TDOL. A DOL is a list of
//! tag + length; the terminal answers with the values concatenated, each fitted to its length.

use super::tags::{self, Format};

/// One DOL entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DolEntry {
    pub tag: u32,
    pub len: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("DOL malformed at byte {offset}")]
pub struct DolError {
    pub offset: usize,
}

/// Parses a DOL. Lengths are one byte (Book 3 §5.4 allows no longer form in a DOL).
pub fn parse(dol: &[u8]) -> Result<Vec<DolEntry>, DolError> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < dol.len() {
        let start = i;
        let first = dol[i];
        let mut tag = u32::from(first);
        i += 1;
        if first & 0x1F == 0x1F {
            loop {
                let next = *dol.get(i).ok_or(DolError { offset: start })?;
                tag = (tag << 8) | u32::from(next);
                i += 1;
                if next & 0x80 == 0 {
                    break;
                }
                if i - start >= 4 {
                    return Err(DolError { offset: start });
                }
            }
        }
        let len = *dol.get(i).ok_or(DolError { offset: start })?;
        i += 1;
        out.push(DolEntry {
            tag,
            len: usize::from(len),
        });
    }
    Ok(out)
}

/// Fits one value to a DOL length (Book 3 §5.4): numeric values keep their rightmost bytes and
/// pad with zeros on the left; compressed numeric pads with F on the right; everything else is
/// cut or zero-padded on the right.
pub fn fit(tag: u32, value: &[u8], len: usize) -> Vec<u8> {
    let format = tags::lookup(tag).map(|i| i.format);
    if format == Some(Format::N) {
        if value.len() >= len {
            return value[value.len() - len..].to_vec();
        }
        let mut out = vec![0u8; len - value.len()];
        out.extend_from_slice(value);
        return out;
    }
    let pad = if format == Some(Format::Cn) {
        0xFF
    } else {
        0x00
    };
    let mut out: Vec<u8> = value.iter().copied().take(len).collect();
    out.resize(len, pad);
    out
}

/// Builds the DOL related data: each entry's value from `lookup`, zeros for tags the terminal
/// does not know and for templates.
pub fn build<'a>(entries: &[DolEntry], lookup: impl Fn(u32) -> Option<&'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        let constructed = crate::codec::tlv::is_constructed(e.tag);
        match lookup(e.tag) {
            Some(v) if !constructed => out.extend(fit(e.tag, v, e.len)),
            _ => out.resize(out.len() + e.len, 0),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A typical UnionPay PDOL (TTQ, amount, other amount, country, TVR, currency, date, type,
    /// UN), lengths as in JR/T 0025.12.
    const PDOL: &str = "9F66049F02069F03069F1A0295055F2A029A039C019F3704";

    #[test]
    fn parses_tags_and_lengths() {
        let e = parse(&hex::decode(PDOL).unwrap()).unwrap();
        assert_eq!(e.len(), 9);
        assert_eq!(
            e[0],
            DolEntry {
                tag: 0x9F66,
                len: 4
            }
        );
        assert_eq!(e[4], DolEntry { tag: 0x95, len: 5 });
        assert_eq!(parse(&[0x9F]), Err(DolError { offset: 0 }));
        assert_eq!(parse(&[0x9F, 0x02]), Err(DolError { offset: 0 }));
    }

    /// Book 3 §5.4: n left-padded/left-truncated, cn right-padded with F, others right side.
    #[test]
    fn fits_by_format() {
        assert_eq!(fit(0x9F02, &[0x12, 0x34], 4), [0, 0, 0x12, 0x34]);
        assert_eq!(fit(0x9F02, &[0, 0, 0x12, 0x34], 2), [0x12, 0x34]);
        assert_eq!(fit(0x5A, &[0x62, 0x22], 4), [0x62, 0x22, 0xFF, 0xFF]);
        assert_eq!(fit(0x9F37, &[1, 2, 3, 4], 2), [1, 2]);
        assert_eq!(fit(0x9F1E, b"AB", 4), [b'A', b'B', 0, 0]);
    }

    #[test]
    fn unknown_tags_and_templates_are_zero_filled() {
        let entries = parse(&hex::decode("9F3704DF19027002").unwrap()).unwrap();
        let data = build(&entries, |t| match t {
            0x9F37 => Some(&[0xAA, 0xBB, 0xCC, 0xDD][..]),
            0x70 => Some(&[1, 2][..]),
            _ => None,
        });
        assert_eq!(data, [0xAA, 0xBB, 0xCC, 0xDD, 0, 0, 0, 0]);
    }
}
