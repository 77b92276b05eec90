//! The terminal: one entry point for every transaction, built on the journal, the acquirer link
//! and the ports. Calls block; the shell runs them on a worker thread and cancels through a
//! `CancelToken`.

use std::sync::{Arc, Mutex, MutexGuard};

use thiserror::Error;

use crate::crypto::KeyVault;
use crate::diag::Termination;
use crate::host::acquirer::AcquirerLink;
use crate::host::{TcpTransport, Timeouts, TlsTransport, Transport};
use crate::ports::{CardReader, Clock, Location, NetworkMonitor, PinPad, Printer, Prompt, Scanner};
use crate::store::{Journal, JournalOwner, SharedJournal, Stan, StoreError};
use crate::txn::config::{AcquirerSecurity, TerminalConfig};
use crate::txn::endings;

/// The hardware and platform services the shell provides.
#[derive(Clone)]
pub struct Ports {
    pub card_reader: Arc<dyn CardReader>,
    pub pin_pad: Arc<dyn PinPad>,
    pub printer: Arc<dyn Printer>,
    pub vault: Arc<dyn KeyVault>,
    pub clock: Arc<dyn Clock>,
    /// The ports below are optional hardware and platform services: `None` means the terminal has
    /// none fitted (a countertop without a scanner, a host test without a location provider), which
    /// the health check reports as "not fitted" rather than as a fault.
    pub scanner: Option<Arc<dyn Scanner>>,
    pub network: Option<Arc<dyn NetworkMonitor>>,
    pub location: Option<Arc<dyn Location>>,
    /// Merchant and cardholder prompts and confirmations (e.g. the operator confirming a
    /// possible duplicate); without one, anything that needs a confirmation is refused.
    pub prompt: Option<Arc<dyn Prompt>>,
}

impl std::fmt::Debug for Ports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ports").finish_non_exhaustive()
    }
}

/// Opening a terminal failed; nothing was changed on disk.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum OpenError {
    #[error("journal: {0}")]
    Journal(#[from] StoreError),
    #[error("configuration: {0}")]
    Config(String),
}

/// Session facts that are not worth a journal write.
#[derive(Debug, Default)]
pub(crate) struct Session {
    /// The host answered A0, 99 or 77, or keys are missing: sign on before the next message.
    pub sign_on_required: bool,
    /// The journal was found corrupt at open and moved aside; payments are refused until an
    /// operator acknowledges.
    pub storage_fault: Option<StorageFault>,
}

/// A corrupt journal found at open: where it was moved and why. Journaled in the fresh journal,
/// so it survives a restart until an operator acknowledges it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageFault {
    pub detail: String,
    /// The quarantined files (database, -wal, -shm), kept for investigation; never deleted.
    pub moved_to: Vec<std::path::PathBuf>,
    /// Transactions the quarantined journal still owed the acquirer (reversals, advices, requests
    /// in flight), carried into the fresh journal and resolved by its recovery.
    pub carried: usize,
    /// Why the quarantined copy could not be read, if it could not: what it owed is unknown, and
    /// the acknowledgement must accept that explicitly.
    pub unreadable: Option<String>,
}

impl From<crate::store::RecordedStorageFault> for StorageFault {
    fn from(f: crate::store::RecordedStorageFault) -> Self {
        StorageFault {
            detail: f.detail,
            moved_to: f.moved_to,
            carried: f.carried,
            unreadable: f.unreadable,
        }
    }
}

