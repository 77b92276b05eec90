//! The key vault: holds a terminal's working keys and performs every operation that needs
//! them, so key bytes never travel through the transaction engine.
//!
//! `KeyVault` is the core's Ped port (PIN entry device / secure element). On a smart POS the
//! bindings implement it over the vendor PED (Sunmi, PAX, Newland, Landi), which keeps TMK and
//! working keys in its secure processor; `SoftwareVault` is the in-process stand-in for tests,
//! simulators and the host JVM. The trait keeps its name rather than becoming `Ped` so that the
//! acquirer link (`host::acquirer`), which takes a `&dyn KeyVault`, is not touched, and there
//! is one name for one thing instead of a name and an alias.
//!
//! The terminal master key (TMK) is injected at key-loading time (in a secure room or by a
//! remote key injection) and never leaves the vault: there is no method that returns it.
//! Working keys (PIK, MAK, optional TDK) arrive at sign-on in field 62, each encrypted under
//! the TMK with a 4-byte check value.

use std::sync::{Mutex, MutexGuard};

use zeroize::Zeroizing;

use super::mac::{MacAlgorithm, compute_mac, constant_time_eq};
use super::pinblock::{ClearPinBlock, EncryptedPinBlock};
use super::{
    CryptoError, KeyAlgorithm, RandomSource, SecretKey, SystemRandomSource, ecb_decrypt,
    unionpay_check_value,
};

