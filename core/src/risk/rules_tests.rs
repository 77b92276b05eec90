//! One row per rule: the context just below the rule's threshold passes the rule, the context at
//! the threshold is acted on. Thresholds are the bundle's; the expected figures are worked out
//! from the bundle by hand, not computed by the code under test.

use super::*;

/// 2026-11-26 12:00 China Standard Time (04:00 UTC).
const NOON: i64 = 1_795_665_600;
const AMOUNT: u64 = 10_000;

fn bundle() -> Bundle {
    let mut b = Bundle::built_in();
    b.relocation = Relocation {
        registered: Some(Position {
            lat: 31.2304,
            lon: 121.4737,
        }),
        radius_m: 500.0,
        registered_cell: Some("460-00-1234-5678".into()),
        block_on_cell_change: true,
    };
    b.offline = OfflineLimits {
        floor_limit_fen: 20_000,
        random_threshold_fen: 5_000,
        target_percent: 20,
        max_target_percent: 60,
        lcol: 3,
        ucol: 5,
        cumulative_max_fen: 100_000,
        cumulative_max_count: 10,
    };
    b
}

fn card() -> CardFacts {
    CardFacts {
        bin: "621700".into(),
        hash: CardHash(42),
        service_code: Some("201".into()),
        expiry_yymm: Some("3012".into()),
        fallback: false,
        luhn_ok: true,
        hot_listed: false,
        atc: Some(11),
        last_online_atc: Some(10),
    }
}

fn ctx() -> RiskContext {
    RiskContext {
        amount_fen: AMOUNT,
        method: Method::Card {
            entry: CardEntry::Chip,
        },
        card: Some(card()),
        terminal: TerminalFacts {
            unix_time: NOON,
            utc_offset_minutes: 480,
            position: Some(Position {
                lat: 31.2304,
                lon: 121.4737,
            }),
            cell_id: Some("460-00-1234-5678".into()),
            online: true,
            mcc: "5812".into(),
        },
        random_1_99: 99,
        offline_capable: false,
    }
}

type Setup = fn(&mut Bundle, &mut RiskContext, &mut Counters, bool);

struct Case {
    rule: RuleId,
    setup: Setup,
    acted: fn(&Decision) -> bool,
}

fn declined_by(rule: RuleId) -> impl Fn(&Decision) -> bool {
    move |d| d.is_decline() && d.rule == rule
}

fn c(rule: RuleId, setup: Setup) -> Case {
    Case {
        rule,
        setup,
        // Decline rows are judged by `declined_by(rule)`.
        acted: |_| false,
    }
}

fn card_mut(x: &mut RiskContext) -> &mut CardFacts {
    x.card.get_or_insert_with(card)
}

fn swiped_fallback(x: &mut RiskContext) {
    x.method = Method::Card {
        entry: CardEntry::Magstripe,
    };
    card_mut(x).fallback = true;
}

/// Metres north of the registered point: 1° of latitude is 111,195.08 m on the IUGG mean sphere.
fn north(x: &mut RiskContext, metres: f64) {
    x.terminal.position = Some(Position {
        lat: 31.2304 + metres / 111_195.08,
        lon: 121.4737,
    });
}

