//! A risk decline as the terminal reports it: a [`Termination`] with cause Risk whose merchant
//! texts name the rule. Shared by the card flows and the QR session.

use crate::diag::{PaymentMethod, Remedy, Termination, TerminationCode as Code};

use super::bundle::Bundle;
use super::decision::{Decision, RuleId};

/// The termination for a declined (or unconfirmed) decision.
pub fn termination(d: &Decision) -> Termination {
    let code = match d.rule {
        RuleId::LuhnFailure | RuleId::CardExpired => Code::RiskCardCheck,
        RuleId::HotCard => Code::RiskHotCard,
        RuleId::ChipRequired => Code::RiskChipRequired,
        RuleId::TerminalRelocated => Code::RiskRelocated,
        RuleId::BelowMinimum
        | RuleId::AboveMaximum
        | RuleId::TerminalDailyLimit
        | RuleId::CardDailyLimit
        | RuleId::QrStaticDailyCap
        | RuleId::QrDynamicDailyCap => Code::RiskLimit,
        RuleId::CardVelocity
        | RuleId::TerminalVelocity
        | RuleId::CardFallbackAbuse
        | RuleId::TerminalFallbackAbuse => Code::RiskVelocity,
        RuleId::RoundAmountPattern
        | RuleId::JustBelowLimitPattern
        | RuleId::SplitSale
        | RuleId::CreditAtLowFeeMerchant => Code::RiskCashOut,
        RuleId::DuplicateSuspected => Code::RiskDuplicate,
        _ => Code::RiskLocal,
    };
    let mut t = Termination::new(code);
    t.merchant_zh = format!("{}：{}（{}）", t.merchant_zh, d.merchant_zh, d.rule);
    t.merchant_en = format!("{}: {} ({})", t.merchant_en, d.merchant_en, d.rule);
    t
}

/// Whether a QR payment of `amount_fen` could pass `bundle`'s QR limits at all: within the
/// dynamic-QR per-payment maximum and the larger of the PBOC day caps. Whether one does depends
/// on the day's QR total and the payer's grade; this only rules out the certain refusals.
pub fn qr_could_take(bundle: &Bundle, amount_fen: u64) -> bool {
    let per_payment = bundle.limits.qr_dynamic.max_fen;
    let day_cap = bundle
        .qr
        .dynamic_grade_a_daily_fen
        .max(bundle.qr.dynamic_grade_b_daily_fen);
    (per_payment == 0 || amount_fen <= per_payment) && (day_cap == 0 || amount_fen <= day_cap)
}

/// As [`termination`], for a card payment of `amount_fen`: the catalog's "pay by QR" is offered
/// only when QR could take that amount; otherwise the customer is pointed to cash rather than to
/// a second refusal.
pub fn card_termination(d: &Decision, bundle: &Bundle, amount_fen: u64) -> Termination {
    let mut t = termination(d);
    if !qr_could_take(bundle, amount_fen) {
        t.remedies.retain(|r| *r != Remedy::UseQr);
        if matches!(
            t.alternative,
            Some(PaymentMethod::QrCustomerPresented | PaymentMethod::QrMerchantPresented)
        ) {
            t.alternative = Some(PaymentMethod::Cash);
        }
    }
    t
}

/// As [`termination`], for a QR payment: the catalog's "use QR instead" advice would send the
/// customer back to what was just refused, so a card is offered instead.
pub fn qr_termination(d: &Decision) -> Termination {
    let mut t = termination(d);
    t.remedies.retain(|r| *r != Remedy::UseQr);
    if !t.remedies.contains(&Remedy::UseAnotherCard) {
        t.remedies.push(Remedy::UseAnotherCard);
    }
    t.alternative = Some(PaymentMethod::CardChip);
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Cause;
    use crate::risk::{NeutralMessage, Verdict};

    fn decline(rule: RuleId) -> Decision {
        Decision {
            verdict: Verdict::Decline,
            rule,
            also: Vec::new(),
            merchant_zh: rule.merchant_zh(),
            merchant_en: rule.merchant_en(),
            cardholder: NeutralMessage { zh: "", en: "" },
        }
    }

    #[test]
    fn every_decline_maps_to_a_risk_code_naming_the_rule() {
        for rule in RuleId::ALL {
            let t = termination(&decline(*rule));
            assert_eq!(t.cause, Cause::Risk, "{rule}");
            assert!(t.merchant_en.contains(rule.as_str()), "{}", t.merchant_en);
            assert!(!t.cardholder_en.to_lowercase().contains("risk"));
        }
    }

    #[test]
    fn a_card_refused_for_an_amount_qr_cannot_take_is_pointed_to_cash() {
        let bundle = Bundle::built_in();
        let d = decline(RuleId::AboveMaximum);
        // 5,000 yuan is the largest dynamic-QR day cap (grade A) in the built-in bundle.
        let within = card_termination(&d, &bundle, 500_000);
        assert!(within.remedies.contains(&Remedy::UseQr), "{within:?}");
        assert!(matches!(
            within.alternative,
            Some(PaymentMethod::QrCustomerPresented | PaymentMethod::QrMerchantPresented)
        ));
        let beyond = card_termination(&d, &bundle, 500_001);
        assert!(!beyond.remedies.contains(&Remedy::UseQr), "{beyond:?}");
        assert_eq!(beyond.alternative, Some(PaymentMethod::Cash));
        assert_eq!(beyond.code, within.code, "the same ending, other advice");
    }

    #[test]
    fn a_qr_decline_offers_a_card_not_another_qr_payment() {
        let plain = termination(&decline(RuleId::QrDynamicDailyCap));
        // The limit code's catalog row suggests QR; the QR variant must not.
        assert!(plain.remedies.contains(&Remedy::UseQr));
        let t = qr_termination(&decline(RuleId::QrDynamicDailyCap));
        assert_eq!(t.code, Code::RiskLimit);
        assert!(!t.remedies.contains(&Remedy::UseQr));
        assert!(t.remedies.contains(&Remedy::UseAnotherCard));
        assert_eq!(t.alternative, Some(PaymentMethod::CardChip));
        assert!(
            t.merchant_en.contains("qr_dynamic_daily_cap"),
            "{}",
            t.merchant_en
        );
    }
}
