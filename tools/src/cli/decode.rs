//! `smartpos decode`: a UnionPay frame in hex, field by field, with the private fields split into
//! their sub-fields and field 55 as a TLV tree. Card data is masked (PAN 6+4) or redacted
//! exactly as `display_value` and `tlv::is_sensitive` decide.

use serde_json::{Map, Value as Json, json};
use smartpos_core::codec::iso8583::cups::{
    CUPS, Field48Totals, Field60, Field61, Field63, Frame, SideTotals, SignOnKeys, Tpdu,
};
use smartpos_core::codec::iso8583::{Message, Value, display_value};
use smartpos_core::codec::tlv;

use super::tlv::{hex_arg, print_output, render_tree, tree_json};
use super::{CliError, CliResult};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The message in hex (spaces allowed): a frame with its 2-byte length, or a body from the TPDU.
    hex: String,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// The hex starts at the MTI (no length, TPDU or header).
    #[arg(long)]
    bare: bool,
}

pub fn run(args: Args) -> CliResult {
    print_output(&format_decode(&args.hex, args.json, args.bare)?)
}

/// A decoded message and, unless it was bare, what framed it.
#[derive(Debug)]
pub struct Decoded {
    pub tpdu: Option<Tpdu>,
    pub header: Option<[u8; 6]>,
    pub message: Message,
}

/// Decodes hex: bare from the MTI, or a frame when the first two bytes equal the length of what
/// follows them, otherwise a body starting at the TPDU. Error offsets count from the first byte
/// of the hex.
pub fn decode_hex(hex_text: &str, bare: bool) -> Result<Decoded, CliError> {
    decode_bytes(&hex_arg(hex_text)?, bare)
}

/// As [`decode_hex`], from the bytes.
pub fn decode_bytes(bytes: &[u8], bare: bool) -> Result<Decoded, CliError> {
    let fail =
        |e: smartpos_core::codec::iso8583::UnpackError| CliError::new(format!("decode: {e}"));
    if bare {
        return Ok(Decoded {
            tpdu: None,
            header: None,
            message: CUPS.unpack(bytes).map_err(fail)?,
        });
    }
    let framed = bytes.len() >= 2
        && usize::from(u16::from_be_bytes([bytes[0], bytes[1]])) == bytes.len() - 2;
    let frame = if framed {
        Frame::decode(bytes)
    } else {
        Frame::decode_body(bytes)
    }
    .map_err(fail)?;
    Ok(Decoded {
        tpdu: Some(frame.tpdu),
        header: Some(frame.header),
        message: frame.message,
    })
}

/// The whole `smartpos decode` output.
pub fn format_decode(hex_text: &str, as_json: bool, bare: bool) -> Result<String, CliError> {
    let d = decode_hex(hex_text, bare)?;
    if as_json {
        serde_json::to_string_pretty(&decoded_json(&d))
            .map_err(|e| CliError::new(format!("JSON output: {e}")))
    } else {
        Ok(decoded_text(&d, Keys::Shown))
    }
}

/// Whether field 62's working keys are shown. They travel encrypted under the TMK, so `decode`
/// shows them; a message log keeps only their check values, as a log outlives the TMK's secrecy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keys {
    Shown,
    Redacted,
}

/// A frame body (TPDU onwards) as the message log writes it: the field dump of `decode`, card
/// data masked or redacted and field 62's keys reduced to their check values; a frame that does
/// not decode is named by its length and the reason, never by its bytes.
pub fn dump_for_log(body: &[u8]) -> String {
    match decode_bytes(body, false) {
        Ok(d) => decoded_text(&d, Keys::Redacted),
        Err(e) => format!("({} bytes, not a frame of this dialect: {e})", body.len()),
    }
}

fn field_name(n: u8) -> &'static str {
    CUPS.name_of(n.into())
}

