//! A received message read in place: one pass over the bytes locates every field and checks it
//! exactly as the owned unpacker would (same errors, same offsets), and values are decoded only
//! when asked for. Nothing is allocated; a terminal unpacks every answer on a battery-powered
//! CPU and a switch built on this crate unpacks millions.

use std::borrow::Cow;
use std::fmt;

use super::charclass;
use super::error::{UnpackError, UnpackErrorKind};
use super::message::{Message, Value, display_value};
use super::spec::{Dialect, FieldSpec, Kind, Length, Prefix};
use crate::bcd::{self, Align, Charset};

/// Where a field's value lies in the message bytes, and its length in the units its prefix
/// counts (digits for n/z, bytes otherwise).
#[derive(Clone, Copy, Default)]
struct Span {
    start: u32,
    units: u32,
}

/// Bit of field `n` (1..=128) in the 128-bit bitmap, primary bitmap in the high half.
const fn bit(n: usize) -> u128 {
    1u128 << (128 - n)
}

/// A message borrowed from the bytes it was received in. Card data stays in those bytes: the
/// caller wipes them (the acquirer keeps replies in `Zeroizing`), and `Debug` masks it.
#[derive(Clone)]
pub struct MessageView<'a> {
    dialect: &'a Dialect,
    bytes: &'a [u8],
    mti: [u8; 4],
    /// Present fields 2..=128, primary bitmap in the high 64 bits (bit 127 = field 1).
    present: u128,
    secondary: bool,
    spans: [Span; 129],
}

impl Dialect {
    /// Reads a whole message in place; bytes after the last field are an error. Every field is
    /// checked now, so accessors cannot fail later.
    pub fn view<'a>(&'a self, bytes: &'a [u8]) -> Result<MessageView<'a>, UnpackError> {
        self.view_at(bytes, 0)
    }

    /// As `view`, with offsets in errors counted from `base` (the message's place in a frame).
    pub fn view_at<'a>(
        &'a self,
        bytes: &'a [u8],
        base: usize,
    ) -> Result<MessageView<'a>, UnpackError> {
        let head_err = |name, pos: usize, needed| UnpackError {
            field: None,
            name,
            offset: base + pos,
            kind: UnpackErrorKind::Truncated {
                needed,
                available: bytes.len().saturating_sub(pos),
            },
        };
        let Some(mti_bytes) = bytes.get(..2) else {
            return Err(head_err("MTI", 0, 2));
        };
        let mut mti = [0u8; 4];
        for (i, nibble) in [
            mti_bytes[0] >> 4,
            mti_bytes[0] & 0xF,
            mti_bytes[1] >> 4,
            mti_bytes[1] & 0xF,
        ]
        .into_iter()
        .enumerate()
        {
            if nibble > 9 {
                return Err(UnpackError {
                    field: None,
                    name: "MTI",
                    offset: base,
                    kind: UnpackErrorKind::BadMti,
                });
            }
            mti[i] = b'0' + nibble;
        }
        let Some(primary) = bytes.get(2..10) else {
            return Err(head_err("primary bitmap", 2, 8));
        };
        let primary = u64::from_be_bytes(primary.try_into().unwrap_or_default());
        let secondary = primary >> 63 == 1;
        let (low, mut pos) = if secondary {
            let Some(b) = bytes.get(10..18) else {
                return Err(head_err("secondary bitmap", 10, 8));
            };
            (u64::from_be_bytes(b.try_into().unwrap_or_default()), 18)
        } else {
            (0, 10)
        };
        // Field 1's bit says a secondary bitmap follows; it is not a field.
        let primary = primary & (u64::MAX >> 1);
        let present = (u128::from(primary) << 64) | u128::from(low);
        let mut spans = [Span::default(); 129];
        // Ascending field numbers are the bitmaps' bits from the top; reversed, they come out
        // lowest first, one trailing-zero count and one clear of the lowest bit each.
        for (half, word) in [primary, low].into_iter().enumerate() {
            let mut rest = word.reverse_bits();
            while rest != 0 {
                let n = half * 64 + rest.trailing_zeros() as usize + 1;
                rest &= rest - 1;
                let Some(spec) = self.field(n) else {
                    return Err(UnpackError {
                        field: Some(n as u8),
                        name: "undefined",
                        offset: base + pos,
                        kind: UnpackErrorKind::UndefinedField,
                    });
                };
                let (span, end) = locate(spec, n as u8, bytes, pos, base)?;
                spans[n] = span;
                pos = end;
            }
        }
        if pos != bytes.len() {
            return Err(UnpackError {
                field: None,
                name: "message",
                offset: base + pos,
                kind: UnpackErrorKind::TrailingBytes {
                    count: bytes.len() - pos,
                },
            });
        }
        Ok(MessageView {
            dialect: self,
            bytes,
            mti,
            present,
            secondary,
            spans,
        })
    }
}

