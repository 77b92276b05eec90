//! The card transaction family. Each flow: replay a known attempt id, make sure the terminal may
//! go online (keys, earlier reversals), gather card and PIN, then one journaled exchange.

use crate::card::{
    ChipAttempt, EntryConditions, EntryMode, PinCapability, SwipeDecision, decide_swipe,
};
use crate::card::{Pan, Track2};
use crate::diag::Termination;
use crate::host::CancelToken;
use crate::ports::CardPresentation;
use crate::risk::StepUp;
use crate::store::{Stan, TransactionRecord, TxnState};
use crate::txn::endings;
use crate::txn::kind::TxnKind;
use crate::txn::online::Prepared;
use crate::txn::outcome::Outcome;
use crate::txn::request::{
    BalanceRequest, EntryOptions, FollowUpRequest, Original, PreAuthRequest, RefundRequest,
    SaleRequest, VoidRequest,
};
use crate::txn::terminal::Terminal;

/// A swiped card, held only for the length of one request.
struct SwipedCard {
    track2: Track2,
    entry: EntryConditions,
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
        let outcome = self.card_present(
            TxnKind::Sale,
            &req.attempt_id,
            req.amount_fen,
            req.entry,
            None,
            cancel,
        );
        self.tally(TxnKind::Sale, &req.attempt_id, outcome)
    }

    pub fn balance(&self, req: &BalanceRequest, cancel: &CancelToken) -> Outcome {
        let outcome = self.card_present(
            TxnKind::Balance,
            &req.attempt_id,
            0,
            req.entry,
            None,
            cancel,
        );
        self.tally(TxnKind::Balance, &req.attempt_id, outcome)
    }

    pub fn pre_auth(&self, req: &PreAuthRequest, cancel: &CancelToken) -> Outcome {
        let outcome = self.card_present(
            TxnKind::PreAuth,
            &req.attempt_id,
            req.amount_fen,
            req.entry,
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
            req.entry,
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
        entry: EntryOptions,
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
        self.card_flow(kind, attempt_id, amount_fen, entry, original, cancel)
    }

    fn card_flow(
        &self,
        kind: TxnKind,
        attempt_id: &str,
        amount_fen: u64,
        entry: EntryOptions,
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
        let card = step!(self.read_swipe(entry));
        let pan = card.track2.pan();
        let risk = if risk_checked {
            step!(self.risk_with_card(attempt_id, amount_fen, pan, &card.track2, &card.entry))
        } else {
            None
        };
        let pin_forced = risk
            .as_ref()
            .is_some_and(|r| r.decision.requires(StepUp::RequirePin));
        step!(check_cancel(cancel).inspect_err(|_| self.risk_done(attempt_id)));
        let pin = step!(
            self.collect_pin(kind, pan, amount_fen, &card.track2, pin_forced)
                .inspect_err(|_| self.risk_done(attempt_id))
        );
        step!(check_cancel(cancel).inspect_err(|_| self.risk_done(attempt_id)));
        let track2_digits = card.track2.field35_digits();
        if let Some(r) = &risk {
            log::info!(
                "txn {attempt_id}: risk {} ({:?}), fallback={}",
                r.decision.rule,
                r.decision.verdict,
                r.staged.fallback
            );
        }
        let outcome = self.online(
            Prepared {
                kind,
                attempt_id,
                amount_fen,
                pan,
                track2_digits: Some(&track2_digits),
                entry: card.entry,
                pin,
                original,
            },
            cancel,
        );
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
        match found {
            Some(r) if r.kind == want && r.state == TxnState::Approved => Ok(r),
            Some(r) if r.kind == want => Err(endings::original_not_usable()),
            _ => Err(endings::original_not_found()),
        }
    }

    fn read_swipe(&self, entry: EntryOptions) -> Result<SwipedCard, Termination> {
        let presented = self
            .ports
            .card_reader
            .detect(self.config.card_timeout)
            .map_err(|f| endings::from_device(&f))?;
        let track2 = match presented {
            CardPresentation::Magstripe { track2 } => track2,
            // Chip and contactless kernels land with their own issues; until then the merchant
            // is told to swipe, which the card-reader prompt makes possible.
            _ => return Err(endings::entry_not_supported()),
        };
        let chip = if entry.chip_failed {
            ChipAttempt::FailedOnThisTerminal
        } else {
            ChipAttempt::NotTried
        };
        match decide_swipe(
            track2.service_code(),
            chip,
            self.config.read_capability,
            PinCapability::CanAcceptPin,
        ) {
            SwipeDecision::InsertChip => Err(endings::use_chip()),
            SwipeDecision::Proceed(entry) => Ok(SwipedCard { track2, entry }),
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
