//! The acquirer simulator's ledger: accounts, authorisation, postings, settlement.
//!
//! The simulator is the issuer, so it holds PANs and PINs in memory; neither is ever written to
//! its JSON file (accounts are saved by `id` and masked PAN) nor shown by `Debug`.
//!
//! # Postings and `net_fen`
//!
//! Every money movement is a [`Posting`]. `net_fen` is the merchant's net position: the sum of
//! `debit`, `completion`, `void_reversal` and `refund_reversal` postings minus `reversal`, `void`
//! and `refund` postings. Pre-authorisation holds and their release are not postings.
//!
//! # Rules the simulator applies
//!
//! * Checks run in issuer order: unknown card (14), lost (41), stolen (43), expired by status
//!   or by date (54), frozen (62), PIN tries exhausted (75), wrong PIN (55; the third wrong PIN
//!   answers 75 and locks the card), insufficient funds (51).
//! * A message reusing a terminal's (batch, STAN) is a duplicate transmission (94).
//! * Void/completion match their original by terminal, batch, STAN and RRN (25 if none),
//!   refuse an original already voided or reversed (12) and a different amount (64);
//!   a completion may capture at most the hold (61) and releases the rest.
//! * A reversal is keyed by terminal + batch + STAN of the original; it is applied once and
//!   every repeat gets the same 00. Reversing a completion (or voiding one) gives the captured
//!   amount back; the pre-authorisation stays consumed.
//!
//! # Demo cards ([`Ledger::with_demo_accounts`])
//!
//! Check digits computed with the Luhn algorithm (ISO/IEC 7812-1, Annex B) and cross-checked
//! with an independent Python implementation. All PINs are `123456`.
//!
//! | id       | PAN                | kind   | status  | expiry | balance (fen) |
//! |----------|--------------------|--------|---------|--------|---------------|
//! | normal   | 6222020000000015   | debit  | normal  | 3012   | 1 000 000     |
//! | credit   | 6222020000000023   | credit | normal  | 3012   | 5 000 000     |
//! | low      | 6222020000000031   | debit  | normal  | 3012   | 1 000         |
//! | lost     | 6222020000000049   | debit  | lost    | 3012   | 1 000 000     |
//! | stolen   | 6222020000000056   | debit  | stolen  | 3012   | 1 000 000     |
//! | expired  | 6222020000000064   | debit  | expired | 2001   | 1 000 000     |
//! | frozen   | 6222020000000072   | debit  | frozen  | 3012   | 1 000 000     |
//! | lapsed   | 6222020000000080   | debit  | normal  | 2412   | 1 000 000     |
//! | chip     | 6222020000000106   | debit  | normal  | 3012   | 1 000 000     |
//!
//! `chip` is a chip card: its track 2 carries service code 201, so a swipe is sent to the chip.
//!
//! `lapsed` has status normal but an expiry before the ledger's default "today" (2601), so it
//! exercises the date check.

mod model;
mod operations;
mod persist;
mod reversal;
mod settlement;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use model::{
    Account, AccountStatus, Approval, CardInput, CardKind, Decline, Effect, MsgRef, OriginalRef,
    Posting, Reply, Settlement, Totals, UploadLine, UploadReport, mask_pan,
};
pub use persist::LedgerError;

/// PIN tries before the card is locked (75).
const MAX_WRONG_PINS: u8 = 3;

/// (id, PAN, kind, status, expiry YYMM, balance fen) — see the module docs' table.
const DEMO_CARDS: &[(&str, &str, CardKind, AccountStatus, &str, i64)] = &[
    (
        "normal",
        "6222020000000015",
        CardKind::Debit,
        AccountStatus::Normal,
        "3012",
        1_000_000,
    ),
    (
        "credit",
        "6222020000000023",
        CardKind::Credit,
        AccountStatus::Normal,
        "3012",
        5_000_000,
    ),
    (
        "low",
        "6222020000000031",
        CardKind::Debit,
        AccountStatus::Normal,
        "3012",
        1_000,
    ),
    (
        "lost",
        "6222020000000049",
        CardKind::Debit,
        AccountStatus::Lost,
        "3012",
        1_000_000,
    ),
    (
        "stolen",
        "6222020000000056",
        CardKind::Debit,
        AccountStatus::Stolen,
        "3012",
        1_000_000,
    ),
    (
        "expired",
        "6222020000000064",
        CardKind::Debit,
        AccountStatus::Expired,
        "2001",
        1_000_000,
    ),
    (
        "frozen",
        "6222020000000072",
        CardKind::Debit,
        AccountStatus::Frozen,
        "3012",
        1_000_000,
    ),
    (
        "lapsed",
        "6222020000000080",
        CardKind::Debit,
        AccountStatus::Normal,
        "2412",
        1_000_000,
    ),
    (
        "chip",
        "6222020000000106",
        CardKind::Debit,
        AccountStatus::Normal,
        "3012",
        1_000_000,
    ),
];
const DEMO_PIN: &str = "123456";
const DEFAULT_TODAY_YYMM: &str = "2601";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    Sale,
    Void,
    Refund,
    Balance,
    PreAuth,
    PreAuthVoid,
    Completion,
    CompletionVoid,
    /// The upload of a chip sale the card approved offline.
    OfflineSale,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Status {
    Approved,
    Declined,
    /// Cancelled by an approved void (sale, completion) or pre-auth void.
    Voided,
    Reversed,
    /// A pre-authorisation captured by a completion.
    Completed,
}

