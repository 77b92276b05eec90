//! The virtual chip cards against the behaviour EMV 4.4 Books 1 and 3 and ISO 7816-4 give each
//! command, and against the simulated issuer's recomputation of their cryptograms.

mod card_sim_support;

use std::time::Duration;

use card_sim_support::*;
use smartpos_core::card::{LuhnCheck, Pan};
use smartpos_core::ports::{CardPresentation, CardReader, DeviceFault};
use smartpos_tools::card_sim::{
    CID_AAC, CID_ARQC, CID_TC, PSE_NAME, Tear, VirtualCard, catalogue, dol, format2_block, keys,
};
use smartpos_tools::sim::issuer::{ChipCheckError, Issuer, ScriptCommand};

const UNIONPAY: &str = "A000000333";

#[test]
fn every_catalogue_card_builds_with_a_luhn_valid_pan_of_its_scheme() {
    for &name in catalogue::NAMES {
        let profile = catalogue::card(name).expect(name);
        let pan = catalogue::pan_of(name).expect("pan");
        assert_eq!(
            Pan::parse(pan).expect("pan").luhn(),
            LuhnCheck::Valid,
            "{name}"
        );
        let app = &profile.applications[0];
        let rid = hex::encode_upper(&app.aid[..5]);
        let expected_bin = match rid.as_str() {
            "A000000333" => "62",
            "A000000003" => "4",
            "A000000004" => "5",
            other => panic!("unexpected RID {other}"),
        };
        assert!(
            pan.starts_with(expected_bin),
            "{name}: {rid} card with PAN {pan:.2}…"
        );
        // The cryptogram's terminal data must all be in CDOL1, or no issuer could check it.
        let tags: Vec<u32> = dol::entries(&app.cdol1)
            .expect("CDOL1")
            .iter()
            .map(|e| e.tag)
            .collect();
        for (tag, _) in keys::AC_TERMINAL_TAGS {
            assert!(tags.contains(&tag), "{name}: CDOL1 lacks {tag:X}");
        }
    }
    assert!(catalogue::card("no-such-card").is_err());
}

#[test]
fn detect_reports_a_contact_chip() {
    let c = VirtualCard::new(catalogue::card("unionpay-debit-sda").expect("card"));
    assert_eq!(c.detect(Duration::ZERO), Ok(CardPresentation::ContactChip));
    c.remove_card().expect("removed");
    assert_eq!(c.detect(Duration::ZERO), Err(DeviceFault::NoCardPresented));
    c.insert();
    assert_eq!(c.detect(Duration::ZERO), Ok(CardPresentation::ContactChip));
}

/// Book 1 §12.2.2-3: the PSE's FCI names the directory SFI (88); its record holds one
/// application template 61 per application.
#[test]
fn pse_fci_names_the_directory_and_the_directory_lists_applications() {
    let c = card("unionpay-dual");
    let (fci, sw) = select(&c, PSE_NAME, 0);
    assert_eq!(sw, 0x9000);
    assert_eq!(find(&fci, 0x84).expect("DF name"), PSE_NAME);
    assert_eq!(find(&fci, 0x88), Some(vec![1]));
    let (dir, sw) = send(&c, &apdu(0x00, 0xB2, 1, 0x0C, &[], Some(0)));
    assert_eq!(sw, 0x9000);
    let hex_dir = hex::encode_upper(&dir);
    assert!(hex_dir.contains("4F08A000000333010101"), "{hex_dir}");
    assert!(hex_dir.contains("4F08A000000333010102"), "{hex_dir}");
    let (_, sw) = send(&c, &apdu(0x00, 0xB2, 2, 0x0C, &[], Some(0)));
    assert_eq!(sw, 0x6A83, "no second directory record");
    // The Mastercard card has no PSE: the terminal falls back to its list of AIDs.
    let (_, sw) = select(&card("mastercard"), PSE_NAME, 0);
    assert_eq!(sw, 0x6A82);
}

