//! What the journal shows the shell: the transaction history (masked PAN only), the work still
//! owed to the host or the printer, and a storage fault awaiting the operator.

use smartpos_core::store::{self, Advice, TransactionRecord, TxnKind as JournalKind, TxnState};
use smartpos_core::txn::{self, OwedReversal, StorageFault, UnprintedReceipt};

use crate::outcome::{TerminationRecord, TransactionKind};

/// Where a journaled transaction stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum TransactionState {
    /// Sent or about to be; recovery resolves it.
    Sending,
    Approved,
    Declined,
    /// Never reached the host: nothing to undo.
    NotSent,
    /// May have reached the host without a usable answer: its reversal (or advice) is pending.
    Unknown,
    Reversed,
    /// Cancelled later by an approved void.
    Voided,
    /// A state this version of the bindings does not know by name.
    Other,
}

impl From<TxnState> for TransactionState {
    fn from(s: TxnState) -> Self {
        match s {
            TxnState::Sending => TransactionState::Sending,
            TxnState::Approved => TransactionState::Approved,
            TxnState::Declined => TransactionState::Declined,
            TxnState::NotSent => TransactionState::NotSent,
            TxnState::Unknown => TransactionState::Unknown,
            TxnState::Reversed => TransactionState::Reversed,
            TxnState::Voided => TransactionState::Voided,
            _ => TransactionState::Other,
        }
    }
}

fn kind_of(kind: JournalKind) -> TransactionKind {
    txn::TxnKind::from_journal(kind)
        .map(TransactionKind::from)
        .unwrap_or(TransactionKind::Other)
}

/// One line of the history. The card number appears masked (first 6, last 4) or not at all.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TransactionSummaryRecord {
    /// The journal's id, for support; the shell names transactions by `attempt_id`.
    pub transaction_id: i64,
    pub attempt_id: String,
    pub kind: TransactionKind,
    pub state: TransactionState,
    pub amount_fen: u64,
    /// The voucher number (凭证号).
    pub stan: u32,
    pub batch_no: u32,
    pub pan_masked: Option<String>,
    pub rrn: Option<String>,
    pub auth_code: Option<String>,
    /// Field 39 of the host's answer, when there was one.
    pub response_code: Option<String>,
    /// The termination code of an ending that was not an approval (e.g. "NET_TIMEOUT").
    pub termination_code: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

impl From<TransactionRecord> for TransactionSummaryRecord {
    fn from(r: TransactionRecord) -> Self {
        TransactionSummaryRecord {
            transaction_id: r.id,
            kind: kind_of(r.kind),
            state: r.state.into(),
            amount_fen: r.amount_fen,
            stan: r.stan.value(),
            batch_no: r.batch_no.value(),
            // The sealed PAN, ICC data and the rest of the record never leave the core.
            pan_masked: r.pan_masked,
            rrn: r.rrn,
            auth_code: r.auth_code,
            response_code: r.response_code,
            termination_code: r.termination_code,
            created_at_ms: r.created_at,
            updated_at_ms: r.updated_at,
            attempt_id: r.attempt_id,
        }
    }
}

/// A reversal the host has not confirmed yet, with what an operator needs to settle it with the
/// acquirer by phone or portal when it is parked. The card number appears masked or not at all.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PendingReversalRecord {
    /// The journal id of the transaction it undoes: what `Terminal.release_parked` takes.
    pub transaction_id: i64,
    pub attempt_id: String,
    /// What is being reversed (a sale, a pre-authorisation, …).
    pub kind: TransactionKind,
    pub amount_fen: u64,
    /// The voucher number (凭证号) of the transaction being reversed.
    pub stan: u32,
    pub batch_no: u32,
    /// First 6 and last 4 digits; null when the transaction never read a card number.
    pub pan_masked: Option<String>,
    /// The reversal reason sent in field 39: "98", "96", "A0" or "06".
    pub reason_code: String,
    /// "armed", "pending", "sent" or "failed" (parked for the operator after its attempts).
    pub state: String,
    pub attempts: u32,
    /// Why the last attempt did not clear it (timeout, the host's answer), when one failed.
    pub last_error: Option<String>,
    /// Set when it is parked: the terminal stopped retrying, settlement is blocked, and the
    /// operator must settle it with the acquirer and then `release_parked(transaction_id)`.
    /// What the merchant is told (`NET_REVERSAL_PARKED`) and the remedies.
    pub parked: Option<TerminationRecord>,
}

