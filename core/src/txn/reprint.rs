//! Work the shell shows an operator (advices queued, receipts a printer fault left unprinted) and
//! the reprint of a receipt from the journal. Kept apart from `terminal.rs` so the getters the
//! bindings need stay one small, additive file.

use thiserror::Error;

use crate::ports::{DeviceFault, Receipt};
use crate::store::{Advice, StoreError, TxnState};
use crate::txn::outcome::Outcome;
use crate::txn::terminal::Terminal;

/// A receipt a printer fault left waiting, named by the transaction it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnprintedReceipt {
    pub transaction_id: i64,
    pub attempt_id: String,
}

/// Why a receipt could not be reprinted.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ReprintError {
    #[error("no transaction with attempt id {attempt_id:?} in the journal")]
    UnknownAttempt { attempt_id: String },
    /// Only approved (or since voided) transactions have a receipt.
    #[error("transaction {attempt_id:?} is {state} and has no receipt")]
    NoReceipt { attempt_id: String, state: TxnState },
    #[error("the printer failed: {0}")]
    Printer(DeviceFault),
    #[error("journal: {0}")]
    Journal(#[from] StoreError),
}

impl Terminal {
    /// Advices and chip uploads queued for sending (refunds, offline chip sales, TCs, script
    /// results), oldest first.
    pub fn pending_advices(&self) -> Result<Vec<Advice>, StoreError> {
        self.journal().pending_advices()
    }

    /// Receipts waiting for a reprint because the printer failed, oldest first.
    pub fn unprinted_receipts(&self) -> Result<Vec<UnprintedReceipt>, StoreError> {
        let journal = self.journal();
        let mut out = Vec::new();
        for (transaction_id, _body) in journal.unprinted_receipts()? {
            let attempt_id = journal
                .transaction(transaction_id)?
                .map(|r| r.attempt_id)
                .unwrap_or_default();
            out.push(UnprintedReceipt {
                transaction_id,
                attempt_id,
            });
        }
        Ok(out)
    }

    /// Prints the duplicate receipt of an approved transaction again and, once the printer took
    /// it, clears it from the receipts waiting for a reprint. Waits for a running transaction,
    /// which may be using the printer.
    pub fn reprint(&self, attempt_id: &str) -> Result<Receipt, ReprintError> {
        let _busy = self.exclusive();
        let record = self.journal().by_attempt_id(attempt_id)?.ok_or_else(|| {
            ReprintError::UnknownAttempt {
                attempt_id: attempt_id.to_string(),
            }
        })?;
        let receipt = match self.recorded_outcome(&record) {
            Outcome::Approved(a) if a.receipt != Receipt::default() => a.receipt,
            _ => {
                return Err(ReprintError::NoReceipt {
                    attempt_id: attempt_id.to_string(),
                    state: record.state,
                });
            }
        };
        self.ports
            .printer
            .print(&receipt)
            .map_err(ReprintError::Printer)?;
        match self.journal().mark_printed(record.id) {
            // A receipt that printed the first time has no waiting row to clear.
            Ok(()) | Err(StoreError::NotFound { .. }) => Ok(receipt),
            Err(e) => Err(e.into()),
        }
    }
}
