//! Whole transactions against scripted cards: selection to completion.

use proptest::prelude::*;

use super::channel::script::ScriptedCard;
use super::*;
use crate::card::Pan;
use crate::codec::tlv::{self, Tlv};
use crate::crypto::{OfflinePinRequest, OfflinePinResult};
use crate::ports::DeviceFault;

fn p(tag: u32, hex_value: &str) -> Tlv {
    Tlv::primitive(tag, hex::decode(hex_value).unwrap())
}

fn enc(t: Tlv) -> String {
    hex::encode_upper(tlv::encode(&[t]))
}

const AID: &str = "A000000333010101";

fn fci() -> String {
    let a5 = Tlv::constructed(
        0xA5,
        vec![
            p(0x50, "5550204445424954"),
            p(0x87, "01"),
            p(0x9F38, "9F7A019F02065F2A02"),
        ],
    );
    enc(Tlv::constructed(0x6F, vec![p(0x84, AID), a5])) + "9000"
}

/// A UnionPay debit card without ODA: CVM list online PIN / signature / no CVM, CDOL1 with
/// the usual UnionPay objects, CDOL2 with the ARC.
fn records(extra: Vec<Tlv>) -> (String, String) {
    let mut r1 = vec![
        p(0x57, "6222021234567890123D29122011234500000F"),
        p(0x5A, "6222021234567890123F"),
        p(0x5F24, "291231"),
        p(0x5F25, "200101"),
        p(0x5F34, "01"),
        p(
            0x8C,
            "9F02069F03069F1A0295055F2A029A039C019F37049F21039F4E14",
        ),
        p(0x8D, "8A029F02069F03069F1A0295055F2A029A039C019F3704"),
        p(0x8E, "000000000000000042031E031F00"),
        p(0x9F42, "0156"),
    ];
    r1.extend(extra);
    let r2 = vec![p(0x9F08, "0030"), p(0x5F28, "0156"), p(0x9F07, "FF00")];
    (
        enc(Tlv::constructed(0x70, r1)) + "9000",
        enc(Tlv::constructed(0x70, r2)) + "9000",
    )
}

fn gen_ac(cid: &str, atc: &str) -> String {
    enc(Tlv::constructed(
        0x77,
        vec![
            p(0x9F27, cid),
            p(0x9F36, atc),
            p(0x9F26, "1122334455667788"),
            p(0x9F10, "07010103A0A802010A010000000000AABBCCDD"),
        ],
    )) + "9000"
}

fn card(aip: &str, extra: Vec<Tlv>, tail: &[(&str, String)]) -> ScriptedCard {
    let (r1, r2) = records(extra);
    let mut pairs: Vec<(String, String)> = vec![
        (
            "00A404000E315041592E5359532E4444463031".into(),
            "6A82".into(),
        ),
        (format!("00A4040008{AID}"), fci()),
        (format!("00A4040008{AID}"), fci()),
        (
            "80A80000".into(),
            format!("800A{aip}0801010010010100 9000").replace(' ', ""),
        ),
        ("00B2010C".into(), r1),
        ("00B20114".into(), r2),
    ];
    pairs.extend(tail.iter().map(|(c, r)| ((*c).to_owned(), r.clone())));
    let refs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(c, r)| (c.as_str(), r.as_str()))
        .collect();
    ScriptedCard::new(&refs)
}

struct Pins(OnlinePinEntry);

impl CvmHandler for Pins {
    fn online_pin(&mut self, _: &Pan, _: u64) -> Result<OnlinePinEntry, DeviceFault> {
        Ok(self.0)
    }
    fn offline_pin(&mut self, _: &OfflinePinRequest) -> Result<OfflinePinResult, DeviceFault> {
        Ok(OfflinePinResult::CardAnswered {
            status_word: 0x9000,
        })
    }
}

struct Risk(u8, bool);

impl RiskSource for Risk {
    fn random_percent(&mut self) -> u8 {
        self.0
    }
    fn on_exception_file(&self, _: &Pan) -> bool {
        self.1
    }
}

fn txn(amount_fen: u64) -> TransactionData {
    TransactionData {
        amount_fen,
        other_amount_fen: 0,
        transaction_type: 0x00,
        date: [0x26, 0x12, 0x04],
        time: [0x10, 0x00, 0x00],
        unpredictable_number: [0xDE, 0xAD, 0xBE, 0xEF],
        sequence_counter: 1,
        merchant_forced_online: false,
    }
}

