//! The EMVCo QR data-object format: `ID(2 digits) LEN(2 digits) VALUE`, templates nesting the same
//! format in their value (EMV QRCPS Merchant-Presented Mode v1.1, "Data Object format").
//!
//! The length counts characters, not bytes: the specification's own example carries
//! `0104最佳运输` (four characters, twelve UTF-8 bytes). Offsets in errors are byte offsets into the
//! whole payload, so a reader can find the place with any hex or text viewer.

use thiserror::Error;

/// Largest value length the two length digits can express.
pub const MAX_VALUE_CHARS: usize = 99;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum EmvTlvError {
    #[error("the ID at byte {offset} is not two digits")]
    BadId { offset: usize },
    #[error("ID {id:02} at byte {offset}: the length is not two digits")]
    BadLength { id: u8, offset: usize },
    #[error(
        "ID {id:02} at byte {offset}: the length says {declared} characters, {available} remain"
    )]
    Truncated {
        id: u8,
        offset: usize,
        declared: usize,
        available: usize,
    },
    #[error(
        "ID {id:02}: a value of {chars} characters does not fit the two length digits (at most 99)"
    )]
    ValueTooLong { id: u8, chars: usize },
    #[error("ID {id}: an ID must be 0 to 99")]
    IdOutOfRange { id: u8 },
}

/// One data object as it lies in the text: borrowed, with its byte offset in the whole payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawObject<'a> {
    pub id: u8,
    /// Byte offset of the ID's first digit.
    pub offset: usize,
    pub value: &'a str,
}

impl RawObject<'_> {
    /// Byte offset of the value's first character.
    pub fn value_offset(&self) -> usize {
        self.offset + 4
    }

    /// Byte offset just past the value.
    pub fn end(&self) -> usize {
        self.value_offset() + self.value.len()
    }
}

/// Splits `text` into its data objects, in order. `base` is the byte offset of `text` in the whole
/// payload, so nested templates report offsets a reader can find.
pub fn split(text: &str, base: usize) -> Result<Vec<RawObject<'_>>, EmvTlvError> {
    // A data object takes at least 4 bytes; most payload objects are 6 to 30.
    let mut out = Vec::with_capacity(text.len() / 8 + 1);
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let offset = base + i;
        let id = two_digits(bytes.get(i..i + 2)).ok_or(EmvTlvError::BadId { offset })?;
        let declared = two_digits(bytes.get(i + 2..i + 4))
            .map(usize::from)
            .ok_or(EmvTlvError::BadLength { id, offset })?;
        let start = i + 4;
        let rest = &text[start..];
        let len = byte_len_of_chars(rest, declared).ok_or_else(|| EmvTlvError::Truncated {
            id,
            offset,
            declared,
            available: rest.chars().count(),
        })?;
        out.push(RawObject {
            id,
            offset,
            value: &rest[..len],
        });
        i = start + len;
    }
    Ok(out)
}

/// Appends one data object to `out`.
pub fn write(out: &mut String, id: u8, value: &str) -> Result<(), EmvTlvError> {
    if id > 99 {
        return Err(EmvTlvError::IdOutOfRange { id });
    }
    let chars = value.chars().count();
    if chars > MAX_VALUE_CHARS {
        return Err(EmvTlvError::ValueTooLong { id, chars });
    }
    push_two_digits(out, id);
    push_two_digits(out, chars as u8);
    out.push_str(value);
    Ok(())
}

fn push_two_digits(out: &mut String, n: u8) {
    out.push(char::from(b'0' + n / 10));
    out.push(char::from(b'0' + n % 10));
}

fn two_digits(b: Option<&[u8]>) -> Option<u8> {
    match b? {
        [t, u] if t.is_ascii_digit() && u.is_ascii_digit() => Some((t - b'0') * 10 + (u - b'0')),
        _ => None,
    }
}

/// Bytes taken by the first `chars` characters of `s`; `None` if `s` is shorter. The ASCII case
/// (nearly every payload) needs no decoding.
fn byte_len_of_chars(s: &str, chars: usize) -> Option<usize> {
    let head = s.as_bytes().get(..chars)?;
    if head.is_ascii() {
        return Some(chars);
    }
    match s.char_indices().nth(chars) {
        Some((at, _)) => Some(at),
        None if s.chars().count() == chars => Some(s.len()),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_objects_with_offsets() {
        let objs = split("000201010212", 0).unwrap();
        assert_eq!(objs.len(), 2);
        assert_eq!((objs[0].id, objs[0].offset, objs[0].value), (0, 0, "01"));
        assert_eq!((objs[1].id, objs[1].offset, objs[1].value), (1, 6, "12"));
        assert_eq!(objs[1].end(), 12);
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        // EMV QRCPS MPM v1.1 Appendix A: language template 64 carries "0104最佳运输", length 04
        // for four CJK characters (12 UTF-8 bytes).
        let objs = split("0002ZH0104最佳运输0202北京", 100).unwrap();
        assert_eq!(objs[1].value, "最佳运输");
        assert_eq!(objs[2].value, "北京");
        assert_eq!(objs[2].offset, 100 + 6 + 4 + 12);
    }

    #[test]
    fn errors_name_the_id_and_the_byte() {
        assert_eq!(split("0A02", 7), Err(EmvTlvError::BadId { offset: 7 }));
        assert_eq!(
            split("00020159X", 0),
            Err(EmvTlvError::BadLength { id: 59, offset: 6 })
        );
        assert_eq!(
            split("5905ABC", 0),
            Err(EmvTlvError::Truncated {
                id: 59,
                offset: 0,
                declared: 5,
                available: 3
            })
        );
        // A lone trailing digit is an ID cut short.
        assert_eq!(split("0002010", 0), Err(EmvTlvError::BadId { offset: 6 }));
        // Multi-byte text shorter than declared.
        assert!(matches!(
            split("5903北京", 0),
            Err(EmvTlvError::Truncated {
                declared: 3,
                available: 2,
                ..
            })
        ));
    }

    #[test]
    fn write_then_split_round_trips() {
        let mut s = String::new();
        write(&mut s, 59, "最佳运输").unwrap();
        write(&mut s, 7, "").unwrap();
        assert_eq!(s, "5904最佳运输0700");
        let objs = split(&s, 0).unwrap();
        assert_eq!((objs[0].id, objs[0].value), (59, "最佳运输"));
        assert_eq!((objs[1].id, objs[1].value), (7, ""));
    }

    #[test]
    fn write_refuses_what_two_digits_cannot_say() {
        let mut s = String::new();
        assert_eq!(
            write(&mut s, 62, &"x".repeat(100)),
            Err(EmvTlvError::ValueTooLong { id: 62, chars: 100 })
        );
        assert_eq!(
            write(&mut s, 100, "x"),
            Err(EmvTlvError::IdOutOfRange { id: 100 })
        );
        assert!(s.is_empty());
    }
}
