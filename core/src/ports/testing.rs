//! In-memory doubles for every port, scriptable with results and faults. Used by unit tests,
//! the simulators, the demo and the end-to-end tests; not for production use.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use zeroize::Zeroizing;

use super::{
    Audience, CardPresentation, CardReader, Confirmation, DeviceFault, GeoFix, Location,
    NetworkMonitor, NetworkStatus, Printer, Prompt, PromptText, Receipt, Scanner,
};

pub use super::SimulatedClock;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panicking test thread must not cascade into every later call.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A FIFO of scripted results; when empty, `default` answers.
#[derive(Debug)]
struct Script<T> {
    queue: Mutex<VecDeque<T>>,
}

impl<T> Default for Script<T> {
    fn default() -> Self {
        Script {
            queue: Mutex::new(VecDeque::new()),
        }
    }
}

impl<T> Script<T> {
    fn push(&self, item: T) {
        lock(&self.queue).push_back(item);
    }

    fn next(&self) -> Option<T> {
        lock(&self.queue).pop_front()
    }
}

type ApduResponder = dyn Fn(&[u8]) -> Result<Vec<u8>, DeviceFault> + Send + Sync;

/// Card reader: scripted detections; APDUs answered by a script queue first, then by an
/// optional responder (a card simulator), else SW 6F00.
#[derive(Default)]
pub struct ScriptedCardReader {
    detections: Script<Result<CardPresentation, DeviceFault>>,
    responses: Script<Result<Vec<u8>, DeviceFault>>,
    responder: Mutex<Option<Box<ApduResponder>>>,
    commands: Mutex<Vec<Zeroizing<Vec<u8>>>>,
    removals: Mutex<usize>,
    remove_faults: Script<DeviceFault>,
    status: Mutex<Option<DeviceFault>>,
}

impl std::fmt::Debug for ScriptedCardReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScriptedCardReader")
            .field("commands_sent", &lock(&self.commands).len())
            .finish_non_exhaustive()
    }
}

impl ScriptedCardReader {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn present(&self, card: CardPresentation) -> &Self {
        self.detections.push(Ok(card));
        self
    }

    /// The cardholder takes back a card the last transaction never read (one refused before
    /// the reader was asked, say), so it cannot turn up in the next transaction. Returns how
    /// many scripted detections were dropped.
    pub fn withdraw(&self) -> usize {
        let mut queue = lock(&self.detections.queue);
        let dropped = queue.len();
        queue.clear();
        dropped
    }

    pub fn fail_detect(&self, fault: DeviceFault) -> &Self {
        self.detections.push(Err(fault));
        self
    }

    pub fn respond(&self, response: Vec<u8>) -> &Self {
        self.responses.push(Ok(response));
        self
    }

    pub fn fail_transceive(&self, fault: DeviceFault) -> &Self {
        self.responses.push(Err(fault));
        self
    }

    pub fn fail_remove(&self, fault: DeviceFault) -> &Self {
        self.remove_faults.push(fault);
        self
    }

    /// Answers APDUs the script does not cover, e.g. with a simulated card.
    pub fn set_responder(
        &self,
        responder: impl Fn(&[u8]) -> Result<Vec<u8>, DeviceFault> + Send + Sync + 'static,
    ) {
        *lock(&self.responder) = Some(Box::new(responder));
    }

    /// What `status` reports until changed again (`None` = healthy).
    pub fn set_status(&self, fault: Option<DeviceFault>) -> &Self {
        *lock(&self.status) = fault;
        self
    }

    pub fn commands(&self) -> Vec<Zeroizing<Vec<u8>>> {
        lock(&self.commands).clone()
    }

    pub fn removals(&self) -> usize {
        *lock(&self.removals)
    }
}

impl CardReader for ScriptedCardReader {
    fn detect(&self, _timeout: Duration) -> Result<CardPresentation, DeviceFault> {
        self.detections
            .next()
            .unwrap_or(Err(DeviceFault::NoCardPresented))
    }

    fn transceive(&self, apdu: &[u8]) -> Result<Zeroizing<Vec<u8>>, DeviceFault> {
        lock(&self.commands).push(Zeroizing::new(apdu.to_vec()));
        if let Some(scripted) = self.responses.next() {
            return scripted.map(Zeroizing::new);
        }
        match lock(&self.responder).as_ref() {
            Some(responder) => responder(apdu).map(Zeroizing::new),
            None => Ok(Zeroizing::new(vec![0x6F, 0x00])),
        }
    }