pub struct Terminal {
    pub(crate) config: TerminalConfig,
    pub(crate) link: AcquirerLink,
    pub(crate) transport: Arc<dyn Transport>,
    pub(crate) ports: Ports,
    /// Shared with a QR session on the same file ([`Terminal::qr_session`]): one owner.
    pub(crate) journal: SharedJournal,
    pub(crate) session: Mutex<Session>,
    /// A terminal runs one transaction at a time; this serialises callers from several threads.
    pub(crate) busy: Mutex<()>,
    /// Risk pre-check state; `None` while checks are off (`TerminalConfig::risk`).
    pub(crate) risk: Mutex<Option<crate::txn::risk_check::RiskState>>,
    /// Chip parameters (kernel data, AIDs, CA keys): production values until configured.
    pub(crate) chip: Mutex<crate::txn::chip::ChipConfig>,
    /// Contactless AIDs and the UI-request listener (`txn/tap.rs`).
    pub(crate) tap: crate::txn::tap::TapSettings,
    /// The signature pad (电签) and its policy, once fitted; `None`: paper slips.
    pub(crate) esign: Mutex<Option<crate::txn::esign_flow::SignatureSetup>>,
}

impl std::fmt::Debug for Terminal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Terminal")
            .field("terminal_id", &self.config.terminal_id)
            .finish_non_exhaustive()
    }
}

/// The transport `security` asks for, to the configured endpoints.
fn acquirer_transport(
    config: &TerminalConfig,
    security: &AcquirerSecurity,
) -> Result<Arc<dyn Transport>, OpenError> {
    if config.endpoints.is_empty() {
        return Err(OpenError::Config("no acquirer endpoint configured".into()));
    }
    Ok(match security {
        AcquirerSecurity::PlainTcp => Arc::new(TcpTransport::new(config.endpoints.clone())),
        AcquirerSecurity::Tls(tls) => Arc::new(
            TlsTransport::new(config.endpoints.clone(), tls)
                .map_err(|e| OpenError::Config(format!("acquirer TLS: {e}")))?,
        ),
    })
}

/// Label under which the sealed working keys are kept in the journal.
pub(crate) const WORKING_KEYS_LABEL: &str = "working-keys";
/// When a PED (which keeps its own keys) last loaded working keys: an empty blob, for its date.
pub(crate) const PED_KEYS_LABEL: &str = "ped-working-keys";

impl Terminal {
    /// Opens the journal and talks to the acquirer endpoints of `config` over plain TCP (a
    /// private APN; the health check says so).
    pub fn open(config: TerminalConfig, ports: Ports) -> Result<Terminal, OpenError> {
        Terminal::open_with_security(config, AcquirerSecurity::PlainTcp, ports)
    }

    /// Opens the journal and talks to the acquirer endpoints of `config` as `security` says. TLS
    /// settings that cannot be used (a CA or key that does not parse) refuse the open, before
    /// anything is sent.
    pub fn open_with_security(
        config: TerminalConfig,
        security: AcquirerSecurity,
        ports: Ports,
    ) -> Result<Terminal, OpenError> {
        let transport = acquirer_transport(&config, &security)?;
        Terminal::with_transport(config, ports, transport)
    }

    /// As [`Terminal::open_with_security`], with every frame to and from the acquirer shown to
    /// `tap` as well: a message log (`host::LogTap` writes one debug line per message, logcat on
    /// Android; the CLI's `--trace` a field dump). What a tap sees is the frame; the taps this
    /// crate provides never print card data.
    pub fn open_observed(
        config: TerminalConfig,
        security: AcquirerSecurity,
        ports: Ports,
        tap: Arc<dyn crate::host::MessageTap>,
    ) -> Result<Terminal, OpenError> {
        let transport = acquirer_transport(&config, &security)?;
        let tapped = Arc::new(crate::host::TappedTransport::new(transport, tap));
        Terminal::with_transport(config, ports, tapped)
    }

