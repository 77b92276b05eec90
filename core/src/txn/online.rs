//! One online financial exchange, journaled around its side effect: the request and its armed
//! reversal are committed before the bytes leave (fsync #1), the outcome after the answer
//! (fsync #2). Whatever happens in between, a restarted process finds the reversal armed.

use std::time::UNIX_EPOCH;

use crate::card::Pan;
use crate::card::emv::Completion;
use crate::card::{EntryConditions, EntryMode};
use crate::codec::iso8583::Message;
use crate::crypto::EncryptedPinBlock;
use crate::diag::{ResponseCode, Termination, lookup};
use crate::host::CancelToken;
use crate::host::acquirer::ExchangeError;
use crate::store::{
    EntryMode as JournalEntry, HostOutcome, NewTransaction, OnlineTxn, OpaqueBlob, ReversalAction,
    ReversalReason, TransactionRecord, TxnState,
};
use crate::txn::chip::Inserted;
use crate::txn::endings;
use crate::txn::fields::{self, CardFields, OriginalFields, RequestFacts};
use crate::txn::kind::TxnKind;
use crate::txn::outcome::{Approval, Outcome};
use crate::txn::receipt;
use crate::txn::terminal::Terminal;

/// How long an unanswered refund advice is re-sent before it is parked for the operator.
pub(crate) const ADVICE_LIFETIME_MS: i64 = 24 * 3600 * 1000;

/// Field 39 of a host that could not verify the request's MAC.
pub(crate) const MAC_ERROR: &str = "A0";

/// Response codes after which the host wants a new sign-on before anything else.
pub(crate) fn demands_sign_on(code: &str) -> bool {
    code.parse::<ResponseCode>()
        .map(|c| lookup(c).reaction == crate::diag::TerminalReaction::SignOn)
        .unwrap_or(false)
}

/// Everything the engine knows about a request before it goes online.
#[derive(Debug)]
pub(crate) struct Prepared<'a> {
    pub kind: TxnKind,
    pub attempt_id: &'a str,
    pub amount_fen: u64,
    pub pan: &'a Pan,
    pub track2_digits: Option<&'a str>,
    pub entry: EntryConditions,
    pub pin: Option<EncryptedPinBlock>,
    pub original: Option<&'a TransactionRecord>,
    /// An inserted chip card: field 55 goes with the request, and the card finishes with the
    /// host's answer before the outcome is recorded.
    pub icc: Option<&'a Inserted>,
}

/// The journal's name for an entry mode.
pub(crate) fn journal_entry(mode: EntryMode) -> JournalEntry {
    match mode {
        EntryMode::Magstripe => JournalEntry::Magstripe,
        EntryMode::FallbackMagstripe => JournalEntry::Fallback,
        EntryMode::ContactChip => JournalEntry::Chip,
        EntryMode::Contactless => JournalEntry::Contactless,
        _ => JournalEntry::Manual,
    }
}

/// The entry mode of a journaled transaction, to rebuild field 22 of its reversal.
pub(crate) fn entry_of(journal: JournalEntry) -> EntryMode {
    match journal {
        JournalEntry::Magstripe => EntryMode::Magstripe,
        JournalEntry::Fallback => EntryMode::FallbackMagstripe,
        JournalEntry::Chip => EntryMode::ContactChip,
        JournalEntry::Contactless => EntryMode::Contactless,
        _ => EntryMode::Manual,
    }
}

impl Terminal {
    pub(crate) fn now_ms(&self) -> i64 {
        self.ports
            .clock
            .now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }

