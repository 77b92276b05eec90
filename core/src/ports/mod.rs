//! Ports: the narrow, blocking traits the shell implements (Kotlin on Android, Rust doubles in
//! tests and simulators). Each returns a typed [`DeviceFault`] the engine can explain.
//!

mod clock;
mod fault;
mod receipt;
mod signature_pad;
pub mod testing;

use std::time::Duration;

use zeroize::Zeroizing;

use crate::card::{Pan, Track2};
use crate::crypto::EncryptedPinBlock;

pub use clock::{Clock, SimulatedClock, SystemClock};
pub use fault::DeviceFault;
pub use receipt::{Receipt, ReceiptLine};
pub use signature_pad::{ScriptedSignaturePad, SignatureCapture, SignaturePad, SignatureRequest};

/// What the reader found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CardPresentation {
    Magstripe { track2: Track2 },
    ContactChip,
    Contactless,
}

pub trait CardReader: Send + Sync {
    /// Waits up to `timeout` for a swipe, insert or tap.
    fn detect(&self, timeout: Duration) -> Result<CardPresentation, DeviceFault>;
    /// Sends one command APDU to the chip in the field/slot and returns the response APDU
    /// (data + SW1 SW2). Responses may hold track-2 equivalent data, hence `Zeroizing`.
    fn transceive(&self, apdu: &[u8]) -> Result<Zeroizing<Vec<u8>>, DeviceFault>;
    /// Powers the card off and asks the cardholder to remove it.
    fn remove_card(&self) -> Result<(), DeviceFault>;
    /// Self-test for the health check, without a card. Defaults to healthy so a shell that
    /// cannot ask its reader is not reported as faulty.
    fn status(&self) -> Result<(), DeviceFault> {
        Ok(())
    }
}

/// The PIN pad: only an encrypted PIN block ever leaves it. On a terminal the vendor's secure
/// PIN pad forms the ISO 9564 format 0 block with the PAN and encrypts it under the PIK.
pub trait PinPad: Send + Sync {
    /// Asks the cardholder for the online PIN for `amount_fen`. `Ok(None)` when the cardholder
    /// bypassed PIN entry (allowed only where the card and transaction do not require a PIN).
    fn online_pin(
        &self,
        pan: &Pan,
        amount_fen: u64,
    ) -> Result<Option<EncryptedPinBlock>, DeviceFault>;
}

pub trait Printer: Send + Sync {
    fn print(&self, receipt: &Receipt) -> Result<(), DeviceFault>;
    /// Paper, temperature and mechanism as the printer reports them now (no printing).
    fn status(&self) -> Result<(), DeviceFault> {
        Ok(())
    }
}

pub trait Scanner: Send + Sync {
    /// Scans one code; `Ok(None)` when nothing was scanned within `timeout`.
    fn scan(&self, timeout: Duration) -> Result<Option<String>, DeviceFault>;
    /// Whether the camera or scan engine is usable now (no scan).
    fn status(&self) -> Result<(), DeviceFault> {
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CellularGeneration {
    G2,
    G3,
    G4,
    G5,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Link {
    Wifi,
    Cellular(CellularGeneration),
    Ethernet,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetworkStatus {
    pub link: Link,
    pub signal_dbm: Option<i16>,
    /// The OS reports the link as able to reach the internet.
    pub connected: bool,
}

impl NetworkStatus {
    pub const DISCONNECTED: NetworkStatus = NetworkStatus {
        link: Link::None,
        signal_dbm: None,
        connected: false,
    };
}

pub trait NetworkMonitor: Send + Sync {
    fn status(&self) -> NetworkStatus;
}

#[derive(Debug, Clone, PartialEq)]
pub struct GeoFix {
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: f32,
    pub cell_id: Option<String>,
}

pub trait Location: Send + Sync {
    /// The last known fix; `None` when the device has none (not a fault).
    fn fix(&self) -> Option<GeoFix>;
}

/// Who a prompt is for: the merchant screen or the cardholder-facing display.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Audience {
    Merchant,
    Cardholder,
}

/// A message in both languages; the shell shows the one its locale wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptText {
    pub zh: String,
    pub en: String,
}

impl PromptText {
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> PromptText {
        PromptText {
            zh: zh.into(),
            en: en.into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Confirmation {
    Yes,
    No,
    TimedOut,
}

pub trait Prompt: Send + Sync {
    fn show(&self, audience: Audience, text: &PromptText) -> Result<(), DeviceFault>;
    /// Asks a yes/no question and waits at most `timeout` for the answer.
    fn confirm(
        &self,
        audience: Audience,
        question: &PromptText,
        timeout: Duration,
    ) -> Result<Confirmation, DeviceFault>;
}
