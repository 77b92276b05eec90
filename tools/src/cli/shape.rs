//! The shapes every command shares, so one concept reads the same everywhere: amounts as yuan
//! with two decimals in text and whole fen under `_fen` keys in JSON, batch numbers as
//! `batch_no` (a number in JSON, six digits in text), remedies as `{id, zh, en}`.

use serde_json::{Value as Json, json};
use smartpos_core::diag::Remedy;

/// Fen as yuan with two decimals, the one unit of amounts in text: `12345` → `"123.45"`.
pub fn yuan(fen: u64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

/// A signed amount in fen as yuan (net totals go negative when refunds exceed sales).
pub fn yuan_signed(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    format!("{sign}{}", yuan(fen.unsigned_abs()))
}

/// A remedy as JSON: its stable id (what scripts match on) and the merchant's wording.
pub fn remedy_json(r: &Remedy) -> Json {
    let id = serde_json::to_value(r)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "other".to_owned());
    json!({"id": id, "zh": r.zh(), "en": r.en()})
}

/// Remedies as a JSON array of [`remedy_json`].
pub fn remedies_json(remedies: &[Remedy]) -> Json {
    Json::Array(remedies.iter().map(remedy_json).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_yuan_with_two_decimals() {
        assert_eq!(yuan(0), "0.00");
        assert_eq!(yuan(5), "0.05");
        assert_eq!(yuan(12345), "123.45");
        assert_eq!(yuan_signed(-250), "-2.50");
    }

    #[test]
    fn a_remedy_has_an_id_and_both_wordings() {
        let v = remedy_json(&Remedy::CloseOtherInstance);
        assert_eq!(v["id"], "close_other_instance");
        assert!(v["zh"].as_str().is_some_and(|s| !s.is_empty()));
        assert!(v["en"].as_str().is_some_and(|s| s.starts_with("Close")));
    }
}
