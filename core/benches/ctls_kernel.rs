//! One tap through the contactless entry point and kernel, card I/O excluded (the card is an
//! in-memory recording), ODA included:
//!
//! - `ctls_tap_qvsdc_fdda_visa09`: the real Visa qVSDC tap of `tools/tests/data/emv/
//!   ctls_visa_dkb_qvsdc.json` (MichaelsPlayground/TalkToYourCreditCardPart7, DKB log): PPSE,
//!   SELECT, GPO, three records, issuer and ICC keys recovered under Visa's production CA key
//!   [09] (1984-bit CA, 1408-bit issuer, 1024-bit ICC) and fDDA verified, then online.
//! - `ctls_tap_c2_cda_rsa1984`: a Mastercard C-2 tap built with the test PKI (1984-bit CA and
//!   issuer, 1408-bit ICC): PPSE, SELECT, GPO, two records, CDA key recovery, processing
//!   restrictions, action analysis, GENERATE AC with its CDA signature verified and the ARQC
//!   recovered.
//! - `ctls_tap_c2_cda_real_paypass`: the real PayPass M/Chip tap of `tools/tests/data/emv/
//!   ctls_binaryfoo_mastercard_cda.json` (binaryfoo/emv-bertlv, Mastercard test CA key [EF],
//!   1984-bit CA, 1984-bit issuer, 1152-bit ICC): PPSE (added), SELECT, GPO, six records, CDA
//!   key recovery, CVM selection over the card's list (a signature), action analysis, GENERATE
//!   AC with its CDA signature verified and the TC recovered, approved offline.
//!
//! The target: under 500 µs of kernel CPU per tap on one core.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use smartpos_core::card::ctls::{
    self, CtlsConfig, CtlsOutcome, CtlsPorts, KernelId, UiRequest, default_ctls_aids,
};
use smartpos_core::card::emv::{
    CaKeyVerifier, IccChannel, OdaResult, TerminalParams, TransactionData,
};
use smartpos_core::card::oda::issuer_pki::{
    RsaTestPki, TestCardDates, cda_dynamic_data, signed_dynamic_data,
};
use smartpos_core::card::oda::{CaKeyAlgorithm, CaKeyTable, CaPublicKey};
use smartpos_core::codec::tlv::{self, Tlv};
use smartpos_core::ports::DeviceFault;
use zeroize::Zeroizing;

const DKB: &str = include_str!("../../tools/tests/data/emv/ctls_visa_dkb_qvsdc.json");
const PAYPASS: &str = include_str!("../../tools/tests/data/emv/ctls_binaryfoo_mastercard_cda.json");
const UN: [u8; 4] = [0xDE, 0xAD, 0xBE, 0xEF];

/// Answers by CLA INS P1 P2 from the recording, first unused pair first.
struct Recorded<'a> {
    pairs: &'a [(Vec<u8>, Vec<u8>)],
    used: Vec<bool>,
}

impl IccChannel for Recorded<'_> {
    fn exchange(&mut self, c: &[u8]) -> Result<Zeroizing<Vec<u8>>, DeviceFault> {
        let head = &c[..c.len().min(4)];
        let hit = self
            .pairs
            .iter()
            .enumerate()
            .find(|(i, (rc, _))| !self.used[*i] && rc.get(..4) == Some(head));
        Ok(Zeroizing::new(match hit {
            Some((i, (_, r))) => {
                self.used[i] = true;
                r.clone()
            }
            None => vec![0x6A, 0x82],
        }))
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

fn dkb() -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
    recording(DKB)
}

/// Command heads and answers, in the order recorded.
type Recording = Vec<(Vec<u8>, Vec<u8>)>;

fn recording(json: &str) -> Option<Recording> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    v["apdus"]
        .as_array()?
        .iter()
        .map(|pair| {
            Some((
                hex::decode(pair.get(0)?.as_str()?).ok()?,
                hex::decode(pair.get(1)?.as_str()?).ok()?,
            ))
        })
        .collect()
}