/// Why the vault refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    #[error("no working keys are loaded (sign on first)")]
    NoWorkingKeys,
    #[error("no data key (TDK) was loaded at sign-on: track data cannot be enciphered")]
    NoDataKey,
    #[error("{key} check value does not match: wrong TMK or corrupted key")]
    CheckValueMismatch { key: &'static str },
    #[error("{key}: {source}")]
    KeyRejected {
        key: &'static str,
        source: CryptoError,
    },
    #[error("{operation} is not available with {algorithm} keys")]
    Unsupported {
        operation: &'static str,
        algorithm: KeyAlgorithm,
    },
    #[error("storage key must be a 32-byte AES key")]
    StorageKey,
    #[error("wrapped key blob is malformed: {reason}")]
    WrappedMalformed { reason: &'static str },
    #[error("wrapped key blob failed authentication (tampered, wrong storage key or label)")]
    WrappedRejected,
    /// The host's working keys are too weak or not separated; nothing was installed.
    #[error("working keys refused: {0}")]
    WeakKeys(#[from] super::KeyStrengthError),
    /// The PIN entry device failed or refused the call: a device fault (`DEV_PINPAD`), not a
    /// key problem, so the operator checks the PED rather than signing on again.
    #[error("PIN entry device: {detail}")]
    Device { detail: String },
    /// The custody keeps its keys itself (a PED): there is nothing to export or import.
    #[error("this key custody keeps its keys itself: they cannot be exported or imported")]
    NotExportable,
    /// The custody does not offer this operation (e.g. offline PIN on a software vault).
    #[error("{operation} is not offered by this key custody")]
    NotOffered { operation: &'static str },
    #[error("the vault's lock is poisoned by an earlier panic")]
    Poisoned,
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

/// One working key as the host sends it: encrypted under the TMK (ECB) with its check value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptedWorkingKey {
    pub ciphertext: Vec<u8>,
    pub check_value: [u8; 4],
}

/// The working key set of a sign-on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingKeys {
    pub pik: EncryptedWorkingKey,
    pub mak: EncryptedWorkingKey,
    pub tdk: Option<EncryptedWorkingKey>,
}

/// Which working key an operation names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkingKey {
    Pik,
    Mak,
    Tdk,
}

/// The operations the core needs from whatever holds the keys (the Ped port): the software
/// vault, or the bindings' adapter over a vendor PED.
pub trait KeyVault: Send + Sync {
    /// Decrypts and verifies every key, and only then replaces the current set.
    fn load_working_keys(&self, keys: &WorkingKeys) -> Result<(), VaultError>;
    fn has_working_keys(&self) -> bool;
    fn clear_working_keys(&self);
    fn mac(&self, alg: MacAlgorithm, data: &[u8]) -> Result<[u8; 8], VaultError>;
    /// Constant-time comparison of `received` with the MAC of `data`.
    fn verify_mac(
        &self,
        alg: MacAlgorithm,
        data: &[u8],
        received: &[u8],
    ) -> Result<bool, VaultError>;
    fn encrypt_pin_block(&self, clear: &ClearPinBlock) -> Result<EncryptedPinBlock, VaultError>;
    /// Enciphers one block of card data under the TDK (ECB): the UnionPay track encryption's
    /// TDB. `NoDataKey` when the last sign-on brought no TDK.
    fn encrypt_data_block(&self, block: &[u8]) -> Result<Vec<u8>, VaultError>;
    /// The UnionPay check value (4 bytes) of a loaded working key, for diagnostics and for
    /// comparing with the acquirer's key records; the key itself never leaves.
    fn key_check_value(&self, key: WorkingKey) -> Result<[u8; 4], VaultError>;
    /// Whether the keys survive a restart inside the custody itself, as in a PED's secure
    /// processor. Then the terminal never seals them into the journal, and after a restart it
    /// asks `has_working_keys` instead of importing a blob. A software vault forgets its keys
    /// with the process, so it says no and relies on `export_wrapped`/`import_wrapped`.
    fn keeps_keys_across_restarts(&self) -> bool {
        false
    }
    /// The working keys sealed with AES-256-GCM under `storage_key`, `label` bound as
    /// associated data. Only a custody that forgets its keys needs it.
    fn export_wrapped(&self, storage_key: &SecretKey, label: &str) -> Result<Vec<u8>, VaultError> {
        let _ = (storage_key, label);
        Err(VaultError::NotExportable)
    }
    /// Restores keys sealed by `export_wrapped`; replaces the current set only on success.
    fn import_wrapped(
        &self,
        storage_key: &SecretKey,
        label: &str,
        blob: &[u8],
    ) -> Result<(), VaultError> {
        let _ = (storage_key, label, blob);
        Err(VaultError::NotExportable)
    }
    /// Offline PIN for the chip kernel (EMV VERIFY): the PED collects the PIN, forms the
    /// block and sends VERIFY to the card in its own slot (plaintext), or enciphers it under
    /// the card's public key first (enciphered), and returns the card's answer. The core never
    /// sees the PIN either way. Not offered by default: the chip kernel does not call it yet.
    fn verify_offline_pin(
        &self,
        request: &super::OfflinePinRequest,
    ) -> Result<super::OfflinePinResult, VaultError> {
        let _ = request;
        Err(VaultError::NotOffered {
            operation: "offline PIN verification",
        })
    }
}

/// The cipher family of a software vault's TMK and working keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum VaultAlgorithm {
    Tdes,
    Sm4,
}

struct KeySet {
    pik: SecretKey,
    mak: SecretKey,
    tdk: Option<SecretKey>,
}

/// A vault in process memory, for simulators, tests and terminals without a secure element.
pub struct SoftwareVault {
    tmk: SecretKey,
    algorithm: VaultAlgorithm,
    keys: Mutex<Option<KeySet>>,
    random: Box<dyn RandomSource + Send + Sync>,
}

impl std::fmt::Debug for SoftwareVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoftwareVault")
            .field("algorithm", &self.algorithm)
            .field("has_working_keys", &self.has_working_keys())
            .finish_non_exhaustive()
    }
}

impl SoftwareVault {
    /// Takes ownership of the TMK; it cannot be read back.
    pub fn new(tmk: SecretKey, algorithm: VaultAlgorithm) -> Result<Self, VaultError> {
        Self::build(tmk, algorithm, Box::new(SystemRandomSource::new()))
    }

