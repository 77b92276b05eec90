//! The Ped port: the terminal's PIN entry device / secure element as a UniFFI foreign trait,
//! and the adapters that make it the core's key custody (`KeyVault`) and PIN pad.
//!
//! A smart POS (Sunmi, PAX, Newland, Landi) keeps the TMK and the working keys in its secure
//! processor and offers "load working keys", "calculate MAC", "get PIN block" and "offline PIN
//! verify" calls; the `Ped` trait is those calls. The core hands the PED only what is already
//! enciphered (working keys under the TMK) or public (MAC input, PAN, card data blocks) and gets
//! back MACs, PIN blocks and ciphertext: it never holds the TMK, a working key or the PIN.
//!
//! Errors the PED throws are typed (`PedException`); whatever it is, a PED fault ends the
//! transaction as a device termination (`DEV_PINPAD`), and a foreign exception's text is never
//! passed on (it may quote the PAN).

use std::sync::Arc;

use smartpos_core::card::Pan;
use smartpos_core::crypto::{
    self, EncryptedPinBlock, EncryptedWorkingKey, KeyVault, MacAlgorithm, OfflinePinMode,
    OfflinePinRequest, OfflinePinResult, PinBlockFormat, VaultError, WorkingKey, WorkingKeys,
};
use smartpos_core::ports::{self, DeviceFault};
use zeroize::Zeroizing;

/// What a PED reports when it cannot do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
#[non_exhaustive]
pub enum PedError {
    /// The PED failed (tamper, communication, secure processor error); `detail` names the
    /// vendor's code, never key material or card data.
    #[error("PED failure: {detail}")]
    Device { detail: String },
    #[error("no working keys are loaded in the PED")]
    NoWorkingKeys,
    #[error("no data key (TDK) is loaded in the PED")]
    NoDataKey,
    /// A working key's check value did not match after the PED deciphered it; nothing was
    /// loaded. `key` is "PIK", "MAK" or "TDK".
    #[error("{key} check value does not match")]
    CheckValueMismatch { key: String },
    #[error("PIN entry cancelled")]
    PinEntryCancelled,
    #[error("PIN entry timed out")]
    PinEntryTimeout,
    /// The PED does not offer this call (e.g. enciphered offline PIN on an older model).
    #[error("{operation} is not offered by this PED")]
    NotOffered { operation: String },
    /// The PED threw something other than a `PedException` (a bug in the adapter).
    #[error("the PED threw an unexpected exception")]
    Unexpected,
}

impl From<uniffi::UnexpectedUniFFICallbackError> for PedError {
    fn from(_: uniffi::UnexpectedUniFFICallbackError) -> Self {
        // The foreign exception's text is withheld (see the module docs).
        PedError::Unexpected
    }
}

/// One working key as the host sent it: enciphered under the TMK (ECB), with its 4-byte check
/// value. Ciphertext only: the PED deciphers it inside.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EncryptedKeyRecord {
    pub ciphertext: Vec<u8>,
    pub check_value: Vec<u8>,
}

/// The working keys of a sign-on (field 62).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct WorkingKeysRecord {
    pub pik: EncryptedKeyRecord,
    pub mak: EncryptedKeyRecord,
    /// The track data key, when the acquirer sends one.
    pub tdk: Option<EncryptedKeyRecord>,
}

/// The MAC a message carries (the acquirer's dialect chooses; X9.19 by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PedMacAlgorithm {
    /// UnionPay "ECB" MAC.
    CupEcb,
    /// ANSI X9.19 retail MAC, ISO 9797-1 padding method 1.
    X919,
    /// ISO 9797-1 MAC algorithm 1 with SM4, truncated to 8 bytes.
    Sm4Cbc,
}

/// A working key, named for `key_check_value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PedKey {
    Pik,
    Mak,
    Tdk,
}

/// The card's RSA key for enciphered offline PIN, and the card's GET CHALLENGE answer.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct IccPinKeyRecord {
    pub modulus: Vec<u8>,
    pub exponent: Vec<u8>,
    /// 8 bytes.
    pub challenge: Vec<u8>,
}