#[rustfmt::skip]
fn decline_cases() -> Vec<Case> {
    vec![
        c(RuleId::LuhnFailure, |_, x, _, at| card_mut(x).luhn_ok = !at),
        // Valid through the end of the expiry month (ISO/IEC 7813): Nov 2026 passes, Oct fails.
        c(RuleId::CardExpired, |_, x, _, at| card_mut(x).expiry_yymm = Some(if at { "2610" } else { "2611" }.into())),
        c(RuleId::HotCard, |_, x, _, at| card_mut(x).hot_listed = at),
        c(RuleId::ChipRequired, |_, x, _, at| {
            x.method = Method::Card { entry: CardEntry::Magstripe };
            card_mut(x).service_code = Some(if at { "201" } else { "101" }.into());
        }),
        c(RuleId::ChipRequired, |b, x, _, at| { swiped_fallback(x); b.fallback.allowed = !at; }),
        c(RuleId::TerminalRelocated, |_, x, _, at| north(x, if at { 510.0 } else { 490.0 })),
        c(RuleId::TerminalRelocated, |_, x, _, at| if at { x.terminal.cell_id = Some("460-00-9999-1".into()) }),
        c(RuleId::BelowMinimum, |b, x, _, at| { b.limits.card.min_fen = 100; x.amount_fen = if at { 99 } else { 100 }; }),
        c(RuleId::AboveMaximum, |b, x, _, at| x.amount_fen = b.limits.card.max_fen + u64::from(at)),
        c(RuleId::TerminalDailyLimit, |b, x, n, at| n.terminal_day_fen = b.daily.terminal_max_fen - x.amount_fen + u64::from(at)),
        c(RuleId::CardDailyLimit, |b, x, n, at| n.card_day_fen = b.daily.per_card_max_fen - x.amount_fen + u64::from(at)),
        c(RuleId::CardVelocity, |b, _, n, at| n.card_window_count = b.velocity.per_card_max - 1 + u32::from(at)),
        c(RuleId::TerminalVelocity, |b, _, n, at| n.terminal_window_count = b.velocity.per_terminal_max - 1 + u32::from(at)),
        c(RuleId::CardFallbackAbuse, |b, x, n, at| { swiped_fallback(x); n.card_fallbacks = b.fallback.per_card_max - 1 + u32::from(at); }),
        c(RuleId::TerminalFallbackAbuse, |b, x, n, at| { swiped_fallback(x); n.terminal_fallbacks = b.fallback.per_terminal_max - 1 + u32::from(at); }),
        // PBOC caps: static 500 yuan, dynamic 5,000 (grade A) / 1,000 (grade B) per day.
        c(RuleId::QrStaticDailyCap, |_, x, n, at| { x.method = Method::QrStatic; x.card = None; n.method_day_fen = 50_000 - AMOUNT + u64::from(at); }),
        c(RuleId::QrDynamicDailyCap, |_, x, n, at| { x.method = Method::QrDynamic { grade: QrGrade::A }; x.card = None; n.method_day_fen = 500_000 - AMOUNT + u64::from(at); }),
        c(RuleId::QrDynamicDailyCap, |_, x, n, at| { x.method = Method::QrDynamic { grade: QrGrade::B }; x.card = None; n.method_day_fen = 100_000 - AMOUNT + u64::from(at); }),
        // Default: the 3rd round amount (multiple of 1,000 yuan) within a day declines.
        c(RuleId::RoundAmountPattern, |_, x, n, at| { x.amount_fen = 100_000; n.card_round_count = 1 + u32::from(at); }),
        // Default band: 95% of the 50,000-yuan card maximum up to it; the 2nd such amount declines.
        c(RuleId::JustBelowLimitPattern, |_, x, n, at| { x.amount_fen = 4_750_001; n.card_just_below_count = u32::from(at); }),
        // Default: a 4th approval in the day whose sum reaches 50,000 yuan.
        c(RuleId::SplitSale, |_, x, n, at| { n.card_recent_count = 3; n.card_recent_fen = 5_000_000 - x.amount_fen - 1 + u64::from(at); }),
        c(RuleId::CreditAtLowFeeMerchant, |_, x, _, at| { card_mut(x).bin = "622588".into(); x.terminal.mcc = "5411".into(); x.amount_fen = 2_000_000 - 1 + u64::from(at); }),
    ]
}

#[test]
fn every_decline_rule_passes_below_and_acts_at_its_threshold() {
    let mut covered = Vec::new();
    for (i, case) in decline_cases().into_iter().enumerate() {
        let acted = declined_by(case.rule);
        for at in [false, true] {
            let (mut b, mut x, mut n) = (bundle(), ctx(), Counters::default());
            (case.setup)(&mut b, &mut x, &mut n, at);
            let d = evaluate(&b, &x, &n);
            assert_eq!(acted(&d), at, "case {i} {} at={at}: {d:?}", case.rule);
        }
        covered.push(case.rule);
    }
    for rule in RuleId::ALL {
        let elsewhere = matches!(
            rule,
            RuleId::None
                | RuleId::DuplicateSuspected
                | RuleId::NightLargeAmount
                | RuleId::StepUpThreshold
                | RuleId::OfflineFloorLimit
                | RuleId::OfflineRandomSelection
                | RuleId::OfflineVelocity
                | RuleId::OfflineCumulative
        );
        assert!(
            elsewhere || covered.contains(rule),
            "{rule} has no threshold test"
        );
    }
}

