//! When to ask for a signature: a pure function of the transaction, the card's CVM result, the
//! acquirer's rules and the merchant's choice. The answer names its reason, so a receipt, a log
//! line or a dispute can say why a slip was or was not signed.
//!
//! Precedence, first match wins:
//! 1. a contactless (QuickPass) tap at or under the no-CVM limit is never signed — 小额免密免签
//!    is a promise to the cardholder, not something a merchant setting overrides;
//! 2. the chip's CVM result (tag 9F34) names signature (EMV Book 3 Annex C3: 0x1E signature,
//!    0x03 / 0x05 offline PIN and signature) and did not fail;
//! 3. the merchant signs every slip;
//! 4. the acquirer's rule for the entry mode and card kind (the kind as `card_kind` derives
//!    it: the chip's AID or label, else the acquirer's BIN ranges, else unknown);
//! 5. otherwise no signature.

use serde::{Deserialize, Serialize};

use super::card_kind::BinRange;
use crate::card::EntryMode;
use crate::card::emv::cvm::RESULT_FAILED;

/// The card's account kind, as the chip or the acquirer's BIN ranges say (`card_kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CardKind {
    /// 借记卡
    Debit,
    /// 贷记卡 and 准贷记卡
    Credit,
    /// 纯电子现金: a prepaid purse on the chip with no account behind it.
    ElectronicCash,
    /// Not known (the chip did not say, no configured BIN range holds it): matched only by
    /// rules that say `any`.
    Unknown,
}

/// One row of an acquirer's rule table; `None` matches anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureRule {
    pub entry_mode: Option<EntryMode>,
    pub card_kind: Option<CardKind>,
    pub signature: bool,
}

/// The configuration the decision reads: the acquirer's rows (first match wins) and the
/// merchant's "sign every slip".
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SignaturePolicy {
    pub rules: Vec<SignatureRule>,
    pub sign_every_slip: bool,
    /// The contactless no-CVM limit in fen (QuickPass 小额免密免签), `None` when the acquirer
    /// grants none.
    pub no_cvm_limit_fen: Option<u64>,
    /// The acquirer's BIN ranges and their card kinds (first match wins), for cards whose chip
    /// does not say its kind (every swiped card). Configuration, empty by default.
    pub card_kind_bins: Vec<BinRange>,
}