/// Sub-fields of a private field as (label, shown value) rows, in the field's order. A value
/// that does not split is not an error for a decoder: the row says why instead.
pub fn subfields(n: u8, value: &Value) -> Vec<(String, String)> {
    subfields_with(n, value, Keys::Shown)
}

fn subfields_with(n: u8, value: &Value, keys_shown: Keys) -> Vec<(String, String)> {
    let row = |k: &str, v: String| (k.to_string(), v);
    let unsplit = |e: &dyn std::fmt::Display| vec![row("unparsed", e.to_string())];
    match (n, value) {
        (48, Value::Text(s)) if s.len() == 62 => match Field48Totals::parse(s) {
            Ok(t) => {
                let mut rows = side_rows("48.domestic", &t.domestic);
                rows.extend(side_rows("48.foreign", &t.foreign));
                rows
            }
            Err(e) => unsplit(&e),
        },
        (60, Value::Text(s)) => match Field60::parse(s) {
            Ok(f) => {
                let mut rows = vec![
                    row("60.1 transaction type", f.type_code),
                    row("60.2 batch number", format!("{:06}", f.batch_no)),
                    row("60.3 network management code", f.net_mgmt),
                ];
                if let Some(c) = f.read_capability {
                    rows.push(row("60.4 terminal read capability", c.to_string()));
                }
                if let Some(c) = f.ic_condition {
                    rows.push(row("60.5 IC card condition code", c.to_string()));
                }
                if !f.tail.is_empty() {
                    rows.push(row("60.6+ tail", f.tail));
                }
                rows
            }
            Err(e) => unsplit(&e),
        },
        (61, Value::Text(s)) => match Field61::parse(s) {
            Ok(f) => {
                let mut rows = vec![
                    row("61.1 original batch number", format!("{:06}", f.batch_no)),
                    row("61.2 original trace number", format!("{:06}", f.stan)),
                ];
                if let Some(d) = f.date {
                    rows.push(row("61.3 original date", d));
                }
                if !f.tail.is_empty() {
                    rows.push(row("61.4+ tail", f.tail));
                }
                rows
            }
            Err(e) => unsplit(&e),
        },
        (62, Value::Binary(b)) if matches!(b.len(), 24 | 40 | 60) => match SignOnKeys::parse(b) {
            Ok(keys) => {
                // Working keys arrive encrypted under the TMK: their ciphertext is not secret.
                let mut rows = Vec::new();
                for (label, k) in [("PIK", Some(&keys.pik)), ("MAK", Some(&keys.mak))]
                    .into_iter()
                    .chain([("TDK", keys.tdk.as_ref())])
                {
                    if let Some(k) = k {
                        rows.push(row(
                            &format!("62 {label}"),
                            match keys_shown {
                                Keys::Shown => format!(
                                    "encrypted {} check value {}",
                                    hex::encode_upper(&k.encrypted),
                                    hex::encode_upper(k.check_value)
                                ),
                                Keys::Redacted => format!(
                                    "encrypted [redacted {} bytes] check value {}",
                                    k.encrypted.len(),
                                    hex::encode_upper(k.check_value)
                                ),
                            },
                        ));
                    }
                }
                rows
            }
            Err(e) => unsplit(&e),
        },
        (63, v) => {
            let f = match v {
                Value::Text(s) => Field63::parse(s),
                // ans carrying GBK text: the organisation code is still its first 3 ASCII bytes.
                Value::Binary(b) => Field63::parse(&String::from_utf8_lossy(b)),
            };
            let mut rows = vec![row("63.1 international organisation", f.organisation)];
            if !f.tail.is_empty() {
                rows.push(row("63.2+ tail", f.tail));
            }
            rows
        }
        _ => Vec::new(),
    }
}

fn side_rows(prefix: &str, t: &SideTotals) -> Vec<(String, String)> {
    vec![
        (format!("{prefix} debit count"), t.debit_count.to_string()),
        (format!("{prefix} debit amount"), t.debit_amount.to_string()),
        (format!("{prefix} credit count"), t.credit_count.to_string()),
        (
            format!("{prefix} credit amount"),
            t.credit_amount.to_string(),
        ),
        (
            format!("{prefix} reconciliation code"),
            t.reconciliation.to_string(),
        ),
    ]
}