fn step_cases() -> Vec<Case> {
    vec![
        Case {
            rule: RuleId::DuplicateSuspected,
            setup: |_, _, n, at| n.duplicate_count = u32::from(at),
            acted: |d| d.verdict == Verdict::ConfirmWithOperator,
        },
        Case {
            // 01:00 local (17:00 UTC the day before); the default night is 00:00–06:00 and
            // "large" is 10,000 yuan.
            rule: RuleId::NightLargeAmount,
            setup: |_, x, _, at| {
                x.terminal.unix_time = NOON - 11 * 3600;
                x.amount_fen = 1_000_000 - 1 + u64::from(at);
            },
            acted: |d| {
                d.also.contains(&RuleId::NightLargeAmount) && d.requires(StepUp::ForceOnline)
            },
        },
        Case {
            // 06:00 is the first minute after the night window: only 05:59 is night.
            rule: RuleId::NightLargeAmount,
            setup: |_, x, _, at| {
                x.terminal.unix_time = NOON - 6 * 3600 - if at { 60 } else { 0 };
                x.amount_fen = 1_000_000;
            },
            acted: |d| d.also.contains(&RuleId::NightLargeAmount),
        },
        Case {
            rule: RuleId::StepUpThreshold,
            setup: |_, x, _, at| x.amount_fen = 500_000 - 1 + u64::from(at),
            acted: |d| d.requires(StepUp::RequirePin),
        },
        Case {
            rule: RuleId::StepUpThreshold,
            setup: |_, x, _, at| x.amount_fen = 30_000 - 1 + u64::from(at),
            acted: |d| d.requires(StepUp::RequireSignature),
        },
        Case {
            rule: RuleId::StepUpThreshold,
            setup: |b, x, _, at| {
                b.step_up.force_online_fen = 20_000;
                x.amount_fen = 20_000 - 1 + u64::from(at);
            },
            acted: |d| d.requires(StepUp::ForceOnline),
        },
        Case {
            // EMV 4.4 Book 3 §10.6.1: at or above the floor limit (200 yuan here) goes online.
            rule: RuleId::OfflineFloorLimit,
            setup: |_, x, _, at| {
                x.offline_capable = true;
                x.amount_fen = 20_000 - 1 + u64::from(at);
            },
            acted: |d| d.also.contains(&RuleId::OfflineFloorLimit),
        },
        Case {
            // §10.6.2: below the threshold, selected when random ≤ target percent (20).
            rule: RuleId::OfflineRandomSelection,
            setup: |_, x, _, at| {
                x.offline_capable = true;
                x.amount_fen = 1_000;
                x.random_1_99 = if at { 20 } else { 21 };
            },
            acted: |d| d.also == [RuleId::OfflineRandomSelection],
        },
        Case {
            // §10.6.3: ATC − last online ATC greater than LCOL (3).
            rule: RuleId::OfflineVelocity,
            setup: |_, x, _, at| {
                x.offline_capable = true;
                card_mut(x).atc = Some(13 + u16::from(at));
            },
            acted: |d| d.also.contains(&RuleId::OfflineVelocity),
        },
        Case {
            rule: RuleId::OfflineCumulative,
            setup: |_, x, n, at| {
                x.offline_capable = true;
                n.offline_fen = 100_000 - x.amount_fen + u64::from(at);
            },
            acted: |d| d.also.contains(&RuleId::OfflineCumulative),
        },
        Case {
            rule: RuleId::OfflineCumulative,
            setup: |_, x, n, at| {
                x.offline_capable = true;
                n.offline_count = 9 + u32::from(at);
            },
            acted: |d| d.also.contains(&RuleId::OfflineCumulative),
        },
    ]
}

#[test]
fn step_ups_and_the_duplicate_guard_act_at_their_thresholds() {
    for (i, case) in step_cases().into_iter().enumerate() {
        for at in [false, true] {
            let (mut b, mut x, mut n) = (bundle(), ctx(), Counters::default());
            (case.setup)(&mut b, &mut x, &mut n, at);
            let d = evaluate(&b, &x, &n);
            assert_eq!(
                (case.acted)(&d),
                at,
                "case {i} {} at={at}: {d:?}",
                case.rule
            );
            assert!(!d.is_decline(), "case {i}: {d:?}");
        }
    }
}