    pub(crate) fn online(&self, p: Prepared<'_>, cancel: &CancelToken) -> Outcome {
        let spec = p.kind.spec();
        let sealed = match self.seal_pan(p.pan, p.attempt_id) {
            Ok(s) => s,
            Err(t) => return t.into(),
        };
        let new = NewTransaction {
            attempt_id: p.attempt_id.to_string(),
            kind: spec.journal,
            amount_fen: p.amount_fen,
            currency: fields::CURRENCY_CNY.to_string(),
            pan_masked: Some(p.pan.masked().to_string()),
            pan_sealed: Some(sealed),
            entry_mode: journal_entry(p.entry.mode),
            original_id: p.original.map(|o| o.id),
            icc_data: p.icc.map(|i| OpaqueBlob::new(i.request.field55.clone())),
            needs_reversal: spec.reversible,
            at_ms: self.now_ms(),
        };
        // Enciphered before anything is journaled: a terminal that cannot encipher sends nothing.
        let track2 = match self.track_for_wire(p.track2_digits) {
            Ok(t) => t,
            Err(t) => return t.into(),
        };
        let started = match self.journal().begin_online(&new) {
            Ok(s) => s,
            Err(e) => return self.storage_fault(&e).into(),
        };
        crate::crashpoint::reached("online.journaled", spec.name);
        let entry_mode = p.entry.field22();
        let facts = RequestFacts {
            spec,
            amount_fen: p.amount_fen,
            stan: started.stan.value(),
            batch_no: started.batch_no.value(),
            terminal_id: &self.config.terminal_id,
            merchant_id: &self.config.merchant_id,
            card: CardFields {
                pan_digits: Some(p.pan.expose_digits()),
                track2_digits: track2.as_deref().map(String::as_str),
                entry_mode: &entry_mode,
                read_capability: p.entry.field60_4(),
                ic_condition: p.entry.field60_5(),
                pin_block: p.pin.as_ref(),
                track_enciphered: track2.is_some() && self.config.dialect.track_encryption,
                card_sequence: p.icc.and_then(|i| i.request.card.pan_sequence),
                icc_data: p.icc.map(|i| i.request.field55.as_slice()),
            },
            original: p.original.map(original_fields),
            security_control: self.config.dialect.security_control(),
        };
        let request = fields::financial_request(&facts);
        log::info!(
            "txn {}: {} stan {} sent",
            p.attempt_id,
            spec.name,
            started.stan
        );
        match self.exchange(request, true, cancel) {
            Ok(response) => {
                crate::crashpoint::reached("online.answered", spec.name);
                self.conclude(&p, &started, &response)
            }
            Err(e) => self.exchange_failed(&p, &started, e),
        }
    }

    pub(crate) fn exchange(
        &self,
        request: Message,
        mac: bool,
        cancel: &CancelToken,
    ) -> Result<Message, ExchangeError> {
        let mti = request.mti().to_owned();
        let started = std::time::Instant::now();
        let result = self
            .link
            .exchange(&*self.transport, &*self.ports.vault, request, mac, cancel);
        self.note_exchange(&mti, started.elapsed(), result.is_ok());
        // One rule for every MACed message: an answer that could not be authenticated, or one
        // that asks for it (A0, 77, 99), means the keys are out of step; sign on before the next.
        let keys_out_of_step = match &result {
            Err(e) => e.is_unauthenticated(),
            Ok(response) => response
                .field_text(39)
                .is_some_and(|code| demands_sign_on(&code)),
        };
        if mac && keys_out_of_step {
            self.session().sign_on_required = true;
        }
        result
    }

