//! Authorisation and the money-moving operations (reversal lives in `reversal.rs`).

use super::model::{
    AccountStatus, Approval, CardInput, Decline, Effect, MsgRef, OriginalRef, Reply,
};
use super::{Kind, Ledger, MAX_WRONG_PINS, Record, Status};

/// What an approved operation touched: the account and, for voids/completions, the original.
struct Decided {
    account_id: Option<String>,
    original: Option<MsgRef>,
}

impl Ledger {
    /// Issuer checks in order (see module docs). Mutates only the wrong-PIN counter.
    fn authorise_card(&mut self, card: &CardInput) -> Result<String, Decline> {
        let today = self.today_yymm.clone();
        let account = self
            .accounts
            .values_mut()
            .find(|a| a.pan == card.pan)
            .ok_or(Decline::UnknownCard)?;
        match account.status {
            AccountStatus::Lost => return Err(Decline::LostCard),
            AccountStatus::Stolen => return Err(Decline::StolenCard),
            AccountStatus::Expired => return Err(Decline::ExpiredCard),
            AccountStatus::Frozen => return Err(Decline::Restricted),
            AccountStatus::Normal => {}
        }
        // YYMM strings of equal length order like dates.
        if account.expiry_yymm.as_str() < today.as_str() {
            return Err(Decline::ExpiredCard);
        }
        if account.wrong_pin_count >= MAX_WRONG_PINS {
            return Err(Decline::PinTriesExceeded);
        }
        if let Some(pin) = &card.pin {
            if *pin != account.pin {
                account.wrong_pin_count += 1;
                return Err(if account.wrong_pin_count >= MAX_WRONG_PINS {
                    Decline::PinTriesExceeded
                } else {
                    Decline::WrongPin
                });
            }
            account.wrong_pin_count = 0;
        }
        Ok(account.id.clone())
    }

    fn balance_of(&self, account_id: &str) -> i64 {
        self.accounts
            .get(account_id)
            .map(|a| a.balance_fen)
            .unwrap_or(0)
    }

    /// Common shape of every operation: duplicate check, decide, record, answer.
    fn process(
        &mut self,
        key: &MsgRef,
        kind: Kind,
        amount_fen: u64,
        decide: impl FnOnce(&mut Ledger) -> Result<Decided, (Decline, Option<String>)>,
    ) -> Reply {
        if self.record(key).is_some() {
            return Reply::Declined(Decline::DuplicateTransmission);
        }
        match decide(self) {
            Ok(decided) => {
                let (rrn, auth_code) = self.issue_ids();
                self.records.push(Record {
                    key: key.clone(),
                    kind,
                    account_id: decided.account_id,
                    amount_fen,
                    rrn: rrn.clone(),
                    auth_code: auth_code.clone(),
                    status: Status::Approved,
                    original: decided.original,
                    hold_fen: if kind == Kind::PreAuth { amount_fen } else { 0 },
                    reversal_reply: None,
                    decline: None,
                    tc_verified: None,
                    script_results: None,
                    signature: None,
                });
                Reply::Approved(Approval {
                    rrn,
                    auth_code,
                    balance_fen: None,
                })
            }
            Err((decline, account_id)) => {
                // Declines are remembered too, so a reversal of one is recognised (00, no-op).
                self.records.push(Record {
                    key: key.clone(),
                    kind,
                    account_id,
                    amount_fen,
                    rrn: String::new(),
                    auth_code: String::new(),
                    status: Status::Declined,
                    original: None,
                    hold_fen: 0,
                    reversal_reply: None,
                    decline: Some(decline),
                    tc_verified: None,
                    script_results: None,
                    signature: None,
                });
                Reply::Declined(decline)
            }
        }
    }

    /// The approved record's RRN (filled by `process`), for postings.
    fn rrn_of(&self, key: &MsgRef) -> String {
        self.record(key)
            .map(|i| self.records[i].rrn.clone())
            .unwrap_or_default()
    }

    /// Purchase: debits the account.
    pub fn sale(&mut self, key: &MsgRef, card: &CardInput, amount_fen: u64) -> Reply {
        self.debit(Kind::Sale, key, card, amount_fen)
    }

