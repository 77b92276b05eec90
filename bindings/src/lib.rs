//! Thin UniFFI layer over `smartpos-core`: every export is a few lines that convert types and
//! run the core inside [`error::guard`], so no panic crosses into the JVM.

uniffi::setup_scaffolding!();

#[cfg(target_os = "android")]
mod android;
mod chip_config;
mod config;
mod contactless;
mod diagnostics;
mod error;
mod esign;
#[cfg(feature = "ffi-bench")]
mod ffi_bench;
mod history;
mod jni_ports;
mod logging;
mod money;
mod optional_ports;
mod outcome;
mod ped;
mod ports;
mod qr;
mod qr_records;
mod risk;
#[cfg(feature = "software-ped")]
mod software_ped;
mod terminal;
#[cfg(feature = "test-hooks")]
mod test_hooks;
#[cfg(all(test, feature = "software-ped"))]
mod test_ports;

pub use chip_config::{
    CaKeySummaryRecord, ChipConfigRecord, ChipDownloadProblem, ChipDownloadRecord, ChipTable,
    ChipUpdateOutcome,
};
pub use config::{AcquirerTlsRecord, TerminalConfigRecord};
pub use diagnostics::{
    CauseCountRecord, CodeCountRecord, HealthCheckKind, HealthCheckRecord, HealthReportRecord,
    HealthStatus, LatencyBucketRecord, LatencyRecord, StatisticsRecord, StatisticsWindow,
    WindowStatisticsRecord,
};
pub use error::{AmountProblem, PaymentCodeProblem, SmartPosError};
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
pub use ped::{
    EncryptedKeyRecord, IccPinKeyRecord, OfflinePinOutcome, Ped, PedError, PedKey, PedMacAlgorithm,
    WorkingKeysRecord,
};
pub use ports::{CardPresentationRecord, CardReader, PortError, Printer};
pub use qr::{QrConfigRecord, QrSession};
pub use qr_records::{
    PresentedRecord, QrModeRecord, QrOrderRecord, QrOrderStateRecord, QrOutcomeRecord,
};
pub use risk::{
    RiskRestoreProblemRecord, RiskStatePart, RiskStatusRecord, RiskTrustedKeyRecord,
    RiskUpdateProblem,
};
#[cfg(feature = "software-ped")]
pub use software_ped::SoftwarePed;
pub use terminal::{CancelHandle, Terminal};
#[cfg(feature = "test-hooks")]
pub use test_hooks::{
    TestAcquirer, TestAcquirerFault, TestQrBehaviour, TestQrGateway, TestRiskSigner,
    debug_panic_probe, demo_qr_config, demo_software_ped, start_test_acquirer,
    start_test_qr_gateway, test_risk_signer,
};

/// Version of the core library, so the shell can log which core it embeds.
/// Not guarded: it returns a compile-time constant and cannot panic.
#[uniffi::export]
pub fn core_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
