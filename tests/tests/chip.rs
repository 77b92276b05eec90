//! An inserted chip card end to end: the contact kernel over a virtual card with real keys, the
//! acquirer simulator playing issuer (ARQC checked, ARPC answered), and the journal. A host
//! approval the card refuses at its second GENERATE AC, or a card pulled out before it, is
//! reversed with reason 96 and the ledger ends unchanged.

#![allow(clippy::unwrap_used)] // helpers outside #[test] functions

use smartpos_core::codec::iso8583::Frame;
use smartpos_core::store::{ReversalState, TxnState};
use smartpos_core::txn::{Outcome, SaleRequest};
use smartpos_e2e::chip_day::ChipDay;
use smartpos_tools::card_sim::{Tear, VirtualCard, catalogue};

fn code(outcome: &Outcome) -> String {
    outcome
        .termination()
        .map(|t| t.code.to_string())
        .unwrap_or_else(|| "APPROVED".into())
}

#[test]
fn an_inserted_card_is_approved_online_with_its_cryptogram() {
    let day = ChipDay::with_card(VirtualCard::named("unionpay-debit-sda").unwrap());
    let outcome = day.sale("c1", 12_34);
    assert_eq!(code(&outcome), "APPROVED", "{outcome:?}");
    assert_eq!(day.net_fen(), 12_34);
    let request = day.sent("0200").pop().unwrap();
    assert_eq!(&request.text(22).unwrap()[..2], "05", "chip entry");
    assert!(request.text(23).is_some(), "PAN sequence number");
    let field55 = request.bytes(55).expect("field 55");
    let objects = smartpos_core::codec::tlv::parse(field55).unwrap();
    for tag in [
        0x9F26, 0x9F27, 0x9F10, 0x9F37, 0x9F36, 0x95, 0x9A, 0x9C, 0x9F02, 0x82,
    ] {
        assert!(
            smartpos_core::codec::tlv::find(&objects, tag).is_some(),
            "field 55 lacks {tag:X}"
        );
    }
    // The card finished with the issuer's ARPC: it answered two GENERATE ACs.
    let gen_acs = day
        .card
        .instructions()
        .iter()
        .filter(|&&i| i == 0xAE)
        .count();
    assert_eq!(gen_acs, 2);
    let record = day.terminal.transactions().unwrap().pop().unwrap();
    assert_eq!(record.state, TxnState::Approved);
}

/// Every scheme's card, each with its offline data authentication (SDA, DDA, CDA, SM2), goes
/// online and is approved; the TVR in field 55 shows the authentication performed and passed.
#[test]
fn every_catalogue_card_authenticates_offline_and_is_approved_online() {
    for name in [
        "unionpay-debit-sda",
        "unionpay-debit-dda",
        "unionpay-debit-cda",
        "unionpay-credit",
        "pboc-sm",
        "visa",
        "mastercard",
    ] {
        let day = ChipDay::with_card(VirtualCard::named(name).unwrap());
        let outcome = day.sale("c1", 99_00);
        assert_eq!(code(&outcome), "APPROVED", "{name}: {outcome:?}");
        assert_eq!(day.net_fen(), 99_00, "{name}");
        let request = day.sent("0200").pop().unwrap();
        let objects = smartpos_core::codec::tlv::parse(request.bytes(55).unwrap()).unwrap();
        let tvr = smartpos_core::codec::tlv::find(&objects, 0x95)
            .and_then(|t| t.bytes())
            .unwrap()
            .to_vec();
        // TVR byte 1: ODA not performed (80), SDA failed (40), ICC data missing (20), DDA
        // failed (08), CDA failed (04) — EMV 4.4 Book 3 Annex C5.
        assert_eq!(tvr[0] & 0xEC, 0, "{name}: TVR {}", hex::encode_upper(&tvr));
    }
}

#[test]
fn a_card_that_refuses_the_hosts_approval_is_reversed_with_96() {
    let day = ChipDay::with_card(VirtualCard::named("unionpay-declines-second-ac").unwrap());
    let outcome = day.sale("c1", 50_00);
    assert_eq!(code(&outcome), "ACC_CARD_DECLINED_AFTER_APPROVAL");
    let reversal = day.sent("0400").pop().expect("a reversal was sent");
    assert_eq!(reversal.field_text(39).as_deref(), Some("96"));
    assert_reversal_icc_data(&reversal);
    assert_eq!(day.net_fen(), 0, "the ledger is unchanged");
    assert!(
        day.terminal
            .pending_reversals()
            .unwrap()
            .iter()
            .all(|r| r.state == ReversalState::Cleared)
    );
}

/// A chip reversal's field 55 holds what the issuer needs to undo the card's side (TVR, IAD,
/// ATC) and never the cryptogram.
fn assert_reversal_icc_data(reversal: &smartpos_core::codec::iso8583::Message) {
    let objects = smartpos_core::codec::tlv::parse(reversal.bytes(55).expect("field 55")).unwrap();
    for tag in [0x95, 0x9F10, 0x9F36] {
        assert!(
            smartpos_core::codec::tlv::find(&objects, tag).is_some(),
            "reversal field 55 lacks {tag:X}"
        );
    }
    assert!(smartpos_core::codec::tlv::find(&objects, 0x9F26).is_none());
}

