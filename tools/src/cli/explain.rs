//! `smartpos explain CODE [--json]`: what a field-39 response code (e.g. `51`, `A0`) or a
//! terminal termination code (e.g. `NET_TIMEOUT`) means, for the merchant and the cardholder,
//! and what to do next. Everything comes from the diag tables.

use serde_json::json;
use smartpos_core::diag::{ResponseCode, Termination, TerminationCode, lookup};

use super::{CliError, CliResult};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A field-39 response code (2 characters) or a termination code such as NET_TIMEOUT.
    pub code: String,
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> CliResult {
    println!("{}", explain(&args.code, args.json)?);
    Ok(())
}

/// The explanation as text or JSON.
pub fn explain(code: &str, as_json: bool) -> Result<String, CliError> {
    let code = code.trim();
    let (termination, host) = if code.len() == 2 {
        let rc: ResponseCode = code
            .parse()
            .map_err(|e| CliError::new(format!("explain: {e}")))?;
        (Termination::from_response(rc), Some(lookup(rc)))
    } else {
        let tc: TerminationCode = code
            .parse()
            .map_err(|_| CliError::new(format!("explain: unknown code {code:?}")))?;
        (Termination::new(tc), None)
    };
    let t = &termination;
    if as_json {
        let value = json!({
            "code": code,
            "kind": if host.is_some() { "response_code" } else { "termination_code" },
            "cause": t.cause.as_str(),
            "action": host.map(|h| format!("{:?}", h.action)),
            "reaction": host.map(|h| format!("{:?}", h.reaction)),
            "merchant_zh": t.merchant_zh,
            "merchant_en": t.merchant_en,
            "cardholder_zh": t.cardholder,
            "cardholder_en": t.cardholder_en,
            "remedies": t.remedies.iter().map(|r| json!({"zh": r.zh(), "en": r.en()})).collect::<Vec<_>>(),
            "retry_can_help": t.retry_can_help,
            "alternative": t.alternative.map(|a| a.en()),
        });
        return serde_json::to_string_pretty(&value).map_err(|e| CliError::new(e.to_string()));
    }
    let mut out = format!("{code}: {} / {}\n", t.merchant_zh, t.merchant_en);
    out.push_str(&format!("cause: {}", t.cause.as_str()));
    if let Some(h) = host {
        out.push_str(&format!(
            "   action: {:?}   terminal reaction: {:?}",
            h.action, h.reaction
        ));
    }
    out.push_str(&format!(
        "\ncardholder: {} / {}\n",
        t.cardholder, t.cardholder_en
    ));
    for r in &t.remedies {
        out.push_str(&format!("→ {} / {}\n", r.zh(), r.en()));
    }
    out.push_str(&format!(
        "retry can help: {}",
        if t.retry_can_help { "yes" } else { "no" }
    ));
    if let Some(a) = t.alternative {
        out.push_str(&format!("\nanother way to pay: {} / {}", a.zh(), a.en()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explains_a_host_code_and_a_terminal_code() {
        let text = explain("51", false).unwrap();
        assert!(text.contains("cause: account"), "{text}");
        assert!(text.contains("Insufficient funds"), "{text}");
        let json: serde_json::Value = serde_json::from_str(&explain("A0", true).unwrap()).unwrap();
        assert_eq!(json["kind"], "response_code");
        assert_eq!(json["reaction"], "SignOn");
        let local: serde_json::Value =
            serde_json::from_str(&explain("NET_TIMEOUT", true).unwrap()).unwrap();
        assert_eq!(local["cause"], "network");
        assert_eq!(local["retry_can_help"], true);
        assert!(local["alternative"].is_string());
    }

    #[test]
    fn unknown_codes_are_errors() {
        assert!(explain("NOT_A_CODE", false).is_err());
        assert!(explain("x", false).is_err());
    }
}
