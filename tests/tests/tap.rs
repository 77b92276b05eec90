//! Tap to pay end to end: the simulator's contactless cards (real keys, fDDA and CDA under the
//! test CA) tapped on a terminal whose engine runs the contactless kernels, against the acquirer
//! simulator playing the issuer (every ARQC and offline TC verified with the card's keys) and
//! its ledger.

#![allow(clippy::unwrap_used)] // helpers outside #[test] functions

use std::sync::{Arc, Mutex};

use smartpos_core::card::ctls::UiRequest;
use smartpos_core::codec::iso8583::Message;
use smartpos_core::codec::tlv;
use smartpos_core::txn::{Outcome, TxnKind, UiListener};
use smartpos_e2e::chip_day::ChipDay;
use smartpos_tools::card_sim::{CardProfile, Tear, VirtualCard, catalogue};

/// Every UI request, with the acquirer's net position when it was raised (the host has not
/// answered a sale while it is unchanged).
#[derive(Default)]
struct Screen {
    seen: Mutex<Vec<(UiRequest, i64)>>,
    acquirer: Mutex<Option<Arc<smartpos_tools::sim::Acquirer>>>,
}

impl UiListener for Screen {
    fn ui_request(&self, request: UiRequest) {
        let net = self
            .acquirer
            .lock()
            .unwrap()
            .as_ref()
            .map_or(0, |a| a.ledger().net_fen());
        self.seen.lock().unwrap().push((request, net));
    }
}

impl Screen {
    fn requests(&self) -> Vec<UiRequest> {
        self.seen.lock().unwrap().iter().map(|(r, _)| *r).collect()
    }

    fn net_at(&self, request: UiRequest) -> i64 {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .find(|(r, _)| *r == request)
            .map(|(_, n)| *n)
            .unwrap()
    }
}

/// A signed-on terminal with `card` in its reader's field and a screen watching the UI requests.
fn tap_day(card: VirtualCard) -> (ChipDay, Arc<Screen>) {
    let day = ChipDay::with_card(card);
    let mut aids = day.terminal.contactless_aids();
    for a in &mut aids {
        a.contactless_limit_fen = Some(500_000);
    }
    day.terminal.configure_contactless(aids);
    let screen = Arc::new(Screen::default());
    *screen.acquirer.lock().unwrap() = Some(day.acquirer.clone());
    day.terminal.set_ui_listener(Some(screen.clone()));
    (day, screen)
}

/// A sale with the card as it is in the field (`ChipDay::sale` puts a fresh card back first,
/// which would undo a planned tear).
fn tap(day: &ChipDay, attempt: &str, fen: u64) -> Outcome {
    day.terminal.sale(
        &smartpos_core::txn::SaleRequest {
            attempt_id: attempt.into(),
            amount_fen: fen,
        },
        &smartpos_core::host::CancelToken::new(),
    )
}

fn named(name: &str) -> VirtualCard {
    VirtualCard::named(name).unwrap()
}

fn approval(outcome: &Outcome) -> &smartpos_core::txn::Approval {
    match outcome {
        Outcome::Approved(a) => a,
        other => panic!("not approved: {other:?}"),
    }
}

fn ended(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Terminated(t) => t.code.to_string(),
        other => panic!("not terminated: {other:?}"),
    }
}

fn icc_value(m: &Message, tag: u32) -> Option<Vec<u8>> {
    let objects = tlv::parse(m.bytes(55)?).ok()?;
    tlv::find(&objects, tag)
        .and_then(|t| t.bytes())
        .map(<[u8]>::to_vec)
}

fn balance(day: &ChipDay, name: &str) -> i64 {
    day.acquirer
        .ledger()
        .account(name)
        .map(|a| a.balance_fen)
        .unwrap()
}