    /// Opens the journal with a transport of the caller's choosing (tests, TLS, a vendor stack).
    pub fn with_transport(
        config: TerminalConfig,
        ports: Ports,
        transport: Arc<dyn Transport>,
    ) -> Result<Terminal, OpenError> {
        validate(&config)?;
        let (journal, storage_fault) = open_journal(&config.journal_path, ports.clock.now())?;
        if let Some(max) = config.journal_max_bytes {
            journal.limit_size(max)?;
        }
        let link = AcquirerLink {
            terminal_id: config.terminal_id.clone(),
            merchant_id: config.merchant_id.clone(),
            tpdu: config.dialect.tpdu,
            header: config.dialect.header,
            mac: config.dialect.mac,
            timeouts: Timeouts {
                connect: config.connect_timeout,
                read: config.response_timeout,
                poll: Timeouts::default().poll,
            },
        };
        let terminal = Terminal {
            config,
            link,
            transport,
            ports,
            journal: Arc::new(Mutex::new(journal)),
            session: Mutex::new(Session {
                sign_on_required: false,
                storage_fault,
            }),
            busy: Mutex::new(()),
            risk: Mutex::new(None),
            chip: Mutex::new(crate::txn::chip::ChipConfig::production()),
            tap: crate::txn::tap::TapSettings::default(),
            esign: Mutex::new(None),
        };
        if let Some(setup) = terminal.config.risk.setup() {
            terminal.enable_risk(setup);
        }
        terminal.restore_working_keys();
        terminal.restore_chip_config();
        terminal.bind_sealed_pans();
        if terminal.session().storage_fault.is_none() {
            // Not `recover()`: that would wait for the journal's background integrity check,
            // and recovery with nothing in flight only reads. Its writes wait at the journal's
            // write door, so no reversal goes out before the journal is known sound.
            let _one = terminal.busy.lock().unwrap_or_else(|p| p.into_inner());
            terminal.recover_locked();
        }
        Ok(terminal)
    }

    /// The corrupt journal found at open (or by the integrity check that runs after it), if the
    /// operator has not acknowledged it yet. Waits for that check's verdict.
    pub fn unacknowledged_storage_fault(&self) -> Option<StorageFault> {
        self.settle_journal_check();
        self.session().storage_fault.clone()
    }

    /// The operator has seen the storage fault (and kept the quarantined files): payments may
    /// resume on the fresh journal. Journaled, so it holds across a restart. A fault whose
    /// quarantined copy could not be read is acknowledged only with `accept_unreadable` (the
    /// operator has reconciled with the acquirer); otherwise this is refused with the reason.
    pub fn acknowledge_storage_fault(&self, accept_unreadable: bool) -> Result<(), StoreError> {
        let _one = self.exclusive();
        let at = self.now_ms();
        self.journal()
            .acknowledge_storage_faults(at, accept_unreadable)?;
        if let Some(f) = self.session().storage_fault.take() {
            log::warn!(
                "terminal {}: storage fault acknowledged ({}; {} carried over)",
                self.config.terminal_id,
                f.detail,
                f.carried
            );
        }
        Ok(())
    }

    /// Journal write transactions so far (each one WAL fsync with synchronous=FULL).
    pub fn journal_commits(&self) -> u64 {
        self.journal().commit_count()
    }

    /// The journal's transactions, newest first (for the shell's history, the CLI and tests).
    pub fn transactions(&self) -> Result<Vec<crate::store::TransactionRecord>, StoreError> {
        self.journal().list(u32::MAX, 0)
    }

    /// Reversals the host has not confirmed (including those parked for the operator).
    pub fn pending_reversals(&self) -> Result<Vec<crate::store::PendingReversal>, StoreError> {
        self.journal().unresolved_reversals()
    }

    /// Every reversal armed so far with its state (a disarmed one reads `cleared`).
    pub fn reversals(&self) -> Result<Vec<crate::store::PendingReversal>, StoreError> {
        self.journal().reversals()
    }

    /// The terminal id (field 41).
    pub fn terminal_id(&self) -> &str {
        &self.config.terminal_id
    }

