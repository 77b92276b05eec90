//! The ISO 8583 codec on the path of every online transaction: packing and unpacking a UnionPay
//! IC sale, and computing its field-64 MAC input and MAC.

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, criterion_group};
use smartpos_core::codec::iso8583::{CUPS, Message, mac_input};
use smartpos_core::codec::tlv::{self, Tlv};
use smartpos_core::crypto::{KeyAlgorithm, MacAlgorithm, SecretKey, compute_mac};

/// Field 55 of an IC sale as a UnionPay terminal sends it after GENERATE AC: the tags the
/// UnionPay IC card specification asks for, with issuer application data sized so the field is
/// 150 bytes, a typical length.
fn icc_data() -> Vec<u8> {
    let h = |s: &str| hex::decode(s).unwrap_or_default();
    let mut objects = vec![
        Tlv::primitive(0x9F26, h("A1B2C3D4E5F60708")),
        Tlv::primitive(0x9F27, h("80")),
        Tlv::primitive(0x9F37, h("1A2B3C4D")),
        Tlv::primitive(0x9F36, h("0012")),
        Tlv::primitive(0x95, h("0080046000")),
        Tlv::primitive(0x9A, h("250614")),
        Tlv::primitive(0x9C, h("00")),
        Tlv::primitive(0x9F02, h("000000012345")),
        Tlv::primitive(0x5F2A, h("0156")),
        Tlv::primitive(0x82, h("7C00")),
        Tlv::primitive(0x9F1A, h("0156")),
        Tlv::primitive(0x9F03, h("000000000000")),
        Tlv::primitive(0x9F33, h("E0E1C8")),
        Tlv::primitive(0x9F34, h("420300")),
        Tlv::primitive(0x9F35, h("22")),
        Tlv::primitive(0x9F1E, b"12345678".to_vec()),
        Tlv::primitive(0x84, h("A000000333010101")),
        Tlv::primitive(0x9F09, h("0030")),
        Tlv::primitive(0x9F41, h("00000123")),
    ];
    let rest = tlv::encode(&objects).len();
    // 9F10 takes whatever brings the field to 150 bytes: 2 tag bytes, 1 length byte, the value.
    let iad_len = 150usize.saturating_sub(rest + 3);
    objects.insert(2, Tlv::primitive(0x9F10, vec![0x07; iad_len]));
    tlv::encode(&objects)
}

fn ic_sale() -> Message {
    let mut m = Message::new("0200");
    m.set_digits(2, "6222021234567890123");
    m.set_digits(3, "000000");
    m.set_digits(4, "000000012345");
    m.set_digits(11, "000123");
    m.set_digits(14, "2512");
    m.set_digits(22, "051");
    m.set_digits(23, "001");
    m.set_digits(25, "00");
    m.set_digits(26, "12");
    m.set_digits(35, "6222021234567890123D25122010000000000");
    m.set_text(41, "10000001");
    m.set_text(42, "898310048140001");
    m.set_text(49, "156");
    m.set_bytes(52, vec![0x5A; 8]);
    m.set_digits(53, "2600000000000000");
    m.set_bytes(55, icc_data());
    m.set_digits(60, "22000001000500");
    m.set_bytes(64, vec![0; 8]);
    m
}

fn bench(c: &mut Criterion) {
    let sale = ic_sale();
    let Ok(packed) = CUPS.pack(&sale) else {
        eprintln!("the IC sale does not pack; nothing to measure");
        return;
    };
    let Ok(mak) = SecretKey::from_hex(KeyAlgorithm::Tdes, "0123456789ABCDEFFEDCBA9876543210")
    else {
        return;
    };
    // The peers (scripts/bench-peers) unpack and pack these very bytes.
    assert_eq!(
        hex::encode_upper(&packed),
        include_str!("../../bench/peers/ic_sale.hex").trim(),
        "bench/peers/ic_sale.hex is the body this bench packs"
    );
    eprintln!(
        "IC sale: {} bytes packed, field 55 {} bytes",
        packed.len(),
        sale.bytes(55).map_or(0, <[u8]>::len),
    );
    c.bench_function("pack_ic_sale", |b| b.iter(|| CUPS.pack(black_box(&sale))));
    // The receive path: fields located in place, nothing allocated.
    c.bench_function("unpack_ic_sale", |b| {
        b.iter(|| CUPS.view(black_box(&packed)).map(|v| v.has(55)))
    });
    // An owned message for code that keeps or edits what it received (one allocation per field).
    c.bench_function("unpack_owned_ic_sale", |b| {
        b.iter(|| CUPS.unpack(black_box(&packed)))
    });
    c.bench_function("mac_ic_sale", |b| {
        b.iter(|| {
            mac_input(black_box(&sale))
                .ok()
                .map(|input| compute_mac(MacAlgorithm::CupEcb, &mak, &input))
        })
    });
    // The answer's check: read in place, MAC over the bytes as received (no re-encoding).
    c.bench_function("view_and_mac_received_ic_sale", |b| {
        b.iter(|| {
            CUPS.view(black_box(&packed)).ok().and_then(|v| {
                v.mac_scope()
                    .map(|(input, _tag)| compute_mac(MacAlgorithm::CupEcb, &mak, input))
            })
        })
    });
}

/// Min and median ns per call over `batches` batches of `per` calls: the figures the peers in
/// `bench/peers` print, and the minimum is what a shared, loaded machine still measures well.
fn batches(per: usize, op: &mut dyn FnMut()) -> (f64, f64) {
    let mut samples: Vec<f64> = (0..200)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..per {
                op();
            }
            t.elapsed().as_nanos() as f64 / per as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    (samples[0], samples[samples.len() / 2])
}

/// `SMARTPOS_BENCH_BATCHES=1 cargo bench --bench iso8583`: one line in the peers' format instead
/// of criterion's run (scripts/bench-peers prints both).
fn peer_line() {
    let sale = ic_sale();
    let Ok(packed) = CUPS.pack(&sale) else {
        eprintln!("the IC sale does not pack; nothing to measure");
        return;
    };
    let (unpack_min, unpack_median) = batches(2000, &mut || {
        black_box(CUPS.view(black_box(&packed)).map(|v| v.has(55)).ok());
    });
    let (pack_min, pack_median) = batches(2000, &mut || {
        black_box(CUPS.pack(black_box(&sale)).ok());
    });
    println!(
        "core unpack_min_ns={unpack_min:.0} unpack_median_ns={unpack_median:.0} \
         pack_min_ns={pack_min:.0} pack_median_ns={pack_median:.0} bytes={}",
        packed.len()
    );
}

criterion_group!(benches, bench);

fn main() {
    if std::env::var_os("SMARTPOS_BENCH_BATCHES").is_some() {
        peer_line();
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
