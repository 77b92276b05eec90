//! The `Terminal` object: the core terminal behind the Kotlin ports, and the cancel handle a
//! shell uses to stop a running call from another thread.

use std::sync::{Arc, Mutex};

use smartpos_core::host::CancelToken;
use smartpos_core::ports::SystemClock;
use smartpos_core::txn::{self, Original, Ports, ReprintError};

use crate::config::TerminalConfigRecord;
use crate::error::{SmartPosError, guard};
use crate::history::{PendingWorkRecord, StorageFaultRecord, TransactionSummaryRecord};
use crate::optional_ports::TerminalPorts;
use crate::outcome::{
    EcBalanceOutcome, Outcome, RecoveryRecord, ReprintOutcome, SettlementOutcome, SignOnOutcome,
};
use crate::ped::{Ped, PedPinPad, PedVault};
use crate::ports::{CardReader, CardReaderAdapter, Printer, PrinterAdapter};

/// Stops a running call: create one per call, pass it in, call `cancel()` from any thread.
/// The core checks it between steps and while waiting for the host.
#[derive(Debug, Default, uniffi::Object)]
pub struct CancelHandle {
    pub(crate) inner: CancelToken,
}

#[uniffi::export]
impl CancelHandle {
    #[uniffi::constructor]
    pub fn new() -> Arc<Self> {
        Arc::new(CancelHandle::default())
    }

    pub fn cancel(&self) {
        self.inner.cancel();
    }

    pub fn is_cancelled(&self) -> bool {
        self.inner.is_cancelled()
    }
}

/// A payment terminal. Calls block (run them off the main thread); one runs at a time.
#[derive(uniffi::Object)]
pub struct Terminal {
    /// `None` once closed. Each call clones the `Arc` and releases the lock at once, so `close`
    /// never waits for a running call, and the journal closes when the last call ends.
    inner: Mutex<Option<Arc<txn::Terminal>>>,
}

impl std::fmt::Debug for Terminal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Terminal").finish_non_exhaustive()
    }
}

impl Terminal {
    pub(crate) fn core(&self) -> Result<Arc<txn::Terminal>, SmartPosError> {
        let slot = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        slot.clone().ok_or_else(|| SmartPosError::Closed {
            object: "Terminal".into(),
        })
    }
}

fn follow_up(attempt_id: String, original_stan: u32, amount_fen: u64) -> txn::FollowUpRequest {
    txn::FollowUpRequest {
        attempt_id,
        original: Original {
            stan: original_stan,
        },
        amount_fen,
    }
}

#[uniffi::export]
impl Terminal {
    /// Opens the journal, runs recovery (armed reversals are sent) and returns the terminal,
    /// with no optional ports fitted (see `open_with_ports`). `ped` holds the keys and takes the
    /// PIN: a vendor adapter, or `SoftwarePed.as_ped()` on the host and the emulator.
    #[uniffi::constructor]
    pub fn open(
        config: TerminalConfigRecord,
        card_reader: Arc<dyn CardReader>,
        ped: Arc<dyn Ped>,
        printer: Arc<dyn Printer>,
    ) -> Result<Arc<Self>, SmartPosError> {
        Self::open_with_ports(config, card_reader, ped, printer, TerminalPorts::default())
    }

    /// `open` with the optional ports the terminal has (scanner, network monitor, location,
    /// prompts); a null port means "not fitted".
    #[uniffi::constructor]
    pub fn open_with_ports(
        config: TerminalConfigRecord,
        card_reader: Arc<dyn CardReader>,
        ped: Arc<dyn Ped>,
        printer: Arc<dyn Printer>,
        optional: TerminalPorts,
    ) -> Result<Arc<Self>, SmartPosError> {
        let mut config = config;
        guard("Terminal.open", move || {
            let converted = config.to_core();
            let security = match &config.acquirer_tls {
                Some(tls) => tls.to_core().map(txn::AcquirerSecurity::Tls),
                None => Ok(txn::AcquirerSecurity::PlainTcp),
            };
            config.wipe_secrets();
            let core_config = converted?;
            let security = security?;
            let (scanner, network, location, prompt) = optional.to_core();
            let ports = Ports {
                card_reader: Arc::new(CardReaderAdapter(card_reader)),
                pin_pad: Arc::new(PedPinPad(ped.clone())),
                printer: Arc::new(PrinterAdapter(printer)),
                vault: Arc::new(PedVault(ped)),
                clock: Arc::new(SystemClock),
                scanner,
                network,
                location,
                prompt,
            };
            // One debug line per message through `log` (logcat on Android), never card data;
            // the line is formatted only when debug logging is on.
            let core = txn::Terminal::open_observed(
                core_config,
                security,
                ports,
                Arc::new(smartpos_core::host::LogTap),
            )?;
            Ok(Arc::new(Terminal {
                inner: Mutex::new(Some(Arc::new(core))),
            }))
        })
    }

