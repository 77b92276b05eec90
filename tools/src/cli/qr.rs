//! `smartpos qr parse PAYLOAD` and `smartpos qr make --amount … --merchant …`: the EMVCo
//! merchant-presented payload read field by field (CRC verdict and warnings included), or made
//! for one sale and drawn in the terminal.

use clap::Subcommand;
use serde_json::{Value as Json, json};
use smartpos_core::money::Amount;
use smartpos_core::qr::mpm::{
    self, LocalMerchantName, MerchantQr, MpmField, MpmPayload, UnionPayAccount, field_name,
    sub_field_name,
};
use smartpos_core::qr::render;

use super::tlv::print_output;
use super::{CliError, CliResult};

/// The UnionPay account `qr make` uses without `--account`: a demo acquirer and merchant, never
/// a real one.
pub const DEMO_ACCOUNT: &str = "4802000048020000898310048161234";

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Every field and sub-field of an EMVCo merchant-presented payload, the CRC verdict and
    /// the warnings. Exit 2 when the CRC is wrong (the fields are still printed).
    Parse {
        /// The payload text as scanned.
        payload: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// A dynamic merchant-presented payload for one sale in CNY, and its QR code.
    Make(Box<MakeArgs>),
}

#[derive(Debug, clap::Args)]
pub struct MakeArgs {
    /// Yuan, at most 2 decimals (12.34).
    #[arg(long)]
    pub amount: String,
    /// Merchant name, at most 25 characters. A name in Chinese (any non-ASCII text) goes into
    /// the language template (ID 64) and needs --merchant-ascii for ID 59, which EMVCo keeps
    /// ASCII.
    #[arg(long)]
    pub merchant: String,
    /// The ASCII merchant name for ID 59 when --merchant is not ASCII (e.g. pinyin).
    #[arg(long)]
    pub merchant_ascii: Option<String>,
    /// The city in the merchant's language, for the language template (ID 64 sub-field 02).
    #[arg(long)]
    pub local_city: Option<String>,
    /// The language of the language template (ISO 639, two letters).
    #[arg(long, default_value = "ZH")]
    pub language: String,
    /// Merchant city, at most 15 characters.
    #[arg(long, default_value = "SHANGHAI")]
    pub city: String,
    /// ISO 18245 merchant category code.
    #[arg(long, default_value = "5999")]
    pub mcc: String,
    /// Bill number (ID 62 sub-field 01).
    #[arg(long)]
    pub bill: Option<String>,
    /// Terminal label (ID 62 sub-field 07).
    #[arg(long)]
    pub terminal: Option<String>,
    /// UnionPay merchant account information (ID 15): acquirer IIN (8 digits), forwarding IIN
    /// (8 digits), merchant ID (15 characters), concatenated.
    #[arg(long, default_value = DEMO_ACCOUNT)]
    pub account: String,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> CliResult {
    match args.command {
        Command::Parse { payload, json } => {
            let (text, crc_error) = parse_output(&payload, json)?;
            print_output(&text)?;
            match crc_error {
                Some(e) => Err(e.after_report()),
                None => Ok(()),
            }
        }
        Command::Make(args) => print_output(&make_output(&args)?),
    }
}

/// The parse output, and the error to report after it when the CRC is wrong.
pub fn parse_output(payload: &str, as_json: bool) -> Result<(String, Option<CliError>), CliError> {
    let parsed =
        mpm::parse_unverified(payload).map_err(|e| CliError::new(format!("MPM payload: {e}")))?;
    let crc_error = (!parsed.crc.is_valid()).then(|| {
        CliError::new(format!(
            "MPM payload rejected: CRC mismatch: the payload carries {}, its content gives {}",
            parsed.crc.found, parsed.crc.computed
        ))
    });
    let text = if as_json {
        serde_json::to_string_pretty(&payload_json(&parsed))
            .map_err(|e| CliError::new(format!("JSON output: {e}")))?
    } else {
        payload_text(&parsed)
    };
    Ok((text, crc_error))
}

fn payload_text(p: &MpmPayload) -> String {
    let mut lines = Vec::new();
    for f in &p.fields {
        field_lines(f, None, 0, &mut lines);
    }
    let verdict = if p.crc.is_valid() {
        "valid".to_owned()
    } else {
        format!("INVALID, content gives {}", p.crc.computed)
    };
    lines.push(format!("CRC {}: {verdict}", p.crc.found));
    if let Some(a) = p.amount() {
        lines.push(format!("amount: {} fen", a.fen()));
    }
    let warnings = warnings(p);
    if warnings.is_empty() {
        lines.push("warnings: none".into());
    } else {
        lines.push("warnings:".into());
        lines.extend(warnings.iter().map(|(_, w)| format!("  - {w}")));
    }
    lines.join("\n")
}

/// The parser's warnings and this tool's own: a currency (ID 53) other than CNY (156), which a
/// terminal here cannot charge in.
fn warnings(p: &MpmPayload) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = p
        .warnings
        .iter()
        .map(|w| (w.code(), w.to_string()))
        .collect();
    if let Some(currency) = p.text(53)
        && currency != "156"
    {
        out.push((
            "currency_not_cny",
            format!(
                "ID 53 currency {currency} is not CNY (156): this terminal charges in CNY only"
            ),
        ));
    }
    out
}

