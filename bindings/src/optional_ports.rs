//! The optional platform ports (scanner, network monitor, location, prompts) as UniFFI foreign
//! traits, and their adapters to the core's `ports` traits. A terminal without one passes null:
//! the core then treats it as "not fitted", not as a fault.

use std::sync::Arc;
use std::time::Duration;

use smartpos_core::ports::{self, DeviceFault};

use crate::ports::{Port, PortError, fault};

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A QR / barcode scanner: the camera, a vendor scan engine or a keyboard-wedge gun.
#[uniffi::export(with_foreign)]
pub trait Scanner: Send + Sync {
    /// Scans one code; null when nothing was scanned within `timeout_ms` (not a fault).
    fn scan(&self, timeout_ms: u64) -> Result<Option<String>, PortError>;
}

/// Mobile generation of a cellular link (`ports::CellularGeneration`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum CellularGeneration {
    G2,
    G3,
    G4,
    G5,
}

/// The link the terminal is on (`ports::Link`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum NetworkLink {
    Wifi,
    Cellular { generation: CellularGeneration },
    Ethernet,
    None,
}

/// What the OS says about the network (`ports::NetworkStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct NetworkStatusRecord {
    pub link: NetworkLink,
    pub signal_dbm: Option<i16>,
    /// The OS reports the link as able to reach the internet.
    pub connected: bool,
}

impl From<NetworkStatusRecord> for ports::NetworkStatus {
    fn from(s: NetworkStatusRecord) -> Self {
        let link = match s.link {
            NetworkLink::Wifi => ports::Link::Wifi,
            NetworkLink::Ethernet => ports::Link::Ethernet,
            NetworkLink::None => ports::Link::None,
            NetworkLink::Cellular { generation } => ports::Link::Cellular(match generation {
                CellularGeneration::G2 => ports::CellularGeneration::G2,
                CellularGeneration::G3 => ports::CellularGeneration::G3,
                CellularGeneration::G4 => ports::CellularGeneration::G4,
                CellularGeneration::G5 => ports::CellularGeneration::G5,
            }),
        };
        ports::NetworkStatus {
            link,
            signal_dbm: s.signal_dbm,
            connected: s.connected,
        }
    }
}

/// The OS network state (on Android, `ConnectivityManager`). Must answer at once: it is read
/// on the payment path, so keep the last callback's value rather than querying.
#[uniffi::export(with_foreign)]
pub trait NetworkMonitor: Send + Sync {
    fn status(&self) -> NetworkStatusRecord;
}

/// A position fix (`ports::GeoFix`).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct GeoFixRecord {
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: f32,
    pub cell_id: Option<String>,
}

/// The last known position (on Android, `LocationManager`). Must answer at once.
#[uniffi::export(with_foreign)]
pub trait Location: Send + Sync {
    /// Null when the device has no fix (not a fault).
    fn fix(&self) -> Option<GeoFixRecord>;
}

/// Who a prompt is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Audience {
    Merchant,
    Cardholder,
}

impl From<ports::Audience> for Audience {
    fn from(a: ports::Audience) -> Self {
        match a {
            ports::Audience::Merchant => Audience::Merchant,
            ports::Audience::Cardholder => Audience::Cardholder,
        }
    }
}

/// A message in both languages; the shell shows the one its locale wants.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PromptTextRecord {
    pub zh: String,
    pub en: String,
}

impl From<&ports::PromptText> for PromptTextRecord {
    fn from(t: &ports::PromptText) -> Self {
        PromptTextRecord {
            zh: t.zh.clone(),
            en: t.en.clone(),
        }
    }
}

/// The answer to a yes/no question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Confirmation {
    Yes,
    No,
    TimedOut,
}

/// Merchant and cardholder messages and yes/no confirmations (screen or customer display).
#[uniffi::export(with_foreign)]
pub trait Prompt: Send + Sync {
    fn show(&self, audience: Audience, text: PromptTextRecord) -> Result<(), PortError>;
    /// Asks and waits at most `timeout_ms`; answer `TimedOut` rather than throwing on timeout.
    fn confirm(
        &self,
        audience: Audience,
        question: PromptTextRecord,
        timeout_ms: u64,
    ) -> Result<Confirmation, PortError>;
}

