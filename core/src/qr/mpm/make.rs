//! Making the dynamic payload a terminal shows for one sale.

use super::MpmError;
use super::names::{field_name, sub_field_name};
use crate::money::Amount;
use crate::qr::crc::crc16_hex;
use crate::qr::emv_tlv;

/// UnionPay merchant account information, the value of ID 15: acquirer IIN (8 digits), forwarding
/// IIN (8 digits) and merchant ID (15 characters), concatenated without sub-fields. This is the
/// layout of the UnionPay International QR specification as it appears in published payloads: the
/// National Bank of Cambodia KHQR SDK sample (`1531` + `12345678` `12345678` `ABCDEFGHIJKLMNO`)
/// and Korean issuer payloads (`1531` + `26000410` `26000410` `711958120000000`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnionPayAccount {
    acquirer_iin: String,
    forwarding_iin: String,
    merchant_id: String,
}

const UNIONPAY_VALUE_LEN: usize = 31;

impl UnionPayAccount {
    pub fn new(
        acquirer_iin: &str,
        forwarding_iin: &str,
        merchant_id: &str,
    ) -> Result<UnionPayAccount, MpmError> {
        let invalid = |reason: String| MpmError::InvalidField {
            id: 15,
            name: field_name(15),
            reason,
        };
        for (what, iin) in [
            ("acquirer IIN", acquirer_iin),
            ("forwarding IIN", forwarding_iin),
        ] {
            if iin.len() != 8 || !iin.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid(format!(
                    "the {what} must be 8 digits, found {iin:?}"
                )));
            }
        }
        if merchant_id.len() != 15 || !merchant_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(invalid(format!(
                "the merchant ID must be 15 letters or digits, found {merchant_id:?}"
            )));
        }
        Ok(UnionPayAccount {
            acquirer_iin: acquirer_iin.to_owned(),
            forwarding_iin: forwarding_iin.to_owned(),
            merchant_id: merchant_id.to_owned(),
        })
    }

    /// Reads the 31-character value of ID 15.
    pub fn parse(value: &str) -> Result<UnionPayAccount, MpmError> {
        if value.len() != UNIONPAY_VALUE_LEN || !value.is_ascii() {
            return Err(MpmError::InvalidField {
                id: 15,
                name: field_name(15),
                reason: format!(
                    "must be {UNIONPAY_VALUE_LEN} ASCII characters (IIN 8 + IIN 8 + merchant ID 15), found {} characters",
                    value.chars().count()
                ),
            });
        }
        UnionPayAccount::new(&value[..8], &value[8..16], &value[16..])
    }

    pub fn acquirer_iin(&self) -> &str {
        &self.acquirer_iin
    }

    pub fn forwarding_iin(&self) -> &str {
        &self.forwarding_iin
    }

    pub fn merchant_id(&self) -> &str {
        &self.merchant_id
    }

    /// The value of ID 15.
    pub fn value(&self) -> String {
        [
            self.acquirer_iin.as_str(),
            &self.forwarding_iin,
            &self.merchant_id,
        ]
        .concat()
    }
}

/// Another network's merchant account information: a template in IDs 26–51 whose sub-field 00
/// is its globally unique identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountTemplate {
    pub id: u8,
    pub sub_fields: Vec<(u8, String)>,
}

/// The merchant's name and city in another language (ID 64).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalMerchantName {
    /// ISO 639 two-letter code, e.g. "ZH".
    pub language: String,
    pub name: String,
    pub city: Option<String>,
}

/// A dynamic merchant-presented payload for one sale in CNY (53 = "156", 58 = "CN").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerchantQr {
    pub account: UnionPayAccount,
    pub other_accounts: Vec<AccountTemplate>,
    /// ISO 18245 merchant category code, 4 digits.
    pub mcc: String,
    pub amount: Amount,
    /// At most 25 characters.
    pub merchant_name: String,
    /// At most 15 characters.
    pub merchant_city: String,
    /// ID 62 sub-field 01, at most 25 characters.
    pub bill_number: Option<String>,
    /// ID 62 sub-field 07, at most 25 characters.
    pub terminal_label: Option<String>,
    /// Further ID 62 sub-fields (not 01 or 07, which have their own members).
    pub additional: Vec<(u8, String)>,
    pub local_name: Option<LocalMerchantName>,
}

impl MerchantQr {
    /// The mandatory parts; everything optional empty.
    pub fn new(
        account: UnionPayAccount,
        mcc: &str,
        amount: Amount,
        merchant_name: &str,
        merchant_city: &str,
    ) -> MerchantQr {
        MerchantQr {
            account,
            other_accounts: Vec::new(),
            mcc: mcc.to_owned(),
            amount,
            merchant_name: merchant_name.to_owned(),
            merchant_city: merchant_city.to_owned(),
            bill_number: None,
            terminal_label: None,
            additional: Vec::new(),
            local_name: None,
        }
    }

