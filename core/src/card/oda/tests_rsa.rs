//! SDA, DDA and CDA against cards made with the test PKI (`issuer_pki`), and each check
//! failing with the right error and TVR bits when one byte is wrong.

use std::collections::BTreeMap;

use super::issuer_pki::{
    RsaTestPki, TestCardDates, cda_dynamic_data, dda_dynamic_data, signed_dynamic_data,
};
use super::*;

const PAN: [u8; 8] = [0x62, 0x25, 0x88, 0x01, 0x23, 0x45, 0x67, 0x89];
/// What the kernel would assemble from the records flagged for ODA plus the AIP.
const STATIC_DATA: &[u8] =
    b"\x5F\x24\x03\x30\x12\x31\x5A\x08\x62\x25\x88\x01\x23\x45\x67\x89\x7C\x00";
const TXN_DATE: [u8; 3] = [0x26, 0x12, 0x04];
const DDOL_DATA: [u8; 4] = [0x12, 0x34, 0x56, 0x78];

struct Fixture {
    pki: RsaTestPki,
    table: CaKeyTable,
    crl: RevocationList,
    card: BTreeMap<u32, Vec<u8>>,
}

impl Fixture {
    fn new(pki: RsaTestPki, dates: TestCardDates) -> Self {
        let card = pki.card(&PAN, STATIC_DATA, dates).unwrap();
        Self {
            table: pki.ca_table(),
            crl: RevocationList::new(),
            pki,
            card,
        }
    }

    fn terminal(&self) -> OdaTerminal<'_> {
        OdaTerminal {
            ca_keys: &self.table,
            revocations: &self.crl,
            transaction_date: TXN_DATE,
        }
    }

    fn sda(&self) -> Result<SdaOutcome, OdaError> {
        verify_sda(&self.terminal(), self.pki.rid, &self.card, STATIC_DATA)
    }

    fn icc_key(&self) -> Result<IccPublicKey, OdaError> {
        let issuer = recover_issuer_key(&self.terminal(), self.pki.rid, &self.card)?;
        recover_icc_key(&self.terminal(), &issuer, &self.card, STATIC_DATA)
    }

    fn flip(&mut self, tag: u32, at: usize) {
        let value = self.card.get_mut(&tag).unwrap();
        value[at] ^= 0x01;
    }
}

fn rsa_1984() -> Fixture {
    Fixture::new(RsaTestPki::rsa_1984().unwrap(), TestCardDates::default())
}

#[test]
fn sda_verifies_with_an_issuer_key_longer_than_its_certificate() {
    let f = rsa_1984();
    assert!(f.card.contains_key(&tags::ISSUER_PK_REMAINDER));
    let out = f.sda().unwrap();
    assert_eq!(out.data_authentication_code, [0xDA, 0xC1]);
    assert_eq!(out.issuer_key.modulus, f.pki.issuer.modulus());
    assert_eq!(out.issuer_key.exponent, [3]);
    assert_eq!(out.issuer_key.serial, [0, 0, 1]);
}

#[test]
fn sda_fails_on_one_flipped_byte_anywhere() {
    for (tag, at) in [
        (tags::ISSUER_PK_CERTIFICATE, 0),
        (tags::ISSUER_PK_CERTIFICATE, 100),
        (tags::ISSUER_PK_REMAINDER, 3),
        (tags::ISSUER_PK_EXPONENT, 0),
        (tags::SIGNED_STATIC_DATA, 50),
    ] {
        let mut f = rsa_1984();
        f.flip(tag, at);
        let err = f.sda().unwrap_err();
        assert!(
            matches!(
                err,
                OdaError::Recovery { .. } | OdaError::Signature { .. } | OdaError::Length { .. }
            ),
            "{tag:X}@{at}: {err:?}"
        );
        assert_eq!(err.tvr_byte1(OdaMethod::Sda), tvr_byte1::SDA_FAILED);
    }
    // The static data the kernel read differs from what the issuer signed.
    let f = rsa_1984();
    let mut other = STATIC_DATA.to_vec();
    other[3] ^= 0x01;
    assert_eq!(
        verify_sda(&f.terminal(), f.pki.rid, &f.card, &other).unwrap_err(),
        OdaError::Signature {
            what: Signed::StaticData
        }
    );
}

#[test]
fn missing_card_data_and_missing_ca_key() {
    for tag in [
        tags::CA_PUBLIC_KEY_INDEX,
        tags::ISSUER_PK_CERTIFICATE,
        tags::ISSUER_PK_EXPONENT,
        tags::ISSUER_PK_REMAINDER,
        tags::SIGNED_STATIC_DATA,
        tags::PAN,
    ] {
        let mut f = rsa_1984();
        f.card.remove(&tag);
        let err = f.sda().unwrap_err();
        assert_eq!(err, OdaError::IccDataMissing { tag }, "{tag:X}");
        assert_eq!(err.tvr_byte1(OdaMethod::Sda), 0x60);
    }
    let mut f = rsa_1984();
    f.card.insert(tags::CA_PUBLIC_KEY_INDEX, vec![0x01]);
    let err = f.sda().unwrap_err();
    assert_eq!(
        err,
        OdaError::CaKeyMissing {
            rid: f.pki.rid,
            index: 0x01
        }
    );
    assert_eq!(err.tvr_byte1(OdaMethod::Sda), tvr_byte1::SDA_FAILED);
}

