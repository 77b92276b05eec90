//! `smartpos decode`: a UnionPay frame in hex, field by field, with the private fields split into
//! their sub-fields and field 55 as a TLV tree. Card data is masked (PAN 6+4) or redacted
//! exactly as `display_value` and `tlv::is_sensitive` decide.

use serde_json::{Map, Value as Json, json};
use smartpos_core::codec::iso8583::cups::{
    CUPS, Field48Totals, Field60, Field61, Field63, Frame, SideTotals, SignOnKeys, Tpdu,
};
use smartpos_core::codec::iso8583::{Message, Value, display_value};
use smartpos_core::codec::tlv;

use std::io::Read;
use std::path::{Path, PathBuf};

use smartpos_core::crypto::{KeyAlgorithm, MacAlgorithm, SecretKey};

use super::decode_wire::{
    BODY_PREFIX_LEN, bitmap, check_mac, field_wire, frame_length_disagreement, wire_json, wire_text,
};
use super::meanings::{field_meaning, field60_meaning};
use super::tlv::{hex_arg, print_output, render_tree, tree_json};
use super::{CliError, CliResult};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The message in hex (spaces allowed): a frame with its 2-byte length, or a body from the
    /// TPDU; `-` reads it from standard input (hex text or the raw bytes).
    #[arg(required_unless_present = "file", conflicts_with = "file")]
    hex: Option<String>,
    /// Read the message from this file instead: hex text, or the raw bytes of a capture.
    #[arg(long, value_name = "FILE")]
    file: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// The input starts at the MTI (no length, TPDU or header).
    #[arg(long)]
    bare: bool,
    /// Check field 64 with this MAK (hex; visible in process lists: test keys only).
    #[arg(long, conflicts_with = "mak_file")]
    mak: Option<String>,
    /// Read the MAK (hex) for the MAC check from this file; `-` reads standard input.
    #[arg(long, value_name = "FILE")]
    mak_file: Option<PathBuf>,
    /// The MAC algorithm of the check: cup-ecb, x919 or sm4.
    #[arg(long, default_value = "x919", value_parser = super::parse_mac)]
    mac: MacAlgorithm,
}

pub fn run(args: Args) -> CliResult {
    let bytes = read_input(args.hex.as_deref(), args.file.as_deref())?;
    let d = decode_bytes(&bytes, args.bare)?;
    let mak = super::crypto::secret("MAK", args.mak, args.mak_file.as_deref())?;
    let mac_check = match mak {
        Some(hex_key) => {
            let key = SecretKey::from_hex(mak_algorithm(args.mac), hex_key.trim())
                .map_err(|e| CliError::new(format!("--mak: {e}")))?;
            Some(MacCheck {
                algorithm: args.mac,
                verdict: check_mac(args.mac, &key, &d.bytes[d.start..]),
            })
        }
        None => None,
    };
    print_output(&render(&d, args.json, mac_check.as_ref())?)?;
    // The dump is printed either way; the exit code says how the check went.
    match mac_check.map(|m| m.verdict) {
        Some(Ok(false)) => Err(CliError::reported("field 64 does not verify with this MAK")),
        Some(Err(e)) => Err(CliError::new(format!("MAC not checked: {e}")).after_report()),
        _ => Ok(()),
    }
}

/// The key type a MAC algorithm's MAK is.
fn mak_algorithm(mac: MacAlgorithm) -> KeyAlgorithm {
    match mac {
        MacAlgorithm::Sm4Cbc => KeyAlgorithm::Sm4,
        _ => KeyAlgorithm::Tdes,
    }
}

/// The outcome of `--mak`: verified, not verified, or why it could not be checked.
#[derive(Debug)]
pub struct MacCheck {
    pub algorithm: MacAlgorithm,
    pub verdict: Result<bool, String>,
}

