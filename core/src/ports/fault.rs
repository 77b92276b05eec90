//! Faults a port reports, and the termination each one maps to.

use thiserror::Error;

use crate::diag::{Termination, TerminationCode};

/// A device-level failure. `message` fields carry the shell's own wording for the merchant
/// (never card data); the engine appends it to the merchant text only.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DeviceFault {
    #[error("printer out of paper")]
    PrinterOutOfPaper,
    #[error("printer overheated")]
    PrinterOverheated,
    #[error("printer paper jam")]
    PrinterJammed,
    #[error("printer fault: {message}")]
    PrinterOther { message: String },
    #[error("card reader failure: {message}")]
    ReaderFailure { message: String },
    #[error("card removed too early")]
    CardRemovedTooEarly,
    #[error("no card presented within the timeout")]
    NoCardPresented,
    #[error("scanner failure: {message}")]
    ScannerFailure { message: String },
    #[error("PIN pad failure: {message}")]
    PinPadFailure { message: String },
    #[error("PIN entry cancelled")]
    PinEntryCancelled,
    #[error("PIN entry timed out")]
    PinEntryTimeout,
    #[error("device fault: {message}")]
    Other { message: String },
}

impl DeviceFault {
    pub fn termination_code(&self) -> TerminationCode {
        match self {
            DeviceFault::PrinterOutOfPaper => TerminationCode::DevPrinterPaperOut,
            DeviceFault::PrinterOverheated => TerminationCode::DevPrinterOverheated,
            DeviceFault::PrinterJammed => TerminationCode::DevPrinterJammed,
            DeviceFault::PrinterOther { .. } => TerminationCode::DevPrinter,
            DeviceFault::ReaderFailure { .. } => TerminationCode::DevReader,
            DeviceFault::CardRemovedTooEarly => TerminationCode::DevCardRemoved,
            DeviceFault::NoCardPresented => TerminationCode::OpNoCard,
            DeviceFault::ScannerFailure { .. } => TerminationCode::DevScanner,
            DeviceFault::PinPadFailure { .. } => TerminationCode::DevPinPad,
            DeviceFault::PinEntryCancelled => TerminationCode::OpCancelled,
            DeviceFault::PinEntryTimeout => TerminationCode::OpPinTimeout,
            DeviceFault::Other { .. } => TerminationCode::DevOther,
        }
    }

    fn message(&self) -> &str {
        match self {
            DeviceFault::PrinterOther { message }
            | DeviceFault::ReaderFailure { message }
            | DeviceFault::ScannerFailure { message }
            | DeviceFault::PinPadFailure { message }
            | DeviceFault::Other { message } => message,
            _ => "",
        }
    }

    /// The explained ending for this fault, with the shell's message added for the merchant.
    pub fn termination(&self) -> Termination {
        Termination::new(self.termination_code()).with_detail(self.message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::{Cause, Remedy};

    #[test]
    fn faults_map_to_causes_and_remedies() {
        let paper = DeviceFault::PrinterOutOfPaper.termination();
        assert_eq!(paper.cause, Cause::Device);
        assert!(paper.remedies.contains(&Remedy::ReplacePaper));
        assert_eq!(
            DeviceFault::PinEntryCancelled.termination().cause,
            Cause::Operator
        );
        assert_eq!(
            DeviceFault::NoCardPresented.termination().code.to_string(),
            "OP_NO_CARD"
        );
        let reader = DeviceFault::ReaderFailure {
            message: "IC slot not responding".into(),
        }
        .termination();
        assert_eq!(reader.code.to_string(), "DEV_READER");
        assert!(reader.merchant_en.ends_with("IC slot not responding"));
        assert!(!reader.cardholder_en.contains("IC slot"));
    }
}
