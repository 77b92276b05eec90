//! One contact card's RSA work in the kernel: the issuer key recovered under a 1984-bit CA
//! key, the ICC key recovered under the 1984-bit issuer key, and a DDA signature verified with
//! the 1408-bit ICC key (all public exponent 3, as schemes issue them). The target is
//! under 1 ms per transaction including RSA.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use smartpos_core::card::oda::issuer_pki::{
    RsaTestPki, TestCardDates, dda_dynamic_data, signed_dynamic_data,
};
use smartpos_core::card::oda::{
    OdaTerminal, RevocationList, recover_icc_key, recover_issuer_key, verify_dda,
};

const PAN: [u8; 8] = [0x62, 0x25, 0x88, 0x01, 0x23, 0x45, 0x67, 0x89];
const STATIC_DATA: &[u8] = b"\x5F\x24\x03\x30\x12\x31\x7C\x00";
const DDOL_DATA: [u8; 4] = [0x12, 0x34, 0x56, 0x78];

fn bench(c: &mut Criterion) {
    let Ok(pki) = RsaTestPki::rsa_1984() else {
        return;
    };
    let Ok(card) = pki.card(&PAN, STATIC_DATA, TestCardDates::default()) else {
        return;
    };
    let Ok(sdad) = signed_dynamic_data(&pki.icc, &dda_dynamic_data(&[1, 2, 3, 4]), &DDOL_DATA)
    else {
        return;
    };
    let table = pki.ca_table();
    let crl = RevocationList::new();
    let terminal = OdaTerminal {
        ca_keys: &table,
        revocations: &crl,
        transaction_date: [0x26, 0x12, 0x04],
    };
    c.bench_function("oda_issuer_icc_recovery_and_dda_rsa1984", |b| {
        b.iter(|| {
            let issuer = recover_issuer_key(&terminal, pki.rid, black_box(&card)).ok()?;
            let icc = recover_icc_key(&terminal, &issuer, &card, STATIC_DATA).ok()?;
            verify_dda(&icc, black_box(&sdad), &DDOL_DATA).ok()
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
