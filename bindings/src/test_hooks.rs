//! Exports that exist only to test the FFI boundary and drive whole flows from the JVM. Compiled
//! only with the `test-hooks` feature, which the host Maven build enables and release/Android
//! builds never do.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use smartpos_core::card::Pan;
use smartpos_core::ports::SystemClock;
use smartpos_core::risk::{Bundle, CardHashKey, EnvelopeKind, HotListDelta, KeyId, Signer};
use smartpos_tools::demo_setup;
use smartpos_tools::sim::gateway::{Behaviour, DEMO_SIGNING_KEY, GatewayServer, QrGateway};
use smartpos_tools::sim::ledger::Ledger;
use smartpos_tools::sim::{Acquirer, Fault, Matcher, SimServer};

use crate::config::TerminalConfigRecord;
use crate::error::{SmartPosError, guard};
use crate::qr::QrConfigRecord;
use crate::risk::RiskTrustedKeyRecord;
use crate::software_ped::SoftwarePed;

/// Panics inside the guard, to prove a panic reaches Kotlin as `SmartPosException.Internal`.
#[uniffi::export]
pub fn debug_panic_probe() -> Result<(), SmartPosError> {
    guard("debug_panic_probe", || {
        panic!("debug_panic_probe: deliberate panic to test the FFI guard")
    })
}

/// A virtual contact chip card with real keys (the tools crate's card simulator), for a Kotlin
/// `CardReader` that exchanges APDUs with it as a vendor contact reader does with a real card.
#[derive(Debug, uniffi::Object)]
pub struct TestChipCard {
    card: smartpos_tools::card_sim::VirtualCard,
}

/// The catalogue card `name` (e.g. "unionpay-debit-sda", "unionpay-declines-second-ac"),
/// inserted.
#[uniffi::export]
pub fn test_chip_card(name: String) -> Result<Arc<TestChipCard>, SmartPosError> {
    guard("test_chip_card", || {
        let card = smartpos_tools::card_sim::VirtualCard::named(&name).map_err(|e| {
            SmartPosError::InvalidInput {
                what: "chip card".into(),
                detail: format!("{name}: {e}"),
            }
        })?;
        Ok(Arc::new(TestChipCard { card }))
    })
}

#[uniffi::export]
impl TestChipCard {
    /// Puts the card (back) in the slot.
    pub fn insert(&self) {
        self.card.insert();
    }

    /// One C-APDU to the card, its R-APDU back (data and status word); a card no longer in the
    /// slot is an I/O error, as a vendor reader reports it.
    pub fn transceive(&self, apdu: Vec<u8>) -> Result<Vec<u8>, SmartPosError> {
        use smartpos_core::ports::CardReader;
        self.card
            .transceive(&apdu)
            .map(|r| r.to_vec())
            .map_err(|f| SmartPosError::Io {
                detail: f.to_string(),
            })
    }

    /// Takes the card out.
    pub fn remove(&self) {
        use smartpos_core::ports::CardReader;
        let _ = self.card.remove_card();
    }
}

/// The tools crate's acquirer simulator (demo ledger, demo TMK) on a loopback port.
#[derive(Debug, uniffi::Object)]
pub struct TestAcquirer {
    server: Mutex<Option<SimServer>>,
    address: String,
    acquirer: Arc<Acquirer>,
}

/// The test CA of this process: it issues the test acquirer's certificate, and
/// `demo_terminal_config` trusts it, so the Kotlin tests pay over TLS as a terminal in the field.
fn test_ca() -> Result<&'static smartpos_tools::sim::pki::TestCa, SmartPosError> {
    static CA: std::sync::OnceLock<smartpos_tools::sim::pki::TestCa> = std::sync::OnceLock::new();
    if let Some(ca) = CA.get() {
        return Ok(ca);
    }
    let ca = smartpos_tools::sim::pki::TestCa::new("SmartPOS test acquirer CA").map_err(|e| {
        SmartPosError::Io {
            detail: format!("test CA: {e}"),
        }
    })?;
    Ok(CA.get_or_init(|| ca))
}