    /// A QR session on this terminal's journal: the same owner and connection, so card and QR
    /// payments land in one journal without a second opener racing the first.
    pub fn qr_session(
        &self,
        settings: crate::qr::session::QrSettings,
        clock: Arc<dyn crate::ports::Clock>,
    ) -> Result<crate::qr::session::QrSession, crate::qr::session::QrError> {
        crate::qr::session::QrSession::with_shared_journal(settings, self.journal.clone(), clock)
    }

    pub(crate) fn journal(&self) -> MutexGuard<'_, Journal> {
        // A panic while holding the lock cannot leave the journal half-written (SQLite rolls the
        // transaction back), so a poisoned lock is safe to take over.
        self.journal.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn session(&self) -> MutexGuard<'_, Session> {
        self.session.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes the one-transaction-at-a-time lock, and makes sure the journal's integrity verdict
    /// is in before the caller decides anything on it.
    pub(crate) fn exclusive(&self) -> MutexGuard<'_, ()> {
        let guard = self.busy.lock().unwrap_or_else(|p| p.into_inner());
        self.settle_journal_check();
        guard
    }

    /// Waits for the journal's integrity verdict; a journal found corrupt after open is handled
    /// as one found corrupt at open: moved aside (never deleted), replaced by a fresh journal,
    /// and payments refused until an operator acknowledges.
    fn settle_journal_check(&self) {
        let mut journal = self.journal();
        let detail = match journal.verify() {
            Ok(()) => return,
            Err(StoreError::Corrupt { detail, .. }) => detail,
            Err(e) => {
                // Not a verdict (an I/O hiccup): the journal's writes keep waiting for one.
                log::warn!("terminal {}: journal check: {e}", self.config.terminal_id);
                return;
            }
        };
        log::error!(
            "terminal {}: journal found corrupt after open: {detail}",
            self.config.terminal_id
        );
        let fault = match journal.restart_after_corruption() {
            Ok(moved_to) => {
                if let Err(e) = journal.reseed_stan(stan_after_loss(self.ports.clock.now())) {
                    log::error!("terminal {}: STAN reseed: {e}", self.config.terminal_id);
                }
                take_over(&mut journal, detail, moved_to, self.now_ms())
            }
            Err(e) => {
                log::error!(
                    "terminal {}: corrupt journal not moved aside: {e}",
                    self.config.terminal_id
                );
                StorageFault {
                    detail,
                    moved_to: Vec::new(),
                    carried: 0,
                    unreadable: Some(e.to_string()),
                }
            }
        };
        drop(journal);
        // What was carried over may have been sealed by an older build.
        self.bind_sealed_pans();
        let mut session = self.session();
        session.storage_fault = Some(fault);
        // The working keys lived in the lost journal too, unless the PED keeps them.
        if !self.ports.vault.keeps_keys_across_restarts() {
            session.sign_on_required = true;
        }
    }

    /// Working keys survive a restart sealed in the journal; a blob that does not open means a
    /// new sign-on, never a payment with doubtful keys. A PED keeps its own keys: it is asked
    /// whether it has them, and nothing is imported.
    fn restore_working_keys(&self) {
        if self.ports.vault.keeps_keys_across_restarts() {
            if !self.ports.vault.has_working_keys() {
                self.session().sign_on_required = true;
            }
            return;
        }
        let blob = match self.journal().key(WORKING_KEYS_LABEL) {
            Ok(Some((blob, _loaded_at))) => blob,
            Ok(None) => {
                self.session().sign_on_required = true;
                return;
            }
            Err(e) => {
                log::warn!(
                    "terminal {}: working keys unreadable: {e}",
                    self.config.terminal_id
                );
                self.session().sign_on_required = true;
                return;
            }
        };
        if let Err(e) = self.ports.vault.import_wrapped(
            &self.config.storage_key,
            WORKING_KEYS_LABEL,
            blob.as_bytes(),
        ) {
            log::warn!(
                "terminal {}: working keys rejected: {e}",
                self.config.terminal_id
            );
            self.session().sign_on_required = true;
        }
    }

    pub(crate) fn storage_fault(&self, e: &StoreError) -> Termination {
        log::error!("terminal {}: journal: {e}", self.config.terminal_id);
        endings::storage(matches!(e, StoreError::DiskFull))
    }
}