/// The optional ports a terminal has; null for any it lacks.
#[derive(Clone, Default, uniffi::Record)]
pub struct TerminalPorts {
    #[uniffi(default = None)]
    pub scanner: Option<Arc<dyn Scanner>>,
    #[uniffi(default = None)]
    pub network: Option<Arc<dyn NetworkMonitor>>,
    #[uniffi(default = None)]
    pub location: Option<Arc<dyn Location>>,
    #[uniffi(default = None)]
    pub prompt: Option<Arc<dyn Prompt>>,
}

impl std::fmt::Debug for TerminalPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TerminalPorts")
            .field("scanner", &self.scanner.is_some())
            .field("network", &self.network.is_some())
            .field("location", &self.location.is_some())
            .field("prompt", &self.prompt.is_some())
            .finish()
    }
}

pub(crate) struct ScannerAdapter(pub Arc<dyn Scanner>);

impl ports::Scanner for ScannerAdapter {
    fn scan(&self, timeout: Duration) -> Result<Option<String>, DeviceFault> {
        self.0
            .scan(millis(timeout))
            .map_err(|e| fault(Port::Scanner, e))
    }
}

pub(crate) struct NetworkMonitorAdapter(pub Arc<dyn NetworkMonitor>);

impl ports::NetworkMonitor for NetworkMonitorAdapter {
    fn status(&self) -> ports::NetworkStatus {
        self.0.status().into()
    }
}

pub(crate) struct LocationAdapter(pub Arc<dyn Location>);

impl ports::Location for LocationAdapter {
    fn fix(&self) -> Option<ports::GeoFix> {
        self.0.fix().map(|f| ports::GeoFix {
            lat: f.lat,
            lon: f.lon,
            accuracy_m: f.accuracy_m,
            cell_id: f.cell_id,
        })
    }
}

pub(crate) struct PromptAdapter(pub Arc<dyn Prompt>);

impl ports::Prompt for PromptAdapter {
    fn show(&self, audience: ports::Audience, text: &ports::PromptText) -> Result<(), DeviceFault> {
        self.0
            .show(audience.into(), text.into())
            .map_err(|e| fault(Port::Prompt, e))
    }

    fn confirm(
        &self,
        audience: ports::Audience,
        question: &ports::PromptText,
        timeout: Duration,
    ) -> Result<ports::Confirmation, DeviceFault> {
        let answer = self
            .0
            .confirm(audience.into(), question.into(), millis(timeout))
            .map_err(|e| fault(Port::Prompt, e))?;
        Ok(match answer {
            Confirmation::Yes => ports::Confirmation::Yes,
            Confirmation::No => ports::Confirmation::No,
            Confirmation::TimedOut => ports::Confirmation::TimedOut,
        })
    }
}

