//! The entry point and the kernels against scripted cards. The ODA cryptography is a stub here
//! that checks what it is given (the real RSA path runs against the simulator's cards in
//! `tools/tests/card_sim_ctls.rs` and a published card in the replay tests).

use zeroize::Zeroizing;

use super::*;
use crate::card::emv::channel::script::ScriptedCard;
use crate::card::emv::data::TagStore;
use crate::card::emv::{
    IccChannel, IccPublicKey, OdaError, OdaVerifier, TerminalParams, TransactionData,
};
use crate::codec::tlv::{self, Tlv};
use crate::ports::DeviceFault;

const UP_DEBIT: &str = "A000000333010101";
const PDOL: &str = "9F66049F02069F03069F1A0295055F2A029A039C019F3704";

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

fn p(tag: u32, v: &str) -> Tlv {
    Tlv::primitive(tag, h(v))
}

fn enc(t: Tlv) -> String {
    hex::encode_upper(tlv::encode(&[t])) + "9000"
}

fn ppse(entries: &[(&str, u8, Option<u8>)]) -> String {
    let dir = entries
        .iter()
        .map(|(aid, prio, kernel)| {
            let mut e = vec![
                p(0x4F, aid),
                p(0x50, "5155494350415353"),
                p(0x87, &format!("{prio:02X}")),
            ];
            if let Some(k) = kernel {
                e.push(p(0x9F2A, &format!("{k:02X}")));
            }
            Tlv::constructed(0x61, e)
        })
        .collect();
    enc(Tlv::constructed(
        0x6F,
        vec![
            Tlv::primitive(0x84, b"2PAY.SYS.DDF01".to_vec()),
            Tlv::constructed(0xA5, vec![Tlv::constructed(0xBF0C, dir)]),
        ],
    ))
}

fn fci(aid: &str, pdol: &str) -> String {
    let mut a5 = vec![p(0x50, "5155494350415353")];
    if !pdol.is_empty() {
        a5.push(p(0x9F38, pdol));
    }
    enc(Tlv::constructed(
        0x6F,
        vec![p(0x84, aid), Tlv::constructed(0xA5, a5)],
    ))
}

/// A qPBOC GPO answer: AIP (fDDA), AFL one record, ATC, cryptogram, CID, IAD and extras.
fn gpo(cid: &str, extra: Vec<Tlv>) -> String {
    let mut objs = vec![
        p(0x82, "7C00"),
        p(0x94, "08010101"),
        p(0x9F36, "0011"),
        p(0x9F26, "1122334455667788"),
        p(0x9F27, cid),
        p(0x9F10, "07010103A0A00001"),
    ];
    objs.extend(extra);
    enc(Tlv::constructed(0x77, objs))
}

fn record(extra: Vec<Tlv>) -> String {
    let mut objs = vec![
        p(0x57, "6222020000000205D3012201000000000F"),
        p(0x5A, "6222020000000205"),
        p(0x5F24, "301231"),
        p(0x5F34, "01"),
        p(0x8C, "9F02069F03069F1A0295055F2A029A039C019F3704"),
    ];
    objs.extend(extra);
    enc(Tlv::constructed(0x70, objs))
}

fn config(floor: u64, limit: Option<u64>) -> CtlsConfig {
    let mut aids = default_ctls_aids();
    for a in &mut aids {
        a.floor_limit_fen = floor;
        a.contactless_limit_fen = limit;
    }
    CtlsConfig {
        terminal: TerminalParams::unionpay_attended(),
        aids,
    }
}

fn txn(amount_fen: u64) -> TransactionData {
    TransactionData {
        amount_fen,
        other_amount_fen: 0,
        transaction_type: 0,
        date: [0x26, 0x12, 0x04],
        time: [0x10, 0, 0],
        unpredictable_number: [0xA1, 0xB2, 0xC3, 0xD4],
        sequence_counter: 1,
        merchant_forced_online: false,
    }
}

/// ODA that accepts a key and checks the fDDA terminal data / CDA inputs it gets.
struct StubOda {
    ok: bool,
    expect_fdda: Option<Vec<u8>>,
}

