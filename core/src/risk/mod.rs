//! Risk pre-checks: local rules run before a card is read and before the host is called.
//!
//! `evaluate(bundle, context, counters)` is a pure function; [`RiskEngine`] holds the active
//! signed [`Bundle`] and the [`HotList`]. Every [`Decision`] names its [`RuleId`], with a Chinese
//! and an English reason for the merchant and a neutral message for the cardholder.
//!
//! Trust: the built-in bundle is trusted because it is compiled in; a bundle or hot-list delta
//! loaded at run time must verify (Ed25519, ring) with the trusted public key its envelope names
//! by id ([`TrustedKeys`]), and be newer than what is active, or it is rejected and nothing
//! changes. The terminal journals what it accepted, as signed, and [`RiskEngine::restore`]
//! verifies it again at the next open (see `restore`).

mod bundle;
mod context;
mod counters;
mod decision;
mod engine;
pub mod envelope;
mod hotlist;
mod keys;
pub mod offline;
mod restore;
mod rules;
mod termination;

#[cfg(test)]
mod rules_tests;

pub use bundle::{
    AmountRange, Bundle, BundleError, CashOutRules, DEFAULT_BUNDLE_JSON, DailyLimits,
    DuplicateGuard, FallbackPolicy, MethodLimits, NightRule, OfflineLimits, QrCaps, Relocation,
    StepUps, Velocity,
};
pub use context::{
    CHINA_UTC_OFFSET_MINUTES, CardEntry, CardFacts, CardHash, CardHashKey, Method, Position,
    QrGrade, RiskContext, TerminalFacts,
};
pub use counters::{CounterQuery, Counters};
pub use decision::{Decision, NeutralMessage, RuleId, StepUp, Verdict};
pub use engine::{RiskEngine, VerifiedBundle, VerifiedDelta};
pub use envelope::{EnvelopeError, Kind as EnvelopeKind, Signer};
pub use hotlist::{HotList, HotListDelta, HotListError, MAX_ENTRIES as HOT_LIST_MAX, Replay};
pub use keys::{KeyId, MAX_KEY_ID_LEN, TrustedKey, TrustedKeys};
pub use restore::{RestoreProblem, StoredBundle, StoredDelta, StoredRiskState};
pub use rules::evaluate;
pub use termination::{card_termination, qr_could_take, qr_termination, termination};

/// The journal's view of one approved (or fallback) payment, recorded for later counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskEvent {
    pub card: Option<CardHash>,
    pub amount_fen: u64,
    pub method: &'static str,
    pub fallback: bool,
    pub offline: bool,
    pub at: i64,
}