impl From<OwedReversal> for PendingReversalRecord {
    fn from(r: OwedReversal) -> Self {
        PendingReversalRecord {
            transaction_id: r.transaction_id,
            kind: kind_of(r.kind),
            amount_fen: r.amount_fen,
            stan: r.stan,
            batch_no: r.batch_no,
            pan_masked: r.pan_masked,
            reason_code: r.reason,
            state: r.state.as_str().to_string(),
            attempts: r.attempts,
            last_error: r.last_error,
            parked: r.parked.map(TerminationRecord::from),
            attempt_id: r.attempt_id,
        }
    }
}

/// A refund advice queued to be sent again.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PendingAdviceRecord {
    pub transaction_id: i64,
    pub attempts: u32,
    /// Milliseconds since the Unix epoch; past it the advice is kept as expired, never dropped.
    pub expires_at_ms: i64,
}

impl From<Advice> for PendingAdviceRecord {
    fn from(a: Advice) -> Self {
        PendingAdviceRecord {
            transaction_id: a.transaction_id,
            attempts: a.attempts,
            expires_at_ms: a.expires_at,
        }
    }
}

/// A receipt a printer fault left waiting; reprint it with `Terminal.reprint(attempt_id)`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct UnprintedReceiptRecord {
    pub transaction_id: i64,
    pub attempt_id: String,
}

impl From<UnprintedReceipt> for UnprintedReceiptRecord {
    fn from(r: UnprintedReceipt) -> Self {
        UnprintedReceiptRecord {
            transaction_id: r.transaction_id,
            attempt_id: r.attempt_id,
        }
    }
}

/// Everything the terminal still owes the host or the printer. Settlement waits for the
/// reversals and advices; the receipts wait for the operator.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PendingWorkRecord {
    pub reversals: Vec<PendingReversalRecord>,
    pub advices: Vec<PendingAdviceRecord>,
    pub unprinted_receipts: Vec<UnprintedReceiptRecord>,
}

impl PendingWorkRecord {
    pub(crate) fn read(t: &txn::Terminal) -> Result<Self, store::StoreError> {
        Ok(PendingWorkRecord {
            reversals: into_all(t.owed_reversals()?),
            advices: into_all(t.pending_advices()?),
            unprinted_receipts: into_all(t.unprinted_receipts()?),
        })
    }
}

fn into_all<A, B: From<A>>(items: Vec<A>) -> Vec<B> {
    items.into_iter().map(B::from).collect()
}

/// A corrupt journal found at open: payments are refused until the operator acknowledges it.
/// Journaled in the fresh journal, so it is reported again after a restart until acknowledged.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct StorageFaultRecord {
    pub detail: String,
    /// Where the corrupt files were moved (kept for investigation, never deleted).
    pub moved_to: Vec<String>,
    /// Transactions the corrupt journal still owed the acquirer (reversals, advices, requests in
    /// flight), carried into the fresh journal; recovery resolves them like any other.
    pub carried: u32,
    /// Why the corrupt copy could not be read at all, if it could not: what it owed is unknown.
    /// `acknowledge_storage_fault` then needs `accept_unreadable = true`, once the operator has
    /// reconciled with the acquirer.
    pub unreadable: Option<String>,
}