impl OdaVerifier for StubOda {
    fn verify_sda(&self, _: &TagStore, _: &[u8]) -> Result<(), OdaError> {
        Err(OdaError::Failed)
    }
    fn recover_icc_key(&self, _: &TagStore, _: &[u8]) -> Result<IccPublicKey, OdaError> {
        Ok(IccPublicKey {
            modulus: vec![0xAA; 8],
            exponent: vec![3],
        })
    }
    fn verify_dda(&self, _: &IccPublicKey, sdad: &[u8], data: &[u8]) -> Result<(), OdaError> {
        if let Some(e) = &self.expect_fdda {
            assert_eq!(hex::encode_upper(data), hex::encode_upper(e));
        }
        assert_eq!(sdad, [0x5D; 4]);
        if self.ok {
            Ok(())
        } else {
            Err(OdaError::Failed)
        }
    }
    fn verify_cda(
        &self,
        _: &IccPublicKey,
        _: &[u8],
        un: &[u8; 4],
        cid: u8,
        input: &[u8],
    ) -> Result<[u8; 8], OdaError> {
        assert_eq!(un, &[0xA1, 0xB2, 0xC3, 0xD4]);
        assert!(!input.is_empty());
        let _ = cid;
        if self.ok {
            Ok([0xAC; 8])
        } else {
            Err(OdaError::Failed)
        }
    }
}

fn tap_with(
    cfg: &CtlsConfig,
    amount: u64,
    pairs: &[(&str, String)],
    oda: &StubOda,
) -> (CtlsTap, CtlsOutcome, Vec<UiRequest>, ScriptedCard) {
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(c, r)| (*c, r.as_str())).collect();
    let mut sc = ScriptedCard::new(&pairs);
    let mut ui = Vec::new();
    let (tap, outcome) = start(cfg, txn(amount), &mut sc, CtlsPorts { oda, ui: &mut ui });
    (tap, outcome, ui, sc)
}

fn quickpass(cid: &str, gpo_extra: Vec<Tlv>, rec_extra: Vec<Tlv>) -> Vec<(&'static str, String)> {
    vec![
        (
            "00A404000E325041592E5359532E4444463031",
            ppse(&[(UP_DEBIT, 1, Some(7))]),
        ),
        ("00A4040008A000000333010101", fci(UP_DEBIT, PDOL)),
        ("80A80000", gpo(cid, gpo_extra)),
        ("00B2010C", record(rec_extra)),
    ]
}

const OK: StubOda = StubOda {
    ok: true,
    expect_fdda: None,
};

/// 小额免密免签: RMB 500 with floor limit 0 goes online with no CVM; the TTQ sent asks for an
/// online cryptogram and no CVM; "card read OK" comes before the online request.
#[test]
fn quickpass_under_the_cvm_limit_goes_online_without_cvm() {
    let (tap, outcome, ui, sc) = tap_with(
        &config(0, None),
        50_000,
        &quickpass("80", vec![], vec![]),
        &OK,
    );
    let CtlsOutcome::OnlineRequest(r) = outcome else {
        panic!("{}", outcome.code())
    };
    assert_eq!(r.cvm, CtlsCvm::NoCvm);
    assert!(!r.request.signature_required);
    assert_eq!(r.request.card.pan.masked().to_string(), "622202******0205");
    let gpo = hex::encode_upper(&sc.sent[2]);
    assert!(
        gpo.starts_with("80A8000023832137804080000000050000"),
        "{gpo}"
    );
    assert_eq!(
        ui,
        [
            UiRequest::Processing,
            UiRequest::CardReadOk,
            UiRequest::Processing
        ]
    );
    let f55 = hex::encode_upper(&r.request.field55);
    assert!(f55.starts_with("9F260811223344556677889F270180"), "{f55}");
    assert!(f55.contains("9F34031F0002"), "{f55}");
    assert_eq!(tap.kernel, Some(KernelId::UnionPay));
    assert_eq!(
        tap.snapshot().acs[0].cryptogram,
        h("1122334455667788").as_slice()
    );
}