fn field_lines(f: &MpmField, parent: Option<u8>, depth: usize, lines: &mut Vec<String>) {
    let pad = "  ".repeat(depth);
    let name = parent.map_or_else(|| field_name(f.id), |p| sub_field_name(p, f.id));
    match &f.sub_fields {
        Some(subs) => {
            lines.push(format!("{pad}{:02} {name}  [byte {}]", f.id, f.offset));
            for s in subs {
                field_lines(s, Some(f.id), depth + 1, lines);
            }
        }
        None => {
            lines.push(format!(
                "{pad}{:02} {name}: {}  [byte {}]",
                f.id, f.value, f.offset
            ));
            if parent.is_none()
                && f.id == 15
                && let Ok(a) = UnionPayAccount::parse(f.value)
            {
                lines.push(format!(
                    "{pad}  acquirer IIN {}, forwarding IIN {}, merchant ID {}",
                    a.acquirer_iin(),
                    a.forwarding_iin(),
                    a.merchant_id()
                ));
            }
        }
    }
}

fn field_json(f: &MpmField, parent: Option<u8>) -> Json {
    let name = parent.map_or_else(|| field_name(f.id), |p| sub_field_name(p, f.id));
    let mut node = json!({
        "id": format!("{:02}", f.id),
        "name": name,
        "offset": f.offset,
        "length": f.value.chars().count(),
        "value": f.value,
    });
    if let Some(subs) = &f.sub_fields {
        node["sub_fields"] = subs.iter().map(|s| field_json(s, Some(f.id))).collect();
    }
    node
}

fn payload_json(p: &MpmPayload) -> Json {
    json!({
        "fields": p.fields.iter().map(|f| field_json(f, None)).collect::<Vec<_>>(),
        "crc": {"found": p.crc.found, "computed": p.crc.computed, "valid": p.crc.is_valid()},
        "warnings": warnings(p).into_iter().map(|(code, message)| json!({"code": code, "message": message})).collect::<Vec<_>>(),
        "amount_fen": p.amount().map(Amount::fen),
        "dynamic": p.is_dynamic(),
        "unionpay_account": p.unionpay_account().map(|a| json!({
            "acquirer_iin": a.acquirer_iin(),
            "forwarding_iin": a.forwarding_iin(),
            "merchant_id": a.merchant_id(),
        })),
    })
}