/// The input bytes: the argument, standard input (`-`) or a file; text that is all hex digits
/// and spaces is hex, anything else the raw bytes.
fn read_input(hex_text: Option<&str>, file: Option<&Path>) -> Result<Vec<u8>, CliError> {
    let raw = match (hex_text, file) {
        (Some("-"), _) => {
            let mut buf = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buf)
                .map_err(|e| CliError::new(format!("standard input: {e}")))?;
            buf
        }
        (Some(text), _) => return Ok(hex_arg(text)?.to_vec()),
        (None, Some(path)) => {
            std::fs::read(path).map_err(|e| CliError::new(format!("{}: {e}", path.display())))?
        }
        (None, None) => return Err(CliError::new("decode needs HEX, - or --file FILE")),
    };
    let is_hex_text = !raw.is_empty()
        && raw
            .iter()
            .all(|b| b.is_ascii_hexdigit() || b.is_ascii_whitespace());
    if raw.is_empty() {
        return Err(CliError::new("decode: the input is empty"));
    }
    if is_hex_text {
        Ok(hex_arg(&String::from_utf8_lossy(&raw))?.to_vec())
    } else {
        Ok(raw)
    }
}

/// A decoded message and, unless it was bare, what framed it.
#[derive(Debug)]
pub struct Decoded {
    pub tpdu: Option<Tpdu>,
    pub header: Option<[u8; 6]>,
    pub message: Message,
    /// The input, and where the message (its MTI) starts in it.
    pub bytes: Vec<u8>,
    pub start: usize,
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
            bytes: bytes.to_vec(),
            start: 0,
        });
    }
    if let Some(e) = frame_length_disagreement(bytes) {
        return Err(CliError::new(format!("decode: {e}")));
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
        bytes: bytes.to_vec(),
        start: BODY_PREFIX_LEN + usize::from(framed) * 2,
    })
}

/// The whole `smartpos decode` output.
pub fn format_decode(hex_text: &str, as_json: bool, bare: bool) -> Result<String, CliError> {
    render(&decode_hex(hex_text, bare)?, as_json, None)
}

/// The output of `decode`, with the MAC check when a MAK was given.
pub fn render(d: &Decoded, as_json: bool, mac: Option<&MacCheck>) -> Result<String, CliError> {
    if as_json {
        let mut value = decoded_json(d);
        if let Some(m) = mac {
            value["mac_check"] = json!({
                "algorithm": mac_name(m.algorithm),
                "verified": m.verdict.as_ref().ok(),
                "error": m.verdict.as_ref().err(),
            });
        }
        serde_json::to_string_pretty(&value).map_err(|e| CliError::new(format!("JSON output: {e}")))
    } else {
        let mut text = decoded_text(d, Keys::Shown);
        if let Some(m) = mac {
            text.push_str(&format!(
                "\nMAC check ({}): {}",
                mac_name(m.algorithm),
                match &m.verdict {
                    Ok(true) => "verified".to_owned(),
                    Ok(false) => "does NOT verify with this MAK".to_owned(),
                    Err(e) => format!("not checked: {e}"),
                }
            ));
        }
        Ok(text)
    }
}

