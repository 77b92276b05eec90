//! Terminal and per-AID parameters as data. The table below is the terminal's default until the
//! acquirer's IC-parameter download replaces it (UnionPay network management, AID download).
//! Values are the common scheme defaults published in acquirer terminal specifications; each
//! scheme's exact figures come from the acquirer at download.

use serde::{Deserialize, Serialize};

/// Terminal-wide data (Book 4 Annex A).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminalParams {
    /// 9F35: 22 = attended, offline with online capability, merchant-operated.
    pub terminal_type: u8,
    /// 9F33.
    pub capabilities: [u8; 3],
    /// 9F40.
    pub additional_capabilities: [u8; 5],
    /// 9F1A, n3 as two BCD bytes.
    pub country_code: [u8; 2],
    /// 5F2A.
    pub currency_code: [u8; 2],
    /// 5F36.
    pub currency_exponent: u8,
    /// 9F1E, 8 characters.
    pub ifd_serial: [u8; 8],
    /// 9F15.
    pub merchant_category_code: [u8; 2],
    /// 9F16, 15 characters.
    pub merchant_id: [u8; 15],
    /// 9F1C, 8 characters.
    pub terminal_id: [u8; 8],
    /// Whether the cardholder can be asked to confirm an application (Book 1 §12.4).
    pub supports_cardholder_confirmation: bool,
}

impl TerminalParams {
    /// An attended online-capable UnionPay terminal: contact IC, magstripe and manual entry;
    /// plaintext and enciphered offline PIN, online PIN, signature, no CVM; SDA, DDA, CDA.
    pub fn unionpay_attended() -> TerminalParams {
        TerminalParams {
            terminal_type: 0x22,
            capabilities: [0xE0, 0xF8, 0xC8],
            additional_capabilities: [0x6F, 0x00, 0xF0, 0xF0, 0x01],
            country_code: [0x01, 0x56],
            currency_code: [0x01, 0x56],
            currency_exponent: 2,
            ifd_serial: *b"00000001",
            merchant_category_code: [0x53, 0x11],
            merchant_id: *b"000000000000000",
            terminal_id: *b"00000000",
            supports_cardholder_confirmation: true,
        }
    }

    /// Book 4 Annex A1: x1 attended online only, x2 attended offline with online capability,
    /// x3 attended offline only, x4–x6 the same unattended; x3 and x6 cannot go online.
    pub fn online_capable(&self) -> bool {
        matches!(self.terminal_type & 0x0F, 1 | 2 | 4 | 5)
    }

    /// Terminal types x4..x6 with cash are ATMs (Book 3 §10.4.2).
    pub fn is_atm(&self) -> bool {
        matches!(self.terminal_type, 0x14..=0x16) && self.additional_capabilities[0] & 0x80 != 0
    }

    pub fn supports_cda(&self) -> bool {
        self.capabilities[2] & 0x08 != 0
    }

    pub fn supports_dda(&self) -> bool {
        self.capabilities[2] & 0x40 != 0
    }

    pub fn supports_sda(&self) -> bool {
        self.capabilities[2] & 0x80 != 0
    }
}

/// One AID the terminal accepts and its risk parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AidParams {
    /// 9F06.
    #[serde(with = "hex_bytes")]
    pub aid: Vec<u8>,
    pub label: String,
    /// Whether a card AID that only starts with this one matches (Book 1 §12.3.1).
    pub partial_selection: bool,
    /// 9F09.
    pub application_version: [u8; 2],
    pub tac_default: [u8; 5],
    pub tac_denial: [u8; 5],
    pub tac_online: [u8; 5],
    /// 9F1B, in minor units.
    pub floor_limit_fen: u64,
    pub random_threshold_fen: u64,
    /// 0..=99.
    pub target_percent: u8,
    pub max_target_percent: u8,
    #[serde(with = "hex_bytes")]
    pub default_ddol: Vec<u8>,
    #[serde(with = "hex_bytes")]
    pub default_tdol: Vec<u8>,
}

mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode_upper(v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        hex::decode(text).map_err(serde::de::Error::custom)
    }
}

const DEFAULT_DDOL: &[u8] = &[0x9F, 0x37, 0x04];
/// Amount, currency, date, type, TVR, UN: the fields a TC hash usually covers.
const DEFAULT_TDOL: &[u8] = &[
    0x9F, 0x02, 0x06, 0x5F, 0x2A, 0x02, 0x9A, 0x03, 0x9C, 0x01, 0x95, 0x05, 0x9F, 0x37, 0x04,
];

#[allow(clippy::too_many_arguments)]
fn aid(
    aid: &[u8],
    label: &str,
    version: [u8; 2],
    default: [u8; 5],
    denial: [u8; 5],
    online: [u8; 5],
    floor_limit_fen: u64,
) -> AidParams {
    AidParams {
        aid: aid.to_vec(),
        label: label.to_owned(),
        partial_selection: true,
        application_version: version,
        tac_default: default,
        tac_denial: denial,
        tac_online: online,
        floor_limit_fen,
        random_threshold_fen: floor_limit_fen / 2,
        target_percent: 20,
        max_target_percent: 50,
        default_ddol: DEFAULT_DDOL.to_vec(),
        default_tdol: DEFAULT_TDOL.to_vec(),
    }
}