/// The host's answer to a chip sale is lost: the card ends by its default action, and the
/// terminal reverses (98) with the card's data the issuer needs; the ledger is unchanged.
#[test]
fn a_lost_answer_to_a_chip_sale_is_reversed_with_its_chip_data() {
    let day = ChipDay::with_card(VirtualCard::named("unionpay-debit-dda").unwrap());
    day.proxy
        .next("0200", smartpos_tools::sim::Tamper::DropAnswer);
    let outcome = day.sale("c1", 30_00);
    assert_eq!(code(&outcome), "NET_TIMEOUT");
    let reversal = day.sent("0400").pop().expect("a reversal was sent");
    assert_eq!(reversal.field_text(39).as_deref(), Some("98"));
    assert_reversal_icc_data(&reversal);
    assert_eq!(day.net_fen(), 0);
}

#[test]
fn a_card_pulled_out_before_the_second_generate_ac_is_reversed() {
    let profile = catalogue::card("unionpay-debit-sda")
        .unwrap()
        .with_tear(Tear {
            ins: 0xAE,
            occurrence: 2,
            after_processing: false,
        });
    // Freshly made, the card is in the slot; `insert` would clear the planned tear.
    let day = ChipDay::with_card(VirtualCard::new(profile));
    let outcome = day.terminal.sale(
        &SaleRequest {
            attempt_id: "c1".into(),
            amount_fen: 8_00,
        },
        &smartpos_core::host::CancelToken::new(),
    );
    assert_eq!(code(&outcome), "ACC_CARD_DECLINED_AFTER_APPROVAL");
    assert_eq!(day.sent("0400").len(), 1);
    assert_eq!(day.net_fen(), 0);
}

/// A card torn out during READ RECORD: the merchant is told the card was removed (not that the
/// reader failed, which asks for another remedy), and nothing leaves the terminal.
#[test]
fn a_card_torn_out_mid_dialogue_ends_card_removed_before_anything_is_sent() {
    let profile = catalogue::card("unionpay-debit-sda")
        .unwrap()
        .with_tear(Tear {
            ins: 0xB2,
            occurrence: 1,
            after_processing: false,
        });
    // Freshly made, the card is in the slot; `insert` would clear the planned tear.
    let day = ChipDay::with_card(VirtualCard::new(profile));
    let before = day.proxy.captured().len();
    let outcome = day.terminal.sale(
        &SaleRequest {
            attempt_id: "c1".into(),
            amount_fen: 3_00,
        },
        &smartpos_core::host::CancelToken::new(),
    );
    assert_eq!(code(&outcome), "DEV_CARD_REMOVED", "{outcome:?}");
    assert_eq!(
        day.proxy.captured().len(),
        before,
        "nothing left the terminal"
    );
    assert_eq!(day.net_fen(), 0);
}

#[test]
fn a_blocked_card_ends_before_anything_is_sent() {
    let day = ChipDay::with_card(VirtualCard::named("unionpay-blocked").unwrap());
    let before = day.proxy.captured().len();
    let outcome = day.sale("c1", 1_00);
    assert_eq!(code(&outcome), "ACC_CHIP_BLOCKED");
    assert_eq!(
        day.proxy.captured().len(),
        before,
        "nothing left the terminal"
    );
}

/// The chip that cannot be used (no application the terminal shares, here every SELECT answered
/// 6A82) is a fact the kernel reports: the merchant is asked to swipe, and the swipe of that chip
/// card goes as a fallback (field 22 = 80x), which no shell flag could claim before.
#[test]
fn a_chip_without_a_mutual_application_falls_back_to_the_swipe() {
    use smartpos_core::ports::CardPresentation;
    use smartpos_e2e::Harness;
    let (h, proxy) = Harness::behind_proxy();
    h.reader.present(CardPresentation::ContactChip);
    h.reader.set_responder(|_| Ok(vec![0x6A, 0x82]));
    let outcome = h.sale("f1", "chip", Some("123456"), 3_00);
    assert_eq!(code(&outcome), "APPROVED", "{outcome:?}");
    let sent: Vec<_> = proxy
        .captured()
        .iter()
        .filter_map(|b| Frame::decode_body(b).ok())
        .filter(|f| f.message.mti() == "0200")
        .collect();
    assert_eq!(&sent[0].message.text(22).unwrap()[..2], "80");
    assert!(sent[0].message.bytes(55).is_none());
}

/// The electronic cash balance comes from the card (GET DATA 9F79), offline: nothing is sent
/// and nothing journaled.
#[test]
fn the_electronic_cash_balance_is_read_from_the_chip_offline() {
    let day = ChipDay::with_card(VirtualCard::named("unionpay-debit-dda").unwrap());
    let before = day.proxy.captured().len();
    day.card.insert();
    let ec = day.terminal.ec_balance().unwrap();
    assert_eq!(ec.balance_fen, 50_000, "the catalogue card's EC balance");
    assert_eq!(hex::encode_upper(&ec.aid), "A000000333010101");
    assert_eq!(day.proxy.captured().len(), before, "nothing sent");
    let sales_before = day.terminal.transactions().unwrap().len();
    assert_eq!(sales_before, 0, "nothing journaled");
    // The inquiry gave the card back; with the slot empty it ends explained.
    let empty = day.terminal.ec_balance().unwrap_err();
    assert_eq!(empty.code.to_string(), "OP_NO_CARD");
}
