//! Packed BCD: two decimal digits per byte. Odd digit counts carry one pad nibble, at the end
//! (left-aligned) or at the front (right-aligned). Track data ("z") also uses nibble D as the
//! field separator, and once enciphered under the TDK (UnionPay track encryption replaces 8 of
//! its bytes in place) any nibble: track fields carry hex digits.

use thiserror::Error;

/// Where an odd-length value sits in its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Align {
    /// Digits first, pad nibble last (UnionPay field 22, LLVAR numerics).
    Left,
    /// Pad nibble first (UnionPay field 23, most fixed numerics).
    Right,
}

/// Which characters a BCD value may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Charset {
    /// 0–9.
    Numeric,
    /// Hex digits: 0–9, the separator D ('=' is accepted on encode and written as D), and A–F,
    /// which appear once the track is enciphered.
    Track,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum BcdError {
    #[error("character {found:?} at position {index} is not allowed in BCD")]
    BadCharacter { index: usize, found: char },
    #[error("nibble {nibble:#x} at byte {offset} is not a BCD digit")]
    BadNibble { offset: usize, nibble: u8 },
    #[error("need {needed} bytes for {digits} digits, have {available}")]
    Short {
        digits: usize,
        needed: usize,
        available: usize,
    },
}

/// Bytes needed for `digits` BCD digits.
pub const fn byte_len(digits: usize) -> usize {
    digits.div_ceil(2)
}

const fn nibble_of(c: u8, charset: Charset) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'=' if matches!(charset, Charset::Track) => Some(0xD),
        b'A'..=b'F' if matches!(charset, Charset::Track) => Some(c - b'A' + 10),
        b'a'..=b'f' if matches!(charset, Charset::Track) => Some(c - b'a' + 10),
        _ => None,
    }
}

fn char_of(n: u8, charset: Charset) -> Option<char> {
    match n {
        0..=9 => Some(char::from(b'0' + n)),
        0xA..=0xF if charset == Charset::Track => Some(char::from(b'A' + n - 10)),
        _ => None,
    }
}

/// Nibble of each character for a charset, `INVALID` where the charset has none: one load per
/// character on the packing path of every message.
const INVALID: u8 = 0xFF;

const fn nibble_table(charset: Charset) -> [u8; 256] {
    let mut table = [INVALID; 256];
    let mut c = 0;
    while c < 256 {
        if let Some(n) = nibble_of(c as u8, charset) {
            table[c] = n;
        }
        c += 1;
    }
    table
}

static NUMERIC_NIBBLES: [u8; 256] = nibble_table(Charset::Numeric);
static TRACK_NIBBLES: [u8; 256] = nibble_table(Charset::Track);

/// Encodes `digits` into `out`. `pad` is the pad nibble (0x0 or 0xF). On error `out` is left as
/// it was.
pub fn encode_into(
    digits: &str,
    align: Align,
    pad: u8,
    charset: Charset,
    out: &mut Vec<u8>,
) -> Result<(), BcdError> {
    let table = match charset {
        Charset::Numeric => &NUMERIC_NIBBLES,
        Charset::Track => &TRACK_NIBBLES,
    };
    let bytes = digits.as_bytes();
    let pad = pad & 0x0F;
    let start = out.len();
    out.resize(start + byte_len(bytes.len()), 0);
    let dst = out.get_mut(start..).unwrap_or_default();
    // One pass: encode as if every character were valid and collect the table's INVALID marks
    // (valid nibbles never set the high bits) in a register; every message packed comes here.
    let mut marks = 0u8;
    let (dst, body) = match (bytes.split_first(), dst.split_first_mut()) {
        (Some((&first, rest)), Some((d, dst))) if bytes.len() % 2 == 1 && align == Align::Right => {
            let n = table[usize::from(first)];
            marks |= n;
            *d = (pad << 4) | (n & 0x0F);
            (dst, rest)
        }
        _ => (out.get_mut(start..).unwrap_or_default(), bytes),
    };
    let (pairs, tail) = body.as_chunks::<2>();
    for (d, &[hi, lo]) in dst.iter_mut().zip(pairs) {
        let (h, l) = (table[usize::from(hi)], table[usize::from(lo)]);
        marks |= h | l;
        *d = (h << 4) | (l & 0x0F);
    }
    if let (Some(&last), Some(d)) = (tail.first(), dst.last_mut()) {
        let n = table[usize::from(last)];
        marks |= n;
        *d = (n << 4) | pad;
    }
    if marks & 0xF0 != 0 {
        out.truncate(start);
        let index = bytes
            .iter()
            .position(|&c| table[usize::from(c)] == INVALID)
            .unwrap_or(0);
        return Err(BcdError::BadCharacter {
            index,
            found: char::from(bytes.get(index).copied().unwrap_or(0)),
        });
    }
    Ok(())
}