/// What came of an offline PIN attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum OfflinePinOutcome {
    /// The card answered VERIFY with this SW1 SW2 (0x9000 verified, 0x63Cx wrong PIN with x
    /// tries left, 0x6983 blocked).
    CardAnswered { status_word: u16 },
    /// The cardholder bypassed PIN entry.
    Bypassed,
}

/// The PIN entry device. Implement it over the vendor SDK's PED calls; it keeps TMK and working
/// keys itself, across restarts.
#[uniffi::export(with_foreign)]
pub trait Ped: Send + Sync {
    /// Deciphers each key under the TMK, checks its check value, and only then replaces the
    /// working keys. Throw `CheckValueMismatch` (nothing loaded) when one does not match.
    fn load_working_keys(&self, keys: WorkingKeysRecord) -> Result<(), PedError>;
    /// Whether working keys are loaded (the PED keeps them across restarts).
    fn has_working_keys(&self) -> Result<bool, PedError>;
    /// Forgets the working keys (sign-off); the TMK stays.
    fn clear_working_keys(&self) -> Result<(), PedError>;
    /// The 8-byte MAC of `data` under the MAK.
    fn calculate_mac(&self, algorithm: PedMacAlgorithm, data: Vec<u8>)
    -> Result<Vec<u8>, PedError>;
    /// Prompts for the PIN on the PED and returns the ISO 9564 format-0 block for `pan_digits`
    /// enciphered under the PIK (8 bytes), or null when the cardholder bypasses PIN entry. The
    /// full PAN is needed to form the block and must not leave the PED adapter (no logs, no UI).
    fn online_pin_block(
        &self,
        pan_digits: String,
        amount_fen: u64,
    ) -> Result<Option<Vec<u8>>, PedError>;
    /// Enciphers one 8-byte block of card data under the TDK (ECB), for track encryption.
    fn encrypt_data_block(&self, block: Vec<u8>) -> Result<Vec<u8>, PedError>;
    /// The 4-byte check value of a loaded working key.
    fn key_check_value(&self, key: PedKey) -> Result<Vec<u8>, PedError>;
    /// Offline plaintext PIN (VERIFY P2 = 0x80): prompts, forms the format-2 block and sends
    /// VERIFY to the card in the PED's own ICC slot; returns the card's answer. For the chip
    /// kernel, which does not call it yet.
    fn verify_plaintext_pin(
        &self,
        tries_left: Option<u8>,
        amount_fen: u64,
        timeout_ms: u64,
    ) -> Result<OfflinePinOutcome, PedError>;
    /// Offline enciphered PIN (VERIFY P2 = 0x88): as `verify_plaintext_pin`, with the block
    /// enciphered under the card's key together with its challenge.
    fn verify_enciphered_pin(
        &self,
        key: IccPinKeyRecord,
        tries_left: Option<u8>,
        amount_fen: u64,
        timeout_ms: u64,
    ) -> Result<OfflinePinOutcome, PedError>;
}

fn key_name(key: &str) -> &'static str {
    match key {
        "PIK" => "PIK",
        "MAK" => "MAK",
        "TDK" => "TDK",
        _ => "working key",
    }
}

/// The core's view of a PED error. Only "no keys" stays a key problem (the engine signs on);
/// everything else the PED says is a device fault, because the core cannot repair it.
fn vault_error(operation: &'static str, e: PedError) -> VaultError {
    match e {
        PedError::NoWorkingKeys => VaultError::NoWorkingKeys,
        PedError::NoDataKey => VaultError::NoDataKey,
        PedError::CheckValueMismatch { key } => VaultError::CheckValueMismatch {
            key: key_name(&key),
        },
        PedError::NotOffered { .. } => VaultError::NotOffered { operation },
        PedError::Device { detail } => VaultError::Device {
            detail: format!("{operation}: {detail}"),
        },
        PedError::PinEntryCancelled | PedError::PinEntryTimeout | PedError::Unexpected => {
            VaultError::Device {
                detail: format!("{operation}: {e}"),
            }
        }
    }
}

fn key_record(k: &EncryptedWorkingKey) -> EncryptedKeyRecord {
    EncryptedKeyRecord {
        ciphertext: k.ciphertext.clone(),
        check_value: k.check_value.to_vec(),
    }
}

