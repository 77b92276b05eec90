//! The risk pre-check inside the card flows: a first pass before anything is read or sent, a
//! second with the card's facts before the PIN and the host; declines become terminations with
//! cause Risk, step-ups change the flow.

use std::sync::MutexGuard;
use std::time::{Duration, UNIX_EPOCH};

use ring::hmac;
use zeroize::Zeroizing;

use crate::card::{EntryConditions, Pan, Track2};
use crate::diag::{Termination, TerminationCode as Code};
use crate::ports::{Audience, Confirmation, PromptText};
use crate::risk::{
    Bundle, BundleError, CHINA_UTC_OFFSET_MINUTES, CardEntry, CardFacts, CardHashKey, CounterQuery,
    Decision, HotListError, Method, RestoreProblem, RiskContext, RiskEngine, TerminalFacts,
    TrustedKeys, Verdict,
};
use crate::risk::{card_termination, termination as risk_termination};
use crate::store::{StagedRiskEvent, StoreError};
use crate::txn::config::RiskConfig;
use crate::txn::terminal::{OpenError, Terminal};

/// How long the operator has to confirm a possible duplicate.
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(60);

/// What a terminal needs to run risk checks (see [`RiskConfig`] for what each field means).
#[derive(Clone, Default)]
pub struct RiskSetup {
    /// Ed25519 public keys, by id, that sign rule bundles and hot-list deltas. Empty trusts only
    /// the built-in bundle: run-time bundles and deltas are refused
    /// ([`EnvelopeError::NoTrustedKey`](crate::risk::EnvelopeError::NoTrustedKey)).
    pub trusted_keys: TrustedKeys,
    /// Salt of the card fingerprints; it must be the one the hot list was built with. `None`
    /// derives a terminal-local salt from the storage key (counters work, a central hot list
    /// will not match). Secret: never printed.
    pub card_hash_salt: Option<Zeroizing<Vec<u8>>>,
    /// ISO 18245 merchant category; `None` takes digits 8–11 of the UnionPay merchant id.
    pub mcc: Option<String>,
}

impl std::fmt::Debug for RiskSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RiskSetup")
            .field("trusted_keys", &self.trusted_keys.ids())
            .field(
                "card_hash_salt",
                &self.card_hash_salt.as_ref().map(|_| "[redacted]"),
            )
            .field("mcc", &self.mcc)
            .finish()
    }
}

impl RiskSetup {
    /// Checks what [`Terminal::open`] would otherwise only find at the first check. (Trusted
    /// keys are checked when they are made: a [`TrustedKeys`] holds only usable keys.)
    pub(crate) fn validate(&self) -> Result<(), OpenError> {
        if let Some(salt) = &self.card_hash_salt
            && salt.is_empty()
        {
            return Err(OpenError::Config(
                "risk.card_hash_salt is empty; leave it unset for a terminal-local salt".into(),
            ));
        }
        if let Some(mcc) = &self.mcc
            && (mcc.len() != 4 || !mcc.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(OpenError::Config(format!(
                "risk.mcc must be 4 digits (ISO 18245), got {mcc:?}"
            )));
        }
        Ok(())
    }
}

impl RiskConfig {
    /// The setup [`Terminal::open`] enables, `None` when checks are off.
    pub(crate) fn setup(&self) -> Option<RiskSetup> {
        self.enabled.then(|| RiskSetup {
            trusted_keys: self.trusted_keys.clone(),
            card_hash_salt: self.card_hash_salt.clone(),
            mcc: self.mcc.clone(),
        })
    }
}