#[test]
fn the_base_context_is_allowed_and_pre_card_pass_skips_card_rules() {
    let d = evaluate(&bundle(), &ctx(), &Counters::default());
    assert_eq!(d.verdict, Verdict::Allow);
    assert_eq!(d.rule, RuleId::None);
    let mut x = ctx();
    x.card = None;
    let n = Counters {
        card_window_count: 1_000,
        duplicate_count: 3,
        ..Counters::default()
    };
    assert_eq!(evaluate(&bundle(), &x, &n).verdict, Verdict::Allow);
}

#[test]
fn just_below_band_starts_at_95_percent_of_the_card_maximum() {
    // 95% of 5,000,000 fen = 4,750,000: one fen under it is not "just below the limit".
    let n = Counters {
        card_just_below_count: 5,
        ..Counters::default()
    };
    let mut x = ctx();
    x.amount_fen = 4_749_999;
    assert_eq!(evaluate(&bundle(), &x, &n).rule, RuleId::StepUpThreshold);
    x.amount_fen = 4_750_000;
    assert_eq!(
        evaluate(&bundle(), &x, &n).rule,
        RuleId::JustBelowLimitPattern
    );
}

#[test]
fn relocation_blocks_cards_but_not_qr() {
    let mut x = ctx();
    north(&mut x, 5_000.0);
    assert_eq!(
        evaluate(&bundle(), &x, &Counters::default()).rule,
        RuleId::TerminalRelocated
    );
    x.method = Method::QrStatic;
    x.card = None;
    assert_eq!(
        evaluate(&bundle(), &x, &Counters::default()).verdict,
        Verdict::Allow
    );
}

#[test]
fn hot_list_lookup_happens_in_the_engine() {
    let mut engine = RiskEngine::new(&[0u8; 32]);
    engine.set_hot_list(HotList::from_hashes(1, [CardHash(42)]));
    let d = engine.check(ctx(), &Counters::default());
    assert_eq!(d.rule, RuleId::HotCard);
    assert!(d.is_decline());
    // A caller cannot clear the flag: the engine overwrites it from the list.
    let mut other = ctx();
    card_mut(&mut other).hash = CardHash(43);
    card_mut(&mut other).hot_listed = true;
    assert_eq!(
        engine.check(other, &Counters::default()).verdict,
        Verdict::Allow
    );
}

#[test]
fn distance_matches_a_known_baseline() {
    // Shanghai People's Square to Beijing Tiananmen, ≈ 1,067 km (great-circle, cross-checked
    // with geopy.distance.great_circle, mean radius 6,371.009 km).
    let d = rules::distance_m(
        Position {
            lat: 31.2304,
            lon: 121.4737,
        },
        Position {
            lat: 39.9042,
            lon: 116.4074,
        },
    );
    assert!((d - 1_067_000.0).abs() < 2_000.0, "{d}");
}

proptest::proptest! {
    #[test]
    fn same_inputs_same_decision(
        amount in 0u64..10_000_000,
        minute in 0i64..1440,
        random in 1u8..=99,
        offline in proptest::prelude::any::<bool>(),
        fallback in proptest::prelude::any::<bool>(),
        counts in proptest::collection::vec(0u32..20, 8),
        sums in proptest::collection::vec(0u64..60_000_000, 4),
    ) {
        let mut x = ctx();
        x.amount_fen = amount;
        x.terminal.unix_time = NOON + minute * 60;
        x.random_1_99 = random;
        x.offline_capable = offline;
        card_mut(&mut x).fallback = fallback;
        let n = Counters {
            terminal_day_fen: sums[0], card_day_fen: sums[1], method_day_fen: sums[2],
            card_recent_fen: sums[3],
            card_window_count: counts[0], terminal_window_count: counts[1],
            duplicate_count: counts[2], card_fallbacks: counts[3], terminal_fallbacks: counts[4],
            card_round_count: counts[5], card_just_below_count: counts[6], card_recent_count: counts[7],
            ..Counters::default()
        };
        let b = bundle();
        let first = evaluate(&b, &x, &n);
        proptest::prop_assert_eq!(&first, &evaluate(&b.clone(), &x.clone(), &n.clone()));
        proptest::prop_assert!(!first.merchant_en.is_empty());
    }
}