/// 小额免密免签: RMB 500 tapped with a QuickPass debit card goes online with field 22 = 072,
/// field 55 from the tap and field 23; no PIN is asked for; "remove card" comes before anything
/// reaches the host; the issuer verifies the ARQC and the account is debited once.
#[test]
fn a_quickpass_tap_under_the_no_cvm_limit_is_approved_without_pin() {
    let (day, screen) = tap_day(named("quickpass-debit"));
    let before = balance(&day, "quickpass-debit");
    let a = approval(&day.sale("t1", 50_000)).clone();
    assert_eq!(a.kind, TxnKind::Sale);
    let sent = day.sent("0200");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].text(22), Some("072"), "contactless, no PIN");
    assert_eq!(sent[0].text(23), Some("001"), "the PAN sequence number");
    assert!(sent[0].bytes(52).is_none(), "no PIN block");
    assert_eq!(icc_value(&sent[0], 0x9F27), Some(vec![0x80]), "the ARQC");
    assert_eq!(balance(&day, "quickpass-debit"), before - 50_000);
    let ui = screen.requests();
    assert_eq!(ui.first(), Some(&UiRequest::PresentCard), "{ui:?}");
    assert_eq!(ui.last(), Some(&UiRequest::Approved), "{ui:?}");
    assert!(!ui.contains(&UiRequest::EnterPin), "{ui:?}");
    assert_eq!(
        screen.net_at(UiRequest::CardReadOk),
        0,
        "remove card is asked for before the host answers"
    );
    assert_eq!(screen.net_at(UiRequest::Approved), 50_000);
    // No second GENERATE AC: the card's last command was the GPO's answer or a READ RECORD.
    assert!(
        !day.card.instructions().contains(&0xAE),
        "{:02X?}",
        day.card.instructions()
    );
}

/// Over RMB 1,000 the credit card's kernel asks for online PIN: entered on the PIN pad after
/// the card was removed, field 22 = 071 and a PIN block; approved by the issuer.
#[test]
fn a_tap_over_the_cvm_limit_asks_for_the_pin_after_the_card_is_removed() {
    let (day, screen) = tap_day(named("quickpass-credit"));
    approval(&day.sale("t1", 150_000));
    let sent = day.sent("0200");
    assert_eq!(sent[0].text(22), Some("071"));
    assert!(sent[0].bytes(52).is_some(), "the PIN block");
    let ui = screen.requests();
    let removed = ui.iter().position(|r| *r == UiRequest::CardReadOk).unwrap();
    let pin = ui.iter().position(|r| *r == UiRequest::EnterPin).unwrap();
    assert!(removed < pin, "{ui:?}");
}

/// Over the CVM required limit the Visa card's CTQ ("signature required") and the Mastercard's
/// CVM list (5E03 1F00, walked by C-2's CVM selection) both end in a signature: no PIN (field
/// 22 = 072), the signature CVM in field 55's 9F34, and the slip carries the line to sign on
/// paper. With a signature pad fitted the pad is asked instead and the slip says it was
/// e-signed. Under the limit neither is signed (小额免密免签 for every scheme's tap).
#[test]
fn a_visa_or_mastercard_tap_whose_cvm_is_a_signature_is_signed() {
    const SIGNATURE_JSON: &str = include_str!("../../core/src/esign/fixtures/signature.json");
    for (name, cvm) in [
        ("visa-qvsdc", [0x1E, 0x00, 0x00]),
        ("mastercard-contactless", [0x5E, 0x03, 0x00]),
    ] {
        let (day, screen) = tap_day(named(name));
        let a = approval(&day.sale("t1", 200_000)).clone();
        let sent = day.sent("0200");
        assert_eq!(sent[0].text(22), Some("072"), "{name}");
        assert_eq!(icc_value(&sent[0], 0x9F34), Some(cvm.to_vec()), "{name}");
        assert!(!screen.requests().contains(&UiRequest::EnterPin), "{name}");
        assert_eq!(a.signature, None, "{name}: no pad fitted");
        let slip = a.receipt.to_string();
        assert!(
            slip.contains("CARDHOLDER SIGNATURE: ____"),
            "{name}: {slip}"
        );
        let small = approval(&day.sale("t2", 20_000)).clone();
        let slip = small.receipt.to_string();
        assert!(!slip.contains("CARDHOLDER SIGNATURE"), "{name}: {slip}");

        let (day, _) = tap_day(named(name));
        let strokes = smartpos_core::esign::Strokes::from_json(SIGNATURE_JSON).unwrap();
        let pad = Arc::new(smartpos_core::ports::ScriptedSignaturePad::signing(strokes));
        day.terminal
            .fit_signature_pad(smartpos_core::txn::SignatureSetup {
                pad: pad.clone(),
                policy: smartpos_core::esign::SignaturePolicy::default(),
                timeout: std::time::Duration::from_secs(60),
                paperless: false,
            });
        let a = approval(&day.sale("t1", 200_000)).clone();
        assert_eq!(pad.requests().len(), 1, "{name}: the pad is asked once");
        assert!(
            matches!(
                a.signature,
                Some(smartpos_core::txn::SignatureNote::Signed { .. })
            ),
            "{name}: {:?}",
            a.signature
        );
        let slip = a.receipt.to_string();
        assert!(slip.contains("E-SIGNED"), "{name}: {slip}");
        assert!(
            !slip.contains("CARDHOLDER SIGNATURE: ____"),
            "{name}: {slip}"
        );
    }
}

