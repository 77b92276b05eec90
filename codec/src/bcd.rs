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
    let bytes = digits.as_bytes();
    let start = out.len();
    out.resize(start + byte_len(bytes.len()), 0);
    let dst = out.get_mut(start..).unwrap_or_default();
    if encode_to(bytes, align, pad, charset, dst) {
        return Ok(());
    }
    out.truncate(start);
    let table = table_of(charset);
    let index = bytes
        .iter()
        .position(|&c| table[usize::from(c)] == INVALID)
        .unwrap_or(0);
    Err(BcdError::BadCharacter {
        index,
        found: char::from(bytes.get(index).copied().unwrap_or(0)),
    })
}

fn table_of(charset: Charset) -> &'static [u8; 256] {
    match charset {
        Charset::Numeric => &NUMERIC_NIBBLES,
        Charset::Track => &TRACK_NIBBLES,
    }
}

/// Encodes `digits` into `dst`, which is exactly `byte_len(digits.len())` bytes long: the packer
/// writes every message into one buffer sized once. False when a character is not in the
/// charset (or `dst` has the wrong length); `dst` then holds no meaningful bytes.
#[inline(always)]
pub fn encode_to(digits: &[u8], align: Align, pad: u8, charset: Charset, dst: &mut [u8]) -> bool {
    if dst.len() != byte_len(digits.len()) {
        return false;
    }
    let table = table_of(charset);
    let pad = pad & 0x0F;
    // One pass: encode as if every character were valid and collect the table's INVALID marks
    // (valid nibbles never set the high bits) in a register; every message packed comes here.
    let mut marks = 0u8;
    let (dst, body) = match (digits.split_first(), dst.split_first_mut()) {
        (Some((&first, rest)), Some((d, dst)))
            if digits.len() % 2 == 1 && align == Align::Right =>
        {
            let n = table[usize::from(first)];
            marks |= n;
            *d = (pad << 4) | (n & 0x0F);
            (dst, rest)
        }
        _ => (dst, digits),
    };
    let (pairs, tail) = body.as_chunks::<2>();
    let pair_bytes = pairs.as_flattened();
    let Some(pair_dst) = dst.get_mut(..pairs.len()) else {
        return false;
    };
    let packed = match charset {
        Charset::Numeric => pack_pairs(pair_bytes, pair_dst, table, pack_eight_digits),
        Charset::Track => pack_pairs(pair_bytes, pair_dst, table, pack_eight_track),
    };
    if !packed {
        return false;
    }
    if let (Some(&last), Some(d)) = (tail.first(), dst.last_mut()) {
        let n = table[usize::from(last)];
        marks |= n;
        *d = (n << 4) | pad;
    }
    marks & 0xF0 == 0
}

/// Packs an even number of characters into `dst`, half as many bytes: eight at a time in a
/// register with `pack_eight`, a run under eight one character at a time through `table`. False
/// when one is not in the charset.
#[inline(always)]
fn pack_pairs(
    digits: &[u8],
    dst: &mut [u8],
    table: &[u8; 256],
    pack_eight: fn([u8; 8]) -> Option<[u8; 4]>,
) -> bool {
    let n = digits.len();
    if n >= 8 {
        let mut at = 0;
        while let (Some(chars), Some(out)) = (
            digits
                .get(at..at + 8)
                .and_then(|c| <[u8; 8]>::try_from(c).ok()),
            dst.get_mut(at / 2..at / 2 + 4),
        ) {
            let Some(packed) = pack_eight(chars) else {
                return false;
            };
            out.copy_from_slice(&packed);
            at += 8;
        }
        if at == n {
            return true;
        }
        // The last eight again, overlapping what is done (n is even, so pairs line up).
        let (Some(chars), Some(out)) = (digits.last_chunk::<8>(), dst.last_chunk_mut::<4>()) else {
            return false;
        };
        let Some(packed) = pack_eight(*chars) else {
            return false;
        };
        *out = packed;
        return true;
    }
    // Up to three pairs: a table load per character costs less than laying them out for the
    // register (measured with callgrind; short runs are most numeric fields: processing code,
    // STAN, entry mode…).
    let mut marks = 0u8;
    for (d, &[hi, lo]) in dst.iter_mut().zip(digits.as_chunks::<2>().0) {
        let (h, l) = (table[usize::from(hi)], table[usize::from(lo)]);
        marks |= h | l;
        *d = (h << 4) | (l & 0x0F);
    }
    marks & 0xF0 == 0
}

/// Eight ASCII digits packed into four BCD bytes in a 64-bit register, or `None` when one of them
/// is not a digit.
#[inline(always)]
fn pack_eight_digits(chars: [u8; 8]) -> Option<[u8; 4]> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let v = u64::from_le_bytes(chars);
    // A byte below '0' borrows into its high bit, one from ':' to 0xB9 carries into it, and one
    // above 0xAF keeps it after '0' is taken away. The lowest bad byte gets no borrow or carry
    // from below (valid bytes make none), so it is always caught; what spills above it only adds
    // bits.
    let bad = (v.wrapping_sub(ONES * 0x30) | v.wrapping_add(ONES * 0x46)) & (ONES * 0x80);
    if bad != 0 {
        return None;
    }
    Some(pack_nibbles(v & (ONES * 0x0F)))
}