    fn remove_card(&self) -> Result<(), DeviceFault> {
        *lock(&self.removals) += 1;
        self.remove_faults.next().map_or(Ok(()), Err)
    }

    fn status(&self) -> Result<(), DeviceFault> {
        lock(&self.status).clone().map_or(Ok(()), Err)
    }
}

/// Printer that keeps what it printed; queued faults fail the next prints.
#[derive(Debug, Default)]
pub struct RecordingPrinter {
    printed: Mutex<Vec<Receipt>>,
    faults: Script<DeviceFault>,
    status: Mutex<Option<DeviceFault>>,
}

impl RecordingPrinter {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn fail_next(&self, fault: DeviceFault) -> &Self {
        self.faults.push(fault);
        self
    }

    /// What `status` reports until changed again (`None` = healthy).
    pub fn set_status(&self, fault: Option<DeviceFault>) -> &Self {
        *lock(&self.status) = fault;
        self
    }

    pub fn printed(&self) -> Vec<Receipt> {
        lock(&self.printed).clone()
    }
}

impl Printer for RecordingPrinter {
    fn print(&self, receipt: &Receipt) -> Result<(), DeviceFault> {
        if let Some(fault) = self.faults.next() {
            return Err(fault);
        }
        lock(&self.printed).push(receipt.clone());
        Ok(())
    }

    fn status(&self) -> Result<(), DeviceFault> {
        lock(&self.status).clone().map_or(Ok(()), Err)
    }
}

/// Scanner with scripted codes; empty script means nothing scanned before the timeout.
#[derive(Debug, Default)]
pub struct ScriptedScanner {
    scans: Script<Result<Option<String>, DeviceFault>>,
    status: Mutex<Option<DeviceFault>>,
}

impl ScriptedScanner {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn scan_code(&self, code: impl Into<String>) -> &Self {
        self.scans.push(Ok(Some(code.into())));
        self
    }

    pub fn fail_next(&self, fault: DeviceFault) -> &Self {
        self.scans.push(Err(fault));
        self
    }

    /// What `status` reports until changed again (`None` = healthy).
    pub fn set_status(&self, fault: Option<DeviceFault>) -> &Self {
        *lock(&self.status) = fault;
        self
    }
}

impl Scanner for ScriptedScanner {
    fn scan(&self, _timeout: Duration) -> Result<Option<String>, DeviceFault> {
        self.scans.next().unwrap_or(Ok(None))
    }

    fn status(&self) -> Result<(), DeviceFault> {
        lock(&self.status).clone().map_or(Ok(()), Err)
    }
}

/// Network status the test sets.
#[derive(Debug)]
pub struct FixedNetworkMonitor {
    status: Mutex<NetworkStatus>,
}

impl FixedNetworkMonitor {
    pub fn new(status: NetworkStatus) -> Self {
        FixedNetworkMonitor {
            status: Mutex::new(status),
        }
    }

    pub fn set(&self, status: NetworkStatus) {
        *lock(&self.status) = status;
    }
}

impl NetworkMonitor for FixedNetworkMonitor {
    fn status(&self) -> NetworkStatus {
        *lock(&self.status)
    }
}

/// Location the test sets.
#[derive(Debug, Default)]
pub struct FixedLocation {
    fix: Mutex<Option<GeoFix>>,
}

impl FixedLocation {
    pub fn new(fix: Option<GeoFix>) -> Self {
        FixedLocation {
            fix: Mutex::new(fix),
        }
    }

    pub fn set(&self, fix: Option<GeoFix>) {
        *lock(&self.fix) = fix;
    }
}

impl Location for FixedLocation {
    fn fix(&self) -> Option<GeoFix> {
        lock(&self.fix).clone()
    }
}

/// Prompt that records what was shown and asked; answers come from a script, and an
/// unscripted question times out (the safe answer).
#[derive(Debug, Default)]
pub struct ScriptedPrompt {
    shown: Mutex<Vec<(Audience, PromptText)>>,
    asked: Mutex<Vec<(Audience, PromptText)>>,
    answers: Script<Result<Confirmation, DeviceFault>>,
    show_faults: Script<DeviceFault>,
}

impl ScriptedPrompt {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn answer(&self, answer: Confirmation) -> &Self {
        self.answers.push(Ok(answer));
        self
    }

    pub fn fail_confirm(&self, fault: DeviceFault) -> &Self {
        self.answers.push(Err(fault));
        self
    }

