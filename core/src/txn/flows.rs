//! The card transaction family. Each flow: replay a known attempt id, make sure the terminal may
//! go online (keys, earlier reversals), gather card and PIN, then one journaled exchange.

use crate::card::{
    ChipAttempt, EntryConditions, EntryMode, PinCapability, SwipeDecision, decide_swipe,
};
use crate::card::{Pan, Track2};
use crate::diag::Termination;
use crate::host::CancelToken;
use crate::ports::{Audience, CardPresentation, PromptText};
use crate::risk::StepUp;
use crate::store::{Stan, TransactionRecord, TxnKind as JournalKind, TxnState};
use crate::txn::chip::{ChipEnd, Inserted};
use crate::txn::endings;
use crate::txn::kind::TxnKind;
use crate::txn::online::Prepared;
use crate::txn::outcome::Outcome;
use crate::txn::request::{
    BalanceRequest, FollowUpRequest, Original, PreAuthRequest, RefundRequest, SaleRequest,
    VoidRequest,
};
use crate::txn::terminal::Terminal;

/// A swiped card, held only for the length of one request.
struct SwipedCard {
    track2: Track2,
    entry: EntryConditions,
}

/// The card as read: a swipe, a chip waiting for the host's answer to finish, or a tapped
/// card already gone from the field (`txn/tap.rs`).
enum ReadCard {
    Swiped(SwipedCard),
    Inserted(Box<Inserted>),
    Tapped(Box<Inserted>),
}

/// Returns early with the recorded outcome or a termination.
macro_rules! step {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(t) => return Outcome::from(t),
        }
    };
}

impl Terminal {
    pub fn sale(&self, req: &SaleRequest, cancel: &CancelToken) -> Outcome {
        let outcome =
            self.card_present(TxnKind::Sale, &req.attempt_id, req.amount_fen, None, cancel);
        self.tally(TxnKind::Sale, &req.attempt_id, outcome)
    }

    pub fn balance(&self, req: &BalanceRequest, cancel: &CancelToken) -> Outcome {
        let outcome = self.card_present(TxnKind::Balance, &req.attempt_id, 0, None, cancel);
        self.tally(TxnKind::Balance, &req.attempt_id, outcome)
    }

    pub fn pre_auth(&self, req: &PreAuthRequest, cancel: &CancelToken) -> Outcome {
        let outcome = self.card_present(
            TxnKind::PreAuth,
            &req.attempt_id,
            req.amount_fen,
            None,
            cancel,
        );
        self.tally(TxnKind::PreAuth, &req.attempt_id, outcome)
    }

    /// A refund needs the card again (the money goes back to it) and names the original sale.
    pub fn refund(&self, req: &RefundRequest, cancel: &CancelToken) -> Outcome {
        let outcome = self.refund_flow(req, cancel);
        self.tally(TxnKind::Refund, &req.attempt_id, outcome)
    }

    fn refund_flow(&self, req: &RefundRequest, cancel: &CancelToken) -> Outcome {
        let _one = self.exclusive();
        if let Some(known) = step!(self.replay(&req.attempt_id)) {
            return known;
        }
        let original = step!(self.find_original(TxnKind::Refund, req.original));
        if req.amount_fen == 0 || req.amount_fen > original.amount_fen {
            return endings::wrong_amount().into();
        }
        self.card_flow(
            TxnKind::Refund,
            &req.attempt_id,
            req.amount_fen,
            Some(&original),
            cancel,
        )
    }

    /// Sale void: by voucher number, without the card (the PAN comes sealed from the journal).
    pub fn void(&self, req: &VoidRequest, cancel: &CancelToken) -> Outcome {
        let outcome = self.follow_up(TxnKind::Void, &req.attempt_id, req.original, None, cancel);
        self.tally(TxnKind::Void, &req.attempt_id, outcome)
    }

    pub fn pre_auth_void(&self, req: &FollowUpRequest, cancel: &CancelToken) -> Outcome {
        let outcome = self.follow_up(
            TxnKind::PreAuthVoid,
            &req.attempt_id,
            req.original,
            None,
            cancel,
        );
        self.tally(TxnKind::PreAuthVoid, &req.attempt_id, outcome)
    }