/// Eight track characters (0-9, '=' or D, A-F in either case) packed into four bytes, or `None`
/// when one is not a track character.
#[inline(always)]
fn pack_eight_track(chars: [u8; 8]) -> Option<[u8; 4]> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = ONES * 0x80;
    let v = u64::from_le_bytes(chars);
    // Each byte's high bit after an addition answers "at least lo" or "above hi". Valid bytes
    // are below 0x80 and carry nothing into the next byte, and no byte of 0x80 or more passes
    // any of the three ranges, so the lowest bad byte is always caught exactly; what spills
    // above it only changes bytes that no longer matter.
    let at_least = |x: u64, lo: u64| x.wrapping_add(ONES * (0x80 - lo)) & HIGH;
    let above = |x: u64, hi: u64| x.wrapping_add(ONES * (0x7F - hi)) & HIGH;
    let within = |x: u64, lo: u64, hi: u64| at_least(x, lo) & !above(x, hi);
    let digit = within(v, b'0'.into(), b'9'.into());
    // '=' is 0x3D and D is 0x44: both carry nibble D, '=' already in its low four bits.
    let equals = within(v, b'='.into(), b'='.into());
    let letter = within(v | (ONES * 0x20), b'a'.into(), b'f'.into());
    if digit | equals | letter != HIGH {
        return None;
    }
    // A-F and a-f have 1-6 in their low four bits: 9 more makes A-F.
    let nibbles = (v & (ONES * 0x0F)) + (letter >> 7) * 9;
    Some(pack_nibbles(nibbles))
}

/// Eight nibbles, one per byte in character order, as four packed bytes (first nibble high).
#[inline(always)]
fn pack_nibbles(n: u64) -> [u8; 4] {
    // Little-endian: the first character is the lowest byte. Each 16-bit lane holds a pair; put
    // the first nibble in the high half of the lane's low byte, then gather the four low bytes.
    // (Shifting the whole word moves the second nibble of a lane within it, and the next lane's
    // first into this lane's high byte, which the mask drops.)
    let lanes = ((n << 4) | (n >> 8)) & 0x00FF_00FF_00FF_00FF;
    let words = (lanes | (lanes >> 8)) & 0x0000_FFFF_0000_FFFF;
    let packed = (words | (words >> 16)) & 0xFFFF_FFFF;
    (packed as u32).to_le_bytes()
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
        #![proptest_config(ProptestConfig::with_cases(2048))]

        #[test]
        fn round_trip(digits in "[0-9]{0,40}", left in any::<bool>(), pad in prop_oneof![Just(0u8), Just(0xFu8)]) {
            let align = if left { Align::Left } else { Align::Right };
            let b = encode(&digits, align, pad, Charset::Numeric).unwrap();
            prop_assert_eq!(b.len(), byte_len(digits.len()));
            prop_assert_eq!(decode(&b, digits.len(), align, Charset::Numeric, 0).unwrap(), digits);
        }

        /// The register paths (eight characters at a time, short runs padded) against the plain
        /// definition, one character at a time, on valid text with at most one intruder, often a
        /// neighbour of a range the registers test.
        #[test]
        fn encoding_in_registers_is_encoding_one_character_at_a_time(
            (track, chars) in any::<bool>().prop_flat_map(|track| {
                let valid: &[u8] = if track { b"0123456789=AaBbCcDdEeFf" } else { b"0123456789" };
                let intruder = prop_oneof![
                    3 => proptest::sample::select(b"/:;<=>?@`GgZz \x7f\x80\xb9\xba\xff".to_vec()),
                    1 => any::<u8>(),
                ];
                (
                    Just(track),
                    (
                        proptest::collection::vec(proptest::sample::select(valid.to_vec()), 0..45),
                        proptest::option::of((any::<proptest::sample::Index>(), intruder)),
                    )
                        .prop_map(|(mut chars, intruder)| {
                            if let (Some((at, c)), false) = (intruder, chars.is_empty()) {
                                let i = at.index(chars.len());
                                chars[i] = c;
                            }
                            chars
                        }),
                )
            }),
            left in any::<bool>(),
            pad in prop_oneof![Just(0u8), Just(0xFu8)],
        ) {
            let align = if left { Align::Left } else { Align::Right };
            let charset = if track { Charset::Track } else { Charset::Numeric };
            let nibbles: Option<Vec<u8>> = chars.iter().map(|&c| nibble_of(c, charset)).collect();
            let expected = nibbles.map(|mut n| {
                if n.len() % 2 == 1 {
                    if left { n.push(pad) } else { n.insert(0, pad) }
                }
                n.chunks(2).map(|p| (p[0] << 4) | p[1]).collect::<Vec<u8>>()
            });
            let mut dst = vec![0xAA; byte_len(chars.len())];
            let ok = encode_to(&chars, align, pad, charset, &mut dst);
            prop_assert_eq!(ok.then_some(dst), expected);
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..20), n in 0usize..50) {
            let _ = decode(&bytes, n, Align::Left, Charset::Track, 0);
            let _ = decode(&bytes, n, Align::Right, Charset::Numeric, 0);
        }
    }
}