    /// The upload of a sale the card approved offline: the issuer debits it now (it may still
    /// decline, e.g. for insufficient funds; the card's approval was the acquirer's risk).
    pub fn offline_sale(&mut self, key: &MsgRef, card: &CardInput, amount_fen: u64) -> Reply {
        self.debit(Kind::OfflineSale, key, card, amount_fen)
    }

    fn debit(&mut self, kind: Kind, key: &MsgRef, card: &CardInput, amount_fen: u64) -> Reply {
        let reply = self.process(key, kind, amount_fen, |ledger| {
            let id = ledger.charge(card, amount_fen)?;
            Ok(Decided {
                account_id: Some(id),
                original: None,
            })
        });
        self.post_if_approved(&reply, key, Effect::Debit, amount_fen);
        reply
    }

    /// Card checks, funds check, then the debit (or hold) itself.
    fn charge(
        &mut self,
        card: &CardInput,
        amount_fen: u64,
    ) -> Result<String, (Decline, Option<String>)> {
        if amount_fen == 0 {
            return Err((Decline::InvalidAmount, None));
        }
        let id = self.authorise_card(card).map_err(|d| (d, None))?;
        if i128::from(self.balance_of(&id)) < i128::from(amount_fen) {
            return Err((Decline::InsufficientFunds, Some(id)));
        }
        self.adjust(&id, -i128::from(amount_fen));
        Ok(id)
    }

    fn post_if_approved(&mut self, reply: &Reply, key: &MsgRef, effect: Effect, amount: u64) {
        if reply.approval().is_none() {
            return;
        }
        let rrn = self.rrn_of(key);
        let account = self
            .record(key)
            .and_then(|i| self.records[i].account_id.clone())
            .unwrap_or_default();
        self.post(key, &account, amount, effect, &rrn);
    }

    /// Finds the original a void/completion names; checks kind, RRN, status and amount.
    fn find_original(
        &self,
        key: &MsgRef,
        original: &OriginalRef,
        kinds: &[Kind],
    ) -> Result<usize, Decline> {
        let wanted = MsgRef::new(&key.terminal_id, original.batch_no, original.stan);
        let index = self
            .record(&wanted)
            .filter(|&i| {
                let r = &self.records[i];
                kinds.contains(&r.kind) && r.rrn == original.rrn && r.status != Status::Declined
            })
            .ok_or(Decline::OriginalNotFound)?;
        if self.records[index].status != Status::Approved {
            return Err(Decline::AlreadyCancelled);
        }
        Ok(index)
    }

    /// Cancels an approved sale of this terminal: credits the account back.
    pub fn void_sale(&mut self, key: &MsgRef, original: &OriginalRef, amount_fen: u64) -> Reply {
        self.cancel(key, original, amount_fen, Kind::Void, Kind::Sale)
    }

    /// Cancels an approved completion: gives the captured amount back (pre-auth stays used).
    pub fn void_completion(
        &mut self,
        key: &MsgRef,
        original: &OriginalRef,
        amount_fen: u64,
    ) -> Reply {
        self.cancel(
            key,
            original,
            amount_fen,
            Kind::CompletionVoid,
            Kind::Completion,
        )
    }

    fn cancel(
        &mut self,
        key: &MsgRef,
        original: &OriginalRef,
        amount_fen: u64,
        kind: Kind,
        original_kind: Kind,
    ) -> Reply {
        // A sale the card approved offline is voided like any sale once it was uploaded.
        let originals: &[Kind] = match original_kind {
            Kind::Sale => &[Kind::Sale, Kind::OfflineSale],
            Kind::Completion => &[Kind::Completion],
            _ => &[],
        };
        let reply = self.process(key, kind, amount_fen, |ledger| {
            let index = ledger
                .find_original(key, original, originals)
                .map_err(|d| (d, None))?;
            let record = &ledger.records[index];
            let account_id = record.account_id.clone();
            if record.amount_fen != amount_fen {
                return Err((Decline::AmountMismatch, account_id));
            }
            let original_key = record.key.clone();
            ledger.records[index].status = Status::Voided;
            if let Some(id) = &account_id {
                ledger.adjust(id, i128::from(amount_fen));
            }
            Ok(Decided {
                account_id,
                original: Some(original_key),
            })
        });
        self.post_if_approved(&reply, key, Effect::Void, amount_fen);
        reply
    }