/// The make output: the payload and its QR drawn, or JSON with the matrix as rows of 0/1.
pub fn make_output(args: &MakeArgs) -> Result<String, CliError> {
    let amount = Amount::parse_yuan(args.amount.trim())
        .map_err(|e| CliError::new(format!("--amount: {e}")))?;
    let account = UnionPayAccount::parse(&args.account)
        .map_err(|e| CliError::new(format!("--account: {e}")))?;
    // EMVCo MPM 4.6.3: ID 59 is the name in the Alphanumeric Special character set; a name in
    // another script belongs in the language template (64), ID 59 keeping an ASCII form.
    let (name, local_name) = if args.merchant.is_ascii() && args.local_city.is_none() {
        (args.merchant.clone(), None)
    } else {
        let ascii = match (&args.merchant_ascii, args.merchant.is_ascii()) {
            (Some(a), _) => a.clone(),
            (None, true) => args.merchant.clone(),
            (None, false) => {
                return Err(CliError::new(format!(
                    "--merchant {:?} is not ASCII: it goes into the language template (ID 64); \
                     give the ASCII name for ID 59 with --merchant-ascii",
                    args.merchant
                )));
            }
        };
        let local = LocalMerchantName {
            language: args.language.clone(),
            name: args.merchant.clone(),
            city: args.local_city.clone(),
        };
        (ascii, Some(local))
    };
    let mut qr = MerchantQr::new(account, &args.mcc, amount, &name, &args.city);
    qr.local_name = local_name;
    qr.bill_number = args.bill.clone();
    qr.terminal_label = args.terminal.clone();
    let payload = qr
        .make()
        .map_err(|e| CliError::new(format!("qr make: {e}")))?;
    let matrix = render::render(&payload).map_err(|e| CliError::new(format!("qr make: {e}")))?;
    if args.json {
        let rows: Vec<String> = matrix
            .modules
            .chunks(matrix.size.max(1))
            .map(|row| row.iter().map(|&d| if d { '1' } else { '0' }).collect())
            .collect();
        let value = json!({
            "payload": payload,
            "amount_fen": amount.fen(),
            "crc": &payload[payload.len().saturating_sub(4)..],
            "qr": {"size": matrix.size, "rows": rows},
        });
        return serde_json::to_string_pretty(&value)
            .map_err(|e| CliError::new(format!("JSON output: {e}")));
    }
    Ok(format!("{payload}\n\n{}", matrix.to_terminal().trim_end()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// EMV QRCPS Merchant-Presented Mode v1.1, Appendix A example payload (CRC A13A).
    const EMVCO_APPENDIX: &str = "00020101021229300012D156000000000510A93FO3230Q31280012D15600000001\
        030812345678520441115802CN5914BEST TRANSPORT6007BEIJING64200002ZH0104最佳运输0202北京540523.72\
        53031565502016233030412340603***0708A60086670902ME91320016A0112233449988770708123456786304A13A";

    fn make_args(amount: &str) -> MakeArgs {
        MakeArgs {
            amount: amount.into(),
            merchant: "BEST NOODLES".into(),
            merchant_ascii: None,
            local_city: None,
            language: "ZH".into(),
            city: "SHANGHAI".into(),
            mcc: "5812".into(),
            bill: Some("B1".into()),
            terminal: Some("T1".into()),
            account: DEMO_ACCOUNT.into(),
            json: false,
        }
    }

    #[test]
    fn text_lists_fields_sub_fields_and_crc() {
        let (out, err) = parse_output(EMVCO_APPENDIX, false).unwrap();
        assert!(err.is_none());
        assert!(
            out.starts_with("00 payload format indicator: 01  [byte 0]\n"),
            "{out}"
        );
        assert!(out.contains("\n64 merchant information, language template  [byte 121]\n  00 language preference: ZH  [byte 125]\n  01 merchant name, alternate language: 最佳运输  [byte 131]"), "{out}");
        assert!(out.contains("  07 terminal label: A6008667"), "{out}");
        assert!(out.contains("CRC A13A: valid"), "{out}");
        assert!(out.contains("warnings: none"), "{out}");
    }

    #[test]
    fn wrong_crc_still_shows_fields_then_fails() {
        let bad = EMVCO_APPENDIX.replace("A13A", "0000");
        let (out, err) = parse_output(&bad, true).unwrap();
        let v: Json = serde_json::from_str(&out).unwrap();
        assert_eq!(v["crc"]["valid"], false);
        assert_eq!(v["crc"]["computed"], "A13A");
        assert_eq!(v["fields"][2]["sub_fields"][0]["value"], "D15600000000");
        assert!(err.unwrap().to_string().contains("CRC mismatch"));
    }

    #[test]
    fn made_payload_parses_back_with_its_account() {
        let out = make_output(&make_args("12.34")).unwrap();
        let payload = out.lines().next().unwrap();
        let (parsed, err) = parse_output(payload, true).unwrap();
        assert!(err.is_none());
        let v: Json = serde_json::from_str(&parsed).unwrap();
        assert_eq!(v["amount_fen"], 1234);
        assert_eq!(v["unionpay_account"]["merchant_id"], "898310048161234");
        assert_eq!(v["warnings"].as_array().unwrap().len(), 0);
        // The drawing follows the payload: half-block characters only.
        let drawing: String = out.lines().skip(2).collect();
        assert!(!drawing.is_empty());
        assert!(drawing.chars().all(|c| " ▀▄█".contains(c)));
    }

    #[test]
    fn make_errors_name_the_argument() {
        let e = make_output(&make_args("12.345")).unwrap_err().to_string();
        assert!(e.starts_with("--amount:"), "{e}");
        let mut args = make_args("1");
        args.account = "123".into();
        assert!(
            make_output(&args)
                .unwrap_err()
                .to_string()
                .starts_with("--account:")
        );
        args.account = DEMO_ACCOUNT.into();
        args.mcc = "58".into();
        let e = make_output(&args).unwrap_err().to_string();
        assert!(e.contains("ID 52"), "{e}");
    }

    #[test]
    fn a_chinese_name_goes_into_the_language_template_with_an_ascii_name_in_59() {
        let mut args = make_args("1.00");
        args.merchant = "演示商户".into();
        let e = make_output(&args).unwrap_err().to_string();
        assert!(e.contains("--merchant-ascii") && e.contains("ID 64"), "{e}");
        args.merchant_ascii = Some("DEMO SHOP".into());
        args.local_city = Some("上海".into());
        let out = make_output(&args).unwrap();
        let payload = out.lines().next().unwrap();
        let parsed = mpm::parse(payload).unwrap();
        assert_eq!(parsed.text(59), Some("DEMO SHOP"));
        let t64 = parsed.field(64).unwrap();
        assert_eq!(t64.sub_field(0).unwrap().value, "ZH");
        assert_eq!(t64.sub_field(1).unwrap().value, "演示商户");
        assert_eq!(t64.sub_field(2).unwrap().value, "上海");
    }

    #[test]
    fn a_currency_other_than_cny_is_warned_about() {
        // The EMVCo appendix payload with 53 = 840 (USD), its CRC recomputed.
        let body = EMVCO_APPENDIX.replace("5303156", "5303840");
        let body = &body[..body.len() - 4];
        let payload = format!(
            "{body}{}",
            smartpos_core::qr::crc::crc16_hex(body.as_bytes())
        );
        let (text, err) = parse_output(&payload, false).unwrap();
        assert!(err.is_none());
        assert!(
            text.contains("ID 53 currency 840 is not CNY (156)"),
            "{text}"
        );
        let (json, _) = parse_output(&payload, true).unwrap();
        let v: Json = serde_json::from_str(&json).unwrap();
        assert_eq!(v["warnings"][0]["code"], "currency_not_cny");
        let (clean, _) = parse_output(EMVCO_APPENDIX, false).unwrap();
        assert!(clean.contains("warnings: none"), "{clean}");
    }
}