/// At or over the reader's contactless limit the tap cannot pay: the screen says insert before
/// the tap, and the tapped card ends with an explained "insert the card"; nothing is sent.
#[test]
fn a_tap_over_the_contactless_limit_is_told_to_insert() {
    let (day, screen) = tap_day(named("quickpass-debit"));
    let outcome = day.sale("t1", 600_000);
    assert_eq!(ended(&outcome), "OP_TAP_INSERT_CARD");
    let Outcome::Terminated(t) = &outcome else {
        unreachable!()
    };
    assert!(t.merchant_zh.contains("插卡"), "{}", t.merchant_zh);
    assert!(
        t.merchant_en.contains("contactless limit"),
        "{}",
        t.merchant_en
    );
    assert_eq!(screen.requests().first(), Some(&UiRequest::InsertCard));
    assert!(day.sent("0200").is_empty());
    assert_eq!(day.net_fen(), 0);
}

/// The card leaves the field during GET PROCESSING OPTIONS: tap again, nothing charged; the
/// next tap of the same card pays.
#[test]
fn a_card_pulled_away_too_early_is_told_to_tap_again_and_nothing_is_charged() {
    let profile = catalogue::card("quickpass-debit").unwrap();
    let card = VirtualCard::new(profile.with_tear(Tear {
        ins: 0xA8,
        occurrence: 1,
        after_processing: true,
    }));
    let (day, screen) = tap_day(card);
    let outcome = tap(&day, "t1", 30_000);
    assert_eq!(ended(&outcome), "OP_TAP_AGAIN");
    assert!(screen.requests().contains(&UiRequest::TryAgain));
    assert!(day.sent("0200").is_empty());
    assert_eq!(day.net_fen(), 0);
    approval(&day.sale("t2", 30_000));
    assert_eq!(day.net_fen(), 30_000);
}

/// A phone wallet over the CVM limit answers "see phone"; the flow waits for the second tap,
/// which carries the phone's own verification (CDCVM): approved with no PIN.
#[test]
fn a_phone_asking_to_see_phone_is_tapped_again_and_approved() {
    let (day, screen) = tap_day(named("quickpass-phone"));
    approval(&day.sale("t1", 150_000));
    let ui = screen.requests();
    let see = ui.iter().position(|r| *r == UiRequest::SeePhone).unwrap();
    assert_eq!(ui.get(see + 1), Some(&UiRequest::PresentCard), "{ui:?}");
    assert!(!ui.contains(&UiRequest::EnterPin), "{ui:?}");
    let sent = day.sent("0200");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].text(22), Some("072"));
    assert_eq!(day.net_fen(), 150_000);
}

/// Within the floor limit and the EC balance the card approves offline: journaled as an
/// offline sale, nothing sent, the upload queued; settlement sends it, the issuer verifies
/// the TC and the ledger is debited once.
#[test]
fn an_offline_ec_approval_is_uploaded_at_settlement() {
    let (day, screen) = tap_day(named("quickpass-debit"));
    let mut aids = day.terminal.contactless_aids();
    for a in &mut aids {
        a.floor_limit_fen = 100_000;
    }
    day.terminal.configure_contactless(aids);
    let a = approval(&day.sale("t1", 30_000)).clone();
    assert_eq!(a.kind, TxnKind::OfflineSale);
    assert_eq!(screen.requests().last(), Some(&UiRequest::Approved));
    assert!(day.sent("0200").is_empty());
    assert_eq!(day.net_fen(), 0, "the acquirer has nothing yet");
    assert_eq!(day.card.counters(0).unwrap().ec_balance_fen, 20_000);

    let report = day.terminal.settle().unwrap();
    let uploads = day.sent("0220");
    assert_eq!(uploads.len(), 1);
    // Rebuilt from the journal: 07 from the entry mode, 2 from the CVM results it kept.
    assert_eq!(uploads[0].text(22), Some("072"));
    assert_eq!(icc_value(&uploads[0], 0x8A), Some(b"Y1".to_vec()));
    assert_eq!(day.net_fen(), 30_000, "debited once, from the upload");
    assert!(report.balanced, "{report:?}");
}