    /// Completion of a pre-authorisation, for at most the held amount.
    pub fn completion(&self, req: &FollowUpRequest, cancel: &CancelToken) -> Outcome {
        let outcome = self.follow_up(
            TxnKind::Completion,
            &req.attempt_id,
            req.original,
            Some(req.amount_fen),
            cancel,
        );
        self.tally(TxnKind::Completion, &req.attempt_id, outcome)
    }

    pub fn completion_void(&self, req: &FollowUpRequest, cancel: &CancelToken) -> Outcome {
        let outcome = self.follow_up(
            TxnKind::CompletionVoid,
            &req.attempt_id,
            req.original,
            None,
            cancel,
        );
        self.tally(TxnKind::CompletionVoid, &req.attempt_id, outcome)
    }

    fn card_present(
        &self,
        kind: TxnKind,
        attempt_id: &str,
        amount_fen: u64,
        original: Option<&TransactionRecord>,
        cancel: &CancelToken,
    ) -> Outcome {
        let _one = self.exclusive();
        if let Some(known) = step!(self.replay(attempt_id)) {
            return known;
        }
        if kind != TxnKind::Balance && amount_fen == 0 {
            return endings::wrong_amount().into();
        }
        self.card_flow(kind, attempt_id, amount_fen, original, cancel)
    }

    fn card_flow(
        &self,
        kind: TxnKind,
        attempt_id: &str,
        amount_fen: u64,
        original: Option<&TransactionRecord>,
        cancel: &CancelToken,
    ) -> Outcome {
        let risk_checked = matches!(kind, TxnKind::Sale | TxnKind::PreAuth);
        if risk_checked {
            step!(self.risk_before_card(amount_fen));
        }
        step!(self.batch_has_room(kind));
        step!(self.ready_for_online());
        step!(check_cancel(cancel));
        let mut card = step!(self.read_card(kind, amount_fen));
        let outcome = self.card_read(kind, attempt_id, amount_fen, &mut card, original, cancel);
        match card {
            ReadCard::Inserted(_) => self.release_card(),
            ReadCard::Tapped(_) => self.tap_finished(&outcome),
            ReadCard::Swiped(_) => {}
        }
        outcome
    }

    /// From a card read (swiped or inserted) to the host's answer.
    fn card_read(
        &self,
        kind: TxnKind,
        attempt_id: &str,
        amount_fen: u64,
        card: &mut ReadCard,
        original: Option<&TransactionRecord>,
        cancel: &CancelToken,
    ) -> Outcome {
        let risk_checked = matches!(kind, TxnKind::Sale | TxnKind::PreAuth);
        let chip_pin = match card {
            ReadCard::Inserted(i) | ReadCard::Tapped(i) => i.pin.take(),
            ReadCard::Swiped(_) => None,
        };
        let card = &*card;
        let (track2, entry, inserted) = match card {
            ReadCard::Swiped(s) => (&s.track2, s.entry, None),
            ReadCard::Inserted(i) | ReadCard::Tapped(i) => match &i.request.card.track2 {
                Some(t) => (t, i.entry, Some(&**i)),
                // PBOC 3.0 makes 57 mandatory; a card without it cannot fill field 35.
                None => return endings::chip_error().into(),
            },
        };
        let pan = match inserted {
            Some(i) => &i.request.card.pan,
            None => track2.pan(),
        };
        let risk = if risk_checked {
            step!(self.risk_with_card(attempt_id, amount_fen, pan, track2, &entry))
        } else {
            None
        };
        let pin_forced = risk
            .as_ref()
            .is_some_and(|r| r.decision.requires(StepUp::RequirePin));
        step!(check_cancel(cancel).inspect_err(|_| self.risk_done(attempt_id)));
        let pin = match inserted {
            // The card's CVM list decided, and the PIN pad was asked during the kernel's
            // cardholder verification; a risk step-up or a balance inquiry still insists.
            Some(_) => {
                let must = kind == TxnKind::Balance || pin_forced;
                if must && chip_pin.is_none() {
                    self.risk_done(attempt_id);
                    return endings::pin_required().into();
                }
                chip_pin
            }
            None => step!(
                self.collect_pin(kind, pan, amount_fen, track2, pin_forced)
                    .inspect_err(|_| self.risk_done(attempt_id))
            ),
        };
        step!(check_cancel(cancel).inspect_err(|_| self.risk_done(attempt_id)));
        let track2_digits = track2.field35_digits();
        if let Some(r) = &risk {
            log::info!(
                "txn {attempt_id}: risk {} ({:?}), fallback={}",
                r.decision.rule,
                r.decision.verdict,
                r.staged.fallback
            );
        }
        let prepared = Prepared {
            kind,
            attempt_id,
            amount_fen,
            pan,
            track2_digits: Some(&track2_digits),
            entry,
            pin,
            original,
            icc: inserted,
        };
        let outcome = if inserted.is_some_and(|i| i.approved_offline) {
            self.offline_approval(prepared)
        } else {
            self.online(prepared, cancel)
        };
        if risk.is_some() {
            self.risk_done(attempt_id);
        }
        outcome
    }