    fn conclude(&self, p: &Prepared<'_>, started: &OnlineTxn, response: &Message) -> Outcome {
        let code = response.field_text(39).unwrap_or_default();
        if code == MAC_ERROR {
            // The host could not verify our MAC, so it may not have acted on the request either
            // way it says: the outcome stays unknown and the reversal stays armed.
            return self.exchange_failed(p, started, ExchangeError::BadMac);
        }
        // The chip has the last word before anything is recorded: a crash before this point
        // leaves the reversal armed, so money never stays taken without the card's TC.
        let report = p
            .icc
            .and_then(|i| self.complete_inserted(i, Some(response)));
        if code == "00"
            && let Some(report) = &report
            && report.completion != Completion::ApprovedOnline
        {
            return self.card_refused_approval(p, started, response, &report.completion);
        }
        // The TC and the script results the card leaves owing, queued with the outcome.
        let (uploads, icc_data) = match (&report, p.icc) {
            (Some(report), Some(inserted)) => crate::txn::chip_uploads::after_completion(
                report,
                inserted.request.card.pan_sequence,
                self.now_ms(),
            ),
            _ => (Vec::new(), None),
        };
        if code != "00" {
            let termination = endings::from_response(&code);
            let outcome = HostOutcome {
                response_code: Some(code.clone()),
                rrn: response.field_text(37),
                termination_code: Some(termination.code.to_string()),
                uploads,
                icc_data,
                ..HostOutcome::new(TxnState::Declined, ReversalAction::Disarm, self.now_ms())
            };
            if let Err(e) = self.journal().record_outcome(started.id, &outcome) {
                return self.storage_fault(&e).into();
            }
            log::info!("txn {}: declined {code}", p.attempt_id);
            return termination.into();
        }
        let rrn = response.field_text(37).unwrap_or_default();
        let auth_code = response.field_text(38).unwrap_or_default();
        let outcome = HostOutcome {
            response_code: Some(code),
            rrn: Some(rrn.clone()),
            auth_code: Some(auth_code.clone()),
            uploads,
            icc_data,
            ..HostOutcome::new(TxnState::Approved, ReversalAction::Disarm, self.now_ms())
        };
        if let Err(e) = self.journal().record_outcome(started.id, &outcome) {
            // The host approved but the terminal cannot record it: the reversal stays armed,
            // and the next online message (or recovery) undoes the payment rather than leave
            // it unaccounted for.
            return self.storage_fault(&e).into();
        }
        crate::crashpoint::reached("online.recorded", p.kind.name());
        log::info!("txn {}: approved", p.attempt_id);
        let mut approval = Approval {
            kind: p.kind,
            attempt_id: p.attempt_id.to_string(),
            amount_fen: p.amount_fen,
            stan: started.stan.value(),
            batch_no: started.batch_no.value(),
            rrn,
            auth_code,
            pan_masked: p.pan.masked().to_string(),
            balance_fen: response.text(54).and_then(receipt::parse_balance),
            receipt: Default::default(),
            receipt_printed: false,
            paperless: false,
            signature: None,
        };
        approval.signature = self.sign_approval(&crate::txn::esign_flow::Signed {
            ask: p.signature_ask(),
            started,
            rrn: &approval.rrn,
            auth_code: &approval.auth_code,
        });
        approval.receipt = receipt::for_approval(
            &self.config,
            &approval,
            p.pan.masked(),
            self.ports.clock.now(),
            false,
            p.icc.map(|i| i.request.field55.as_slice()),
        );
        approval.paperless = self.paperless_slip(approval.signature.as_ref());
        if !approval.paperless {
            approval.receipt_printed = self.print(started.id, &approval.receipt);
        }
        Outcome::Approved(approval)
    }

    /// The host approved and the card did not (AAC at the second GENERATE AC, or the card
    /// gone before it): declined for the merchant, and the host's approval reversed with 96.
    fn card_refused_approval(
        &self,
        p: &Prepared<'_>,
        started: &OnlineTxn,
        response: &Message,
        completion: &Completion,
    ) -> Outcome {
        log::warn!(
            "txn {}: host approved, card ended {completion:?}: reversing (96)",
            p.attempt_id
        );
        let termination = endings::declined_after_approval();
        let outcome = HostOutcome {
            response_code: Some("00".into()),
            rrn: response.field_text(37),
            termination_code: Some(termination.code.to_string()),
            keep_icc_data: true,
            ..HostOutcome::new(
                TxnState::Declined,
                ReversalAction::Require(ReversalReason::CardDeclined),
                self.now_ms(),
            )
        };
        if let Err(e) = self.journal().record_outcome(started.id, &outcome) {
            return self.storage_fault(&e).into();
        }
        crate::crashpoint::reached("online.card_declined", p.kind.name());
        self.send_reversals_locked();
        termination.into()
    }