/// At RMB 1,000 (the CVM required limit, "greater than or equal") an online PIN is asked for
/// after the card is read.
#[test]
fn quickpass_at_the_cvm_limit_asks_for_online_pin() {
    let (tap, outcome, ui, sc) = tap_with(
        &config(0, None),
        100_000,
        &quickpass("80", vec![], vec![]),
        &OK,
    );
    let CtlsOutcome::OnlineRequest(r) = outcome else {
        panic!("{}", outcome.code())
    };
    assert_eq!(r.cvm, CtlsCvm::OnlinePin);
    assert_eq!(tap.snapshot().cvm_results, [0x02, 0, 0]);
    assert_eq!(ui.last(), Some(&UiRequest::EnterPin));
    assert_eq!(&hex::encode_upper(&sc.sent[2])[14..22], "37C04080");
}

/// Over the contactless transaction limit nothing is sent to the card: insert instead.
#[test]
fn over_the_contactless_limit_is_told_to_insert() {
    let (_, outcome, ui, sc) = tap_with(
        &config(0, Some(200_000)),
        200_000,
        &quickpass("80", vec![], vec![]),
        &OK,
    );
    assert!(matches!(
        outcome,
        CtlsOutcome::TryAnotherInterface(InsertReason::OverContactlessLimit)
    ));
    assert!(sc.sent.is_empty());
    assert_eq!(ui, [UiRequest::InsertCard]);
}

/// Offline approval: TC under the floor limit, EC balance enough, fDDA over 9F37 ‖ 9F02 ‖
/// 5F2A ‖ 9F69 (version 01).
#[test]
fn quickpass_offline_approval_with_fdda() {
    let gpo_extra = vec![
        p(0x9F4B, "5D5D5D5D"),
        p(0x9F69, "01A1B2C3D40000"),
        p(0x9F79, "000000050000"),
    ];
    let oda = StubOda {
        ok: true,
        expect_fdda: Some(h("A1B2C3D4000000030000015601A1B2C3D40000")),
    };
    let pairs = quickpass("40", gpo_extra.clone(), vec![]);
    let (tap, outcome, ui, _) = tap_with(&config(100_000, None), 30_000, &pairs, &oda);
    assert!(
        matches!(outcome, CtlsOutcome::Approved(_)),
        "{}",
        outcome.code()
    );
    assert_eq!(tap.snapshot().oda_method.name(), "dda");
    assert_eq!(
        ui,
        [
            UiRequest::Processing,
            UiRequest::CardReadOk,
            UiRequest::Approved
        ]
    );

    // The EC balance (9F79) is RMB 500: RMB 600 is not approved offline even if the card says so.
    let pairs = quickpass("40", gpo_extra.clone(), vec![]);
    let (_, outcome, _, _) = tap_with(&config(100_000, None), 60_000, &pairs, &OK);
    assert!(
        matches!(outcome, CtlsOutcome::Declined(_)),
        "{}",
        outcome.code()
    );

    // fDDA fails: declined; with CTQ "go online if ODA fails": online.
    let bad = StubOda {
        ok: false,
        expect_fdda: None,
    };
    let (tap, outcome, _, _) = tap_with(
        &config(100_000, None),
        30_000,
        &quickpass("40", gpo_extra.clone(), vec![]),
        &bad,
    );
    assert!(
        matches!(outcome, CtlsOutcome::Declined(_)),
        "{}",
        outcome.code()
    );
    assert_eq!(tap.snapshot().tvr.0[0] & 0x08, 0x08, "DDA failed");
    let mut with_ctq = gpo_extra;
    with_ctq.push(p(0x9F6C, "2000"));
    let (_, outcome, _, _) = tap_with(
        &config(100_000, None),
        30_000,
        &quickpass("40", with_ctq, vec![]),
        &bad,
    );
    assert!(
        matches!(outcome, CtlsOutcome::OnlineRequest(_)),
        "{}",
        outcome.code()
    );
}

/// A TC above the floor limit (the reader asked for online) is never approved.
#[test]
fn tc_when_online_was_required_is_declined() {
    let gpo_extra = vec![p(0x9F4B, "5D5D5D5D")];
    let (_, outcome, _, _) = tap_with(
        &config(10_000, None),
        30_000,
        &quickpass("40", gpo_extra, vec![]),
        &OK,
    );
    assert!(
        matches!(outcome, CtlsOutcome::Declined(_)),
        "{}",
        outcome.code()
    );
}

