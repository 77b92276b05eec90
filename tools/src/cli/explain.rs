//! `smartpos explain CODE [--json]`: what a field-39 response code (e.g. `51`, `A0`) or a
//! terminal termination code (e.g. `NET_TIMEOUT`) means, for the merchant and the cardholder,
//! and what to do next. Everything comes from the diag tables.

use serde_json::json;
use std::str::FromStr;

use smartpos_core::diag::{
    ActionClass, ResponseCode, TerminalReaction, Termination, TerminationCode, lookup,
};
use smartpos_core::qr::gateway::codes::{GATEWAY_CODES, GatewayCodeInfo, Verdict};

use super::{CliError, CliResult};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A field-39 response code (2 characters) or a termination code such as NET_TIMEOUT.
    pub code: String,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> CliResult {
    println!("{}", explain(&args.code, args.json)?);
    Ok(())
}

/// The explanation as text or JSON.
pub fn explain(code: &str, as_json: bool) -> Result<String, CliError> {
    // Codes are case-insensitive: an operator types "a0" or "net_timeout" as often as not.
    let upper = code.trim().to_ascii_uppercase();
    let code = upper.as_str();
    if TerminationCode::from_str(code).is_err()
        && let Some(row) = GATEWAY_CODES.iter().find(|row| row.code == code)
    {
        return explain_gateway_code(row, as_json);
    }
    let (termination, host) = if code.len() == 2 {
        let rc: ResponseCode = code
            .parse()
            .map_err(|e| CliError::new(format!("explain: {e}")))?;
        // A well-formed code no table holds is as unknown as a mistyped termination code: the
        // generic row the terminal shows when a host sends one is not an explanation of it.
        if !ResponseCode::catalogued().any(|c| c == rc) {
            return Err(CliError::new(format!(
                "explain: unknown code {code:?} (not a response code of the catalog, nor a \
                 termination or QR gateway code)"
            )));
        }
        (Termination::from_response(rc), Some(lookup(rc)))
    } else {
        let tc: TerminationCode = code
            .parse()
            .map_err(|_| CliError::new(format!("explain: unknown code {code:?}")))?;
        (Termination::new(tc), None)
    };
    let t = &termination;
    if as_json {
        let mut value = termination_json(t);
        value["code"] = json!(code);
        value["kind"] = json!(if host.is_some() {
            "response_code"
        } else {
            "termination_code"
        });
        value["action"] = json!(host.map(|h| action_id(h.action)));
        value["reaction"] = json!(host.map(|h| reaction_id(h.reaction)));
        return serde_json::to_string_pretty(&value).map_err(|e| CliError::new(e.to_string()));
    }
    let mut out = format!("{code}: {} / {}\n", t.merchant_zh, t.merchant_en);
    out.push_str(&format!("cause: {}", t.cause.as_str()));
    if let Some(h) = host {
        out.push_str(&format!(
            "   action: {}   terminal reaction: {}",
            action_id(h.action).replace('_', " "),
            reaction_id(h.reaction).replace('_', " ")
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

/// How the merchant should treat a response code, as a JSON id (text shows it with spaces).
fn action_id(action: ActionClass) -> &'static str {
    match action {
        ActionClass::Approved => "approved",
        ActionClass::Retry => "retry",
        ActionClass::DoNotRetry => "do_not_retry",
        ActionClass::OperatorAction => "operator_action",
        ActionClass::SystemFault => "system_fault",
    }
}

/// What the terminal does on its own after the code, as a JSON id.
fn reaction_id(reaction: TerminalReaction) -> &'static str {
    match reaction {
        TerminalReaction::None => "none",
        TerminalReaction::SignOn => "sign_on",
        TerminalReaction::Reverse => "reverse",
        TerminalReaction::BatchUpload => "batch_upload",
        TerminalReaction::DownloadParameters => "download_parameters",
        _ => "other",
    }
}

/// The explanation of one termination as JSON: what the merchant and cardholder are told, the
/// remedies, whether retrying helps and another way to pay.
fn termination_json(t: &Termination) -> serde_json::Value {
    json!({
        "code": t.code.to_string(),
        "cause": t.cause.as_str(),
        "merchant_zh": t.merchant_zh,
        "merchant_en": t.merchant_en,
        "cardholder_zh": t.cardholder,
        "cardholder_en": t.cardholder_en,
        "remedies": super::shape::remedies_json(&t.remedies),
        "retry_can_help": t.retry_can_help,
        "alternative": t.alternative.map(|a| a.en()),
    })
}

/// A QR gateway result code: what it says about the order, what the terminal does next, and,
/// where it ends the order, the termination the merchant sees.
fn explain_gateway_code(row: &GatewayCodeInfo, as_json: bool) -> Result<String, CliError> {
    let (verdict, next_en, next_zh, ends_with) = match row.verdict {
        Verdict::Success => ("success", "the order is done", "订单完成", None),
        Verdict::UserPaying => (
            "user_paying",
            "query every poll interval until the deadline, then cancel",
            "按间隔查询直至超时，然后撤销订单",
            None,
        ),
        Verdict::OrderNotExist => (
            "order_not_exist",
            "nothing was charged under this order number",
            "此订单号下没有扣款",
            None,
        ),
        Verdict::OrderPaid => (
            "order_paid",
            "query for the payment's details and keep it",
            "查询支付详情并保留该笔支付",
            None,
        ),
        Verdict::Unknown(t) => (
            "unknown",
            "outcome unknown: query, then cancel if still open",
            "结果未知：先查询，仍未完成则撤销",
            Some(t),
        ),
        Verdict::Declined(t) => (
            "declined",
            "nothing was charged by this request",
            "本次请求未扣款",
            Some(t),
        ),
        _ => ("unknown", "query the order", "查询订单", None),
    };
    let termination = ends_with.map(Termination::new);
    if as_json {
        let value = json!({
            "code": row.code,
            "kind": "qr_gateway_code",
            "meaning_en": row.meaning_en,
            "verdict": verdict,
            "next_en": next_en,
            "next_zh": next_zh,
            "termination": termination.as_ref().map(termination_json),
        });
        return serde_json::to_string_pretty(&value).map_err(|e| CliError::new(e.to_string()));
    }
    let mut out = format!(
        "{} (QR gateway): {}\nterminal: {} / {}",
        row.code, row.meaning_en, next_zh, next_en
    );
    if let Some(t) = termination {
        out.push_str(&format!(
            "\nends as {}: {} / {}\ncause: {}",
            t.code,
            t.merchant_zh,
            t.merchant_en,
            t.cause.as_str()
        ));
        for r in &t.remedies {
            out.push_str(&format!("\n→ {} / {}", r.zh(), r.en()));
        }
        if let Some(a) = t.alternative {
            out.push_str(&format!("\nanother way to pay: {} / {}", a.zh(), a.en()));
        }
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
        assert_eq!(json["reaction"], "sign_on");
        assert_eq!(json["action"], "operator_action");
        assert_eq!(json["remedies"][0]["id"], "sign_on_again");
        let text = explain("a0", false).unwrap();
        assert!(
            text.contains("action: operator action   terminal reaction: sign on"),
            "{text}"
        );
        // Well formed, in no table: unknown, like a mistyped termination code.
        assert!(explain("XY", false).is_err());
        assert!(explain("ZZZ", false).is_err());
        let local: serde_json::Value =
            serde_json::from_str(&explain("NET_TIMEOUT", true).unwrap()).unwrap();
        assert_eq!(local["cause"], "network");
        assert_eq!(local["retry_can_help"], true);
        assert!(local["alternative"].is_string());
    }

    #[test]
    fn explains_qr_gateway_codes_with_what_the_terminal_does() {
        let paying: serde_json::Value =
            serde_json::from_str(&explain("USERPAYING", true).unwrap()).unwrap();
        assert_eq!(paying["kind"], "qr_gateway_code");
        assert_eq!(paying["verdict"], "user_paying");
        assert!(paying["termination"].is_null());
        let poor: serde_json::Value =
            serde_json::from_str(&explain("NOTENOUGH", true).unwrap()).unwrap();
        assert_eq!(poor["verdict"], "declined");
        assert_eq!(poor["termination"]["code"], "ACC_QR_INSUFFICIENT");
        assert_eq!(poor["termination"]["cause"], "account");
        assert!(poor["termination"]["alternative"].is_string());
        let text = explain("SYSTEMERROR", false).unwrap();
        assert!(text.contains("query"), "{text}");
    }

    #[test]
    fn codes_are_case_insensitive() {
        assert_eq!(explain("a0", false).unwrap(), explain("A0", false).unwrap());
        assert_eq!(
            explain("net_timeout", true).unwrap(),
            explain("NET_TIMEOUT", true).unwrap()
        );
        assert_eq!(
            explain("userpaying", false).unwrap(),
            explain("USERPAYING", false).unwrap()
        );
    }

    #[test]
    fn unknown_codes_are_errors() {
        assert!(explain("NOT_A_CODE", false).is_err());
        assert!(explain("x", false).is_err());
    }
}
