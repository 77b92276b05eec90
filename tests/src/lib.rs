//! Shared harness for the end-to-end tests: an acquirer simulator on a loopback port chosen by
//! the OS, and a terminal with scripted ports and a journal in a temporary folder.

pub mod chip_day;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use smartpos_core::card::Track2;
use smartpos_core::crypto::{KeyAlgorithm, MacAlgorithm, SecretKey};
use smartpos_core::host::CancelToken;
use smartpos_core::host::{AcquirerDialect, AcquirerTls};
use smartpos_core::ports::testing::{
    FixedNetworkMonitor, RecordingPrinter, ScriptedCardReader, ScriptedScanner, SoftwarePinPad,
};
use smartpos_core::ports::{
    CardPresentation, CellularGeneration, Link, NetworkStatus, SystemClock,
};
use smartpos_core::txn::{
    AcquirerSecurity, Outcome, Ports, RiskConfig, SaleRequest, Terminal, TerminalConfig,
};
use smartpos_tools::demo_setup;
use smartpos_tools::sim::ledger::Ledger;
use smartpos_tools::sim::pki::{IssuedCert, TestCa};
use smartpos_tools::sim::{Acquirer, OnPathProxy, SimServer};

/// A terminal wired to a simulator.
#[allow(missing_debug_implementations)]
pub struct Harness {
    pub sim: SimServer,
    /// Derefs to the open terminal; a reopen closes it first, as a restarted process would.
    pub terminal: OpenTerminal,
    pub reader: Arc<ScriptedCardReader>,
    pub pin_pad: Arc<SoftwarePinPad>,
    pub printer: Arc<RecordingPrinter>,
    /// Optional ports, fitted so health checks and scanner faults can be injected.
    pub network: Arc<FixedNetworkMonitor>,
    pub scanner: Arc<ScriptedScanner>,
    pub dir: tempfile::TempDir,
    pub cancel: CancelToken,
    endpoints: Vec<SocketAddr>,
    /// The storage key's bytes, so a reopened terminal can unseal what the last one sealed
    /// (on a device the Android Keystore keeps it).
    storage_key: Vec<u8>,
    /// Risk checks are on (the built-in bundle) unless a test opted out; a reopen keeps it.
    risk: RiskConfig,
    /// The terminal's acquirer dialect (X9.19 MAC, clear tracks unless a test says otherwise).
    dialect: AcquirerDialect,
    /// Plain TCP unless a test opened the terminal over TLS; a reopen keeps it.
    security: AcquirerSecurity,
}

impl Harness {
    /// A simulator with the demo accounts and a signed-on terminal, risk checks on with the
    /// built-in bundle (as a terminal in the field runs).
    pub fn new() -> Harness {
        let h = Harness::unsigned();
        h.terminal.sign_on().expect("sign-on");
        h
    }

    /// As `new`, with risk checks off. Only for a test that must make many sales on one demo
    /// card within seconds (filling the journal, growing it for a corruption test): the
    /// built-in bundle's per-card velocity limit (5 in 10 minutes) would stop it, as it should
    /// stop such a card in a shop.
    pub fn without_risk_checks() -> Harness {
        let h = Harness::build(
            demo_sim(),
            None,
            RiskConfig::disabled(),
            AcquirerSecurity::PlainTcp,
        );
        h.terminal.sign_on().expect("sign-on");
        h
    }

    /// As `new`, but without signing on.
    pub fn unsigned() -> Harness {
        Harness::with_sim(demo_sim())
    }

    pub fn with_sim(sim: SimServer) -> Harness {
        Harness::with_endpoints(sim, None)
    }

    /// A terminal whose primary endpoint is `primary` (e.g. a dead port) and the simulator its
    /// backup.
    pub fn with_endpoints(sim: SimServer, primary: Option<SocketAddr>) -> Harness {
        Harness::build(
            sim,
            primary,
            RiskConfig::default(),
            AcquirerSecurity::PlainTcp,
        )
    }

