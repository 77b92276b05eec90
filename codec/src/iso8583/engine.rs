//! The table-driven packer and unpacker. Nothing here knows a particular dialect.

use super::error::{PackError, PackErrorKind, UnpackError};
use super::message::{Message, Value};
use super::pack_fast;
use super::spec::{Dialect, FieldSpec, Kind, Length, Prefix};
use super::view::prefix_width;
use crate::bcd::{self, Align, BcdError, Charset};

const MAC_FIELD: u8 = 64;

impl Dialect {
    /// MTI, bitmap(s) and fields, in one buffer sized once.
    pub fn pack(&self, msg: &Message) -> Result<Vec<u8>, PackError> {
        let mut out = Vec::with_capacity(pack_fast::capacity(msg));
        self.pack_either(msg, false, &mut out)?;
        Ok(out)
    }

    /// As `pack`, appending to `out` (a frame writes its TPDU and header first, then the message,
    /// into the same buffer).
    pub fn pack_into(&self, msg: &Message, out: &mut Vec<u8>) -> Result<(), PackError> {
        self.pack_either(msg, false, out)
    }

    /// What a MAC over `msg` covers: the packed message from the MTI to the end of the last field
    /// before 64, with bit 64 set in the bitmap, whether or not field 64 is present yet.
    pub fn pack_for_mac(&self, msg: &Message) -> Result<Vec<u8>, PackError> {
        let mut out = Vec::with_capacity(pack_fast::capacity(msg));
        self.pack_either(msg, true, &mut out)?;
        Ok(out)
    }

    /// The packed length of a valid `msg` (an estimate for an invalid one, which fails anyway):
    /// the capacity that lets the packer write without growing its buffer.
    pub fn packed_len(&self, msg: &Message, for_mac: bool) -> usize {
        let mut len = 2 + 8;
        for (n, value) in msg.fields() {
            if for_mac && n >= MAC_FIELD {
                break;
            }
            let Some(spec) = self.field(n.into()) else {
                continue;
            };
            len += usize::from(n > 64) * 8;
            len += match spec.length {
                Length::Fixed(_) => 0,
                Length::LlVar(_) => prefix_width(spec.prefix, 2),
                Length::LllVar(_) => prefix_width(spec.prefix, 3),
            };
            len += match (spec.kind, value) {
                (Kind::N | Kind::Z, Value::Text(s)) => bcd::byte_len(s.len()),
                (_, v) => v.as_bytes().len(),
            };
        }
        len
    }

    /// The straight path for a message that packs cleanly; anything else is packed again by the
    /// checked packer, which names the field and the fault.
    fn pack_either(
        &self,
        msg: &Message,
        for_mac: bool,
        out: &mut Vec<u8>,
    ) -> Result<(), PackError> {
        let start = out.len();
        if pack_fast::pack(self, msg, for_mac, out) {
            return Ok(());
        }
        out.truncate(start);
        self.pack_checked(msg, for_mac, out)
    }

    /// The reference packer: checks everything in the order the errors are reported.
    pub(super) fn pack_checked(
        &self,
        msg: &Message,
        for_mac: bool,
        out: &mut Vec<u8>,
    ) -> Result<(), PackError> {
        let mti = msg.mti();
        if mti.len() != 4 {
            return Err(PackError {
                field: 0,
                name: "MTI",
                kind: PackErrorKind::BadMti(mti.to_string()),
            });
        }
        bcd::encode_into(mti, Align::Right, 0, Charset::Numeric, out).map_err(|_| PackError {
            field: 0,
            name: "MTI",
            kind: PackErrorKind::BadMti(mti.to_string()),
        })?;
        let mut bitmap = [0u8; 16];
        let mut secondary = false;
        let mut set_bit = |n: u8| -> Result<(), PackError> {
            if !(2..=128).contains(&n) || self.field(n.into()).is_none() {
                return Err(PackError {
                    field: n,
                    name: self.name_of(n.into()),
                    kind: PackErrorKind::Undefined,
                });
            }
            let bit = usize::from(n) - 1;
            bitmap[bit / 8] |= 0x80 >> (bit % 8);
            secondary |= n > 64;
            Ok(())
        };
        for n in msg.field_numbers() {
            set_bit(n)?;
        }
        if for_mac {
            set_bit(MAC_FIELD)?;
        }
        if secondary {
            bitmap[0] |= 0x80;
            out.extend_from_slice(&bitmap);
        } else {
            out.extend_from_slice(&bitmap[..8]);
        }
        for (n, value) in msg.fields() {
            if for_mac && n >= MAC_FIELD {
                break;
            }
            let spec = self.field(n.into()).ok_or(PackError {
                field: n,
                name: "undefined",
                kind: PackErrorKind::Undefined,
            })?;
            pack_field(spec, value, out).map_err(|kind| PackError {
                field: n,
                name: spec.name,
                kind,
            })?;
        }
        Ok(())
    }

    /// Unpacks a whole message into an owned `Message`; bytes after the last field are an error.
    /// Receivers that only read the message use [`Dialect::view`], which allocates nothing.
    pub fn unpack(&self, bytes: &[u8]) -> Result<Message, UnpackError> {
        self.unpack_at(bytes, 0)
    }

