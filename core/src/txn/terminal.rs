//! The terminal: one entry point for every transaction, built on the journal, the acquirer link
//! and the ports. Calls block; the shell runs them on a worker thread and cancels through a
//! `CancelToken`.

use std::sync::{Arc, Mutex, MutexGuard};

use thiserror::Error;

use crate::crypto::KeyVault;
use crate::diag::Termination;
use crate::host::acquirer::AcquirerLink;
use crate::host::{TcpTransport, Timeouts, Transport};
use crate::ports::{CardReader, Clock, PinPad, Printer};
use crate::store::{Journal, StoreError};
use crate::txn::config::TerminalConfig;
use crate::txn::endings;

/// The hardware and platform services the shell provides.
#[derive(Clone)]
pub struct Ports {
    pub card_reader: Arc<dyn CardReader>,
    pub pin_pad: Arc<dyn PinPad>,
    pub printer: Arc<dyn Printer>,
    pub vault: Arc<dyn KeyVault>,
    pub clock: Arc<dyn Clock>,
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
}

pub struct Terminal {
    pub(crate) config: TerminalConfig,
    pub(crate) link: AcquirerLink,
    pub(crate) transport: Arc<dyn Transport>,
    pub(crate) ports: Ports,
    pub(crate) journal: Mutex<Journal>,
    pub(crate) session: Mutex<Session>,
    /// A terminal runs one transaction at a time; this serialises callers from several threads.
    pub(crate) busy: Mutex<()>,
}

impl std::fmt::Debug for Terminal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Terminal")
            .field("terminal_id", &self.config.terminal_id)
            .finish_non_exhaustive()
    }
}

/// Label under which the sealed working keys are kept in the journal.
pub(crate) const WORKING_KEYS_LABEL: &str = "working-keys";

impl Terminal {
    /// Opens the journal and connects to the acquirer endpoints of `config` over TCP.
    pub fn open(config: TerminalConfig, ports: Ports) -> Result<Terminal, OpenError> {
        if config.endpoints.is_empty() {
            return Err(OpenError::Config("no acquirer endpoint configured".into()));
        }
        let transport = Arc::new(TcpTransport::new(config.endpoints.clone()));
        Terminal::with_transport(config, ports, transport)
    }

    /// Opens the journal with a transport of the caller's choosing (tests, TLS, a vendor stack).
    pub fn with_transport(
        config: TerminalConfig,
        ports: Ports,
        transport: Arc<dyn Transport>,
    ) -> Result<Terminal, OpenError> {
        validate(&config)?;
        let journal = Journal::open(&config.journal_path)?;
        let link = AcquirerLink {
            terminal_id: config.terminal_id.clone(),
            merchant_id: config.merchant_id.clone(),
            tpdu: config.tpdu,
            header: config.header,
            mac: config.mac,
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
            journal: Mutex::new(journal),
            session: Mutex::new(Session::default()),
            busy: Mutex::new(()),
        };
        terminal.restore_working_keys();
        Ok(terminal)
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

    pub(crate) fn journal(&self) -> MutexGuard<'_, Journal> {
        // A panic while holding the lock cannot leave the journal half-written (SQLite rolls the
        // transaction back), so a poisoned lock is safe to take over.
        self.journal.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn session(&self) -> MutexGuard<'_, Session> {
        self.session.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn exclusive(&self) -> MutexGuard<'_, ()> {
        self.busy.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Working keys survive a restart sealed in the journal; a blob that does not open means a
    /// new sign-on, never a payment with doubtful keys.
    fn restore_working_keys(&self) {
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

fn validate(config: &TerminalConfig) -> Result<(), OpenError> {
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