    /// A terminal (not signed on) reaching `sim` as `security` says, risk checks on.
    pub fn secured(sim: SimServer, security: AcquirerSecurity) -> Harness {
        Harness::build(sim, None, RiskConfig::default(), security)
    }

    /// A signed-on terminal that reaches the demo simulator only through an on-path proxy, and
    /// the proxy (risk checks off: these tests repeat one card).
    pub fn behind_proxy() -> (Harness, OnPathProxy) {
        Harness::behind_proxy_with_mac(MacAlgorithm::X919)
    }

    /// As `behind_proxy`, with acquirer and terminal agreeing on `mac`.
    pub fn behind_proxy_with_mac(mac: MacAlgorithm) -> (Harness, OnPathProxy) {
        Harness::behind_proxy_with(AcquirerDialect::unionpay(mac), false)
    }

    /// Behind a proxy, terminal and acquirer agreeing on `dialect`; `acquirer_tracks` makes the
    /// acquirer issue a TDK and accept only enciphered track data.
    pub fn behind_proxy_with(
        dialect: AcquirerDialect,
        acquirer_tracks: bool,
    ) -> (Harness, OnPathProxy) {
        let acquirer = Acquirer::new(Ledger::with_demo_accounts(), demo_setup::demo_tmk())
            .with_mac(dialect.mac)
            .with_track_encryption(acquirer_tracks);
        let sim = SimServer::start(Arc::new(acquirer), ([127, 0, 0, 1], 0).into()).expect("sim");
        let proxy = OnPathProxy::start(sim.addr()).expect("proxy");
        let mut h = Harness::build_on(
            sim,
            vec![proxy.addr()],
            RiskConfig::disabled(),
            AcquirerSecurity::PlainTcp,
        );
        if dialect != h.dialect {
            h.dialect = dialect;
            h.reopen();
        }
        h.terminal.sign_on().expect("sign-on");
        (h, proxy)
    }

    /// Reopens the terminal (as a restarted process, running recovery) talking to the
    /// simulator directly: the real host, with nobody in between.
    pub fn reopen_direct(&mut self) {
        self.endpoints = vec![self.sim.addr()];
        self.reopen();
    }

    /// Reopens the terminal (as a restarted process) reaching `endpoints` as `security` says:
    /// e.g. another host presenting another certificate, or the same host with a client
    /// certificate this time.
    pub fn reopen_on(&mut self, endpoints: Vec<SocketAddr>, security: AcquirerSecurity) {
        self.endpoints = endpoints;
        self.security = security;
        self.reopen();
    }

    fn build(
        sim: SimServer,
        primary: Option<SocketAddr>,
        risk: RiskConfig,
        security: AcquirerSecurity,
    ) -> Harness {
        let mut endpoints = Vec::new();
        endpoints.extend(primary);
        endpoints.push(sim.addr());
        Harness::build_on(sim, endpoints, risk, security)
    }

    fn build_on(
        sim: SimServer,
        endpoints: Vec<SocketAddr>,
        risk: RiskConfig,
        security: AcquirerSecurity,
    ) -> Harness {
        let dir = tempfile::tempdir().expect("tempdir");
        let storage_key = demo_setup::fresh_storage_key()
            .expect("storage key")
            .expose_secret()
            .to_vec();
        let extras = OptionalPorts::fitted();
        let (terminal, reader, pin_pad, printer) = open_terminal_secured(
            &dir,
            &endpoints,
            &storage_key,
            None,
            Some(&extras),
            (risk.clone(), AcquirerDialect::default()),
            security.clone(),
        )
        .expect("open terminal");
        Harness {
            sim,
            terminal: OpenTerminal(Some(terminal)),
            reader,
            pin_pad,
            printer,
            network: extras.network,
            scanner: extras.scanner,
            dir,
            cancel: CancelToken::new(),
            endpoints,
            storage_key,
            risk,
            dialect: AcquirerDialect::default(),
            security,
        }
    }

