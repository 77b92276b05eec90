//! What the engine looks at: the payment, the card (never its PAN), the terminal and its history.

use ring::hmac;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::card::Pan;

/// How the customer pays. QR grades follow the PBOC barcode-payment rules: the wallet tells the
/// acquirer how strongly the payer is verified, which sets the daily cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
#[non_exhaustive]
pub enum Method {
    Card { entry: CardEntry },
    QrStatic,
    QrDynamic { grade: QrGrade },
}

impl Method {
    /// Stable name kept in the journal's risk events.
    pub fn as_str(&self) -> &'static str {
        match self {
            Method::Card { .. } => "card",
            Method::QrStatic => "qr_static",
            Method::QrDynamic { .. } => "qr_dynamic",
        }
    }

    pub fn is_card(&self) -> bool {
        matches!(self, Method::Card { .. })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CardEntry {
    Magstripe,
    Chip,
    Contactless,
    Manual,
}

/// Payer verification grade of a dynamic (customer-presented) payment code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QrGrade {
    /// Verified with digital certificate or several factors: the higher cap.
    A,
    /// Verified with fewer factors: the lower cap.
    B,
}

/// A salted fingerprint of a PAN: the first 8 bytes of HMAC-SHA256(salt, PAN digits). The salt is
/// provisioned per fleet with the hot list, so a fingerprint neither reveals the PAN nor links
/// cards across fleets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CardHash(pub u64);

impl CardHash {
    pub fn to_bytes(self) -> [u8; 8] {
        self.0.to_be_bytes()
    }
}

/// The HMAC key behind [`CardHash`]. Secret: `Debug` is redacted and the bytes are zeroized.
pub struct CardHashKey {
    key: hmac::Key,
    _raw: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for CardHashKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CardHashKey([redacted])")
    }
}

impl CardHashKey {
    pub fn new(salt: &[u8]) -> CardHashKey {
        CardHashKey {
            key: hmac::Key::new(hmac::HMAC_SHA256, salt),
            _raw: Zeroizing::new(salt.to_vec()),
        }
    }

    pub fn hash(&self, pan: &Pan) -> CardHash {
        let tag = hmac::sign(&self.key, pan.expose_digits().as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&tag.as_ref()[..8]);
        CardHash(u64::from_be_bytes(first))
    }
}

/// Card facts, read before the host is called. No PAN, no track data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardFacts {
    /// 6-digit BIN.
    pub bin: String,
    pub hash: CardHash,
    /// Three digits from track 2 / tag 5F30, if the card gave one.
    pub service_code: Option<String>,
    /// YYMM from track 2 / tag 5F24.
    pub expiry_yymm: Option<String>,
    /// The chip failed and the card was swiped (field 60.5 = 2).
    pub fallback: bool,
    pub luhn_ok: bool,
    /// Filled by [`super::RiskEngine`] from the hot list; a caller's value is overwritten.
    #[serde(default)]
    pub hot_listed: bool,
    /// EMV ATC (9F36) and last online ATC (9F13), when a chip kernel read them.
    #[serde(default)]
    pub atc: Option<u16>,
    #[serde(default)]
    pub last_online_atc: Option<u16>,
}

impl CardFacts {
    /// Facts from a PAN; the PAN itself stays with the caller.
    pub fn from_pan(key: &CardHashKey, pan: &Pan) -> CardFacts {
        CardFacts {
            bin: pan.bin().six().to_owned(),
            hash: key.hash(pan),
            service_code: None,
            expiry_yymm: None,
            fallback: false,
            luhn_ok: matches!(pan.luhn(), crate::card::LuhnCheck::Valid),
            hot_listed: false,
            atc: None,
            last_online_atc: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Position {
    pub lat: f64,
    pub lon: f64,
}

/// China Standard Time (UTC+8): daily limits and the night rule run on the merchant's clock.
pub const CHINA_UTC_OFFSET_MINUTES: i32 = 480;

/// Terminal facts at the time of the check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TerminalFacts {
    /// Seconds since the Unix epoch.
    pub unix_time: i64,
    /// Offset of local time from UTC (China Standard Time: 480).
    pub utc_offset_minutes: i32,
    pub position: Option<Position>,
    pub cell_id: Option<String>,
    /// The network link is up (a `None` port counts as up: the host call will tell).
    pub online: bool,
    /// Merchant category code (ISO 18245).
    pub mcc: String,
}

impl TerminalFacts {
    pub(crate) fn local_seconds(&self) -> i64 {
        self.unix_time
            .saturating_add(i64::from(self.utc_offset_minutes) * 60)
    }

    /// Minutes since local midnight.
    pub fn local_minute_of_day(&self) -> u32 {
        (self.local_seconds().rem_euclid(86_400) / 60) as u32
    }

    /// Unix time of the last local midnight: where daily counters start.
    pub fn day_start(&self) -> i64 {
        self.unix_time - self.local_seconds().rem_euclid(86_400)
    }
}

/// Everything [`super::evaluate`] decides on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskContext {
    pub amount_fen: u64,
    pub method: Method,
    /// `None` before the card is read (the first pass) and for QR payments.
    pub card: Option<CardFacts>,
    pub terminal: TerminalFacts,
    /// 1..=99 from the terminal's random source, for EMV random transaction selection. Drawn by
    /// the caller so that `evaluate` stays a pure function.
    pub random_1_99: u8,
    /// The flow could approve offline (a chip kernel with offline capability); only then does
    /// EMV terminal risk management apply.
    #[serde(default)]
    pub offline_capable: bool,
}