    /// Signs on for working keys (the engine also does it by itself when needed).
    pub fn sign_on(&self) -> Result<SignOnOutcome, SmartPosError> {
        guard("Terminal.sign_on", || Ok(self.core()?.sign_on().into()))
    }

    /// The electronic cash balance of the inserted chip card, read offline from the chip.
    pub fn ec_balance(&self) -> Result<EcBalanceOutcome, SmartPosError> {
        guard("Terminal.ec_balance", || {
            Ok(self.core()?.ec_balance().into())
        })
    }

    pub fn sale(
        &self,
        attempt_id: String,
        amount_fen: u64,
        cancel: Arc<CancelHandle>,
    ) -> Result<Outcome, SmartPosError> {
        guard("Terminal.sale", || {
            let req = txn::SaleRequest {
                attempt_id,
                amount_fen,
            };
            Ok(self.core()?.sale(&req, &cancel.inner).into())
        })
    }

    /// Voids a sale of the current batch, named by its STAN (the voucher number).
    pub fn void(
        &self,
        attempt_id: String,
        original_stan: u32,
        cancel: Arc<CancelHandle>,
    ) -> Result<Outcome, SmartPosError> {
        guard("Terminal.void", || {
            let req = txn::VoidRequest {
                attempt_id,
                original: Original {
                    stan: original_stan,
                },
            };
            Ok(self.core()?.void(&req, &cancel.inner).into())
        })
    }

    pub fn refund(
        &self,
        attempt_id: String,
        amount_fen: u64,
        original_stan: u32,
        cancel: Arc<CancelHandle>,
    ) -> Result<Outcome, SmartPosError> {
        guard("Terminal.refund", || {
            let req = txn::RefundRequest {
                attempt_id,
                amount_fen,
                original: Original {
                    stan: original_stan,
                },
            };
            Ok(self.core()?.refund(&req, &cancel.inner).into())
        })
    }

    pub fn balance(
        &self,
        attempt_id: String,
        cancel: Arc<CancelHandle>,
    ) -> Result<Outcome, SmartPosError> {
        guard("Terminal.balance", || {
            let req = txn::BalanceRequest { attempt_id };
            Ok(self.core()?.balance(&req, &cancel.inner).into())
        })
    }

    pub fn pre_auth(
        &self,
        attempt_id: String,
        amount_fen: u64,
        cancel: Arc<CancelHandle>,
    ) -> Result<Outcome, SmartPosError> {
        guard("Terminal.pre_auth", || {
            let req = txn::PreAuthRequest {
                attempt_id,
                amount_fen,
            };
            Ok(self.core()?.pre_auth(&req, &cancel.inner).into())
        })
    }

    /// Completes a pre-authorisation of the current batch, named by its STAN.
    pub fn completion(
        &self,
        attempt_id: String,
        amount_fen: u64,
        original_stan: u32,
        cancel: Arc<CancelHandle>,
    ) -> Result<Outcome, SmartPosError> {
        guard("Terminal.completion", || {
            let req = follow_up(attempt_id, original_stan, amount_fen);
            Ok(self.core()?.completion(&req, &cancel.inner).into())
        })
    }

    /// Voids a pre-authorisation of the current batch (releases the hold), named by its STAN.
    pub fn pre_auth_void(
        &self,
        attempt_id: String,
        original_stan: u32,
        cancel: Arc<CancelHandle>,
    ) -> Result<Outcome, SmartPosError> {
        guard("Terminal.pre_auth_void", || {
            let req = follow_up(attempt_id, original_stan, 0);
            Ok(self.core()?.pre_auth_void(&req, &cancel.inner).into())
        })
    }

    /// Voids a completion of the current batch, named by its STAN.
    pub fn completion_void(
        &self,
        attempt_id: String,
        original_stan: u32,
        cancel: Arc<CancelHandle>,
    ) -> Result<Outcome, SmartPosError> {
        guard("Terminal.completion_void", || {
            let req = follow_up(attempt_id, original_stan, 0);
            Ok(self.core()?.completion_void(&req, &cancel.inner).into())
        })
    }

