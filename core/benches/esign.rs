//! An electronic signature on the path of a signed sale: the fixture signature (213 samples,
//! three strokes, a 1000x400 pad) rendered to the 384x128 acquirer raster and compressed as
//! JBIG1, and the JBIG decode the acquirer side runs.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use smartpos_core::esign::{self, JbigOptions, Strokes};

const SIGNATURE: &str = include_str!("../src/esign/fixtures/signature.json");

fn bench(c: &mut Criterion) {
    let Ok(strokes) = Strokes::from_json(SIGNATURE) else {
        return;
    };
    let render = |s: &Strokes| {
        esign::render(
            s,
            esign::DEFAULT_WIDTH,
            esign::DEFAULT_HEIGHT,
            esign::DEFAULT_PEN,
        )
    };
    c.bench_function("esign_render_and_jbig", |b| {
        b.iter(|| {
            render(black_box(&strokes)).map(|img| esign::encode_jbig(&img, &JbigOptions::default()))
        })
    });
    let Ok(img) = render(&strokes) else {
        return;
    };
    c.bench_function("esign_render", |b| b.iter(|| render(black_box(&strokes))));
    let jbig = esign::encode_jbig(&img, &JbigOptions::default());
    c.bench_function("esign_jbig_decode", |b| {
        b.iter(|| esign::decode_jbig(black_box(&jbig)))
    });
    #[cfg(feature = "slip-png")]
    c.bench_function("esign_png", |b| b.iter(|| esign::to_png(black_box(&img))));
}

criterion_group!(benches, bench);
criterion_main!(benches);
