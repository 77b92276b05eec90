//! `smartpos paycode CODE [--json]`: which scheme a customer's payment code belongs to, or why
//! it is not one (exit 2). The code is a bearer credential: only its masked form is printed; an
//! EMVCo consumer-presented payload shows its data objects with their values (the cryptogram and
//! the rest an integrator needs), the PAN masked and track data redacted.

use serde_json::{Value as Json, json};
use smartpos_core::codec::tlv::{self, Tlv, TlvValue};
use smartpos_core::qr::cpm::{CpmPayload, CpmTemplate};
use smartpos_core::qr::paycode::{self, PaymentCode};

use super::tlv::{print_output, tag_name};
use super::{CliError, CliResult};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The code as scanned or keyed in.
    pub code: String,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> CliResult {
    let (text, failure) = paycode_output(&args.code, args.json)?;
    if let Some(text) = text {
        print_output(&text)?;
    }
    match failure {
        Some(e) => Err(e.after_report()),
        None => Ok(()),
    }
}

/// What to print on stdout (if anything) and the error to report when it is not a payment code.
pub fn paycode_output(
    code: &str,
    as_json: bool,
) -> Result<(Option<String>, Option<CliError>), CliError> {
    let to_json = |v: &Json| {
        serde_json::to_string_pretty(v).map_err(|e| CliError::new(format!("JSON output: {e}")))
    };
    match paycode::recognise(code) {
        Ok(pc) => {
            let text = if as_json {
                to_json(&code_json(&pc))?
            } else {
                code_text(&pc)
            };
            Ok((Some(text), None))
        }
        Err(e) => {
            let failure = CliError::new(format!("not a payment code: {e}"));
            let text = if as_json {
                Some(to_json(
                    &json!({"payment_code": false, "reason": e.to_string()}),
                )?)
            } else {
                None
            };
            Ok((text, Some(failure)))
        }
    }
}

fn code_text(pc: &PaymentCode) -> String {
    let mut out = format!("{} ({}): {}", pc.scheme(), pc.scheme().code(), pc.masked());
    if let Some(cpm) = pc.cpm() {
        for (i, app) in cpm.applications.iter().enumerate() {
            out.push_str(&format!(
                "\napplication {}: {}",
                i + 1,
                template_summary(app)
            ));
            push_objects(&mut out, app);
        }
        if let Some(common) = &cpm.common {
            out.push_str(&format!("\ncommon data: {}", template_summary(common)));
            push_objects(&mut out, common);
        }
    }
    out
}

/// One row per data object an integrator needs (cryptogram, ATC, CVM results, expiry …), with
/// its value; card data (tracks, the cardholder name) redacted by the core's sensitive-tag list.
fn push_objects(out: &mut String, t: &CpmTemplate) {
    for (o, transparent) in t
        .data
        .iter()
        .map(|o| (o, false))
        .chain(t.transparent.iter().map(|o| (o, true)))
    {
        out.push_str(&format!(
            "\n  {:X} {}{}: {}",
            o.tag,
            tag_name(o.tag).unwrap_or(match o.tag {
                0x5F2D => "language preference",
                _ => "data object",
            }),
            if transparent { " (transparent)" } else { "" },
            object_value(o)
        ));
    }
}

