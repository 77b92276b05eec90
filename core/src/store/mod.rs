//! The SQLite journal: the terminal's memory across crashes.
//!
//! Every step with an effect outside the process is preceded by a commit here (see DESIGN.md,
//! "Journal first"). An online transaction costs exactly two commits, each one WAL fsync under
//! `synchronous=FULL`: [`Journal::begin_online`] (STAN + request + armed reversal) and
//! [`Journal::record_outcome`] (response + reversal fate). [`Journal::commit_count`] lets tests
//! hold the code to that floor.
//!
//! Sensitive columns hold only what the caller already protected: `pan_masked` (6+4, checked),
//! `pan_sealed` (AES-GCM blob), `icc_data` (deleted once no reversal/advice needs it).

mod chip_params;
mod error;
mod integrity;
mod journal;
mod offline_signatures;
mod online;
mod owner;
mod qr_orders;
mod queue;
mod records;
mod risk_counters;
mod risk_state;
mod salvage;
mod schema;
mod signatures;
mod slip_contacts;
mod stats;
mod types;
mod write_txn;

#[cfg(test)]
mod offline_signature_tests;
#[cfg(test)]
mod signature_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod upload_tests;

pub use chip_params::StoredChipSet;
pub use error::StoreError;
pub use journal::{Journal, SharedJournal};
pub use offline_signatures::{AdviceStanding, UnboundSignature};
pub use online::{HostOutcome, NewTransaction, OnlineTxn, ReversalAction};
pub use owner::{JournalOwner, lock_path};
pub use qr_orders::{NewQrOrder, QrMode, QrOrder, QrOrderState, QrOrderUpdate};
pub use queue::{Advice, AdvicePurpose, AdviceState};
pub use records::{BatchTotals, PendingReversal, TransactionRecord};
pub use risk_counters::StagedRiskEvent;
pub use salvage::RecordedStorageFault;
pub use signatures::{NewSignature, SignatureState, StoredSignature};
pub use stats::EndingRecord;
pub use types::{
    BatchNo, EntryMode, OpaqueBlob, ReversalReason, ReversalState, Stan, TxnKind, TxnState,
};
