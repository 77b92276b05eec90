//! The rule bundle: every threshold of every rule, versioned, as one JSON document.

use serde::{Deserialize, Serialize};

use super::context::Position;
use super::envelope::{self, EnvelopeError, Kind};
use super::keys::TrustedKeys;

/// Per-transaction bounds for one payment method, in fen. `max_fen == 0` means no maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmountRange {
    pub min_fen: u64,
    pub max_fen: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MethodLimits {
    pub card: AmountRange,
    pub qr_static: AmountRange,
    pub qr_dynamic: AmountRange,
}

/// Cumulative limits per local day. Zero disables a limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DailyLimits {
    pub terminal_max_fen: u64,
    pub per_card_max_fen: u64,
}

/// Transactions allowed within a sliding window (the one being checked included).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Velocity {
    pub window_secs: u64,
    pub per_card_max: u32,
    pub per_terminal_max: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DuplicateGuard {
    /// Same card and same amount approved within this many seconds needs the operator.
    pub window_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FallbackPolicy {
    /// Whether a chip card may be swiped after its chip failed at all.
    pub allowed: bool,
    pub window_secs: u64,
    /// Fallbacks (this one included) allowed per card / per terminal within the window.
    pub per_card_max: u32,
    pub per_terminal_max: u32,
}

/// PBOC barcode-payment caps per payer and day (Yinfa [2017] No. 296): static codes 500 yuan;
/// dynamic codes 5,000 yuan (grade A) or 1,000 yuan (grade B).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QrCaps {
    pub static_daily_fen: u64,
    pub dynamic_grade_a_daily_fen: u64,
    pub dynamic_grade_b_daily_fen: u64,
}

/// Large amounts between `start_minute` and `end_minute` (local, may wrap midnight).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NightRule {
    pub start_minute: u32,
    pub end_minute: u32,
    pub large_fen: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CashOutRules {
    pub window_secs: u64,
    /// An amount that is a multiple of this and at least this is "round".
    pub round_unit_fen: u64,
    /// Round amounts on one card within the window (this one included) that trigger the rule.
    pub round_max: u32,
    /// "Just below" = at least this per-mille of the card maximum but under it.
    pub just_below_permille: u32,
    pub just_below_max: u32,
    /// Approvals on one card within the window, this one included, that count as a split sale…
    pub split_count: u32,
    /// …when their sum reaches this amount.
    pub split_total_fen: u64,
    /// BIN prefixes of credit cards.
    pub credit_bins: Vec<String>,
    /// Merchant categories with low interchange fees (e.g. 5411 supermarkets, 4900 utilities).
    pub low_fee_mccs: Vec<String>,
    pub credit_low_fee_large_fen: u64,
}

/// Where the terminal was registered. `radius_m == 0` disables the distance check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Relocation {
    pub registered: Option<Position>,
    pub radius_m: f64,
    pub registered_cell: Option<String>,
    pub block_on_cell_change: bool,
}

/// Amount thresholds that change the flow. Zero disables a step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepUps {
    pub force_online_fen: u64,
    pub require_pin_fen: u64,
    pub require_signature_fen: u64,
}

/// EMV terminal risk management for offline approvals (EMV 4.4 Book 3 §10.6), plus the
/// terminal's own cap on what it holds unsent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfflineLimits {
    /// Terminal floor limit (tag 9F1B).
    pub floor_limit_fen: u64,
    /// Threshold value for biased random selection.
    pub random_threshold_fen: u64,
    /// Target and maximum target percentages, 0..=99.
    pub target_percent: u8,
    pub max_target_percent: u8,
    /// Lower / upper consecutive offline limits (tags 9F14 / 9F23).
    pub lcol: u16,
    pub ucol: u16,
    pub cumulative_max_fen: u64,
    pub cumulative_max_count: u32,
}

/// Every configurable threshold. Rules read only this and the context.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    /// Strictly increasing; a bundle not newer than the active one is a replay.
    pub version: u64,
    pub limits: MethodLimits,
    pub daily: DailyLimits,
    pub velocity: Velocity,
    pub duplicate: DuplicateGuard,
    pub fallback: FallbackPolicy,
    pub qr: QrCaps,
    pub night: NightRule,
    pub cash_out: CashOutRules,
    pub relocation: Relocation,
    pub step_up: StepUps,
    pub offline: OfflineLimits,
}

