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
    acquirer_with(ledger)
}

fn acquirer_with(ledger: Ledger) -> (Acquirer, SecretKey) {
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

/// The script card gets a PUT DATA of its EC balance in template 72 with the approval, and
/// the card applies it after the second GENERATE AC.
#[test]
fn the_script_card_gets_its_standing_script_in_the_answer() {
    let (acquirer, mak) = acquirer();
    let name = "unionpay-scripts";
    let c = card(name);
    let txn = start(&c, 2_500);
    let ac = parse_ac(&generate_ac(&c, 0x80, &txn.cdol1, &txn.values).0);
    let pan = catalogue::pan_of(name).expect("pan");
    let resp = acquirer
        .process(&sale(&mak, pan, 11, 2_500, field55(&txn, &ac)))
        .expect("answered");
    assert_eq!(resp.text(39), Some("00"));
    let f55 = resp.bytes(55).expect("55").to_vec();
    let objects = smartpos_core::codec::tlv::parse(&f55).expect("tlv");
    let script = smartpos_core::codec::tlv::find(&objects, 0x72).expect("template 72");
    let command = script
        .children()
        .iter()
        .find(|t| t.tag == 0x86)
        .and_then(|t| t.bytes())
        .expect("one command")
        .to_vec();
    assert_eq!(
        &command[..4],
        &[0x04, 0xDA, 0x9F, 0x79],
        "PUT DATA 9F79 under SM"
    );
    let iad91 = find(&f55, 0x91).expect("91");
    assert_eq!(send(&c, &apdu(0x00, 0x82, 0, 0, &iad91, None)).1, 0x9000);
    generate_ac(&c, 0x40, &txn.cdol2, &txn.values);
    assert_eq!(send(&c, &command).1, 0x9000);
    assert_eq!(c.counters(0).expect("app").ec_balance_fen, 100_000);
    // Other cards get no script.
    let other = card("unionpay-debit-sda");
    let txn = start(&other, 100);
    let ac = parse_ac(&generate_ac(&other, 0x80, &txn.cdol1, &txn.values).0);
    let pan = catalogue::pan_of("unionpay-debit-sda").expect("pan");
    let resp = acquirer
        .process(&sale(&mak, pan, 12, 100, field55(&txn, &ac)))
        .expect("answered");
    let objects = smartpos_core::codec::tlv::parse(resp.bytes(55).expect("55")).expect("tlv");
    assert!(smartpos_core::codec::tlv::find(&objects, 0x91).is_some());
    assert!(smartpos_core::codec::tlv::find(&objects, 0x72).is_none());
}

/// A ledger saved and loaded keeps no card numbers; adding the catalogue accounts again binds
/// them to their cards and keeps the balances.
#[test]
fn catalogue_accounts_survive_a_ledger_reload() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("ledger.json");
    let mut ledger = Ledger::new();
    catalogue::add_ledger_accounts(&mut ledger);
    let (acquirer, mak) = acquirer_with(ledger);
    let name = "unionpay-credit";
    let c = card(name);
    let txn = start(&c, 700);
    let ac = parse_ac(&generate_ac(&c, 0x80, &txn.cdol1, &txn.values).0);
    let pan = catalogue::pan_of(name).expect("pan");
    let resp = acquirer
        .process(&sale(&mak, pan, 21, 700, field55(&txn, &ac)))
        .expect("answered");
    assert_eq!(resp.text(39), Some("00"));
    acquirer.ledger().save(&path).expect("saved");
    let mut reloaded = Ledger::load(&path).expect("loaded");
    catalogue::add_ledger_accounts(&mut reloaded);
    assert_eq!(
        reloaded.account(name).expect("account").balance_fen,
        1_000_000 - 700
    );
    // The card reaches its account again.
    let (acquirer, mak) = acquirer_with(reloaded);
    c.insert();
    let txn = start(&c, 300);
    let ac = parse_ac(&generate_ac(&c, 0x80, &txn.cdol1, &txn.values).0);
    let resp = acquirer
        .process(&sale(&mak, pan, 22, 300, field55(&txn, &ac)))
        .expect("answered");
    assert_eq!(resp.text(39), Some("00"));
    assert_eq!(
        acquirer
            .ledger()
            .account(name)
            .expect("account")
            .balance_fen,
        1_000_000 - 1_000
    );
}