/// Field 55 as TLV objects, or why it does not parse.
fn icc_tree(value: &Value) -> Result<Vec<tlv::Tlv>, String> {
    tlv::parse(value.as_bytes()).map_err(|e| format!("field 55 TLV: {e}"))
}

fn decoded_text(d: &Decoded, keys: Keys) -> String {
    let mut out = Vec::new();
    if let Some(t) = d.tpdu {
        out.push(format!(
            "TPDU    id {:02X}, destination {:04X}, source {:04X}",
            t.id, t.destination, t.source
        ));
    }
    if let Some(h) = d.header {
        out.push(format!("header  {}", hex::encode_upper(h)));
    }
    out.push(format!("MTI     {}", d.message.mti()));
    for (n, v) in d.message.fields() {
        let value = match (n, keys) {
            (62, Keys::Redacted) => format!("[redacted {} bytes]", v.as_bytes().len()),
            _ => shown(&d.message, n, v),
        };
        out.push(format!("{n:>3}  {}: {value}", field_name(n)));
        for (label, shown) in subfields_with(n, v, keys) {
            out.push(format!("       {label}: {shown}"));
        }
        if n == 55 {
            match icc_tree(v) {
                Ok(objects) if !objects.is_empty() => out.push(render_tree(&objects, 7)),
                Ok(_) => {}
                Err(e) => out.push(format!("       {e}")),
            }
        }
    }
    out.join("\n")
}

/// Fields 35 and 36 when field 53.3 says the acquirer's TDK enciphers them: still redacted (the
/// PAN before the enciphered block stays readable), but said to be enciphered.
fn track_enciphered(m: &Message, n: u8) -> bool {
    matches!(n, 35 | 36)
        && m.text(53)
            .is_some_and(|f53| f53.as_bytes().get(2) == Some(&b'1'))
}

fn shown(m: &Message, n: u8, v: &Value) -> String {
    let value = display_value(n, v);
    if track_enciphered(m, n) {
        format!("enciphered under the TDK (53.3 = 1) {value}")
    } else {
        value
    }
}

