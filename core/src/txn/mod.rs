//! The transaction engine: one state machine for every card transaction kind, journaled before
//! every side effect. Everything below `txn` (codec, crypto, card, host, store, diag) knows
//! nothing of it.

// A `Termination` is the explained ending of a transaction, returned at most once per request on
// a path that then waits on people and networks; boxing it would buy nothing.
#![allow(clippy::result_large_err)]

mod advice;
mod chip;
mod chip_uploads;
mod config;
mod endings;
mod esign_flow;
mod esign_offline;
mod esign_slip;
mod esign_upload;
mod fields;
mod flows;
mod health;
pub mod ic_download;
pub mod kind;
mod offline;
mod online;
mod outcome;
mod receipt;
mod recovery;
mod reprint;
mod request;
mod reversal;
mod risk_check;
mod settlement;
mod sign_on;
mod statistics;
mod tap;
mod terminal;
pub mod track_cipher;

pub use chip::ChipConfig;
pub use config::{AcquirerSecurity, RiskConfig, TerminalConfig};
pub use esign_flow::{DEFAULT_SIGNING_TIMEOUT, SignatureNote, SignatureSetup};
pub use esign_slip::{SlipHeader, SlipPhoneError, SlipWithImage, e_slip};
pub use esign_upload::ESIGN_ATTEMPTS;
pub use health::local_time_fields;
pub use ic_download::{ChipDownload, ChipDownloadError, ChipSet};
pub use kind::{KindSpec, MoneyEffect, TxnKind};
pub use outcome::{Approval, Outcome};
pub use recovery::RecoveryReport;
pub use reprint::{ReprintError, UnprintedReceipt};
pub use request::{
    BalanceRequest, FollowUpRequest, Original, PreAuthRequest, RefundRequest, SaleRequest,
    VoidRequest,
};
pub use reversal::OwedReversal;
pub use risk_check::{RiskSetup, RiskStatus, RiskUpdateError};
pub use settlement::{SettlementReport, TotalsDifference, upload_digits};
pub use sign_on::SignOnResult;
pub use tap::UiListener;
pub use terminal::{OpenError, Ports, StorageFault, Terminal};
