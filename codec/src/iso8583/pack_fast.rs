//! The packer's straight path: one pass over a message that packs cleanly, with no error
//! bookkeeping. It only says whether it succeeded; on any doubt the caller truncates what it
//! wrote and runs the checked packer (`engine.rs`), which finds and names the error. So the two
//! agree by construction on every message the straight path accepts, and a proptest checks
//! that they agree byte for byte.

use super::engine::write_prefix;
use super::message::{Message, Value};
use super::spec::{Dialect, FieldSpec, Kind, Length};
use crate::bcd::{self, Charset};

const MAC_FIELD: u8 = 64;

/// Character classes of the text kinds, one load per byte.
const AN: u8 = 1;
const ANS: u8 = 2;

const fn text_classes() -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut c = 0x20;
    // Printable ASCII is ans; letters, digits and space are also an.
    while c < 0x7F {
        let b = c as u8;
        table[c] = ANS
            | if b.is_ascii_alphanumeric() || b == b' ' {
                AN
            } else {
                0
            };
        c += 1;
    }
    table
}

static TEXT_CLASSES: [u8; 256] = text_classes();

/// Bit of field `n` (1..=128) in the 128-bit bitmap, primary bitmap in the high half.
const fn bit(n: u8) -> u128 {
    1u128 << (128 - n as u32)
}

/// Appends `msg` packed to `out` and returns true, or returns false having appended any number
/// of bytes. As the checked packer: every field numbered in the bitmap must be defined, and
/// `for_mac` sets bit 64 and stops before field 64.
pub(super) fn pack(dialect: &Dialect, msg: &Message, for_mac: bool, out: &mut Vec<u8>) -> bool {
    let &[a, b, c, d] = msg.mti().as_bytes() else {
        return false;
    };
    if ![a, b, c, d].iter().all(u8::is_ascii_digit) {
        return false;
    }
    out.push(((a - b'0') << 4) | (b - b'0'));
    out.push(((c - b'0') << 4) | (d - b'0'));
    // Fields are kept in ascending order, so the last one says whether a secondary bitmap
    // follows; the bitmap's bytes are filled in once the fields are written.
    let secondary = msg.last_field_number().is_some_and(|n| n > 64);
    let bitmap_at = out.len();
    let bitmap_len = if secondary { 16 } else { 8 };
    out.extend_from_slice(&[0u8; 16][..bitmap_len]);
    let mut bitmap = if secondary { bit(1) } else { 0 };
    for (n, value) in msg.fields() {
        if !(2..=128).contains(&n) {
            return false;
        }
        let Some(spec) = dialect.field(n.into()) else {
            return false;
        };
        bitmap |= bit(n);
        if for_mac && n >= MAC_FIELD {
            continue;
        }
        if !pack_value(spec, value, out) {
            return false;
        }
    }
    if for_mac {
        if dialect.field(MAC_FIELD.into()).is_none() {
            return false;
        }
        bitmap |= bit(MAC_FIELD);
    }
    let Some(slot) = out.get_mut(bitmap_at..bitmap_at + bitmap_len) else {
        return false;
    };
    slot.copy_from_slice(&bitmap.to_be_bytes()[..bitmap_len]);
    true
}

#[inline(always)]
fn pack_value(spec: &FieldSpec, value: &Value, out: &mut Vec<u8>) -> bool {
    let (bytes, is_text) = match value {
        Value::Text(s) => (s.as_bytes(), true),
        Value::Binary(b) => (b.as_slice(), false),
    };
    // Counting bytes is counting characters here: text that is not ASCII fails every kind's
    // character check below.
    let len = bytes.len();
    match spec.length {
        Length::Fixed(n) if len != n => return false,
        Length::Fixed(_) => {}
        Length::LlVar(max) | Length::LllVar(max) if len > max => return false,
        Length::LlVar(_) => write_prefix(spec.prefix, len, 2, out),
        Length::LllVar(_) => write_prefix(spec.prefix, len, 3, out),
    }
    let class = match (spec.kind, is_text) {
        (Kind::N, true) => return encode_digits(value, spec, Charset::Numeric, out),
        (Kind::Z, true) => return encode_digits(value, spec, Charset::Track, out),
        (Kind::An, true) => AN,
        (Kind::Ans, true) => ANS,
        // Bytes are bytes: nothing to check (field 55 is most of a chip message).
        (Kind::B | Kind::Ans, false) => {
            out.extend_from_slice(bytes);
            return true;
        }
        _ => return false,
    };
    let mut all = class;
    for &c in bytes {
        all &= TEXT_CLASSES[usize::from(c)];
    }
    out.extend_from_slice(bytes);
    all == class
}

#[inline(always)]
fn encode_digits(value: &Value, spec: &FieldSpec, charset: Charset, out: &mut Vec<u8>) -> bool {
    let Value::Text(s) = value else {
        return false;
    };
    bcd::encode_into(s, spec.align, spec.pad, charset, out).is_ok()
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