    /// The payload text, CRC included. IDs are written in ascending order.
    pub fn make(&self) -> Result<String, MpmError> {
        self.validate()?;
        let mut out = String::with_capacity(160);
        emv_tlv::write(&mut out, 0, "01")?;
        emv_tlv::write(&mut out, 1, "12")?;
        emv_tlv::write(&mut out, 15, &self.account.value())?;
        let mut others: Vec<&AccountTemplate> = self.other_accounts.iter().collect();
        others.sort_by_key(|t| t.id);
        for t in others {
            emv_tlv::write(&mut out, t.id, &template(&t.sub_fields)?)?;
        }
        emv_tlv::write(&mut out, 52, &self.mcc)?;
        emv_tlv::write(&mut out, 53, "156")?;
        emv_tlv::write(&mut out, 54, &yuan_text(self.amount))?;
        emv_tlv::write(&mut out, 58, "CN")?;
        emv_tlv::write(&mut out, 59, &self.merchant_name)?;
        emv_tlv::write(&mut out, 60, &self.merchant_city)?;
        let mut additional: Vec<(u8, String)> = Vec::new();
        if let Some(bill) = &self.bill_number {
            additional.push((1, bill.clone()));
        }
        if let Some(label) = &self.terminal_label {
            additional.push((7, label.clone()));
        }
        additional.extend(self.additional.iter().cloned());
        additional.sort_by_key(|(id, _)| *id);
        if !additional.is_empty() {
            emv_tlv::write(&mut out, 62, &template(&additional)?)?;
        }
        if let Some(local) = &self.local_name {
            let mut subs = vec![(0, local.language.clone()), (1, local.name.clone())];
            if let Some(city) = &local.city {
                subs.push((2, city.clone()));
            }
            emv_tlv::write(&mut out, 64, &template(&subs)?)?;
        }
        out.push_str("6304");
        let crc = crc16_hex(out.as_bytes());
        out.push_str(&crc);
        Ok(out)
    }

    fn validate(&self) -> Result<(), MpmError> {
        let invalid = |id: u8, reason: String| MpmError::InvalidField {
            id,
            name: field_name(id),
            reason,
        };
        if self.mcc.len() != 4 || !self.mcc.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid(
                52,
                format!("must be 4 digits, found {:?}", self.mcc),
            ));
        }
        if self.amount == Amount::ZERO {
            return Err(invalid(
                54,
                "a dynamic payload needs an amount above zero".into(),
            ));
        }
        text_rule(59, field_name(59), &self.merchant_name, 25)?;
        text_rule(60, field_name(60), &self.merchant_city, 15)?;
        if let Some(bill) = &self.bill_number {
            text_rule(62, sub_field_name(62, 1), bill, 25)?;
        }
        if let Some(label) = &self.terminal_label {
            text_rule(62, sub_field_name(62, 7), label, 25)?;
        }
        let mut seen = [false; 100];
        for (id, value) in &self.additional {
            if !(1..=99).contains(id) || *id == 1 || *id == 7 {
                return Err(invalid(
                    62,
                    format!(
                        "sub-field {id:02} is not allowed here (1 and 7 have their own members)"
                    ),
                ));
            }
            if std::mem::replace(&mut seen[usize::from(*id)], true) {
                return Err(invalid(62, format!("sub-field {id:02} given twice")));
            }
            text_rule(62, sub_field_name(62, *id), value, 99)?;
        }
        let mut seen = [false; 100];
        for t in &self.other_accounts {
            if !(26..=51).contains(&t.id) {
                return Err(invalid(
                    t.id.min(99),
                    "other merchant account templates use IDs 26 to 51".into(),
                ));
            }
            if std::mem::replace(&mut seen[usize::from(t.id)], true) {
                return Err(invalid(t.id, "template given twice".into()));
            }
            if !t.sub_fields.iter().any(|(id, _)| *id == 0) {
                return Err(invalid(
                    t.id,
                    "sub-field 00 (globally unique identifier) is mandatory".into(),
                ));
            }
        }
        if let Some(local) = &self.local_name {
            if local.language.len() != 2 || !local.language.bytes().all(|b| b.is_ascii_alphabetic())
            {
                return Err(invalid(
                    64,
                    "the language must be 2 letters (ISO 639)".into(),
                ));
            }
            text_rule(64, sub_field_name(64, 1), &local.name, 25)?;
            if let Some(city) = &local.city {
                text_rule(64, sub_field_name(64, 2), city, 15)?;
            }
        }
        Ok(())
    }
}

/// Merchant texts are what a customer's app shows: non-empty, bounded, no control characters.
fn text_rule(id: u8, what: &'static str, text: &str, max_chars: usize) -> Result<(), MpmError> {
    let chars = text.chars().count();
    let reason = if chars == 0 {
        Some("must not be empty".to_owned())
    } else if chars > max_chars {
        Some(format!(
            "{chars} characters; at most {max_chars} are allowed"
        ))
    } else if text.chars().any(char::is_control) {
        Some("contains a control character".to_owned())
    } else {
        None
    };
    match reason {
        Some(reason) => Err(MpmError::InvalidField {
            id,
            name: what,
            reason,
        }),
        None => Ok(()),
    }
}

