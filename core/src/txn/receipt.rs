//! Receipts (签购单) and replays of recorded outcomes. A receipt carries the masked PAN only.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::card::MaskedPan;
use crate::ports::Receipt;
use crate::store::{TransactionRecord, TxnState};
use crate::txn::config::TerminalConfig;
use crate::txn::endings;
use crate::txn::esign_flow::SignatureNote;
use crate::txn::kind::TxnKind;
use crate::txn::outcome::{Approval, Outcome};
use crate::txn::terminal::Terminal;

/// `at`: the transaction's time, which a duplicate shows too (not the time it is reprinted).
/// `icc_data`: the chip or tap data objects the approval carried (field 55), whose CVM results
/// may ask for a signature.
pub(crate) fn for_approval(
    config: &TerminalConfig,
    a: &Approval,
    masked: MaskedPan,
    at: SystemTime,
    duplicate: bool,
    icc_data: Option<&[u8]>,
) -> Receipt {
    let spec = a.kind.spec();
    let title = if duplicate {
        "POS签购单（重打印）/ POS SALES SLIP (DUPLICATE)"
    } else {
        "POS签购单 / POS SALES SLIP"
    };
    let amount = match a.balance_fen {
        Some(b) => ("余额 BALANCE", format!("RMB {}", yuan(b))),
        None => ("金额 AMOUNT", format!("RMB {}", yuan(a.amount_fen as i64))),
    };
    let receipt = Receipt::new(title)
        .with_card(masked)
        .line("商户名称 MERCHANT", config.merchant_name.as_str())
        .line("商户编号 MERCHANT NO", config.merchant_id.as_str())
        .line("终端编号 TERMINAL NO", config.terminal_id.as_str())
        .line(
            "交易类型 TYPE",
            format!("{} {}", spec.zh, spec.en.to_uppercase()),
        )
        .line("批次号 BATCH NO", format!("{:06}", a.batch_no))
        .line("凭证号 VOUCHER NO", format!("{:06}", a.stan))
        .line("授权码 AUTH NO", a.auth_code.as_str())
        .line("参考号 REF NO", a.rrn.as_str())
        .line("日期时间 DATE/TIME", beijing_time_text(at))
        .line(amount.0, amount.1);
    with_signature(receipt, a.signature.as_ref(), card_asks_signature(icc_data))
        .footer("本人确认以上交易，同意将其记入本卡账户")
        .footer("I ACKNOWLEDGE SATISFACTORY RECEIPT OF RELATIVE GOODS/SERVICES")
}

/// The line a paper slip is signed on.
const SIGN_HERE: &str = "持卡人签名 CARDHOLDER SIGNATURE: ____________________";

/// Whether the card's cardholder verification was a signature (CVM results 9F34, e.g. 1E0300
/// from a chip's CVM list or 5E0300 from a Mastercard tap's): the slip must then be signed.
fn card_asks_signature(icc_data: Option<&[u8]>) -> bool {
    icc_data
        .and_then(crate::card::emv::field55::cvm_results)
        .is_some_and(crate::esign::cvm_says_signature)
}

/// The slip says how the cardholder signed: on the screen (the e-slip is the proof, the paper a
/// copy), or not at all when asked, so the paper copy is the one to sign. Without a signature
/// pad, a card whose CVM is a signature gets the line to sign on paper; otherwise nothing (PIN,
/// 小额免密免签, no CVM).
fn with_signature(receipt: Receipt, note: Option<&SignatureNote>, card_asks: bool) -> Receipt {
    match note {
        None if card_asks => receipt.footer(SIGN_HERE),
        None => receipt,
        Some(SignatureNote::Signed { uploaded, .. }) => receipt.line(
            "持卡人签名 SIGNATURE",
            if *uploaded {
                "电子签名，已上送 E-SIGNED, UPLOADED"
            } else {
                "电子签名，待上送 E-SIGNED, UPLOAD PENDING"
            },
        ),
        Some(SignatureNote::Missing { .. }) => receipt
            .line("持卡人签名 SIGNATURE", "未电子签名 NOT E-SIGNED")
            .footer(SIGN_HERE),
    }
}