/// Reads field `n`'s prefix and checks its value at `pos`; returns its span and where the next
/// field starts.
fn locate(
    spec: &FieldSpec,
    n: u8,
    bytes: &[u8],
    pos: usize,
    base: usize,
) -> Result<(Span, usize), UnpackError> {
    let err = |offset: usize, kind| UnpackError {
        field: Some(n),
        name: spec.name,
        offset: base + offset,
        kind,
    };
    let take = |at: usize, len: usize| {
        bytes.get(at..at + len).ok_or_else(|| {
            err(
                at,
                UnpackErrorKind::Truncated {
                    needed: len,
                    available: bytes.len() - at,
                },
            )
        })
    };
    let (units, start) = match spec.length {
        Length::Fixed(len) => (len, pos),
        Length::LlVar(_) | Length::LllVar(_) => {
            let digits = if matches!(spec.length, Length::LlVar(_)) {
                2
            } else {
                3
            };
            let width = prefix_width(spec.prefix, digits);
            let prefix = take(pos, width)?;
            let len = read_prefix(spec.prefix, prefix)
                .ok_or_else(|| err(pos, UnpackErrorKind::BadLengthPrefix))?;
            (len, pos + width)
        }
    };
    let max = spec.length.max();
    if units > max {
        return Err(err(pos, UnpackErrorKind::LengthOverMax { len: units, max }));
    }
    let value = take(start, value_len(spec.kind, units))?;
    match spec.kind {
        Kind::N if digits_ok(value, units, spec.align) => {}
        Kind::N => check_digits(value, units, spec.align)
            .map_err(|(at, nibble)| err(start + at, UnpackErrorKind::BadNibble { nibble }))?,
        // Track data carries hex digits once enciphered: every nibble is valid.
        Kind::Z | Kind::B | Kind::Ans => {}
        Kind::An if is_an_text(value) => {}
        Kind::An => return Err(err(start, UnpackErrorKind::BadText)),
    }
    let span = Span {
        start: u32::try_from(start).unwrap_or(u32::MAX),
        units: units as u32,
    };
    Ok((span, start + value.len()))
}

/// Bytes a length prefix of `digits` digits takes.
pub(super) const fn prefix_width(prefix: Prefix, digits: usize) -> usize {
    match prefix {
        // Right-aligned BCD: LL in one byte, LLL in two (leading nibble 0).
        Prefix::Bcd | Prefix::Binary => digits.div_ceil(2),
        Prefix::Ascii => digits,
    }
}

fn read_prefix(prefix: Prefix, b: &[u8]) -> Option<usize> {
    match prefix {
        // Every nibble, the leading one of an LLL prefix too, must be a digit.
        Prefix::Bcd => b.iter().try_fold(0usize, |acc, &x| {
            let (hi, lo) = (x >> 4, x & 0xF);
            (hi <= 9 && lo <= 9).then(|| acc * 100 + usize::from(hi) * 10 + usize::from(lo))
        }),
        Prefix::Ascii => b.iter().try_fold(0usize, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + usize::from(c - b'0'))
        }),
        Prefix::Binary => Some(b.iter().fold(0usize, |acc, &x| (acc << 8) | usize::from(x))),
    }
}

/// Bytes a value of `units` units takes on the wire.
const fn value_len(kind: Kind, units: usize) -> usize {
    match kind {
        Kind::N | Kind::Z => bcd::byte_len(units),
        Kind::B | Kind::An | Kind::Ans => units,
    }
}

/// Whether every byte is an `an` character, without stopping early: one table load per byte.
#[inline(always)]
fn is_an_text(b: &[u8]) -> bool {
    b.iter()
        .fold(charclass::AN, |all, &c| all & charclass::of(c))
        == charclass::AN
}

/// Text an `ans` field may hold as text (what the packer accepts back); anything else is kept
/// as bytes.
fn is_ans(c: u8) -> bool {
    c.is_ascii() && !c.is_ascii_control()
}

