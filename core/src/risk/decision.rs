//! What a check decides, which rule decided it, and how it is explained.

use serde::Serialize;

/// A flow change asked for by a rule instead of a decline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepUp {
    /// No offline approval: the host must authorise.
    ForceOnline,
    /// PIN bypass is refused.
    RequirePin,
    RequireSignature,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Allow,
    StepUp(Vec<StepUp>),
    Decline,
    /// Possible duplicate: go on only if the operator confirms.
    ConfirmWithOperator,
}

macro_rules! rules {
    ($($id:ident $name:literal $zh:literal $en:literal;)*) => {
        /// Every rule the engine knows; the string form is stable (journals, CLI, statistics).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum RuleId { $($id,)* }

        impl RuleId {
            pub const ALL: &'static [RuleId] = &[$(RuleId::$id,)*];

            pub fn as_str(&self) -> &'static str {
                match self { $(RuleId::$id => $name,)* }
            }

            /// Merchant reason, Chinese.
            pub fn merchant_zh(&self) -> &'static str {
                match self { $(RuleId::$id => $zh,)* }
            }

            /// Merchant reason, English.
            pub fn merchant_en(&self) -> &'static str {
                match self { $(RuleId::$id => $en,)* }
            }
        }
    };
}

#[rustfmt::skip]
rules! {
    None "none" "未触发风控规则" "No rule applied";
    LuhnFailure "luhn_failure" "卡号校验位错误" "Card number fails the Luhn check";
    CardExpired "card_expired" "卡片已过有效期" "Card is past its expiry month";
    HotCard "hot_card" "卡片在黑名单中" "Card is on the hot-card list";
    ChipRequired "chip_required" "芯片卡不允许降级刷卡，请插卡" "Chip card swiped and fallback is not allowed: use the chip";
    TerminalRelocated "terminal_relocated" "终端位置与登记地址不符，需重新登记后方可受理银行卡" "Terminal is away from its registered address (or its cell changed): card payments blocked until re-registration";
    BelowMinimum "below_minimum" "单笔金额低于该支付方式下限" "Amount below the per-transaction minimum for this method";
    AboveMaximum "above_maximum" "单笔金额超过该支付方式上限" "Amount above the per-transaction maximum for this method";
    TerminalDailyLimit "terminal_daily_limit" "终端当日累计金额超限" "Terminal daily cumulative limit reached";
    CardDailyLimit "card_daily_limit" "该卡当日累计金额超限" "Per-card daily cumulative limit reached";
    CardVelocity "card_velocity" "该卡短时间内交易次数过多" "Too many transactions on this card in the window";
    TerminalVelocity "terminal_velocity" "终端短时间内交易次数过多" "Too many transactions on this terminal in the window";
    DuplicateSuspected "duplicate_suspected" "同卡同金额短时间内重复交易，请操作员确认" "Same card and amount within minutes: operator must confirm";
    CardFallbackAbuse "card_fallback_abuse" "该卡降级交易次数过多" "Too many fallback transactions on this card";
    TerminalFallbackAbuse "terminal_fallback_abuse" "终端降级交易次数过多" "Too many fallback transactions on this terminal";
    QrStaticDailyCap "qr_static_daily_cap" "静态码当日累计超过500元限额" "Static QR daily cap reached";
    QrDynamicDailyCap "qr_dynamic_daily_cap" "动态码当日累计超过限额" "Dynamic QR daily cap for this payer grade reached";
    NightLargeAmount "night_large_amount" "夜间大额交易，需验证持卡人" "Large amount at night: cardholder verification required";
    RoundAmountPattern "round_amount_pattern" "该卡频繁整额交易（疑似套现）" "Repeated round amounts on this card (cash-out pattern)";
    JustBelowLimitPattern "just_below_limit_pattern" "该卡频繁接近限额交易（疑似套现）" "Repeated just-below-limit amounts on this card (cash-out pattern)";
    SplitSale "split_sale" "同卡短时间内拆分交易" "One sale split across several transactions on this card";
    CreditAtLowFeeMerchant "credit_at_low_fee_merchant" "信用卡在低费率商户类别大额交易" "Credit card, large amount, low-fee merchant category";
    StepUpThreshold "step_up_threshold" "金额达到加强验证阈值" "Amount at a verification step-up threshold";
    OfflineFloorLimit "offline_floor_limit" "超过脱机最低限额，转联机" "Offline floor limit reached: online authorisation";
    OfflineRandomSelection "offline_random_selection" "随机选中联机交易" "Randomly selected for online authorisation";
    OfflineVelocity "offline_velocity" "连续脱机交易超过下限/上限，转联机" "Consecutive offline limit exceeded: online authorisation";
    OfflineCumulative "offline_cumulative" "终端脱机累计金额或笔数超限，转联机" "Terminal offline cumulative amount or count reached: online authorisation";
}

impl serde::Serialize for RuleId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for RuleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the terminal shows the cardholder for a risk outcome: never hints at the rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NeutralMessage {
    pub zh: &'static str,
    pub en: &'static str,
}

const DECLINED: NeutralMessage = NeutralMessage {
    zh: "交易未成功，请更换其他卡或支付方式",
    en: "Not approved. Please use another card or payment method.",
};
const PROCEED: NeutralMessage = NeutralMessage {
    zh: "请按提示继续",
    en: "Please follow the prompts.",
};
const WAIT: NeutralMessage = NeutralMessage {
    zh: "请稍候",
    en: "Please wait.",
};

/// One check's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub verdict: Verdict,
    /// The rule that decided (for step-ups: the first that asked; `None` on a plain allow).
    pub rule: RuleId,
    /// Every rule that asked for a step-up, in evaluation order.
    pub also: Vec<RuleId>,
    pub merchant_zh: &'static str,
    pub merchant_en: &'static str,
    pub cardholder: NeutralMessage,
}

impl Decision {
    pub(crate) fn allow() -> Decision {
        Decision::of(Verdict::Allow, RuleId::None)
    }

    pub(crate) fn of(verdict: Verdict, rule: RuleId) -> Decision {
        let cardholder = match verdict {
            Verdict::Allow | Verdict::StepUp(_) => PROCEED,
            Verdict::Decline => DECLINED,
            Verdict::ConfirmWithOperator => WAIT,
        };
        Decision {
            verdict,
            rule,
            also: Vec::new(),
            merchant_zh: rule.merchant_zh(),
            merchant_en: rule.merchant_en(),
            cardholder,
        }
    }

    pub fn is_decline(&self) -> bool {
        self.verdict == Verdict::Decline
    }

    /// Whether a step-up of this kind was asked for.
    pub fn requires(&self, step: StepUp) -> bool {
        matches!(&self.verdict, Verdict::StepUp(s) if s.contains(&step))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cardholder_texts_stay_neutral() {
        // Same word list as diag's termination test: the cardholder must not learn a rule fired.
        let forbidden = [
            "risk",
            "fraud",
            "suspect",
            "stolen",
            "lost",
            "hot",
            "list",
            "风险",
            "欺诈",
            "可疑",
            "黑名单",
            "挂失",
        ];
        for m in [DECLINED, PROCEED, WAIT] {
            let text = format!("{} {}", m.zh, m.en).to_lowercase();
            for w in forbidden {
                assert!(!text.contains(w), "{text} contains {w}");
            }
        }
    }

    #[test]
    fn rule_names_are_unique_and_explained() {
        let mut names: Vec<_> = RuleId::ALL.iter().map(RuleId::as_str).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), RuleId::ALL.len());
        for r in RuleId::ALL {
            assert!(!r.merchant_zh().is_empty() && !r.merchant_en().is_empty());
        }
    }
}