/// What is known about the transaction when the decision is made (after authorization).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureContext {
    pub entry_mode: EntryMode,
    pub card_kind: CardKind,
    pub amount_fen: u64,
    /// Tag 9F34 from the chip kernel, `None` for magstripe and manual entry.
    pub cvm_results: Option<[u8; 3]>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SignatureReason {
    QuickPassUnderNoCvmLimit,
    CardholderVerificationIsSignature,
    MerchantSignsEverySlip,
    AcquirerRule,
    NoRuleAsks,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignatureDecision {
    pub required: bool,
    pub reason: SignatureReason,
}

/// EMV Book 3 Annex C3, CVM codes (bits 6..1 of the first byte of 9F34) that include a paper
/// signature.
const SIGNATURE_CVMS: [u8; 3] = [0x03, 0x05, 0x1e];

/// Whether the chip's CVM result asks for a signature.
pub fn cvm_says_signature(cvm_results: [u8; 3]) -> bool {
    SIGNATURE_CVMS.contains(&(cvm_results[0] & 0x3f)) && cvm_results[2] != RESULT_FAILED
}

/// Decides whether this transaction needs the cardholder's signature.
pub fn decide(policy: &SignaturePolicy, ctx: &SignatureContext) -> SignatureDecision {
    let decision = |required, reason| SignatureDecision { required, reason };
    if ctx.entry_mode == EntryMode::Contactless
        && policy
            .no_cvm_limit_fen
            .is_some_and(|limit| ctx.amount_fen <= limit)
    {
        return decision(false, SignatureReason::QuickPassUnderNoCvmLimit);
    }
    if ctx.cvm_results.is_some_and(cvm_says_signature) {
        return decision(true, SignatureReason::CardholderVerificationIsSignature);
    }
    if policy.sign_every_slip {
        return decision(true, SignatureReason::MerchantSignsEverySlip);
    }
    let matching = policy.rules.iter().find(|r| {
        r.entry_mode.is_none_or(|m| m == ctx.entry_mode)
            && r.card_kind.is_none_or(|k| k == ctx.card_kind)
    });
    match matching {
        Some(rule) => decision(rule.signature, SignatureReason::AcquirerRule),
        None => decision(false, SignatureReason::NoRuleAsks),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> SignaturePolicy {
        SignaturePolicy {
            rules: vec![
                // Swiped credit cards sign; any other swipe does not; chip credit signs.
                SignatureRule {
                    entry_mode: Some(EntryMode::Magstripe),
                    card_kind: Some(CardKind::Credit),
                    signature: true,
                },
                SignatureRule {
                    entry_mode: Some(EntryMode::Magstripe),
                    card_kind: None,
                    signature: false,
                },
                SignatureRule {
                    entry_mode: Some(EntryMode::ContactChip),
                    card_kind: Some(CardKind::Credit),
                    signature: true,
                },
            ],
            sign_every_slip: false,
            no_cvm_limit_fen: Some(100_000),
            card_kind_bins: Vec::new(),
        }
    }

    fn ctx(entry_mode: EntryMode, card_kind: CardKind, amount_fen: u64) -> SignatureContext {
        SignatureContext {
            entry_mode,
            card_kind,
            amount_fen,
            cvm_results: None,
        }
    }

    #[test]
    fn small_taps_are_never_signed_even_if_the_merchant_signs_every_slip() {
        let mut p = policy();
        p.sign_every_slip = true;
        let mut c = ctx(EntryMode::Contactless, CardKind::Credit, 100_000);
        c.cvm_results = Some([0x1e, 0x00, 0x00]);
        let d = decide(&p, &c);
        assert_eq!(
            (d.required, d.reason),
            (false, SignatureReason::QuickPassUnderNoCvmLimit)
        );
        // One fen over the limit: the merchant's choice applies.
        c.amount_fen = 100_001;
        c.cvm_results = None;
        assert_eq!(
            decide(&p, &c).reason,
            SignatureReason::MerchantSignsEverySlip
        );
    }

    #[test]
    fn the_chip_cvm_result_asks_for_a_signature() {
        // EMV Book 3 C3: 1E signature, 03/05 offline PIN plus signature; 42 enciphered online
        // PIN (with "apply succeeding" set) does not; byte 3 = 01 means the CVM failed.
        for (cvm, says) in [
            ([0x1e, 0x03, 0x00], true),
            ([0x5e, 0x03, 0x00], true),
            ([0x03, 0x00, 0x02], true),
            ([0x05, 0x00, 0x02], true),
            ([0x42, 0x03, 0x00], false),
            ([0x1f, 0x03, 0x02], false),
            ([0x1e, 0x03, 0x01], false),
        ] {
            assert_eq!(cvm_says_signature(cvm), says, "{cvm:02X?}");
        }
        let mut c = ctx(EntryMode::ContactChip, CardKind::Debit, 5_000);
        c.cvm_results = Some([0x1e, 0x03, 0x00]);
        let d = decide(&policy(), &c);
        assert_eq!(
            (d.required, d.reason),
            (true, SignatureReason::CardholderVerificationIsSignature)
        );
    }

    #[test]
    fn the_acquirer_rule_decides_by_entry_mode_and_card_kind() {
        let p = policy();
        for (mode, kind, required, reason) in [
            (
                EntryMode::Magstripe,
                CardKind::Credit,
                true,
                SignatureReason::AcquirerRule,
            ),
            (
                EntryMode::Magstripe,
                CardKind::Debit,
                false,
                SignatureReason::AcquirerRule,
            ),
            (
                EntryMode::ContactChip,
                CardKind::Credit,
                true,
                SignatureReason::AcquirerRule,
            ),
            (
                EntryMode::ContactChip,
                CardKind::Debit,
                false,
                SignatureReason::NoRuleAsks,
            ),
            (
                EntryMode::Contactless,
                CardKind::Credit,
                false,
                SignatureReason::NoRuleAsks,
            ),
        ] {
            let d = decide(&p, &ctx(mode, kind, 200_000));
            assert_eq!(
                (d.required, d.reason),
                (required, reason),
                "{mode:?} {kind:?}"
            );
        }
    }

    #[test]
    fn without_a_no_cvm_limit_taps_follow_the_other_rules() {
        let mut p = policy();
        p.no_cvm_limit_fen = None;
        p.sign_every_slip = true;
        let d = decide(&p, &ctx(EntryMode::Contactless, CardKind::Debit, 1));
        assert!(d.required);
    }
}
