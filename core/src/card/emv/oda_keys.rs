//! [`OdaVerifier`] over the terminal's CA key table and revocation list (`card::oda`): RSA
//! SDA/DDA/CDA (EMV 4.4 Book 2) and PBOC 3.0 SM2 when the card's CA key is SM2.

use super::data::TagStore;
use super::oda::{IccPublicKey, OdaError, OdaVerifier};
use crate::card::oda::{
    self, CaKeyAlgorithm, CaKeyTable, CardTags, CdaInput, OdaTerminal, RecoveredKey,
    RevocationList, Rid, Sm2PublicKey,
};

impl CardTags for TagStore {
    fn tag(&self, tag: u32) -> Option<&[u8]> {
        self.card(tag)
    }
}

/// The terminal's CA keys and revoked certificates.
#[derive(Debug, Clone, Default)]
pub struct CaKeyVerifier {
    pub ca_keys: CaKeyTable,
    pub revocations: RevocationList,
}

fn rid(store: &TagStore) -> Rid {
    let aid = store
        .get(0x84)
        .or_else(|| store.get(0x9F06))
        .unwrap_or_default();
    let mut r = [0u8; 5];
    for (d, s) in r.iter_mut().zip(aid) {
        *d = *s;
    }
    r
}

fn date(store: &TagStore) -> [u8; 3] {
    store
        .get(0x9A)
        .and_then(|v| <[u8; 3]>::try_from(v).ok())
        .unwrap_or_default()
}

/// Every `card::oda` failure fails the method; only missing card data is told apart, because
/// it also sets "ICC data missing".
fn map(e: oda::OdaError) -> OdaError {
    match e {
        oda::OdaError::IccDataMissing { .. } => OdaError::IccDataMissing,
        oda::OdaError::CaKeyMissing { .. } => OdaError::CaKeyMissing,
        _ => OdaError::Failed,
    }
}

fn rsa_key(k: &IccPublicKey) -> RecoveredKey {
    RecoveredKey {
        modulus: k.modulus.clone(),
        exponent: k.exponent.clone(),
        expiry_mmyy: [0; 2],
        serial: [0; 3],
    }
}

impl CaKeyVerifier {
    fn terminal<'a>(&'a self, store: &TagStore) -> OdaTerminal<'a> {
        OdaTerminal {
            ca_keys: &self.ca_keys,
            revocations: &self.revocations,
            transaction_date: date(store),
        }
    }
}

impl OdaVerifier for CaKeyVerifier {
    fn verify_sda(&self, store: &TagStore, static_data: &[u8]) -> Result<(), OdaError> {
        let t = self.terminal(store);
        if self.is_sm2(store) {
            return oda::sm2_verify_sda(&t, rid(store), store, static_data)
                .map(|_| ())
                .map_err(map);
        }
        oda::verify_sda(&t, rid(store), store, static_data)
            .map(|_| ())
            .map_err(map)
    }

    fn recover_icc_key(
        &self,
        store: &TagStore,
        static_data: &[u8],
    ) -> Result<IccPublicKey, OdaError> {
        let t = self.terminal(store);
        if self.is_sm2(store) {
            let issuer = oda::sm2_recover_issuer_key(&t, rid(store), store).map_err(map)?;
            let icc = oda::sm2_recover_icc_key(&t, &issuer, store, static_data).map_err(map)?;
            // An SM2 key travels as its point, with no exponent.
            return Ok(IccPublicKey {
                modulus: icc.point,
                exponent: Vec::new(),
            });
        }
        let issuer = oda::recover_issuer_key(&t, rid(store), store).map_err(map)?;
        let icc = oda::recover_icc_key(&t, &issuer, store, static_data).map_err(map)?;
        Ok(IccPublicKey {
            modulus: icc.modulus.clone(),
            exponent: icc.exponent.clone(),
        })
    }

    fn verify_dda(&self, key: &IccPublicKey, sdad: &[u8], ddol: &[u8]) -> Result<(), OdaError> {
        if key.exponent.is_empty() {
            let sm2 = Sm2PublicKey {
                point: key.modulus.clone(),
                expiry_mmyy: [0; 2],
                serial: [0; 3],
            };
            return oda::sm2_verify_dda(&sm2, sdad, ddol)
                .map(|_| ())
                .map_err(map);
        }
        oda::verify_dda(&rsa_key(key), sdad, ddol)
            .map(|_| ())
            .map_err(map)
    }

    fn verify_fdda(&self, key: &IccPublicKey, sdad: &[u8], data: &[u8]) -> Result<(), OdaError> {
        if key.exponent.is_empty() {
            return self.verify_dda(key, sdad, data);
        }
        oda::verify_fdda(&rsa_key(key), sdad, data)
            .map(|_| ())
            .map_err(map)
    }

    fn verify_cda(
        &self,
        key: &IccPublicKey,
        sdad: &[u8],
        unpredictable_number: &[u8; 4],
        cid: u8,
        hash_input: &[u8],
    ) -> Result<[u8; 8], OdaError> {
        if key.exponent.is_empty() {
            // PBOC 3.0 defines no SM2 form of CDA.
            return Err(OdaError::Failed);
        }
        let input = CdaInput {
            sdad,
            cid,
            unpredictable_number,
            transaction_data: hash_input,
        };
        oda::verify_cda(&rsa_key(key), &input)
            .map(|o| o.cryptogram)
            .map_err(map)
    }

    fn recover_pin_key(&self, store: &TagStore) -> Option<IccPublicKey> {
        if store.card(0x9F2D).is_none() || self.is_sm2(store) {
            return None;
        }
        let t = self.terminal(store);
        let issuer = oda::recover_issuer_key(&t, rid(store), store).ok()?;
        let key = oda::recover_icc_pin_key(&t, &issuer, store).ok()?;
        Some(IccPublicKey {
            modulus: key.modulus.clone(),
            exponent: key.exponent.clone(),
        })
    }

    fn is_sm2(&self, store: &TagStore) -> bool {
        let Some([index]) = store.card(0x8F) else {
            return false;
        };
        self.ca_keys
            .get(rid(store), *index)
            .is_some_and(|k| k.algorithm == CaKeyAlgorithm::Sm2)
    }
}