#[test]
fn phone_wallet_says_see_phone_and_msd_is_told_to_insert() {
    let mut pairs = quickpass("80", vec![], vec![]);
    pairs[2].1 = "6986".into();
    let (_, outcome, ui, _) = tap_with(&config(0, None), 150_000, &pairs, &OK);
    assert!(matches!(outcome, CtlsOutcome::SeePhone));
    assert_eq!(ui.last(), Some(&UiRequest::SeePhone));

    pairs[2].1 = "800A7C000801010100000000 9000".replace(' ', "");
    let (_, outcome, _, _) = tap_with(&config(0, None), 1_000, &pairs, &OK);
    assert!(matches!(
        outcome,
        CtlsOutcome::TryAnotherInterface(InsertReason::MagstripeModeOnly)
    ));
}

/// The card leaves the field at each command in turn: always "try again", never a decision.
#[test]
fn tearing_at_every_command_is_try_again() {
    struct Torn {
        inner: ScriptedCard,
        at: usize,
    }
    impl IccChannel for Torn {
        fn exchange(&mut self, c: &[u8]) -> Result<Zeroizing<Vec<u8>>, DeviceFault> {
            if self.inner.sent.len() == self.at {
                return Err(DeviceFault::CardRemovedTooEarly);
            }
            self.inner.exchange(c)
        }
    }
    for at in 0..4 {
        let pairs = quickpass("80", vec![], vec![]);
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(c, r)| (*c, r.as_str())).collect();
        let mut card = Torn {
            inner: ScriptedCard::new(&pairs),
            at,
        };
        let mut ui = Vec::new();
        let (_, outcome) = start(
            &config(0, None),
            txn(100),
            &mut card,
            CtlsPorts {
                oda: &OK,
                ui: &mut ui,
            },
        );
        assert!(
            matches!(outcome, CtlsOutcome::TryAgain),
            "tear at {at}: {}",
            outcome.code()
        );
        assert!(!ui.contains(&UiRequest::CardReadOk));
    }
}

/// Combination selection: priorities order the candidates; a kernel identifier the row does
/// not have excludes an entry; 6985 to GPO selects the next candidate.
#[test]
fn combination_selection_and_select_next() {
    let visa = "A0000000031010";
    let pairs = vec![
        (
            "00A404000E325041592E5359532E4444463031",
            ppse(&[
                (visa, 2, Some(3)),
                (UP_DEBIT, 1, Some(7)),
                ("A000000333010102", 1, Some(3)),
            ]),
        ),
        ("00A4040008A000000333010101", fci(UP_DEBIT, PDOL)),
        ("80A80000", "6985".to_string()),
        ("00A4040007A0000000031010", fci(visa, PDOL)),
        ("80A80000", gpo("80", vec![])),
        ("00B2010C", record(vec![])),
    ];
    let (tap, outcome, _, sc) = tap_with(&config(0, None), 1_000, &pairs, &OK);
    assert!(
        matches!(outcome, CtlsOutcome::OnlineRequest(_)),
        "{}",
        outcome.code()
    );
    assert_eq!(tap.kernel, Some(KernelId::Visa));
    let sent: Vec<String> = sc.sent.iter().map(|c| hex::encode_upper(&c[..4])).collect();
    assert_eq!(
        sent,
        [
            "00A40400", "00A40400", "80A80000", "00A40400", "80A80000", "00B2010C"
        ]
    );
    assert!(
        !sc.sent
            .iter()
            .any(|c| hex::encode_upper(c).contains("A000000333010102"))
    );
}

/// A usual Mastercard CVM list: online PIN, else signature, else no CVM, each "if the terminal
/// supports the CVM".
const MC_CVM_LIST: &str = "000000000000000042031E031F03";

fn mchip(aip: &str, genac: String) -> Vec<(&'static str, String)> {
    mchip_with(aip, Some(MC_CVM_LIST), genac)
}