#[test]
fn expired_and_revoked_issuer_certificates() {
    let expired = Fixture::new(
        RsaTestPki::rsa_1984().unwrap(),
        TestCardDates {
            issuer_expiry_mmyy: [0x11, 0x26],
            ..TestCardDates::default()
        },
    );
    assert!(matches!(
        expired.sda().unwrap_err(),
        OdaError::Expired {
            what: Signed::IssuerCertificate,
            ..
        }
    ));
    // Valid through the end of its month.
    let last_month = Fixture::new(
        RsaTestPki::rsa_1984().unwrap(),
        TestCardDates {
            issuer_expiry_mmyy: [0x12, 0x26],
            ..TestCardDates::default()
        },
    );
    assert!(last_month.sda().is_ok());

    let mut f = rsa_1984();
    f.crl.revoke(f.pki.rid, f.pki.ca_index, [0, 0, 1]);
    assert_eq!(
        f.sda().unwrap_err(),
        OdaError::Revoked { serial: [0, 0, 1] }
    );
    // Another serial, or the same serial under another CA index, is not revoked.
    let mut f = rsa_1984();
    f.crl.revoke(f.pki.rid, f.pki.ca_index, [0, 0, 2]);
    f.crl.revoke(f.pki.rid, 0x01, [0, 0, 1]);
    assert!(f.sda().is_ok());
}

#[test]
fn issuer_identifier_must_match_the_pan() {
    let mut f = rsa_1984();
    f.card.insert(
        tags::PAN,
        vec![0x62, 0x25, 0x89, 0x01, 0x23, 0x45, 0x67, 0x89],
    );
    assert_eq!(f.sda().unwrap_err(), OdaError::IssuerIdentifier);
}

#[test]
fn dda_with_an_icc_key_remainder() {
    let f = Fixture::new(RsaTestPki::rsa_1152().unwrap(), TestCardDates::default());
    assert!(f.card.contains_key(&tags::ICC_PK_REMAINDER));
    let icc = f.icc_key().unwrap();
    assert_eq!(icc.modulus, f.pki.icc.modulus());
    let sdad = signed_dynamic_data(
        &f.pki.icc,
        &dda_dynamic_data(&[0xC0, 0xFF, 0xEE, 0x01]),
        &DDOL_DATA,
    )
    .unwrap();
    let out = verify_dda(&icc, &sdad, &DDOL_DATA).unwrap();
    assert_eq!(out.icc_dynamic_number, [0xC0, 0xFF, 0xEE, 0x01]);
    // The key in the shape enciphered offline PIN needs.
    let pin = icc.pin_key([7; 8]);
    assert_eq!(pin.modulus, f.pki.icc.modulus());
    assert_eq!(pin.challenge, [7; 8]);

    let err = verify_dda(&icc, &sdad, &[0x12, 0x34, 0x56, 0x79]).unwrap_err();
    assert_eq!(err.tvr_byte1(OdaMethod::Dda), tvr_byte1::DDA_FAILED);
    let mut bad = sdad.clone();
    bad[17] ^= 0x01;
    assert!(verify_dda(&icc, &bad, &DDOL_DATA).is_err());
    assert!(matches!(
        verify_dda(&icc, &sdad[1..], &DDOL_DATA),
        Err(OdaError::Length { .. })
    ));
}

