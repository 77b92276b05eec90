//! The rules, evaluated in a fixed order: declines first (the first one found decides), then the
//! duplicate guard, then step-ups (all of them collected).

use super::bundle::{AmountRange, Bundle};
use super::context::{Method, QrGrade, RiskContext};
use super::counters::{Counters, is_round, just_below_band};
use super::decision::{Decision, RuleId, StepUp, Verdict};
use super::offline;
use crate::card::{Expiry, ServiceCode, YearMonth};

/// Decides on `ctx` with `bundle` and the journal's `counters`. Pure: the same inputs always give
/// the same decision (randomness comes in through `ctx.random_1_99`).
pub fn evaluate(bundle: &Bundle, ctx: &RiskContext, counters: &Counters) -> Decision {
    if let Some(rule) = decline_rule(bundle, ctx, counters) {
        return Decision::of(Verdict::Decline, rule);
    }
    if ctx.card.is_some() && bundle.duplicate.window_secs > 0 && counters.duplicate_count > 0 {
        return Decision::of(Verdict::ConfirmWithOperator, RuleId::DuplicateSuspected);
    }
    step_ups(bundle, ctx, counters)
}

fn decline_rule(b: &Bundle, ctx: &RiskContext, c: &Counters) -> Option<RuleId> {
    let amount = ctx.amount_fen;
    if let Some(card) = &ctx.card {
        if !card.luhn_ok {
            return Some(RuleId::LuhnFailure);
        }
        if expired(card.expiry_yymm.as_deref(), ctx) {
            return Some(RuleId::CardExpired);
        }
        if card.hot_listed {
            return Some(RuleId::HotCard);
        }
        if card.fallback && !b.fallback.allowed {
            return Some(RuleId::ChipRequired);
        }
        if swiped_chip_card(ctx) && !card.fallback {
            return Some(RuleId::ChipRequired);
        }
    }
    if ctx.method.is_card() && relocated(b, ctx) {
        return Some(RuleId::TerminalRelocated);
    }
    let range = method_range(b, &ctx.method);
    if amount < range.min_fen {
        return Some(RuleId::BelowMinimum);
    }
    if range.max_fen > 0 && amount > range.max_fen {
        return Some(RuleId::AboveMaximum);
    }
    if over(b.daily.terminal_max_fen, c.terminal_day_fen, amount) {
        return Some(RuleId::TerminalDailyLimit);
    }
    if let Some(rule) = qr_cap(b, ctx, c) {
        return Some(rule);
    }
    if b.velocity.per_terminal_max > 0 && c.terminal_window_count >= b.velocity.per_terminal_max {
        return Some(RuleId::TerminalVelocity);
    }
    let card = ctx.card.as_ref()?;
    if over(b.daily.per_card_max_fen, c.card_day_fen, amount) {
        return Some(RuleId::CardDailyLimit);
    }
    if b.velocity.per_card_max > 0 && c.card_window_count >= b.velocity.per_card_max {
        return Some(RuleId::CardVelocity);
    }
    if card.fallback {
        if reached(b.fallback.per_card_max, c.card_fallbacks) {
            return Some(RuleId::CardFallbackAbuse);
        }
        if reached(b.fallback.per_terminal_max, c.terminal_fallbacks) {
            return Some(RuleId::TerminalFallbackAbuse);
        }
    }
    cash_out_rule(b, ctx, c)
}

/// `max` counts this transaction too: with `before` already in the window, this one would be
/// number `before + 1`.
fn reached(max: u32, before: u32) -> bool {
    max > 0 && before >= max
}

/// A cumulative limit (0 = off) that `amount` on top of `so_far` would pass.
fn over(max: u64, so_far: u64, amount: u64) -> bool {
    max > 0 && so_far.saturating_add(amount) > max
}

fn method_range(b: &Bundle, method: &Method) -> AmountRange {
    match method {
        Method::Card { .. } => b.limits.card,
        Method::QrStatic => b.limits.qr_static,
        Method::QrDynamic { .. } => b.limits.qr_dynamic,
    }
}

fn expired(yymm: Option<&str>, ctx: &RiskContext) -> bool {
    let Some(expiry) = yymm.and_then(|s| Expiry::parse(s).ok()) else {
        return false;
    };
    let secs = u64::try_from(ctx.terminal.unix_time).unwrap_or(0);
    let now = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
    expiry.is_expired(YearMonth::from_system_time(
        now,
        ctx.terminal.utc_offset_minutes,
    ))
}

/// A chip card read from its magstripe without the chip having failed: it must use the chip.
fn swiped_chip_card(ctx: &RiskContext) -> bool {
    let swiped = matches!(
        ctx.method,
        Method::Card {
            entry: super::CardEntry::Magstripe
        }
    );
    let chip = ctx
        .card
        .as_ref()
        .and_then(|c| c.service_code.as_deref())
        .and_then(|s| ServiceCode::parse(s).ok())
        .is_some_and(|s| s.is_chip_card());
    swiped && chip
}

/// Great-circle distance in metres (haversine, mean Earth radius 6,371,008.8 m per IUGG).
pub(crate) fn distance_m(a: super::Position, b: super::Position) -> f64 {
    const R: f64 = 6_371_008.8;
    let (la1, la2) = (a.lat.to_radians(), b.lat.to_radians());
    let dlat = la2 - la1;
    let dlon = (b.lon - a.lon).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * R * h.sqrt().min(1.0).asin()
}

