//! The terminal's certification authority public keys and the issuer certificate revocation
//! list (EMV Book 2 5.1, 6.1, 11.2; Book 4 annex on CA key management).
//!
//! A key is found by the RID (first five bytes of the AID) and the card's CA public key index
//! (tag 8F). Each entry carries a checksum so a key corrupted in storage or in a download is
//! refused rather than used.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::error::CaKeyError;
use super::sm2::sm3_digest;

/// A Registered Application Provider Identifier: the first five bytes of an AID.
pub type Rid = [u8; 5];

/// The signature scheme of a CA key (EMV: RSA; PBOC 3.0 SM cards: SM2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CaKeyAlgorithm {
    /// RSA with ISO 9796-2 message recovery and SHA-1 (EMV Book 2 annex A2.1).
    Rsa,
    /// SM2 signatures with SM3 (PBOC 3.0 / JR/T 0025.17); the key is the 64-byte point x || y.
    Sm2,
}

/// One CA public key.
#[derive(Clone, PartialEq, Eq)]
pub struct CaPublicKey {
    pub rid: Rid,
    pub index: u8,
    pub algorithm: CaKeyAlgorithm,
    /// RSA modulus (big-endian) or, for SM2, the uncompressed point x || y without the 04.
    pub modulus: Vec<u8>,
    /// RSA public exponent (03 or 010001); empty for SM2.
    pub exponent: Vec<u8>,
    /// Expiry as YYMMDD digits, when the scheme published one.
    pub expiry_yymmdd: Option<String>,
    /// SHA-1 (RSA) or SM3 (SM2) over RID || index || modulus || exponent.
    pub checksum: Vec<u8>,
    /// Where the key came from (a scheme publication, a download, "test").
    pub source: String,
}

impl fmt::Debug for CaPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Public data, but 248 bytes of hex in a log line helps nobody.
        write!(
            f,
            "CaPublicKey({} [{:02X}] {:?} {} bits)",
            hex::encode_upper(self.rid),
            self.index,
            self.algorithm,
            self.modulus.len() * 8
        )
    }
}

impl CaPublicKey {
    /// The checksum this key should carry: SHA-1 for RSA keys (Book 2 11.2.2), SM3 for SM2 keys.
    pub fn computed_checksum(&self) -> Vec<u8> {
        let mut input = Vec::with_capacity(6 + self.modulus.len() + self.exponent.len());
        input.extend_from_slice(&self.rid);
        input.push(self.index);
        input.extend_from_slice(&self.modulus);
        input.extend_from_slice(&self.exponent);
        match self.algorithm {
            CaKeyAlgorithm::Rsa => sha1(&input).to_vec(),
            CaKeyAlgorithm::Sm2 => sm3_digest(&[&input]).to_vec(),
        }
    }

    /// Builds an entry and fills in its checksum (for keys made at run time: test CAs).
    pub fn with_computed_checksum(
        rid: Rid,
        index: u8,
        algorithm: CaKeyAlgorithm,
        modulus: Vec<u8>,
        exponent: Vec<u8>,
        source: &str,
    ) -> Self {
        let mut key = Self {
            rid,
            index,
            algorithm,
            modulus,
            exponent,
            expiry_yymmdd: None,
            checksum: Vec::new(),
            source: source.to_string(),
        };
        key.checksum = key.computed_checksum();
        key
    }

    fn check(&self) -> Result<(), CaKeyError> {
        let shape_ok = match self.algorithm {
            // EMV CA keys are at most 248 bytes (1984 bits); anything under 64 is not a key.
            CaKeyAlgorithm::Rsa => {
                (64..=248).contains(&self.modulus.len())
                    && !self.exponent.is_empty()
                    && self.exponent.len() <= 3
            }
            CaKeyAlgorithm::Sm2 => self.modulus.len() == 64 && self.exponent.is_empty(),
        };
        if !shape_ok {
            return Err(CaKeyError::Shape {
                rid: self.rid,
                index: self.index,
            });
        }
        let computed = self.computed_checksum();
        if computed != self.checksum {
            return Err(CaKeyError::Checksum {
                rid: self.rid,
                index: self.index,
            });
        }
        Ok(())
    }
}

pub(crate) fn sha1(data: &[u8]) -> [u8; 20] {
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, data);
    let mut out = [0u8; 20];
    out.copy_from_slice(digest.as_ref());
    out
}

/// A production key as written in the source table (hex text, checked when loaded).
#[derive(Debug)]
pub(super) struct CaKeySpec {
    pub rid: &'static str,
    pub index: u8,
    pub modulus: &'static str,
    pub exponent: &'static str,
    pub expiry_yymmdd: Option<&'static str>,
    pub checksum: &'static str,
    pub source: &'static str,
}

/// The CA public keys a terminal trusts, by RID and index.
#[derive(Debug, Clone, Default)]
pub struct CaKeyTable {
    keys: BTreeMap<(Rid, u8), CaPublicKey>,
}

impl CaKeyTable {
    pub fn new() -> Self {
        Self::default()
    }

