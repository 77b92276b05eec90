//! What coded values of a UnionPay message mean, as tables: processing code (3), entry mode (22),
//! condition code (25), PIN capture (26), security control (53), field 60's sub-fields and the
//! response code (39, from the diag catalog). The codes are the ones this core sends and the
//! simulator answers (`core/src/txn/kind.rs`, `core/src/card/entry.rs`, `host/dialect.rs`),
//! after Q/CUP 006.1 (中国银联银行卡联网联合技术规范 第2部分 报文接口规范); a code outside the
//! tables says so rather than guessing.

use smartpos_core::diag::{ResponseCode, lookup};

/// Processing code, positions 1–2.
const TRANSACTION_TYPES: &[(&str, &str)] = &[
    ("00", "goods and services (sale, completion)"),
    ("03", "pre-authorisation"),
    ("20", "return (void, refund, pre-authorisation void)"),
    ("31", "balance inquiry"),
];

/// Processing code, positions 3–4 and 5–6.
const ACCOUNT_TYPES: &[(&str, &str)] = &[
    ("00", "default account"),
    ("10", "savings"),
    ("20", "cheque"),
    ("30", "credit"),
];

/// Field 22, positions 1–2.
const ENTRY_MODES: &[(&str, &str)] = &[
    ("01", "keyed"),
    ("02", "magnetic stripe"),
    ("05", "contact chip"),
    ("07", "contactless chip (qPBOC)"),
    ("80", "magnetic stripe after a chip failure (fallback)"),
    ("91", "contactless magnetic stripe"),
    ("95", "chip, track data may be unreliable"),
];

/// Field 22, position 3.
const PIN_CAPABILITIES: &[(&str, &str)] = &[
    ("0", "PIN capability unspecified"),
    ("1", "terminal can take a PIN"),
    ("2", "terminal cannot take a PIN"),
];

/// Field 25.
const CONDITION_CODES: &[(&str, &str)] = &[
    ("00", "normal presentment"),
    ("06", "pre-authorisation"),
    ("08", "mail or telephone order"),
];

/// Field 60.1.
const TYPE_CODES: &[(&str, &str)] = &[
    ("00", "management (sign-on, settlement, batch upload)"),
    ("01", "balance inquiry"),
    ("10", "pre-authorisation"),
    ("11", "pre-authorisation void"),
    ("20", "pre-authorisation completion"),
    ("21", "completion void"),
    ("22", "sale"),
    ("23", "sale void"),
    ("25", "refund"),
];

/// Field 60.3.
const NET_MANAGEMENT_CODES: &[(&str, &str)] = &[
    ("000", "financial message"),
    ("001", "sign-on, single-length keys"),
    ("003", "sign-on, double-length keys"),
    ("004", "sign-on, double-length keys with a track key (TDK)"),
    ("201", "settlement or batch upload"),
    ("202", "end of batch upload"),
];

/// Field 60.4.
const READ_CAPABILITIES: &[(&str, &str)] = &[
    ("0", "unspecified"),
    ("2", "magnetic stripe only"),
    ("5", "contact chip and magnetic stripe"),
    ("6", "contact and contactless chip and magnetic stripe"),
];

/// Field 60.5.
const IC_CONDITIONS: &[(&str, &str)] = &[
    ("0", "not a fallback"),
    ("1", "previous chip read was good"),
    ("2", "fallback: the chip could not be read"),
];

fn find(table: &[(&str, &'static str)], code: &str) -> Option<&'static str> {
    table.iter().find(|(c, _)| *c == code).map(|(_, m)| *m)
}

fn or_unknown(table: &[(&str, &'static str)], code: &str) -> String {
    find(table, code).map_or_else(
        || format!("{code}: not a code this tool knows"),
        str::to_owned,
    )
}

/// The meaning of field `n`'s value, for the fields whose values are codes.
pub fn field_meaning(n: u8, value: &str) -> Option<String> {
    match n {
        3 if value.len() == 6 => Some(format!(
            "{}; from {}, to {}",
            or_unknown(TRANSACTION_TYPES, &value[..2]),
            or_unknown(ACCOUNT_TYPES, &value[2..4]),
            or_unknown(ACCOUNT_TYPES, &value[4..6])
        )),
        22 if value.len() == 3 => Some(format!(
            "{}; {}",
            or_unknown(ENTRY_MODES, &value[..2]),
            or_unknown(PIN_CAPABILITIES, &value[2..])
        )),
        25 => Some(or_unknown(CONDITION_CODES, value)),
        26 => value
            .parse::<u8>()
            .ok()
            .map(|n| format!("PIN of up to {n} digits")),
        39 => value.parse::<ResponseCode>().ok().map(|rc| {
            let row = lookup(rc);
            if row.code == rc.as_str() {
                row.merchant_en.to_owned()
            } else {
                "not in the response-code catalog".to_owned()
            }
        }),
        53 if value.len() >= 3 => {
            let bytes = value.as_bytes();
            let format = match bytes[0] {
                b'1' => "PIN block ISO 9564 format 0 (with the PAN)",
                b'2' => "PIN block without the PAN",
                b'0' => "no PIN",
                _ => "PIN block format unknown",
            };
            let algorithm = match bytes[1] {
                b'0' => "single DES",
                b'6' => "double-length TDES",
                _ => "algorithm unknown",
            };
            let tracks = match bytes[2] {
                b'1' => "track data enciphered under the TDK",
                _ => "track data in clear",
            };
            Some(format!("{format}; {algorithm}; {tracks}"))
        }
        _ => None,
    }
}

/// The meaning of a field 60 sub-field (`1`, `3`, `4` or `5` for 60.1 …).
pub fn field60_meaning(sub: u8, value: &str) -> Option<&'static str> {
    match sub {
        1 => find(TYPE_CODES, value),
        3 => find(NET_MANAGEMENT_CODES, value),
        4 => find(READ_CAPABILITIES, value),
        5 => find(IC_CONDITIONS, value),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coded_values_have_meanings_and_unknown_codes_say_so() {
        assert_eq!(
            field_meaning(3, "000000").unwrap(),
            "goods and services (sale, completion); from default account, to default account"
        );
        assert!(
            field_meaning(3, "990000")
                .unwrap()
                .contains("99: not a code")
        );
        assert_eq!(
            field_meaning(22, "051").unwrap(),
            "contact chip; terminal can take a PIN"
        );
        assert_eq!(field_meaning(25, "06").unwrap(), "pre-authorisation");
        assert_eq!(field_meaning(26, "12").unwrap(), "PIN of up to 12 digits");
        assert!(field_meaning(39, "51").unwrap().contains("nsufficient"));
        assert_eq!(
            field_meaning(53, "1610000000000000").unwrap(),
            "PIN block ISO 9564 format 0 (with the PAN); double-length TDES; track data \
             enciphered under the TDK"
        );
        assert_eq!(field60_meaning(1, "22"), Some("sale"));
        assert_eq!(
            field60_meaning(3, "201"),
            Some("settlement or batch upload")
        );
        assert_eq!(
            field60_meaning(4, "5"),
            Some("contact chip and magnetic stripe")
        );
        assert_eq!(field60_meaning(1, "77"), None);
        assert_eq!(field_meaning(41, "10000001"), None);
    }
}