    /// Voids and completions refer to a transaction of this terminal and reuse its card.
    fn follow_up(
        &self,
        kind: TxnKind,
        attempt_id: &str,
        original: Original,
        amount_fen: Option<u64>,
        cancel: &CancelToken,
    ) -> Outcome {
        let _one = self.exclusive();
        if let Some(known) = step!(self.replay(attempt_id)) {
            return known;
        }
        let original = step!(self.find_original(kind, original));
        let amount_fen = match amount_fen {
            Some(a) if a == 0 || a > original.amount_fen => {
                return endings::wrong_amount().into();
            }
            Some(a) => a,
            None => original.amount_fen,
        };
        step!(self.batch_has_room(kind));
        step!(self.ready_for_online());
        // Read again: what readiness sent (an offline sale's upload) may have given the
        // original the host's references, or refused it.
        let original = step!(self.find_original(
            kind,
            Original {
                stan: original.stan.value()
            }
        ));
        step!(check_cancel(cancel));
        let pan = step!(self.unseal_pan(&original));
        self.online(
            Prepared {
                kind,
                attempt_id,
                amount_fen,
                pan: &pan,
                track2_digits: None,
                entry: EntryConditions::new(
                    EntryMode::Manual,
                    PinCapability::CanAcceptPin,
                    self.config.read_capability,
                ),
                pin: None,
                original: Some(&original),
                icc: None,
            },
            cancel,
        )
    }

    /// The same attempt id returns what was recorded for it and never goes online again.
    fn replay(&self, attempt_id: &str) -> Result<Option<Outcome>, Termination> {
        let known = self
            .journal()
            .by_attempt_id(attempt_id)
            .map_err(|e| self.storage_fault(&e))?;
        let Some(record) = known else {
            return Ok(None);
        };
        log::info!("txn {attempt_id}: replaying recorded outcome");
        Ok(Some(self.recorded_outcome(&record)))
    }

    fn find_original(
        &self,
        kind: TxnKind,
        original: Original,
    ) -> Result<TransactionRecord, Termination> {
        let want = kind.spec().original.unwrap_or(TxnKind::Sale).spec().journal;
        let stan = Stan::new(original.stan).map_err(|_| endings::original_not_found())?;
        let found = {
            let journal = self.journal();
            journal
                .batch_no()
                .and_then(|batch| journal.by_stan(batch, stan))
                .map_err(|e| self.storage_fault(&e))?
        };
        // A sale the card approved offline is voided or refunded like any sale (its upload
        // goes first: the void's `ready_for_online` sends what is queued).
        let is_wanted = |k: JournalKind| {
            k == want || (want == JournalKind::Sale && k == JournalKind::OfflineSale)
        };
        match found {
            Some(r) if is_wanted(r.kind) && r.state == TxnState::Approved => Ok(r),
            Some(r) if is_wanted(r.kind) => Err(endings::original_not_usable()),
            _ => Err(endings::original_not_found()),
        }
    }

