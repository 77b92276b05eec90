//! The packer's straight path: one pass over a message that packs cleanly, with no error
//! bookkeeping. It only says whether it succeeded; on any doubt the caller truncates what it
//! wrote and runs the checked packer (`engine.rs`), which finds and names the error. So the two
//! agree by construction on every message the straight path accepts, and a proptest checks
//! that they agree byte for byte.

use super::charclass;
use super::engine::prefix_bytes;
use super::message::{Message, Value};
use super::plan::{FieldPlan, Op};
use super::spec::{Dialect, Prefix};
use crate::bcd::{self, Charset};
use crate::short_copy;

const MAC_FIELD: u8 = 64;

/// What one look at the field numbers and value sizes gives, before anything is written.
struct Layout {
    /// At least the packed length of the message if it packs: MTI, bitmaps, and per field its
    /// value's bytes (BCD only halves them) and the widest length prefix. A few dozen bytes too
    /// many cost less than a second pass with the specs.
    bound: usize,
    primary: u64,
    /// Zero when no field above 64 is present (then there is no secondary bitmap).
    secondary: u64,
}

/// At least the packed length of `msg` if it packs (see `Layout::bound`), from its tally: the
/// capacity to allocate once.
pub(super) fn capacity(msg: &Message) -> usize {
    2 + 16 + msg.tally().value_bytes + 3 * msg.len()
}

/// The layout of `msg` from its tally, or `None` when a field number is outside 2..=128.
fn layout(msg: &Message, for_mac: bool) -> Option<Layout> {
    let tally = msg.tally();
    let field_one = 1 << 63;
    if tally.unmapped != 0 || tally.primary & field_one != 0 {
        return None;
    }
    let mut primary = tally.primary;
    if for_mac {
        primary |= 1 << (64 - MAC_FIELD);
    }
    if tally.secondary != 0 {
        primary |= field_one;
    }
    Some(Layout {
        bound: capacity(msg),
        primary,
        secondary: tally.secondary,
    })
}

/// Appends `msg` packed to `out` and returns true, or returns false having appended any number
/// of bytes. As the checked packer: every field numbered in the bitmap must be defined, and
/// `for_mac` sets bit 64 and stops before field 64.
pub(super) fn pack(dialect: &Dialect, msg: &Message, for_mac: bool, out: &mut Vec<u8>) -> bool {
    let Some(layout) = layout(msg, for_mac) else {
        return false;
    };
    // One buffer sized once, and what is left over is cut off at the end.
    let start = out.len();
    out.resize(start + layout.bound, 0);
    let Some(buf) = out.get_mut(start..) else {
        return false;
    };
    let Some(written) = write(dialect, msg, for_mac, &layout, buf) else {
        return false;
    };
    out.truncate(start + written);
    true
}

/// Where the packer is in its buffer.
struct Cursor<'a> {
    buf: &'a mut [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    /// The next `len` bytes, to be written; `None` past the end.
    #[inline(always)]
    fn take(&mut self, len: usize) -> Option<&mut [u8]> {
        let slot = self.buf.get_mut(self.at..self.at + len)?;
        self.at += len;
        Some(slot)
    }

    #[inline(always)]
    fn put(&mut self, bytes: &[u8]) -> Option<()> {
        short_copy::copy(self.take(bytes.len())?, bytes);
        Some(())
    }

    /// Writes the length prefix byte by byte into three bytes of room (every field's share of
    /// the bound has them) and moves on by its width. Copying it as a short slice instead would
    /// read back from the stack with one wide load what was stored there byte by byte, a stalled
    /// store-to-load forward that was a fifth of a variable field's time.
    #[inline(always)]
    fn put_prefix(&mut self, prefix: Prefix, len: usize, digits: usize) -> Option<()> {
        let ([a, b, c], width) = prefix_bytes(prefix, len, digits);
        let slot = self.buf.get_mut(self.at..self.at + 3)?;
        slot[0] = a;
        slot[1] = b;
        slot[2] = c;
        self.at += width;
        Some(())
    }
}

/// Packs into `buf` and returns the bytes written.
fn write(
    dialect: &Dialect,
    msg: &Message,
    for_mac: bool,
    layout: &Layout,
    buf: &mut [u8],
) -> Option<usize> {
    let &[a, b, c, d] = msg.mti().as_bytes() else {
        return None;
    };
    if ![a, b, c, d].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut w = Cursor { buf, at: 0 };
    w.put(&[
        ((a - b'0') << 4) | (b - b'0'),
        ((c - b'0') << 4) | (d - b'0'),
    ])?;
    w.put(&layout.primary.to_be_bytes())?;
    if layout.secondary != 0 {
        w.put(&layout.secondary.to_be_bytes())?;
    }
    for (n, value) in msg.fields() {
        let plan = &dialect.plans[usize::from(n)];
        if for_mac && n >= MAC_FIELD {
            if plan.op == Op::Undefined {
                return None;
            }
            continue;
        }
        pack_value(plan, value, &mut w)?;
    }
    if for_mac && dialect.plans[usize::from(MAC_FIELD)].op == Op::Undefined {
        return None;
    }
    Some(w.at)
}