fn config(floor_limit_fen: u64) -> KernelConfig {
    let mut aids = default_aids();
    for a in &mut aids {
        a.floor_limit_fen = floor_limit_fen;
        a.random_threshold_fen = 0;
        a.target_percent = 0;
        a.max_target_percent = 0;
    }
    KernelConfig {
        terminal: TerminalParams::unionpay_attended(),
        aids,
    }
}

fn start(sc: &mut ScriptedCard, amount: u64, floor: u64) -> (ContactKernel, FirstAcDecision) {
    let mut pins = Pins(OnlinePinEntry::Entered);
    let mut risk = Risk(99, false);
    let ports = KernelPorts {
        chooser: &mut AcceptFirst,
        cvm: &mut pins,
        oda: &NoCaKeys,
        risk: &mut risk,
    };
    ContactKernel::start(&config(floor), txn(amount), sc, ports)
}

/// Online: floor limit 0 sets TVR byte 4 bit 8, the UnionPay TAC online has that bit, so the
/// kernel asks for an ARQC (Book 3 §10.7); online PIN is the first CVM that applies.
#[test]
fn online_approval_with_issuer_authentication_and_scripts() {
    let mut sc = card(
        "1C00",
        vec![],
        &[
            ("80AE8000", gen_ac("80", "0001")),
            ("00820000", "9000".into()),
            ("80AE4000", gen_ac("40", "0001")),
            ("84180000", "9000".into()),
        ],
    );
    let (mut k, d) = start(&mut sc, 10_000, 0);
    let FirstAcDecision::Online(req) = d else {
        panic!("{d:?}");
    };
    assert_eq!(req.card.pan.expose_digits(), "6222021234567890123");
    assert_eq!(req.card.pan_sequence, Some(1));
    assert!(req.card.track2.is_some() && req.online_pin);
    let s = k.snapshot();
    // ODA not performed (AIP without SDA/DDA/CDA); floor limit exceeded; online PIN entered.
    assert_eq!(hex::encode_upper(s.tvr.0), "8000048000");
    assert_eq!(hex::encode_upper(s.tsi.0), "6800");
    assert_eq!(s.cvm_results, [0x42, 0x03, 0x00]);
    let f55 = tlv::parse(&req.field55).unwrap();
    assert_eq!(
        tlv::find(&f55, 0x9F26).unwrap().bytes().unwrap(),
        hex::decode("1122334455667788").unwrap()
    );
    assert_eq!(
        tlv::find(&f55, 0x95).unwrap().bytes().unwrap(),
        hex::decode("8000048000").unwrap()
    );
    assert_eq!(
        tlv::find(&f55, 0x84).unwrap().bytes().unwrap(),
        hex::decode(AID).unwrap()
    );
    assert!(tlv::find(&f55, 0x5A).is_none(), "field 55 carries no PAN");

    let host = HostAnswer {
        response_code: Some(*b"00"),
        issuer_authentication_data: Some(hex::decode("A1B2C3D4E5F601023030").unwrap()),
        issuer_scripts: hex::decode("720E9F1804000000018605841800000 0".replace(' ', "")).unwrap(),
    };
    let report = k.complete(&host, &mut sc, &NoCaKeys);
    assert_eq!(report.completion, Completion::ApprovedOnline);
    assert_eq!(hex::encode_upper(&report.script_results), "2000000001");
    let s = k.snapshot();
    assert_eq!(s.acs.len(), 2);
    assert_eq!(s.acs[1].requested, AcType::Tc);
    assert_eq!(hex::encode_upper(s.tsi.0), "7C00");
    assert!(sc.sent.iter().any(|c| c.starts_with(&[0x00, 0x82])));
}

#[test]
fn card_declines_after_host_approval() {
    let mut sc = card(
        "1C00",
        vec![],
        &[
            ("80AE8000", gen_ac("80", "0002")),
            ("80AE4000", gen_ac("00", "0002")),
        ],
    );
    let (mut k, d) = start(&mut sc, 10_000, 0);
    assert!(matches!(d, FirstAcDecision::Online(_)));
    let host = HostAnswer {
        response_code: Some(*b"00"),
        ..HostAnswer::default()
    };
    let r = k.complete(&host, &mut sc, &NoCaKeys);
    assert_eq!(r.completion, Completion::CardDeclinedAfterApproval);
}

