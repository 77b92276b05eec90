//! Taps with the simulator's contactless cards through the contactless kernels (real keys: RSA
//! fDDA and CDA under the test CA, cryptograms under the issuer families), and the acquirer
//! simulator as their issuer: each online tap's field 55 verifies and moves money once.

use smartpos_core::card::ctls::{
    self, CtlsConfig, CtlsCvm, CtlsOutcome, CtlsPorts, CtlsTap, InsertReason, UiRequest,
    default_ctls_aids,
};
use smartpos_core::card::emv::{
    CaKeyVerifier, IccChannel, OdaResult, ReaderChannel, TerminalParams, TransactionData,
};
use smartpos_core::codec::iso8583::Message;
use smartpos_core::codec::iso8583::cups::{Field60, mac_input};
use smartpos_core::crypto::{self, KeyAlgorithm, MacAlgorithm, SecretKey};
use smartpos_core::ports::{CardPresentation, CardReader, DeviceFault};
use smartpos_tools::card_sim::{CONTACTLESS_NAMES, Tear, VirtualCard, catalogue, test_ca_keys};
use smartpos_tools::demo_setup;
use smartpos_tools::sim::Acquirer;
use smartpos_tools::sim::ledger::Ledger;
use zeroize::Zeroizing;

const TID: &str = "10000001";

fn config(floor_fen: u64) -> CtlsConfig {
    let mut aids = default_ctls_aids();
    for a in &mut aids {
        a.floor_limit_fen = floor_fen;
        a.contactless_limit_fen = Some(500_000);
    }
    CtlsConfig {
        terminal: TerminalParams::unionpay_attended(),
        aids,
    }
}

fn txn(amount_fen: u64, un: [u8; 4]) -> TransactionData {
    TransactionData {
        amount_fen,
        other_amount_fen: 0,
        transaction_type: 0,
        date: [0x26, 0x12, 0x04],
        time: [0x10, 0x20, 0x30],
        unpredictable_number: un,
        sequence_counter: 7,
        merchant_forced_online: false,
    }
}

fn verifier() -> CaKeyVerifier {
    CaKeyVerifier {
        ca_keys: test_ca_keys().expect("test CA keys"),
        ..CaKeyVerifier::default()
    }
}

fn tap_on(
    channel: &mut dyn IccChannel,
    cfg: &CtlsConfig,
    amount_fen: u64,
) -> (CtlsTap, CtlsOutcome, Vec<UiRequest>) {
    let oda = verifier();
    let mut ui = Vec::new();
    let (tap, outcome) = ctls::start(
        cfg,
        txn(amount_fen, [0x12, 0x34, 0x56, 0x78]),
        channel,
        CtlsPorts {
            oda: &oda,
            ui: &mut ui,
        },
    );
    (tap, outcome, ui)
}

fn tap(
    card: &VirtualCard,
    cfg: &CtlsConfig,
    amount_fen: u64,
) -> (CtlsTap, CtlsOutcome, Vec<UiRequest>) {
    assert_eq!(
        card.detect(std::time::Duration::from_secs(1))
            .expect("in the field"),
        CardPresentation::Contactless
    );
    tap_on(&mut ReaderChannel(card), cfg, amount_fen)
}

fn acquirer() -> (Acquirer, SecretKey) {
    let mut ledger = Ledger::new();
    catalogue::add_ledger_accounts(&mut ledger);
    let acquirer = Acquirer::new(ledger, demo_setup::demo_tmk());
    let mut sign_on = Message::new("0800");
    sign_on.set_text(41, TID);
    sign_on.set_text(42, "123456789012345");
    sign_on.set_digits(60, "00000001003");
    let resp = acquirer.process(&sign_on).expect("answered");
    let f62 = resp.bytes(62).expect("keys");
    let mak = crypto::ecb_decrypt(&demo_setup::demo_tmk(), &f62[20..36]).expect("MAK");
    (
        acquirer,
        SecretKey::new(KeyAlgorithm::Tdes, &mak).expect("key"),
    )
}