    fn exchange_failed(&self, p: &Prepared<'_>, started: &OnlineTxn, e: ExchangeError) -> Outcome {
        log::warn!("txn {}: exchange failed: {e}", p.attempt_id);
        let reached = e.may_have_reached_host();
        if let Some(inserted) = p.icc
            && let Some(report) = self.complete_inserted(inserted, None)
        {
            // No usable answer: the card ends by its default action (ARC Z3). When the request
            // may have reached the host, the reversal stays armed whatever the card says; when
            // it certainly did not, a sale the card approves (Y3) is an offline approval.
            if !reached
                && p.kind == TxnKind::Sale
                && report.completion == Completion::ApprovedUnableOnline
            {
                return self.approved_unable_online(p, started, inserted, &report);
            }
        }
        let termination = endings::from_exchange(&e);
        let reversible = p.kind.spec().reversible;
        let (state, reversal, advice) = match (reached, reversible) {
            (false, _) => (TxnState::NotSent, ReversalAction::Disarm, None),
            (true, true) => (
                TxnState::Unknown,
                ReversalAction::Require(reversal_reason(&e)),
                None,
            ),
            // A refund is an advice: the host de-duplicates it by STAN, so it is queued to be
            // sent again unchanged rather than reversed.
            (true, false) => (
                TxnState::Unknown,
                ReversalAction::Disarm,
                Some(self.now_ms() + ADVICE_LIFETIME_MS),
            ),
        };
        let outcome = HostOutcome {
            termination_code: Some(termination.code.to_string()),
            advice_expires_at: advice,
            // A chip transaction's reversal carries part of its field 55.
            keep_icc_data: p.icc.is_some() && matches!(reversal, ReversalAction::Require(_)),
            ..HostOutcome::new(state, reversal, self.now_ms())
        };
        if let Err(se) = self.journal().record_outcome(started.id, &outcome) {
            return self.storage_fault(&se).into();
        }
        if matches!(reversal, ReversalAction::Require(_)) {
            // Try at once so the customer's money is released while they stand there; what does
            // not get through stays owed and goes before the next online message.
            self.send_reversals_locked();
        }
        termination.into()
    }

    pub(crate) fn print(&self, txn_id: i64, receipt: &crate::ports::Receipt) -> bool {
        match self.ports.printer.print(receipt) {
            Ok(()) => true,
            Err(fault) => {
                // A printer fault never undoes a payment: the receipt waits for a reprint.
                log::warn!("txn #{txn_id}: receipt not printed: {fault}");
                if let Err(e) = self.journal().save_receipt(txn_id, &receipt.to_string()) {
                    log::error!("txn #{txn_id}: pending receipt not saved: {e}");
                }
                false
            }
        }
    }

    /// Track 2 as it goes on the wire: enciphered under the TDK when the acquirer's dialect says
    /// so (the TDK never leaves the key vault), else as read.
    fn track_for_wire(
        &self,
        digits: Option<&str>,
    ) -> Result<Option<zeroize::Zeroizing<String>>, Termination> {
        let Some(digits) = digits else {
            return Ok(None);
        };
        if !self.config.dialect.track_encryption {
            return Ok(Some(zeroize::Zeroizing::new(digits.to_string())));
        }
        let vault = &self.ports.vault;
        let mut ped_failed = false;
        crate::txn::track_cipher::encipher_track(digits, |block| {
            vault.encrypt_data_block(block).map_err(|e| {
                ped_failed |= matches!(e, crate::crypto::VaultError::Device { .. });
                e.to_string()
            })
        })
        .map(|t| Some(zeroize::Zeroizing::new(t)))
        .map_err(|e| {
            log::error!(
                "terminal {}: track not enciphered: {e}",
                self.config.terminal_id
            );
            if ped_failed {
                return endings::ped_fault();
            }
            endings::keys().with_detail("no track data key (TDK) / 无磁道加密密钥")
        })
    }

