//! BER-TLV as EMV uses it (EMV 4.3 Book 3, Annex B): multi-byte tags, definite lengths in short
//! or long form (81, 82, 83), constructed templates parsed recursively.

use std::fmt;

use thiserror::Error;
use zeroize::Zeroize;

/// Deepest template nesting accepted; EMV data nests two or three levels.
pub const MAX_DEPTH: usize = 8;

/// Tags whose values are card data: printed as `[redacted]`.
const SENSITIVE_TAGS: &[u32] = &[0x56, 0x57, 0x5A, 0x5F20, 0x9F1F, 0x9F20, 0x9F6B, 0x99];

pub fn is_sensitive(tag: u32) -> bool {
    SENSITIVE_TAGS.contains(&tag)
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TlvError {
    #[error("tag truncated at byte {offset}")]
    TruncatedTag { offset: usize },
    #[error("tag at byte {offset} is longer than 4 bytes")]
    TagTooLong { offset: usize },
    #[error("length of tag {tag:X} truncated at byte {offset}")]
    TruncatedLength { tag: u32, offset: usize },
    #[error("tag {tag:X} at byte {offset} uses the indefinite length form, which EMV forbids")]
    IndefiniteLength { tag: u32, offset: usize },
    #[error("tag {tag:X} at byte {offset} declares a length form of {bytes} bytes")]
    LengthTooLong {
        tag: u32,
        offset: usize,
        bytes: usize,
    },
    #[error("value of tag {tag:X} at byte {offset} needs {needed} bytes, {available} remain")]
    ValueBeyondBuffer {
        tag: u32,
        offset: usize,
        needed: usize,
        available: usize,
    },
    #[error("templates nested deeper than {MAX_DEPTH} at byte {offset}")]
    TooDeep { offset: usize },
}

/// One data object.
#[derive(Clone, PartialEq, Eq)]
pub struct Tlv {
    pub tag: u32,
    pub value: TlvValue,
}

#[derive(Clone, PartialEq, Eq)]
pub enum TlvValue {
    Primitive(Vec<u8>),
    Constructed(Vec<Tlv>),
}

impl fmt::Debug for TlvValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlvValue::Primitive(v) => write!(f, "Primitive([{} bytes])", v.len()),
            TlvValue::Constructed(c) => f.debug_list().entries(c).finish(),
        }
    }
}

impl Drop for TlvValue {
    fn drop(&mut self) {
        if let TlvValue::Primitive(v) = self {
            v.zeroize();
        }
    }
}

/// Whether the first tag byte marks a constructed object (bit 6).
pub fn is_constructed(tag: u32) -> bool {
    let first = tag_bytes(tag)[0];
    first & 0x20 != 0
}

fn tag_bytes(tag: u32) -> Vec<u8> {
    let all = tag.to_be_bytes();
    let skip = all.iter().take(3).take_while(|&&b| b == 0).count();
    all[skip..].to_vec()
}

impl Tlv {
    pub fn primitive(tag: u32, value: impl Into<Vec<u8>>) -> Tlv {
        Tlv {
            tag,
            value: TlvValue::Primitive(value.into()),
        }
    }

    pub fn constructed(tag: u32, children: Vec<Tlv>) -> Tlv {
        Tlv {
            tag,
            value: TlvValue::Constructed(children),
        }
    }

    /// The bytes of a primitive object.
    pub fn bytes(&self) -> Option<&[u8]> {
        match &self.value {
            TlvValue::Primitive(v) => Some(v),
            TlvValue::Constructed(_) => None,
        }
    }

    pub fn children(&self) -> &[Tlv] {
        match &self.value {
            TlvValue::Primitive(_) => &[],
            TlvValue::Constructed(c) => c,
        }
    }
}

impl fmt::Debug for Tlv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            TlvValue::Primitive(v) if is_sensitive(self.tag) => {
                write!(f, "{:X}: [redacted {} bytes]", self.tag, v.len())
            }
            TlvValue::Primitive(v) => write!(f, "{:X}: {}", self.tag, hex::encode_upper(v)),
            TlvValue::Constructed(c) => f.debug_map().entry(&format!("{:X}", self.tag), c).finish(),
        }
    }
}