fn mac_algorithm(alg: MacAlgorithm) -> Result<PedMacAlgorithm, VaultError> {
    match alg {
        MacAlgorithm::CupEcb => Ok(PedMacAlgorithm::CupEcb),
        MacAlgorithm::X919 => Ok(PedMacAlgorithm::X919),
        MacAlgorithm::Sm4Cbc => Ok(PedMacAlgorithm::Sm4Cbc),
        _ => Err(VaultError::NotOffered {
            operation: "this MAC algorithm",
        }),
    }
}

fn exact<const N: usize>(operation: &'static str, bytes: &[u8]) -> Result<[u8; N], VaultError> {
    bytes.try_into().map_err(|_| VaultError::Device {
        detail: format!("{operation}: {} bytes back, {N} expected", bytes.len()),
    })
}

/// The core's key custody over a Kotlin PED. Holds no key: every call goes to the PED.
pub(crate) struct PedVault(pub Arc<dyn Ped>);

impl KeyVault for PedVault {
    fn load_working_keys(&self, keys: &WorkingKeys) -> Result<(), VaultError> {
        let record = WorkingKeysRecord {
            pik: key_record(&keys.pik),
            mak: key_record(&keys.mak),
            tdk: keys.tdk.as_ref().map(key_record),
        };
        self.0
            .load_working_keys(record)
            .map_err(|e| vault_error("load working keys", e))
    }

    fn has_working_keys(&self) -> bool {
        // A PED that cannot answer is treated as keyless: the engine signs on, and a PED fault
        // then surfaces on that sign-on as DEV_PINPAD.
        self.0.has_working_keys().unwrap_or_else(|e| {
            log::warn!("PED: has working keys: {e}");
            false
        })
    }

    fn clear_working_keys(&self) {
        if let Err(e) = self.0.clear_working_keys() {
            log::warn!("PED: clear working keys: {e}");
        }
    }

    fn mac(&self, alg: MacAlgorithm, data: &[u8]) -> Result<[u8; 8], VaultError> {
        let mac = self
            .0
            .calculate_mac(mac_algorithm(alg)?, data.to_vec())
            .map_err(|e| vault_error("calculate MAC", e))?;
        exact("calculate MAC", &mac)
    }

    fn verify_mac(
        &self,
        alg: MacAlgorithm,
        data: &[u8],
        received: &[u8],
    ) -> Result<bool, VaultError> {
        // PEDs offer "calculate MAC", not "verify": the MAC is no secret, so comparing here
        // (in constant time all the same) leaks nothing the wire does not show.
        let computed = self.mac(alg, data)?;
        Ok(crypto::mac::constant_time_eq(&computed, received))
    }

    fn encrypt_pin_block(
        &self,
        _clear: &crypto::ClearPinBlock,
    ) -> Result<EncryptedPinBlock, VaultError> {
        // A PED forms the PIN block from the PIN entered on it (`online_pin_block`); it never
        // takes a clear block from outside, so the core cannot hold a PIN to give it.
        Err(VaultError::NotOffered {
            operation: "enciphering a PIN block formed outside the PED",
        })
    }

    fn encrypt_data_block(&self, block: &[u8]) -> Result<Vec<u8>, VaultError> {
        let out = self
            .0
            .encrypt_data_block(block.to_vec())
            .map_err(|e| vault_error("encrypt data block", e))?;
        if out.len() != block.len() {
            return Err(VaultError::Device {
                detail: format!(
                    "encrypt data block: {} bytes back for {}",
                    out.len(),
                    block.len()
                ),
            });
        }
        Ok(out)
    }

    fn key_check_value(&self, key: WorkingKey) -> Result<[u8; 4], VaultError> {
        let key = match key {
            WorkingKey::Pik => PedKey::Pik,
            WorkingKey::Mak => PedKey::Mak,
            WorkingKey::Tdk => PedKey::Tdk,
        };
        let kcv = self
            .0
            .key_check_value(key)
            .map_err(|e| vault_error("key check value", e))?;
        // Some PEDs return the full 8-byte block; the UnionPay check value is its first 4.
        let first = kcv.get(..4).ok_or_else(|| VaultError::Device {
            detail: format!("key check value: {} bytes back", kcv.len()),
        })?;
        exact("key check value", first)
    }

