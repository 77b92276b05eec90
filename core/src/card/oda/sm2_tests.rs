use super::*;

#[test]
fn sm3_matches_gbt_32905_examples() {
    // GB/T 32905-2016 (GM/T 0004-2012) appendix A: example 1 "abc", example 2 "abcd" x 16.
    assert_eq!(
        hex::encode(sm3_digest(&[b"abc"])),
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    );
    assert_eq!(
        hex::encode(sm3_digest(&[b"abcd".repeat(16).as_slice()])),
        "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
    );
}

/// GB/T 32918.5-2017 (GM/T 0003.5) appendix: signature example on the recommended curve,
/// user id "1234567812345678", message "message digest" (also verified with gmssl 3.2.2
/// `CryptSM2.verify_with_sm3`).
const GBT_PUBLIC: &str = concat!(
    "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020",
    "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
);
const GBT_SIGNATURE: &str = concat!(
    "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3",
    "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA"
);

#[test]
fn sm2_verifies_the_published_signature_example() {
    let point = hex::decode(GBT_PUBLIC).unwrap();
    let sig = hex::decode(GBT_SIGNATURE).unwrap();
    assert!(sm2_verify(&point, &[b"message ", b"digest"], &sig));
    assert!(!sm2_verify(&point, &[b"message digesT"], &sig));
    let mut bad = sig.clone();
    bad[10] ^= 1;
    assert!(!sm2_verify(&point, &[b"message digest"], &bad));
    // Malformed keys and signatures are a plain "no", never a panic.
    assert!(!sm2_verify(&point[..63], &[b"message digest"], &sig));
    assert!(!sm2_verify(&[0u8; 64], &[b"message digest"], &sig));
    assert!(!sm2_verify(&point, &[b"message digest"], &[0u8; 64]));
}

mod certificates {
    //! The PBOC SM2 certificate logic against certificates made with the `sm2` crate's
    //! signing (`issuer_pki`), including one flipped byte, expiry and revocation.

    use std::collections::BTreeMap;

    use super::super::super::issuer_pki::{
        Sm2Signer, dda_dynamic_data, issuer_identifier, sm2_icc_certificate,
        sm2_issuer_certificate, sm2_signed_dynamic_data, sm2_signed_static_data,
    };
    use super::super::super::{CaKeyTable, OdaMethod, RevocationList, tvr_byte1};
    use super::*;

    const RID: Rid = [0xA0, 0x00, 0x00, 0x03, 0x33];
    const CA_INDEX: u8 = 0xE1;
    const PAN: [u8; 8] = [0x62, 0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x34];
    const STATIC_DATA: &[u8] = b"\x5F\x24\x03\x30\x12\x31\x9F\x07\x02\xFF\x00";
    const DDOL: [u8; 4] = [0xDE, 0xAD, 0xBE, 0xEF];

    struct Pki {
        issuer: Sm2Signer,
        icc: Sm2Signer,
        table: CaKeyTable,
        crl: RevocationList,
        card: BTreeMap<u32, Vec<u8>>,
    }

    fn pki(issuer_expiry: [u8; 2], icc_expiry: [u8; 2]) -> Pki {
        let ca = Sm2Signer::from_scalar(&[0x11; 32]).unwrap();
        let issuer = Sm2Signer::from_scalar(&[0x22; 32]).unwrap();
        let icc = Sm2Signer::from_scalar(&[0x33; 32]).unwrap();
        let mut table = CaKeyTable::new();
        table.insert(ca.ca_public_key(RID, CA_INDEX)).unwrap();
        let mut card = BTreeMap::new();
        card.insert(tags::PAN, PAN.to_vec());
        card.insert(tags::CA_PUBLIC_KEY_INDEX, vec![CA_INDEX]);
        card.insert(
            tags::ISSUER_PK_CERTIFICATE,
            sm2_issuer_certificate(
                &ca,
                &issuer.point(),
                issuer_identifier(&PAN, 8),
                issuer_expiry,
                [0, 0, 7],
            )
            .unwrap(),
        );
        card.insert(
            tags::ICC_PK_CERTIFICATE,
            sm2_icc_certificate(
                &issuer,
                &icc.point(),
                &PAN,
                icc_expiry,
                [0, 0, 8],
                STATIC_DATA,
            )
            .unwrap(),
        );
        card.insert(
            tags::SIGNED_STATIC_DATA,
            sm2_signed_static_data(&issuer, [0x5D, 0xAC], STATIC_DATA).unwrap(),
        );
        Pki {
            issuer,
            icc,
            table,
            crl: RevocationList::new(),
            card,
        }
    }

    fn valid() -> Pki {
        pki([0x12, 0x30], [0x06, 0x29])
    }

    impl Pki {
        fn terminal(&self) -> OdaTerminal<'_> {
            OdaTerminal {
                ca_keys: &self.table,
                revocations: &self.crl,
                transaction_date: [0x26, 0x12, 0x04],
            }
        }