const UP_DEFAULT: [u8; 5] = [0xD8, 0x40, 0x00, 0xA8, 0x00];
const UP_DENIAL: [u8; 5] = [0x00, 0x10, 0x00, 0x00, 0x00];
const UP_ONLINE: [u8; 5] = [0xD8, 0x40, 0x04, 0xF8, 0x00];

/// The default AID table: UnionPay debit, credit, quasi-credit, electronic cash and the US
/// common debit AID, then Visa, Mastercard, JCB, American Express and Discover.
pub fn default_aids() -> Vec<AidParams> {
    let up = |suffix: u8, label: &str| {
        aid(
            &[0xA0, 0x00, 0x00, 0x03, 0x33, 0x01, 0x01, suffix],
            label,
            [0x00, 0x30],
            UP_DEFAULT,
            UP_DENIAL,
            UP_ONLINE,
            0,
        )
    };
    vec![
        up(0x01, "UnionPay Debit"),
        up(0x02, "UnionPay Credit"),
        up(0x03, "UnionPay Quasi-credit"),
        up(0x06, "UnionPay Electronic Cash"),
        up(0x08, "UnionPay US Debit"),
        aid(
            &[0xA0, 0x00, 0x00, 0x00, 0x03, 0x10, 0x10],
            "Visa",
            [0x00, 0x8C],
            [0xDC, 0x40, 0x00, 0xA8, 0x00],
            [0x00, 0x10, 0x00, 0x00, 0x00],
            [0xDC, 0x40, 0x04, 0xF8, 0x00],
            0,
        ),
        aid(
            &[0xA0, 0x00, 0x00, 0x00, 0x04, 0x10, 0x10],
            "Mastercard",
            [0x00, 0x02],
            [0xFC, 0x50, 0xBC, 0xA0, 0x00],
            [0x00, 0x00, 0x00, 0x00, 0x00],
            [0xFC, 0x50, 0xBC, 0xF8, 0x00],
            0,
        ),
        aid(
            &[0xA0, 0x00, 0x00, 0x00, 0x65, 0x10, 0x10],
            "JCB",
            [0x02, 0x00],
            [0xFC, 0x60, 0x24, 0x28, 0x00],
            [0x00, 0x10, 0x00, 0x00, 0x00],
            [0xFC, 0x60, 0xAC, 0xF8, 0x00],
            0,
        ),
        aid(
            &[0xA0, 0x00, 0x00, 0x00, 0x25, 0x01],
            "American Express",
            [0x00, 0x01],
            [0xDC, 0x50, 0xFC, 0x98, 0x00],
            [0x00, 0x10, 0x00, 0x00, 0x00],
            [0xDE, 0x00, 0xFC, 0x98, 0x00],
            0,
        ),
        aid(
            &[0xA0, 0x00, 0x00, 0x01, 0x52, 0x30, 0x10],
            "Discover",
            [0x00, 0x01],
            [0xDC, 0x00, 0x00, 0x20, 0x00],
            [0x00, 0x10, 0x00, 0x00, 0x00],
            [0xFC, 0xE0, 0x9C, 0xF8, 0x00],
            0,
        ),
    ]
}

/// The terminal's AID row matching a card AID: exact, or by prefix where the row allows
/// partial selection.
pub fn match_aid<'a>(table: &'a [AidParams], card_aid: &[u8]) -> Option<&'a AidParams> {
    table.iter().find(|p| p.aid == card_aid).or_else(|| {
        table.iter().find(|p| {
            p.partial_selection && card_aid.len() > p.aid.len() && card_aid.starts_with(&p.aid)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_the_brief_aids() {
        let t = default_aids();
        for a in [
            "A000000333010101",
            "A000000333010102",
            "A000000333010103",
            "A000000333010106",
            "A000000333010108",
            "A0000000031010",
            "A0000000041010",
            "A0000000651010",
            "A00000002501",
            "A0000001523010",
        ] {
            let aid = hex::decode(a).unwrap();
            assert!(t.iter().any(|p| p.aid == aid), "{a}");
        }
    }

    #[test]
    fn partial_match_and_serde_round_trip() {
        let t = default_aids();
        let card = hex::decode("A0000000031010FF01").unwrap();
        assert_eq!(match_aid(&t, &card).unwrap().label, "Visa");
        let json = serde_json::to_string(&t[0]).unwrap();
        assert!(json.contains("\"A000000333010101\""), "{json}");
        let back: AidParams = serde_json::from_str(&json).unwrap();
        assert_eq!(back, t[0]);
        let term = TerminalParams::unionpay_attended();
        assert!(term.online_capable() && term.supports_cda() && !term.is_atm());
        let offline_only = TerminalParams {
            terminal_type: 0x23,
            ..term.clone()
        };
        assert!(!offline_only.online_capable());
    }
}