/// What the host remembers of each message it answered.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Record {
    key: MsgRef,
    kind: Kind,
    account_id: Option<String>,
    amount_fen: u64,
    rrn: String,
    auth_code: String,
    status: Status,
    original: Option<MsgRef>,
    /// For a pre-authorisation: the amount still held.
    hold_fen: u64,
    /// Set when the reversal of this message was applied; repeats answer with it.
    reversal_reply: Option<Approval>,
    /// Why it was declined, so a repeated advice (0221) gets the same answer.
    #[serde(default)]
    decline: Option<Decline>,
    /// A chip transaction's TC upload: whether its cryptogram verified (`None`: none came).
    #[serde(default)]
    tc_verified: Option<bool>,
    /// The script results (DF31, hex) a script result advice reported for it.
    #[serde(default)]
    script_results: Option<String>,
    /// The binding digest (hex) of the e-signature accepted for this slip.
    #[serde(default)]
    signature: Option<String>,
}

/// The simulated acquirer/issuer state. Not internally synchronised: share it behind a `Mutex`.
#[derive(Debug)]
pub struct Ledger {
    accounts: BTreeMap<String, Account>,
    records: Vec<Record>,
    postings: Vec<Posting>,
    closed_batches: Vec<(String, u32)>,
    next_rrn: u64,
    next_auth: u32,
    today_yymm: String,
}

impl Ledger {
    /// An empty ledger with no accounts.
    pub fn new() -> Ledger {
        Ledger {
            accounts: BTreeMap::new(),
            records: Vec::new(),
            postings: Vec::new(),
            closed_batches: Vec::new(),
            next_rrn: 1,
            next_auth: 1,
            today_yymm: DEFAULT_TODAY_YYMM.to_owned(),
        }
    }

    /// The demo card set documented in the module docs.
    pub fn with_demo_accounts() -> Ledger {
        let mut ledger = Ledger::new();
        for &(id, pan, kind, status, expiry, balance) in DEMO_CARDS {
            ledger.add_account(id, pan, DEMO_PIN, kind, status, expiry, balance);
        }
        ledger
    }

    #[allow(clippy::too_many_arguments)]
    pub fn add_account(
        &mut self,
        id: &str,
        pan: &str,
        pin: &str,
        kind: CardKind,
        status: AccountStatus,
        expiry_yymm: &str,
        balance_fen: i64,
    ) {
        self.accounts.insert(
            id.to_owned(),
            Account {
                id: id.to_owned(),
                pan_masked: mask_pan(pan),
                kind,
                status,
                expiry_yymm: expiry_yymm.to_owned(),
                balance_fen,
                wrong_pin_count: 0,
                pan: pan.to_owned(),
                pin: pin.to_owned(),
            },
        );
    }

    /// Binds an account loaded from file (which keeps no PAN or PIN) to its card again; `false`
    /// when there is no such account. Balances and records stay as loaded.
    pub fn bind_card(&mut self, id: &str, pan: &str, pin: &str) -> bool {
        let Some(account) = self.accounts.get_mut(id) else {
            return false;
        };
        account.pan = pan.to_owned();
        account.pin = pin.to_owned();
        true
    }

    /// The date cards are checked against (YYMM); the simulator's clock, set by tests.
    pub fn set_today(&mut self, yymm: &str) {
        self.today_yymm = yymm.to_owned();
    }

    pub fn account(&self, id: &str) -> Option<&Account> {
        self.accounts.get(id)
    }

    pub fn postings(&self) -> &[Posting] {
        &self.postings
    }