#[test]
fn icc_certificate_failures() {
    for (tag, at) in [
        (tags::ICC_PK_CERTIFICATE, 9),
        (tags::ICC_PK_REMAINDER, 0),
        (tags::ICC_PK_EXPONENT, 0),
    ] {
        let mut f = Fixture::new(RsaTestPki::rsa_1152().unwrap(), TestCardDates::default());
        f.flip(tag, at);
        let err = f.icc_key().unwrap_err();
        assert_eq!(
            err.tvr_byte1(OdaMethod::Dda),
            tvr_byte1::DDA_FAILED,
            "{err:?}"
        );
    }
    let f = Fixture::new(RsaTestPki::rsa_1152().unwrap(), TestCardDates::default());
    let issuer = recover_issuer_key(&f.terminal(), f.pki.rid, &f.card).unwrap();
    let err = recover_icc_key(&f.terminal(), &issuer, &f.card, &STATIC_DATA[1..]).unwrap_err();
    assert_eq!(
        err,
        OdaError::Signature {
            what: Signed::IccCertificate
        }
    );
    let mut f = Fixture::new(RsaTestPki::rsa_1152().unwrap(), TestCardDates::default());
    f.card.remove(&tags::ICC_PK_REMAINDER);
    assert_eq!(
        f.icc_key().unwrap_err(),
        OdaError::IccDataMissing {
            tag: tags::ICC_PK_REMAINDER
        }
    );
    let mut f = Fixture::new(RsaTestPki::rsa_1152().unwrap(), TestCardDates::default());
    f.card.remove(&tags::ICC_PK_CERTIFICATE);
    assert_eq!(
        f.icc_key().unwrap_err().tvr_byte1(OdaMethod::Dda),
        tvr_byte1::DDA_FAILED | tvr_byte1::ICC_DATA_MISSING
    );
    let expired = Fixture::new(
        RsaTestPki::rsa_1152().unwrap(),
        TestCardDates {
            icc_expiry_mmyy: [0x10, 0x26],
            ..TestCardDates::default()
        },
    );
    assert!(matches!(
        expired.icc_key().unwrap_err(),
        OdaError::Expired {
            what: Signed::IccCertificate,
            ..
        }
    ));
}

struct CdaCase {
    sdad: Vec<u8>,
    transaction_data: Vec<u8>,
}

fn cda_case(pki: &RsaTestPki, cid: u8, ac: [u8; 8], un: &[u8]) -> CdaCase {
    // The GENERATE AC answer without its SDAD, as the card returned it.
    let template =
        hex::decode("9F2701809F360200419F10120110A00003220000000000000000000000FF").unwrap();
    let transaction_data =
        cda_transaction_data(&[0x00, 0x00, 0x00, 0x01], &[&[0x11; 29]], &template).unwrap();
    let dynamic = cda_dynamic_data(&[0x5E, 0xED], cid, ac, &transaction_data);
    CdaCase {
        sdad: signed_dynamic_data(&pki.icc, &dynamic, un).unwrap(),
        transaction_data,
    }
}

#[test]
fn cda_returns_the_signed_cryptogram_and_checks_cid_and_transaction_hash() {
    let f = rsa_1984();
    let icc = f.icc_key().unwrap();
    let un = [0xA1, 0xB2, 0xC3, 0xD4];
    let ac = [1, 2, 3, 4, 5, 6, 7, 8];
    let case = cda_case(&f.pki, 0x80, ac, &un);
    let input = CdaInput {
        sdad: &case.sdad,
        cid: 0x80,
        unpredictable_number: &un,
        transaction_data: &case.transaction_data,
    };
    let out = verify_cda(&icc, &input).unwrap();
    assert_eq!(out.cryptogram, ac);
    assert_eq!(out.cid, 0x80);
    assert_eq!(out.icc_dynamic_number, [0x5E, 0xED]);

    let err = verify_cda(&icc, &CdaInput { cid: 0x40, ..input }).unwrap_err();
    assert_eq!(
        err,
        OdaError::CidMismatch {
            card: 0x40,
            signed: 0x80
        }
    );
    assert_eq!(err.tvr_byte1(OdaMethod::Cda), tvr_byte1::CDA_FAILED);

    let mut td = case.transaction_data.clone();
    td[0] ^= 1;
    assert_eq!(
        verify_cda(
            &icc,
            &CdaInput {
                transaction_data: &td,
                ..input
            }
        )
        .unwrap_err(),
        OdaError::TransactionDataHash
    );
    assert_eq!(
        verify_cda(
            &icc,
            &CdaInput {
                unpredictable_number: &[0; 4],
                ..input
            }
        )
        .unwrap_err(),
        OdaError::Signature {
            what: Signed::DynamicData
        }
    );
    let mut sdad = case.sdad.clone();
    sdad[0] ^= 0x01;
    assert!(
        verify_cda(
            &icc,
            &CdaInput {
                sdad: &sdad,
                ..input
            }
        )
        .is_err()
    );
    // A DDA-shaped signature (no CID, cryptogram, hash) is malformed for CDA.
    let short = signed_dynamic_data(&f.pki.icc, &dda_dynamic_data(&[1, 2]), &un).unwrap();
    assert_eq!(
        verify_cda(
            &icc,
            &CdaInput {
                sdad: &short,
                ..input
            }
        )
        .unwrap_err(),
        OdaError::DynamicData
    );
}

#[test]
fn a_pan_other_than_the_certificate_s_fails_icc_recovery() {
    let mut f = rsa_1984();
    // Same issuer identifier (first 6 digits), another account.
    f.card.insert(
        tags::PAN,
        vec![0x62, 0x25, 0x88, 0x01, 0x23, 0x45, 0x67, 0x88],
    );
    assert_eq!(f.icc_key().unwrap_err(), OdaError::PanMismatch);
}