    fn keeps_keys_across_restarts(&self) -> bool {
        true
    }

    fn verify_offline_pin(
        &self,
        request: &OfflinePinRequest,
    ) -> Result<OfflinePinResult, VaultError> {
        let timeout_ms = u64::try_from(request.timeout.as_millis()).unwrap_or(u64::MAX);
        let answer = match &request.mode {
            OfflinePinMode::Plaintext => self
                .0
                .verify_plaintext_pin(request.tries_left, request.amount_fen, timeout_ms)
                .map_err(|e| vault_error("offline plaintext PIN", e))?,
            OfflinePinMode::Enciphered(key) => self
                .0
                .verify_enciphered_pin(
                    IccPinKeyRecord {
                        modulus: key.modulus.clone(),
                        exponent: key.exponent.clone(),
                        challenge: key.challenge.to_vec(),
                    },
                    request.tries_left,
                    request.amount_fen,
                    timeout_ms,
                )
                .map_err(|e| vault_error("offline enciphered PIN", e))?,
            _ => {
                return Err(VaultError::NotOffered {
                    operation: "this offline PIN mode",
                });
            }
        };
        Ok(match answer {
            OfflinePinOutcome::CardAnswered { status_word } => {
                OfflinePinResult::CardAnswered { status_word }
            }
            OfflinePinOutcome::Bypassed => OfflinePinResult::Bypassed,
        })
    }
}

/// The core's PIN pad over the PED: the PIN is entered on the PED and only the enciphered block
/// comes back.
pub(crate) struct PedPinPad(pub Arc<dyn Ped>);

impl ports::PinPad for PedPinPad {
    fn online_pin(
        &self,
        pan: &Pan,
        amount_fen: u64,
    ) -> Result<Option<EncryptedPinBlock>, DeviceFault> {
        let block = self
            .0
            .online_pin_block(pan.expose_digits().to_string(), amount_fen)
            .map_err(|e| match e {
                PedError::PinEntryCancelled => DeviceFault::PinEntryCancelled,
                PedError::PinEntryTimeout => DeviceFault::PinEntryTimeout,
                other => DeviceFault::PinPadFailure {
                    message: format!("PED: {other}"),
                },
            })?;
        let Some(block) = block.map(Zeroizing::new) else {
            return Ok(None);
        };
        EncryptedPinBlock::from_bytes(PinBlockFormat::Iso0, &block)
            .map(Some)
            .map_err(|e| DeviceFault::PinPadFailure {
                message: format!("PIN block rejected: {e}"),
            })
    }
}