    pub fn fail_show(&self, fault: DeviceFault) -> &Self {
        self.show_faults.push(fault);
        self
    }

    pub fn shown(&self) -> Vec<(Audience, PromptText)> {
        lock(&self.shown).clone()
    }

    pub fn asked(&self) -> Vec<(Audience, PromptText)> {
        lock(&self.asked).clone()
    }
}

impl Prompt for ScriptedPrompt {
    fn show(&self, audience: Audience, text: &PromptText) -> Result<(), DeviceFault> {
        if let Some(fault) = self.show_faults.next() {
            return Err(fault);
        }
        lock(&self.shown).push((audience, text.clone()));
        Ok(())
    }

    fn confirm(
        &self,
        audience: Audience,
        question: &PromptText,
        _timeout: Duration,
    ) -> Result<Confirmation, DeviceFault> {
        lock(&self.asked).push((audience, question.clone()));
        self.answers.next().unwrap_or(Ok(Confirmation::TimedOut))
    }
}

/// A software PIN pad for simulations: the "cardholder" types the PIN set by the test; the block
/// is formed in ISO 9564 format 0 with the PAN and encrypted by the vault under the PIK, as a
/// secure PIN pad would. `None` means the cardholder bypasses PIN entry.
pub struct SoftwarePinPad {
    vault: std::sync::Arc<dyn crate::crypto::KeyVault>,
    pin: Mutex<Option<Zeroizing<String>>>,
    faults: Script<DeviceFault>,
}

impl std::fmt::Debug for SoftwarePinPad {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoftwarePinPad").finish_non_exhaustive()
    }
}

impl SoftwarePinPad {
    pub fn new(vault: std::sync::Arc<dyn crate::crypto::KeyVault>) -> Self {
        SoftwarePinPad {
            vault,
            pin: Mutex::new(None),
            faults: Script::default(),
        }
    }

    /// The PIN the next cardholder types (`None`: bypass).
    pub fn set_pin(&self, pin: Option<&str>) {
        *lock(&self.pin) = pin.map(|p| Zeroizing::new(p.to_string()));
    }

    pub fn fail_next(&self, fault: DeviceFault) -> &Self {
        self.faults.push(fault);
        self
    }
}