fn mac_name(mac: MacAlgorithm) -> &'static str {
    match mac {
        MacAlgorithm::CupEcb => "cup-ecb",
        MacAlgorithm::X919 => "x919",
        _ => "sm4",
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
pub fn subfields(mti: &str, n: u8, value: &Value) -> Vec<(String, String)> {
    subfields_with(mti, n, value, Keys::Shown)
}

fn subfields_with(mti: &str, n: u8, value: &Value, keys_shown: Keys) -> Vec<(String, String)> {
    let row = |k: &str, v: String| (k.to_string(), v);
    let unsplit = |e: &dyn std::fmt::Display| vec![row("unparsed", e.to_string())];
    match (n, value) {
        // Field 48 is read by the message it is in: batch-upload lines in 0320/0330, the
        // settlement totals in 0500/0510.
        (48, Value::Text(s)) if matches!(mti, "0320" | "0330") => upload_rows(s),
        (48, Value::Text(s)) if matches!(mti, "0500" | "0510") => match Field48Totals::parse(s) {
            Ok(t) => {
                let mut rows = side_rows("48.domestic", &t.domestic);
                rows.extend(side_rows("48.foreign", &t.foreign));
                rows
            }
            Err(e) => unsplit(&e),
        },
        (60, Value::Text(s)) => match Field60::parse(s) {
            Ok(f) => {
                let meant = |sub: u8, code: String| match field60_meaning(sub, &code) {
                    Some(m) => format!("{code} ({m})"),
                    None => code,
                };
                let mut rows = vec![
                    row("60.1 transaction type", meant(1, f.type_code)),
                    row("60.2 batch number", format!("{:06}", f.batch_no)),
                    row("60.3 network management code", meant(3, f.net_mgmt)),
                ];
                if let Some(c) = f.read_capability {
                    rows.push(row(
                        "60.4 terminal read capability",
                        meant(4, c.to_string()),
                    ));
                }
                if let Some(c) = f.ic_condition {
                    rows.push(row("60.5 IC card condition code", meant(5, c.to_string())));
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

/// Field 48 of a batch upload: a 2-digit line count, then per line the 60.1 type code (2), the
/// STAN (6) and the amount in fen (12) — the layout `core/src/txn/settlement.rs` sends.
fn upload_rows(s: &str) -> Vec<(String, String)> {
    const LINE: usize = 20;
    let count = s.get(..2).and_then(|c| c.parse::<usize>().ok());
    let lines = s.get(2..).unwrap_or("");
    match count {
        Some(n) if lines.len() == n * LINE => {
            let mut rows = vec![("48 batch upload lines".to_owned(), n.to_string())];
            for (i, line) in lines.as_bytes().chunks(LINE).enumerate() {
                let line = String::from_utf8_lossy(line);
                let kind = field60_meaning(1, &line[..2]).unwrap_or("unknown type");
                let fen: u64 = line[8..].parse().unwrap_or(0);
                rows.push((
                    format!("48.{} line", i + 1),
                    format!(
                        "type {} ({kind}), STAN {}, amount {} yuan",
                        &line[..2],
                        &line[2..8],
                        super::shape::yuan(fen)
                    ),
                ));
            }
            rows
        }
        Some(n) => vec![(
            "unparsed".to_owned(),
            format!(
                "batch upload: {n} line(s) need {} digits after the count, {} given",
                n * LINE,
                lines.len()
            ),
        )],
        None => vec![(
            "unparsed".to_owned(),
            "batch upload: no 2-digit line count".to_owned(),
        )],
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
    out.push(format!(
        "bitmap  {}  fields {}",
        hex::encode_upper(bitmap(&d.message)),
        d.message
            .field_numbers()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    ));
    // The bytes of the log's frames are not shown: the dump is what a log keeps.
    let wire = match keys {
        Keys::Shown => field_wire(&d.message, &d.bytes, d.start),
        Keys::Redacted => None,
    };
    for (n, v) in d.message.fields() {
        let value = match (n, keys) {
            (62, Keys::Redacted) => format!("[redacted {} bytes]", v.as_bytes().len()),
            _ => shown(&d.message, n, v),
        };
        let meaning = v
            .as_text()
            .and_then(|t| field_meaning(n, t))
            .map_or_else(String::new, |m| format!(" — {m}"));
        out.push(format!("{n:>3}  {}: {value}{meaning}", field_name(n)));
        if let Some(w) = wire.as_ref().and_then(|w| w.get(&n)) {
            out.push(format!("       {}", wire_text(n, w)));
        }
        for (label, shown) in subfields_with(d.message.mti(), n, v, keys) {
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
    let wire = field_wire(&d.message, &d.bytes, d.start);
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
            if let Some(m) = v.as_text().and_then(|t| field_meaning(n, t)) {
                f["meaning"] = json!(m);
            }
            if let Some(w) = wire.as_ref().and_then(|w| w.get(&n)) {
                f["wire"] = wire_json(n, w);
            }
            let subs = subfields(d.message.mti(), n, v);
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
        "bitmap": hex::encode_upper(bitmap(&d.message)),
        "fields": fields,
    })
}

#[cfg(test)]
#[path = "decode_tests.rs"]
mod tests;