/// A contactless sale: entry mode 07x (field 22), field 55 from the tap.
fn sale(mak: &SecretKey, pan: &str, stan: u32, amount_fen: u64, f55: Vec<u8>) -> Message {
    let mut m = Message::new("0200");
    m.set_digits(2, pan);
    m.set_digits(3, "000000");
    m.set_digits(4, &format!("{amount_fen:012}"));
    m.set_digits(11, &format!("{stan:06}"));
    m.set_digits(22, "072");
    m.set_digits(23, "001");
    m.set_digits(25, "00");
    m.set_text(41, TID);
    m.set_text(42, "123456789012345");
    m.set_text(49, "156");
    m.set_bytes(55, f55);
    let f60 = Field60 {
        type_code: "22".into(),
        batch_no: 1,
        net_mgmt: "000".into(),
        read_capability: Some('6'),
        ic_condition: Some('0'),
        tail: String::new(),
    };
    m.set_digits(60, &f60.to_digits());
    m.set_bytes(64, vec![0; 8]);
    let tag =
        crypto::compute_mac(MacAlgorithm::X919, mak, &mac_input(&m).expect("packs")).expect("mac");
    m.set_bytes(64, tag.to_vec());
    m
}

/// Sends the online tap to the acquirer simulator: approved 00 and the account debited once.
fn authorise(name: &str, outcome: &CtlsOutcome, amount_fen: u64, stan: u32) {
    let CtlsOutcome::OnlineRequest(r) = outcome else {
        panic!("{name}: {}", outcome.code())
    };
    let (acquirer, mak) = acquirer();
    let pan = catalogue::pan_of(name).expect("pan");
    let balance = |a: &Acquirer| a.ledger().account(name).expect("account").balance_fen;
    let before = balance(&acquirer);
    let resp = acquirer
        .process(&sale(
            &mak,
            pan,
            stan,
            amount_fen,
            r.request.field55.clone(),
        ))
        .expect("answered");
    assert_eq!(
        resp.text(39),
        Some("00"),
        "{name}: the issuer verifies the ARQC"
    );
    assert_eq!(balance(&acquirer), before - amount_fen as i64, "{name}");
}

/// 小额免密免签: a QuickPass tap of RMB 500 (floor limit 0) goes online with no CVM; "card read
/// OK" is asked for before the host is; the issuer verifies the ARQC and the ledger moves.
#[test]
fn quickpass_under_the_no_cvm_limit_is_approved_online_without_pin() {
    let card = VirtualCard::named("quickpass-debit").expect("card");
    let (tap, outcome, ui) = tap(&card, &config(0), 50_000);
    let CtlsOutcome::OnlineRequest(r) = &outcome else {
        panic!("{}", outcome.code())
    };
    assert_eq!(r.cvm, CtlsCvm::NoCvm);
    assert_eq!(
        ui,
        [
            UiRequest::Processing,
            UiRequest::CardReadOk,
            UiRequest::Processing
        ]
    );
    assert_eq!(tap.snapshot().cvm_results, [0x1F, 0x00, 0x02]);
    authorise("quickpass-debit", &outcome, 50_000, 1);
}

/// Over RMB 1,000 the credit card's tap asks for online PIN, still verified by the issuer.
#[test]
fn quickpass_over_the_cvm_limit_asks_for_online_pin() {
    let card = VirtualCard::named("quickpass-credit").expect("card");
    let (_, outcome, ui) = tap(&card, &config(0), 150_000);
    let CtlsOutcome::OnlineRequest(r) = &outcome else {
        panic!("{}", outcome.code())
    };
    assert_eq!(r.cvm, CtlsCvm::OnlinePin);
    assert_eq!(ui.last(), Some(&UiRequest::EnterPin));
    authorise("quickpass-credit", &outcome, 150_000, 2);
}