    /// Drops the terminal (as a killed process would lose it) and opens a new one on the same
    /// journal, which runs recovery.
    pub fn reopen(&mut self) {
        // The old process is gone before the new one starts: only one may own the journal.
        self.terminal.0 = None;
        let (terminal, reader, pin_pad, printer) = open_terminal_secured(
            &self.dir,
            &self.endpoints,
            &self.storage_key,
            None,
            Some(&self.optional_ports()),
            (self.risk.clone(), self.dialect),
            self.security.clone(),
        )
        .expect("reopen");
        self.terminal = OpenTerminal(Some(terminal));
        self.reader = reader;
        self.pin_pad = pin_pad;
        self.printer = printer;
    }

    /// Reopens with another storage key, as after a keystore reset: nothing sealed under the old
    /// key (PANs, working keys) opens any more.
    pub fn reopen_with_new_storage_key(&mut self) {
        self.storage_key = demo_setup::fresh_storage_key()
            .expect("storage key")
            .expose_secret()
            .to_vec();
        self.reopen();
    }

    /// Closes the terminal, as a process that stops; `reopen` starts the next one.
    pub fn close(&mut self) {
        self.terminal.0 = None;
    }

    /// Reopens the terminal with a journal storage budget of `max_bytes`.
    pub fn reopen_with_budget(&mut self, max_bytes: u64) {
        self.terminal.0 = None;
        let (terminal, reader, pin_pad, printer) = open_terminal_secured(
            &self.dir,
            &self.endpoints,
            &self.storage_key,
            Some(max_bytes),
            Some(&self.optional_ports()),
            (self.risk.clone(), self.dialect),
            self.security.clone(),
        )
        .expect("reopen");
        self.terminal = OpenTerminal(Some(terminal));
        self.reader = reader;
        self.pin_pad = pin_pad;
        self.printer = printer;
    }

    fn optional_ports(&self) -> OptionalPorts {
        OptionalPorts {
            network: self.network.clone(),
            scanner: self.scanner.clone(),
        }
    }

    pub fn storage_key_bytes(&self) -> &[u8] {
        &self.storage_key
    }

    pub fn journal_path(&self) -> std::path::PathBuf {
        self.dir.path().join("journal.db")
    }

    pub fn acquirer(&self) -> &Acquirer {
        self.sim.acquirer()
    }

    /// Presents a demo card (by its name in the demo ledger) with the PIN the cardholder types.
    pub fn present(&self, card: &str, pin: Option<&str>) {
        let track2 = demo_setup::demo_track2(card).expect("demo card");
        self.reader.present(CardPresentation::Magstripe {
            track2: Track2::parse(&track2).expect("track 2"),
        });
        self.pin_pad.set_pin(pin);
    }

    pub fn sale(&self, attempt: &str, card: &str, pin: Option<&str>, fen: u64) -> Outcome {
        self.present(card, pin);
        self.terminal.sale(
            &SaleRequest {
                attempt_id: attempt.into(),
                amount_fen: fen,
            },
            &self.cancel,
        )
    }

    /// A sale the host charges whose answer never comes, and whose reversal goes unanswered too:
    /// the terminal is left owing a reversal (attempted once). Returns its outcome.
    pub fn sale_left_owing_a_reversal(&self, attempt: &str, fen: u64) -> Outcome {
        use smartpos_tools::sim::{Fault, Matcher};
        self.acquirer().inject(
            Matcher::Mti("0200".into()),
            Fault::NoResponse { apply: true },
        );
        self.acquirer().inject(
            Matcher::Mti("0400".into()),
            Fault::NoResponse { apply: false },
        );
        self.sale(attempt, "normal", Some("123456"), fen)
    }

    /// The journal's record of `attempt_id`.
    pub fn transaction(&self, attempt_id: &str) -> smartpos_core::store::TransactionRecord {
        self.terminal
            .transactions()
            .expect("journal")
            .into_iter()
            .find(|t| t.attempt_id == attempt_id)
            .unwrap_or_else(|| panic!("no transaction {attempt_id}"))
    }

