//! The acquirer simulator as the chip card's issuer, through its message handling: a sale
//! whose field 55 holds a good ARQC is approved with the ARPC in tag 91 and moves money once;
//! a wrong ARQC is declined 59 and moves none.

mod card_sim_support;

use card_sim_support::*;
use smartpos_core::codec::iso8583::Message;
use smartpos_core::codec::iso8583::cups::{Field60, mac_input};
use smartpos_core::crypto::{self, KeyAlgorithm, MacAlgorithm, SecretKey};
use smartpos_tools::card_sim::{CID_ARQC, catalogue};
use smartpos_tools::demo_setup;
use smartpos_tools::sim::Acquirer;
use smartpos_tools::sim::ledger::Ledger;

const TID: &str = "10000001";

fn acquirer() -> (Acquirer, SecretKey) {
    let mut ledger = Ledger::new();
    catalogue::add_ledger_accounts(&mut ledger);
    let acquirer = Acquirer::new(ledger, demo_setup::demo_tmk());
    let mut sign_on = Message::new("0800");
    sign_on.set_text(41, TID);
    sign_on.set_text(42, "123456789012345");
    sign_on.set_digits(60, "00000001003");
    let resp = acquirer.process(&sign_on).expect("answered");
    assert_eq!(resp.text(39), Some("00"));
    let f62 = resp.bytes(62).expect("keys");
    let mak = crypto::ecb_decrypt(&demo_setup::demo_tmk(), &f62[20..36]).expect("MAK");
    (
        acquirer,
        SecretKey::new(KeyAlgorithm::Tdes, &mak).expect("key"),
    )
}

fn sale(mak: &SecretKey, pan: &str, stan: u32, amount_fen: u64, f55: Vec<u8>) -> Message {
    let mut m = Message::new("0200");
    m.set_digits(2, pan);
    m.set_digits(3, "000000");
    m.set_digits(4, &format!("{amount_fen:012}"));
    m.set_digits(11, &format!("{stan:06}"));
    m.set_digits(22, "051");
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
        read_capability: Some('5'),
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

#[test]
fn a_good_arqc_is_approved_with_the_arpc_and_moves_money_once() {
    let (acquirer, mak) = acquirer();
    let name = "unionpay-debit-sda";
    let c = card(name);
    let txn = start(&c, 2_500);
    let ac = parse_ac(&generate_ac(&c, 0x80, &txn.cdol1, &txn.values).0);
    assert_eq!(ac.cid, CID_ARQC);
    let pan = catalogue::pan_of(name).expect("pan");
    let before = acquirer
        .ledger()
        .account(name)
        .expect("account")
        .balance_fen;
    let resp = acquirer
        .process(&sale(&mak, pan, 1, 2_500, field55(&txn, &ac)))
        .expect("answered");
    assert_eq!(resp.text(39), Some("00"));
    let iad91 = find(resp.bytes(55).expect("field 55 in the answer"), 0x91).expect("91");
    assert_eq!(&iad91[8..], b"00");
    assert_eq!(
        send(&c, &apdu(0x00, 0x82, 0, 0, &iad91, None)).1,
        0x9000,
        "the card accepts it"
    );
    assert_eq!(
        acquirer
            .ledger()
            .account(name)
            .expect("account")
            .balance_fen,
        before - 2_500
    );
    // The same message again is a duplicate: no second debit.
    let again = acquirer
        .process(&sale(&mak, pan, 1, 2_500, field55(&txn, &ac)))
        .expect("answered");
    assert_ne!(again.text(39), Some("00"));
    assert_eq!(
        acquirer
            .ledger()
            .account(name)
            .expect("account")
            .balance_fen,
        before - 2_500
    );
}

#[test]
fn a_wrong_arqc_is_declined_59_and_moves_no_money() {
    let (acquirer, mak) = acquirer();
    let name = "unionpay-credit";
    let c = card(name);
    let txn = start(&c, 2_500);
    let mut ac = parse_ac(&generate_ac(&c, 0x80, &txn.cdol1, &txn.values).0);
    ac.cryptogram[7] ^= 0x01;
    let pan = catalogue::pan_of(name).expect("pan");
    let before = acquirer.ledger().net_fen();
    let resp = acquirer
        .process(&sale(&mak, pan, 7, 2_500, field55(&txn, &ac)))
        .expect("answered");
    assert_eq!(resp.text(39), Some("59"));
    assert!(
        resp.bytes(55).is_none(),
        "no ARPC for a cryptogram that failed"
    );
    assert_eq!(acquirer.ledger().net_fen(), before);
    assert!(acquirer.ledger().postings().is_empty());

    // A field 55 without the ATC cannot be checked: format error.
    let mut f55 = field55(&txn, &ac);
    let objects: Vec<_> = smartpos_core::codec::tlv::parse(&f55)
        .expect("tlv")
        .into_iter()
        .filter(|t| t.tag != 0x9F36)
        .collect();
    f55 = smartpos_core::codec::tlv::encode(&objects);
    let resp = acquirer
        .process(&sale(&mak, pan, 8, 2_500, f55))
        .expect("answered");
    assert_eq!(resp.text(39), Some("30"));
}

#[test]
fn a_declined_sale_still_carries_an_arpc_with_its_response_code() {
    let (acquirer, mak) = acquirer();
    let name = "visa";
    let c = card(name);
    // More than the account holds: the issuer declines 51, and says so to the card too.
    let txn = start(&c, 2_000_000);
    let ac = parse_ac(&generate_ac(&c, 0x80, &txn.cdol1, &txn.values).0);
    let pan = catalogue::pan_of(name).expect("pan");
    let resp = acquirer
        .process(&sale(&mak, pan, 9, 2_000_000, field55(&txn, &ac)))
        .expect("answered");
    assert_eq!(resp.text(39), Some("51"));
    let iad91 = find(resp.bytes(55).expect("55"), 0x91).expect("91");
    assert_eq!(&iad91[8..], b"51");
    assert_eq!(send(&c, &apdu(0x00, 0x82, 0, 0, &iad91, None)).1, 0x9000);
}