const MC: [u8; 7] = [0xA0, 0x00, 0x00, 0x00, 0x04, 0x10, 0x10];

fn mastercard(pki: &RsaTestPki) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
    let pan = [0x54, 0x13, 0x33, 0x00, 0x00, 0x00, 0x00, 0x27];
    let record = vec![
        p(0x5A, &pan),
        p(0x5F24, &[0x29, 0x12, 0x31]),
        p(0x8C, &[0x9F, 0x02, 0x06, 0x9F, 0x37, 0x04]),
        p(0x8D, &[0x8A, 0x02, 0x9F, 0x37, 0x04]),
        p(0x9F4A, &[0x82]),
    ];
    let aip = [0x19, 0x80];
    let mut static_data = tlv::encode(&record);
    static_data.extend(aip);
    let mut oda = pki
        .card(&pan, &static_data, TestCardDates::default())
        .ok()?;
    oda.remove(&0x5A);
    let keys = Tlv::constructed(0x70, oda.iter().map(|(t, v)| p(*t, v)).collect());
    let ppse = Tlv::constructed(
        0x6F,
        vec![
            p(0x84, b"2PAY.SYS.DDF01"),
            Tlv::constructed(
                0xA5,
                vec![Tlv::constructed(
                    0xBF0C,
                    vec![Tlv::constructed(
                        0x61,
                        vec![p(0x4F, &MC), p(0x87, &[1]), p(0x9F2A, &[2])],
                    )],
                )],
            ),
        ],
    );
    let fci = Tlv::constructed(
        0x6F,
        vec![p(0x84, &MC), Tlv::constructed(0xA5, vec![p(0x50, b"MC")])],
    );
    let gpo = Tlv::constructed(
        0x77,
        vec![p(0x82, &aip), p(0x94, &[0x08, 1, 1, 1, 0x10, 1, 1, 0])],
    );
    let objs = [p(0x9F27, &[0x80]), p(0x9F36, &[0, 1])];
    let mut tx = vec![0, 0, 0, 1, 0, 0];
    tx.extend(UN);
    tx.extend(tlv::encode(&objs));
    let dynamic = cda_dynamic_data(&[9, 9, 9, 9], 0x80, [0xA5; 8], &tx);
    let sdad = signed_dynamic_data(&pki.icc, &dynamic, &UN).ok()?;
    let mut gen_ac = objs.to_vec();
    gen_ac.push(p(0x9F4B, &sdad));
    Some(vec![
        (vec![0x00, 0xA4, 0x04, 0x00], ok(ppse)),
        (vec![0x00, 0xA4, 0x04, 0x00], ok(fci)),
        (vec![0x80, 0xA8, 0x00, 0x00], ok(gpo)),
        (
            vec![0x00, 0xB2, 0x01, 0x0C],
            ok(Tlv::constructed(0x70, record)),
        ),
        (vec![0x00, 0xB2, 0x01, 0x14], ok(keys)),
        (
            vec![0x80, 0xAE, 0x90, 0x00],
            ok(Tlv::constructed(0x77, gen_ac)),
        ),
    ])
}

/// The real PayPass tap with the reader the replay file describes (AUD, terminal type 22,
/// floor limit AUD 200, CVM required limit AUD 100) and the test CA key [EF] it gives.
fn paypass() -> Option<(Recording, CtlsConfig, CaKeyVerifier)> {
    let v: serde_json::Value = serde_json::from_str(PAYPASS).ok()?;
    let key = &v["ca_keys"][0];
    let mut ca_keys = CaKeyTable::production().unwrap_or_default();
    ca_keys
        .insert(CaPublicKey::with_computed_checksum(
            [0xA0, 0x00, 0x00, 0x00, 0x04],
            0xEF,
            CaKeyAlgorithm::Rsa,
            hex::decode(key["modulus"].as_str()?).ok()?,
            vec![3],
            "Mastercard test key EF",
        ))
        .ok()?;
    let mut config = CtlsConfig {
        terminal: TerminalParams::unionpay_attended(),
        aids: default_ctls_aids(),
    };
    config.terminal.country_code = [0x00, 0x36];
    config.terminal.currency_code = [0x00, 0x36];
    config.aids.retain(|a| a.kernel == KernelId::Mastercard);
    for a in &mut config.aids {
        a.floor_limit_fen = 20_000;
        a.cvm_required_limit_fen = 10_000;
        a.contact.application_version = [0x00, 0x02];
    }
    let verifier = CaKeyVerifier {
        ca_keys,
        ..CaKeyVerifier::default()
    };
    Some((recording(PAYPASS)?, config, verifier))
}