/// The built-in bundle, compiled into the binary. It is trusted because it ships with the code
/// (it carries no signature); anything loaded at run time must be signed by the configured key.
pub const DEFAULT_BUNDLE_JSON: &str = include_str!("default_bundle.json");

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    #[error("bundle body is not a valid rule bundle: {0}")]
    Body(String),
    #[error("bundle is invalid: {0}")]
    Invalid(String),
    #[error("bundle version {offered} is not newer than the active version {active} (replay)")]
    NotNewer { offered: u64, active: u64 },
    /// The journal records a newer bundle whose stored copy could not be restored at open: the
    /// terminal runs the built-in rules, but an older signed bundle is still a rollback.
    #[error(
        "bundle version {offered} is older than version {recorded}, the last one the journal \
         recorded (rollback)"
    )]
    BelowRecorded { offered: u64, recorded: u64 },
}

impl Bundle {
    /// The built-in bundle.
    pub fn built_in() -> Bundle {
        // The JSON is part of the source and a test parses it; a broken edit fails CI, and
        // at run time an unreadable built-in falls back to the hand-written strict defaults.
        Bundle::from_json(DEFAULT_BUNDLE_JSON.as_bytes()).unwrap_or_else(|_| Bundle::strict())
    }

    pub fn from_json(body: &[u8]) -> Result<Bundle, BundleError> {
        let b: Bundle =
            serde_json::from_slice(body).map_err(|e| BundleError::Body(e.to_string()))?;
        b.validate()?;
        Ok(b)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Parses a signed bundle envelope and checks its signature with the trusted key it names.
    pub fn from_signed(bytes: &[u8], trusted: &TrustedKeys) -> Result<Bundle, BundleError> {
        let opened = envelope::open(bytes, Kind::Bundle, trusted)?;
        Bundle::from_json(opened.body)
    }

    fn validate(&self) -> Result<(), BundleError> {
        // The journal keeps the version in a signed 64-bit column.
        if i64::try_from(self.version).is_err() {
            return Err(BundleError::Invalid("version must be below 2^63".into()));
        }
        let o = &self.offline;
        if o.target_percent > 99 || o.max_target_percent > 99 {
            return Err(BundleError::Invalid(
                "offline target percentages must be 0..=99".into(),
            ));
        }
        if o.target_percent > o.max_target_percent {
            return Err(BundleError::Invalid(
                "offline target percent above the maximum target percent".into(),
            ));
        }
        if o.random_threshold_fen > o.floor_limit_fen {
            return Err(BundleError::Invalid(
                "offline random-selection threshold above the floor limit".into(),
            ));
        }
        if self.night.start_minute >= 1440 || self.night.end_minute >= 1440 {
            return Err(BundleError::Invalid(
                "night minutes must be below 1440".into(),
            ));
        }
        if !self.relocation.radius_m.is_finite() || self.relocation.radius_m < 0.0 {
            return Err(BundleError::Invalid(
                "relocation radius must be a finite, non-negative number".into(),
            ));
        }
        if let Some(why) = self.contradiction() {
            return Err(BundleError::Invalid(format!("inconsistent limits: {why}")));
        }
        Ok(())
    }

    /// The first contradiction among the limits: a method's minimum above its maximum, a card's
    /// daily limit above the terminal's, a terminal daily limit no card payment fits. `None`
    /// when they agree. (A maximum of zero means none, so it never contradicts a minimum.)
    fn contradiction(&self) -> Option<String> {
        for (method, r) in [
            ("card", &self.limits.card),
            ("qr_static", &self.limits.qr_static),
            ("qr_dynamic", &self.limits.qr_dynamic),
        ] {
            if r.max_fen != 0 && r.min_fen > r.max_fen {
                return Some(format!(
                    "limits.{method}: min_fen {} is above max_fen {}",
                    r.min_fen, r.max_fen
                ));
            }
        }
        let d = &self.daily;
        if d.terminal_max_fen != 0 && d.per_card_max_fen > d.terminal_max_fen {
            return Some(format!(
                "daily.per_card_max_fen {} is above daily.terminal_max_fen {}",
                d.per_card_max_fen, d.terminal_max_fen
            ));
        }
        let card = &self.limits.card;
        if card.max_fen != 0
            && card.min_fen > 0
            && d.terminal_max_fen != 0
            && d.terminal_max_fen < card.min_fen
        {
            return Some(format!(
                "daily.terminal_max_fen {} is below limits.card.min_fen {}: no card payment fits",
                d.terminal_max_fen, card.min_fen
            ));
        }
        None
    }

    /// Hand-written fallback: everything online, small limits. Only used if the built-in JSON
    /// were unreadable, which a test rules out.
    fn strict() -> Bundle {
        let r = AmountRange {
            min_fen: 1,
            max_fen: 100_000,
        };
        Bundle {
            version: 0,
            limits: MethodLimits {
                card: r,
                qr_static: r,
                qr_dynamic: r,
            },
            daily: DailyLimits {
                terminal_max_fen: 1_000_000,
                per_card_max_fen: 100_000,
            },
            velocity: Velocity {
                window_secs: 600,
                per_card_max: 3,
                per_terminal_max: 30,
            },
            duplicate: DuplicateGuard { window_secs: 300 },
            fallback: FallbackPolicy {
                allowed: false,
                window_secs: 86_400,
                per_card_max: 1,
                per_terminal_max: 1,
            },
            qr: QrCaps {
                static_daily_fen: 50_000,
                dynamic_grade_a_daily_fen: 500_000,
                dynamic_grade_b_daily_fen: 100_000,
            },
            night: NightRule {
                start_minute: 0,
                end_minute: 0,
                large_fen: 0,
            },
            cash_out: CashOutRules {
                window_secs: 86_400,
                round_unit_fen: 0,
                round_max: 0,
                just_below_permille: 0,
                just_below_max: 0,
                split_count: 0,
                split_total_fen: 0,
                credit_bins: Vec::new(),
                low_fee_mccs: Vec::new(),
                credit_low_fee_large_fen: 0,
            },
            relocation: Relocation {
                registered: None,
                radius_m: 0.0,
                registered_cell: None,
                block_on_cell_change: false,
            },
            step_up: StepUps {
                force_online_fen: 1,
                require_pin_fen: 1,
                require_signature_fen: 0,
            },
            offline: OfflineLimits {
                floor_limit_fen: 0,
                random_threshold_fen: 0,
                target_percent: 99,
                max_target_percent: 99,
                lcol: 0,
                ucol: 0,
                cumulative_max_fen: 0,
                cumulative_max_count: 0,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_bundle_parses_and_round_trips() {
        let b = Bundle::from_json(DEFAULT_BUNDLE_JSON.as_bytes()).unwrap();
        assert_eq!(Bundle::from_json(b.to_json().as_bytes()).unwrap(), b);
        // The PBOC barcode caps are the documented defaults (Yinfa [2017] No. 296, art. 4).
        assert_eq!(b.qr.static_daily_fen, 50_000);
        assert_eq!(b.qr.dynamic_grade_a_daily_fen, 500_000);
        assert_eq!(b.qr.dynamic_grade_b_daily_fen, 100_000);
        Bundle::strict().validate().unwrap();
    }

    #[test]
    fn inconsistent_bundles_are_rejected_with_reason() {
        let mut b = Bundle::built_in();
        b.offline.target_percent = 80;
        b.offline.max_target_percent = 50;
        let e = Bundle::from_json(b.to_json().as_bytes()).unwrap_err();
        assert!(e.to_string().contains("maximum target"), "{e}");
        let e = Bundle::from_json(br#"{"version":1}"#).unwrap_err();
        assert!(matches!(e, BundleError::Body(_)), "{e}");
    }

    /// Limits that contradict each other would decline every payment of a method: refused
    /// wherever a bundle is parsed (signing tool, terminal, journal restore), not only at signing.
    #[test]
    fn contradictory_limits_are_refused_by_every_reader() {
        let mut b = Bundle::built_in();
        b.limits.card.min_fen = 5_000;
        b.limits.card.max_fen = 1_000;
        let e = Bundle::from_json(b.to_json().as_bytes()).unwrap_err();
        assert!(
            e.to_string()
                .contains("limits.card: min_fen 5000 is above max_fen 1000"),
            "{e}"
        );
        let mut b = Bundle::built_in();
        b.daily.per_card_max_fen = b.daily.terminal_max_fen + 1;
        let e = Bundle::from_json(b.to_json().as_bytes()).unwrap_err();
        assert!(e.to_string().contains("daily.per_card_max_fen"), "{e}");
        // No maximum (zero) never contradicts a minimum.
        let mut b = Bundle::built_in();
        b.limits.qr_static.max_fen = 0;
        b.limits.qr_static.min_fen = 1;
        assert!(Bundle::from_json(b.to_json().as_bytes()).is_ok());
    }
}