    /// Credits the cardholder (the card must be usable; no PIN tries are spent when none sent).
    pub fn refund(&mut self, key: &MsgRef, card: &CardInput, amount_fen: u64) -> Reply {
        let reply = self.process(key, Kind::Refund, amount_fen, |ledger| {
            if amount_fen == 0 {
                return Err((Decline::InvalidAmount, None));
            }
            let id = ledger.authorise_card(card).map_err(|d| (d, None))?;
            ledger.adjust(&id, i128::from(amount_fen));
            Ok(Decided {
                account_id: Some(id),
                original: None,
            })
        });
        self.post_if_approved(&reply, key, Effect::Refund, amount_fen);
        reply
    }

    /// Balance inquiry: no money moves; the approval carries the available balance.
    pub fn balance_inquiry(&mut self, key: &MsgRef, card: &CardInput) -> Reply {
        let reply = self.process(key, Kind::Balance, 0, |ledger| {
            let id = ledger.authorise_card(card).map_err(|d| (d, None))?;
            Ok(Decided {
                account_id: Some(id),
                original: None,
            })
        });
        match reply {
            Reply::Approved(mut approval) => {
                let id = self
                    .record(key)
                    .and_then(|i| self.records[i].account_id.clone())
                    .unwrap_or_default();
                approval.balance_fen = Some(self.balance_of(&id));
                Reply::Approved(approval)
            }
            declined => declined,
        }
    }

    /// Pre-authorisation: holds the amount (not a posting).
    pub fn preauth(&mut self, key: &MsgRef, card: &CardInput, amount_fen: u64) -> Reply {
        self.process(key, Kind::PreAuth, amount_fen, |ledger| {
            let id = ledger.charge(card, amount_fen)?;
            Ok(Decided {
                account_id: Some(id),
                original: None,
            })
        })
    }

    /// Releases a pre-authorisation's hold in full (not a posting).
    pub fn void_preauth(&mut self, key: &MsgRef, original: &OriginalRef, amount_fen: u64) -> Reply {
        self.process(key, Kind::PreAuthVoid, amount_fen, |ledger| {
            let index = ledger
                .find_original(key, original, &[Kind::PreAuth])
                .map_err(|d| (d, None))?;
            let record = &ledger.records[index];
            let account_id = record.account_id.clone();
            if record.amount_fen != amount_fen {
                return Err((Decline::AmountMismatch, account_id));
            }
            let (hold, original_key) = (record.hold_fen, record.key.clone());
            ledger.records[index].status = Status::Voided;
            ledger.records[index].hold_fen = 0;
            if let Some(id) = &account_id {
                ledger.adjust(id, i128::from(hold));
            }
            Ok(Decided {
                account_id,
                original: Some(original_key),
            })
        })
    }

    /// Captures up to the hold (61 above it) and releases the remainder; a `completion` posting.
    pub fn completion(&mut self, key: &MsgRef, original: &OriginalRef, amount_fen: u64) -> Reply {
        let reply = self.process(key, Kind::Completion, amount_fen, |ledger| {
            if amount_fen == 0 {
                return Err((Decline::InvalidAmount, None));
            }
            let index = ledger
                .find_original(key, original, &[Kind::PreAuth])
                .map_err(|d| (d, None))?;
            let record = &ledger.records[index];
            let account_id = record.account_id.clone();
            if amount_fen > record.hold_fen {
                return Err((Decline::ExceedsHold, account_id));
            }
            let (rest, original_key) = (record.hold_fen - amount_fen, record.key.clone());
            ledger.records[index].status = Status::Completed;
            ledger.records[index].hold_fen = 0;
            if let Some(id) = &account_id {
                ledger.adjust(id, i128::from(rest));
            }
            Ok(Decided {
                account_id,
                original: Some(original_key),
            })
        });
        self.post_if_approved(&reply, key, Effect::Completion, amount_fen);
        reply
    }
}