/// A C-2 card whose record carries `cvm_list` as 8E (none when `None`).
fn mchip_with(aip: &str, cvm_list: Option<&str>, genac: String) -> Vec<(&'static str, String)> {
    let mc = "A0000000041010";
    let mut objs = vec![
        p(0x5A, "5413330000000019"),
        p(0x5F24, "301231"),
        p(0x5F34, "01"),
        p(0x8C, "9F02069F03069F1A0295055F2A029A039C019F37049F3403"),
        p(0x8D, "8A029F3704"),
        p(0x9F0D, "0000000000"),
        p(0x9F0E, "0000000000"),
        p(0x9F0F, "0000000000"),
    ];
    if let Some(list) = cvm_list {
        objs.push(p(0x8E, list));
    }
    let rec = enc(Tlv::constructed(0x70, objs));
    vec![
        (
            "00A404000E325041592E5359532E4444463031",
            ppse(&[(mc, 1, Some(2))]),
        ),
        ("00A4040007A0000000041010", fci(mc, "")),
        (
            "80A80000",
            enc(Tlv::constructed(
                0x77,
                vec![p(0x82, aip), p(0x94, "08010101")],
            )),
        ),
        ("00B2010C", rec),
        ("80AE", genac),
    ]
}

/// C-2: CDA requested with the ARQC; the cryptogram reported is the one recovered from the
/// signature; a failed CDA declines even a TC; mag-stripe mode is told to insert; an AAC with
/// DF4B asking for the phone is "see phone".
#[test]
fn mastercard_cda() {
    let signed = |cid: &str| {
        enc(Tlv::constructed(
            0x77,
            vec![
                p(0x9F27, cid),
                p(0x9F36, "0005"),
                p(0x9F4B, "00112233"),
                p(0x9F10, "0110"),
            ],
        ))
    };
    let (tap, outcome, _, sc) =
        tap_with(&config(0, None), 1_000, &mchip("3981", signed("80")), &OK);
    assert!(
        matches!(outcome, CtlsOutcome::OnlineRequest(_)),
        "{}",
        outcome.code()
    );
    assert_eq!(sc.sent[4][2], 0x90, "ARQC with CDA requested");
    assert_eq!(tap.snapshot().acs[0].cryptogram, [0xAC; 8]);
    assert_eq!(tap.snapshot().oda_result, crate::card::emv::OdaResult::Ok);

    let bad = StubOda {
        ok: false,
        expect_fdda: None,
    };
    let mut cfg = config(100_000, None);
    cfg.terminal.terminal_type = 0x22;
    let (tap, outcome, _, _) = tap_with(&cfg, 1_000, &mchip("3981", signed("40")), &bad);
    assert!(
        matches!(outcome, CtlsOutcome::Declined(_)),
        "{}",
        outcome.code()
    );
    assert_eq!(tap.snapshot().tvr.0[0] & 0x04, 0x04, "CDA failed");

    let (_, outcome, _, _) = tap_with(&config(0, None), 1_000, &mchip("3901", signed("80")), &OK);
    assert!(matches!(
        outcome,
        CtlsOutcome::TryAnotherInterface(InsertReason::MagstripeModeOnly)
    ));

    let aac = enc(Tlv::constructed(
        0x77,
        vec![
            p(0x9F27, "00"),
            p(0x9F36, "0005"),
            p(0x9F26, "0102030405060708"),
            p(0xDF4B, "000200"),
        ],
    ));
    let (_, outcome, _, _) = tap_with(&config(0, None), 1_000, &mchip("3981", aac), &OK);
    assert!(
        matches!(outcome, CtlsOutcome::SeePhone),
        "{}",
        outcome.code()
    );
}

/// Before the tap: "present card" when some combination allows the amount, "insert card" when
/// none does.
#[test]
fn ready_asks_for_the_tap_or_the_insert() {
    let mut ui = Vec::new();
    assert_eq!(ready(&config(0, Some(200_000)), 199_999, &mut ui), Ok(()));
    assert_eq!(
        ready(&config(0, Some(200_000)), 200_000, &mut ui),
        Err(InsertReason::OverContactlessLimit)
    );
    assert_eq!(ui, [UiRequest::PresentCard, UiRequest::InsertCard]);
}

mod mchip_cvm;
