//! The ports every terminal has (card reader, printer) as UniFFI foreign traits, and the
//! adapters that make them the core's `ports` traits. The PIN pad is the `Ped` (`ped.rs`): the
//! PIN is entered on the device that holds the keys.
//!
//! A Kotlin port reports a hardware problem by throwing a `PortException`; the adapter turns it
//! into the core's `DeviceFault`, which the engine explains as a termination. Any other exception
//! a port throws becomes the port's generic failure with a fixed message: its text is never
//! passed on, because a shell's exception message may quote card data.

use std::sync::Arc;
use std::time::Duration;

use smartpos_core::card::Track2;
use smartpos_core::ports::{self, CardPresentation, DeviceFault, Receipt};
use zeroize::Zeroizing;

use crate::outcome::ReceiptRecord;

/// What a port tells the core when the hardware fails (`ports::DeviceFault`). Texts are
/// `detail`, not `message`, which Kotlin's `Throwable` already has.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
#[non_exhaustive]
pub enum PortError {
    #[error("printer out of paper")]
    PrinterOutOfPaper,
    #[error("printer overheated")]
    PrinterOverheated,
    #[error("printer paper jam")]
    PrinterJammed,
    #[error("printer fault: {detail}")]
    Printer { detail: String },
    #[error("card reader failure: {detail}")]
    Reader { detail: String },
    #[error("card removed too early")]
    CardRemovedTooEarly,
    #[error("no card presented within the timeout")]
    NoCardPresented,
    #[error("PIN pad failure: {detail}")]
    PinPad { detail: String },
    #[error("PIN entry cancelled")]
    PinEntryCancelled,
    #[error("PIN entry timed out")]
    PinEntryTimeout,
    #[error("scanner failure: {detail}")]
    Scanner { detail: String },
    /// The merchant screen or customer display could not show a prompt.
    #[error("display failure: {detail}")]
    Display { detail: String },
    /// The port threw something other than a `PortException` (a bug in the shell).
    #[error("the port threw an unexpected exception")]
    Unexpected,
}

impl From<uniffi::UnexpectedUniFFICallbackError> for PortError {
    fn from(_: uniffi::UnexpectedUniFFICallbackError) -> Self {
        // The reason is the foreign exception's text: withheld (see the module docs).
        PortError::Unexpected
    }
}

/// Which port failed, so a generic failure is reported as that port's fault.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Port {
    Reader,
    Printer,
    Scanner,
    Prompt,
}

pub(crate) fn fault(port: Port, e: PortError) -> DeviceFault {
    let generic = |message: String| match port {
        Port::Reader => DeviceFault::ReaderFailure { message },
        Port::Printer => DeviceFault::PrinterOther { message },
        Port::Scanner => DeviceFault::ScannerFailure { message },
        Port::Prompt => DeviceFault::Other { message },
    };
    match e {
        PortError::PrinterOutOfPaper => DeviceFault::PrinterOutOfPaper,
        PortError::PrinterOverheated => DeviceFault::PrinterOverheated,
        PortError::PrinterJammed => DeviceFault::PrinterJammed,
        PortError::Printer { detail: message } => DeviceFault::PrinterOther { message },
        PortError::Reader { detail: message } => DeviceFault::ReaderFailure { message },
        PortError::CardRemovedTooEarly => DeviceFault::CardRemovedTooEarly,
        PortError::NoCardPresented => DeviceFault::NoCardPresented,
        PortError::PinPad { detail: message } => DeviceFault::PinPadFailure { message },
        PortError::PinEntryCancelled => DeviceFault::PinEntryCancelled,
        PortError::PinEntryTimeout => DeviceFault::PinEntryTimeout,
        PortError::Scanner { detail: message } => DeviceFault::ScannerFailure { message },
        PortError::Display { detail: message } => DeviceFault::Other { message },
        PortError::Unexpected => generic(format!("unexpected exception in the {port:?} port")),
    }
}

/// How the cardholder presented the card.
#[derive(Clone, PartialEq, Eq, uniffi::Enum)]
pub enum CardPresentationRecord {
    /// A swipe: the track-2 text as read, e.g. "6222020000000015=30121010000000000".
    Magstripe {
        track2: String,
    },
    ContactChip,
    Contactless,
}

impl std::fmt::Debug for CardPresentationRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CardPresentationRecord::Magstripe { .. } => f.write_str("Magstripe { [redacted] }"),
            CardPresentationRecord::ContactChip => f.write_str("ContactChip"),
            CardPresentationRecord::Contactless => f.write_str("Contactless"),
        }
    }
}

/// The card reader of the terminal (magstripe, contact chip, contactless).
#[uniffi::export(with_foreign)]
pub trait CardReader: Send + Sync {
    /// Waits up to `timeout_ms` for a card; throw `PortException.NoCardPresented` on timeout.
    fn detect(&self, timeout_ms: u64) -> Result<CardPresentationRecord, PortError>;
    /// Sends one APDU to the card in the reader and returns its response (with SW1 SW2).
    fn transceive(&self, apdu: Vec<u8>) -> Result<Vec<u8>, PortError>;
    fn remove_card(&self) -> Result<(), PortError>;
}