#[inline(always)]
fn pack_value(plan: &FieldPlan, value: &Value, w: &mut Cursor<'_>) -> Option<()> {
    let (bytes, is_text) = match value {
        Value::Text(s) => (s.as_bytes(), true),
        Value::Binary(b) => (b.as_slice(), false),
    };
    // Counting bytes is counting characters here: text that is not ASCII fails every kind's
    // character check below.
    let len = bytes.len();
    let fixed = |_: &mut Cursor<'_>| (len == plan.units as usize).then_some(());
    let var = |w: &mut Cursor<'_>| {
        (len <= plan.units as usize).then_some(())?;
        w.put_prefix(plan.prefix, len, plan.prefix_digits.into())
    };
    let text = |_: &mut Cursor<'_>| is_text.then_some(());
    match plan.op {
        Op::Digits => {
            text(w)?;
            fixed(w)?;
            encode_digits(bytes, plan, Charset::Numeric, w)
        }
        Op::VarDigits => {
            text(w)?;
            var(w)?;
            encode_digits(bytes, plan, Charset::Numeric, w)
        }
        Op::Track => {
            text(w)?;
            fixed(w)?;
            encode_digits(bytes, plan, Charset::Track, w)
        }
        Op::VarTrack => {
            text(w)?;
            var(w)?;
            encode_digits(bytes, plan, Charset::Track, w)
        }
        Op::An => {
            text(w)?;
            fixed(w)?;
            put_text(bytes, charclass::AN, w)
        }
        Op::VarAn => {
            text(w)?;
            var(w)?;
            put_text(bytes, charclass::AN, w)
        }
        // ans carries text, or bytes (GBK text in field 63); bytes are not checked.
        Op::Ans => {
            fixed(w)?;
            put_text(bytes, if is_text { charclass::ANS } else { 0 }, w)
        }
        Op::VarAns => {
            var(w)?;
            put_text(bytes, if is_text { charclass::ANS } else { 0 }, w)
        }
        // Bytes are bytes: nothing to check (field 55 is most of a chip message).
        Op::Bytes => {
            (!is_text).then_some(())?;
            fixed(w)?;
            w.put(bytes)
        }
        Op::VarBytes => {
            (!is_text).then_some(())?;
            var(w)?;
            w.put(bytes)
        }
        Op::Undefined => None,
    }
}

/// Text whose every character is in `class` (with class 0, any bytes).
#[inline(always)]
fn put_text(text: &[u8], class: u8, w: &mut Cursor<'_>) -> Option<()> {
    let mut all = class;
    for &c in text {
        all &= charclass::of(c);
    }
    (all == class).then_some(())?;
    w.put(text)
}

#[inline(always)]
fn encode_digits(
    digits: &[u8],
    plan: &FieldPlan,
    charset: Charset,
    w: &mut Cursor<'_>,
) -> Option<()> {
    let dst = w.take(bcd::byte_len(digits.len()))?;
    bcd::encode_to(digits, plan.align, plan.pad, charset, dst).then_some(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::cups::CUPS;
    use super::super::tests::arb_message;
    use super::*;

    /// Both packers on one message: the straight path's bytes when it succeeds, and the checked
    /// packer's answer.
    fn both(m: &Message, for_mac: bool) -> (Option<Vec<u8>>, Result<Vec<u8>, String>) {
        let mut fast = Vec::new();
        let fast = pack(&CUPS, m, for_mac, &mut fast).then_some(fast);
        let mut checked = Vec::new();
        let checked = CUPS
            .pack_checked(m, for_mac, &mut checked)
            .map(|()| checked)
            .map_err(|e| e.to_string());
        (fast, checked)
    }

    /// Any value of either type, in any field number, with text that is often not what the
    /// field allows (non-ASCII included).
    fn arb_any_message() -> impl Strategy<Value = Message> {
        let value = prop_oneof![
            "[0-9]{0,40}".prop_map(Value::Text),
            "[0-9A-Za-z =D~\u{7f}\u{e9}\u{4e2d}\t]{0,20}".prop_map(Value::Text),
            proptest::collection::vec(any::<u8>(), 0..40).prop_map(Value::Binary),
        ];
        let field = prop_oneof![
            4 => proptest::sample::select(vec![2u8, 3, 4, 11, 22, 23, 35, 37, 39, 41, 48, 52, 55, 60, 63, 64]),
            1 => any::<u8>(),
        ];
        (
            "[0-9A]{3,5}",
            proptest::collection::vec((field, value), 0..8),
        )
            .prop_map(|(mti, fields)| {
                let mut m = Message::new(&mti);
                for (n, v) in fields {
                    m.set(n, v);
                }
                m
            })
    }

    proptest! {
        #[test]
        fn the_straight_path_packs_every_valid_message_as_the_checked_packer(m in arb_message(), for_mac in any::<bool>()) {
            let (fast, checked) = both(&m, for_mac);
            prop_assert_eq!(fast.as_ref(), checked.as_ref().ok());
            prop_assert!(fast.is_some());
        }

        #[test]
        fn the_straight_path_never_accepts_what_the_checked_packer_refuses(m in arb_any_message(), for_mac in any::<bool>()) {
            let (fast, checked) = both(&m, for_mac);
            match checked {
                Ok(bytes) => prop_assert_eq!(fast, Some(bytes)),
                Err(_) => prop_assert_eq!(fast, None),
            }
        }
    }
}