/// Opens the journal; a corrupt one is moved aside (never deleted) and a fresh one started, with
/// the fault kept so payments stay refused until an operator acknowledges it.
fn open_journal(
    path: &std::path::Path,
    now: std::time::SystemTime,
) -> Result<(Journal, Option<StorageFault>), OpenError> {
    // Owner first, held across a quarantine: nobody else may open the fresh file meanwhile.
    let owner = JournalOwner::acquire(path)?;
    match Journal::open_owned(path, owner.clone(), true) {
        Ok(journal) => {
            // A fault found by an earlier process and not yet acknowledged still stands.
            let earlier = journal
                .unacknowledged_storage_fault()?
                .map(StorageFault::from);
            Ok((journal, earlier))
        }
        Err(StoreError::Corrupt { detail, .. }) => {
            log::error!("journal {} is corrupt: {detail}", path.display());
            let moved_to = Journal::quarantine(path)?;
            let mut fresh = Journal::open_owned(path, owner, false)?;
            fresh.reseed_stan(stan_after_loss(now))?;
            let at_ms = now
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
            let fault = take_over(&mut fresh, detail, moved_to, at_ms);
            Ok((fresh, Some(fault)))
        }
        Err(e) => Err(e.into()),
    }
}

/// The fresh journal takes over from a quarantined one: what the old one still owed is carried
/// over (read-only, from the quarantined copy) and the fault is journaled, so payments stay
/// refused across restarts until an operator acknowledges it.
fn take_over(
    fresh: &mut Journal,
    detail: String,
    moved_to: Vec<std::path::PathBuf>,
    at_ms: i64,
) -> StorageFault {
    let (carried, unreadable) = match moved_to.first().map(|db| fresh.carry_owed_from(db)) {
        Some(Ok(n)) => (n, None),
        Some(Err(e)) => (0, Some(e.to_string())),
        None => (0, Some("no quarantined copy".to_string())),
    };
    if let Some(why) = &unreadable {
        log::error!("quarantined journal unreadable, what it owed is unknown: {why}");
    } else {
        log::warn!("{carried} transaction(s) owed carried over from the quarantined journal");
    }
    if let Err(e) =
        fresh.record_storage_fault(&detail, &moved_to, carried, unreadable.as_deref(), at_ms)
    {
        // Still refused for this process (the session holds the fault); only a restart would
        // forget it, and then the missing working keys force a sign-on at least.
        log::error!("storage fault not journaled: {e}");
    }
    StorageFault {
        detail,
        moved_to,
        carried,
        unreadable,
    }
}

/// Where STANs restart after the journal was lost: far from the low numbers a batch starts with
/// and different from one loss to the next (minutes since the epoch), so a STAN the host already
/// saw in this batch is unlikely to be reused.
fn stan_after_loss(now: std::time::SystemTime) -> Stan {
    let minutes = now
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() / 60)
        .unwrap_or(0);
    Stan::new((minutes % 900_000) as u32 + 50_000).unwrap_or(Stan::FIRST)
}

fn validate(config: &TerminalConfig) -> Result<(), OpenError> {
    if let Some(setup) = config.risk.setup() {
        setup.validate()?;
    }
    if config.terminal_id.len() != 8 || !config.terminal_id.is_ascii() {
        return Err(OpenError::Config(format!(
            "terminal id must be 8 ASCII characters, got {}",
            config.terminal_id.len()
        )));
    }
    if config.merchant_id.len() != 15 || !config.merchant_id.is_ascii() {
        return Err(OpenError::Config(format!(
            "merchant id must be 15 ASCII characters, got {}",
            config.merchant_id.len()
        )));
    }
    Ok(())
}