fn relocated(b: &Bundle, ctx: &RiskContext) -> bool {
    let r = &b.relocation;
    if let (Some(home), Some(here)) = (r.registered, ctx.terminal.position)
        && r.radius_m > 0.0
        && distance_m(home, here) > r.radius_m
    {
        return true;
    }
    match (&r.registered_cell, &ctx.terminal.cell_id) {
        (Some(home), Some(here)) => r.block_on_cell_change && home != here,
        _ => false,
    }
}

fn qr_cap(b: &Bundle, ctx: &RiskContext, c: &Counters) -> Option<RuleId> {
    let (cap, rule) = match ctx.method {
        Method::QrStatic => (b.qr.static_daily_fen, RuleId::QrStaticDailyCap),
        Method::QrDynamic { grade: QrGrade::A } => {
            (b.qr.dynamic_grade_a_daily_fen, RuleId::QrDynamicDailyCap)
        }
        Method::QrDynamic { grade: QrGrade::B } => {
            (b.qr.dynamic_grade_b_daily_fen, RuleId::QrDynamicDailyCap)
        }
        Method::Card { .. } => return None,
    };
    over(cap, c.method_day_fen, ctx.amount_fen).then_some(rule)
}

fn cash_out_rule(b: &Bundle, ctx: &RiskContext, c: &Counters) -> Option<RuleId> {
    let co = &b.cash_out;
    let amount = ctx.amount_fen;
    if is_round(amount, co.round_unit_fen)
        && co.round_max > 0
        && c.card_round_count + 1 >= co.round_max
    {
        return Some(RuleId::RoundAmountPattern);
    }
    let (low, high) = just_below_band(b);
    if (low..high).contains(&amount)
        && co.just_below_max > 0
        && c.card_just_below_count + 1 >= co.just_below_max
    {
        return Some(RuleId::JustBelowLimitPattern);
    }
    if co.split_count > 0
        && c.card_recent_count + 1 >= co.split_count
        && c.card_recent_fen.saturating_add(amount) >= co.split_total_fen
    {
        return Some(RuleId::SplitSale);
    }
    let card = ctx.card.as_ref()?;
    let credit = co
        .credit_bins
        .iter()
        .any(|p| card.bin.starts_with(p.as_str()));
    let low_fee = co.low_fee_mccs.contains(&ctx.terminal.mcc);
    (credit && low_fee && co.credit_low_fee_large_fen > 0 && amount >= co.credit_low_fee_large_fen)
        .then_some(RuleId::CreditAtLowFeeMerchant)
}

fn in_night(b: &Bundle, minute: u32) -> bool {
    let (s, e) = (b.night.start_minute, b.night.end_minute);
    if s <= e {
        (s..e).contains(&minute)
    } else {
        minute >= s || minute < e
    }
}

fn step_ups(b: &Bundle, ctx: &RiskContext, c: &Counters) -> Decision {
    let amount = ctx.amount_fen;
    let mut asked: Vec<(RuleId, StepUp)> = Vec::new();
    let at = |threshold: u64| threshold > 0 && amount >= threshold;
    if b.night.large_fen > 0
        && amount >= b.night.large_fen
        && in_night(b, ctx.terminal.local_minute_of_day())
    {
        asked.push((RuleId::NightLargeAmount, StepUp::RequirePin));
        asked.push((RuleId::NightLargeAmount, StepUp::ForceOnline));
    }
    if ctx.method.is_card() {
        if at(b.step_up.force_online_fen) {
            asked.push((RuleId::StepUpThreshold, StepUp::ForceOnline));
        }
        if at(b.step_up.require_pin_fen) {
            asked.push((RuleId::StepUpThreshold, StepUp::RequirePin));
        }
        if at(b.step_up.require_signature_fen) {
            asked.push((RuleId::StepUpThreshold, StepUp::RequireSignature));
        }
    }
    if let (Some(card), true) = (&ctx.card, ctx.offline_capable) {
        let o = &b.offline;
        let trm = offline::assess(
            o,
            amount,
            c.card_offline_fen,
            ctx.random_1_99,
            card.atc,
            card.last_online_atc,
        );
        let online = [
            (trm.floor_limit_exceeded, RuleId::OfflineFloorLimit),
            (trm.randomly_selected, RuleId::OfflineRandomSelection),
            (
                trm.lower_consecutive_exceeded || trm.upper_consecutive_exceeded,
                RuleId::OfflineVelocity,
            ),
            (
                over(o.cumulative_max_fen, c.offline_fen, amount)
                    || reached(o.cumulative_max_count, c.offline_count),
                RuleId::OfflineCumulative,
            ),
        ];
        for (hit, rule) in online {
            if hit {
                asked.push((rule, StepUp::ForceOnline));
            }
        }
    }
    let Some(&(first, _)) = asked.first() else {
        return Decision::allow();
    };
    let mut steps: Vec<StepUp> = Vec::new();
    let mut rules: Vec<RuleId> = Vec::new();
    for (rule, step) in asked {
        if !steps.contains(&step) {
            steps.push(step);
        }
        if !rules.contains(&rule) {
            rules.push(rule);
        }
    }
    let mut d = Decision::of(Verdict::StepUp(steps), first);
    d.also = rules;
    d
}
