//! Offline data authentication through the kernel, with cards made under the test PKI of
//! `card::oda::issuer_pki` (the CA key in the terminal's table): SDA, DDA and CDA verified, and
//! a flipped certificate byte setting the method's TVR bit (Book 3 §10.3, Annex C5).

use super::channel::script::ScriptedCard;
use super::*;
use crate::card::Pan;
use crate::card::oda::issuer_pki::{RsaTestPki, TestCardDates};
use crate::card::oda::issuer_pki::{cda_dynamic_data, dda_dynamic_data, signed_dynamic_data};
use crate::codec::tlv::{self, Tlv};
use crate::crypto::{OfflinePinRequest, OfflinePinResult};
use crate::ports::DeviceFault;

const AID: &str = "A0000009991010";
const PAN: &str = "6222021234567890123F";
const UN: [u8; 4] = [0xDE, 0xAD, 0xBE, 0xEF];

fn p(tag: u32, v: &[u8]) -> Tlv {
    Tlv::primitive(tag, v.to_vec())
}

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

fn enc(t: Tlv) -> Vec<u8> {
    tlv::encode(&[t])
}

fn ok(mut v: Vec<u8>) -> String {
    v.extend([0x90, 0x00]);
    hex::encode_upper(v)
}

struct Card {
    pairs: Vec<(String, String)>,
    pki: RsaTestPki,
}

/// The ODA record (SFI 1) and the key record (SFI 2) for `aip`; `flip` damages the issuer
/// certificate.
fn make_card(aip: u8, flip: bool) -> Card {
    let pki = RsaTestPki::rsa_1152().unwrap();
    let oda_record = vec![
        p(0x5A, &h(PAN)),
        p(0x5F24, &h("291231")),
        p(0x5F34, &h("01")),
        p(0x8C, &h("9F02069F3704")),
        p(0x8D, &h("8A029F3704")),
        p(0x8E, &h("00000000000000001F00")),
    ];
    let r1 = enc(Tlv::constructed(0x70, oda_record.clone()));
    let static_data = tlv::encode(&oda_record);
    let mut oda = pki
        .card(&h(PAN), &static_data, TestCardDates::default())
        .unwrap();
    oda.remove(&0x5A);
    if let Some(c) = oda.get_mut(&0x90).filter(|_| flip) {
        c[20] ^= 0x01;
    }
    let r2 = enc(Tlv::constructed(
        0x70,
        oda.iter().map(|(t, v)| p(*t, v)).collect(),
    ));
    let fci = enc(Tlv::constructed(
        0x6F,
        vec![
            p(0x84, &h(AID)),
            Tlv::constructed(0xA5, vec![p(0x50, b"TEST")]),
        ],
    ));
    let gpo = vec![
        0x80, 0x0A, aip, 0x00, 0x08, 0x01, 0x01, 0x01, 0x10, 0x01, 0x01, 0x00,
    ];
    let pairs = vec![
        ("00A404000E".into(), "6A82".into()),
        (format!("00A4040007{AID}"), ok(fci.clone())),
        (format!("00A4040007{AID}"), ok(fci)),
        ("80A8000002830000".into(), ok(gpo)),
        ("00B2010C".into(), ok(r1)),
        ("00B20114".into(), ok(r2)),
    ];
    Card { pairs, pki }
}

fn config() -> KernelConfig {
    let mut a = default_aids().remove(0);
    a.aid = h(AID);
    a.floor_limit_fen = 0;
    KernelConfig {
        terminal: TerminalParams::unionpay_attended(),
        aids: vec![a],
    }
}

struct Nothing;

impl CvmHandler for Nothing {
    fn online_pin(&mut self, _: &Pan, _: u64) -> Result<OnlinePinEntry, DeviceFault> {
        Ok(OnlinePinEntry::Entered)
    }
    fn offline_pin(&mut self, _: &OfflinePinRequest) -> Result<OfflinePinResult, DeviceFault> {
        Ok(OfflinePinResult::Bypassed)
    }
}

impl RiskSource for Nothing {
    fn random_percent(&mut self) -> u8 {
        99
    }
    fn on_exception_file(&self, _: &Pan) -> bool {
        false
    }
}

