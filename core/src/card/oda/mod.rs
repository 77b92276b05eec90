//! Offline data authentication (EMV 4.4 Book 2 sections 5–7, Book 3 10.3; PBOC 3.0 SM2):
//! the CA public key table, the revocation list, certificate recovery and SDA, DDA, CDA and
//! their SM2 counterparts.
//!
//! The functions need nothing from the kernel: card data comes through [`CardTags`], the
//! terminal's keys, revocation list and transaction date through [`OdaTerminal`], and the data
//! only the kernel can assemble (static data to authenticate, DDOL data, CDA transaction data)
//! as byte slices. Every failure is an [`OdaError`] that says which TVR bits to set.

mod ca_keys;
mod ca_keys_production;
mod certs;
mod error;
#[cfg(any(test, feature = "issuer-pki"))]
pub mod issuer_pki;
mod recover;
mod signed_data;
mod sm2;
mod static_data;
#[cfg(test)]
mod tests_ctls_capture;
#[cfg(test)]
mod tests_fuzz;
#[cfg(test)]
mod tests_rsa;
#[cfg(test)]
mod tests_vectors;

use std::collections::{BTreeMap, HashMap};

pub use ca_keys::{CaKeyAlgorithm, CaKeyTable, CaPublicKey, RevocationList, Rid};
pub use certs::{
    IccPublicKey, IssuerPublicKey, RecoveredKey, recover_icc_key, recover_icc_pin_key,
    recover_issuer_key,
};
pub use error::{CaKeyError, OdaError, OdaMethod, Signed, tvr_byte1};
pub use signed_data::{
    CdaInput, CdaOutcome, DdaOutcome, SdaOutcome, cda_transaction_data, verify_cda, verify_dda,
    verify_fdda, verify_sda,
};
pub use sm2::{
    DEFAULT_USER_ID, SM2_ALGORITHM, Sm2PublicKey, sm2_recover_icc_key, sm2_recover_issuer_key,
    sm2_verify, sm2_verify_dda, sm2_verify_sda, sm3_digest,
};
pub use static_data::{OdaRecord, static_data_to_authenticate};

/// The EMV tags ODA reads from the card.
pub mod tags {
    pub const PAN: u32 = 0x5A;
    pub const CA_PUBLIC_KEY_INDEX: u32 = 0x8F;
    pub const ISSUER_PK_CERTIFICATE: u32 = 0x90;
    pub const ISSUER_PK_REMAINDER: u32 = 0x92;
    pub const ISSUER_PK_EXPONENT: u32 = 0x9F32;
    pub const SIGNED_STATIC_DATA: u32 = 0x93;
    pub const ICC_PK_CERTIFICATE: u32 = 0x9F46;
    pub const ICC_PK_EXPONENT: u32 = 0x9F47;
    pub const ICC_PK_REMAINDER: u32 = 0x9F48;
    pub const SIGNED_DYNAMIC_DATA: u32 = 0x9F4B;
    pub const ICC_PIN_PK_CERTIFICATE: u32 = 0x9F2D;
    pub const ICC_PIN_PK_EXPONENT: u32 = 0x9F2E;
    pub const ICC_PIN_PK_REMAINDER: u32 = 0x9F2F;
}

/// The card's data objects by tag, as the kernel collected them (READ RECORD, GPO).
pub trait CardTags {
    fn tag(&self, tag: u32) -> Option<&[u8]>;
}

impl CardTags for HashMap<u32, Vec<u8>> {
    fn tag(&self, tag: u32) -> Option<&[u8]> {
        self.get(&tag).map(Vec::as_slice)
    }
}

impl CardTags for BTreeMap<u32, Vec<u8>> {
    fn tag(&self, tag: u32) -> Option<&[u8]> {
        self.get(&tag).map(Vec::as_slice)
    }
}

impl<T: CardTags + ?Sized> CardTags for &T {
    fn tag(&self, tag: u32) -> Option<&[u8]> {
        (**self).tag(tag)
    }
}

/// What the terminal brings to ODA.
#[derive(Debug, Clone, Copy)]
pub struct OdaTerminal<'a> {
    pub ca_keys: &'a CaKeyTable,
    pub revocations: &'a RevocationList,
    /// Transaction date (9A), YYMMDD BCD: certificates are checked against it.
    pub transaction_date: [u8; 3],
}
