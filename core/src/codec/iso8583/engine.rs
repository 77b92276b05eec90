//! The table-driven packer and unpacker. Nothing here knows a particular dialect.

use super::error::{PackError, PackErrorKind, UnpackError, UnpackErrorKind};
use super::message::{Message, Value};
use super::spec::{Dialect, FieldSpec, Kind, Length, Prefix};
use crate::codec::bcd::{self, Align, BcdError, Charset};

const MAC_FIELD: u8 = 64;

impl Dialect {
    /// MTI, bitmap(s) and fields.
    pub fn pack(&self, msg: &Message) -> Result<Vec<u8>, PackError> {
        self.pack_inner(msg, false)
    }

    /// What a MAC over `msg` covers: the packed message from the MTI to the end of the last field
    /// before 64, with bit 64 set in the bitmap, whether or not field 64 is present yet.
    pub fn pack_for_mac(&self, msg: &Message) -> Result<Vec<u8>, PackError> {
        self.pack_inner(msg, true)
    }

    fn pack_inner(&self, msg: &Message, for_mac: bool) -> Result<Vec<u8>, PackError> {
        let mut out = Vec::with_capacity(256);
        let mti = msg.mti();
        if mti.len() != 4 {
            return Err(PackError {
                field: 0,
                name: "MTI",
                kind: PackErrorKind::BadMti(mti.to_string()),
            });
        }
        bcd::encode_into(mti, Align::Right, 0, Charset::Numeric, &mut out).map_err(|_| {
            PackError {
                field: 0,
                name: "MTI",
                kind: PackErrorKind::BadMti(mti.to_string()),
            }
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
            pack_field(spec, value, &mut out).map_err(|kind| PackError {
                field: n,
                name: spec.name,
                kind,
            })?;
        }
        Ok(out)
    }

    /// Unpacks a whole message; bytes after the last field are an error.
    pub fn unpack(&self, bytes: &[u8]) -> Result<Message, UnpackError> {
        self.unpack_at(bytes, 0)
    }

    /// As `unpack`, with offsets in errors counted from `base` (the message's place in a frame).
    pub fn unpack_at(&self, bytes: &[u8], base: usize) -> Result<Message, UnpackError> {
        let mut r = Reader {
            bytes,
            pos: 0,
            base,
        };
        let mti_bytes = r.take(2, None, "MTI")?;
        let mti =
            bcd::decode(mti_bytes, 4, Align::Right, Charset::Numeric, base).map_err(|_| {
                UnpackError {
                    field: None,
                    name: "MTI",
                    offset: base,
                    kind: UnpackErrorKind::BadMti,
                }
            })?;
        let mut msg = Message::new(&mti);
        let mut bitmap = [0u8; 16];
        bitmap[..8].copy_from_slice(r.take(8, None, "primary bitmap")?);
        let fields = if bitmap[0] & 0x80 != 0 {
            bitmap[8..].copy_from_slice(r.take(8, None, "secondary bitmap")?);
            128
        } else {
            64
        };
        for n in 2..=fields {
            let bit = n - 1;
            if bitmap[bit / 8] & (0x80 >> (bit % 8)) == 0 {
                continue;
            }
            let number = n as u8;
            let spec = self.field(n).ok_or(UnpackError {
                field: Some(number),
                name: "undefined",
                offset: r.offset(),
                kind: UnpackErrorKind::UndefinedField,
            })?;
            let value = unpack_field(spec, number, &mut r)?;
            msg.set(number, value);
        }
        if r.pos != bytes.len() {
            return Err(UnpackError {
                field: None,
                name: "message",
                offset: r.offset(),
                kind: UnpackErrorKind::TrailingBytes {
                    count: bytes.len() - r.pos,
                },
            });
        }
        Ok(msg)
    }
}

/// Units of a value as its length prefix counts them.
fn units(spec: &FieldSpec, value: &Value) -> Result<usize, PackErrorKind> {
    match (spec.kind, value) {
        // ans may carry GBK text (issuer names in field 63): kept as bytes.
        (Kind::B | Kind::Ans, Value::Binary(b)) => Ok(b.len()),
        (Kind::B, Value::Text(_)) | (_, Value::Binary(_)) => Err(PackErrorKind::WrongValueType),
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
    match prefix {
        Prefix::Bcd => {
            // Right-aligned BCD: LL in one byte, LLL in two (leading nibble 0). `len` is at most
            // the field maximum (≤ 999), checked by the caller.
            let bcd_pair = |v: usize| (((v / 10 % 10) << 4) | (v % 10)) as u8;
            if digits == 3 {
                out.push(bcd_pair(len / 100));
            }
            out.push(bcd_pair(len));
        }
        Prefix::Ascii => out.extend_from_slice(format!("{len:0digits$}").as_bytes()),
        Prefix::Binary => {
            if digits == 2 {
                out.push(len as u8);
            } else {
                out.extend_from_slice(&(len as u16).to_be_bytes());
            }
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Reader<'a> {
    fn offset(&self) -> usize {
        self.base + self.pos
    }

    fn take(
        &mut self,
        n: usize,
        field: Option<u8>,
        name: &'static str,
    ) -> Result<&'a [u8], UnpackError> {
        let available = self.bytes.len() - self.pos;
        if n > available {
            return Err(UnpackError {
                field,
                name,
                offset: self.offset(),
                kind: UnpackErrorKind::Truncated {
                    needed: n,
                    available,
                },
            });
        }
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
}

fn read_prefix(
    spec: &FieldSpec,
    n: u8,
    digits: usize,
    r: &mut Reader<'_>,
) -> Result<usize, UnpackError> {
    let at = r.offset();
    let err = |kind| UnpackError {
        field: Some(n),
        name: spec.name,
        offset: at,
        kind,
    };
    match spec.prefix {
        Prefix::Bcd => {
            let width = digits + digits % 2;
            let b = r.take(width / 2, Some(n), spec.name)?;
            let text = bcd::decode(b, width, Align::Right, Charset::Numeric, at)
                .map_err(|_| err(UnpackErrorKind::BadLengthPrefix))?;
            text.parse()
                .map_err(|_| err(UnpackErrorKind::BadLengthPrefix))
        }
        Prefix::Ascii => {
            let b = r.take(digits, Some(n), spec.name)?;
            std::str::from_utf8(b)
                .ok()
                .filter(|s| s.bytes().all(|c| c.is_ascii_digit()))
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| err(UnpackErrorKind::BadLengthPrefix))
        }
        Prefix::Binary => {
            let b = r.take(if digits == 2 { 1 } else { 2 }, Some(n), spec.name)?;
            Ok(b.iter().fold(0usize, |acc, &x| (acc << 8) | usize::from(x)))
        }
    }
}

fn unpack_field(spec: &FieldSpec, n: u8, r: &mut Reader<'_>) -> Result<Value, UnpackError> {
    let prefix_at = r.offset();
    let len = match spec.length {
        Length::Fixed(len) => len,
        Length::LlVar(_) => read_prefix(spec, n, 2, r)?,
        Length::LllVar(_) => read_prefix(spec, n, 3, r)?,
    };
    if len > spec.length.max() {
        return Err(UnpackError {
            field: Some(n),
            name: spec.name,
            offset: prefix_at,
            kind: UnpackErrorKind::LengthOverMax {
                len,
                max: spec.length.max(),
            },
        });
    }
    let at = r.offset();
    match spec.kind {
        Kind::N | Kind::Z => {
            let b = r.take(bcd::byte_len(len), Some(n), spec.name)?;
            let charset = if spec.kind == Kind::Z {
                Charset::Track
            } else {
                Charset::Numeric
            };
            bcd::decode(b, len, spec.align, charset, at)
                .map(Value::Text)
                .map_err(|e| {
                    let (offset, nibble) = match e {
                        BcdError::BadNibble { offset, nibble } => (offset, nibble),
                        _ => (at, 0),
                    };
                    UnpackError {
                        field: Some(n),
                        name: spec.name,
                        offset,
                        kind: UnpackErrorKind::BadNibble { nibble },
                    }
                })
        }
        Kind::An | Kind::Ans => {
            let b = r.take(len, Some(n), spec.name)?;
            // Text only when `pack_field` would accept it back, so every decoded message
            // re-encodes (the fuzz round trip needs it: `an` with punctuation, `ans` with controls).
            let text_ok = |c: u8| match spec.kind {
                Kind::An => c.is_ascii_alphanumeric() || c == b' ',
                _ => c.is_ascii() && !c.is_ascii_control(),
            };
            match b {
                b if b.iter().all(|&c| text_ok(c)) => {
                    Ok(Value::Text(b.iter().map(|&c| char::from(c)).collect()))
                }
                _ if spec.kind == Kind::Ans => Ok(Value::Binary(b.to_vec())),
                _ => Err(UnpackError {
                    field: Some(n),
                    name: spec.name,
                    offset: at,
                    kind: UnpackErrorKind::BadText,
                }),
            }
        }
        Kind::B => Ok(Value::Binary(r.take(len, Some(n), spec.name)?.to_vec())),
    }
}
