//! History the rules need, read from the journal before each check.

use serde::{Deserialize, Serialize};

use super::bundle::Bundle;
use super::context::{CardHash, RiskContext};

/// A snapshot of the journal's risk events. Counts exclude the transaction being checked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Counters {
    /// Approved today (local day) on this terminal, all methods.
    pub terminal_day_fen: u64,
    /// Approved today with this card.
    pub card_day_fen: u64,
    /// Approved today with this payment method (QR caps).
    pub method_day_fen: u64,
    /// Approvals on this card / terminal within the velocity window.
    pub card_window_count: u32,
    pub terminal_window_count: u32,
    /// Approvals on this card with this exact amount within the duplicate window.
    pub duplicate_count: u32,
    /// Fallbacks within the fallback window.
    pub card_fallbacks: u32,
    pub terminal_fallbacks: u32,
    /// Within the cash-out window, on this card: round amounts, just-below-limit amounts, and
    /// all approvals (count and sum) for the split-sale rule.
    pub card_round_count: u32,
    pub card_just_below_count: u32,
    pub card_recent_count: u32,
    pub card_recent_fen: u64,
    /// Offline approvals not yet uploaded (count and sum), and their sum for this card.
    pub offline_count: u32,
    pub offline_fen: u64,
    pub card_offline_fen: u64,
}

/// What the journal must count for one check: the windows come from the bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterQuery {
    pub card: Option<CardHash>,
    pub method: &'static str,
    pub amount_fen: u64,
    pub now: i64,
    pub day_start: i64,
    pub velocity_since: i64,
    pub duplicate_since: i64,
    pub fallback_since: i64,
    pub cash_out_since: i64,
    /// 0 = the round rule is off.
    pub round_unit_fen: u64,
    /// Amounts in `[low, high)` are "just below" the card maximum; low == high = off.
    pub just_below_low_fen: u64,
    pub just_below_high_fen: u64,
}

fn since(now: i64, secs: u64) -> i64 {
    now.saturating_sub(i64::try_from(secs).unwrap_or(i64::MAX))
}

impl CounterQuery {
    pub fn new(bundle: &Bundle, ctx: &RiskContext) -> CounterQuery {
        let now = ctx.terminal.unix_time;
        let (low, high) = just_below_band(bundle);
        CounterQuery {
            card: ctx.card.as_ref().map(|c| c.hash),
            method: ctx.method.as_str(),
            amount_fen: ctx.amount_fen,
            now,
            day_start: ctx.terminal.day_start(),
            velocity_since: since(now, bundle.velocity.window_secs),
            duplicate_since: since(now, bundle.duplicate.window_secs),
            fallback_since: since(now, bundle.fallback.window_secs),
            cash_out_since: since(now, bundle.cash_out.window_secs),
            round_unit_fen: bundle.cash_out.round_unit_fen,
            just_below_low_fen: low,
            just_below_high_fen: high,
        }
    }
}

/// The band of card amounts that counts as "just below the limit".
pub(crate) fn just_below_band(bundle: &Bundle) -> (u64, u64) {
    let max = bundle.limits.card.max_fen;
    let permille = u64::from(bundle.cash_out.just_below_permille);
    if max == 0 || permille == 0 || permille >= 1000 {
        return (0, 0);
    }
    (max.saturating_mul(permille).div_ceil(1000), max)
}

pub(crate) fn is_round(amount_fen: u64, unit: u64) -> bool {
    unit > 0 && amount_fen >= unit && amount_fen.is_multiple_of(unit)
}