/// A signed rule bundle or hot-list delta was not applied; what was active stays active.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RiskUpdateError {
    /// Risk checks are off on this terminal ([`RiskConfig::enabled`]), so there is nothing to
    /// update.
    #[error("risk checks are not enabled on this terminal")]
    NotEnabled,
    #[error(transparent)]
    Bundle(#[from] BundleError),
    #[error(transparent)]
    HotList(#[from] HotListError),
    /// The update verified but the journal could not keep it; it was not applied, because a
    /// restart would have lost it (and let an older one back in).
    #[error("the update verified but could not be journaled, so it was not applied: {0}")]
    Journal(#[from] StoreError),
}

/// What the risk pre-check runs on now, and what of the journal's risk state was not restored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskStatus {
    pub bundle_version: u64,
    /// The built-in bundle is active: nothing newer was loaded, or the stored one was refused.
    pub built_in: bool,
    /// Sequence of the last hot-list delta applied (0: none).
    pub hot_list_sequence: u64,
    pub hot_list_entries: usize,
    pub trusted_key_ids: Vec<String>,
    /// Why stored state was left out when risk checks were (re)enabled; empty when everything
    /// the journal kept came back.
    pub restore_problems: Vec<RestoreProblem>,
}

pub(crate) struct RiskState {
    engine: RiskEngine,
    card_hash: CardHashKey,
    mcc: String,
    restore_problems: Vec<RestoreProblem>,
}

/// Card facts the flow keeps between the check and the journal write.
pub(crate) struct CheckedCard {
    pub decision: Decision,
    pub staged: StagedRiskEvent,
}

fn mcc_from_merchant_id(mid: &str) -> String {
    mid.get(7..11).unwrap_or("0000").to_owned()
}

impl Terminal {
    /// Turns risk pre-checks on (again) with the rule bundle and hot list the journal kept,
    /// verified again with `setup`'s trusted keys, replacing whatever was active. What does not
    /// verify is left out — the built-in bundle runs instead of a refused bundle, the hot list
    /// stops at the last delta that verified — and each reason is logged and kept in
    /// [`Terminal::risk_status`]. [`Terminal::open`] already does this from
    /// [`TerminalConfig::risk`](crate::txn::TerminalConfig::risk); this is for changes at run
    /// time (a fleet key provisioned later, tests).
    pub fn enable_risk(&self, setup: RiskSetup) {
        let card_hash = match &setup.card_hash_salt {
            Some(salt) => CardHashKey::new(salt),
            None => {
                let key =
                    hmac::Key::new(hmac::HMAC_SHA256, self.config.storage_key.expose_secret());
                CardHashKey::new(hmac::sign(&key, b"smartpos risk card hash v1").as_ref())
            }
        };
        let mcc = setup
            .mcc
            .clone()
            .unwrap_or_else(|| mcc_from_merchant_id(&self.config.merchant_id));
        let stored = self.journal().stored_risk_state();
        let (engine, restore_problems) = match stored {
            Ok(stored) => RiskEngine::restore(setup.trusted_keys, &stored),
            Err(e) => (
                RiskEngine::with_keys(setup.trusted_keys),
                vec![RestoreProblem::Unreadable(e.to_string())],
            ),
        };
        let tid = &self.config.terminal_id;
        for problem in &restore_problems {
            log::warn!("terminal {tid}: risk: {problem}");
        }
        log::info!(
            "terminal {tid}: risk checks on: bundle version {}, hot list sequence {} ({} cards)",
            engine.bundle().version,
            engine.hot_list().sequence(),
            engine.hot_list().len()
        );
        *self.risk_state() = Some(RiskState {
            engine,
            card_hash,
            mcc,
            restore_problems,
        });
    }

    /// Verifies a signed rule bundle and, once the journal has kept it, makes it active; it
    /// stays active across restarts, and no older or equal version is accepted after it. On
    /// error the active bundle stays. One commit.
    pub fn load_risk_bundle(&self, signed: &[u8]) -> Result<u64, RiskUpdateError> {
        let mut guard = self.risk_state();
        let state = guard.as_mut().ok_or(RiskUpdateError::NotEnabled)?;
        let verified = state.engine.verify_bundle(signed)?;
        let at = self.now_ms();
        self.journal().record_risk_bundle(
            verified.version(),
            verified.key_id(),
            verified.signed(),
            at,
        )?;
        let key_id = verified.key_id().to_owned();
        let version = state.engine.activate_bundle(verified);
        log::info!(
            "terminal {}: risk bundle version {version} (key {key_id}) active",
            self.config.terminal_id
        );
        Ok(version)
    }

    /// Verifies a signed hot-list delta and, once the journal has kept it, applies it; only the
    /// delta right after the last one applied (across restarts too) is accepted. On error the
    /// list stays. One commit.
    pub fn apply_hot_list_delta(&self, signed: &[u8]) -> Result<u64, RiskUpdateError> {
        let mut guard = self.risk_state();
        let state = guard.as_mut().ok_or(RiskUpdateError::NotEnabled)?;
        let verified = state.engine.verify_hot_list_delta(signed)?;
        let at = self.now_ms();
        self.journal().record_hot_list_delta(
            verified.sequence(),
            verified.key_id(),
            verified.signed(),
            at,
        )?;
        let sequence = state.engine.activate_hot_list(verified);
        log::info!(
            "terminal {}: hot list at sequence {sequence} ({} cards)",
            self.config.terminal_id,
            state.engine.hot_list().len()
        );
        Ok(sequence)
    }

    /// Version of the active rule bundle, `None` while risk checks are off.
    pub fn risk_bundle_version(&self) -> Option<u64> {
        self.risk_state()
            .as_ref()
            .map(|s| s.engine.bundle().version)
    }

    /// What the risk pre-check runs on, `None` while risk checks are off.
    pub fn risk_status(&self) -> Option<RiskStatus> {
        self.risk_state().as_ref().map(|s| RiskStatus {
            bundle_version: s.engine.bundle().version,
            built_in: s.engine.bundle() == &Bundle::built_in(),
            hot_list_sequence: s.engine.hot_list().sequence(),
            hot_list_entries: s.engine.hot_list().len(),
            trusted_key_ids: s.engine.trusted_keys().ids(),
            restore_problems: s.restore_problems.clone(),
        })
    }

    fn risk_state(&self) -> MutexGuard<'_, Option<RiskState>> {
        self.risk.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn terminal_facts(&self, mcc: &str) -> TerminalFacts {
        let fix = self.ports.location.as_ref().and_then(|l| l.fix());
        TerminalFacts {
            unix_time: self
                .ports
                .clock
                .now()
                .duration_since(UNIX_EPOCH)
                .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
                .unwrap_or(0),
            utc_offset_minutes: CHINA_UTC_OFFSET_MINUTES,
            position: fix.as_ref().map(|f| crate::risk::Position {
                lat: f.lat,
                lon: f.lon,
            }),
            cell_id: fix.and_then(|f| f.cell_id),
            online: self
                .ports
                .network
                .as_ref()
                .is_none_or(|n| n.status().connected),
            mcc: mcc.to_owned(),
        }
    }

    /// Runs one pass; `Ok(None)` when risk checks are off.
    fn risk_pass(
        &self,
        amount_fen: u64,
        entry: CardEntry,
        card: Option<(&Pan, &Track2, &EntryConditions)>,
    ) -> Result<Option<(Decision, Option<CardFacts>)>, Termination> {
        let guard = self.risk_state();
        let Some(state) = guard.as_ref() else {
            return Ok(None);
        };
        let facts = card.map(|(pan, track2, conditions)| {
            let mut f = CardFacts::from_pan(&state.card_hash, pan);
            f.service_code = Some(track2.service_code().to_string());
            f.expiry_yymm = Some(track2.expiry().yymm());
            f.fallback = conditions.is_fallback();
            f
        });
        let ctx = RiskContext {
            amount_fen,
            method: Method::Card { entry },
            card: facts.clone(),
            terminal: self.terminal_facts(&state.mcc),
            random_1_99: random_1_99(),
            offline_capable: false,
        };
        let counters = self
            .journal()
            .risk_counters(&CounterQuery::new(state.engine.bundle(), &ctx))
            .map_err(|e| self.storage_fault(&e))?;
        Ok(Some((state.engine.check(ctx, &counters), facts)))
    }

    /// The pass before the card is read: amount limits, terminal velocity and location.
    pub(crate) fn risk_before_card(&self, amount_fen: u64) -> Result<(), Termination> {
        match self.risk_pass(amount_fen, CardEntry::Magstripe, None)? {
            Some((d, _)) => self.settle_decision(&d, amount_fen).map(|_| ()),
            None => Ok(()),
        }
    }

    /// The pass with the card's facts, before PIN and host. Returns the decision (for step-ups)
    /// and stages the journal's risk event.
    pub(crate) fn risk_with_card(
        &self,
        attempt_id: &str,
        amount_fen: u64,
        pan: &Pan,
        track2: &Track2,
        entry: &EntryConditions,
    ) -> Result<Option<CheckedCard>, Termination> {
        let method = match entry.mode {
            crate::card::EntryMode::ContactChip => CardEntry::Chip,
            crate::card::EntryMode::Contactless => CardEntry::Contactless,
            crate::card::EntryMode::Manual => CardEntry::Manual,
            _ => CardEntry::Magstripe,
        };
        let Some((decision, facts)) =
            self.risk_pass(amount_fen, method, Some((pan, track2, entry)))?
        else {
            return Ok(None);
        };
        self.settle_decision(&decision, amount_fen)?;
        let staged = StagedRiskEvent {
            card: facts.as_ref().map(|f| f.hash),
            method: "card",
            fallback: entry.is_fallback(),
            offline: false,
        };
        self.journal()
            .stage_risk_event(attempt_id, &staged)
            .map_err(|e| self.storage_fault(&e))?;
        Ok(Some(CheckedCard { decision, staged }))
    }

    /// Whether the card is on the risk hot list: the chip kernel's exception file (EMV 4.4
    /// Book 3 10.6). False when risk checks are off.
    pub(crate) fn on_hot_list(&self, pan: &Pan) -> bool {
        self.risk_state().as_ref().is_some_and(|state| {
            let facts = CardFacts::from_pan(&state.card_hash, pan);
            state.engine.hot_list().contains(facts.hash)
        })
    }

    /// After the exchange: a staged event that no transaction row took is dropped.
    pub(crate) fn risk_done(&self, attempt_id: &str) {
        if let Err(e) = self.journal().discard_staged_risk_event(attempt_id) {
            log::warn!("txn {attempt_id}: staged risk event not discarded: {e}");
        }
    }

    /// Declines end the flow; a possible duplicate needs the operator's yes.
    fn settle_decision(&self, d: &Decision, amount_fen: u64) -> Result<(), Termination> {
        match d.verdict {
            Verdict::Allow | Verdict::StepUp(_) => Ok(()),
            Verdict::Decline => Err(self.card_risk_termination(d, amount_fen)),
            Verdict::ConfirmWithOperator => self.operator_confirms(d, amount_fen),
        }
    }

    /// The decline as the card flow reports it: QR is offered only for an amount QR can take.
    fn card_risk_termination(&self, d: &Decision, amount_fen: u64) -> Termination {
        match self.risk_state().as_ref() {
            Some(state) => card_termination(d, state.engine.bundle(), amount_fen),
            None => risk_termination(d),
        }
    }

    fn operator_confirms(&self, d: &Decision, amount_fen: u64) -> Result<(), Termination> {
        let Some(prompt) = self.ports.prompt.as_ref() else {
            return Err(self
                .card_risk_termination(d, amount_fen)
                .with_detail("operator confirmation needed / 需操作员确认"));
        };
        let question = PromptText::new(
            format!("{}。确认继续？", d.merchant_zh),
            format!("{}. Continue?", d.merchant_en),
        );
        match prompt.confirm(Audience::Merchant, &question, CONFIRM_TIMEOUT) {
            Ok(Confirmation::Yes) => Ok(()),
            Ok(Confirmation::No) => Err(self
                .card_risk_termination(d, amount_fen)
                .with_detail("operator declined / 操作员拒绝")),
            Ok(Confirmation::TimedOut) => Err(Termination::new(Code::OpPromptTimeout)),
            Err(f) => Err(f.termination()),
        }
    }
}

/// 1..=99 for EMV random selection. The tiny modulo bias (256 mod 99) does not matter for a
/// sampling rate; a failing system RNG selects the transaction (the safe side: online).
pub(crate) fn random_1_99() -> u8 {
    use ring::rand::SecureRandom;
    let mut b = [0u8; 1];
    match ring::rand::SystemRandom::new().fill(&mut b) {
        Ok(()) => 1 + b[0] % 99,
        Err(_) => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mcc_comes_from_the_unionpay_merchant_id() {
        // UnionPay merchant code: acquirer (3) + region (4) + MCC (4) + serial (4).
        assert_eq!(mcc_from_merchant_id("898310058125678"), "5812");
        assert_eq!(mcc_from_merchant_id("short"), "0000");
    }
}