    /// As `new`, with the nonce source chosen by the caller: test builds only (see
    /// `FixedRandom`).
    #[cfg(test)]
    pub(crate) fn with_random(
        tmk: SecretKey,
        algorithm: VaultAlgorithm,
        random: Box<dyn RandomSource + Send + Sync>,
    ) -> Result<Self, VaultError> {
        Self::build(tmk, algorithm, random)
    }

    fn build(
        tmk: SecretKey,
        algorithm: VaultAlgorithm,
        random: Box<dyn RandomSource + Send + Sync>,
    ) -> Result<Self, VaultError> {
        let ok = match algorithm {
            VaultAlgorithm::Tdes => tmk.algorithm() == KeyAlgorithm::Tdes,
            VaultAlgorithm::Sm4 => tmk.algorithm() == KeyAlgorithm::Sm4,
        };
        if !ok {
            return Err(VaultError::KeyRejected {
                key: "TMK",
                source: CryptoError::WrongKeyAlgorithm {
                    operation: "software vault",
                    expected: match algorithm {
                        VaultAlgorithm::Tdes => "TDES",
                        VaultAlgorithm::Sm4 => "SM4",
                    },
                    actual: tmk.algorithm(),
                },
            });
        }
        Ok(Self {
            tmk,
            algorithm,
            keys: Mutex::new(None),
            random,
        })
    }

    fn lock(&self) -> Result<MutexGuard<'_, Option<KeySet>>, VaultError> {
        self.keys.lock().map_err(|_| VaultError::Poisoned)
    }

    fn key_algorithm_for(&self, len: usize) -> KeyAlgorithm {
        match (self.algorithm, len) {
            // UnionPay single-length MAKs (8 bytes) are plain DES keys.
            (VaultAlgorithm::Tdes, 8) => KeyAlgorithm::Des,
            (VaultAlgorithm::Tdes, _) => KeyAlgorithm::Tdes,
            (VaultAlgorithm::Sm4, _) => KeyAlgorithm::Sm4,
        }
    }

    fn unwrap_key(
        &self,
        name: &'static str,
        enc: &EncryptedWorkingKey,
    ) -> Result<SecretKey, VaultError> {
        let reject = |source| VaultError::KeyRejected { key: name, source };
        let clear = ecb_decrypt(&self.tmk, &enc.ciphertext).map_err(reject)?;
        let key = SecretKey::new(self.key_algorithm_for(clear.len()), &clear).map_err(reject)?;
        let check = unionpay_check_value(&key).map_err(reject)?;
        if !constant_time_eq(&check, &enc.check_value) {
            return Err(VaultError::CheckValueMismatch { key: name });
        }
        Ok(key)
    }

    fn with_keys<T>(
        &self,
        f: impl FnOnce(&KeySet) -> Result<T, VaultError>,
    ) -> Result<T, VaultError> {
        let guard = self.lock()?;
        let keys = guard.as_ref().ok_or(VaultError::NoWorkingKeys)?;
        f(keys)
    }
}

fn vault_seal_error(e: super::sealed::SealError) -> VaultError {
    use super::sealed::SealError;
    match e {
        SealError::StorageKey => VaultError::StorageKey,
        SealError::Malformed { reason } => VaultError::WrappedMalformed { reason },
        SealError::Rejected => VaultError::WrappedRejected,
        SealError::Random => VaultError::Crypto(super::CryptoError::RandomFailure),
    }
}

fn put_key(out: &mut Vec<u8>, key: Option<&SecretKey>) {
    match key {
        Some(k) => {
            out.push(k.len() as u8);
            out.extend_from_slice(k.expose_secret());
        }
        None => out.push(0),
    }
}

fn take_key<'a>(input: &mut &'a [u8]) -> Result<&'a [u8], VaultError> {
    let (&len, rest) = input.split_first().ok_or(VaultError::WrappedMalformed {
        reason: "truncated key length",
    })?;
    let len = usize::from(len);
    if rest.len() < len {
        return Err(VaultError::WrappedMalformed {
            reason: "truncated key",
        });
    }
    let (key, rest) = rest.split_at(len);
    *input = rest;
    Ok(key)
}

