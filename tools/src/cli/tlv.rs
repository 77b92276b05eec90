//! `smartpos tlv`: a BER-TLV tree (EMV field 55, card responses) with tag names; card data
//! (`tlv::is_sensitive`) is redacted. The tree formatters are shared with `smartpos decode`.

use serde_json::{Value as Json, json};
use smartpos_core::card::emv::{self, describe::describe};
use smartpos_core::codec::tlv::{self, Tlv, TlvValue};
use zeroize::Zeroizing;

use super::{CliError, CliResult};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// BER-TLV bytes in hex; spaces allowed.
    hex: String,
    /// Print a JSON array instead of an indented tree.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> CliResult {
    print_output(&format_tlv(&args.hex, args.json)?)
}

/// Writes the output; a closed pipe (`| head`) is an error to report, not a panic as with
/// `println!`.
pub fn print_output(text: &str) -> CliResult {
    use std::io::Write as _;
    writeln!(std::io::stdout().lock(), "{text}")
        .map_err(|e| CliError::new(format!("writing output: {e}")))
}

/// The EMV name of a tag from the kernel's dictionary (EMV 4.4 Book 3 Annex A, PBOC 3.0 and
/// UnionPay tags), `None` for tags outside it.
pub fn tag_name(tag: u32) -> Option<&'static str> {
    emv::tags::name(tag)
}

/// Hex from the command line, spaces and other whitespace ignored. The bytes may be card data,
/// so they are wiped when dropped.
pub fn hex_arg(text: &str) -> Result<Zeroizing<Vec<u8>>, CliError> {
    let compact: Zeroizing<String> = Zeroizing::new(text.split_whitespace().collect());
    hex::decode(compact.as_bytes())
        .map(Zeroizing::new)
        .map_err(|e| CliError::new(format!("the hex argument is not valid hex: {e}")))
}

/// What may be shown of a primitive value: hex, or its length only for card data.
fn shown_value(tag: u32, v: &[u8]) -> String {
    if emv::tags::is_sensitive(tag) {
        format!("[redacted {} bytes]", v.len())
    } else {
        hex::encode_upper(v)
    }
}

/// Bit fields, CVM lists, DOLs and text decoded; never for card data.
fn decoded(tag: u32, v: &[u8]) -> Option<Vec<String>> {
    if emv::tags::is_sensitive(tag) {
        return None;
    }
    describe(tag, v)
}

/// The tree as indented lines, each `indent` spaces deeper per level; no trailing newline.
pub fn render_tree(objects: &[Tlv], indent: usize) -> String {
    let mut lines = Vec::new();
    render_into(objects, indent, &mut lines);
    lines.join("\n")
}

fn render_into(objects: &[Tlv], indent: usize, lines: &mut Vec<String>) {
    let pad = " ".repeat(indent);
    for o in objects {
        let name = tag_name(o.tag).unwrap_or("unknown tag");
        match &o.value {
            TlvValue::Primitive(v) => {
                lines.push(format!(
                    "{pad}{:X} {name} ({} bytes): {}",
                    o.tag,
                    v.len(),
                    shown_value(o.tag, v)
                ));
                for d in decoded(o.tag, v).into_iter().flatten() {
                    lines.push(format!("{pad}    - {d}"));
                }
            }
            TlvValue::Constructed(children) => {
                lines.push(format!("{pad}{:X} {name}", o.tag));
                render_into(children, indent + 2, lines);
            }
        }
    }
}

/// The tree as JSON: `[{"tag": "9F26", "name": ..., "length": 8, "value": "..."}]`, templates
/// with `"children"` instead of `"value"`.
pub fn tree_json(objects: &[Tlv]) -> Json {
    Json::Array(
        objects
            .iter()
            .map(|o| {
                let mut node = json!({
                    "tag": format!("{:X}", o.tag),
                    "name": tag_name(o.tag),
                });
                match &o.value {
                    TlvValue::Primitive(v) => {
                        node["length"] = json!(v.len());
                        node["value"] = json!(shown_value(o.tag, v));
                        if let Some(d) = decoded(o.tag, v) {
                            node["decoded"] = json!(d);
                        }
                    }
                    TlvValue::Constructed(children) => node["children"] = tree_json(children),
                }
                node
            })
            .collect(),
    )
}