/// Starts a simulator with the demo accounts on 127.0.0.1 and a port the OS picks, serving TLS
/// with a certificate from the test CA (see `demo_terminal_config`).
#[uniffi::export]
pub fn start_test_acquirer() -> Result<Arc<TestAcquirer>, SmartPosError> {
    guard("start_test_acquirer", || {
        let mut ledger = Ledger::with_demo_accounts();
        // Accounts for the virtual chip cards (`test_chip_card`), PIN 123456.
        smartpos_tools::card_sim::catalogue::add_ledger_accounts(&mut ledger);
        let acquirer = Arc::new(Acquirer::new(ledger, demo_setup::demo_tmk()));
        let io = |e: String| SmartPosError::Io {
            detail: format!("simulator: {e}"),
        };
        let cert = test_ca()?
            .server_cert(&smartpos_tools::sim::pki::LOOPBACK_NAMES)
            .map_err(|e| io(e.to_string()))?;
        let tls = smartpos_tools::sim::tls::server_config(
            cert.cert_pem.as_bytes(),
            cert.key_pem.as_bytes(),
            None,
        )
        .map_err(|e| io(e.to_string()))?;
        let loopback = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        let server =
            SimServer::start_tls(acquirer.clone(), loopback, tls).map_err(|e| io(e.to_string()))?;
        Ok(Arc::new(TestAcquirer {
            address: server.addr().to_string(),
            server: Mutex::new(Some(server)),
            acquirer,
        }))
    })
}

#[uniffi::export]
impl TestAcquirer {
    /// "127.0.0.1:port", for `TerminalConfigRecord.endpoints`.
    pub fn address(&self) -> String {
        self.address.clone()
    }

    /// The merchant's net position in the simulated ledger, in fen.
    pub fn net_fen(&self) -> Result<i64, SmartPosError> {
        guard("TestAcquirer.net_fen", || {
            Ok(self.acquirer.ledger().net_fen())
        })
    }

    /// The next request with this MTI (e.g. "0200") is booked but never answered.
    pub fn inject_no_response(&self, mti: String) -> Result<(), SmartPosError> {
        self.inject_fault(mti, TestAcquirerFault::NoResponse { apply: true })
    }

    /// Queues `fault` for the next request with this MTI (e.g. "0400"); each queued fault is
    /// used once, in order, so queue it as many times as requests should meet it.
    pub fn inject_fault(&self, mti: String, fault: TestAcquirerFault) -> Result<(), SmartPosError> {
        guard("TestAcquirer.inject_fault", || {
            self.acquirer.inject(Matcher::Mti(mti), fault.into());
            Ok(())
        })
    }

    /// From now on the CA key `rid` (10 hex digits) / `index` is served by the chip-table
    /// download with a wrong checksum: the terminal must refuse the whole download.
    pub fn corrupt_ca_key_checksum(&self, rid: String, index: u8) -> Result<(), SmartPosError> {
        guard("TestAcquirer.corrupt_ca_key_checksum", || {
            let bytes: Option<Vec<u8>> = (0..rid.len())
                .step_by(2)
                .map(|i| {
                    rid.get(i..i + 2)
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                })
                .collect();
            let rid: [u8; 5] = bytes.and_then(|b| b.try_into().ok()).ok_or_else(|| {
                SmartPosError::InvalidInput {
                    what: "RID".into(),
                    detail: format!("{rid:?} is not 10 hex digits"),
                }
            })?;
            self.acquirer.ic_params().corrupt_checksum(rid, index);
            Ok(())
        })
    }

    pub fn stop(&self) -> Result<(), SmartPosError> {
        guard("TestAcquirer.stop", || {
            let server = self.server.lock().unwrap_or_else(|p| p.into_inner()).take();
            if let Some(mut server) = server {
                server.stop();
            }
            Ok(())
        })
    }
}

/// What the test acquirer does to one request instead of answering it normally (tools'
/// `sim::Fault`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum TestAcquirerFault {
    /// Reads the request and never answers (the terminal gives up at its response timeout);
    /// the ledger moves only when `apply`.
    NoResponse { apply: bool },
    /// Acts on the request and answers with a MAC under the wrong key.
    WrongMac,
    /// Answers with this response code without acting on the request.
    Decline { code: String },
}

impl From<TestAcquirerFault> for Fault {
    fn from(f: TestAcquirerFault) -> Self {
        match f {
            TestAcquirerFault::NoResponse { apply } => Fault::NoResponse { apply },
            TestAcquirerFault::WrongMac => Fault::WrongMac,
            TestAcquirerFault::Decline { code } => Fault::Decline { code },
        }
    }
}