impl TerminalPorts {
    /// The core's optional ports over the Kotlin ones.
    #[allow(clippy::type_complexity)]
    pub(crate) fn to_core(
        &self,
    ) -> (
        Option<Arc<dyn ports::Scanner>>,
        Option<Arc<dyn ports::NetworkMonitor>>,
        Option<Arc<dyn ports::Location>>,
        Option<Arc<dyn ports::Prompt>>,
    ) {
        (
            self.scanner
                .clone()
                .map(|s| Arc::new(ScannerAdapter(s)) as Arc<dyn ports::Scanner>),
            self.network
                .clone()
                .map(|n| Arc::new(NetworkMonitorAdapter(n)) as Arc<dyn ports::NetworkMonitor>),
            self.location
                .clone()
                .map(|l| Arc::new(LocationAdapter(l)) as Arc<dyn ports::Location>),
            self.prompt
                .clone()
                .map(|p| Arc::new(PromptAdapter(p)) as Arc<dyn ports::Prompt>),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use smartpos_core::ports::{
        Location as _, NetworkMonitor as _, Prompt as _, PromptText, Scanner as _,
    };

    struct FixedScanner(Result<Option<String>, PortError>);
    impl Scanner for FixedScanner {
        fn scan(&self, _: u64) -> Result<Option<String>, PortError> {
            self.0.clone()
        }
    }

    struct Cellular;
    impl NetworkMonitor for Cellular {
        fn status(&self) -> NetworkStatusRecord {
            NetworkStatusRecord {
                link: NetworkLink::Cellular {
                    generation: CellularGeneration::G4,
                },
                signal_dbm: Some(-95),
                connected: true,
            }
        }
    }

    struct Here;
    impl Location for Here {
        fn fix(&self) -> Option<GeoFixRecord> {
            Some(GeoFixRecord {
                lat: 31.23,
                lon: 121.47,
                accuracy_m: 12.5,
                cell_id: None,
            })
        }
    }

    /// Answers No to cardholders and fails every merchant message.
    struct Picky;
    impl Prompt for Picky {
        fn show(&self, audience: Audience, _: PromptTextRecord) -> Result<(), PortError> {
            match audience {
                Audience::Merchant => Err(PortError::Unexpected),
                Audience::Cardholder => Ok(()),
            }
        }
        fn confirm(
            &self,
            audience: Audience,
            q: PromptTextRecord,
            timeout_ms: u64,
        ) -> Result<Confirmation, PortError> {
            assert_eq!(q.en, "Proceed?");
            assert_eq!(timeout_ms, 1_500);
            Ok(match audience {
                Audience::Cardholder => Confirmation::No,
                Audience::Merchant => Confirmation::TimedOut,
            })
        }
    }

    #[test]
    fn scanner_results_and_faults_map_to_the_core() {
        let code = ScannerAdapter(Arc::new(FixedScanner(Ok(Some("134567".into())))));
        assert_eq!(code.scan(Duration::from_secs(1)), Ok(Some("134567".into())));
        let nothing = ScannerAdapter(Arc::new(FixedScanner(Ok(None))));
        assert_eq!(nothing.scan(Duration::from_secs(1)), Ok(None));
        let broken = ScannerAdapter(Arc::new(FixedScanner(Err(PortError::Unexpected))));
        assert!(matches!(
            broken.scan(Duration::from_secs(1)),
            Err(DeviceFault::ScannerFailure { .. })
        ));
        let named = ScannerAdapter(Arc::new(FixedScanner(Err(PortError::Scanner {
            detail: "lens dirty".into(),
        }))));
        assert_eq!(
            named.scan(Duration::from_secs(1)),
            Err(DeviceFault::ScannerFailure {
                message: "lens dirty".into()
            })
        );
    }

    #[test]
    fn network_and_location_keep_every_field() {
        let s = NetworkMonitorAdapter(Arc::new(Cellular)).status();
        assert_eq!(s.link, ports::Link::Cellular(ports::CellularGeneration::G4));
        assert_eq!(s.signal_dbm, Some(-95));
        assert!(s.connected);
        let f = LocationAdapter(Arc::new(Here)).fix().unwrap();
        assert_eq!((f.lat, f.lon, f.accuracy_m), (31.23, 121.47, 12.5));
    }

    #[test]
    fn prompts_pass_audience_text_and_timeout_both_ways() {
        let p = PromptAdapter(Arc::new(Picky));
        let q = PromptText::new("继续？", "Proceed?");
        let t = Duration::from_millis(1_500);
        assert_eq!(
            p.confirm(ports::Audience::Cardholder, &q, t),
            Ok(ports::Confirmation::No)
        );
        assert_eq!(
            p.confirm(ports::Audience::Merchant, &q, t),
            Ok(ports::Confirmation::TimedOut)
        );
        assert_eq!(p.show(ports::Audience::Cardholder, &q), Ok(()));
        assert!(matches!(
            p.show(ports::Audience::Merchant, &q),
            Err(DeviceFault::Other { .. })
        ));
    }

    #[test]
    fn terminal_ports_default_to_none_fitted() {
        let (s, n, l, p) = TerminalPorts::default().to_core();
        assert!(s.is_none() && n.is_none() && l.is_none() && p.is_none());
        let some = TerminalPorts {
            network: Some(Arc::new(Cellular)),
            ..Default::default()
        };
        assert!(some.to_core().1.is_some());
    }
}