/// Book 1 §11.3.2 and §12.3.3: a partial DF name selects the first matching application;
/// P2 = 02 with the same name the next one; none left is 6A82.
#[test]
fn partial_select_walks_the_occurrences() {
    let c = card("unionpay-dual");
    let rid = hex::decode(UNIONPAY).expect("hex");
    let (fci, sw) = select(&c, &rid, 0x00);
    assert_eq!(sw, 0x9000);
    assert_eq!(
        hex::encode_upper(find(&fci, 0x84).expect("84")),
        "A000000333010101"
    );
    assert!(
        find(&fci, 0x9F38).is_some(),
        "UnionPay FCI carries the PDOL"
    );
    let (fci, sw) = select(&c, &rid, 0x02);
    assert_eq!(sw, 0x9000);
    assert_eq!(
        hex::encode_upper(find(&fci, 0x84).expect("84")),
        "A000000333010102"
    );
    let (_, sw) = select(&c, &rid, 0x02);
    assert_eq!(sw, 0x6A82);
    let (_, sw) = select(&c, &hex::decode("A0000000031010").expect("hex"), 0);
    assert_eq!(sw, 0x6A82, "no Visa application on this card");
    let (_, sw) = send(&c, &apdu(0x00, 0xA4, 0x04, 0x01, &rid, Some(0)));
    assert_eq!(sw, 0x6A86, "last occurrence is not supported");
}