/// Offline approval within the floor limit and the EC balance, with fDDA verified under the
/// test CA; the card's balance goes down; the next tap the balance cannot cover goes online.
#[test]
fn quickpass_offline_approval_with_fdda_and_ec_balance() {
    let card = VirtualCard::named("quickpass-debit").expect("card");
    let (tap1, outcome, ui) = tap(&card, &config(100_000), 30_000);
    assert!(
        matches!(outcome, CtlsOutcome::Approved(_)),
        "{}",
        outcome.code()
    );
    assert_eq!(tap1.snapshot().oda_result, OdaResult::Ok);
    assert_eq!(ui.last(), Some(&UiRequest::Approved));
    assert_eq!(card.counters(0).expect("app").ec_balance_fen, 20_000);
    card.insert();
    let (_, outcome, _) = tap(&card, &config(100_000), 30_000);
    assert!(
        matches!(outcome, CtlsOutcome::OnlineRequest(_)),
        "{}",
        outcome.code()
    );
}

/// A phone wallet over the CVM limit: "see phone", then after the holder verified on the
/// phone, a second tap goes online with the phone's verification (CDCVM) and no PIN.
#[test]
fn phone_wallet_says_see_phone_then_pays_with_cdcvm() {
    let card = VirtualCard::named("quickpass-phone").expect("card");
    let (_, outcome, ui) = tap(&card, &config(0), 150_000);
    assert!(
        matches!(outcome, CtlsOutcome::SeePhone),
        "{}",
        outcome.code()
    );
    assert_eq!(ui.last(), Some(&UiRequest::SeePhone));
    card.insert();
    let (_, outcome, _) = tap(&card, &config(0), 150_000);
    let CtlsOutcome::OnlineRequest(r) = &outcome else {
        panic!("{}", outcome.code())
    };
    assert_eq!(r.cvm, CtlsCvm::ConsumerDevice);
    authorise("quickpass-phone", &outcome, 150_000, 3);
}

/// Visa qVSDC: offline with fDDA; over the CVM limit its CTQ asks for a signature.
#[test]
fn visa_qvsdc_offline_and_signature() {
    let card = VirtualCard::named("visa-qvsdc").expect("card");
    let (tap1, outcome, _) = tap(&card, &config(100_000), 10_000);
    assert!(
        matches!(outcome, CtlsOutcome::Approved(_)),
        "{}",
        outcome.code()
    );
    assert_eq!(tap1.snapshot().oda_method.name(), "dda");
    card.insert();
    let (_, outcome, _) = tap(&card, &config(100_000), 120_000);
    let CtlsOutcome::OnlineRequest(r) = &outcome else {
        panic!("{}", outcome.code())
    };
    assert_eq!(r.cvm, CtlsCvm::Signature);
    assert!(r.request.signature_required);
    authorise("visa-qvsdc", &outcome, 120_000, 4);
}

/// Flips one byte of the signed dynamic data in the card's GENERATE AC answer.
struct FlipSdad<'a>(ReaderChannel<'a, VirtualCard>);

impl IccChannel for FlipSdad<'_> {
    fn exchange(&mut self, c: &[u8]) -> Result<Zeroizing<Vec<u8>>, DeviceFault> {
        let mut r = self.0.exchange(c)?;
        if c.get(1) == Some(&0xAE)
            && let Some(i) = r.windows(2).position(|w| w == [0x9F, 0x4B])
            && let Some(b) = r.get_mut(i + 20)
        {
            *b ^= 0x01;
        }
        Ok(r)
    }
}

/// Mastercard C-2: the ARQC comes inside the CDA signature; the recovered cryptogram is the one
/// the issuer verifies. One flipped byte of the signed data: CDA failed, declined, never online.
#[test]
fn mastercard_cda_recovers_the_arqc_and_a_flipped_signature_declines() {
    let card = VirtualCard::named("mastercard-contactless").expect("card");
    let (tap1, outcome, _) = tap(&card, &config(0), 8_800);
    assert_eq!(tap1.snapshot().oda_method.name(), "cda");
    assert_eq!(tap1.snapshot().oda_result, OdaResult::Ok);
    authorise("mastercard-contactless", &outcome, 8_800, 5);

    let card = VirtualCard::named("mastercard-contactless").expect("card");
    let (tap2, outcome, _) = tap_on(&mut FlipSdad(ReaderChannel(&card)), &config(0), 8_800);
    assert!(
        matches!(outcome, CtlsOutcome::Declined(_)),
        "{}",
        outcome.code()
    );
    assert_eq!(tap2.snapshot().tvr.0[0] & 0x04, 0x04, "TVR: CDA failed");
}