    /// Seals the PAN bound to its journal row: the attempt id is the associated data, so a
    /// sealed PAN copied onto another row does not open there.
    pub(crate) fn seal_pan(&self, pan: &Pan, attempt_id: &str) -> Result<OpaqueBlob, Termination> {
        crate::crypto::seal(
            &self.config.storage_key,
            &pan_binding(attempt_id),
            pan.expose_digits().as_bytes(),
        )
        .map(OpaqueBlob::new)
        .map_err(|e| {
            log::error!(
                "terminal {}: PAN sealing failed: {e}",
                self.config.terminal_id
            );
            endings::keys()
        })
    }

    /// The PAN of a journaled transaction, opened under its own row's binding.
    pub(crate) fn unseal_pan(&self, record: &TransactionRecord) -> Result<Pan, Termination> {
        let sealed = record.pan_sealed.as_ref().ok_or_else(endings::keys)?;
        let digits = crate::crypto::open(
            &self.config.storage_key,
            &pan_binding(&record.attempt_id),
            sealed.as_bytes(),
        )
        .map_err(|_| endings::keys())?;
        let text = std::str::from_utf8(&digits).map_err(|_| endings::keys())?;
        Pan::parse(text).map_err(|_| endings::keys())
    }

    /// Binds PANs sealed by an older build (associated data "pan", the same for every row) to
    /// their rows, once per journal; a blob that opens under neither is left as it is (its
    /// reversal goes without field 2). Runs at open and after a quarantine, before anything is
    /// sent, and never fails a payment: the worst case is a PAN that cannot be opened.
    pub(crate) fn bind_sealed_pans(&self) {
        let mut journal = self.journal();
        let rows = match journal.unbound_sealed_pans() {
            Ok(Some(rows)) => rows,
            Ok(None) => return,
            Err(e) => {
                log::error!(
                    "terminal {}: sealed PANs unreadable: {e}",
                    self.config.terminal_id
                );
                return;
            }
        };
        let key = &self.config.storage_key;
        let mut resealed = Vec::new();
        for (id, attempt_id, blob) in &rows {
            let bound = pan_binding(attempt_id);
            if crate::crypto::open(key, &bound, blob.as_bytes()).is_ok() {
                continue;
            }
            let Ok(digits) = crate::crypto::open(key, LEGACY_PAN_BINDING, blob.as_bytes()) else {
                continue;
            };
            match crate::crypto::seal(key, &bound, &digits) {
                Ok(sealed) => resealed.push((*id, OpaqueBlob::new(sealed))),
                Err(e) => log::error!("txn {attempt_id}: PAN not resealed: {e}"),
            }
        }
        match journal.store_bound_pans(&resealed) {
            Ok(()) => log::info!(
                "terminal {}: {} sealed PAN(s) bound to their rows",
                self.config.terminal_id,
                resealed.len()
            ),
            Err(e) => log::error!("terminal {}: PANs not bound: {e}", self.config.terminal_id),
        }
    }
}

/// What every PAN was sealed with before PANs were bound to their rows.
const LEGACY_PAN_BINDING: &[u8] = b"pan";

/// The associated data a row's PAN is sealed with.
fn pan_binding(attempt_id: &str) -> Vec<u8> {
    let mut aad = b"pan/".to_vec();
    aad.extend_from_slice(attempt_id.as_bytes());
    aad
}

/// The reversal reason a failed exchange calls for.
fn reversal_reason(e: &ExchangeError) -> ReversalReason {
    match e {
        ExchangeError::BadMac | ExchangeError::MacMissing { .. } => ReversalReason::MacFailure,
        ExchangeError::Transport(_) => ReversalReason::NoResponse,
        _ => ReversalReason::TerminalError,
    }
}