impl From<StorageFault> for StorageFaultRecord {
    fn from(f: StorageFault) -> Self {
        StorageFaultRecord {
            detail: f.detail,
            moved_to: f
                .moved_to
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect(),
            carried: u32::try_from(f.carried).unwrap_or(u32::MAX),
            unreadable: f.unreadable,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use smartpos_core::diag::{Termination, TerminationCode};
    use smartpos_core::store::{BatchNo, EntryMode, OpaqueBlob, ReversalState, Stan};

    #[test]
    fn a_summary_keeps_the_masked_pan_and_drops_the_sealed_one() {
        let record = TransactionRecord {
            id: 7,
            attempt_id: "sale-7".into(),
            kind: JournalKind::PreAuthVoid,
            state: TxnState::Approved,
            amount_fen: 1_200,
            currency: "156".into(),
            stan: Stan::new(42).unwrap(),
            batch_no: BatchNo::new(3).unwrap(),
            pan_masked: Some("622202******0015".into()),
            pan_sealed: Some(OpaqueBlob::new(b"6222020000000015".to_vec())),
            entry_mode: EntryMode::Manual,
            rrn: Some("000000000042".into()),
            auth_code: Some("123456".into()),
            response_code: Some("00".into()),
            termination_code: None,
            original_id: Some(6),
            icc_data: None,
            created_at: 1_000,
            updated_at: 2_000,
        };
        let s = TransactionSummaryRecord::from(record);
        assert_eq!(s.kind, TransactionKind::PreAuthVoid);
        assert_eq!(s.state, TransactionState::Approved);
        assert_eq!((s.stan, s.batch_no, s.amount_fen), (42, 3, 1_200));
        assert!(!format!("{s:?}").contains("6222020000000015"));
        assert_eq!(s.pan_masked.as_deref(), Some("622202******0015"));
    }

    #[test]
    fn a_journal_sign_on_is_not_a_payment_kind() {
        assert!(txn::TxnKind::from_journal(JournalKind::SignOn).is_none());
    }

    fn owed(parked: Option<Termination>) -> OwedReversal {
        OwedReversal {
            transaction_id: 9,
            attempt_id: "sale-9".into(),
            kind: JournalKind::Sale,
            amount_fen: 4_200,
            stan: 17,
            batch_no: 2,
            pan_masked: Some("622202******0015".into()),
            reason: "98".into(),
            state: if parked.is_some() {
                ReversalState::Failed
            } else {
                ReversalState::Pending
            },
            attempts: 3,
            last_error: Some("no answer within 400 ms".into()),
            parked,
        }
    }

    #[test]
    fn an_owed_reversal_carries_what_the_operator_needs() {
        let r = PendingReversalRecord::from(owed(None));
        assert_eq!(
            (r.transaction_id, r.attempt_id.as_str(), r.kind),
            (9, "sale-9", TransactionKind::Sale)
        );
        assert_eq!((r.amount_fen, r.stan, r.batch_no), (4_200, 17, 2));
        assert_eq!(r.pan_masked.as_deref(), Some("622202******0015"));
        assert_eq!(
            (r.reason_code.as_str(), r.state.as_str()),
            ("98", "pending")
        );
        assert_eq!(r.last_error.as_deref(), Some("no answer within 400 ms"));
        assert_eq!(r.parked, None);
    }

    #[test]
    fn a_parked_reversal_keeps_its_termination() {
        let t = Termination::new(TerminationCode::NetReversalParked);
        let r = PendingReversalRecord::from(owed(Some(t.clone())));
        assert_eq!(r.state, "failed");
        let parked = r.parked.expect("parked");
        assert_eq!(parked, TerminationRecord::from(t));
        assert_eq!(parked.code, "NET_REVERSAL_PARKED");
    }

    #[test]
    fn a_storage_fault_says_what_was_carried_and_what_could_not_be_read() {
        let f = StorageFaultRecord::from(StorageFault {
            detail: "not a database".into(),
            moved_to: vec!["/data/j.db.corrupt-1".into()],
            carried: 2,
            unreadable: Some("file is not a database".into()),
        });
        assert_eq!(f.moved_to, vec!["/data/j.db.corrupt-1".to_string()]);
        assert_eq!(f.carried, 2);
        assert_eq!(f.unreadable.as_deref(), Some("file is not a database"));
    }
}