/// Unable to go online: ARC Z3 and default action analysis; the UnionPay TAC default has the
/// floor-limit bit, so AAC (Book 3 §10.7).
#[test]
fn unable_to_go_online_declines_with_z3() {
    let mut sc = card(
        "1C00",
        vec![],
        &[
            ("80AE8000", gen_ac("80", "0003")),
            ("80AE0000", gen_ac("00", "0003")),
        ],
    );
    let (mut k, _) = start(&mut sc, 10_000, 0);
    let r = k.complete(&HostAnswer::default(), &mut sc, &NoCaKeys);
    assert_eq!(r.completion, Completion::DeclinedUnableOnline);
    let f55 = hex::encode_upper(&r.field55);
    assert!(!f55.is_empty());
    assert_eq!(k.data().get(0x8A), Some(&b"Z3"[..]));
}

/// Under the floor limit with nothing else in the TVR but "ODA not performed": the UnionPay
/// TAC online has byte 1 bit 8, so it still goes online; with IACs and TACs that ignore it, a TC.
#[test]
fn offline_approval_under_the_floor_limit() {
    let mut sc = card(
        "1C00",
        vec![p(0x9F0F, "0000000000"), p(0x9F0D, "0000000000")],
        &[("80AE4000", gen_ac("40", "0004"))],
    );
    let mut cfg = config(100_000);
    for a in &mut cfg.aids {
        a.tac_online = [0, 0, 0, 0x80, 0];
        a.tac_default = [0, 0, 0, 0x80, 0];
    }
    let mut pins = Pins(OnlinePinEntry::Entered);
    let mut risk = Risk(99, false);
    let ports = KernelPorts {
        chooser: &mut AcceptFirst,
        cvm: &mut pins,
        oda: &NoCaKeys,
        risk: &mut risk,
    };
    let (k, d) = ContactKernel::start(&cfg, txn(500), &mut sc, ports);
    assert!(matches!(d, FirstAcDecision::ApprovedOffline(_)), "{d:?}");
    assert_eq!(k.snapshot().acs[0].requested, AcType::Tc);
}

#[test]
fn hot_card_is_declined_offline_by_the_tac_denial() {
    let mut sc = card("1C00", vec![], &[("80AE0000", gen_ac("00", "0005"))]);
    let mut cfg = config(0);
    for a in &mut cfg.aids {
        a.tac_denial = [0x10, 0, 0, 0, 0];
    }
    let mut pins = Pins(OnlinePinEntry::Entered);
    let mut risk = Risk(99, true);
    let ports = KernelPorts {
        chooser: &mut AcceptFirst,
        cvm: &mut pins,
        oda: &NoCaKeys,
        risk: &mut risk,
    };
    let (k, d) = ContactKernel::start(&cfg, txn(500), &mut sc, ports);
    assert!(matches!(d, FirstAcDecision::DeclinedOffline(_)), "{d:?}");
    assert!(k.snapshot().tvr.0[0] & 0x10 != 0);
}

/// GPO 6985: the application is dropped and selection goes on; with no other candidate the
/// transaction ends (Book 3 §10.1).
#[test]
fn gpo_6985_moves_to_the_next_candidate() {
    let mut sc = ScriptedCard::new(&[
        ("00A404000E315041592E5359532E4444463031", "6A82"),
        ("00A4040008A000000333010101", &fci()),
        ("00A4040008A000000333010101", &fci()),
        ("80A80000", "6985"),
    ]);
    let (_, d) = start(&mut sc, 100, 0);
    assert!(
        matches!(
            d,
            FirstAcDecision::Terminated(TerminationReason::NoApplicationAccepted)
        ),
        "{d:?}"
    );
}

#[test]
fn no_common_application_falls_back_and_blocked_card_terminates() {
    let mut sc = ScriptedCard::new(&[]);
    let (_, d) = start(&mut sc, 100, 0);
    assert!(matches!(
        d,
        FirstAcDecision::FallbackToMagstripe(FallbackReason::NoMutualApplication)
    ));
    let mut sc = ScriptedCard::new(&[("00A404000E", "6A81")]);
    let (_, d) = start(&mut sc, 100, 0);
    assert!(matches!(
        d,
        FirstAcDecision::Terminated(TerminationReason::CardBlocked)
    ));
}

#[test]
fn missing_mandatory_data_terminates() {
    let mut sc = ScriptedCard::new(&[
        ("00A404000E", "6A82"),
        ("00A4040008A000000333010101", &fci()),
        ("00A4040008A000000333010101", &fci()),
        (
            "80A80000",
            "800682000801010090 00".replace(' ', "").as_str(),
        ),
        ("00B2010C", "70035A01629000"),
    ]);
    let (_, d) = start(&mut sc, 100, 0);
    assert!(
        matches!(
            d,
            FirstAcDecision::Terminated(TerminationReason::MandatoryDataMissing)
        ),
        "{d:?}"
    );
}

