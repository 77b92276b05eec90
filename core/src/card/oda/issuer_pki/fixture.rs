//! A ready-made test PKI: CA, issuer and ICC keys from `test_keys`, the CA entry for the
//! terminal's table, and a card's ODA data objects made under them.

use std::collections::BTreeMap;

use super::super::ca_keys::{CaKeyTable, Rid};
use super::super::tags;
use super::{
    PkiError, RsaSigner, icc_certificate, issuer_certificate, issuer_identifier,
    signed_static_data, test_keys,
};

/// A RID no scheme owns, so test CA keys never shadow production ones.
pub const TEST_RID: Rid = [0xA0, 0x00, 0x00, 0x09, 0x99];

/// Certificate dates and serials for a test card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestCardDates {
    pub issuer_expiry_mmyy: [u8; 2],
    pub icc_expiry_mmyy: [u8; 2],
    pub issuer_serial: [u8; 3],
    pub icc_serial: [u8; 3],
}

impl Default for TestCardDates {
    fn default() -> Self {
        Self {
            issuer_expiry_mmyy: [0x12, 0x30],
            icc_expiry_mmyy: [0x12, 0x29],
            issuer_serial: [0x00, 0x00, 0x01],
            icc_serial: [0x00, 0x00, 0x02],
        }
    }
}

/// CA, issuer and ICC test keys with the CA's RID and index.
#[derive(Debug, Clone)]
pub struct RsaTestPki {
    pub rid: Rid,
    pub ca_index: u8,
    pub ca: RsaSigner,
    pub issuer: RsaSigner,
    pub icc: RsaSigner,
}

impl RsaTestPki {
    /// 1984-bit CA and issuer (the issuer certificate needs a remainder, 92), 1408-bit ICC.
    pub fn rsa_1984() -> Result<Self, PkiError> {
        Ok(Self {
            rid: TEST_RID,
            ca_index: 0xF9,
            ca: RsaSigner::from_pkcs8_pem(test_keys::CA_1984)?,
            issuer: RsaSigner::from_pkcs8_pem(test_keys::ISSUER_1984)?,
            icc: RsaSigner::from_pkcs8_pem(test_keys::ICC_1408)?,
        })
    }

    /// 1984-bit CA, 1152-bit issuer, 1024-bit ICC (the ICC certificate needs 9F48).
    pub fn rsa_1152() -> Result<Self, PkiError> {
        Ok(Self {
            rid: TEST_RID,
            ca_index: 0xF9,
            ca: RsaSigner::from_pkcs8_pem(test_keys::CA_1984)?,
            issuer: RsaSigner::from_pkcs8_pem(test_keys::ISSUER_1152)?,
            icc: RsaSigner::from_pkcs8_pem(test_keys::ICC_1024)?,
        })
    }

    /// A CA key table holding only this PKI's CA key.
    pub fn ca_table(&self) -> CaKeyTable {
        let mut table = CaKeyTable::new();
        // A key made from its own parts always passes its checksum.
        let _ = table.insert(self.ca.ca_public_key(self.rid, self.ca_index));
        table
    }

    /// The ODA data objects of a card with PAN `pan_5a` whose records give `static_data`:
    /// 5A, 8F, 90, 92, 9F32, 93 (DAC 0xDAC1), 9F46, 9F47, 9F48.
    pub fn card(
        &self,
        pan_5a: &[u8],
        static_data: &[u8],
        dates: TestCardDates,
    ) -> Result<BTreeMap<u32, Vec<u8>>, PkiError> {
        let issuer_cert = issuer_certificate(
            &self.ca,
            &self.issuer.modulus(),
            &self.issuer.exponent(),
            issuer_identifier(pan_5a, 6),
            dates.issuer_expiry_mmyy,
            dates.issuer_serial,
        )?;
        let icc_cert = icc_certificate(
            &self.issuer,
            &self.icc.modulus(),
            &self.icc.exponent(),
            pan_5a,
            dates.icc_expiry_mmyy,
            dates.icc_serial,
            static_data,
        )?;
        let mut card = BTreeMap::new();
        card.insert(tags::PAN, pan_5a.to_vec());
        card.insert(tags::CA_PUBLIC_KEY_INDEX, vec![self.ca_index]);
        card.insert(tags::ISSUER_PK_CERTIFICATE, issuer_cert.certificate);
        if !issuer_cert.remainder.is_empty() {
            card.insert(tags::ISSUER_PK_REMAINDER, issuer_cert.remainder);
        }
        card.insert(tags::ISSUER_PK_EXPONENT, issuer_cert.exponent);
        card.insert(
            tags::SIGNED_STATIC_DATA,
            signed_static_data(&self.issuer, [0xDA, 0xC1], static_data)?,
        );
        card.insert(tags::ICC_PK_CERTIFICATE, icc_cert.certificate);
        if !icc_cert.remainder.is_empty() {
            card.insert(tags::ICC_PK_REMAINDER, icc_cert.remainder);
        }
        card.insert(tags::ICC_PK_EXPONENT, icc_cert.exponent);
        Ok(card)
    }
}