/// Depth-first search for the first object with `tag`.
pub fn find(objects: &[Tlv], tag: u32) -> Option<&Tlv> {
    for o in objects {
        if o.tag == tag {
            return Some(o);
        }
        if let Some(found) = find(o.children(), tag) {
            return Some(found);
        }
    }
    None
}

/// Parses a sequence of data objects. EMV allows 00 and FF padding between objects; it is
/// skipped.
pub fn parse(bytes: &[u8]) -> Result<Vec<Tlv>, TlvError> {
    parse_at(bytes, 0, 0)
}

fn parse_at(bytes: &[u8], base: usize, depth: usize) -> Result<Vec<Tlv>, TlvError> {
    if depth > MAX_DEPTH {
        return Err(TlvError::TooDeep { offset: base });
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == 0x00 || bytes[i] == 0xFF {
            i += 1;
            continue;
        }
        let start = i;
        let (tag, tag_len) = read_tag(&bytes[i..], base + i)?;
        i += tag_len;
        let (len, len_len) = read_length(&bytes[i..], tag, base + i)?;
        i += len_len;
        let available = bytes.len() - i;
        if len > available {
            return Err(TlvError::ValueBeyondBuffer {
                tag,
                offset: base + start,
                needed: len,
                available,
            });
        }
        let value = &bytes[i..i + len];
        let tlv = if is_constructed(tag) {
            Tlv::constructed(tag, parse_at(value, base + i, depth + 1)?)
        } else {
            Tlv::primitive(tag, value.to_vec())
        };
        out.push(tlv);
        i += len;
    }
    Ok(out)
}

fn read_tag(b: &[u8], offset: usize) -> Result<(u32, usize), TlvError> {
    let first = *b.first().ok_or(TlvError::TruncatedTag { offset })?;
    let mut tag = u32::from(first);
    let mut n = 1;
    if first & 0x1F == 0x1F {
        loop {
            let next = *b.get(n).ok_or(TlvError::TruncatedTag { offset })?;
            tag = (tag << 8) | u32::from(next);
            n += 1;
            if next & 0x80 == 0 {
                break;
            }
            if n >= 4 {
                return Err(TlvError::TagTooLong { offset });
            }
        }
    }
    Ok((tag, n))
}

fn read_length(b: &[u8], tag: u32, offset: usize) -> Result<(usize, usize), TlvError> {
    let first = *b.first().ok_or(TlvError::TruncatedLength { tag, offset })?;
    if first & 0x80 == 0 {
        return Ok((usize::from(first), 1));
    }
    let count = usize::from(first & 0x7F);
    if count == 0 {
        return Err(TlvError::IndefiniteLength { tag, offset });
    }
    if count > 3 {
        return Err(TlvError::LengthTooLong {
            tag,
            offset,
            bytes: count,
        });
    }
    let digits = b
        .get(1..=count)
        .ok_or(TlvError::TruncatedLength { tag, offset })?;
    let len = digits
        .iter()
        .fold(0usize, |acc, &d| (acc << 8) | usize::from(d));
    Ok((len, 1 + count))
}

/// Encodes data objects (shortest length form).
pub fn encode(objects: &[Tlv]) -> Vec<u8> {
    let mut out = Vec::new();
    for o in objects {
        encode_one(o, &mut out);
    }
    out
}