pub fn encode(digits: &str, align: Align, pad: u8, charset: Charset) -> Result<Vec<u8>, BcdError> {
    let mut out = Vec::with_capacity(byte_len(digits.len()));
    encode_into(digits, align, pad, charset, &mut out)?;
    Ok(out)
}

/// Decodes `digits` digits from the start of `bytes`. The pad nibble is not checked: UnionPay
/// hosts pad with 0 or F interchangeably. `base` is the offset of `bytes` in the whole message,
/// for error positions.
pub fn decode(
    bytes: &[u8],
    digits: usize,
    align: Align,
    charset: Charset,
    base: usize,
) -> Result<String, BcdError> {
    let needed = byte_len(digits);
    if bytes.len() < needed {
        return Err(BcdError::Short {
            digits,
            needed,
            available: bytes.len(),
        });
    }
    let skip_first = digits % 2 == 1 && align == Align::Right;
    let mut s = String::with_capacity(digits);
    for i in 0..digits {
        let pos = if skip_first { i + 1 } else { i };
        let byte = bytes[pos / 2];
        let n = if pos % 2 == 0 { byte >> 4 } else { byte & 0x0F };
        let c = char_of(n, charset).ok_or(BcdError::BadNibble {
            offset: base + pos / 2,
            nibble: n,
        })?;
        s.push(c);
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn odd_lengths_pad_on_the_chosen_side() {
        // UnionPay POS field 22 "021" is left-aligned (02 10); field 23 "001" is right-aligned
        // (00 01) — 中国银联 POS 终端消息域说明 §3.10 and §3.11.
        assert_eq!(
            encode("021", Align::Left, 0, Charset::Numeric).unwrap(),
            [0x02, 0x10]
        );
        assert_eq!(
            encode("001", Align::Right, 0, Charset::Numeric).unwrap(),
            [0x00, 0x01]
        );
        assert_eq!(
            encode("123", Align::Left, 0xF, Charset::Numeric).unwrap(),
            [0x12, 0x3F]
        );
        assert_eq!(
            encode("123", Align::Right, 0xF, Charset::Numeric).unwrap(),
            [0xF1, 0x23]
        );
        assert_eq!(
            encode("1234", Align::Right, 0, Charset::Numeric).unwrap(),
            [0x12, 0x34]
        );
    }

    #[test]
    fn decode_reverses_encode_and_reports_offsets() {
        assert_eq!(
            decode(&[0x02, 0x10], 3, Align::Left, Charset::Numeric, 0).unwrap(),
            "021"
        );
        assert_eq!(
            decode(&[0x00, 0x01], 3, Align::Right, Charset::Numeric, 0).unwrap(),
            "001"
        );
        assert_eq!(
            decode(&[0x12, 0xA4], 4, Align::Left, Charset::Numeric, 10),
            Err(BcdError::BadNibble {
                offset: 11,
                nibble: 0xA
            })
        );
        assert!(matches!(
            decode(&[0x12], 3, Align::Left, Charset::Numeric, 0),
            Err(BcdError::Short { needed: 2, .. })
        ));
    }

    #[test]
    fn track_data_uses_nibble_d_as_separator() {
        let b = encode("6222=2512", Align::Left, 0, Charset::Track).unwrap();
        assert_eq!(b, [0x62, 0x22, 0xD2, 0x51, 0x20]);
        assert_eq!(
            decode(&b, 9, Align::Left, Charset::Track, 0).unwrap(),
            "6222D2512"
        );
        assert!(encode("12D4", Align::Left, 0, Charset::Numeric).is_err());
    }

    #[test]
    fn non_digits_are_rejected_with_their_position() {
        assert_eq!(
            encode("12x4", Align::Left, 0, Charset::Numeric),
            Err(BcdError::BadCharacter {
                index: 2,
                found: 'x'
            })
        );
    }

    proptest! {
        #[test]
        fn round_trip(digits in "[0-9]{0,40}", left in any::<bool>(), pad in prop_oneof![Just(0u8), Just(0xFu8)]) {
            let align = if left { Align::Left } else { Align::Right };
            let b = encode(&digits, align, pad, Charset::Numeric).unwrap();
            prop_assert_eq!(b.len(), byte_len(digits.len()));
            prop_assert_eq!(decode(&b, digits.len(), align, Charset::Numeric, 0).unwrap(), digits);
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..20), n in 0usize..50) {
            let _ = decode(&bytes, n, Align::Left, Charset::Track, 0);
            let _ = decode(&bytes, n, Align::Right, Charset::Numeric, 0);
        }
    }
}
