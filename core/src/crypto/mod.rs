//! Payment cryptography: block modes over RustCrypto ciphers, MACs, key check values, ISO 9564
//! PIN blocks, DUKPT (TDES and AES) and the `KeyVault` that holds a terminal's working keys.
//!
//! Primitives are never written here: DES/TDES/SM4/AES come from RustCrypto, randomness,
//! AES-GCM and constant-time comparison from ring. This module knows nothing of the rest of
//! the core.

pub mod block;
pub mod dukpt;
pub mod emv_ac;
mod error;
pub mod kcv;
mod key_strength;
pub mod mac;
pub mod offline_pin;
pub mod pinblock;
pub mod random;
pub mod sealed;
pub mod secret;
pub mod vault;

pub use block::{cbc_decrypt, cbc_encrypt, ecb_decrypt, ecb_encrypt};
pub use emv_ac::{
    AcPadding, EmvAcError, SessionKeyDerivation, application_cryptogram,
    application_cryptogram_padded, arpc_method1, arpc_method2, derive_common_session_key,
    derive_icc_master_key, derive_session_key, verify_application_cryptogram,
};
pub use error::CryptoError;
pub use kcv::{kcv, unionpay_check_value};
pub use key_strength::{KeyStrengthError, check_working_keys};
pub use mac::{MacAlgorithm, MacPadding, compute_mac, verify_mac};
pub use offline_pin::{IccPinKey, OfflinePinMode, OfflinePinRequest, OfflinePinResult};
pub use pinblock::{ClearPinBlock, EncryptedPinBlock, PinBlockFormat};
#[cfg(test)]
pub(crate) use random::FixedRandom;
pub use random::{RandomSource, SystemRandomSource};
pub use sealed::{SealError, open, seal};
pub use secret::{KeyAlgorithm, SecretKey};
pub use vault::{
    EncryptedWorkingKey, KeyVault, SoftwareVault, VaultAlgorithm, VaultError, WorkingKey,
    WorkingKeys,
};