/// The whole `smartpos tlv` output for a hex argument.
pub fn format_tlv(hex_text: &str, as_json: bool) -> Result<String, CliError> {
    let bytes = hex_arg(hex_text)?;
    if bytes.is_empty() {
        return Err(CliError::new("no TLV bytes given"));
    }
    let objects = tlv::parse(&bytes).map_err(|e| CliError::new(format!("TLV: {e}")))?;
    if as_json {
        serde_json::to_string_pretty(&tree_json(&objects))
            .map_err(|e| CliError::new(format!("JSON output: {e}")))
    } else {
        Ok(render_tree(&objects, 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A GENERATE AC response in format 2 (template 77, EMV 4.3 Book 3 §6.5.5.4) with a PAN (5A)
    /// added so redaction is exercised.
    const RESPONSE: &str = "77 28 9F27 01 80 9F36 02 0001 9F26 08 A1B2C3D4E5F60708 \
        9F10 07 06010A03A00000 5A 08 6222021234567890";

    #[test]
    fn tree_names_tags_and_redacts_card_data() {
        let out = format_tlv(RESPONSE, false).unwrap();
        assert!(
            out.starts_with("77 response message template format 2\n"),
            "{out}"
        );
        assert!(
            out.contains("  9F26 application cryptogram (8 bytes): A1B2C3D4E5F60708"),
            "{out}"
        );
        assert!(out.contains("  9F36 application transaction counter (2 bytes): 0001"));
        assert!(out.contains("5A application PAN (8 bytes): [redacted 8 bytes]"));
        assert!(!out.contains("6222021234567890"), "{out}");
    }

    #[test]
    fn json_has_the_tree() {
        let out = format_tlv(RESPONSE, true).unwrap();
        let v: Json = serde_json::from_str(&out).unwrap();
        let children = v[0]["children"].as_array().unwrap();
        assert_eq!(v[0]["tag"], "77");
        assert_eq!(children.len(), 5);
        assert_eq!(children[2]["tag"], "9F26");
        assert_eq!(children[2]["value"], "A1B2C3D4E5F60708");
        assert_eq!(children[2]["length"], 8);
        assert_eq!(children[4]["value"], "[redacted 8 bytes]");
        assert!(!out.contains("6222021234567890"));
    }

    /// TVR, TSI, AIP, CVM results, capabilities, CVM list, DOLs and text decoded bit by bit
    /// (EMV 4.4 Book 3 Annex C, Book 4 Annex A).
    #[test]
    fn bit_fields_lists_and_text_are_decoded() {
        let out = format_tlv(
            "95 05 8000048000 9B 02 E800 82 02 1C00 9F34 03 420300 9F33 03 E0F8C8 \
             9F40 05 6F00F0F001 8E 0E 000000000000000042031E031F00 8C 06 9F02069F3704 \
             50 04 56495341",
            false,
        )
        .unwrap();
        for line in [
            "    - offline data authentication was not performed",
            "    - online PIN entered",
            "    - transaction exceeds floor limit",
            "    - cardholder verification was performed",
            "    - terminal risk management is to be performed",
            "    - enciphered PIN verified online / if terminal supports the CVM / apply next CVM if unsuccessful",
            "    - result: unknown",
            "    - IC with contacts",
            "    - CDA",
            "    - goods",
            "    - signature / if terminal supports the CVM / fail cardholder verification if unsuccessful",
            "    - 9F37 unpredictable number (4 bytes)",
            "    - \"VISA\"",
        ] {
            assert!(out.contains(line), "{line}\n{out}");
        }
        let v: Json = serde_json::from_str(&format_tlv("95 05 0000000000", true).unwrap()).unwrap();
        assert_eq!(v[0]["decoded"][0], "no bit set");
    }

    #[test]
    fn empty_input_is_an_error() {
        assert!(format_tlv("", false).is_err());
        assert!(format_tlv("  ", true).is_err());
    }

    #[test]
    fn unknown_tags_still_print() {
        let out = format_tlv("DF8101 01 AA", false).unwrap();
        assert_eq!(out, "DF8101 unknown tag (1 bytes): AA");
    }

    #[test]
    fn bad_input_is_an_error_naming_the_place() {
        let e = format_tlv("9F2", false).unwrap_err().to_string();
        assert!(e.contains("not valid hex"), "{e}");
        let e = format_tlv("9FZZ", false).unwrap_err().to_string();
        assert!(e.contains("not valid hex"), "{e}");
        // 95 declares 5 bytes where 1 remains, at byte 4.
        let e = format_tlv("82 02 5C00 95 05 00", false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("95") && e.contains("byte 4"), "{e}");
    }

    #[test]
    fn every_tag_of_the_brief_has_a_name() {
        for tag in [
            0x4F, 0x50, 0x57, 0x5A, 0x5F20, 0x5F24, 0x5F25, 0x5F28, 0x5F2A, 0x5F34, 0x82, 0x84,
            0x8A, 0x8E, 0x91, 0x95, 0x9A, 0x9B, 0x9C, 0x9F02, 0x9F03, 0x9F06, 0x9F07, 0x9F09,
            0x9F10, 0x9F1A, 0x9F1E, 0x9F21, 0x9F26, 0x9F27, 0x9F33, 0x9F34, 0x9F35, 0x9F36, 0x9F37,
            0x9F41, 0x9F53, 0x9F63, 0xDF31, 0x72, 0x71, 0x70, 0x77, 0x80, 0x6F, 0xA5, 0xBF0C,
        ] {
            assert!(tag_name(tag).is_some(), "{tag:X}");
        }
    }
}