/// Per byte: 2 when its high nibble is not a decimal digit, 1 when its low one is not.
static NIBBLE_FAULTS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = (((b >> 4) > 9) as u8) << 1 | ((b & 0xF) > 9) as u8;
        b += 1;
    }
    table
};

/// Whether every nibble of `b` but an odd count's pad is a decimal digit: one table load per
/// byte and no branch, on every numeric field of every message read. `check_digits` then names
/// the culprit.
#[inline(always)]
fn digits_ok(b: &[u8], digits: usize, align: Align) -> bool {
    let odd = digits % 2 == 1;
    let first = if odd && align == Align::Right { 1 } else { 3 };
    let last = if odd && align == Align::Left { 2 } else { 3 };
    let faults = |x: &u8| NIBBLE_FAULTS[usize::from(*x)];
    match b {
        [] => true,
        [only] => faults(only) & first & last == 0,
        [head, middle @ .., tail] => {
            let ends = (faults(head) & first) | (faults(tail) & last);
            middle.iter().fold(ends, |acc, x| acc | faults(x)) == 0
        }
    }
}

/// Checks `digits` BCD digits (the pad nibble of an odd count is not checked: UnionPay hosts pad
/// with 0 or F). On error, the byte index and the nibble.
fn check_digits(b: &[u8], digits: usize, align: Align) -> Result<(), (usize, u8)> {
    let skip_first = digits % 2 == 1 && align == Align::Right;
    let skip_last = digits % 2 == 1 && align == Align::Left;
    let last = b.len().wrapping_sub(1);
    for (i, &x) in b.iter().enumerate() {
        let (hi, lo) = (x >> 4, x & 0xF);
        if hi > 9 && !(skip_first && i == 0) {
            return Err((i, hi));
        }
        if lo > 9 && !(skip_last && i == last) {
            return Err((i, lo));
        }
    }
    Ok(())
}

impl<'a> MessageView<'a> {
    pub fn mti(&self) -> &str {
        std::str::from_utf8(&self.mti).unwrap_or_default()
    }

    /// The bytes the view reads (from the MTI to the end of the last field).
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    pub fn has(&self, n: u8) -> bool {
        (2..=128).contains(&n) && self.present & bit(n.into()) != 0
    }