    pub fn settle(&self) -> Result<SettlementOutcome, SmartPosError> {
        guard("Terminal.settle", || Ok(self.core()?.settle().into()))
    }

    /// Resolves what an earlier process left unfinished (also run at open).
    pub fn recover(&self) -> Result<RecoveryRecord, SmartPosError> {
        guard("Terminal.recover", || Ok(self.core()?.recover().into()))
    }

    /// Reversals the host has not confirmed yet (settlement waits for them).
    pub fn pending_reversals_count(&self) -> Result<u64, SmartPosError> {
        guard("Terminal.pending_reversals_count", || {
            Ok(self.core()?.pending_reversals()?.len() as u64)
        })
    }

    /// The journal's transactions, newest first; card numbers masked (first 6, last 4).
    pub fn history(&self) -> Result<Vec<TransactionSummaryRecord>, SmartPosError> {
        guard("Terminal.history", || {
            let records = self.core()?.transactions()?;
            Ok(records.into_iter().map(Into::into).collect())
        })
    }

    /// Reversals and advices the host still has to confirm, and receipts waiting for a reprint.
    /// A reversal that used its attempts is listed with `parked` set: settle it with the
    /// acquirer, then `release_parked`.
    pub fn pending_work(&self) -> Result<PendingWorkRecord, SmartPosError> {
        guard("Terminal.pending_work", || {
            let core = self.core()?;
            Ok(PendingWorkRecord::read(&core)?)
        })
    }

    /// The operator has settled a parked reversal with the acquirer by other means (a call, the
    /// acquirer's portal): it stops blocking settlement and stays in the journal as released.
    /// Sends nothing. Only a parked reversal (`parked` set in `pending_work`) can be released;
    /// any other `transaction_id` is `InvalidInput`.
    pub fn release_parked(&self, transaction_id: i64) -> Result<(), SmartPosError> {
        guard("Terminal.release_parked", || {
            self.core()?.release_parked_reversal(transaction_id)?;
            Ok(())
        })
    }

    /// Prints the duplicate receipt of an approved transaction again, from the journal. A
    /// printer fault is an outcome (`PrinterFailed`), as in a payment; an attempt id the journal
    /// does not know, or one that was not approved, is an exception.
    pub fn reprint(&self, attempt_id: String) -> Result<ReprintOutcome, SmartPosError> {
        guard("Terminal.reprint", || {
            match self.core()?.reprint(&attempt_id) {
                Ok(receipt) => Ok(ReprintOutcome::Printed {
                    receipt: (&receipt).into(),
                }),
                Err(ReprintError::Printer(fault)) => Ok(ReprintOutcome::PrinterFailed {
                    termination: fault.termination().into(),
                }),
                Err(e) => Err(e.into()),
            }
        })
    }

    /// The corrupt journal found at open, until the operator acknowledges it; payments are
    /// refused (`SW_STORAGE_CORRUPT`) while there is one.
    pub fn storage_fault(&self) -> Result<Option<StorageFaultRecord>, SmartPosError> {
        guard("Terminal.storage_fault", || {
            Ok(self.core()?.unacknowledged_storage_fault().map(Into::into))
        })
    }

    /// The operator has seen the storage fault: payments resume on the fresh journal. Journaled,
    /// so it holds across a restart. When the corrupt copy could not be read at all
    /// (`StorageFaultRecord.unreadable`), what it owed the acquirer is unknown: this is refused
    /// (`InvalidInput`) unless `accept_unreadable`, which the operator gives once reconciled
    /// with the acquirer.
    #[uniffi::method(default(accept_unreadable = false))]
    pub fn acknowledge_storage_fault(&self, accept_unreadable: bool) -> Result<(), SmartPosError> {
        guard("Terminal.acknowledge_storage_fault", || {
            self.core()?.acknowledge_storage_fault(accept_unreadable)?;
            Ok(())
        })
    }

    /// Releases the core terminal (journal, ports); a running call finishes first. Later calls
    /// fail with `Closed`. A QR session from `qr_session` keeps the journal (and its ownership)
    /// until it is shut down too. Named `shut_down` because Kotlin's generated `close()` already frees
    /// the handle itself, after which calls fail with an untyped `IllegalStateException`.
    pub fn shut_down(&self) -> Result<(), SmartPosError> {
        guard("Terminal.shut_down", || {
            let taken = self.inner.lock().unwrap_or_else(|p| p.into_inner()).take();
            drop(taken);
            Ok(())
        })
    }
}