/// The demo terminal's configuration (tools' `demo_setup`: terminal, merchant) pointed at
/// `endpoint`, with a fresh random storage key and short timeouts for tests.
#[uniffi::export]
pub fn demo_terminal_config(
    endpoint: String,
    journal_path: String,
) -> Result<TerminalConfigRecord, SmartPosError> {
    guard("demo_terminal_config", || {
        let storage_key = demo_setup::fresh_storage_key().map_err(|e| SmartPosError::KeyVault {
            detail: e.to_string(),
        })?;
        Ok(TerminalConfigRecord {
            terminal_id: demo_setup::DEMO_TERMINAL_ID.into(),
            merchant_id: demo_setup::DEMO_MERCHANT_ID.into(),
            merchant_name: demo_setup::DEMO_MERCHANT_NAME.into(),
            endpoints: vec![endpoint],
            connect_timeout_ms: 2_000,
            response_timeout_ms: 400,
            card_timeout_ms: 30_000,
            journal_path,
            storage_key: storage_key.expose_secret().to_vec(),
            risk_checks: true,
            risk_trusted_key: None,
            risk_trusted_keys: vec![],
            risk_card_hash_salt: None,
            risk_mcc: None,
            // The test acquirer serves TLS under the test CA: the terminal trusts only that CA.
            acquirer_tls: Some(crate::config::AcquirerTlsRecord {
                ca_pem: Some(test_ca()?.cert_pem()),
                server_name: None,
                client_cert_pem: None,
                client_key_pem: None,
            }),
        })
    })
}

/// A software PED holding the demo TMK (the one the test acquirer shares), with `pin` as the
/// cardholder's PIN (null: bypass). The TMK is handed over inside Rust, never as text.
#[uniffi::export]
pub fn demo_software_ped(pin: Option<String>) -> Result<Arc<SoftwarePed>, SmartPosError> {
    guard("demo_software_ped", || {
        let ped = SoftwarePed::new(demo_setup::demo_tmk())?;
        ped.set_pin(pin);
        Ok(Arc::new(ped))
    })
}

/// What the simulated customer does with an order (tools' `gateway::Behaviour`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum TestQrBehaviour {
    PayNow,
    /// "User paying", then paid once this much real time has passed since the order.
    PayAfterMs {
        ms: u64,
    },
    NeverPay,
    /// "User paying" until a cancel arrives, and the payment lands just before it.
    PayOnCancel,
    /// Refused: insufficient balance ("NOTENOUGH").
    DeclineNotEnough,
}

impl From<TestQrBehaviour> for Behaviour {
    fn from(b: TestQrBehaviour) -> Self {
        match b {
            TestQrBehaviour::PayNow => Behaviour::PayNow,
            TestQrBehaviour::PayAfterMs { ms } => Behaviour::PayAfter(Duration::from_millis(ms)),
            TestQrBehaviour::NeverPay => Behaviour::NeverPay,
            TestQrBehaviour::PayOnCancel => Behaviour::PayOnCancel,
            TestQrBehaviour::DeclineNotEnough => Behaviour::Decline("NOTENOUGH"),
        }
    }
}

/// The tools crate's simulated QR gateway (demo signing key, demo merchant) on a loopback port,
/// in real time: the QR session across the FFI runs on the system clock.
#[derive(Debug, uniffi::Object)]
pub struct TestQrGateway {
    server: Mutex<Option<GatewayServer>>,
    url: String,
    gateway: Arc<QrGateway>,
}

#[uniffi::export]
pub fn start_test_qr_gateway() -> Result<Arc<TestQrGateway>, SmartPosError> {
    guard("start_test_qr_gateway", || {
        let gateway = Arc::new(QrGateway::new(
            DEMO_SIGNING_KEY,
            demo_setup::DEMO_MERCHANT_ID,
            Arc::new(SystemClock),
        ));
        let loopback = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        let server =
            GatewayServer::start(gateway.clone(), loopback).map_err(|e| SmartPosError::Io {
                detail: format!("QR gateway simulator: {e}"),
            })?;
        Ok(Arc::new(TestQrGateway {
            url: server.url(),
            server: Mutex::new(Some(server)),
            gateway,
        }))
    })
}

/// A QR configuration for the simulated gateway: demo key and merchant, the given polling.
#[uniffi::export]
pub fn demo_qr_config(
    gateway_url: String,
    journal_path: String,
    poll_interval_ms: u64,
    poll_deadline_ms: u64,
) -> QrConfigRecord {
    QrConfigRecord {
        gateway_url,
        merchant_id: demo_setup::DEMO_MERCHANT_ID.into(),
        terminal_id: demo_setup::DEMO_TERMINAL_ID.into(),
        signing_key: DEMO_SIGNING_KEY.to_vec(),
        journal_path,
        poll_interval_ms,
        poll_deadline_ms,
        ca_pem: None,
        spki_pins: Vec::new(),
    }
}