    /// Balance of a demo account at the simulated issuer.
    pub fn balance(&self, account: &str) -> i64 {
        self.acquirer()
            .ledger()
            .account(account)
            .map_or(0, |a| a.balance_fen)
    }

    /// Funds held by pre-authorisations on a demo account.
    pub fn held(&self, account: &str) -> u64 {
        self.acquirer().ledger().held_fen(account)
    }

    /// The merchant's net position in the simulator's ledger.
    pub fn net_fen(&self) -> i64 {
        self.acquirer().ledger().net_fen()
    }
}

/// The harness's terminal: open from construction until a reopen replaces it.
#[allow(missing_debug_implementations)]
pub struct OpenTerminal(Option<Terminal>);

impl std::ops::Deref for OpenTerminal {
    type Target = Terminal;
    fn deref(&self) -> &Terminal {
        self.0.as_ref().expect("the harness's terminal is open")
    }
}

type Opened = (
    Terminal,
    Arc<ScriptedCardReader>,
    Arc<SoftwarePinPad>,
    Arc<RecordingPrinter>,
);

/// A terminal on the journal in `dir`, with scripted ports and the demo TMK.
pub fn open_terminal(
    dir: &tempfile::TempDir,
    endpoints: &[SocketAddr],
    storage_key: &[u8],
) -> Result<Opened, smartpos_core::txn::OpenError> {
    open_terminal_with_budget(dir, endpoints, storage_key, None)
}

/// As `open_terminal`, with a journal storage budget (to make the "disk" fill up).
pub fn open_terminal_with_budget(
    dir: &tempfile::TempDir,
    endpoints: &[SocketAddr],
    storage_key: &[u8],
    journal_max_bytes: Option<u64>,
) -> Result<Opened, smartpos_core::txn::OpenError> {
    open_terminal_with(dir, endpoints, storage_key, journal_max_bytes, None)
}

/// A network monitor (4G, good signal) and a scanner the test can script.
#[derive(Debug, Clone)]
pub struct OptionalPorts {
    pub network: Arc<FixedNetworkMonitor>,
    pub scanner: Arc<ScriptedScanner>,
}

impl OptionalPorts {
    pub fn fitted() -> OptionalPorts {
        OptionalPorts {
            network: Arc::new(FixedNetworkMonitor::new(NetworkStatus {
                link: Link::Cellular(CellularGeneration::G4),
                signal_dbm: Some(-75),
                connected: true,
            })),
            scanner: Arc::new(ScriptedScanner::new()),
        }
    }
}

/// The demo acquirer on a loopback port the OS picks.
fn demo_sim() -> SimServer {
    let loopback = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    SimServer::start(demo_acquirer(), loopback).expect("sim")
}

/// The demo acquirer: the demo accounts, the demo TMK.
pub fn demo_acquirer() -> Arc<Acquirer> {
    Arc::new(Acquirer::new(
        Ledger::with_demo_accounts(),
        demo_setup::demo_tmk(),
    ))
}

/// `acquirer` served over TLS on a loopback port the OS picks, presenting `server`; with
/// `client_ca`, only to terminals presenting a certificate that CA issued.
pub fn tls_sim(
    acquirer: Arc<Acquirer>,
    server: &IssuedCert,
    client_ca: Option<&TestCa>,
) -> SimServer {
    let client_ca = client_ca.map(|ca| ca.cert_pem());
    let config = smartpos_tools::sim::tls::server_config(
        server.cert_pem.as_bytes(),
        server.key_pem.as_bytes(),
        client_ca.as_deref().map(str::as_bytes),
    )
    .expect("TLS server configuration");
    let loopback = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    SimServer::start_tls(acquirer, loopback, config).expect("TLS sim")
}