        fn icc_key(&self) -> Result<Sm2PublicKey, OdaError> {
            let issuer = sm2_recover_issuer_key(&self.terminal(), RID, &self.card)?;
            sm2_recover_icc_key(&self.terminal(), &issuer, &self.card, STATIC_DATA)
        }
    }

    #[test]
    fn the_ca_entry_has_an_sm3_checksum() {
        let p = valid();
        let key = p.table.get(RID, CA_INDEX).unwrap();
        assert_eq!(key.checksum.len(), 32);
        assert_eq!(key.modulus.len(), 64);
    }

    #[test]
    fn sda_and_dda_verify() {
        let p = valid();
        assert_eq!(
            sm2_verify_sda(&p.terminal(), RID, &p.card, STATIC_DATA).unwrap(),
            [0x5D, 0xAC]
        );
        let icc = p.icc_key().unwrap();
        assert_eq!(icc.point, p.icc.point());
        assert_eq!(icc.serial, [0, 0, 8]);
        let sdad =
            sm2_signed_dynamic_data(&p.icc, &dda_dynamic_data(&[9, 8, 7, 6]), &DDOL).unwrap();
        assert_eq!(sm2_verify_dda(&icc, &sdad, &DDOL).unwrap(), [9, 8, 7, 6]);
        let err = sm2_verify_dda(&icc, &sdad, &[0; 4]).unwrap_err();
        assert_eq!(err.tvr_byte1(OdaMethod::Sm2Dda), tvr_byte1::DDA_FAILED);
        // Signed by the issuer instead of the card: not the ICC's signature.
        let forged =
            sm2_signed_dynamic_data(&p.issuer, &dda_dynamic_data(&[9, 8, 7, 6]), &DDOL).unwrap();
        assert!(sm2_verify_dda(&icc, &forged, &DDOL).is_err());
    }

    #[test]
    fn one_flipped_byte_fails() {
        for (tag, at) in [
            (tags::ISSUER_PK_CERTIFICATE, 0),
            (tags::ISSUER_PK_CERTIFICATE, 20),
            (tags::ISSUER_PK_CERTIFICATE, 100),
            (tags::SIGNED_STATIC_DATA, 2),
            (tags::SIGNED_STATIC_DATA, 40),
        ] {
            let mut p = valid();
            if let Some(v) = p.card.get_mut(&tag) {
                v[at] ^= 0x01;
            }
            let err = sm2_verify_sda(&p.terminal(), RID, &p.card, STATIC_DATA).unwrap_err();
            assert_eq!(
                err.tvr_byte1(OdaMethod::Sm2Sda),
                tvr_byte1::SDA_FAILED,
                "{tag:X}@{at}: {err:?}"
            );
        }
        let mut p = valid();
        if let Some(v) = p.card.get_mut(&tags::ICC_PK_CERTIFICATE) {
            v[30] ^= 0x01;
        }
        assert_eq!(
            p.icc_key().unwrap_err(),
            OdaError::Signature {
                what: Signed::IccCertificate
            }
        );
        let p = valid();
        let issuer = sm2_recover_issuer_key(&p.terminal(), RID, &p.card).unwrap();
        assert!(sm2_recover_icc_key(&p.terminal(), &issuer, &p.card, &STATIC_DATA[1..]).is_err());
    }

    #[test]
    fn expired_revoked_and_missing() {
        let p = pki([0x11, 0x26], [0x06, 0x29]);
        assert!(matches!(
            sm2_recover_issuer_key(&p.terminal(), RID, &p.card).unwrap_err(),
            OdaError::Expired {
                what: Signed::IssuerCertificate,
                ..
            }
        ));
        let p = pki([0x12, 0x30], [0x06, 0x25]);
        assert!(matches!(
            p.icc_key().unwrap_err(),
            OdaError::Expired {
                what: Signed::IccCertificate,
                ..
            }
        ));
        let mut p = valid();
        p.crl.revoke(RID, CA_INDEX, [0, 0, 7]);
        assert_eq!(
            sm2_verify_sda(&p.terminal(), RID, &p.card, STATIC_DATA).unwrap_err(),
            OdaError::Revoked { serial: [0, 0, 7] }
        );
        let mut p = valid();
        p.card.remove(&tags::SIGNED_STATIC_DATA);
        let err = sm2_verify_sda(&p.terminal(), RID, &p.card, STATIC_DATA).unwrap_err();
        assert_eq!(err.tvr_byte1(OdaMethod::Sm2Sda), 0x60);
        // An RSA key under the same RID and index is not an SM2 CA key.
        let p = valid();
        let mut rsa_only = CaKeyTable::production().unwrap();
        rsa_only.remove(RID, CA_INDEX);
        let terminal = OdaTerminal {
            ca_keys: &rsa_only,
            ..p.terminal()
        };
        assert_eq!(
            sm2_recover_issuer_key(&terminal, RID, &p.card).unwrap_err(),
            OdaError::CaKeyMissing {
                rid: RID,
                index: CA_INDEX
            }
        );
    }

    #[test]
    fn malformed_signed_data_is_an_error_not_a_panic() {
        let p = valid();
        let icc = p.icc_key().unwrap();
        for sdad in [
            vec![],
            vec![0x15],
            vec![0x15, 0x04, 0x09, 1, 2],
            [vec![0x15, 0x04, 0xFF], vec![0; 64]].concat(),
            [vec![0x16, 0x04, 0x00], vec![0; 64]].concat(),
        ] {
            assert!(sm2_verify_dda(&icc, &sdad, &DDOL).is_err());
        }
        let mut p = valid();
        p.card.insert(tags::ISSUER_PK_CERTIFICATE, vec![0x12; 80]);
        assert!(sm2_recover_issuer_key(&p.terminal(), RID, &p.card).is_err());
    }
}