impl KeyVault for SoftwareVault {
    fn load_working_keys(&self, keys: &WorkingKeys) -> Result<(), VaultError> {
        let pik = self.unwrap_key("PIK", &keys.pik)?;
        let mak = self.unwrap_key("MAK", &keys.mak)?;
        let tdk = keys
            .tdk
            .as_ref()
            .map(|t| self.unwrap_key("TDK", t))
            .transpose()?;
        super::check_working_keys(&pik, &mak, tdk.as_ref())?;
        *self.lock()? = Some(KeySet { pik, mak, tdk });
        Ok(())
    }

    fn has_working_keys(&self) -> bool {
        self.keys.lock().map(|g| g.is_some()).unwrap_or(false)
    }

    fn clear_working_keys(&self) {
        // Even a poisoned lock holds keys worth dropping (SecretKey zeroizes on drop).
        match self.keys.lock() {
            Ok(mut g) => *g = None,
            Err(poisoned) => *poisoned.into_inner() = None,
        }
    }

    fn mac(&self, alg: MacAlgorithm, data: &[u8]) -> Result<[u8; 8], VaultError> {
        self.with_keys(|k| Ok(compute_mac(alg, &k.mak, data)?))
    }

    fn verify_mac(
        &self,
        alg: MacAlgorithm,
        data: &[u8],
        received: &[u8],
    ) -> Result<bool, VaultError> {
        let computed = self.mac(alg, data)?;
        Ok(constant_time_eq(&computed, received))
    }

    fn encrypt_pin_block(&self, clear: &ClearPinBlock) -> Result<EncryptedPinBlock, VaultError> {
        if self.algorithm != VaultAlgorithm::Tdes {
            return Err(VaultError::Unsupported {
                operation: "PIN block encipherment",
                algorithm: self.tmk.algorithm(),
            });
        }
        // Formats 0/1/3 under TDES: the PAN is already folded into the clear block.
        self.with_keys(|k| Ok(clear.encrypt(&k.pik, "")?))
    }

    fn encrypt_data_block(&self, block: &[u8]) -> Result<Vec<u8>, VaultError> {
        self.with_keys(|k| {
            let tdk = k.tdk.as_ref().ok_or(VaultError::NoDataKey)?;
            Ok(super::ecb_encrypt(tdk, block)?)
        })
    }

    fn key_check_value(&self, key: WorkingKey) -> Result<[u8; 4], VaultError> {
        self.with_keys(|k| {
            let key = match key {
                WorkingKey::Pik => &k.pik,
                WorkingKey::Mak => &k.mak,
                WorkingKey::Tdk => k.tdk.as_ref().ok_or(VaultError::NoDataKey)?,
            };
            Ok(unionpay_check_value(key)?)
        })
    }

    fn export_wrapped(&self, storage: &SecretKey, label: &str) -> Result<Vec<u8>, VaultError> {
        let mut plain = Zeroizing::new(Vec::with_capacity(80));
        self.with_keys(|k| {
            plain.push(match self.algorithm {
                VaultAlgorithm::Tdes => 1,
                VaultAlgorithm::Sm4 => 2,
            });
            put_key(&mut plain, Some(&k.pik));
            put_key(&mut plain, Some(&k.mak));
            put_key(&mut plain, k.tdk.as_ref());
            Ok(())
        })?;
        super::sealed::seal_with(storage, label.as_bytes(), &plain, &*self.random)
            .map_err(vault_seal_error)
    }