impl super::PinPad for SoftwarePinPad {
    fn online_pin(
        &self,
        pan: &crate::card::Pan,
        _amount_fen: u64,
    ) -> Result<Option<crate::crypto::EncryptedPinBlock>, DeviceFault> {
        use crate::crypto::{ClearPinBlock, PinBlockFormat, SystemRandomSource};
        if let Some(fault) = self.faults.next() {
            return Err(fault);
        }
        let Some(pin) = lock(&self.pin).clone() else {
            return Ok(None);
        };
        let failure = |e: &dyn std::fmt::Display| DeviceFault::PinPadFailure {
            message: e.to_string(),
        };
        let clear = ClearPinBlock::encode(
            PinBlockFormat::Iso0,
            &pin,
            pan.expose_digits(),
            &SystemRandomSource::new(),
        )
        .map_err(|e| failure(&e))?;
        self.vault
            .encrypt_pin_block(&clear)
            .map(Some)
            .map_err(|e| failure(&e))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::card::Track2;
    use crate::ports::{CellularGeneration, Link};

    const T: Duration = Duration::from_secs(30);

    #[test]
    fn card_reader_scripts_and_faults() {
        let reader = ScriptedCardReader::new();
        let track2 = Track2::parse("6222021234561234=25121011234567890").unwrap();
        reader
            .present(CardPresentation::Magstripe {
                track2: track2.clone(),
            })
            .fail_detect(DeviceFault::CardRemovedTooEarly)
            .respond(vec![0x90, 0x00])
            .fail_transceive(DeviceFault::ReaderFailure {
                message: "no ATR".into(),
            });
        assert_eq!(
            reader.detect(T).unwrap(),
            CardPresentation::Magstripe { track2 }
        );
        assert_eq!(
            reader.detect(T).unwrap_err(),
            DeviceFault::CardRemovedTooEarly
        );
        assert_eq!(reader.detect(T).unwrap_err(), DeviceFault::NoCardPresented);
        let select = [0x00, 0xA4, 0x04, 0x00];
        assert_eq!(*reader.transceive(&select).unwrap(), vec![0x90, 0x00]);
        assert!(reader.transceive(&select).is_err());
        assert_eq!(*reader.transceive(&select).unwrap(), vec![0x6F, 0x00]);
        reader.set_responder(|apdu| Ok(vec![apdu[1], 0x90, 0x00]));
        assert_eq!(*reader.transceive(&select).unwrap(), vec![0xA4, 0x90, 0x00]);
        assert_eq!(reader.commands().len(), 4);
        reader.fail_remove(DeviceFault::Other {
            message: "slot".into(),
        });
        assert!(reader.remove_card().is_err());
        assert!(reader.remove_card().is_ok());
        assert_eq!(reader.removals(), 2);
    }

    #[test]
    fn printer_records_and_fails() {
        let printer = RecordingPrinter::new();
        printer.fail_next(DeviceFault::PrinterOutOfPaper);
        let r = Receipt::new("SALE");
        assert_eq!(printer.print(&r), Err(DeviceFault::PrinterOutOfPaper));
        assert_eq!(printer.print(&r), Ok(()));
        assert_eq!(printer.printed(), vec![r]);
    }

    #[test]
    fn scanner_network_location_prompt() {
        let scanner = ScriptedScanner::new();
        scanner
            .scan_code("134567890123456789")
            .fail_next(DeviceFault::ScannerFailure {
                message: "camera".into(),
            });
        assert_eq!(
            scanner.scan(T).unwrap().as_deref(),
            Some("134567890123456789")
        );
        assert!(scanner.scan(T).is_err());
        assert_eq!(scanner.scan(T).unwrap(), None);

        let net = FixedNetworkMonitor::new(NetworkStatus::DISCONNECTED);
        assert!(!net.status().connected);
        let lte = NetworkStatus {
            link: Link::Cellular(CellularGeneration::G4),
            signal_dbm: Some(-95),
            connected: true,
        };
        net.set(lte);
        assert_eq!(net.status(), lte);

        let loc = FixedLocation::new(None);
        assert_eq!(loc.fix(), None);
        let fix = GeoFix {
            lat: 31.23,
            lon: 121.47,
            accuracy_m: 25.0,
            cell_id: Some("460-00-1234-5678".into()),
        };
        loc.set(Some(fix.clone()));
        assert_eq!(loc.fix(), Some(fix));

        let prompt = Arc::new(ScriptedPrompt::new());
        prompt.answer(Confirmation::Yes);
        let q = PromptText::new("确认金额？", "Confirm amount?");
        assert_eq!(
            prompt.confirm(Audience::Cardholder, &q, T).unwrap(),
            Confirmation::Yes
        );
        assert_eq!(
            prompt.confirm(Audience::Cardholder, &q, T).unwrap(),
            Confirmation::TimedOut
        );
        prompt.fail_show(DeviceFault::Other {
            message: "display".into(),
        });
        assert!(prompt.show(Audience::Merchant, &q).is_err());
        prompt.show(Audience::Merchant, &q).unwrap();
        assert_eq!(prompt.shown(), vec![(Audience::Merchant, q.clone())]);
        assert_eq!(prompt.asked().len(), 2);
    }

    #[test]
    fn doubles_are_usable_as_trait_objects() {
        fn assert_port<T: Send + Sync>(_: &T) {}
        let reader: Arc<dyn CardReader> = Arc::new(ScriptedCardReader::new());
        let printer: Arc<dyn Printer> = Arc::new(RecordingPrinter::new());
        assert_port(&reader);
        assert_port(&printer);
    }

    #[test]
    fn status_is_healthy_until_a_fault_is_set_and_stays_until_cleared() {
        let printer = RecordingPrinter::new();
        let reader = ScriptedCardReader::new();
        let scanner = ScriptedScanner::new();
        assert!(printer.status().is_ok() && reader.status().is_ok() && scanner.status().is_ok());
        printer.set_status(Some(DeviceFault::PrinterOutOfPaper));
        reader.set_status(Some(DeviceFault::ReaderFailure {
            message: "slot".into(),
        }));
        scanner.set_status(Some(DeviceFault::ScannerFailure {
            message: "camera".into(),
        }));
        for _ in 0..2 {
            assert_eq!(printer.status(), Err(DeviceFault::PrinterOutOfPaper));
            assert!(matches!(
                reader.status(),
                Err(DeviceFault::ReaderFailure { .. })
            ));
            assert!(matches!(
                scanner.status(),
                Err(DeviceFault::ScannerFailure { .. })
            ));
        }
        // A status fault does not fail printing: the printer reports, the engine decides.
        assert!(printer.print(&Receipt::default()).is_ok());
        printer.set_status(None);
        assert!(printer.status().is_ok());
    }
}