#[uniffi::export]
impl TestQrGateway {
    /// "http://127.0.0.1:port", for `QrConfigRecord.gatewayUrl`.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The behaviour of order `out_trade_no`, set before it is created.
    pub fn script(&self, out_trade_no: String, behaviour: TestQrBehaviour) {
        self.gateway.script(&out_trade_no, behaviour.into());
    }

    /// Money the simulated customer paid for the order, in fen.
    pub fn charged_fen(&self, out_trade_no: String) -> u64 {
        self.gateway.ledger().charged_fen(&out_trade_no)
    }

    /// Money given back to the simulated customer for the order, in fen.
    pub fn refunded_fen(&self, out_trade_no: String) -> u64 {
        self.gateway.ledger().refunded_fen(&out_trade_no)
    }

    /// Down: connections are refused, as with a gateway that is off; up again on the same port.
    pub fn set_down(&self, down: bool) {
        if let Some(server) = self
            .server
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            server.set_down(down);
        }
    }

    /// Whether the gateway ever heard of the order.
    pub fn knows(&self, out_trade_no: String) -> bool {
        self.gateway.ledger().order(&out_trade_no).is_some()
    }

    pub fn stop(&self) -> Result<(), SmartPosError> {
        guard("TestQrGateway.stop", || {
            let server = self.server.lock().unwrap_or_else(|p| p.into_inner()).take();
            if let Some(mut server) = server {
                server.stop();
            }
            Ok(())
        })
    }
}

/// The fleet's back office for the JVM tests: a fresh Ed25519 key (system RNG, never stored)
/// that signs rule bundles and hot-list deltas under a key id. Test-only: a terminal verifies
/// and never holds a signing key, and Kotlin on the JVM has no Ed25519 before Java 15.
#[derive(Debug, uniffi::Object)]
pub struct TestRiskSigner {
    signer: Signer,
}

/// A signer with a fresh key under `key_id`.
#[uniffi::export]
pub fn test_risk_signer(key_id: String) -> Result<Arc<TestRiskSigner>, SmartPosError> {
    guard("test_risk_signer", || {
        let invalid = |e: smartpos_core::risk::EnvelopeError| SmartPosError::InvalidInput {
            what: "key id".into(),
            detail: e.to_string(),
        };
        let key_id = KeyId::new(&key_id).map_err(invalid)?;
        let der = Signer::generate_pkcs8().map_err(invalid)?;
        let signer = Signer::from_pkcs8(&der).map_err(invalid)?;
        Ok(Arc::new(TestRiskSigner {
            signer: signer.with_key_id(key_id),
        }))
    })
}

#[uniffi::export]
impl TestRiskSigner {
    /// The entry for `TerminalConfigRecord.riskTrustedKeys` that trusts this signer.
    pub fn trusted_key(&self) -> RiskTrustedKeyRecord {
        RiskTrustedKeyRecord {
            key_id: self.signer.key_id().to_string(),
            public_key: self.signer.public_key(),
        }
    }

    /// The built-in bundle as `version`, with its card maximum per sale set to `card_max_fen`,
    /// signed.
    pub fn signed_bundle(&self, version: u64, card_max_fen: u64) -> Vec<u8> {
        let mut bundle = Bundle::built_in();
        bundle.version = version;
        bundle.limits.card.max_fen = card_max_fen;
        self.signer
            .seal(EnvelopeKind::Bundle, bundle.to_json().as_bytes())
    }

    /// A signed hot-list delta `sequence` listing the cards `add_pans` (digits), fingerprinted
    /// with `card_hash_salt` as a terminal configured with that salt does.
    pub fn signed_hot_list_delta(
        &self,
        sequence: u64,
        card_hash_salt: Vec<u8>,
        add_pans: Vec<String>,
    ) -> Result<Vec<u8>, SmartPosError> {
        guard("TestRiskSigner.signed_hot_list_delta", || {
            let key = CardHashKey::new(&card_hash_salt);
            let mut add = Vec::new();
            for (i, digits) in add_pans.iter().enumerate() {
                let pan = Pan::parse(digits).map_err(|e| SmartPosError::InvalidInput {
                    what: "card number".into(),
                    detail: format!("add_pans[{i}]: {e}"),
                })?;
                add.push(key.hash(&pan));
            }
            let delta = HotListDelta {
                sequence,
                add,
                remove: vec![],
            };
            Ok(self
                .signer
                .seal(EnvelopeKind::HotListDelta, &delta.encode()))
        })
    }
}
