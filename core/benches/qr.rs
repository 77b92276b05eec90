//! The QR codecs on the path of every QR sale: making the dynamic merchant-presented payload a
//! terminal shows, and parsing a payload (the EMVCo MPM v1.1 Appendix A example, with a
//! language template in UTF-8).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use smartpos_core::money::Amount;
use smartpos_core::qr::mpm::{self, MerchantQr, UnionPayAccount};

const EMVCO_APPENDIX: &str = "00020101021229300012D156000000000510A93FO3230Q31280012D15600000001\
    030812345678520441115802CN5914BEST TRANSPORT6007BEIJING64200002ZH0104最佳运输0202北京540523.72\
    53031565502016233030412340603***0708A60086670902ME91320016A0112233449988770708123456786304A13A";

fn sale() -> Option<MerchantQr> {
    let account = UnionPayAccount::new("48020000", "48020000", "898310048161234").ok()?;
    let mut qr = MerchantQr::new(
        account,
        "5812",
        Amount::from_fen(1234).ok()?,
        "BEST NOODLES",
        "SHANGHAI",
    );
    qr.bill_number = Some("20260614000123".into());
    qr.terminal_label = Some("T0000001".into());
    Some(qr)
}

fn bench(c: &mut Criterion) {
    let Some(qr) = sale() else {
        return;
    };
    c.bench_function("mpm_make", |b| b.iter(|| black_box(&qr).make()));
    c.bench_function("mpm_parse", |b| {
        b.iter(|| mpm::parse(black_box(EMVCO_APPENDIX)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
