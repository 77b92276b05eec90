//! The e-slip (电子签购单): the structured record of a signed sale that replaces the paper slip,
//! for reprints, the `smartpos slip` command and the SMS slip. Built only from values that may
//! be shown: a masked PAN (the type admits nothing else), the signature as its digest, size and
//! PNG, and the cardholder's phone number masked (the full number stays sealed in the journal).

use serde::Serialize;

use super::binding::SignatureDigest;
use super::missing::MissingSignature;
use crate::card::MaskedPan;

/// How the slip ended regarding the signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SlipSignature {
    /// No signature was asked for (the reason is the decision's, e.g. a small QuickPass tap).
    NotRequired { reason: String },
    /// Signed on the pad: the JBIG size and the binding digest (hex; empty while an offline
    /// approval's signature waits for its advice's answer to bind it).
    Signed { jbig_bytes: usize, digest: String },
    /// Asked for and not given: the merchant keeps a paper slip.
    Missing { why: MissingSignature },
}

impl SlipSignature {
    pub fn signed(jbig: &[u8], digest: &SignatureDigest) -> SlipSignature {
        SlipSignature::Signed {
            jbig_bytes: jbig.len(),
            digest: digest.to_hex(),
        }
    }
}

/// One e-slip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ESlip {
    pub merchant_name: String,
    pub merchant_id: String,
    pub terminal_id: String,
    pub masked_pan: String,
    pub entry_mode: String,
    pub amount_fen: u64,
    /// `YYYYMMDDhhmmss`, the terminal's local time.
    pub date_time: String,
    pub batch_no: u32,
    pub stan: u32,
    pub rrn: String,
    pub auth_code: String,
    /// How the cardholder was verified (e.g. "online PIN", "signature", "no CVM").
    pub cvm: String,
    pub signature: SlipSignature,
    /// For the SMS slip, masked: `138****5678`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

impl ESlip {
    /// Sets the card number from its masked form only.
    pub fn with_pan(mut self, pan: &MaskedPan) -> ESlip {
        self.masked_pan = pan.as_str().to_owned();
        self
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

/// Whether `phone` is a mainland China mobile number: 11 digits starting with 1 (the SMS slip
/// goes nowhere else).
pub fn is_mainland_mobile(phone: &str) -> bool {
    phone.len() == 11 && phone.starts_with('1') && phone.bytes().all(|b| b.is_ascii_digit())
}

/// A mainland mobile number shown as its first three and last four digits; anything else that
/// is not 11 digits is shown as stars only.
pub fn mask_phone(phone: &str) -> String {
    let digits: Vec<char> = phone.chars().filter(char::is_ascii_digit).collect();
    if digits.len() != 11 {
        return "*".repeat(digits.len().min(11));
    }
    let head: String = digits[..3].iter().collect();
    let tail: String = digits[7..].iter().collect();
    format!("{head}****{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::Pan;

    #[test]
    fn only_mainland_mobiles_take_an_sms_slip() {
        assert!(is_mainland_mobile("13812345678"));
        assert!(!is_mainland_mobile("23812345678"));
        assert!(!is_mainland_mobile("1381234567"));
        assert!(!is_mainland_mobile("138 1234 567"));
        assert!(!is_mainland_mobile("+8613812345678"));
    }

    #[test]
    fn phones_are_masked() {
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("+86 138 1234 5678"), "*".repeat(11));
        assert_eq!(mask_phone("12345"), "*****");
    }

    #[test]
    fn the_slip_json_carries_no_full_pan_and_names_the_signature() {
        let pan = Pan::parse("6222021234567890123").expect("PAN");
        let digest = SignatureDigest::from_bytes([0xab; 32]);
        let slip = ESlip {
            merchant_name: "BEST NOODLES".into(),
            merchant_id: "898110048990001".into(),
            terminal_id: "10000001".into(),
            masked_pan: String::new(),
            entry_mode: "contact_chip".into(),
            amount_fen: 12_345,
            date_time: "20261204101500".into(),
            batch_no: 1,
            stan: 42,
            rrn: "120410150042".into(),
            auth_code: "A1B2C3".into(),
            cvm: "signature".into(),
            signature: SlipSignature::signed(&[0; 375], &digest),
            phone: Some(mask_phone("13812345678")),
        }
        .with_pan(&pan.masked());
        let json = slip.to_json();
        let text = json.to_string();
        assert!(!text.contains(pan.expose_digits()), "{text}");
        assert_eq!(json["signature"]["state"], "signed");
        assert_eq!(json["signature"]["jbig_bytes"], 375);
        assert_eq!(json["phone"], "138****5678");
        assert_eq!(json["masked_pan"], pan.masked().as_str());
    }
}
