//! No input makes ODA panic: arbitrary card data objects, signatures and kernel-built inputs
//! end in a typed error (or, by chance, a pass), never a crash.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use proptest::prelude::*;

use super::issuer_pki::{RsaTestPki, TestCardDates};
use super::*;

struct Shared {
    pki: RsaTestPki,
    table: CaKeyTable,
    icc: IccPublicKey,
}

/// Made once: RSA private operations are slow in a debug build.
fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| {
        let pki = RsaTestPki::rsa_1152().unwrap();
        let mut table = CaKeyTable::production().unwrap();
        table
            .insert(pki.ca.ca_public_key(pki.rid, pki.ca_index))
            .unwrap();
        let pan = [0x62, 0x25, 0x88, 0x01, 0x23, 0x45, 0x67, 0x89];
        let good = pki.card(&pan, b"s", TestCardDates::default()).unwrap();
        let crl = RevocationList::new();
        let terminal = OdaTerminal {
            ca_keys: &table,
            revocations: &crl,
            transaction_date: [0x26, 0x12, 0x04],
        };
        let issuer = recover_issuer_key(&terminal, pki.rid, &good).unwrap();
        let icc = recover_icc_key(&terminal, &issuer, &good, b"s").unwrap();
        Shared { pki, table, icc }
    })
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..max)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_card_data_never_panics(
        index in any::<u8>(),
        cert in bytes(300),
        remainder in bytes(64),
        exponent in bytes(10),
        ssad in bytes(300),
        icc_cert in bytes(300),
        pan in bytes(12),
        sdad in bytes(300),
    ) {
        let Shared { pki, table, icc } = shared();
        let crl = RevocationList::new();
        let terminal = OdaTerminal {
            ca_keys: table,
            revocations: &crl,
            transaction_date: [0x26, 0x12, 0x04],
        };
        let mut card = BTreeMap::new();
        card.insert(tags::CA_PUBLIC_KEY_INDEX, vec![index]);
        card.insert(tags::ISSUER_PK_CERTIFICATE, cert);
        card.insert(tags::ISSUER_PK_REMAINDER, remainder);
        card.insert(tags::ISSUER_PK_EXPONENT, exponent);
        card.insert(tags::SIGNED_STATIC_DATA, ssad);
        card.insert(tags::ICC_PK_CERTIFICATE, icc_cert);
        card.insert(tags::PAN, pan);
        for rid in [pki.rid, [0xA0, 0, 0, 3, 0x33]] {
            let _ = verify_sda(&terminal, rid, &card, b"static");
            let _ = sm2_verify_sda(&terminal, rid, &card, b"static");
        }
        // A genuine ICC key with an arbitrary SDAD.
        let _ = verify_dda(icc, &sdad, &[1, 2, 3, 4]);
        let cda = CdaInput {
            sdad: &sdad,
            cid: 0x80,
            unpredictable_number: &[0; 4],
            transaction_data: &[],
        };
        let _ = verify_cda(icc, &cda);
        let sm2_key = Sm2PublicKey { point: vec![1; 64], expiry_mmyy: [0; 2], serial: [0; 3] };
        let _ = sm2_verify_dda(&sm2_key, &sdad, &[]);
    }

    #[test]
    fn arbitrary_kernel_inputs_never_panic(
        template in bytes(200),
        record in bytes(80),
        sfi in 0u8..32,
        list in bytes(4),
    ) {
        let _ = cda_transaction_data(&[1], &[&[2]], &template);
        let records = [OdaRecord { sfi, record: &record }];
        let _ = static_data_to_authenticate(&records, Some(&list), Some(&[0x7C, 0]));
    }
}