/// A journaled request, rebuilt for a message that repeats it (a reversal, an advice repeat):
/// the same identifying elements, STAN and batch; the PAN from the sealed column; never track
/// data or a PIN block, which were not stored.
pub(crate) struct Rebuilt {
    kind: TxnKind,
    /// `None` when the sealed PAN did not open: a reversal then goes without field 2 (the
    /// acquirer matches it by terminal, batch and STAN); an advice cannot go at all.
    pan: Option<Pan>,
    entry: EntryConditions,
    entry_mode: String,
    original: Option<TransactionRecord>,
    /// Field 55 as the request carried it, while a reversal still needs it.
    icc_data: Option<Vec<u8>>,
}

impl Terminal {
    /// Rebuilds a journaled request; `Err` says why it cannot be (an unknown kind).
    pub(crate) fn rebuild(&self, record: &TransactionRecord) -> Result<Rebuilt, String> {
        let kind = TxnKind::from_journal(record.kind)
            .ok_or_else(|| format!("kind {} cannot be rebuilt", record.kind.as_str()))?;
        let pan = match self.unseal_pan(record) {
            Ok(pan) => Some(pan),
            Err(_) => {
                log::warn!(
                    "txn {}: sealed PAN does not open; rebuilding without field 2",
                    record.attempt_id
                );
                None
            }
        };
        let original = match record.original_id {
            Some(oid) => self.journal().transaction(oid).ok().flatten(),
            None => None,
        };
        let pin = match record.entry_mode {
            JournalEntry::Contactless => crate::txn::tap::rebuilt_pin_capability(
                record.icc_data.as_ref().map(|b| b.as_bytes()),
            ),
            _ => crate::card::PinCapability::CanAcceptPin,
        };
        let entry = EntryConditions::new(
            entry_of(record.entry_mode),
            pin,
            self.config.read_capability,
        );
        Ok(Rebuilt {
            kind,
            pan,
            entry_mode: entry.field22(),
            entry,
            original,
            icc_data: record.icc_data.as_ref().map(|b| b.as_bytes().to_vec()),
        })
    }
}

impl Rebuilt {
    pub(crate) fn facts<'a>(
        &'a self,
        terminal: &'a Terminal,
        record: &TransactionRecord,
    ) -> RequestFacts<'a> {
        RequestFacts {
            spec: self.kind.spec(),
            amount_fen: record.amount_fen,
            stan: record.stan.value(),
            batch_no: record.batch_no.value(),
            terminal_id: &terminal.config.terminal_id,
            merchant_id: &terminal.config.merchant_id,
            card: CardFields {
                pan_digits: self.pan.as_ref().map(|p| p.expose_digits()),
                track2_digits: None,
                entry_mode: &self.entry_mode,
                read_capability: self.entry.field60_4(),
                ic_condition: self.entry.field60_5(),
                pin_block: None,
                track_enciphered: false,
                card_sequence: self
                    .icc_data
                    .as_deref()
                    .and_then(crate::txn::chip_uploads::stored_psn),
                icc_data: self.icc_data.as_deref(),
            },
            original: self.original.as_ref().map(original_fields),
            security_control: terminal.config.dialect.security_control(),
        }
    }

    pub(crate) fn kind(&self) -> TxnKind {
        self.kind
    }

    pub(crate) fn has_pan(&self) -> bool {
        self.pan.is_some()
    }

    /// `why` an attempt failed, noting a request that went without its PAN.
    pub(crate) fn annotate(&self, why: &str) -> String {
        if self.pan.is_some() {
            why.to_string()
        } else {
            format!("{why} (sent without PAN: the sealed PAN did not open)")
        }
    }
}

pub(crate) fn original_fields(o: &TransactionRecord) -> OriginalFields<'_> {
    OriginalFields {
        batch_no: o.batch_no.value(),
        stan: o.stan.value(),
        rrn: o.rrn.as_deref().unwrap_or(""),
        auth_code: o.auth_code.as_deref().unwrap_or(""),
        date: None,
    }
}
