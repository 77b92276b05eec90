//! Thin UniFFI layer over `smartpos-core`: every export is a few lines that convert types and
//! run the core inside [`error::guard`], so no panic crosses into the JVM.

uniffi::setup_scaffolding!();

#[cfg(target_os = "android")]
mod android;
mod config;
mod error;
mod history;
mod logging;
mod money;
mod optional_ports;
mod outcome;
mod ports;
mod terminal;
#[cfg(feature = "test-hooks")]
mod test_hooks;

pub use config::TerminalConfigRecord;
pub use error::{AmountProblem, SmartPosError};
pub use history::{
    PendingAdviceRecord, PendingReversalRecord, PendingWorkRecord, StorageFaultRecord,
    TransactionState, TransactionSummaryRecord, UnprintedReceiptRecord,
};
pub use logging::{LogLevel, init_logging};
pub use money::{AmountRecord, format_amount, parse_amount};
pub use optional_ports::{
    Audience, CellularGeneration, Confirmation, GeoFixRecord, Location, NetworkLink,
    NetworkMonitor, NetworkStatusRecord, Prompt, PromptTextRecord, Scanner, TerminalPorts,
};
pub use outcome::{
    ApprovalRecord, Cause, Outcome, PaymentMethod, ReceiptLineRecord, ReceiptRecord,
    RecoveryRecord, RemedyCode, RemedyRecord, ReprintOutcome, SettlementOutcome, SettlementRecord,
    SignOnOutcome, SignOnRecord, TerminationRecord, TransactionKind,
};
pub use ports::{CardPresentationRecord, CardReader, PinPad, PortError, Printer};
pub use terminal::{CancelHandle, Terminal};
#[cfg(feature = "test-hooks")]
pub use test_hooks::{TestAcquirer, debug_panic_probe, start_test_acquirer};

/// Version of the core library, so the shell can log which core it embeds.
/// Not guarded: it returns a compile-time constant and cannot panic.
#[uniffi::export]
pub fn core_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