/// A card that answers anything: never a panic, never more than the command bound.
struct Chaos {
    answers: Vec<Vec<u8>>,
    i: usize,
    sent: usize,
}

impl IccChannel for Chaos {
    fn exchange(&mut self, _: &[u8]) -> Result<zeroize::Zeroizing<Vec<u8>>, DeviceFault> {
        self.sent += 1;
        let a = self
            .answers
            .get(self.i % self.answers.len().max(1))
            .cloned();
        self.i += 1;
        Ok(zeroize::Zeroizing::new(a.unwrap_or_default()))
    }
}

fn arb_answer() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..64),
        Just(fci().into_bytes()).prop_map(|v| hex::decode(v).unwrap_or_default()),
        Just(vec![0x90, 0x00]),
        Just(vec![0x61, 0x10]),
        Just(vec![0x6C, 0x05]),
        (any::<u8>(), proptest::collection::vec(any::<u8>(), 0..40)).prop_map(|(t, mut v)| {
            let mut out = vec![0x77, v.len() as u8];
            out.append(&mut v);
            out.extend([t & 0x01 | 0x90, 0x00]);
            out
        }),
    ]
}

proptest! {
    #[test]
    fn arbitrary_card_answers_never_panic(answers in proptest::collection::vec(arb_answer(), 1..24)) {
        let mut chaos = Chaos { answers, i: 0, sent: 0 };
        let mut pins = Pins(OnlinePinEntry::Bypassed);
        let mut risk = Risk(50, false);
        let ports = KernelPorts {
            chooser: &mut AcceptFirst,
            cvm: &mut pins,
            oda: &NoCaKeys,
            risk: &mut risk,
        };
        let (mut k, d) = ContactKernel::start(&config(1000), txn(100), &mut chaos, ports);
        if matches!(d, FirstAcDecision::Online(_)) {
            let host = HostAnswer { response_code: Some(*b"00"), ..HostAnswer::default() };
            let _ = k.complete(&host, &mut chaos, &NoCaKeys);
        }
        prop_assert!(chaos.sent <= 2 * channel::MAX_COMMANDS);
    }
}

/// PSE with two applications; the preferred one (priority 1) fails its final SELECT, so the
/// kernel goes on with the next candidate (Book 1 §12.4).
#[test]
fn failed_final_select_moves_to_the_next_candidate() {
    let mut sc = card("1C00", vec![], &[("80AE8000", gen_ac("80", "0006"))]);
    // Drop the list-of-AIDs answers (PSE 6A82 and the two SELECTs of the debit AID).
    for _ in 0..3 {
        sc.pairs.pop_front();
    }
    let pse = enc(Tlv::constructed(
        0x6F,
        vec![
            p(0x84, "315041592E5359532E4444463031"),
            Tlv::constructed(0xA5, vec![p(0x88, "01")]),
        ],
    )) + "9000";
    let entry = |aid: &str, prio: &str| Tlv::constructed(0x61, vec![p(0x4F, aid), p(0x87, prio)]);
    let dir = enc(Tlv::constructed(
        0x70,
        vec![entry(AID, "02"), entry("A000000333010102", "01")],
    )) + "9000";
    let head = [
        ("00A404000E".to_owned(), pse),
        ("00B2010C".to_owned(), dir),
        ("00B2020C".to_owned(), "6A83".to_owned()),
        ("00A4040008A000000333010102".to_owned(), "6A82".to_owned()),
        (format!("00A4040008{AID}"), fci()),
    ];
    for (c, r) in head.into_iter().rev() {
        sc.pairs
            .push_front((hex::decode(c).unwrap(), hex::decode(r).unwrap()));
    }
    let (k, d) = start(&mut sc, 10_000, 0);
    assert!(matches!(d, FirstAcDecision::Online(_)), "{d:?}");
    assert_eq!(hex::encode_upper(k.snapshot().aid), AID);
    let selects: Vec<String> = sc
        .sent
        .iter()
        .filter(|c| c.starts_with(&[0x00, 0xA4]))
        .map(hex::encode_upper)
        .collect();
    assert_eq!(selects.len(), 3, "{selects:?}");
    assert!(selects[1].contains("A000000333010102"));
}