fn run(card: &Card, extra: &[(String, String)]) -> (ContactKernel, FirstAcDecision) {
    let mut pairs = card.pairs.clone();
    pairs.extend_from_slice(extra);
    let refs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(c, r)| (c.as_str(), r.as_str()))
        .collect();
    let mut sc = ScriptedCard::new(&refs);
    let verifier = CaKeyVerifier {
        ca_keys: card.pki.ca_table(),
        ..CaKeyVerifier::default()
    };
    let mut cvm = Nothing;
    let mut risk = Nothing;
    let ports = KernelPorts {
        chooser: &mut AcceptFirst,
        cvm: &mut cvm,
        oda: &verifier,
        risk: &mut risk,
    };
    let txn = TransactionData {
        amount_fen: 10_000,
        other_amount_fen: 0,
        transaction_type: 0,
        date: [0x26, 0x12, 0x04],
        time: [0; 3],
        unpredictable_number: UN,
        sequence_counter: 1,
        merchant_forced_online: false,
    };
    ContactKernel::start(&config(), txn, &mut sc, ports)
}

fn arqc() -> (String, String) {
    let r = enc(Tlv::constructed(
        0x77,
        vec![p(0x9F27, &[0x80]), p(0x9F36, &[0, 1]), p(0x9F26, &[7; 8])],
    ));
    ("80AE8000".into(), ok(r))
}

/// AIP 58: SDA, CVM, TRM. SDA verifies: "SDA selected" only; a flipped byte: "SDA failed".
#[test]
fn sda_ok_and_flipped() {
    let (k, d) = run(&make_card(0x58, false), &[arqc()]);
    assert!(matches!(d, FirstAcDecision::Online(_)), "{d:?}");
    let s = k.snapshot();
    assert_eq!(
        (s.oda_method, s.oda_result),
        (OdaMethod::Sda, OdaResult::Ok)
    );
    assert_eq!(s.tvr.0[0], 0x02);
    assert_eq!(s.tsi.0[0] & 0x80, 0x80);
    let (k, _) = run(&make_card(0x58, true), &[arqc()]);
    let s = k.snapshot();
    assert_eq!(
        (s.oda_method, s.oda_result),
        (OdaMethod::Sda, OdaResult::Failed)
    );
    assert_eq!(s.tvr.0[0], 0x42);
}

/// AIP 38: DDA. INTERNAL AUTHENTICATE with the default DDOL (9F37): the SDAD signs the UN.
#[test]
fn dda_ok_and_flipped() {
    let card = make_card(0x38, false);
    let sdad = signed_dynamic_data(&card.pki.icc, &dda_dynamic_data(&[1, 2, 3, 4]), &UN).unwrap();
    let ia = ("00880000".to_string(), ok(enc(p(0x80, &sdad))));
    let (k, _) = run(&card, &[ia.clone(), arqc()]);
    let s = k.snapshot();
    assert_eq!(
        (s.oda_method, s.oda_result),
        (OdaMethod::Dda, OdaResult::Ok)
    );
    assert_eq!(s.tvr.0[0], 0x00);
    let (k, _) = run(&make_card(0x38, true), &[ia, arqc()]);
    assert_eq!(k.snapshot().tvr.0[0], 0x08);
}

/// AIP 19: CDA. The ARQC comes inside the signature; the kernel recovers it (Book 2 §6.6).
#[test]
fn cda_recovers_the_cryptogram() {
    let card = make_card(0x19, false);
    let objs = [p(0x9F27, &[0x80]), p(0x9F36, &[0, 1])];
    let head = tlv::encode(&objs);
    // PDOL values (none), CDOL1 values (amount, UN), then the answer's objects but 9F4B.
    let mut tx = h("000000010000");
    tx.extend(UN);
    tx.extend(&head);
    let ac = [0xA5; 8];
    let dynamic = cda_dynamic_data(&[9, 9, 9, 9], 0x80, ac, &tx);
    let sdad = signed_dynamic_data(&card.pki.icc, &dynamic, &UN).unwrap();
    let mut all = objs.to_vec();
    all.push(p(0x9F4B, &sdad));
    let resp = ("80AE9000".to_string(), ok(enc(Tlv::constructed(0x77, all))));
    let (k, d) = run(&card, &[resp]);
    assert!(matches!(d, FirstAcDecision::Online(_)), "{d:?}");
    let s = k.snapshot();
    assert_eq!(
        (s.oda_method, s.oda_result),
        (OdaMethod::Cda, OdaResult::Ok)
    );
    assert_eq!(s.acs[0].cryptogram, ac);
    assert_eq!(s.tvr.0[0], 0x00);
    // A flipped issuer certificate: no ICC key, CDA failed, CDA not requested.
    let (k, _) = run(&make_card(0x19, true), &[arqc()]);
    let s = k.snapshot();
    assert_eq!(s.tvr.0[0], 0x04);
    assert_eq!(s.acs.len(), 1);
}
