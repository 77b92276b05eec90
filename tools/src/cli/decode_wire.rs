//! What `decode` shows of the bytes themselves: the bitmap, each field's place, length prefix
//! and raw bytes (card data redacted), a length prefix that disagrees with the bytes given, and
//! the check of field 64 with a MAK the operator supplies.

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};
use smartpos_core::codec::iso8583::cups::{CUPS, received_mac_scope};
use smartpos_core::codec::iso8583::spec::{Length, Prefix};
use smartpos_core::codec::iso8583::{Message, is_sensitive_field};
use smartpos_core::crypto::{MacAlgorithm, SecretKey, verify_mac};

/// Where a frame body's message starts: after the 5-byte TPDU and the 6-byte header.
pub const BODY_PREFIX_LEN: usize = 11;

/// One field on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldWire {
    /// Offset of the field's first byte (its length prefix, if any) in the input.
    pub offset: usize,
    /// The length prefix: its size in bytes and the length it declares (digits, bytes or
    /// characters, as the field's type counts).
    pub prefix: Option<(usize, usize)>,
    /// The field's bytes after its prefix.
    pub data: Vec<u8>,
}

/// The bitmap the message carries: 8 bytes, or 16 with a secondary bitmap.
pub fn bitmap(message: &Message) -> Vec<u8> {
    let mut map = [0u8; 16];
    let mut secondary = false;
    for n in message.field_numbers() {
        let bit = usize::from(n) - 1;
        map[bit / 8] |= 0x80 >> (bit % 8);
        secondary |= n > 64;
    }
    if secondary {
        map[0] |= 0x80;
        map.to_vec()
    } else {
        map[..8].to_vec()
    }
}

fn prefix_len(length: Length, prefix: Prefix) -> usize {
    match (length, prefix) {
        (Length::Fixed(_), _) => 0,
        (Length::LlVar(_), Prefix::Ascii) => 2,
        (Length::LllVar(_), Prefix::Ascii) => 3,
        (Length::LlVar(_), _) => 1,
        (Length::LllVar(_), _) => 2,
    }
}

fn declared(prefix_bytes: &[u8], prefix: Prefix) -> usize {
    match prefix {
        Prefix::Bcd => hex::encode(prefix_bytes).parse().unwrap_or(0),
        Prefix::Ascii => std::str::from_utf8(prefix_bytes)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0),
        Prefix::Binary => prefix_bytes
            .iter()
            .fold(0usize, |acc, b| acc * 256 + usize::from(*b)),
    }
}

/// Each field's place in `input`, where the message (its MTI) starts at `start`. Each field is
/// packed on its own by the dialect; `None` when the fields so packed do not add up to the bytes
/// given (a host that encodes a field otherwise), rather than offsets that would mislead.
pub fn field_wire(
    message: &Message,
    input: &[u8],
    start: usize,
) -> Option<BTreeMap<u8, FieldWire>> {
    let mut offset = start + 2 + bitmap(message).len();
    let mut out = BTreeMap::new();
    for (n, value) in message.fields() {
        let mut single = Message::new(message.mti());
        single.set(n, value.clone());
        let packed = CUPS.pack(&single).ok()?;
        let header = 2 + if n > 64 { 16 } else { 8 };
        let bytes = packed.get(header..)?;
        if input.get(offset..offset + bytes.len()) != Some(bytes) {
            return None;
        }
        let spec = CUPS.field(n.into())?;
        let plen = prefix_len(spec.length, spec.prefix);
        let (prefix_bytes, data) = bytes.split_at(plen.min(bytes.len()));
        out.insert(
            n,
            FieldWire {
                offset,
                prefix: (plen > 0).then(|| (plen, declared(prefix_bytes, spec.prefix))),
                data: data.to_vec(),
            },
        );
        offset += bytes.len();
    }
    (offset == input.len()).then_some(out)
}

/// The raw bytes as shown: hex, or their count for card data (2, 35, 36, 52, 55).
pub fn shown_raw(n: u8, data: &[u8]) -> String {
    if is_sensitive_field(n) || n == 55 {
        format!("[redacted {} bytes]", data.len())
    } else {
        hex::encode_upper(data)
    }
}

/// One line of text for a field's wire facts.
pub fn wire_text(n: u8, w: &FieldWire) -> String {
    let prefix = match w.prefix {
        Some((size, len)) => format!("length prefix {len} ({size} byte{}), ", plural(size)),
        None => String::new(),
    };
    format!(
        "wire: at byte {}, {prefix}{} byte{}: {}",
        w.offset,
        w.data.len(),
        plural(w.data.len()),
        shown_raw(n, &w.data)
    )
}

pub fn wire_json(n: u8, w: &FieldWire) -> Json {
    json!({
        "offset": w.offset,
        "length_prefix": w.prefix.map(|(size, len)| json!({"bytes": size, "declares": len})),
        "raw": shown_raw(n, &w.data),
        "raw_len": w.data.len(),
    })
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// A 2-byte length prefix that is meant as one (a UnionPay TPDU, id 60, follows it) but does
/// not match the bytes after it: the error says by how much, instead of decoding the prefix as a
/// TPDU and failing on some field.
pub fn frame_length_disagreement(bytes: &[u8]) -> Option<String> {
    if bytes.len() < 3 || bytes[2] != 0x60 {
        return None;
    }
    let declared = usize::from(u16::from_be_bytes([bytes[0], bytes[1]]));
    let actual = bytes.len() - 2;
    if declared == actual || declared.abs_diff(actual) > 64 {
        return None;
    }
    let (n, what) = if actual < declared {
        (declared - actual, "short")
    } else {
        (actual - declared, "long")
    };
    Some(format!(
        "frame length disagrees: the length prefix declares {declared} bytes but {actual} follow \
         (the frame is {n} byte{} {what})",
        plural(n)
    ))
}

/// Field 64 checked with `mak` over the received bytes (`message` from the MTI on).
pub fn check_mac(alg: MacAlgorithm, mak: &SecretKey, message: &[u8]) -> Result<bool, String> {
    // `received_mac_scope` takes a frame body; the TPDU and header are not MACed.
    let mut body = vec![0u8; BODY_PREFIX_LEN];
    body.extend_from_slice(message);
    let (input, tag) = received_mac_scope(&body)
        .ok_or_else(|| "no field 64 (or a secondary bitmap) in this message".to_owned())?;
    verify_mac(alg, mak, input, tag).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_one_byte_short_or_long_says_so() {
        let mut frame = vec![0x00, 0x0C, 0x60, 0, 1, 0, 0, 0x60, 0x22, 0, 0, 0, 0];
        frame.extend([0x08, 0x00]);
        // 13 bytes follow the prefix, which declares 12.
        let e = frame_length_disagreement(&frame).unwrap();
        assert!(
            e.contains("declares 12 bytes but 13 follow") && e.contains("1 byte long"),
            "{e}"
        );
        frame[1] = 0x0E;
        let e = frame_length_disagreement(&frame).unwrap();
        assert!(e.contains("1 byte short"), "{e}");
        frame[1] = 0x0D;
        assert_eq!(frame_length_disagreement(&frame), None);
    }

    #[test]
    fn the_bitmap_has_the_secondary_bit_only_when_needed() {
        let mut m = Message::new("0200");
        m.set_digits(3, "000000");
        m.set_digits(11, "000001");
        assert_eq!(hex::encode_upper(bitmap(&m)), "2020000000000000");
        m.set_bytes(128, vec![0; 8]);
        let map = bitmap(&m);
        assert_eq!(map.len(), 16);
        assert_eq!(map[0], 0xA0);
        assert_eq!(map[15], 0x01);
    }
}