    /// Field numbers present, ascending.
    pub fn field_numbers(&self) -> impl Iterator<Item = u8> + '_ {
        let mut rest = self.present;
        std::iter::from_fn(move || {
            (rest != 0).then(|| {
                let n = rest.leading_zeros() as usize + 1;
                rest &= !bit(n);
                n as u8
            })
        })
    }

    fn located(&self, n: u8) -> Option<(&FieldSpec, Span, &'a [u8])> {
        if !self.has(n) {
            return None;
        }
        let spec = self.dialect.field(n.into())?;
        let span = *self.spans.get(usize::from(n))?;
        let start = span.start as usize;
        let len = value_len(spec.kind, span.units as usize);
        Some((spec, span, self.bytes.get(start..start + len)?))
    }

    /// Field `n`'s value bytes as received, whatever its kind (packed BCD for n and z).
    pub fn raw(&self, n: u8) -> Option<&'a [u8]> {
        self.located(n).map(|(_, _, b)| b)
    }

    /// The bytes of a b field, or of an ans field that is not text: what `Message::bytes` gives.
    pub fn bytes(&self, n: u8) -> Option<&'a [u8]> {
        match self.located(n)? {
            (spec, _, b) if spec.kind == Kind::B => Some(b),
            (spec, _, b) if spec.kind == Kind::Ans && !b.iter().all(|&c| is_ans(c)) => Some(b),
            _ => None,
        }
    }

    /// The text of an n/z/an/ans field: borrowed for an and ans, decoded for n and z (the only
    /// allocation, and only on access). `None` when absent, binary, or ans carrying bytes.
    pub fn text(&self, n: u8) -> Option<Cow<'a, str>> {
        let (spec, span, b) = self.located(n)?;
        match spec.kind {
            Kind::N | Kind::Z => bcd::decode(b, span.units as usize, spec.align, charset(spec), 0)
                .ok()
                .map(Cow::Owned),
            Kind::An | Kind::Ans if b.iter().all(|&c| is_ans(c)) => {
                std::str::from_utf8(b).ok().map(Cow::Borrowed)
            }
            Kind::An | Kind::Ans | Kind::B => None,
        }
    }

    /// The text of a field, owned; `None` when absent or binary (as `Message::field_text`).
    pub fn field_text(&self, n: u8) -> Option<String> {
        self.text(n).map(Cow::into_owned)
    }

    /// Whether field `n` is present with exactly this text, without decoding it: how an answer is
    /// matched to its request.
    pub fn text_is(&self, n: u8, expected: &str) -> bool {
        let Some((spec, span, b)) = self.located(n) else {
            return false;
        };
        match spec.kind {
            Kind::N | Kind::Z => {
                let digits = span.units as usize;
                let skip = usize::from(digits % 2 == 1 && spec.align == Align::Right);
                expected.len() == digits
                    && expected.bytes().enumerate().all(|(i, c)| {
                        let pos = i + skip;
                        let byte = b[pos / 2];
                        let nibble = if pos % 2 == 0 { byte >> 4 } else { byte & 0xF };
                        nibble_char(nibble, charset(spec)) == Some(c)
                    })
            }
            Kind::An | Kind::Ans => b.iter().all(|&c| is_ans(c)) && b == expected.as_bytes(),
            Kind::B => false,
        }
    }

    /// Field `n` as an owned value, as the owned unpacker gives it.
    pub fn value(&self, n: u8) -> Option<Value> {
        let (spec, _, b) = self.located(n)?;
        match spec.kind {
            Kind::B => Some(Value::Binary(b.to_vec())),
            Kind::Ans if !b.iter().all(|&c| is_ans(c)) => Some(Value::Binary(b.to_vec())),
            _ => self.text(n).map(|t| Value::Text(t.into_owned())),
        }
    }

    /// The owned message, for code that keeps or edits it.
    pub fn to_message(&self) -> Message {
        let mut m = Message::with_capacity(self.mti(), self.present.count_ones() as usize);
        for n in self.field_numbers() {
            if let Some(v) = self.value(n) {
                m.set(n, v);
            }
        }
        m
    }

    /// The MAC scope exactly as received: the bytes from the MTI to the end of field 63 and the
    /// 8-byte tag of field 64 that follows them. `None` without field 64, when fields follow it,
    /// or with a secondary bitmap (whose MAC is field 128, not a prefix of the bytes).
    pub fn mac_scope(&self) -> Option<(&'a [u8], &'a [u8])> {
        const MAC: u8 = 64;
        if self.secondary || !self.has(MAC) || self.present & (bit(MAC.into()) - 1) != 0 {
            return None;
        }
        let tag = self.raw(MAC)?;
        let start = self.spans[usize::from(MAC)].start as usize;
        Some((self.bytes.get(..start)?, tag))
    }
}

fn charset(spec: &FieldSpec) -> Charset {
    if spec.kind == Kind::Z {
        Charset::Track
    } else {
        Charset::Numeric
    }
}

fn nibble_char(n: u8, charset: Charset) -> Option<u8> {
    match n {
        0..=9 => Some(b'0' + n),
        0xA..=0xF if charset == Charset::Track => Some(b'A' + n - 10),
        _ => None,
    }
}

/// Masks card data as `Message`'s `Debug` does.
impl fmt::Debug for MessageView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        m.entry(&"mti", &self.mti());
        for n in self.field_numbers() {
            if let Some(v) = self.value(n) {
                m.entry(&n, &display_value(n, &v));
            }
        }
        m.finish()
    }
}

impl PartialEq<Message> for MessageView<'_> {
    fn eq(&self, other: &Message) -> bool {
        self.mti() == other.mti()
            && self.field_numbers().eq(other.field_numbers())
            && self
                .field_numbers()
                .all(|n| self.value(n).as_ref() == other.get(n))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// The branch-free check says yes exactly where the byte-by-byte one finds no culprit.
        #[test]
        fn the_table_check_of_digits_agrees_with_the_byte_by_byte_one(
            bytes in proptest::collection::vec(
                prop_oneof![
                    3 => (0u8..=9, 0u8..=9).prop_map(|(h, l)| (h << 4) | l),
                    1 => any::<u8>(),
                ],
                0..12,
            ),
            odd in any::<bool>(),
            right in any::<bool>(),
        ) {
            let digits = (bytes.len() * 2).saturating_sub(usize::from(odd && !bytes.is_empty()));
            let align = if right { Align::Right } else { Align::Left };
            prop_assert_eq!(
                digits_ok(&bytes, digits, align),
                check_digits(&bytes, digits, align).is_ok()
            );
        }
    }
}