    /// Waits for a card. A swipe of a chip card is sent to the chip; an inserted card runs the
    /// contact kernel, and when the kernel reports that the chip cannot be used here, the
    /// merchant is asked to swipe the same card, which then goes as a fallback.
    fn read_card(&self, kind: TxnKind, amount_fen: u64) -> Result<ReadCard, Termination> {
        let tap_refused = self.tap_ready(kind, amount_fen);
        match self.detect_card()? {
            CardPresentation::Magstripe { track2 } => self.swiped(track2, ChipAttempt::NotTried),
            CardPresentation::ContactChip => match self.read_inserted(kind, amount_fen) {
                Ok(inserted) => Ok(ReadCard::Inserted(Box::new(inserted))),
                Err(ChipEnd::Terminated(t)) => {
                    self.release_card();
                    Err(t)
                }
                Err(ChipEnd::Fallback(reason)) => {
                    log::info!("chip unusable ({reason:?}): fallback to the swipe");
                    self.release_card();
                    self.show(
                        Audience::Merchant,
                        &PromptText::new("芯片无法读取，请刷卡", "Chip unreadable: swipe the card"),
                    );
                    match self.detect_card()? {
                        CardPresentation::Magstripe { track2 } => {
                            self.swiped(track2, ChipAttempt::FailedOnThisTerminal)
                        }
                        _ => Err(endings::chip_error()),
                    }
                }
            },
            CardPresentation::Contactless => self
                .read_tapped(kind, amount_fen, tap_refused)
                .map(|t| ReadCard::Tapped(Box::new(t))),
        }
    }

    pub(crate) fn detect_card(&self) -> Result<CardPresentation, Termination> {
        self.ports
            .card_reader
            .detect(self.config.card_timeout)
            .map_err(|f| endings::from_device(&f))
    }

    fn swiped(&self, track2: Track2, chip: ChipAttempt) -> Result<ReadCard, Termination> {
        match decide_swipe(
            track2.service_code(),
            chip,
            self.config.read_capability,
            PinCapability::CanAcceptPin,
        ) {
            SwipeDecision::InsertChip => Err(endings::use_chip()),
            SwipeDecision::Proceed(entry) => Ok(ReadCard::Swiped(SwipedCard { track2, entry })),
        }
    }

    /// Powers the chip off and asks for the card back; a reader that cannot is only logged.
    pub(crate) fn release_card(&self) {
        if let Err(f) = self.ports.card_reader.remove_card() {
            log::warn!("card reader: card not released: {f}");
        }
    }

    pub(crate) fn show(&self, audience: Audience, text: &PromptText) {
        if let Some(prompt) = &self.ports.prompt
            && let Err(f) = prompt.show(audience, text)
        {
            log::warn!("prompt: {f}");
        }
    }

    fn collect_pin(
        &self,
        kind: TxnKind,
        pan: &Pan,
        amount_fen: u64,
        track2: &Track2,
        risk_requires_pin: bool,
    ) -> Result<Option<crate::crypto::EncryptedPinBlock>, Termination> {
        let pin = self
            .ports
            .pin_pad
            .online_pin(pan, amount_fen)
            .map_err(|f| endings::from_device(&f))?;
        // A risk step-up refuses PIN bypass like a PIN-required service code does.
        let must =
            kind == TxnKind::Balance || track2.service_code().pin_required() || risk_requires_pin;
        if pin.is_none() && must {
            return Err(endings::pin_required());
        }
        Ok(pin)
    }
}

fn check_cancel(cancel: &CancelToken) -> Result<(), Termination> {
    if cancel.is_cancelled() {
        Err(endings::cancelled())
    } else {
        Ok(())
    }
}

impl Terminal {
    /// A transaction that adds to the settlement batch is refused once the batch holds its
    /// capacity (the same figure the health check warns against): the acquirer refuses batches
    /// past it and a batch upload that long risks timing out, so the merchant settles first.
    fn batch_has_room(&self, kind: TxnKind) -> Result<(), Termination> {
        if !matches!(kind, TxnKind::Sale | TxnKind::Refund | TxnKind::Completion) {
            return Ok(());
        }
        let capacity = crate::diag::health::HealthThresholds::default().batch_capacity;
        let mut journal = self.journal();
        let count = journal
            .batch_size_bound()
            .and_then(|(batch, bound)| match bound {
                // Below capacity counting every row of the batch: no need for the exact count.
                n if n < capacity => Ok(n),
                _ => journal.batch_fill(batch).map(|(n, _)| n),
            })
            .map_err(|e| self.storage_fault(&e))?;
        if count >= capacity {
            return Err(endings::batch_full(count));
        }
        Ok(())
    }
}