    /// As `unpack`, with offsets in errors counted from `base` (the message's place in a frame).
    pub fn unpack_at(&self, bytes: &[u8], base: usize) -> Result<Message, UnpackError> {
        self.view_at(bytes, base).map(|view| view.to_message())
    }
}

/// Units of a value as its length prefix counts them.
fn units(spec: &FieldSpec, value: &Value) -> Result<usize, PackErrorKind> {
    match (spec.kind, value) {
        // ans may carry GBK text (issuer names in field 63): kept as bytes.
        (Kind::B | Kind::Ans, Value::Binary(b)) => Ok(b.len()),
        (Kind::B, Value::Text(_)) | (_, Value::Binary(_)) => Err(PackErrorKind::WrongValueType),
        (_, Value::Text(s)) if s.is_ascii() => Ok(s.len()),
        (_, Value::Text(s)) => Ok(s.chars().count()),
    }
}

fn pack_field(spec: &FieldSpec, value: &Value, out: &mut Vec<u8>) -> Result<(), PackErrorKind> {
    let len = units(spec, value)?;
    match spec.length {
        Length::Fixed(n) if len != n => {
            return Err(PackErrorKind::WrongLength { len, expected: n });
        }
        Length::LlVar(max) | Length::LllVar(max) if len > max => {
            return Err(PackErrorKind::TooLong { len, max });
        }
        _ => {}
    }
    match spec.length {
        Length::Fixed(_) => {}
        Length::LlVar(_) => write_prefix(spec.prefix, len, 2, out),
        Length::LllVar(_) => write_prefix(spec.prefix, len, 3, out),
    }
    match (spec.kind, value) {
        (Kind::N | Kind::Z, Value::Text(s)) => {
            let charset = if spec.kind == Kind::Z {
                Charset::Track
            } else {
                Charset::Numeric
            };
            bcd::encode_into(s, spec.align, spec.pad, charset, out).map_err(|e| match e {
                BcdError::BadCharacter { index, found } => {
                    PackErrorKind::BadCharacter { index, found }
                }
                _ => PackErrorKind::WrongValueType,
            })
        }
        (Kind::An | Kind::Ans, Value::Text(s)) => {
            let allowed = |c: char| match spec.kind {
                Kind::An => c.is_ascii_alphanumeric() || c == ' ',
                _ => !c.is_control(),
            };
            // The common case, ASCII text the field allows, checked byte by byte.
            if s.bytes().all(|b| b.is_ascii() && allowed(char::from(b))) {
                out.extend_from_slice(s.as_bytes());
                return Ok(());
            }
            if let Some((index, found)) = s.chars().enumerate().find(|(_, c)| !allowed(*c)) {
                return Err(PackErrorKind::BadCharacter { index, found });
            }
            if !s.is_ascii() {
                // UnionPay's ans fields count bytes; non-ASCII text would break the prefix.
                return Err(PackErrorKind::BadCharacter {
                    index: s.chars().position(|c| !c.is_ascii()).unwrap_or(0),
                    found: s.chars().find(|c| !c.is_ascii()).unwrap_or('?'),
                });
            }
            out.extend_from_slice(s.as_bytes());
            Ok(())
        }
        (Kind::B | Kind::Ans, Value::Binary(b)) => {
            out.extend_from_slice(b);
            Ok(())
        }
        _ => Err(PackErrorKind::WrongValueType),
    }
}

fn write_prefix(prefix: Prefix, len: usize, digits: usize, out: &mut Vec<u8>) {
    let (bytes, width) = prefix_bytes(prefix, len, digits);
    out.extend_from_slice(&bytes[..width]);
}

/// 0..=99 as one packed BCD byte: a length prefix without divisions.
static BCD_PAIRS: [u8; 100] = {
    let mut table = [0u8; 100];
    let mut v = 0;
    while v < 100 {
        table[v] = (((v / 10) << 4) | (v % 10)) as u8;
        v += 1;
    }
    table
};

/// The length prefix of `len` in `digits` digits (2 or 3), and how many of the three bytes it
/// takes. `len` is at most the field maximum (≤ 999), checked by the caller.
#[inline(always)]
pub(super) fn prefix_bytes(prefix: Prefix, len: usize, digits: usize) -> ([u8; 3], usize) {
    let bcd_pair = |v: usize| BCD_PAIRS[v % 100];
    let ascii = |v: usize| b'0' + (v % 10) as u8;
    match (prefix, digits) {
        // Right-aligned BCD: LL in one byte, LLL in two (leading nibble 0).
        (Prefix::Bcd, 2) => ([bcd_pair(len), 0, 0], 1),
        (Prefix::Bcd, _) => ([bcd_pair(len / 100), bcd_pair(len), 0], 2),
        (Prefix::Ascii, 2) => ([ascii(len / 10), ascii(len), 0], 2),
        (Prefix::Ascii, _) => ([ascii(len / 100), ascii(len / 10), ascii(len)], 3),
        (Prefix::Binary, 2) => ([len as u8, 0, 0], 1),
        (Prefix::Binary, _) => ([(len >> 8) as u8, len as u8, 0], 2),
    }
}