    fn import_wrapped(
        &self,
        storage: &SecretKey,
        label: &str,
        blob: &[u8],
    ) -> Result<(), VaultError> {
        let plain =
            super::sealed::open(storage, label.as_bytes(), blob).map_err(vault_seal_error)?;
        let (&alg, mut input) = plain.split_first().ok_or(VaultError::WrappedMalformed {
            reason: "empty key set",
        })?;
        let expected = match self.algorithm {
            VaultAlgorithm::Tdes => 1,
            VaultAlgorithm::Sm4 => 2,
        };
        if alg != expected {
            return Err(VaultError::WrappedMalformed {
                reason: "key set is for another algorithm",
            });
        }
        let make = |name: &'static str, bytes: &[u8]| {
            SecretKey::new(self.key_algorithm_for(bytes.len()), bytes)
                .map_err(|source| VaultError::KeyRejected { key: name, source })
        };
        let pik = make("PIK", take_key(&mut input)?)?;
        let mak = make("MAK", take_key(&mut input)?)?;
        let tdk_bytes = take_key(&mut input)?;
        let tdk = if tdk_bytes.is_empty() {
            None
        } else {
            Some(make("TDK", tdk_bytes)?)
        };
        if !input.is_empty() {
            return Err(VaultError::WrappedMalformed {
                reason: "trailing bytes",
            });
        }
        // Keys sealed by an older build that accepted weaker ones: refused, so a sign-on
        // replaces them.
        super::check_working_keys(&pik, &mak, tdk.as_ref())?;
        *self.lock()? = Some(KeySet { pik, mak, tdk });
        Ok(())
    }
}

