//! Field-64 MACs and PIN block encipherment, the crypto on every online transaction's path.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use smartpos_core::crypto::{ClearPinBlock, KeyAlgorithm, PinBlockFormat, SecretKey, mac};

fn bench(c: &mut Criterion) {
    let Ok(mak) = SecretKey::from_hex(KeyAlgorithm::Tdes, "0123456789ABCDEFFEDCBA9876543210")
    else {
        return;
    };
    let data: Vec<u8> = (0..300u16).map(|i| (i % 251) as u8).collect();
    c.bench_function("cup_ecb_mac_300B", |b| {
        b.iter(|| mac::cup_ecb_mac(black_box(&mak), black_box(&data)))
    });
    c.bench_function("x919_mac_300B", |b| {
        b.iter(|| mac::x919_mac(black_box(&mak), black_box(&data)))
    });
    let rng = smartpos_core::crypto::SystemRandomSource::new();
    c.bench_function("pinblock_iso0_encode_encrypt", |b| {
        b.iter(|| {
            ClearPinBlock::encode(
                PinBlockFormat::Iso0,
                black_box("1234"),
                "4012345678909",
                &rng,
            )
            .and_then(|p| p.encrypt(&mak, "4012345678909"))
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