/// A data object's value as shown: hex, its length for card data, children for a template.
fn object_value(o: &Tlv) -> String {
    match &o.value {
        TlvValue::Primitive(v) if tlv::is_sensitive(o.tag) => {
            format!("[redacted {} bytes]", v.len())
        }
        // Language preference, application label, preferred name: text the cardholder reads.
        TlvValue::Primitive(v)
            if matches!(o.tag, 0x5F2D | 0x50 | 0x9F12)
                && v.iter().all(|b| b.is_ascii_graphic() || *b == b' ') =>
        {
            format!(
                "{} \"{}\"",
                hex::encode_upper(v),
                String::from_utf8_lossy(v)
            )
        }
        TlvValue::Primitive(v) => hex::encode_upper(v),
        TlvValue::Constructed(children) => format!(
            "template of {}",
            children
                .iter()
                .map(|c| format!("{:X}={}", c.tag, object_value(c)))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    }
}

fn object_json(o: &Tlv) -> Json {
    json!({
        "tag": format!("{:X}", o.tag),
        "name": tag_name(o.tag),
        "value": object_value(o),
    })
}

fn template_summary(t: &CpmTemplate) -> String {
    let mut parts = Vec::new();
    if let Some(aid) = &t.aid {
        parts.push(format!("AID {}", hex::encode_upper(aid)));
    }
    if let Some(label) = &t.label {
        parts.push(format!("label {label:?}"));
    }
    if let Some(pan) = t.pan().or(t.track2().map(|t2| t2.pan())) {
        parts.push(format!("PAN {}", pan.masked()));
    }
    parts.push(format!(
        "{} other data objects, {} transparent",
        t.data.len(),
        t.transparent.len()
    ));
    parts.join(", ")
}

fn cpm_json(cpm: &CpmPayload) -> Json {
    let template = |t: &CpmTemplate| {
        json!({
            "aid": t.aid.as_deref().map(hex::encode_upper),
            "label": t.label,
            "pan_masked": t.pan().or(t.track2().map(|t2| t2.pan())).map(|p| p.masked().to_string()),
            "data_objects": t.data.iter().map(object_json).collect::<Vec<_>>(),
            "transparent_objects": t.transparent.iter().map(object_json).collect::<Vec<_>>(),
        })
    };
    json!({
        "applications": cpm.applications.iter().map(template).collect::<Vec<_>>(),
        "common": cpm.common.as_ref().map(template),
    })
}

fn code_json(pc: &PaymentCode) -> Json {
    json!({
        "payment_code": true,
        "scheme": pc.scheme().code(),
        "scheme_name": pc.scheme().to_string(),
        "masked": pc.masked(),
        "cpm": pc.cpm().map(cpm_json),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_with_the_code_masked() {
        let (out, failure) = paycode_output("134567890123456789", false).unwrap();
        assert!(failure.is_none());
        assert_eq!(out.unwrap(), "WeChat Pay (wechat_pay): 1345**********6789");
        let (out, _) = paycode_output("6212345678901234567", true).unwrap();
        let v: Json = serde_json::from_str(&out.unwrap()).unwrap();
        assert_eq!(v["scheme"], "unionpay");
        assert_eq!(v["masked"], "6212***********4567");
        assert!(!v.to_string().contains("6212345678901234567"));
    }

    #[test]
    fn cpm_payload_is_summarised_with_pan_masked() {
        // EMV QRCPS Consumer-Presented Mode v1.0 example payload (see core qr::cpm tests).
        let code = "hQVDUFYwMWETTwegAAAAVVVVUAhQcm9kdWN0MWETTwegAAAAZmZmUAhQcm9kdWN0MmJJWggSNFZ4kBI0WF8gDkNBUkRIT0xERVIvRU1WXy0IcnVlc2RlZW5kIZ8QBwYBCgMAAACfJghYT9OF+iNLzJ82AgABnzcEbVjvEw==";
        let (out, failure) = paycode_output(code, false).unwrap();
        assert!(failure.is_none());
        let out = out.unwrap();
        assert!(
            out.contains("application 2: AID A0000000666666, label \"Product2\""),
            "{out}"
        );
        assert!(out.contains("common data: PAN 123456******3458"), "{out}");
        // The non-secret data objects with their values: cryptogram, ATC.
        assert!(
            out.contains("\n  9F26 application cryptogram (transparent): 584FD385FA234BCC"),
            "{out}"
        );
        assert!(
            out.contains("\n  9F36 application transaction counter (transparent): 0001"),
            "{out}"
        );
        // Text data objects read as text too.
        assert!(
            out.contains("5F2D") && out.contains("\"ruesdeen\""),
            "{out}"
        );
        let (json, _) = paycode_output(code, true).unwrap();
        let v: Json = serde_json::from_str(&json.unwrap()).unwrap();
        let objects = v["cpm"]["common"]["data_objects"].as_array().unwrap();
        assert!(
            objects
                .iter()
                .chain(
                    v["cpm"]["common"]["transparent_objects"]
                        .as_array()
                        .unwrap()
                )
                .any(|o| o["tag"] == "9F26" && o["value"] == "584FD385FA234BCC"),
            "{v}"
        );
        assert!(!v.to_string().contains("1234567890123458"));
        assert!(!out.contains("1234567890123458"));
    }

    #[test]
    fn not_a_code_says_why() {
        let (out, failure) = paycode_output("13456789012345678", false).unwrap();
        assert!(out.is_none());
        let e = failure.unwrap().to_string();
        assert!(e.contains("WeChat Pay") && e.contains("17"), "{e}");
        let (out, failure) = paycode_output("99456789012345678912", true).unwrap();
        let v: Json = serde_json::from_str(&out.unwrap()).unwrap();
        assert_eq!(v["payment_code"], false);
        assert!(v["reason"].as_str().unwrap().contains("prefix 99"));
        assert!(failure.is_some());
    }
}