/// Visa (kernel 3, qVSDC) and Mastercard (kernel 2, M/Chip with CDA) taps go online and are
/// approved by the issuer with their own cryptograms.
#[test]
fn visa_qvsdc_and_mastercard_c2_taps_are_approved() {
    for name in ["visa-qvsdc", "mastercard-contactless"] {
        let (day, _) = tap_day(named(name));
        let before = balance(&day, name);
        approval(&day.sale("t1", 20_000));
        let sent = day.sent("0200");
        assert_eq!(sent.len(), 1, "{name}");
        assert_eq!(sent[0].text(22), Some("072"), "{name}");
        assert_eq!(balance(&day, name), before - 20_000, "{name}");
    }
}

/// The card torn from the field at every command it receives during a tap, before and after
/// acting on it: every attempt ends approved or told to tap again, nothing is charged for a
/// tap that did not pay, and the ledger holds exactly the approvals.
#[test]
fn tearing_at_every_command_charges_nothing_or_pays_once() {
    for name in ["quickpass-debit", "mastercard-contactless"] {
        let probe = named(name);
        let (day, _) = tap_day(probe);
        approval(&day.sale("probe", 10_000));
        let commands = day.card.instructions();
        let mut counts = std::collections::HashMap::<u8, u32>::new();
        let mut told_to_tap_again = 0;
        let tears = 2 * commands.len();
        for ins in commands {
            let occurrence = {
                let n = counts.entry(ins).or_insert(0);
                *n += 1;
                *n
            };
            for after_processing in [false, true] {
                let profile: CardProfile = catalogue::card(name).unwrap();
                let card = VirtualCard::new(profile.with_tear(Tear {
                    ins,
                    occurrence,
                    after_processing,
                }));
                let (day, _) = tap_day(card);
                let outcome = tap(&day, "torn", 10_000);
                let what =
                    format!("{name} torn at {ins:02X}#{occurrence} after={after_processing}");
                match &outcome {
                    Outcome::Approved(_) => assert_eq!(day.net_fen(), 10_000, "{what}"),
                    Outcome::Terminated(t) => {
                        assert_eq!(t.code.to_string(), "OP_TAP_AGAIN", "{what}");
                        assert!(day.sent("0200").is_empty(), "{what}");
                        assert_eq!(day.net_fen(), 0, "{what}");
                        told_to_tap_again += 1;
                    }
                }
                assert!(day.terminal.owed_reversals().unwrap().is_empty(), "{what}");
            }
        }
        // Every command the tap sends happens before the card is released, so every tear
        // stops the tap; none reaches the host.
        assert_eq!(told_to_tap_again, tears, "{name}");
    }
}

/// The host's answer to a tap is lost after the request may have reached it: the card is long
/// gone, so only the reversal can undo it — armed before the request left, sent at once, and
/// the ledger holds nothing.
#[test]
fn a_tap_whose_answer_is_lost_is_reversed_and_nothing_is_charged() {
    let (day, screen) = tap_day(named("quickpass-debit"));
    day.proxy
        .next("0200", smartpos_tools::sim::Tamper::DropAnswer);
    let outcome = tap(&day, "t1", 20_000);
    assert_eq!(ended(&outcome), "NET_TIMEOUT");
    assert_eq!(screen.requests().last(), Some(&UiRequest::Declined));
    let reversals = day.sent("0400");
    assert_eq!(reversals.len(), 1);
    assert_eq!(reversals[0].text(22), Some("072"));
    assert!(day.terminal.owed_reversals().unwrap().is_empty());
    assert_eq!(day.net_fen(), 0);
}