impl Drop for SoftwareVault {
    fn drop(&mut self) {
        self.clear_working_keys();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{FixedRandom, PinBlockFormat, ecb_encrypt, mac};

    const TMK: &str = "0123456789ABCDEFFEDCBA9876543210";

    fn wrap(tmk: &SecretKey, clear_hex: &str, alg: KeyAlgorithm) -> EncryptedWorkingKey {
        let clear = SecretKey::from_hex(alg, clear_hex).unwrap();
        EncryptedWorkingKey {
            ciphertext: ecb_encrypt(tmk, clear.expose_secret()).unwrap(),
            check_value: unionpay_check_value(&clear).unwrap(),
        }
    }

    fn tdes_vault() -> (SoftwareVault, WorkingKeys) {
        let tmk = SecretKey::from_hex(KeyAlgorithm::Tdes, TMK).unwrap();
        let keys = WorkingKeys {
            pik: wrap(&tmk, "11111111111111112222222222222222", KeyAlgorithm::Tdes),
            mak: wrap(&tmk, "0123456789ABCDEFFEDCBA9876543210", KeyAlgorithm::Tdes),
            tdk: Some(wrap(
                &tmk,
                "33333333333333334444444444444444",
                KeyAlgorithm::Tdes,
            )),
        };
        let v = SoftwareVault::with_random(
            tmk,
            VaultAlgorithm::Tdes,
            Box::new(FixedRandom(vec![7; 12])),
        )
        .unwrap();
        (v, keys)
    }

    #[test]
    fn load_then_mac_matches_the_mac_module() {
        let (v, keys) = tdes_vault();
        assert!(matches!(
            v.mac(MacAlgorithm::CupEcb, b"x"),
            Err(VaultError::NoWorkingKeys)
        ));
        v.load_working_keys(&keys).unwrap();
        assert!(v.has_working_keys());
        let data = b"Now is the time for all ";
        let m = v.mac(MacAlgorithm::X919, data).unwrap();
        // Same MAK as the ISO 9797-1 Annex B example.
        assert_eq!(hex::encode_upper(m), "A1C72E74EA3FA9B6");
        assert!(v.verify_mac(MacAlgorithm::X919, data, &m).unwrap());
        assert!(!v.verify_mac(MacAlgorithm::X919, data, &[0; 8]).unwrap());
        v.clear_working_keys();
        assert!(!v.has_working_keys());
    }

    #[test]
    fn a_bad_check_value_loads_nothing() {
        let (v, mut keys) = tdes_vault();
        v.load_working_keys(&keys).unwrap();
        let before = v.mac(MacAlgorithm::CupEcb, b"abc").unwrap();
        // A new set whose TDK check value is wrong must leave the old set in place.
        keys.mak.ciphertext = keys.pik.ciphertext.clone();
        keys.mak.check_value = keys.pik.check_value;
        keys.tdk.as_mut().unwrap().check_value[0] ^= 1;
        assert!(matches!(
            v.load_working_keys(&keys),
            Err(VaultError::CheckValueMismatch { key: "TDK" })
        ));
        assert_eq!(v.mac(MacAlgorithm::CupEcb, b"abc").unwrap(), before);
    }

    #[test]
    fn pin_block_is_encrypted_under_the_pik() {
        let (v, keys) = tdes_vault();
        v.load_working_keys(&keys).unwrap();
        let clear = ClearPinBlock::encode(
            PinBlockFormat::Iso0,
            "1234",
            "4012345678909",
            &FixedRandom(vec![0]),
        )
        .unwrap();
        let enc = v.encrypt_pin_block(&clear).unwrap();
        let pik =
            SecretKey::from_hex(KeyAlgorithm::Tdes, "11111111111111112222222222222222").unwrap();
        assert_eq!(
            enc.as_bytes(),
            ecb_encrypt(&pik, clear.expose_secret()).unwrap().as_slice()
        );
    }

    #[test]
    fn wrapped_export_round_trips_and_detects_tampering() {
        let (v, keys) = tdes_vault();
        v.load_working_keys(&keys).unwrap();
        let storage = SecretKey::new(KeyAlgorithm::Aes, &[9; 32]).unwrap();
        let blob = v.export_wrapped(&storage, "terminal-01").unwrap();
        let m = v.mac(MacAlgorithm::CupEcb, b"abc").unwrap();

        let (v2, _) = tdes_vault();
        v2.import_wrapped(&storage, "terminal-01", &blob).unwrap();
        assert_eq!(v2.mac(MacAlgorithm::CupEcb, b"abc").unwrap(), m);

        let mut tampered = blob.clone();
        tampered[20] ^= 1;
        assert!(matches!(
            v2.import_wrapped(&storage, "terminal-01", &tampered),
            Err(VaultError::WrappedRejected)
        ));
        assert!(matches!(
            v2.import_wrapped(&storage, "terminal-02", &blob),
            Err(VaultError::WrappedRejected)
        ));
        let other = SecretKey::new(KeyAlgorithm::Aes, &[8; 32]).unwrap();
        assert!(matches!(
            v2.import_wrapped(&other, "terminal-01", &blob),
            Err(VaultError::WrappedRejected)
        ));
        assert!(matches!(
            v2.import_wrapped(&storage, "terminal-01", &blob[..10]),
            Err(VaultError::WrappedMalformed { .. })
        ));
        assert!(matches!(
            v2.import_wrapped(
                &SecretKey::new(KeyAlgorithm::Aes, &[8; 16]).unwrap(),
                "t",
                &blob
            ),
            Err(VaultError::StorageKey)
        ));
    }

    #[test]
    fn sm4_vault_macs_with_the_ecb_construction() {
        let tmk = SecretKey::from_hex(KeyAlgorithm::Sm4, TMK).unwrap();
        let keys = WorkingKeys {
            pik: wrap(&tmk, "11111111111111112222222222222222", KeyAlgorithm::Sm4),
            mak: wrap(&tmk, "0123456789ABCDEFFEDCBA9876543210", KeyAlgorithm::Sm4),
            tdk: None,
        };
        let v = SoftwareVault::new(tmk, VaultAlgorithm::Sm4).unwrap();
        v.load_working_keys(&keys).unwrap();
        let mak =
            SecretKey::from_hex(KeyAlgorithm::Sm4, "0123456789ABCDEFFEDCBA9876543210").unwrap();
        assert_eq!(
            v.mac(MacAlgorithm::CupEcb, b"abc").unwrap(),
            mac::cup_ecb_mac(&mak, b"abc").unwrap()
        );
        assert!(
            SoftwareVault::new(
                SecretKey::new(KeyAlgorithm::Aes, &[0; 16]).unwrap(),
                VaultAlgorithm::Sm4
            )
            .is_err()
        );
    }
}