/// Local time in China (UTC+8, no daylight saving), "YYYY-MM-DD hh:mm:ss".
pub(crate) fn beijing_time_text(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
        + 8 * 3600;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = crate::calendar::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

pub(crate) fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let abs = fen.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// Field 54 (UnionPay): account type n2, amount type n2, currency n3, sign C/D, amount n12 —
/// 20 characters per balance; the first one is the available balance.
pub(crate) fn parse_balance(field54: &str) -> Option<i64> {
    let b = field54.as_bytes();
    if b.len() < 20 {
        return None;
    }
    let amount: i64 = field54.get(8..20)?.parse().ok()?;
    match b[7] {
        b'C' => Some(amount),
        b'D' => Some(-amount),
        _ => None,
    }
}

impl Terminal {
    /// What a known attempt id ended as, rebuilt from the journal without going online.
    pub(crate) fn recorded_outcome(&self, record: &TransactionRecord) -> Outcome {
        let kind = TxnKind::from_journal(record.kind).unwrap_or(TxnKind::Sale);
        match record.state {
            TxnState::Approved | TxnState::Voided => {
                let mut approval = Approval {
                    kind,
                    attempt_id: record.attempt_id.clone(),
                    amount_fen: record.amount_fen,
                    stan: record.stan.value(),
                    batch_no: record.batch_no.value(),
                    rrn: record.rrn.clone().unwrap_or_default(),
                    auth_code: record.auth_code.clone().unwrap_or_default(),
                    pan_masked: record.pan_masked.clone().unwrap_or_default(),
                    balance_fen: None,
                    receipt: Receipt::default(),
                    receipt_printed: true,
                    paperless: false,
                    signature: self.recorded_signature(record.id),
                };
                if let Ok(pan) = self.unseal_pan(record) {
                    // The ICC data are kept only while an upload needs them: a duplicate of a
                    // signed tap or chip slip shows the line when they are.
                    approval.receipt = for_approval(
                        &self.config,
                        &approval,
                        pan.masked(),
                        record.created(),
                        true,
                        record.icc_data.as_ref().map(|d| d.as_bytes()),
                    );
                }
                Outcome::Approved(approval)
            }
            TxnState::Declined => {
                endings::from_response(record.response_code.as_deref().unwrap_or("06")).into()
            }
            // Reversed, not sent, still unknown: the recorded reason is the explanation.
            _ => endings::recorded(record.termination_code.as_deref()).into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balance_field_is_signed() {
        assert_eq!(parse_balance("1002156C000000012345"), Some(12345));
        assert_eq!(parse_balance("1002156D000000000100"), Some(-100));
        assert_eq!(parse_balance("1002156X000000000100"), None);
        assert_eq!(parse_balance("1002156C0000"), None);
    }

    #[test]
    fn beijing_time_is_utc_plus_8() {
        // 2024-02-29T16:30:05Z is 2024-03-01 00:30:05 in Beijing (checked with `date -u -d`).
        let t = UNIX_EPOCH + std::time::Duration::from_secs(1_709_224_205);
        assert_eq!(beijing_time_text(t), "2024-03-01 00:30:05");
        assert_eq!(beijing_time_text(UNIX_EPOCH), "1970-01-01 08:00:00");
    }

    #[test]
    fn the_slip_says_how_the_cardholder_signed() {
        use crate::esign::MissingSignature;
        let base = || Receipt::new("slip");
        assert_eq!(with_signature(base(), None, false), base());
        let signed = |uploaded| SignatureNote::Signed {
            jbig_bytes: 375,
            segments: 1,
            uploaded,
        };
        let text = with_signature(base(), Some(&signed(true)), true).to_string();
        assert!(text.contains("E-SIGNED, UPLOADED"), "{text}");
        let text = with_signature(base(), Some(&signed(false)), true).to_string();
        assert!(text.contains("E-SIGNED, UPLOAD PENDING"), "{text}");
        let missing = SignatureNote::Missing {
            why: MissingSignature::Cancelled,
            note: crate::diag::Termination::new(crate::diag::TerminationCode::OpSignatureMissing),
        };
        let text = with_signature(base(), Some(&missing), true).to_string();
        assert!(text.contains("NOT E-SIGNED"), "{text}");
        assert!(text.contains("CARDHOLDER SIGNATURE: ____"), "{text}");
        // No pad: the card's signature CVM still gets its paper line, once; an e-signed slip
        // does not.
        let text = with_signature(base(), None, true).to_string();
        assert_eq!(
            text.matches("CARDHOLDER SIGNATURE: ____").count(),
            1,
            "{text}"
        );
        let text = with_signature(base(), Some(&signed(true)), true).to_string();
        assert!(!text.contains("CARDHOLDER SIGNATURE: ____"), "{text}");
    }

    /// 9F34 from field 55: a signature CVM (1E, or 5E "apply next" as a Mastercard tap
    /// reports it) asks for the slip to be signed unless it failed; PIN and no CVM do not.
    #[test]
    fn the_card_asks_for_a_signature_through_its_cvm_results() {
        let f55 = |cvm: &str| hex::decode(format!("9F2701809F3403{cvm}")).unwrap();
        for (cvm, asks) in [
            ("5E0300", true),
            ("1E0300", true),
            ("1E0301", false),
            ("420300", false),
            ("1F0302", false),
            ("3F0001", false),
        ] {
            assert_eq!(card_asks_signature(Some(&f55(cvm))), asks, "{cvm}");
        }
        assert!(!card_asks_signature(None));
        assert!(!card_asks_signature(Some(&[0x9F])));
    }

    #[test]
    fn yuan_formats_fen() {
        assert_eq!(yuan(0), "0.00");
        assert_eq!(yuan(5), "0.05");
        assert_eq!(yuan(123456), "1234.56");
        assert_eq!(yuan(-250), "-2.50");
    }
}
