//! The software stand-in for a PED: the core's `SoftwareVault` behind the `Ped` trait, for the
//! host JVM tests and the emulator. Compiled only with the `software-ped` feature, which the
//! host build has by default and release Android builds leave out: on a real terminal the TMK
//! lives in the vendor PED, never in the app.
//!
//! Unlike a real PED it forgets its working keys with the process, so after a restart the
//! terminal signs on again (it asks `has_working_keys`, as of any PED).

use std::sync::{Arc, Mutex};

use smartpos_core::crypto::{
    ClearPinBlock, EncryptedWorkingKey, KeyAlgorithm, KeyVault, MacAlgorithm, PinBlockFormat,
    SecretKey, SoftwareVault, SystemRandomSource, VaultAlgorithm, VaultError, WorkingKey,
    WorkingKeys,
};
use zeroize::Zeroizing;

use crate::error::{SmartPosError, guard};
use crate::ped::{
    EncryptedKeyRecord, IccPinKeyRecord, OfflinePinOutcome, Ped, PedError, PedKey, PedMacAlgorithm,
    WorkingKeysRecord,
};

/// A PED in process memory holding a TDES TMK. The "PIN entered on the PED" is the one set with
/// `set_pin` (a test's cardholder, or the emulator's PIN dialog); none means bypass.
#[derive(uniffi::Object)]
pub struct SoftwarePed {
    vault: SoftwareVault,
    pin: Mutex<Option<Zeroizing<String>>>,
}

impl std::fmt::Debug for SoftwarePed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoftwarePed")
            .field("vault", &self.vault)
            .finish_non_exhaustive()
    }
}

impl SoftwarePed {
    pub(crate) fn new(tmk: SecretKey) -> Result<Self, SmartPosError> {
        Ok(SoftwarePed {
            vault: SoftwareVault::new(tmk, VaultAlgorithm::Tdes)?,
            pin: Mutex::new(None),
        })
    }
}

#[uniffi::export]
impl SoftwarePed {
    /// A software PED with this TMK (double-length TDES, 32 hex digits), injected as a key
    /// loading device would; the text is wiped once parsed.
    #[uniffi::constructor]
    pub fn with_tmk(tmk_hex: String) -> Result<Arc<Self>, SmartPosError> {
        let tmk_hex = Zeroizing::new(tmk_hex);
        guard("SoftwarePed.with_tmk", || {
            let tmk = SecretKey::from_hex(KeyAlgorithm::Tdes, &tmk_hex).map_err(|e| {
                SmartPosError::Config {
                    detail: format!("tmk_hex: {e}"),
                }
            })?;
            Ok(Arc::new(SoftwarePed::new(tmk)?))
        })
    }

    /// The PIN the next `online_pin_block` "reads from the keypad"; null bypasses PIN entry.
    pub fn set_pin(&self, pin: Option<String>) {
        *self.pin.lock().unwrap_or_else(|p| p.into_inner()) = pin.map(Zeroizing::new);
    }

    /// This software PED as the `Ped` a terminal opens with, where a vendor adapter would go.
    pub fn as_ped(self: Arc<Self>) -> Arc<dyn Ped> {
        self
    }
}

fn ped_error(e: VaultError) -> PedError {
    match e {
        VaultError::NoWorkingKeys => PedError::NoWorkingKeys,
        VaultError::NoDataKey => PedError::NoDataKey,
        VaultError::CheckValueMismatch { key } => PedError::CheckValueMismatch { key: key.into() },
        other => PedError::Device {
            detail: other.to_string(),
        },
    }
}

fn working_key(
    name: &'static str,
    r: &EncryptedKeyRecord,
) -> Result<EncryptedWorkingKey, PedError> {
    let check_value = r
        .check_value
        .as_slice()
        .try_into()
        .map_err(|_| PedError::CheckValueMismatch { key: name.into() })?;
    Ok(EncryptedWorkingKey {
        ciphertext: r.ciphertext.clone(),
        check_value,
    })
}

impl Ped for SoftwarePed {
    fn load_working_keys(&self, keys: WorkingKeysRecord) -> Result<(), PedError> {
        let keys = WorkingKeys {
            pik: working_key("PIK", &keys.pik)?,
            mak: working_key("MAK", &keys.mak)?,
            tdk: keys
                .tdk
                .as_ref()
                .map(|k| working_key("TDK", k))
                .transpose()?,
        };
        self.vault.load_working_keys(&keys).map_err(ped_error)
    }

    fn has_working_keys(&self) -> Result<bool, PedError> {
        Ok(self.vault.has_working_keys())
    }

    fn clear_working_keys(&self) -> Result<(), PedError> {
        self.vault.clear_working_keys();
        Ok(())
    }

    fn calculate_mac(
        &self,
        algorithm: PedMacAlgorithm,
        data: Vec<u8>,
    ) -> Result<Vec<u8>, PedError> {
        let alg = match algorithm {
            PedMacAlgorithm::CupEcb => MacAlgorithm::CupEcb,
            PedMacAlgorithm::X919 => MacAlgorithm::X919,
            PedMacAlgorithm::Sm4Cbc => MacAlgorithm::Sm4Cbc,
        };
        Ok(self.vault.mac(alg, &data).map_err(ped_error)?.to_vec())
    }

    fn online_pin_block(
        &self,
        pan_digits: String,
        _amount_fen: u64,
    ) -> Result<Option<Vec<u8>>, PedError> {
        let pan_digits = Zeroizing::new(pan_digits);
        let pin = self.pin.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let Some(pin) = pin else {
            return Ok(None);
        };
        let clear = ClearPinBlock::encode(
            PinBlockFormat::Iso0,
            &pin,
            &pan_digits,
            &SystemRandomSource::new(),
        )
        .map_err(|e| PedError::Device {
            detail: e.to_string(),
        })?;
        let block = self.vault.encrypt_pin_block(&clear).map_err(ped_error)?;
        Ok(Some(block.as_bytes().to_vec()))
    }

    fn encrypt_data_block(&self, block: Vec<u8>) -> Result<Vec<u8>, PedError> {
        self.vault.encrypt_data_block(&block).map_err(ped_error)
    }

    fn key_check_value(&self, key: PedKey) -> Result<Vec<u8>, PedError> {
        let key = match key {
            PedKey::Pik => WorkingKey::Pik,
            PedKey::Mak => WorkingKey::Mak,
            PedKey::Tdk => WorkingKey::Tdk,
        };
        Ok(self.vault.key_check_value(key).map_err(ped_error)?.to_vec())
    }

    fn verify_plaintext_pin(
        &self,
        _tries_left: Option<u8>,
        _amount_fen: u64,
        _timeout_ms: u64,
    ) -> Result<OfflinePinOutcome, PedError> {
        // No ICC slot of its own: the chip kernel's offline PIN needs a real PED.
        Err(PedError::NotOffered {
            operation: "offline plaintext PIN".into(),
        })
    }

    fn verify_enciphered_pin(
        &self,
        _key: IccPinKeyRecord,
        _tries_left: Option<u8>,
        _amount_fen: u64,
        _timeout_ms: u64,
    ) -> Result<OfflinePinOutcome, PedError> {
        Err(PedError::NotOffered {
            operation: "offline enciphered PIN".into(),
        })
    }
}