/// TLS trusting only `ca`, presenting `client` when given.
pub fn tls_trusting(ca: &TestCa, client: Option<&IssuedCert>) -> AcquirerSecurity {
    AcquirerSecurity::Tls(AcquirerTls {
        ca_pem: Some(ca.cert_pem().into_bytes()),
        server_name: None,
        client: client.map(IssuedCert::identity),
    })
}

/// As `open_terminal_with_budget`, with the optional ports fitted when `extras` is given.
pub fn open_terminal_with(
    dir: &tempfile::TempDir,
    endpoints: &[SocketAddr],
    storage_key: &[u8],
    journal_max_bytes: Option<u64>,
    extras: Option<&OptionalPorts>,
) -> Result<Opened, smartpos_core::txn::OpenError> {
    open_terminal_risk(
        dir,
        endpoints,
        storage_key,
        journal_max_bytes,
        extras,
        (RiskConfig::default(), AcquirerDialect::default()),
    )
}

/// As `open_terminal_with`, with the risk configuration given.
pub fn open_terminal_risk(
    dir: &tempfile::TempDir,
    endpoints: &[SocketAddr],
    storage_key: &[u8],
    journal_max_bytes: Option<u64>,
    extras: Option<&OptionalPorts>,
    (risk, dialect): (RiskConfig, AcquirerDialect),
) -> Result<Opened, smartpos_core::txn::OpenError> {
    open_terminal_secured(
        dir,
        endpoints,
        storage_key,
        journal_max_bytes,
        extras,
        (risk, dialect),
        AcquirerSecurity::PlainTcp,
    )
}

/// As `open_terminal_risk`, reaching the acquirer as `security` says.
pub fn open_terminal_secured(
    dir: &tempfile::TempDir,
    endpoints: &[SocketAddr],
    storage_key: &[u8],
    journal_max_bytes: Option<u64>,
    extras: Option<&OptionalPorts>,
    (risk, dialect): (RiskConfig, AcquirerDialect),
    security: AcquirerSecurity,
) -> Result<Opened, smartpos_core::txn::OpenError> {
    let vault = Arc::new(demo_setup::demo_vault());
    let reader = Arc::new(ScriptedCardReader::default());
    let pin_pad = Arc::new(SoftwarePinPad::new(vault.clone()));
    let printer = Arc::new(RecordingPrinter::default());
    let ports = Ports {
        card_reader: reader.clone(),
        pin_pad: pin_pad.clone(),
        printer: printer.clone(),
        vault,
        clock: Arc::new(SystemClock),
        scanner: extras.map(|e| e.scanner.clone() as Arc<dyn smartpos_core::ports::Scanner>),
        network: extras.map(|e| e.network.clone() as Arc<dyn smartpos_core::ports::NetworkMonitor>),
        location: None,
        prompt: None,
    };
    let key = SecretKey::new(KeyAlgorithm::Aes, storage_key).expect("AES-256 storage key");
    let mut config = TerminalConfig {
        journal_path: dir.path().join("journal.db"),
        endpoints: endpoints.to_vec(),
        response_timeout: Duration::from_millis(400),
        journal_max_bytes,
        risk,
        ..demo_setup::demo_terminal_config(key)
    };
    config.dialect = dialect;
    let terminal = Terminal::open_with_security(config, security, ports)?;
    Ok((terminal, reader, pin_pad, printer))
}

impl Default for Harness {
    fn default() -> Self {
        Harness::new()
    }
}

/// A customer-presented QR payment of `fen` with the demo WeChat Pay code, as the QR tests make
/// it (the session's error, never expected there, panics).
pub fn qr_micropay(
    session: &smartpos_core::qr::session::QrSession,
    id: &str,
    fen: u64,
) -> smartpos_core::qr::session::QrOutcome {
    session
        .micropay(
            id,
            smartpos_core::money::Amount::from_fen(fen).expect("amount"),
            &smartpos_core::qr::gateway::AuthCode::new(demo_setup::DEMO_WECHAT_CODE),
            "wechat",
            &CancelToken::new(),
        )
        .expect("micropay")
}