fn encode_one(o: &Tlv, out: &mut Vec<u8>) {
    out.extend_from_slice(&tag_bytes(o.tag));
    let value = match &o.value {
        TlvValue::Primitive(v) => v.clone(),
        TlvValue::Constructed(c) => encode(c),
    };
    let len = value.len();
    if len < 0x80 {
        out.push(len as u8);
    } else if len <= 0xFF {
        out.extend_from_slice(&[0x81, len as u8]);
    } else if len <= 0xFFFF {
        out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]);
    } else {
        out.extend_from_slice(&[0x83, (len >> 16) as u8, (len >> 8) as u8, len as u8]);
    }
    out.extend_from_slice(&value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A GENERATE AC response in format 2 (EMV 4.3 Book 3 §6.5.5.4): template 77 holding
    /// 9F27 (CID), 9F36 (ATC), 9F26 (AC) and 9F10 (IAD); values constructed for the test.
    const GEN_AC: &str = "771E9F2701809F360200019F2608A1B2C3D4E5F607089F100706010A03A00000";

    #[test]
    fn parses_a_template_with_two_byte_tags() {
        let bytes = hex::decode(GEN_AC).unwrap();
        let objs = parse(&bytes).unwrap();
        assert_eq!(objs.len(), 1);
        assert_eq!(objs[0].tag, 0x77);
        let tags: Vec<u32> = objs[0].children().iter().map(|t| t.tag).collect();
        assert_eq!(tags, [0x9F27, 0x9F36, 0x9F26, 0x9F10]);
        assert_eq!(
            find(&objs, 0x9F36).unwrap().bytes(),
            Some(&[0x00, 0x01][..])
        );
        assert_eq!(encode(&objs), bytes);
    }

    #[test]
    fn long_form_lengths() {
        let value = vec![0xAB; 200];
        let enc = encode(&[Tlv::primitive(0x9F4B, value.clone())]);
        assert_eq!(&enc[..4], &[0x9F, 0x4B, 0x81, 200]);
        assert_eq!(parse(&enc).unwrap()[0].bytes(), Some(&value[..]));
        let big = encode(&[Tlv::primitive(0xDF01, vec![1; 300])]);
        assert_eq!(&big[2..5], &[0x82, 0x01, 0x2C]);
    }

    #[test]
    fn malformed_input_names_the_offset() {
        assert_eq!(parse(&[0x9F]), Err(TlvError::TruncatedTag { offset: 0 }));
        assert_eq!(
            parse(&[0x5A, 0x81]),
            Err(TlvError::TruncatedLength {
                tag: 0x5A,
                offset: 1
            })
        );
        assert_eq!(
            parse(&[0x5A, 0x80]),
            Err(TlvError::IndefiniteLength {
                tag: 0x5A,
                offset: 1
            })
        );
        assert_eq!(
            parse(&[0x82, 0x02, 0x5C, 0x00, 0x95, 0x05, 0x00]),
            Err(TlvError::ValueBeyondBuffer {
                tag: 0x95,
                offset: 4,
                needed: 5,
                available: 1
            })
        );
        let mut deep = Vec::new();
        for _ in 0..12 {
            deep.insert(0, 0x70);
            let len = deep.len() as u8 - 1;
            deep.insert(1, len);
        }
        assert!(matches!(parse(&deep), Err(TlvError::TooDeep { .. })));
    }

    #[test]
    fn card_data_is_redacted_in_debug() {
        let t = Tlv::primitive(0x5A, vec![0x62, 0x22, 0x02, 0x12, 0x34, 0x56, 0x78, 0x90]);
        let s = format!("{t:?}");
        assert!(s.contains("redacted") && !s.contains("6222"), "{s}");
        assert!(format!("{:?}", Tlv::primitive(0x9F36, vec![0, 1])).contains("0001"));
    }

    fn arb_tlv() -> impl Strategy<Value = Tlv> {
        let leaf = (
            prop_oneof![
                Just(0x5Au32),
                Just(0x9F36),
                Just(0x95),
                Just(0x9F10),
                Just(0xDF8101)
            ],
            proptest::collection::vec(any::<u8>(), 0..300),
        )
            .prop_map(|(t, v)| Tlv::primitive(t, v));
        leaf.prop_recursive(3, 16, 4, |inner| {
            (
                prop_oneof![Just(0x70u32), Just(0x77), Just(0xBF0C)],
                proptest::collection::vec(inner, 0..4),
            )
                .prop_map(|(t, c)| Tlv::constructed(t, c))
        })
    }

    proptest! {
        #[test]
        fn round_trip(objs in proptest::collection::vec(arb_tlv(), 0..4)) {
            let bytes = encode(&objs);
            prop_assert_eq!(parse(&bytes).unwrap(), objs);
        }

        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse(&bytes);
        }
    }
}