#[cfg(test)]
#[cfg(feature = "software-ped")]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use smartpos_core::ports::PinPad as _;
    use smartpos_tools::demo_setup;
    use smartpos_tools::sim::ledger::Ledger;
    use smartpos_tools::sim::{Acquirer, SimServer};

    use super::*;
    use crate::config::TerminalConfigRecord;
    use crate::diagnostics::{HealthCheckKind, HealthStatus};
    use crate::error::SmartPosError;
    use crate::outcome::{Outcome, SignOnOutcome};
    use crate::ports::{CardPresentationRecord, CardReader, PortError};
    use crate::software_ped::SoftwarePed;
    use crate::terminal::{CancelHandle, Terminal};
    use crate::test_ports::Paper;

    /// A PED over the software stand-in that counts key loads and can be told to fail its MAC
    /// (as a vendor PED does on a secure-processor fault) or answer with a PIN block of any
    /// length. The terminal reaches it only through the `Ped` trait.
    struct FakePed {
        inner: Arc<SoftwarePed>,
        loads: AtomicUsize,
        mac_fails: Mutex<bool>,
        pin_block: Mutex<Option<Option<Vec<u8>>>>,
    }

    impl FakePed {
        fn new() -> Arc<Self> {
            let inner = Arc::new(SoftwarePed::new(demo_setup::demo_tmk()).unwrap());
            inner.set_pin(Some("123456".into()));
            Arc::new(FakePed {
                inner,
                loads: AtomicUsize::new(0),
                mac_fails: Mutex::new(false),
                pin_block: Mutex::new(None),
            })
        }
    }

    impl Ped for FakePed {
        fn load_working_keys(&self, keys: WorkingKeysRecord) -> Result<(), PedError> {
            self.loads.fetch_add(1, Ordering::SeqCst);
            self.inner.load_working_keys(keys)
        }
        fn has_working_keys(&self) -> Result<bool, PedError> {
            self.inner.has_working_keys()
        }
        fn clear_working_keys(&self) -> Result<(), PedError> {
            self.inner.clear_working_keys()
        }
        fn calculate_mac(&self, a: PedMacAlgorithm, data: Vec<u8>) -> Result<Vec<u8>, PedError> {
            if *self.mac_fails.lock().unwrap() {
                return Err(PedError::Device {
                    detail: "SP fault 0x3F".into(),
                });
            }
            self.inner.calculate_mac(a, data)
        }
        fn online_pin_block(&self, pan: String, amount: u64) -> Result<Option<Vec<u8>>, PedError> {
            match self.pin_block.lock().unwrap().clone() {
                Some(fixed) => Ok(fixed),
                None => self.inner.online_pin_block(pan, amount),
            }
        }
        fn encrypt_data_block(&self, block: Vec<u8>) -> Result<Vec<u8>, PedError> {
            self.inner.encrypt_data_block(block)
        }
        fn key_check_value(&self, key: PedKey) -> Result<Vec<u8>, PedError> {
            self.inner.key_check_value(key)
        }
        fn verify_plaintext_pin(
            &self,
            _: Option<u8>,
            _: u64,
            _: u64,
        ) -> Result<OfflinePinOutcome, PedError> {
            Ok(OfflinePinOutcome::CardAnswered {
                status_word: 0x63C2,
            })
        }
        fn verify_enciphered_pin(
            &self,
            key: IccPinKeyRecord,
            _: Option<u8>,
            _: u64,
            _: u64,
        ) -> Result<OfflinePinOutcome, PedError> {
            assert_eq!(key.challenge.len(), 8);
            Ok(OfflinePinOutcome::Bypassed)
        }
    }

    struct Swipe;
    impl CardReader for Swipe {
        fn detect(&self, _: u64) -> Result<CardPresentationRecord, PortError> {
            Ok(CardPresentationRecord::Magstripe {
                track2: "6222020000000015=30121010000000000".into(),
            })
        }
        fn transceive(&self, _: Vec<u8>) -> Result<Vec<u8>, PortError> {
            Err(PortError::Unexpected)
        }
        fn remove_card(&self) -> Result<(), PortError> {
            Ok(())
        }
    }

    struct Host {
        server: SimServer,
        _dir: tempfile::TempDir,
        journal: String,
    }

    fn host() -> Host {
        let acquirer = Arc::new(Acquirer::new(
            Ledger::with_demo_accounts(),
            demo_setup::demo_tmk(),
        ));
        let server = SimServer::start(acquirer, ([127, 0, 0, 1], 0).into()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("j.db").to_string_lossy().into_owned();
        Host {
            server,
            _dir: dir,
            journal,
        }
    }

    fn open(host: &Host, ped: Arc<dyn Ped>) -> Arc<Terminal> {
        let config = TerminalConfigRecord {
            terminal_id: demo_setup::DEMO_TERMINAL_ID.into(),
            merchant_id: demo_setup::DEMO_MERCHANT_ID.into(),
            merchant_name: "shop".into(),
            endpoints: vec![host.server.addr().to_string()],
            connect_timeout_ms: 2_000,
            response_timeout_ms: 2_000,
            card_timeout_ms: 1_000,
            journal_path: host.journal.clone(),
            storage_key: vec![7; 32],
            risk_checks: false,
            risk_trusted_key: None,
            risk_trusted_keys: vec![],
            risk_card_hash_salt: None,
            risk_mcc: None,
            acquirer_tls: None,
        };
        Terminal::open(config, Arc::new(Swipe), ped, Arc::new(Paper)).unwrap()
    }

    fn sale(t: &Terminal, id: &str) -> Outcome {
        t.sale(id.into(), 1_00, CancelHandle::new()).unwrap()
    }

    fn code(o: &Outcome) -> &str {
        match o {
            Outcome::Approved { .. } => "APPROVED",
            Outcome::Terminated { termination } => &termination.code,
        }
    }

    fn keys_status(t: &Terminal) -> HealthStatus {
        let report = t.health().unwrap();
        let check = report
            .checks
            .iter()
            .find(|c| c.kind == HealthCheckKind::WorkingKeys)
            .unwrap();
        check.status
    }

    #[test]
    fn a_ped_with_keys_needs_no_sign_on_after_restart() {
        let host = host();
        let ped = FakePed::new();
        let t = open(&host, ped.clone());
        assert!(matches!(
            t.sign_on().unwrap(),
            SignOnOutcome::SignedOn { .. }
        ));
        assert_eq!(code(&sale(&t, "a1")), "APPROVED");
        t.shut_down().unwrap();
        assert_eq!(ped.loads.load(Ordering::SeqCst), 1);
        // The journal dates the load and holds no key material: nothing sealed to import.
        {
            let journal = smartpos_core::store::Journal::open_read_only(&host.journal).unwrap();
            assert!(journal.key("working-keys").unwrap().is_none());
            let (dated, _) = journal.key("ped-working-keys").unwrap().unwrap();
            assert!(dated.as_bytes().is_empty());
        }

        // The PED kept its keys: the reopened terminal pays without a second sign-on, and the
        // health check counts them as loaded (dated by the journal, held by the PED).
        let t = open(&host, ped.clone());
        assert_eq!(keys_status(&t), HealthStatus::Ok);
        assert_eq!(code(&sale(&t, "a2")), "APPROVED");
        assert_eq!(ped.loads.load(Ordering::SeqCst), 1);
        t.shut_down().unwrap();

        // A PED that lost its keys (a new device) is signed on again by the engine.
        let fresh = FakePed::new();
        let t = open(&host, fresh.clone());
        assert_eq!(keys_status(&t), HealthStatus::Failing);
        assert_eq!(code(&sale(&t, "a3")), "APPROVED");
        assert_eq!(fresh.loads.load(Ordering::SeqCst), 1);
        t.shut_down().unwrap();
    }

    #[test]
    fn a_ped_fault_is_a_device_termination() {
        let host = host();
        let ped = FakePed::new();
        let t = open(&host, ped.clone());
        assert!(matches!(
            t.sign_on().unwrap(),
            SignOnOutcome::SignedOn { .. }
        ));
        *ped.mac_fails.lock().unwrap() = true;
        assert_eq!(code(&sale(&t, "f1")), "DEV_PINPAD");
        // A PIN block the PED mangles is a PIN pad fault too, not a host decline.
        *ped.mac_fails.lock().unwrap() = false;
        *ped.pin_block.lock().unwrap() = Some(Some(vec![1; 5]));
        assert_eq!(code(&sale(&t, "f2")), "DEV_PINPAD");
        t.shut_down().unwrap();
    }

    #[test]
    fn the_pin_pad_over_the_ped_keeps_the_entry_endings() {
        let pan = Pan::parse("6222020000000015").unwrap();
        let ped = FakePed::new();
        let pad = PedPinPad(ped.clone());
        *ped.pin_block.lock().unwrap() = Some(None);
        assert!(pad.online_pin(&pan, 1).unwrap().is_none());
        *ped.pin_block.lock().unwrap() = Some(Some(vec![7; 8]));
        assert_eq!(
            pad.online_pin(&pan, 1).unwrap().unwrap().as_bytes(),
            &[7; 8]
        );

        struct Cancelling;
        impl Ped for Cancelling {
            fn load_working_keys(&self, _: WorkingKeysRecord) -> Result<(), PedError> {
                Err(PedError::Unexpected)
            }
            fn has_working_keys(&self) -> Result<bool, PedError> {
                Err(PedError::Unexpected)
            }
            fn clear_working_keys(&self) -> Result<(), PedError> {
                Ok(())
            }
            fn calculate_mac(&self, _: PedMacAlgorithm, _: Vec<u8>) -> Result<Vec<u8>, PedError> {
                Ok(vec![0; 4])
            }
            fn online_pin_block(&self, _: String, _: u64) -> Result<Option<Vec<u8>>, PedError> {
                Err(PedError::PinEntryCancelled)
            }
            fn encrypt_data_block(&self, _: Vec<u8>) -> Result<Vec<u8>, PedError> {
                Ok(vec![0; 3])
            }
            fn key_check_value(&self, _: PedKey) -> Result<Vec<u8>, PedError> {
                Ok(vec![0xAB; 8])
            }
            fn verify_plaintext_pin(
                &self,
                _: Option<u8>,
                _: u64,
                _: u64,
            ) -> Result<OfflinePinOutcome, PedError> {
                Err(PedError::NotOffered {
                    operation: "x".into(),
                })
            }
            fn verify_enciphered_pin(
                &self,
                _: IccPinKeyRecord,
                _: Option<u8>,
                _: u64,
                _: u64,
            ) -> Result<OfflinePinOutcome, PedError> {
                Err(PedError::Unexpected)
            }
        }
        let odd: Arc<dyn Ped> = Arc::new(Cancelling);
        assert!(matches!(
            PedPinPad(odd.clone()).online_pin(&pan, 1),
            Err(DeviceFault::PinEntryCancelled)
        ));
        let vault = PedVault(odd);
        // A PED that cannot answer is keyless (the engine signs on), never a panic.
        assert!(!vault.has_working_keys());
        // Answers of the wrong size are device faults, not truncated or padded.
        assert!(matches!(
            vault.mac(MacAlgorithm::X919, b"x"),
            Err(VaultError::Device { .. })
        ));
        assert!(matches!(
            vault.encrypt_data_block(&[0; 8]),
            Err(VaultError::Device { .. })
        ));
        // An 8-byte check value block is cut to the UnionPay 4.
        assert_eq!(vault.key_check_value(WorkingKey::Mak).unwrap(), [0xAB; 4]);
        // An unexpected foreign exception loses its text (it may quote the PAN).
        match vault.load_working_keys(&WorkingKeys {
            pik: EncryptedWorkingKey {
                ciphertext: vec![0; 16],
                check_value: [0; 4],
            },
            mak: EncryptedWorkingKey {
                ciphertext: vec![0; 16],
                check_value: [0; 4],
            },
            tdk: None,
        }) {
            Err(VaultError::Device { detail }) => assert!(!detail.contains("6222")),
            other => panic!("expected a device fault, got {other:?}"),
        }
        // The core's own PIN block is never accepted: the PED forms it from its keypad.
        let clear = crypto::ClearPinBlock::encode(
            PinBlockFormat::Iso0,
            "1234",
            "6222020000000015",
            &crypto::SystemRandomSource::new(),
        )
        .unwrap();
        assert!(matches!(
            vault.encrypt_pin_block(&clear),
            Err(VaultError::NotOffered { .. })
        ));
    }

    #[test]
    fn offline_pin_reaches_the_ped_in_both_modes() {
        let vault = PedVault(FakePed::new());
        let request = |mode| OfflinePinRequest {
            mode,
            tries_left: Some(3),
            amount_fen: 100,
            timeout: std::time::Duration::from_secs(30),
        };
        assert_eq!(
            vault
                .verify_offline_pin(&request(OfflinePinMode::Plaintext))
                .unwrap(),
            OfflinePinResult::CardAnswered {
                status_word: 0x63C2
            }
        );
        let key = crypto::IccPinKey {
            modulus: vec![0xC1; 128],
            exponent: vec![3],
            challenge: [9; 8],
        };
        assert_eq!(
            vault
                .verify_offline_pin(&request(OfflinePinMode::Enciphered(key)))
                .unwrap(),
            OfflinePinResult::Bypassed
        );
        // The software stand-in has no ICC slot: it says so, typed.
        let software =
            PedVault(Arc::new(SoftwarePed::new(demo_setup::demo_tmk()).unwrap()).as_ped());
        assert!(matches!(
            software.verify_offline_pin(&request(OfflinePinMode::Plaintext)),
            Err(VaultError::NotOffered { .. })
        ));
    }

    #[test]
    fn a_bad_tmk_is_a_config_error_naming_it() {
        match SoftwarePed::with_tmk("XYZ".into()) {
            Err(SmartPosError::Config { detail }) => assert!(detail.contains("tmk_hex")),
            other => panic!("expected a config error, got {other:?}"),
        }
    }
}