fn decoded_json(d: &Decoded) -> Json {
    let fields: Vec<Json> = d
        .message
        .fields()
        .map(|(n, v)| {
            let mut f = json!({
                "field": n,
                "name": field_name(n),
                "value": shown(&d.message, n, v),
            });
            if track_enciphered(&d.message, n) {
                f["enciphered"] = json!(true);
            }
            let subs = subfields(n, v);
            if !subs.is_empty() {
                let map: Map<String, Json> = subs.into_iter().map(|(k, v)| (k, json!(v))).collect();
                f["subfields"] = Json::Object(map);
            }
            if n == 55 {
                f["tlv"] = match icc_tree(v) {
                    Ok(objects) => tree_json(&objects),
                    Err(e) => json!({ "error": e }),
                };
            }
            f
        })
        .collect();
    json!({
        "tpdu": d.tpdu.map(|t| json!({
            "id": format!("{:02X}", t.id),
            "destination": format!("{:04X}", t.destination),
            "source": format!("{:04X}", t.source),
        })),
        "header": d.header.map(hex::encode_upper),
        "mti": d.message.mti(),
        "fields": fields,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAN: &str = "6222021234567890123";

    /// 9F26 cryptogram, 9F36 ATC, 95 TVR, 5A PAN (card data, must be redacted).
    const ICC: &str = "9F2608A1B2C3D4E5F607089F360200019505008004E0005A0A6222021234567890123F";

    /// A UnionPay IC sale as the terminal sends it (fields as in the core's sale tests).
    fn ic_sale() -> Frame {
        let mut m = Message::new("0200");
        m.set_digits(2, PAN);
        m.set_digits(3, "000000");
        m.set_digits(4, "000000012345");
        m.set_digits(11, "000123");
        m.set_digits(22, "051");
        m.set_digits(23, "001");
        m.set_digits(25, "00");
        m.set_digits(26, "12");
        m.set_digits(35, "6222021234567890123D25122010000000000");
        m.set_text(41, "10000001");
        m.set_text(42, "898310048140001");
        m.set_text(49, "156");
        m.set_bytes(52, hex::decode("1122334455667788").unwrap());
        m.set_digits(53, "2600000000000000");
        m.set_bytes(55, hex::decode(ICC).unwrap());
        m.set_digits(60, "2200000100050");
        m.set_bytes(64, hex::decode("AABBCCDDEEFF0011").unwrap());
        Frame {
            tpdu: Tpdu::new(0x0003, 0x0000),
            header: [0x60, 0x31, 0x00, 0x31, 0x10, 0x00],
            message: m,
        }
    }

    fn assert_no_card_data(out: &str) {
        assert!(!out.contains(PAN), "{out}");
        assert!(!out.contains("D2512201"), "track 2 leaked: {out}");
        assert!(!out.contains("1122334455667788"), "PIN block leaked: {out}");
        assert!(!out.contains("6222021234567890"), "tag 5A leaked: {out}");
    }

    #[test]
    fn an_enciphered_track_is_shown_as_such_and_still_redacted() {
        let mut frame = ic_sale();
        frame.message.set_digits(53, "1610000000000000");
        frame
            .message
            .set_digits(35, "6222021234567890123D3A7F09C1B2E4D5F60");
        let hex = hex::encode_upper(frame.encode().unwrap());
        let out = format_decode(&hex, false, false).unwrap();
        assert!(
            out.contains(" 35  track 2 data: enciphered under the TDK (53.3 = 1) [redacted"),
            "{out}"
        );
        assert!(!out.contains("3A7F09C1"), "{out}");
        let json: Json = serde_json::from_str(&format_decode(&hex, true, false).unwrap()).unwrap();
        let f35 = json["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["field"] == 35)
            .unwrap();
        assert_eq!(f35["enciphered"], true);
    }

    #[test]
    fn framed_sale_decodes_with_card_data_masked() {
        let hex = hex::encode_upper(ic_sale().encode().unwrap());
        let out = format_decode(&hex, false, false).unwrap();
        assert!(
            out.contains("TPDU    id 60, destination 0003, source 0000"),
            "{out}"
        );
        assert!(out.contains("header  603100311000"), "{out}");
        assert!(out.contains("MTI     0200"), "{out}");
        assert!(
            out.contains("  2  primary account number: 622202*********0123"),
            "{out}"
        );
        assert!(out.contains(" 35  track 2 data: [redacted"), "{out}");
        assert!(out.contains(" 52  PIN data: [redacted 8 bytes]"), "{out}");
        assert!(out.contains("60.2 batch number: 000001"), "{out}");
        assert!(out.contains("60.4 terminal read capability: 5"), "{out}");
        assert!(out.contains("9F26 application cryptogram (8 bytes): A1B2C3D4E5F60708"));
        assert!(out.contains("5A application PAN (10 bytes): [redacted 10 bytes]"));
        assert_no_card_data(&out);
    }

    #[test]
    fn body_and_bare_forms_are_detected() {
        let frame = ic_sale();
        let body = hex::encode(frame.encode_body().unwrap());
        let framed = format_decode(&hex::encode(frame.encode().unwrap()), false, false).unwrap();
        assert_eq!(format_decode(&body, false, false).unwrap(), framed);
        // Spaces between bytes are allowed.
        let spaced: Vec<String> = body
            .as_bytes()
            .chunks(2)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        assert_eq!(
            format_decode(&spaced.join(" "), false, false).unwrap(),
            framed
        );
        let bare = hex::encode(CUPS.pack(&frame.message).unwrap());
        let out = format_decode(&bare, false, true).unwrap();
        assert!(out.starts_with("MTI     0200"), "{out}");
        assert!(!out.contains("TPDU"));
    }

    #[test]
    fn json_parses_and_has_the_fields() {
        let hex = hex::encode(ic_sale().encode().unwrap());
        let out = format_decode(&hex, true, false).unwrap();
        let v: Json = serde_json::from_str(&out).unwrap();
        assert_eq!(v["mti"], "0200");
        assert_eq!(v["header"], "603100311000");
        assert_eq!(v["tpdu"]["destination"], "0003");
        let fields = v["fields"].as_array().unwrap();
        let numbers: Vec<u64> = fields
            .iter()
            .map(|f| f["field"].as_u64().unwrap())
            .collect();
        assert_eq!(
            numbers,
            [
                2, 3, 4, 11, 22, 23, 25, 26, 35, 41, 42, 49, 52, 53, 55, 60, 64
            ]
        );
        assert_eq!(fields[0]["name"], "primary account number");
        assert_eq!(fields[0]["value"], "622202*********0123");
        assert_eq!(fields[15]["subfields"]["60.1 transaction type"], "22");
        assert_eq!(fields[14]["tlv"][0]["tag"], "9F26");
        assert_eq!(fields[14]["tlv"][3]["value"], "[redacted 10 bytes]");
        assert_no_card_data(&out);
    }

    #[test]
    fn bad_hex_and_truncated_messages_are_errors() {
        let e = format_decode("0200 30G0", false, true)
            .unwrap_err()
            .to_string();
        assert!(e.contains("not valid hex"), "{e}");
        let mut body = ic_sale().encode_body().unwrap();
        body.truncate(body.len() - 3);
        let e = format_decode(&hex::encode(&body), false, false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("field 64 (message authentication code)"), "{e}");
        // The MAC starts 8 bytes before the end of the whole body.
        let at = body.len() + 3 - 8;
        assert!(e.contains(&format!("at byte {at}")), "{e}");
        let e = format_decode("02", false, true).unwrap_err().to_string();
        assert!(e.contains("MTI"), "{e}");
    }

    #[test]
    fn sign_on_response_shows_keys_and_organisation() {
        let mut m = Message::new("0810");
        m.set_digits(11, "000001");
        m.set_text(39, "00");
        m.set_text(41, "10000001");
        m.set_text(42, "898310048140001");
        m.set_digits(60, "00000001004");
        let mut keys = vec![0x11; 16];
        keys.extend([0xA1, 0xA2, 0xA3, 0xA4]);
        keys.extend([0x22; 16]);
        keys.extend([0xB1, 0xB2, 0xB3, 0xB4]);
        m.set_bytes(62, keys);
        m.set_text(63, "CUP");
        let out = format_decode(&hex::encode(CUPS.pack(&m).unwrap()), false, true).unwrap();
        assert!(
            out.contains(&format!(
                "62 PIK: encrypted {} check value A1A2A3A4",
                "11".repeat(16)
            )),
            "{out}"
        );
        assert!(out.contains("check value B1B2B3B4"), "{out}");
        assert!(!out.contains("62 TDK"), "{out}");
        assert!(
            out.contains("63.1 international organisation: CUP"),
            "{out}"
        );
        assert!(out.contains("60.3 network management code: 004"), "{out}");
    }

    #[test]
    fn settlement_totals_split_into_sides() {
        let mut m = Message::new("0500");
        m.set_digits(
            48,
            "0020000000030000010000000005000\
             0000000000000000000000000000000",
        );
        let out = format_decode(&hex::encode(CUPS.pack(&m).unwrap()), false, true).unwrap();
        assert!(out.contains("48.domestic debit count: 2"), "{out}");
        assert!(out.contains("48.domestic debit amount: 3000"), "{out}");
        assert!(out.contains("48.domestic credit amount: 500"), "{out}");
        assert!(out.contains("48.foreign credit count: 0"), "{out}");
    }
}