    /// Track 2 of a demo card as its magnetic stripe would carry it: PAN, expiry, service code
    /// (201 for the chip card, 101 otherwise) and discretionary data. The simulator is the
    /// issuer, so it may hand out its own test cards.
    /// Every demo card's name, for tests that must know all the card numbers in play (a
    /// secrets scan looks for each of them).
    pub fn demo_card_names() -> impl Iterator<Item = &'static str> {
        DEMO_CARDS.iter().map(|c| c.0)
    }

    pub fn demo_track2(&self, id: &str) -> Option<String> {
        let a = self.accounts.get(id)?;
        let service_code = if id == "chip" { "201" } else { "101" };
        Some(format!(
            "{}={}{service_code}0000000000",
            a.pan, a.expiry_yymm
        ))
    }

    /// Funds still held by approved pre-authorisations on this account.
    pub fn held_fen(&self, account_id: &str) -> u64 {
        self.records
            .iter()
            .filter(|r| {
                r.kind == Kind::PreAuth
                    && r.status == Status::Approved
                    && r.account_id.as_deref() == Some(account_id)
            })
            .map(|r| r.hold_fen)
            .sum()
    }

    /// Host-side fault for tests and drills: the host loses its record of a message (as after a
    /// failed database write), so the next settlement of that batch is unbalanced.
    pub fn lose_record(&mut self, terminal_id: &str, stan: u32) -> bool {
        let before = self.records.len();
        self.records
            .retain(|r| !(r.key.terminal_id == terminal_id && r.key.stan == stan));
        before != self.records.len()
    }

    /// The merchant's net position; see the module docs.
    pub fn net_fen(&self) -> i64 {
        let sum: i128 = self
            .postings
            .iter()
            .map(|p| p.effect.signed(p.amount_fen))
            .sum();
        i64::try_from(sum).unwrap_or(if sum < 0 { i64::MIN } else { i64::MAX })
    }

    /// The answer already given to this message, for a repeat (MTI 0221) of an advice the
    /// terminal never saw answered; `None` when the host never received the original.
    pub fn repeat(&self, key: &MsgRef) -> Option<Reply> {
        let r = &self.records[self.record(key)?];
        Some(match r.decline {
            Some(decline) => Reply::Declined(decline),
            None => Reply::Approved(Approval {
                rrn: r.rrn.clone(),
                auth_code: r.auth_code.clone(),
                balance_fen: None,
            }),
        })
    }

    /// Notes a TC upload for the message `key`; false when the host has no such message.
    pub fn record_tc(&mut self, key: &MsgRef, verified: bool) -> bool {
        match self.record(key) {
            Some(i) => {
                self.records[i].tc_verified = Some(verified);
                true
            }
            None => false,
        }
    }

    /// Whether the message `key` has had its TC uploaded, and whether it verified.
    pub fn tc_of(&self, key: &MsgRef) -> Option<bool> {
        self.records[self.record(key)?].tc_verified
    }

    /// Notes the script results (DF31, hex) reported for the message `key`.
    pub fn record_script_results(&mut self, key: &MsgRef, results_hex: &str) -> bool {
        match self.record(key) {
            Some(i) => {
                self.records[i].script_results = Some(results_hex.to_owned());
                true
            }
            None => false,
        }
    }

    /// The script results reported for the message `key`, if any.
    pub fn script_results_of(&self, key: &MsgRef) -> Option<String> {
        self.records[self.record(key)?].script_results.clone()
    }

    /// What an e-signature binds for the message `key`, when the host approved it (a sale, a
    /// pre-authorisation or a completion, even one voided since): amount, RRN, auth code.
    pub fn signable(&self, key: &MsgRef) -> Option<(u64, String, String)> {
        let r = &self.records[self.record(key)?];
        let kind_signs = matches!(
            r.kind,
            Kind::Sale | Kind::PreAuth | Kind::Completion | Kind::OfflineSale
        );
        let approved = matches!(
            r.status,
            Status::Approved | Status::Voided | Status::Completed
        );
        (kind_signs && approved).then(|| (r.amount_fen, r.rrn.clone(), r.auth_code.clone()))
    }

    /// Notes the e-signature accepted for the message `key` (its digest, hex).
    pub fn record_signature(&mut self, key: &MsgRef, digest_hex: &str) -> bool {
        match self.record(key) {
            Some(i) => {
                self.records[i].signature = Some(digest_hex.to_owned());
                true
            }
            None => false,
        }
    }

    /// The digest of the e-signature accepted for the message `key`, if any.
    pub fn signature_of(&self, key: &MsgRef) -> Option<String> {
        self.records[self.record(key)?].signature.clone()
    }

    fn record(&self, key: &MsgRef) -> Option<usize> {
        self.records.iter().position(|r| &r.key == key)
    }

    fn issue_ids(&mut self) -> (String, String) {
        let rrn = format!("{:012}", self.next_rrn % 1_000_000_000_000);
        let auth = format!("{:06}", self.next_auth % 1_000_000);
        self.next_rrn += 1;
        self.next_auth += 1;
        (rrn, auth)
    }

    fn post(&mut self, key: &MsgRef, account_id: &str, amount_fen: u64, effect: Effect, rrn: &str) {
        self.postings.push(Posting {
            terminal_id: key.terminal_id.clone(),
            stan: format!("{:06}", key.stan),
            amount_fen,
            effect,
            batch_no: format!("{:06}", key.batch_no),
            account_id: account_id.to_owned(),
            rrn: rrn.to_owned(),
        });
    }

    /// Moves money on an account. Signed arithmetic saturates rather than wraps; amounts are
    /// bounded far below i64 by the 12-digit field 4.
    fn adjust(&mut self, account_id: &str, delta_fen: i128) {
        if let Some(account) = self.accounts.get_mut(account_id) {
            let next = i128::from(account.balance_fen) + delta_fen;
            account.balance_fen =
                i64::try_from(next).unwrap_or(if next < 0 { i64::MIN } else { i64::MAX });
        }
    }
}

impl Default for Ledger {
    fn default() -> Ledger {
        Ledger::new()
    }
}
