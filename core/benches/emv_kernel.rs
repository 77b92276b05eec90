//! One contact transaction through the kernel, card I/O excluded (the card is an in-memory
//! recording): selection through the list of AIDs, GPO, two records, CDA with the issuer and ICC
//! keys recovered (1984-bit CA and issuer, 1408-bit ICC, exponent 3), processing restrictions,
//! CVM, risk management, action analysis and the first GENERATE AC with its CDA signature
//! verified. The target is under 1 ms per transaction, RSA included.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use smartpos_core::card::Pan;
use smartpos_core::card::emv::{
    AcceptFirst, CaKeyVerifier, ContactKernel, FirstAcDecision, IccChannel, KernelConfig,
    KernelPorts, NoPinPad, OdaResult, RiskSource, TerminalParams, TransactionData, default_aids,
};
use smartpos_core::card::oda::issuer_pki::{
    RsaTestPki, TestCardDates, cda_dynamic_data, signed_dynamic_data,
};
use smartpos_core::codec::tlv::{self, Tlv};
use smartpos_core::ports::DeviceFault;
use zeroize::Zeroizing;

const AID: [u8; 7] = [0xA0, 0x00, 0x00, 0x09, 0x99, 0x10, 0x10];
const UN: [u8; 4] = [0xDE, 0xAD, 0xBE, 0xEF];

struct Recorded<'a> {
    pairs: &'a [(Vec<u8>, Vec<u8>)],
    used: Vec<bool>,
}

impl IccChannel for Recorded<'_> {
    fn exchange(&mut self, c: &[u8]) -> Result<Zeroizing<Vec<u8>>, DeviceFault> {
        let hit = self
            .pairs
            .iter()
            .enumerate()
            .find(|(i, (rc, _))| !self.used[*i] && c.starts_with(rc));
        Ok(Zeroizing::new(match hit {
            Some((i, (_, r))) => {
                self.used[i] = true;
                r.clone()
            }
            None => vec![0x6A, 0x82],
        }))
    }
}

struct NoRisk;

impl RiskSource for NoRisk {
    fn random_percent(&mut self) -> u8 {
        99
    }
    fn on_exception_file(&self, _: &Pan) -> bool {
        false
    }
}

fn ok(t: Tlv) -> Vec<u8> {
    let mut v = tlv::encode(&[t]);
    v.extend([0x90, 0x00]);
    v
}

fn p(tag: u32, v: &[u8]) -> Tlv {
    Tlv::primitive(tag, v.to_vec())
}

fn card(pki: &RsaTestPki) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
    let pan = [0x62, 0x22, 0x02, 0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x3F];
    let record = vec![
        p(0x5A, &pan),
        p(0x5F24, &[0x29, 0x12, 0x31]),
        p(0x8C, &[0x9F, 0x02, 0x06, 0x9F, 0x37, 0x04]),
        p(0x8D, &[0x8A, 0x02, 0x9F, 0x37, 0x04]),
        p(0x8E, &[0, 0, 0, 0, 0, 0, 0, 0, 0x1F, 0x00]),
    ];
    let static_data = tlv::encode(&record);
    let mut oda = pki
        .card(&pan, &static_data, TestCardDates::default())
        .ok()?;
    oda.remove(&0x5A);
    let keys = Tlv::constructed(0x70, oda.iter().map(|(t, v)| p(*t, v)).collect());
    let fci = Tlv::constructed(
        0x6F,
        vec![
            p(0x84, &AID),
            Tlv::constructed(0xA5, vec![p(0x50, b"TEST")]),
        ],
    );
    let objs = [p(0x9F27, &[0x80]), p(0x9F36, &[0, 1])];
    let mut tx = vec![0, 0, 0, 1, 0, 0];
    tx.extend(UN);
    tx.extend(tlv::encode(&objs));
    let dynamic = cda_dynamic_data(&[9, 9, 9, 9], 0x80, [0xA5; 8], &tx);
    let sdad = signed_dynamic_data(&pki.icc, &dynamic, &UN).ok()?;
    let mut gen_ac = objs.to_vec();
    gen_ac.push(p(0x9F4B, &sdad));
    let mut select = vec![0x00, 0xA4, 0x04, 0x00, 0x07];
    select.extend(AID);
    Some(vec![
        (vec![0x00, 0xA4, 0x04, 0x00, 0x0E], vec![0x6A, 0x82]),
        (select.clone(), ok(fci.clone())),
        (select, ok(fci)),
        (
            vec![0x80, 0xA8],
            vec![
                0x80, 0x0A, 0x19, 0x00, 0x08, 1, 1, 1, 0x10, 1, 1, 0, 0x90, 0x00,
            ],
        ),
        (
            vec![0x00, 0xB2, 0x01, 0x0C],
            ok(Tlv::constructed(0x70, record)),
        ),
        (vec![0x00, 0xB2, 0x01, 0x14], ok(keys)),
        (vec![0x80, 0xAE, 0x90], ok(Tlv::constructed(0x77, gen_ac))),
    ])
}

fn bench(c: &mut Criterion) {
    let Ok(pki) = RsaTestPki::rsa_1984() else {
        return;
    };
    let Some(pairs) = card(&pki) else {
        return;
    };
    let mut aid = default_aids().remove(0);
    aid.aid = AID.to_vec();
    let config = KernelConfig {
        terminal: TerminalParams::unionpay_attended(),
        aids: vec![aid],
    };
    let verifier = CaKeyVerifier {
        ca_keys: pki.ca_table(),
        ..CaKeyVerifier::default()
    };
    let txn = TransactionData {
        amount_fen: 10_000,
        other_amount_fen: 0,
        transaction_type: 0,
        date: [0x26, 0x12, 0x04],
        time: [0x10, 0, 0],
        unpredictable_number: UN,
        sequence_counter: 1,
        merchant_forced_online: false,
    };
    // The recording must take the whole path (CDA verified, ARQC) or the figure means nothing.
    let run = || {
        let mut channel = Recorded {
            pairs: &pairs,
            used: vec![false; pairs.len()],
        };
        let ports = KernelPorts {
            chooser: &mut AcceptFirst,
            cvm: &mut NoPinPad,
            oda: &verifier,
            risk: &mut NoRisk,
        };
        ContactKernel::start(&config, black_box(txn.clone()), &mut channel, ports)
    };
    let (k, d) = run();
    let s = k.snapshot();
    if !matches!(d, FirstAcDecision::Online(_)) || s.oda_result != OdaResult::Ok {
        eprintln!("the bench card did not complete CDA and go online: {s:?}");
        return;
    }
    c.bench_function("emv_contact_transaction_cda_rsa1984", |b| {
        b.iter(|| {
            let (k, d) = run();
            black_box((k.snapshot(), d))
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
