//! The risk pre-check: a full check with the built-in bundle and a 1,000,000-entry hot list,
//! the hot list's memory, and verifying + loading a signed bundle.

use std::hint::black_box;
use std::time::Instant;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use smartpos_core::risk::{
    Bundle, CardEntry, CardFacts, CardHash, Counters, EnvelopeKind, HotList, Method, RiskContext,
    RiskEngine, Signer, TerminalFacts,
};

const ENTRIES: u64 = 1_000_000;

/// Spread fingerprints over the whole u64 range like HMAC output would (SplitMix64 steps).
fn fingerprint(i: u64) -> CardHash {
    let mut z = i.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    CardHash(z ^ (z >> 31))
}

fn context(hash: CardHash) -> RiskContext {
    RiskContext {
        amount_fen: 12_345,
        method: Method::Card {
            entry: CardEntry::Chip,
        },
        card: Some(CardFacts {
            bin: "621700".into(),
            hash,
            service_code: Some("201".into()),
            expiry_yymm: Some("3012".into()),
            fallback: false,
            luhn_ok: true,
            hot_listed: false,
            atc: Some(11),
            last_online_atc: Some(10),
        }),
        terminal: TerminalFacts {
            unix_time: 1_795_665_600,
            utc_offset_minutes: 480,
            position: None,
            cell_id: None,
            online: true,
            mcc: "5812".into(),
        },
        random_1_99: 50,
        offline_capable: true,
    }
}

fn bench(c: &mut Criterion) {
    let Ok(signer) = Signer::from_seed(&[7u8; 32]) else {
        return;
    };
    let built = Instant::now();
    let list = HotList::from_hashes(1, (0..ENTRIES).map(fingerprint));
    eprintln!(
        "hot list: {} entries, {:.2} MB heap ({} bytes), built in {:?}",
        list.len(),
        list.heap_bytes() as f64 / 1_048_576.0,
        list.heap_bytes(),
        built.elapsed()
    );
    let mut engine = RiskEngine::new(&signer.public_key());
    engine.set_hot_list(list);
    let counters = Counters {
        terminal_day_fen: 1_000_000,
        card_day_fen: 20_000,
        card_window_count: 1,
        terminal_window_count: 12,
        ..Counters::default()
    };
    // A card not on the list (the common case: a full binary search, every rule evaluated).
    let ctx = context(CardHash(0x0123_4567_89AB_CDEF));

    // p99 by timing single checks (Instant overhead, ~20–40 ns, included).
    let mut samples: Vec<u128> = (0..200_000)
        .map(|_| {
            let t = Instant::now();
            black_box(engine.check(black_box(ctx.clone()), black_box(&counters)));
            t.elapsed().as_nanos()
        })
        .collect();
    samples.sort_unstable();
    let pct = |p: f64| samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)];
    eprintln!(
        "pre-check single-shot: p50 {} ns, p99 {} ns, p99.9 {} ns, max {} ns",
        pct(0.50),
        pct(0.99),
        pct(0.999),
        samples[samples.len() - 1]
    );

    c.bench_function("risk_precheck_default_bundle_1M_hotlist", |b| {
        b.iter(|| engine.check(black_box(ctx.clone()), black_box(&counters)))
    });
    let hit = context(fingerprint(123_456));
    c.bench_function("risk_precheck_hot_card", |b| {
        b.iter(|| engine.check(black_box(hit.clone()), black_box(&counters)))
    });

    let mut next = Bundle::built_in();
    next.version = 2;
    let signed = signer.seal(EnvelopeKind::Bundle, next.to_json().as_bytes());
    let pk = signer.public_key();
    c.bench_function("risk_bundle_verify_and_load", |b| {
        b.iter_batched(
            || RiskEngine::new(&pk),
            |mut e| e.load_bundle(black_box(&signed)).map(|_| e),
            BatchSize::SmallInput,
        )
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