/// The receipt printer. A failure never undoes a payment: the receipt waits for a reprint.
#[uniffi::export(with_foreign)]
pub trait Printer: Send + Sync {
    fn print(&self, receipt: ReceiptRecord) -> Result<(), PortError>;
    /// Paper, temperature and mechanism as the printer reports them now, without printing;
    /// throw the matching `PortException` (`PrinterOutOfPaper`, …) for the health check.
    fn status(&self) -> Result<(), PortError>;
}

/// The core's card reader over the Kotlin one.
pub(crate) struct CardReaderAdapter(pub Arc<dyn CardReader>);

impl ports::CardReader for CardReaderAdapter {
    fn detect(&self, timeout: Duration) -> Result<CardPresentation, DeviceFault> {
        let ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        match self.0.detect(ms).map_err(|e| fault(Port::Reader, e))? {
            CardPresentationRecord::Magstripe { track2 } => {
                let track2 = Zeroizing::new(track2);
                let track2 = Track2::parse(&track2).map_err(|e| DeviceFault::ReaderFailure {
                    message: format!("unreadable track 2: {e}"),
                })?;
                Ok(CardPresentation::Magstripe { track2 })
            }
            CardPresentationRecord::ContactChip => Ok(CardPresentation::ContactChip),
            CardPresentationRecord::Contactless => Ok(CardPresentation::Contactless),
        }
    }

    fn transceive(&self, apdu: &[u8]) -> Result<Zeroizing<Vec<u8>>, DeviceFault> {
        self.0
            .transceive(apdu.to_vec())
            .map(Zeroizing::new)
            .map_err(|e| fault(Port::Reader, e))
    }

    fn remove_card(&self) -> Result<(), DeviceFault> {
        self.0.remove_card().map_err(|e| fault(Port::Reader, e))
    }
}

/// The core's printer over the Kotlin one.
pub(crate) struct PrinterAdapter(pub Arc<dyn Printer>);

impl ports::Printer for PrinterAdapter {
    fn print(&self, receipt: &Receipt) -> Result<(), DeviceFault> {
        self.0
            .print(receipt.into())
            .map_err(|e| fault(Port::Printer, e))
    }

    fn status(&self) -> Result<(), DeviceFault> {
        self.0.status().map_err(|e| fault(Port::Printer, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use smartpos_core::ports::{CardReader as _, Printer as _};

    struct FixedReader(Result<CardPresentationRecord, PortError>);
    impl CardReader for FixedReader {
        fn detect(&self, _: u64) -> Result<CardPresentationRecord, PortError> {
            self.0.clone()
        }
        fn transceive(&self, _: Vec<u8>) -> Result<Vec<u8>, PortError> {
            Err(PortError::Unexpected)
        }
        fn remove_card(&self) -> Result<(), PortError> {
            Ok(())
        }
    }

    struct FailingPrinter(PortError);
    impl Printer for FailingPrinter {
        fn print(&self, _: ReceiptRecord) -> Result<(), PortError> {
            Err(self.0.clone())
        }
        fn status(&self) -> Result<(), PortError> {
            Err(self.0.clone())
        }
    }

    #[test]
    fn a_swipe_becomes_a_parsed_track2_and_bad_text_a_reader_fault() {
        let ok = CardReaderAdapter(Arc::new(FixedReader(Ok(
            CardPresentationRecord::Magstripe {
                track2: "6222020000000015=30121010000000000".into(),
            },
        ))));
        match ok.detect(Duration::from_secs(1)) {
            Ok(CardPresentation::Magstripe { track2 }) => {
                assert_eq!(track2.pan().last4(), "0015")
            }
            other => panic!("expected a swipe, got {other:?}"),
        }
        let bad = CardReaderAdapter(Arc::new(FixedReader(Ok(
            CardPresentationRecord::Magstripe {
                track2: "6222020000000015".into(),
            },
        ))));
        assert!(matches!(
            bad.detect(Duration::from_secs(1)),
            Err(DeviceFault::ReaderFailure { .. })
        ));
        let none = CardReaderAdapter(Arc::new(FixedReader(Err(PortError::NoCardPresented))));
        assert_eq!(
            none.detect(Duration::from_secs(1)),
            Err(DeviceFault::NoCardPresented)
        );
        assert!(matches!(
            none.transceive(&[0x00]),
            Err(DeviceFault::ReaderFailure { .. })
        ));
    }

    #[test]
    fn printer_faults_keep_their_kind_and_unexpected_ones_withhold_text() {
        let paper = PrinterAdapter(Arc::new(FailingPrinter(PortError::PrinterOutOfPaper)));
        assert_eq!(
            paper.print(&Receipt::new("t")),
            Err(DeviceFault::PrinterOutOfPaper)
        );
        // The health check asks the same printer without printing; the fault must keep its kind.
        assert_eq!(paper.status(), Err(DeviceFault::PrinterOutOfPaper));
        let e = PortError::from(uniffi::UnexpectedUniFFICallbackError {
            reason: "card 6222020000000015".into(),
        });
        let odd = PrinterAdapter(Arc::new(FailingPrinter(e)));
        match odd.print(&Receipt::new("t")) {
            Err(DeviceFault::PrinterOther { message }) => assert!(!message.contains("622202")),
            other => panic!("expected a printer fault, got {other:?}"),
        }
    }
}