#[cfg(all(test, feature = "software-ped"))]
mod tests {
    use super::*;
    use crate::ports::{CardPresentationRecord, PortError};
    use crate::qr::{QrConfigRecord, QrSession};
    use crate::software_ped::SoftwarePed;
    use crate::test_ports::Paper;

    struct NoCard;
    impl CardReader for NoCard {
        fn detect(&self, _: u64) -> Result<CardPresentationRecord, PortError> {
            Err(PortError::NoCardPresented)
        }
        fn transceive(&self, _: Vec<u8>) -> Result<Vec<u8>, PortError> {
            Err(PortError::Unexpected)
        }
        fn remove_card(&self) -> Result<(), PortError> {
            Ok(())
        }
    }

    /// A terminal on `journal`; nothing listens at the endpoint, and opening an empty journal
    /// sends nothing.
    fn open(journal: &str) -> Result<Arc<Terminal>, SmartPosError> {
        let config = TerminalConfigRecord {
            terminal_id: "10000001".into(),
            merchant_id: "898310048140001".into(),
            merchant_name: "shop".into(),
            endpoints: vec!["127.0.0.1:9".into()],
            connect_timeout_ms: 100,
            response_timeout_ms: 100,
            card_timeout_ms: 100,
            journal_path: journal.into(),
            storage_key: vec![7; 32],
            risk_checks: true,
            risk_trusted_key: None,
            risk_trusted_keys: vec![],
            risk_card_hash_salt: None,
            risk_mcc: None,
            acquirer_tls: None,
        };
        let ped = SoftwarePed::with_tmk("0123456789ABCDEFFEDCBA9876543210".into())?;
        Terminal::open(config, Arc::new(NoCard), ped.as_ped(), Arc::new(Paper))
    }

    fn qr_config(journal: &str) -> QrConfigRecord {
        QrConfigRecord {
            gateway_url: "http://127.0.0.1:9".into(),
            merchant_id: "898310048140001".into(),
            terminal_id: "10000001".into(),
            signing_key: b"secret-key".to_vec(),
            journal_path: journal.into(),
            poll_interval_ms: 50,
            poll_deadline_ms: 1_000,
            ca_pem: None,
            spki_pins: Vec::new(),
        }
    }

    fn assert_in_use<T>(r: Result<T, SmartPosError>, journal: &str) {
        match r {
            Err(SmartPosError::JournalInUse { path, holder_pid }) => {
                assert_eq!(path, journal);
                assert_eq!(holder_pid, Some(std::process::id()));
            }
            Err(other) => panic!("expected JournalInUse, got {other:?}"),
            Ok(_) => panic!("expected JournalInUse, the journal opened twice"),
        }
    }

    #[test]
    fn one_owner_per_journal_and_the_terminals_qr_session_shares_it() {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("j.db").to_string_lossy().into_owned();
        let first = open(&journal).unwrap();
        assert_in_use(open(&journal), &journal);
        assert_in_use(QrSession::open(qr_config(&journal)), &journal);

        // The record's journal path is ignored: the session uses the terminal's.
        let qr = first.qr_session(qr_config("elsewhere.db")).unwrap();
        assert!(qr.orders().unwrap().is_empty());
        assert!(!std::path::Path::new("elsewhere.db").exists());

        // The QR session keeps the journal after the terminal is shut down, until it goes too.
        first.shut_down().unwrap();
        assert!(matches!(
            first.qr_session(qr_config(&journal)),
            Err(SmartPosError::Closed { .. })
        ));
        assert!(qr.orders().unwrap().is_empty());
        assert_in_use(open(&journal), &journal);
        qr.shut_down().unwrap();
        let again = open(&journal).unwrap();
        again.shut_down().unwrap();
    }

    #[test]
    fn only_a_parked_reversal_can_be_released() {
        let dir = tempfile::tempdir().unwrap();
        let t = open(&dir.path().join("j.db").to_string_lossy()).unwrap();
        match t.release_parked(1) {
            Err(SmartPosError::InvalidInput { what, .. }) => {
                assert_eq!(what, "reversal to release");
            }
            other => panic!("expected InvalidInput, got {other:?}"),
        }
        assert!(t.pending_work().unwrap().reversals.is_empty());
        // Nothing to acknowledge is not an error.
        t.acknowledge_storage_fault(false).unwrap();
        t.shut_down().unwrap();
    }
}