/// Over the contactless limit nothing reaches the card: insert instead.
#[test]
fn over_the_contactless_limit_is_told_to_insert() {
    let card = VirtualCard::named("quickpass-debit").expect("card");
    let (_, outcome, _) = tap(&card, &config(0), 500_000);
    assert!(matches!(
        outcome,
        CtlsOutcome::TryAnotherInterface(InsertReason::OverContactlessLimit)
    ));
    assert!(card.instructions().is_empty());
}

/// Tearing: each card leaves the field at each command it gets (before and after acting on
/// it): the tap ends "try again" with no request for the host, and a new tap completes.
#[test]
fn tearing_at_every_command_is_try_again_then_a_new_tap_completes() {
    for &name in CONTACTLESS_NAMES {
        let clean = VirtualCard::named(name).expect("card");
        let _ = tap(&clean, &config(0), 2_000);
        let script = clean.instructions();
        assert!(!script.is_empty(), "{name}");
        for (i, &ins) in script.iter().enumerate() {
            let occurrence = script[..=i].iter().filter(|&&x| x == ins).count() as u32;
            for after_processing in [false, true] {
                let profile = catalogue::card(name).expect("card").with_tear(Tear {
                    ins,
                    occurrence,
                    after_processing,
                });
                let card = VirtualCard::new(profile);
                let (_, outcome, ui) = tap(&card, &config(0), 2_000);
                assert!(
                    matches!(outcome, CtlsOutcome::TryAgain),
                    "{name} torn at {ins:02X} #{occurrence}: {}",
                    outcome.code()
                );
                assert!(!ui.contains(&UiRequest::CardReadOk), "{name}");
                card.insert();
                let (_, outcome, _) = tap(&card, &config(0), 2_000);
                assert!(
                    matches!(outcome, CtlsOutcome::OnlineRequest(_)),
                    "{name} after the tear: {}",
                    outcome.code()
                );
            }
        }
    }
}

/// Prints a fresh recording of a mastercard-contactless tap in the replay format, as
/// `tests/data/emv/ctls_sim_mastercard_cda.json` was made (the card's dynamic numbers are
/// random, so each run differs). `cargo test --test card_sim_ctls -- --ignored --nocapture`.
#[test]
#[ignore]
fn record_mastercard_replay() {
    struct Rec<'a>(ReaderChannel<'a, VirtualCard>, Vec<(String, String)>);
    impl IccChannel for Rec<'_> {
        fn exchange(&mut self, c: &[u8]) -> Result<Zeroizing<Vec<u8>>, DeviceFault> {
            let r = self.0.exchange(c)?;
            self.1.push((hex::encode_upper(c), hex::encode_upper(&*r)));
            Ok(r)
        }
    }
    let card = VirtualCard::named("mastercard-contactless").expect("card");
    let mut rec = Rec(ReaderChannel(&card), Vec::new());
    let (tap1, outcome, _) = tap_on(&mut rec, &config(0), 8_800);
    let ca = test_ca_keys().unwrap();
    let key = ca.get([0xA0, 0, 0, 0, 0x04], 0xF9).unwrap();
    println!(
        "OUTCOME {} AC {}",
        outcome.code(),
        hex::encode_upper(tap1.snapshot().acs[0].cryptogram)
    );
    println!(
        "CA {} {}",
        hex::encode_upper(&key.modulus),
        hex::encode_upper(&key.exponent)
    );
    println!("APDUS {}", serde_json::to_string(&rec.1).unwrap());
}