fn template(sub_fields: &[(u8, String)]) -> Result<String, MpmError> {
    let mut out = String::new();
    for (id, value) in sub_fields {
        emv_tlv::write(&mut out, *id, value)?;
    }
    Ok(out)
}

/// Yuan with two decimals, the form ID 54 takes for CNY ("12.34").
pub(crate) fn yuan_text(amount: Amount) -> String {
    format!("{}.{:02}", amount.fen() / 100, amount.fen() % 100)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qr::mpm::parse;

    fn account() -> UnionPayAccount {
        UnionPayAccount::new("48020000", "48020000", "898310048161234").unwrap()
    }

    fn sale(fen: u64) -> MerchantQr {
        MerchantQr::new(
            account(),
            "5812",
            Amount::from_fen(fen).unwrap(),
            "BEST NOODLES",
            "SHANGHAI",
        )
    }

    #[test]
    fn payload_has_the_fields_of_the_brief_in_order() {
        let mut qr = sale(1234);
        qr.bill_number = Some("B2026".into());
        qr.terminal_label = Some("T01".into());
        let text = qr.make().unwrap();
        let expected_body = "000201010212\
            1531480200004802000089831004816123452045812530315654051\
            2.345802CN5912BEST NOODLES6008SHANGHAI62160105B20260703T016304";
        assert_eq!(&text[..text.len() - 4], expected_body);
        // The CRC is checked independently of the maker: the parser recomputes it.
        let parsed = parse(&text).unwrap();
        assert!(parsed.crc.is_valid());
        assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
        assert_eq!(parsed.amount(), Some(Amount::from_fen(1234).unwrap()));
        assert_eq!(parsed.unionpay_account(), Some(account()));
    }

    #[test]
    fn amounts_keep_two_decimals() {
        for (fen, text) in [
            (1, "0.01"),
            (100, "1.00"),
            (999_999_999_999, "9999999999.99"),
        ] {
            assert_eq!(yuan_text(Amount::from_fen(fen).unwrap()), text);
        }
    }

    #[test]
    fn local_language_and_other_networks() {
        let mut qr = sale(2372);
        qr.local_name = Some(LocalMerchantName {
            language: "ZH".into(),
            name: "最佳运输".into(),
            city: Some("北京".into()),
        });
        qr.other_accounts.push(AccountTemplate {
            id: 29,
            sub_fields: vec![(0, "D15600000000".into()), (5, "A93FO3230Q".into())],
        });
        let text = qr.make().unwrap();
        assert!(
            text.contains("29300012D156000000000510A93FO3230Q"),
            "{text}"
        );
        assert!(
            text.contains("64200002ZH0104最佳运输0202北京6304"),
            "{text}"
        );
        let parsed = parse(&text).unwrap();
        assert_eq!(
            parsed.field(64).unwrap().sub_field(1).unwrap().value,
            "最佳运输"
        );
    }

    #[test]
    fn bad_inputs_name_the_field() {
        let mut qr = sale(0);
        let e = qr.make().unwrap_err();
        assert!(matches!(e, MpmError::InvalidField { id: 54, .. }), "{e}");
        qr.amount = Amount::from_fen(1).unwrap();
        qr.mcc = "58A2".into();
        assert!(qr.make().unwrap_err().to_string().contains("ID 52"));
        qr.mcc = "5812".into();
        qr.merchant_name = "N".repeat(26);
        let e = qr.make().unwrap_err().to_string();
        assert!(
            e.contains("merchant name") && e.contains("26 characters"),
            "{e}"
        );
        qr.merchant_name = "OK".into();
        qr.merchant_city = "LINE\nBREAK".into();
        assert!(qr.make().unwrap_err().to_string().contains("control"));
        qr.merchant_city = "X".into();
        qr.additional.push((7, "dup".into()));
        assert!(qr.make().unwrap_err().to_string().contains("sub-field 07"));
        qr.additional.clear();
        qr.other_accounts.push(AccountTemplate {
            id: 15,
            sub_fields: vec![(0, "X".into())],
        });
        assert!(qr.make().unwrap_err().to_string().contains("26 to 51"));
    }

    #[test]
    fn unionpay_account_shape() {
        assert!(UnionPayAccount::new("4802000", "48020000", "898310048161234").is_err());
        assert!(UnionPayAccount::new("48020000", "4802000X", "898310048161234").is_err());
        assert!(UnionPayAccount::new("48020000", "48020000", "8983100481612").is_err());
        let a = UnionPayAccount::parse("1234567812345678ABCDEFGHIJKLMNO").unwrap();
        assert_eq!(a.acquirer_iin(), "12345678");
        assert_eq!(a.forwarding_iin(), "12345678");
        assert_eq!(a.merchant_id(), "ABCDEFGHIJKLMNO");
        assert_eq!(a.value(), "1234567812345678ABCDEFGHIJKLMNO");
        assert!(UnionPayAccount::parse("123").is_err());
    }
}