    /// The published production keys of UnionPay, Visa and Mastercard, each checksum verified.
    pub fn production() -> Result<Self, CaKeyError> {
        let mut table = Self::new();
        for spec in super::ca_keys_production::PRODUCTION_KEYS {
            let decode = |text: &str| {
                hex::decode(text).map_err(|_| CaKeyError::Shape {
                    rid: [0; 5],
                    index: spec.index,
                })
            };
            let rid: Rid = decode(spec.rid)?
                .try_into()
                .map_err(|_| CaKeyError::Shape {
                    rid: [0; 5],
                    index: spec.index,
                })?;
            table.insert(CaPublicKey {
                rid,
                index: spec.index,
                algorithm: CaKeyAlgorithm::Rsa,
                modulus: decode(spec.modulus)?,
                exponent: decode(spec.exponent)?,
                expiry_yymmdd: spec.expiry_yymmdd.map(str::to_string),
                checksum: decode(spec.checksum)?,
                source: spec.source.to_string(),
            })?;
        }
        Ok(table)
    }

    /// Adds or replaces a key after checking its shape and checksum. This is how tests, the
    /// simulator and the acquirer's CA key download add keys at run time.
    pub fn insert(&mut self, key: CaPublicKey) -> Result<(), CaKeyError> {
        key.check()?;
        self.keys.insert((key.rid, key.index), key);
        Ok(())
    }

    pub fn remove(&mut self, rid: Rid, index: u8) -> Option<CaPublicKey> {
        self.keys.remove(&(rid, index))
    }

    pub fn get(&self, rid: Rid, index: u8) -> Option<&CaPublicKey> {
        self.keys.get(&(rid, index))
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &CaPublicKey> {
        self.keys.values()
    }
}

/// Issuer public key certificates the payment schemes have revoked (Book 2 5.3 step 10,
/// 6.3 step 10): RID, CA public key index and the certificate serial number.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevocationList {
    entries: BTreeSet<(Rid, u8, [u8; 3])>,
}

impl RevocationList {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn revoke(&mut self, rid: Rid, ca_index: u8, serial: [u8; 3]) {
        self.entries.insert((rid, ca_index, serial));
    }

    pub fn is_revoked(&self, rid: Rid, ca_index: u8, serial: [u8; 3]) -> bool {
        self.entries.contains(&(rid, ca_index, serial))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UNIONPAY: Rid = [0xA0, 0x00, 0x00, 0x03, 0x33];

    #[test]
    fn production_table_loads_with_every_checksum_verified() {
        let table = CaKeyTable::production().unwrap();
        assert_eq!(table.len(), 8);
        for (rid, index, bits) in [
            (UNIONPAY, 0x08, 1152),
            (UNIONPAY, 0x09, 1408),
            (UNIONPAY, 0x0A, 1024),
            (UNIONPAY, 0x0B, 1984),
            ([0xA0, 0, 0, 0, 0x03], 0x08, 1408),
            ([0xA0, 0, 0, 0, 0x03], 0x09, 1984),
            ([0xA0, 0, 0, 0, 0x04], 0x05, 1408),
            ([0xA0, 0, 0, 0, 0x04], 0x06, 1984),
        ] {
            let key = table.get(rid, index).unwrap();
            assert_eq!(key.modulus.len() * 8, bits, "{key:?}");
            assert_eq!(key.exponent, [3]);
            assert_eq!(key.computed_checksum(), key.checksum);
            assert!(!key.source.is_empty());
        }
        assert_eq!(
            table.get(UNIONPAY, 0x0B).unwrap().expiry_yymmdd.as_deref(),
            Some("301231")
        );
        // Published checksum of UnionPay [0B] (DF03 in the cited table).
        assert_eq!(
            hex::encode_upper(&table.get(UNIONPAY, 0x0B).unwrap().checksum),
            "BD331F9996A490B33C13441066A09AD3FEB5F66C"
        );
    }

    #[test]
    fn a_corrupted_key_is_refused() {
        let table = CaKeyTable::production().unwrap();
        let mut key = table.get(UNIONPAY, 0x0B).unwrap().clone();
        key.modulus[100] ^= 0x01;
        let mut other = CaKeyTable::new();
        assert_eq!(
            other.insert(key.clone()).unwrap_err(),
            CaKeyError::Checksum {
                rid: UNIONPAY,
                index: 0x0B
            }
        );
        key.modulus.truncate(10);
        assert!(matches!(other.insert(key), Err(CaKeyError::Shape { .. })));
        assert!(other.is_empty());
    }

    #[test]
    fn run_time_keys_and_revocations() {
        let mut table = CaKeyTable::new();
        let key = CaPublicKey::with_computed_checksum(
            UNIONPAY,
            0xF1,
            CaKeyAlgorithm::Rsa,
            vec![0xC5; 128],
            vec![3],
            "test",
        );
        table.insert(key).unwrap();
        assert!(table.get(UNIONPAY, 0xF1).is_some());
        assert!(format!("{:?}", table.get(UNIONPAY, 0xF1).unwrap()).contains("1024 bits"));
        assert!(table.remove(UNIONPAY, 0xF1).is_some());

        let mut crl = RevocationList::new();
        crl.revoke(UNIONPAY, 0x0B, [0x00, 0x10, 0x01]);
        assert!(crl.is_revoked(UNIONPAY, 0x0B, [0x00, 0x10, 0x01]));
        assert!(!crl.is_revoked(UNIONPAY, 0x0A, [0x00, 0x10, 0x01]));
        assert_eq!(crl.len(), 1);
    }
}