fn txn(amount_fen: u64, date: [u8; 3], un: [u8; 4]) -> TransactionData {
    TransactionData {
        amount_fen,
        other_amount_fen: 0,
        transaction_type: 0,
        date,
        time: [0x10, 0, 0],
        unpredictable_number: un,
        sequence_counter: 1,
        merchant_forced_online: false,
    }
}

fn bench_tap(
    c: &mut Criterion,
    name: &str,
    pairs: &[(Vec<u8>, Vec<u8>)],
    config: &CtlsConfig,
    verifier: &CaKeyVerifier,
    txn: &TransactionData,
) {
    let run = || {
        let mut channel = Recorded {
            pairs,
            used: vec![false; pairs.len()],
        };
        let mut ui: Vec<UiRequest> = Vec::new();
        ctls::start(
            config,
            black_box(txn.clone()),
            &mut channel,
            CtlsPorts {
                oda: verifier,
                ui: &mut ui,
            },
        )
    };
    // The recording must take the whole path (ODA verified, online or approved offline) or the
    // figure means nothing.
    let (tap, outcome) = run();
    if !matches!(
        outcome,
        CtlsOutcome::OnlineRequest(_) | CtlsOutcome::Approved(_)
    ) || tap.snapshot().oda_result != OdaResult::Ok
    {
        eprintln!(
            "{name}: the bench card did not verify ODA and decide: {:?}",
            tap.snapshot()
        );
        return;
    }
    c.bench_function(name, |b| {
        b.iter(|| {
            let (tap, outcome) = run();
            black_box((tap.kernel, outcome.code()))
        })
    });
}

fn bench(c: &mut Criterion) {
    let mut config = CtlsConfig {
        terminal: TerminalParams::unionpay_attended(),
        aids: default_ctls_aids(),
    };
    if let Some(pairs) = dkb() {
        config.terminal.country_code = [0x09, 0x78];
        config.terminal.currency_code = [0x09, 0x78];
        let verifier = CaKeyVerifier {
            ca_keys: CaKeyTable::production().unwrap_or_default(),
            ..CaKeyVerifier::default()
        };
        let t = txn(1_000, [0x23, 0x03, 0x01], *b"8901");
        bench_tap(
            c,
            "ctls_tap_qvsdc_fdda_visa09",
            &pairs,
            &config,
            &verifier,
            &t,
        );
    }
    if let Some((pairs, config, verifier)) = paypass() {
        let t = txn(10_001, [0x12, 0x03, 0x15], [0x00, 0x0E, 0xEC, 0x85]);
        bench_tap(
            c,
            "ctls_tap_c2_cda_real_paypass",
            &pairs,
            &config,
            &verifier,
            &t,
        );
    }
    let Ok(pki) = RsaTestPki::rsa_1984() else {
        return;
    };
    let pki = RsaTestPki {
        rid: [0xA0, 0x00, 0x00, 0x00, 0x04],
        ..pki
    };
    let Some(pairs) = mastercard(&pki) else {
        return;
    };
    config.terminal = TerminalParams::unionpay_attended();
    config.aids.retain(|a| a.kernel == KernelId::Mastercard);
    let verifier = CaKeyVerifier {
        ca_keys: pki.ca_table(),
        ..CaKeyVerifier::default()
    };
    let t = txn(10_000, [0x26, 0x12, 0x04], UN);
    bench_tap(c, "ctls_tap_c2_cda_rsa1984", &pairs, &config, &verifier, &t);
}

criterion_group!(benches, bench);
criterion_main!(benches);