#[test]
fn a_blocked_application_answers_6283_and_cannot_be_used() {
    let c = card("unionpay-blocked");
    let (fci, sw) = select(&c, &hex::decode("A000000333010101").expect("hex"), 0);
    assert_eq!(sw, 0x6283);
    assert!(find(&fci, 0x84).is_some(), "the FCI still comes with 6283");
    let (_, sw) = send(
        &c,
        &apdu(
            0x80,
            0xA8,
            0,
            0,
            &[0x83, 0x09, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            Some(0),
        ),
    );
    assert_eq!(sw, 0x6985);
}

/// Book 3 §6.5.8: the command data is template 83 with exactly the PDOL's data.
#[test]
fn gpo_checks_the_pdol_data_and_refusing_cards_answer_6985() {
    let aid = hex::decode("A000000333010101").expect("hex");
    let c = card("unionpay-debit-sda");
    select(&c, &aid, 0);
    let (_, sw) = send(&c, &apdu(0x80, 0xA8, 0, 0, &[0x83, 0x00], Some(0)));
    assert_eq!(sw, 0x6700, "the PDOL asks for 9 bytes");
    let (_, sw) = send(
        &c,
        &apdu(
            0x80,
            0xA8,
            0,
            0,
            &[0x83, 0x09, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            Some(0),
        ),
    );
    assert_eq!(sw, 0x9000);
    let (_, sw) = send(
        &c,
        &apdu(
            0x80,
            0xA8,
            0,
            0,
            &[0x83, 0x09, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            Some(0),
        ),
    );
    assert_eq!(sw, 0x6985, "one GPO per transaction");

    let refused = card("unionpay-gpo-refused");
    select(&refused, &aid, 0);
    let (_, sw) = send(
        &refused,
        &apdu(
            0x80,
            0xA8,
            0,
            0,
            &[0x83, 0x09, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            Some(0),
        ),
    );
    assert_eq!(sw, 0x6985);
}

#[test]
fn records_follow_the_afl_and_hold_the_card_data() {
    let c = card("unionpay-expired");
    let txn = start(&c, 1000);
    assert_eq!(txn.afl, vec![0x08, 1, 1, 0, 0x10, 1, 1, 1]);
    let all: Vec<u8> = txn.records.concat();
    assert_eq!(
        find(&all, 0x5F24),
        Some(vec![0x24, 0x12, 0x31]),
        "expired card"
    );
    assert_eq!(
        find(&all, 0x5A),
        Some(hex::decode("6222020000000262").expect("hex"))
    );
    assert_eq!(find(&all, 0x5F34), Some(vec![0x01]));
    assert!(find(&all, 0x57).is_some() && find(&all, 0x8E).is_some());
    let (_, sw) = send(&c, &apdu(0x00, 0xB2, 2, 0x14, &[], Some(0)));
    assert_eq!(sw, 0x6A83, "record 2 of SFI 2 does not exist");
    let (_, sw) = send(&c, &apdu(0x00, 0xB2, 1, 0x3C, &[], Some(0)));
    assert_eq!(sw, 0x6A82, "SFI 7 does not exist");
    let fresh = card("unionpay-expired");
    let (_, sw) = send(&fresh, &apdu(0x00, 0xB2, 1, 0x0C, &[], Some(0)));
    assert_eq!(sw, 0x6985, "nothing selected");
}

#[test]
fn get_data_reads_the_counters() {
    let c = card("unionpay-offline-pin");
    let before = c.counters(0).expect("app").atc;
    start(&c, 1000);
    let get = |p1: u8, p2: u8| send(&c, &apdu(0x80, 0xCA, p1, p2, &[], Some(0)));
    let (atc, sw) = get(0x9F, 0x36);
    assert_eq!(sw, 0x9000);
    let atc = find(&atc, 0x9F36).expect("9F36");
    assert_eq!(
        u16::from_be_bytes([atc[0], atc[1]]),
        before + 1,
        "GPO moved the ATC"
    );
    assert_eq!(find(&get(0x9F, 0x13).0, 0x9F13), Some(vec![0x00, 0x0F]));
    assert_eq!(find(&get(0x9F, 0x17).0, 0x9F17), Some(vec![3]));
    assert_eq!(
        find(&get(0x9F, 0x79).0, 0x9F79),
        Some(hex::decode("000000050000").expect("hex"))
    );
    assert_eq!(get(0x9F, 0x4F).1, 0x6A88);
    // A card without offline PIN has no PIN try counter.
    let no_pin = card("unionpay-debit-sda");
    start(&no_pin, 1000);
    assert_eq!(
        send(&no_pin, &apdu(0x80, 0xCA, 0x9F, 0x17, &[], Some(0))).1,
        0x6A88
    );
}

#[test]
fn get_challenge_gives_eight_fresh_bytes() {
    let c = card("unionpay-offline-pin");
    let (a, sw) = send(&c, &apdu(0x00, 0x84, 0, 0, &[], Some(0)));
    assert_eq!((a.len(), sw), (8, 0x9000));
    let (b, _) = send(&c, &apdu(0x00, 0x84, 0, 0, &[], Some(0)));
    assert_ne!(a, b);
}

/// Book 3 §6.5.12: a wrong PIN answers 63Cx with the tries left; the right PIN resets the
/// counter; at zero the card answers 6983 without comparing.
#[test]
fn verify_counts_pin_tries() {
    let c = card("unionpay-offline-pin");
    start(&c, 1000);
    let right = format2_block("123456").expect("block");
    let wrong = format2_block("654321").expect("block");
    assert_eq!(hex::encode_upper(right.as_slice()), "26123456FFFFFFFF");
    let verify = |b: &[u8]| send(&c, &apdu(0x00, 0x20, 0x00, 0x80, b, None)).1;
    assert_eq!(verify(wrong.as_slice()), 0x63C2);
    assert_eq!(verify(wrong.as_slice()), 0x63C1);
    assert_eq!(verify(right.as_slice()), 0x9000);
    assert_eq!(c.counters(0).expect("app").pin_tries, 3);
    for left in [2u16, 1, 0] {
        assert_eq!(verify(wrong.as_slice()), 0x63C0 | left);
    }
    assert_eq!(
        verify(right.as_slice()),
        0x6983,
        "blocked PIN is not compared"
    );
    assert_eq!(c.counters(0).expect("app").pin_tries, 0);
    assert_eq!(
        send(&c, &apdu(0x00, 0x20, 0x00, 0x80, &[0x24], None)).1,
        0x6700
    );
    assert_eq!(
        send(&c, &apdu(0x00, 0x20, 0x00, 0x88, right.as_slice(), None)).1,
        0x6A86
    );
}

/// The issuer's recomputation (field-55 tags) equals the card's ARQC, for every scheme and
/// both cipher families.
#[test]
fn each_card_arqc_verifies_at_the_issuer() {
    let issuer = Issuer::new();
    for name in [
        "unionpay-debit-sda",
        "unionpay-credit",
        "pboc-sm",
        "visa",
        "mastercard",
    ] {
        let c = card(name);
        let txn = start(&c, 12_345);
        let (resp, sw) = generate_ac(&c, 0x80, &txn.cdol1, &txn.values);
        assert_eq!(sw, 0x9000, "{name}");
        let ac = parse_ac(&resp);
        assert_eq!(ac.cid, CID_ARQC, "{name}");
        let f55 = field55(&txn, &ac);
        let pan = catalogue::pan_of(name).expect("pan");
        issuer
            .verify_arqc(pan, Some(0x01), &f55)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        // One changed amount digit and the cryptogram no longer matches.
        let mut other = txn.values.clone();
        other.insert(
            0x9F02,
            smartpos_tools::card_sim::bcd_amount(12_346).to_vec(),
        );
        let tampered = field55(
            &Txn {
                values: other,
                ..txn
            },
            &ac,
        );
        assert_eq!(
            issuer.verify_arqc(pan, Some(0x01), &tampered).err(),
            Some(ChipCheckError::CryptogramFailed),
            "{name}"
        );
    }
}

/// The IAD is the UnionPay/PBOC layout: 07 DKI CVN 03 CVR(3) algorithm, then 0A 01 + 9 bytes.
#[test]
fn unionpay_iad_has_the_pboc_layout_with_the_cvr() {
    let c = card("unionpay-debit-sda");
    let txn = start(&c, 1000);
    let ac = parse_ac(&generate_ac(&c, 0x80, &txn.cdol1, &txn.values).0);
    assert_eq!(ac.iad.len(), 19);
    assert_eq!(&ac.iad[..4], &[0x07, 0x01, 0x01, 0x03]);
    assert_eq!(
        ac.iad[4], 0xA0,
        "CVR: second AC not requested, ARQC at the first"
    );
    assert_eq!(ac.iad[7], 0x01, "TDES");
    assert_eq!(&ac.iad[8..10], &[0x0A, 0x01]);
    let sm = card("pboc-sm");
    let txn = start(&sm, 1000);
    let ac = parse_ac(&generate_ac(&sm, 0x80, &txn.cdol1, &txn.values).0);
    assert_eq!(ac.iad[7], 0x04, "SM4");
}

/// Card action analysis (Book 3 §9.3): never more than asked; TC only within the offline limit.
#[test]
fn card_action_analysis_answers_what_was_asked_or_less() {
    let c = card("unionpay-debit-sda");
    let txn = start(&c, 1000);
    let (resp, sw) = generate_ac(&c, 0x00, &txn.cdol1, &txn.values);
    assert_eq!((parse_ac(&resp).cid, sw), (CID_AAC, 0x9000));

    let c = card("unionpay-debit-sda");
    let txn = start(&c, 1000);
    let ac = parse_ac(&generate_ac(&c, 0x40, &txn.cdol1, &txn.values).0);
    assert_eq!(ac.cid, CID_TC, "offline approval within LCOL");
    let (_, sw) = generate_ac(&c, 0x40, &txn.cdol2, &txn.values);
    assert_eq!(sw, 0x6985, "no second GENERATE AC after a TC");

    let credit = card("unionpay-credit");
    let txn = start(&credit, 1000);
    let ac = parse_ac(&generate_ac(&credit, 0x40, &txn.cdol1, &txn.values).0);
    assert_eq!(
        ac.cid, CID_ARQC,
        "an online-only card answers a TC request with an ARQC"
    );

    let c = card("unionpay-debit-sda");
    let txn = start(&c, 1000);
    let (_, sw) = send(&c, &apdu(0x80, 0xAE, 0x80, 0, &[0; 10], Some(0)));
    assert_eq!(sw, 0x6700, "CDOL1 data of the wrong length");
    let (_, sw) = generate_ac(&c, 0xC0, &txn.cdol1, &txn.values);
    assert_eq!(sw, 0x6A86, "P1 11xxxxxx is RFU");
    let fresh = card("unionpay-debit-sda");
    let (_, sw) = generate_ac(&fresh, 0x80, &txn.cdol1, &txn.values);
    assert_eq!(sw, 0x6985, "GENERATE AC before GPO");
}

/// Online approval: the ARPC the issuer answers passes EXTERNAL AUTHENTICATE, the card then
/// accepts the TC and records the online ATC; a wrong ARPC is 6300 and ends in an AAC.
#[test]
fn external_authenticate_accepts_the_issuer_arpc_and_refuses_a_wrong_one() {
    let issuer = Issuer::new();
    let c = card("unionpay-debit-dda");
    let txn = start(&c, 5000);
    let ac = parse_ac(&generate_ac(&c, 0x80, &txn.cdol1, &txn.values).0);
    let verified = issuer
        .verify_arqc(
            catalogue::pan_of("unionpay-debit-dda").expect("pan"),
            Some(1),
            &field55(&txn, &ac),
        )
        .expect("ARQC");
    let answer = issuer.answer_field55(&verified, "00");
    let iad91 = find(&answer, 0x91).expect("91");
    assert_eq!(&iad91[8..], b"00", "ARC is the response code");
    assert_eq!(send(&c, &apdu(0x00, 0x82, 0, 0, &iad91, None)).1, 0x9000);
    assert_eq!(
        send(&c, &apdu(0x00, 0x82, 0, 0, &iad91, None)).1,
        0x6985,
        "only once"
    );
    let ac2 = parse_ac(&generate_ac(&c, 0x40, &txn.cdol2, &txn.values).0);
    assert_eq!(ac2.cid, CID_TC);
    assert_eq!(ac2.atc, ac.atc);
    assert_eq!(ac2.iad[4] & 0xC0, 0x40, "CVR: TC at the second GENERATE AC");
    assert_eq!(c.counters(0).expect("app").last_online_atc, ac.atc);

    let c = card("unionpay-debit-dda");
    let txn = start(&c, 5000);
    generate_ac(&c, 0x80, &txn.cdol1, &txn.values);
    let mut wrong = iad91.clone();
    wrong[0] ^= 0x01;
    assert_eq!(send(&c, &apdu(0x00, 0x82, 0, 0, &wrong, None)).1, 0x6300);
    let ac2 = parse_ac(&generate_ac(&c, 0x40, &txn.cdol2, &txn.values).0);
    assert_eq!(
        ac2.cid, CID_AAC,
        "issuer authentication failed: the card declines"
    );
    assert_eq!(ac2.iad[4] & 0x08, 0x08, "CVR: issuer authentication failed");
    assert!(c.counters(0).expect("app").last_issuer_auth_failed);
}

/// The Mastercard card takes the issuer authentication data in CDOL2 (tag 91).
#[test]
fn issuer_authentication_in_cdol2() {
    let issuer = Issuer::new();
    let c = card("mastercard");
    let txn = start(&c, 5000);
    let ac = parse_ac(&generate_ac(&c, 0x80, &txn.cdol1, &txn.values).0);
    let verified = issuer
        .verify_arqc(
            catalogue::pan_of("mastercard").expect("pan"),
            Some(1),
            &field55(&txn, &ac),
        )
        .expect("ARQC");
    let mut values = txn.values.clone();
    values.insert(
        0x91,
        find(&issuer.answer_field55(&verified, "00"), 0x91).expect("91"),
    );
    assert_eq!(
        parse_ac(&generate_ac(&c, 0x40, &txn.cdol2, &values).0).cid,
        CID_TC
    );

    let c = card("mastercard");
    let txn = start(&c, 5000);
    generate_ac(&c, 0x80, &txn.cdol1, &txn.values);
    let mut values = txn.values.clone();
    values.insert(0x91, vec![0x5A; 10]);
    assert_eq!(
        parse_ac(&generate_ac(&c, 0x40, &txn.cdol2, &values).0).cid,
        CID_AAC
    );
}

#[test]
fn the_declining_card_answers_aac_at_the_second_generate_ac() {
    let issuer = Issuer::new();
    let c = card("unionpay-declines-second-ac");
    let txn = start(&c, 5000);
    let ac = parse_ac(&generate_ac(&c, 0x40, &txn.cdol1, &txn.values).0);
    assert_eq!(ac.cid, CID_ARQC, "this card never approves offline");
    let pan = catalogue::pan_of("unionpay-declines-second-ac").expect("pan");
    let verified = issuer
        .verify_arqc(pan, Some(1), &field55(&txn, &ac))
        .expect("ARQC");
    let iad91 = find(&issuer.answer_field55(&verified, "00"), 0x91).expect("91");
    assert_eq!(send(&c, &apdu(0x00, 0x82, 0, 0, &iad91, None)).1, 0x9000);
    assert_eq!(
        parse_ac(&generate_ac(&c, 0x40, &txn.cdol2, &txn.values).0).cid,
        CID_AAC
    );
}

/// Scripts: PUT DATA 9F79 and APPLICATION BLOCK with the issuer's MAC are applied; a
/// command whose MAC is wrong is refused (6988) and changes nothing.
#[test]
fn issuer_scripts_are_applied_under_their_mac() {
    let issuer = Issuer::new();
    let name = "unionpay-scripts";
    let pan = catalogue::pan_of(name).expect("pan");
    let c = card(name);
    let txn = start(&c, 5000);
    let ac = parse_ac(&generate_ac(&c, 0x80, &txn.cdol1, &txn.values).0);
    issuer.queue_script(
        pan,
        vec![
            ScriptCommand::PutData {
                tag: 0x9F79,
                value: hex::decode("000000012345").expect("hex"),
            },
            ScriptCommand::ApplicationBlock,
        ],
    );
    let verified = issuer
        .verify_arqc(pan, Some(1), &field55(&txn, &ac))
        .expect("ARQC");
    let answer = issuer.answer_field55(&verified, "00");
    let objects = smartpos_core::codec::tlv::parse(&answer).expect("tlv");
    let script = smartpos_core::codec::tlv::find(&objects, 0x72).expect("72");
    let commands: Vec<Vec<u8>> = script
        .children()
        .iter()
        .filter(|t| t.tag == 0x86)
        .map(|t| t.bytes().expect("86").to_vec())
        .collect();
    assert_eq!(commands.len(), 2);
    let iad91 = find(&answer, 0x91).expect("91");
    assert_eq!(send(&c, &apdu(0x00, 0x82, 0, 0, &iad91, None)).1, 0x9000);
    generate_ac(&c, 0x40, &txn.cdol2, &txn.values);
    let mut tampered = commands[0].clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 0xFF;
    assert_eq!(send(&c, &tampered).1, 0x6988);
    assert_eq!(c.counters(0).expect("app").ec_balance_fen, 50_000);
    assert_eq!(send(&c, &commands[0]).1, 0x9000);
    assert_eq!(c.counters(0).expect("app").ec_balance_fen, 12_345);
    assert_eq!(send(&c, &commands[1]).1, 0x9000);
    assert!(c.is_blocked(0));
    // Without secure messaging the same command is refused.
    let mut plain = commands[1].clone();
    plain[0] = 0x80;
    assert_eq!(send(&c, &plain).1, 0x6982);
    c.insert();
    let (_, sw) = select(&c, &txn.aid, 0);
    assert_eq!(sw, 0x6283, "blocked by the script");
}

/// Tearing: the card leaves at the chosen command; the terminal sees `CardRemovedTooEarly`
/// and the slot is empty. Torn after processing, the ATC has moved; before, it has not.
#[test]
fn tearing_at_a_command_removes_the_card() {
    for after_processing in [false, true] {
        let profile = catalogue::card("unionpay-debit-sda")
            .expect("card")
            .with_tear(Tear {
                ins: 0xA8,
                occurrence: 1,
                after_processing,
            });
        let atc_before = profile.applications[0].counters.atc;
        let c = VirtualCard::new(profile);
        c.detect(Duration::ZERO).expect("inserted");
        select(&c, &hex::decode("A000000333010101").expect("hex"), 0);
        let gpo = apdu(
            0x80,
            0xA8,
            0,
            0,
            &[0x83, 0x09, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            Some(0),
        );
        assert_eq!(
            c.transceive(&gpo).err(),
            Some(DeviceFault::CardRemovedTooEarly)
        );
        assert_eq!(
            c.transceive(&gpo).err(),
            Some(DeviceFault::CardRemovedTooEarly)
        );
        assert_eq!(c.detect(Duration::ZERO), Err(DeviceFault::NoCardPresented));
        let moved = c.counters(0).expect("app").atc - atc_before;
        assert_eq!(moved, u16::from(after_processing));
        c.insert();
        assert_eq!(c.detect(Duration::ZERO), Ok(CardPresentation::ContactChip));
        assert_eq!(c.instructions(), vec![0xA4, 0xA8]);
    }
}

#[test]
fn unknown_commands_get_the_iso_status_words() {
    let c = card("visa");
    assert_eq!(send(&c, &[0x00, 0xFE, 0, 0]).1, 0x6D00);
    assert_eq!(send(&c, &[0x80, 0xA4, 4, 0, 1, 0xA0]).1, 0x6E00);
    assert_eq!(send(&c, &[0x00, 0xA4]).1, 0x6700);
    assert_eq!(send(&c, &[0x00, 0xA4, 4, 0, 5, 1]).1, 0x6700);
    assert_eq!(
        send(&c, &[0x00, 0x82, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).1,
        0x6985
    );
}

mod fuzz {
    use proptest::prelude::*;
    use smartpos_core::ports::CardReader;

    use super::*;

    proptest! {
        /// Arbitrary APDUs, alone or after a valid start, never panic the card and always get
        /// a two-byte status word at least.
        #[test]
        fn arbitrary_apdus_never_panic(
            cmds in proptest::collection::vec(
                (prop_oneof![Just(0x00u8), Just(0x80), Just(0x84), Just(0x04), any::<u8>()],
                 prop_oneof![Just(0xA4u8), Just(0xB2), Just(0xA8), Just(0xCA), Just(0x20), Just(0x84),
                             Just(0x88), Just(0xAE), Just(0x82), Just(0x1E), Just(0x18), Just(0xDA), any::<u8>()],
                 any::<u8>(), any::<u8>(),
                 proptest::collection::vec(any::<u8>(), 0..260)),
                1..12),
            warm in any::<bool>(),
        ) {
            let c = card("unionpay-scripts");
            if warm {
                let txn = start(&c, 100);
                generate_ac(&c, 0x80, &txn.cdol1, &txn.values);
            }
            for (cla, ins, p1, p2, tail) in cmds {
                let mut raw = vec![cla, ins, p1, p2];
                raw.extend_from_slice(&tail);
                let r = c.transceive(&raw).expect("card present");
                prop_assert!(r.len() >= 2);
            }
        }

        /// Any byte string at all, including ones too short to be a command.
        #[test]
        fn arbitrary_bytes_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..300)) {
            let c = card("unionpay-offline-pin");
            start(&c, 100);
            let r = c.transceive(&raw).expect("card present");
            prop_assert!(r.len() >= 2);
        }
    }
}

/// An independent oracle for the whole chain (IMK → option A → common session key → ARQC
/// over the recommended data set → ARPC): computed with pyemv 1.5.0:
/// `mk = kd.derive_icc_mk_a(IMK_AC_VISA, "4761730000000011", "01")`,
/// `sk = kd.derive_common_sk(mk, bytes.fromhex("0011000000000000"))`,
/// `ac.generate_ac(sk, bytes.fromhex("000000012345" "000000000000" "0156" "0000000000" "0156"
/// "261204" "00" "11223344" "7C00" "0011" "03A00000"), ac.PaddingType.EMV)` = 15952FBE67052120,
/// `ac.generate_arpc_1(sk, arqc, b"00")` = EEC24B71F1940C0F.
#[test]
fn visa_card_arqc_and_arpc_match_pyemv() {
    let c = card("visa");
    let txn = start(&c, 12_345);
    let ac = parse_ac(&generate_ac(&c, 0x80, &txn.cdol1, &txn.values).0);
    assert_eq!(ac.atc, 0x0011);
    assert_eq!(hex::encode_upper(&ac.iad), "06010A03A00000");
    assert_eq!(hex::encode_upper(ac.cryptogram), "15952FBE67052120");
    let issuer = Issuer::new();
    let verified = issuer
        .verify_arqc("4761730000000011", Some(1), &field55(&txn, &ac))
        .expect("ARQC");
    let iad91 = find(&issuer.answer_field55(&verified, "00"), 0x91).expect("91");
    assert_eq!(hex::encode_upper(&iad91), "EEC24B71F1940C0F3030");
}
