//! The virtual cards' offline data authentication checked by the terminal's verifier
//! (`smartpos_core::card::oda`) under the simulator's test CA keys: SDA, DDA, CDA and PBOC SM2
//! pass, and a flipped certificate or signature byte fails.

mod card_sim_support;

use std::collections::BTreeMap;

use card_sim_support::*;
use smartpos_core::card::oda::{
    self, CdaInput, OdaTerminal, RevocationList, Rid, cda_transaction_data,
};
use smartpos_core::codec::tlv;
use smartpos_tools::card_sim::{CID_ARQC, VirtualCard, catalogue, test_ca_keys};
use smartpos_tools::sim::issuer::Issuer;

/// The card's data objects from its records and the static data to authenticate (the ODA
/// records' template-70 contents per the AFL, then the AIP as 9F4A asks).
fn card_data(txn: &Txn) -> (BTreeMap<u32, Vec<u8>>, Vec<u8>) {
    let mut tags = BTreeMap::new();
    for rec in &txn.records {
        let objects = tlv::parse(rec).expect("record");
        for o in objects.iter().flat_map(|t| t.children()) {
            if let Some(v) = o.bytes() {
                tags.insert(o.tag, v.to_vec());
            }
        }
    }
    let mut static_data = Vec::new();
    let mut index = 0;
    for entry in txn.afl.chunks(4) {
        let count = usize::from(entry[2] - entry[1] + 1);
        for (i, rec) in txn.records[index..index + count].iter().enumerate() {
            if i < usize::from(entry[3]) {
                let objects = tlv::parse(rec).expect("record");
                static_data.extend_from_slice(&tlv::encode(objects[0].children()));
            }
        }
        index += count;
    }
    static_data.extend_from_slice(&txn.aip);
    (tags, static_data)
}

fn rid(txn: &Txn) -> Rid {
    txn.aid[..5].try_into().expect("RID")
}

const DATE: [u8; 3] = [0x26, 0x12, 0x04];

fn flipped(tags: &BTreeMap<u32, Vec<u8>>, tag: u32, at: usize) -> BTreeMap<u32, Vec<u8>> {
    let mut t = tags.clone();
    let v = t.get_mut(&tag).expect("tag present");
    v[at] ^= 0x01;
    t
}

#[test]
fn sda_card_verifies_and_a_flipped_byte_fails() {
    let keys = test_ca_keys().expect("CA keys");
    let revocations = RevocationList::new();
    let terminal = OdaTerminal {
        ca_keys: &keys,
        revocations: &revocations,
        transaction_date: DATE,
    };
    let c = card("unionpay-debit-sda");
    let txn = start(&c, 1000);
    let (tags, static_data) = card_data(&txn);
    assert!(
        !tags.contains_key(&0x9F46),
        "an SDA card carries no ICC certificate"
    );
    oda::verify_sda(&terminal, rid(&txn), &tags, &static_data).expect("SDA");
    for tag in [0x90, 0x93] {
        let bad = flipped(&tags, tag, 40);
        assert!(
            oda::verify_sda(&terminal, rid(&txn), &bad, &static_data).is_err(),
            "{tag:X}"
        );
    }
    let mut bad_static = static_data.clone();
    bad_static[3] ^= 0x01;
    assert!(oda::verify_sda(&terminal, rid(&txn), &tags, &bad_static).is_err());
}

#[test]
fn dda_card_signs_internal_authenticate() {
    let keys = test_ca_keys().expect("CA keys");
    let revocations = RevocationList::new();
    let terminal = OdaTerminal {
        ca_keys: &keys,
        revocations: &revocations,
        transaction_date: DATE,
    };
    for name in ["unionpay-debit-dda", "unionpay-credit", "visa"] {
        let c = card(name);
        let txn = start(&c, 1000);
        let (tags, static_data) = card_data(&txn);
        let issuer = oda::recover_issuer_key(&terminal, rid(&txn), &tags).expect("issuer key");
        let icc = oda::recover_icc_key(&terminal, &issuer, &tags, &static_data).expect("ICC key");
        let ddol = tags.get(&0x9F49).expect("DDOL");
        let ddol_data = dol_data(ddol, &txn.values);
        let (resp, sw) = send(&c, &apdu(0x00, 0x88, 0, 0, &ddol_data, Some(0)));
        assert_eq!(sw, 0x9000, "{name}");
        let sdad = find(&resp, 0x80).expect("format 1");
        oda::verify_dda(&icc, &sdad, &ddol_data).expect(name);
        assert!(
            oda::verify_dda(&icc, &sdad, &[0, 0, 0, 0]).is_err(),
            "other DDOL data"
        );
        let bad = flipped(&tags, 0x9F46, 30);
        assert!(
            oda::recover_icc_key(&terminal, &issuer, &bad, &static_data).is_err(),
            "{name}"
        );
    }
    // An SDA card has no DDA.
    let c = card("unionpay-debit-sda");
    start(&c, 1000);
    assert_eq!(
        send(&c, &apdu(0x00, 0x88, 0, 0, &[1, 2, 3, 4], Some(0))).1,
        0x6D00
    );
}

/// CDA (Book 2 §6.6): the GENERATE AC answer in format 2 carries the SDAD, whose recovered
/// cryptogram is the ARQC the issuer verifies.
#[test]
fn cda_card_signs_generate_ac() {
    let keys = test_ca_keys().expect("CA keys");
    let revocations = RevocationList::new();
    let terminal = OdaTerminal {
        ca_keys: &keys,
        revocations: &revocations,
        transaction_date: DATE,
    };
    for name in ["unionpay-debit-cda", "mastercard"] {
        let c = card(name);
        let txn = start(&c, 1000);
        let (tags, static_data) = card_data(&txn);
        let issuer_key = oda::recover_issuer_key(&terminal, rid(&txn), &tags).expect("issuer");
        let icc = oda::recover_icc_key(&terminal, &issuer_key, &tags, &static_data).expect("ICC");
        let (resp, sw) = generate_ac(&c, 0x90, &txn.cdol1, &txn.values);
        assert_eq!(sw, 0x9000);
        let template = tlv::parse(&resp).expect("77");
        assert_eq!(template[0].tag, 0x77, "format 2");
        let contents = tlv::encode(template[0].children());
        let sdad = find(&resp, 0x9F4B).expect("9F4B");
        let cid = find(&resp, 0x9F27).expect("9F27")[0];
        let pdol = find_pdol(&c, &txn);
        let cdol1_data = dol_data(&txn.cdol1, &txn.values);
        let transaction_data =
            cda_transaction_data(&pdol, &[&cdol1_data], &contents).expect("transaction data");
        let un = txn.values.get(&0x9F37).expect("UN").clone();
        let outcome = oda::verify_cda(
            &icc,
            &CdaInput {
                sdad: &sdad,
                cid,
                unpredictable_number: &un,
                transaction_data: &transaction_data,
            },
        )
        .expect(name);
        assert_eq!(outcome.cid, CID_ARQC);
        // The cryptogram inside the signature is the one the issuer checks.
        let atc = find(&resp, 0x9F36).expect("9F36");
        let ac = Ac {
            cid,
            atc: u16::from_be_bytes([atc[0], atc[1]]),
            cryptogram: outcome.cryptogram,
            iad: find(&resp, 0x9F10).expect("9F10"),
        };
        Issuer::new()
            .verify_arqc(
                catalogue::pan_of(name).expect("pan"),
                Some(1),
                &field55(&txn, &ac),
            )
            .expect("ARQC recovered from the CDA signature");
        let mut other = transaction_data.clone();
        other[0] ^= 0x01;
        let tampered = CdaInput {
            sdad: &sdad,
            cid,
            unpredictable_number: &un,
            transaction_data: &other,
        };
        assert!(oda::verify_cda(&icc, &tampered).is_err(), "{name}");
    }
}

/// The PDOL data `start` sent.
fn find_pdol(c: &VirtualCard, txn: &Txn) -> Vec<u8> {
    let _ = c;
    let pdol = if txn.aid.starts_with(&[0xA0, 0, 0, 0x03, 0x33]) {
        smartpos_tools::card_sim::dol::build(&[(0x9F7A, 1), (0x9F02, 6), (0x5F2A, 2)])
    } else {
        Vec::new()
    };
    dol_data(&pdol, &txn.values)
}

/// PBOC 3.0 SM card: SM2 certificates and signatures under the SM2 test CA.
#[test]
fn sm_card_verifies_with_sm2() {
    let keys = test_ca_keys().expect("CA keys");
    let revocations = RevocationList::new();
    let terminal = OdaTerminal {
        ca_keys: &keys,
        revocations: &revocations,
        transaction_date: DATE,
    };
    let c = card("pboc-sm");
    let txn = start(&c, 1000);
    let (tags, static_data) = card_data(&txn);
    oda::sm2_verify_sda(&terminal, rid(&txn), &tags, &static_data).expect("SM2 SDA");
    let issuer = oda::sm2_recover_issuer_key(&terminal, rid(&txn), &tags).expect("issuer");
    let icc = oda::sm2_recover_icc_key(&terminal, &issuer, &tags, &static_data).expect("ICC");
    let ddol_data = [0x11, 0x22, 0x33, 0x44];
    let (resp, sw) = send(&c, &apdu(0x00, 0x88, 0, 0, &ddol_data, Some(0)));
    assert_eq!(sw, 0x9000);
    oda::sm2_verify_dda(&icc, &find(&resp, 0x80).expect("80"), &ddol_data).expect("SM2 DDA");
    let bad = flipped(&tags, 0x93, 20);
    assert!(oda::sm2_verify_sda(&terminal, rid(&txn), &bad, &static_data).is_err());
    let bad = flipped(&tags, 0x90, 20);
    assert!(oda::sm2_recover_issuer_key(&terminal, rid(&txn), &bad).is_err());
}

/// Enciphered offline PIN (Book 2 §7.2, VERIFY P2 = 88): the PED enciphers 7F || PIN block ||
/// the card's challenge || random padding under the ICC key the terminal recovered; the card
/// deciphers and compares. A block enciphered with a stale challenge counts as a wrong PIN.
#[test]
fn enciphered_pin_is_deciphered_with_the_challenge() {
    use rsa::hazmat::rsa_encrypt;
    use rsa::{BoxedUint, PublicKey};

    let keys = test_ca_keys().expect("CA keys");
    let revocations = RevocationList::new();
    let terminal = OdaTerminal {
        ca_keys: &keys,
        revocations: &revocations,
        transaction_date: DATE,
    };
    let c = card("unionpay-offline-pin");
    let txn = start(&c, 1000);
    let (tags, static_data) = card_data(&txn);
    let issuer = oda::recover_issuer_key(&terminal, rid(&txn), &tags).expect("issuer");
    let icc = oda::recover_icc_key(&terminal, &issuer, &tags, &static_data).expect("ICC");
    let encipher = |pin: &str, challenge: &[u8]| {
        let mut block = vec![0x7F];
        block.extend_from_slice(
            smartpos_tools::card_sim::format2_block(pin)
                .expect("pin")
                .as_slice(),
        );
        block.extend_from_slice(challenge);
        block.resize(icc.modulus.len(), 0x55);
        let bits = u32::try_from(icc.modulus.len() * 8).expect("bits");
        let n = BoxedUint::from_be_slice(&icc.modulus, bits).expect("n");
        let e = BoxedUint::from_be_slice(&icc.exponent, 64).expect("e");
        let key = PublicKey::new(n, e).expect("key");
        let m = BoxedUint::from_be_slice(&block, bits).expect("m");
        let out = rsa_encrypt(&key, &m).expect("rsa").to_be_bytes();
        out[out.len() - icc.modulus.len()..].to_vec()
    };
    let challenge = |c: &VirtualCard| send(c, &apdu(0x00, 0x84, 0, 0, &[], Some(0))).0;
    let verify = |c: &VirtualCard, data: &[u8]| send(c, &apdu(0x00, 0x20, 0, 0x88, data, None)).1;

    let ch = challenge(&c);
    assert_eq!(verify(&c, &encipher("123456", &ch)), 0x9000);
    let ch = challenge(&c);
    assert_eq!(verify(&c, &encipher("111111", &ch)), 0x63C2);
    let stale = ch;
    let _fresh = challenge(&c);
    assert_eq!(
        verify(&c, &encipher("123456", &stale)),
        0x63C1,
        "stale challenge"
    );
    let ch = challenge(&c);
    assert_eq!(verify(&c, &encipher("123456", &ch)), 0x9000);
    assert_eq!(c.counters(0).expect("app").pin_tries, 3);
}

/// CDA at the second GENERATE AC: the transaction data hash covers CDOL1 and CDOL2 data.
#[test]
fn cda_at_the_second_generate_ac_covers_both_cdols() {
    let keys = test_ca_keys().expect("CA keys");
    let revocations = RevocationList::new();
    let terminal = OdaTerminal {
        ca_keys: &keys,
        revocations: &revocations,
        transaction_date: DATE,
    };
    let name = "unionpay-debit-cda";
    let c = card(name);
    let txn = start(&c, 1000);
    let (tags, static_data) = card_data(&txn);
    let issuer_key = oda::recover_issuer_key(&terminal, rid(&txn), &tags).expect("issuer");
    let icc = oda::recover_icc_key(&terminal, &issuer_key, &tags, &static_data).expect("ICC");
    let (resp, _) = generate_ac(&c, 0x90, &txn.cdol1, &txn.values);
    let atc = find(&resp, 0x9F36).expect("9F36");
    let pdol = find_pdol(&c, &txn);
    let cdol1_data = dol_data(&txn.cdol1, &txn.values);
    let first_tx = cda_transaction_data(
        &pdol,
        &[&cdol1_data],
        &tlv::encode(tlv::parse(&resp).expect("77")[0].children()),
    )
    .expect("data");
    let un = txn.values.get(&0x9F37).expect("UN").clone();
    let first = oda::verify_cda(
        &icc,
        &CdaInput {
            sdad: &find(&resp, 0x9F4B).expect("9F4B"),
            cid: CID_ARQC,
            unpredictable_number: &un,
            transaction_data: &first_tx,
        },
    )
    .expect("first CDA");
    let ac = Ac {
        cid: CID_ARQC,
        atc: u16::from_be_bytes([atc[0], atc[1]]),
        cryptogram: first.cryptogram,
        iad: find(&resp, 0x9F10).expect("9F10"),
    };
    let issuer = Issuer::new();
    let verified = issuer
        .verify_arqc(
            catalogue::pan_of(name).expect("pan"),
            Some(1),
            &field55(&txn, &ac),
        )
        .expect("ARQC");
    let iad91 = find(&issuer.answer_field55(&verified, "00"), 0x91).expect("91");
    assert_eq!(send(&c, &apdu(0x00, 0x82, 0, 0, &iad91, None)).1, 0x9000);
    let (resp2, sw) = generate_ac(&c, 0x50, &txn.cdol2, &txn.values);
    assert_eq!(sw, 0x9000);
    let cdol2_data = dol_data(&txn.cdol2, &txn.values);
    let second_tx = cda_transaction_data(
        &pdol,
        &[&cdol1_data, &cdol2_data],
        &tlv::encode(tlv::parse(&resp2).expect("77")[0].children()),
    )
    .expect("data");
    let second = oda::verify_cda(
        &icc,
        &CdaInput {
            sdad: &find(&resp2, 0x9F4B).expect("9F4B"),
            cid: smartpos_tools::card_sim::CID_TC,
            unpredictable_number: &un,
            transaction_data: &second_tx,
        },
    )
    .expect("second CDA");
    assert_eq!(second.cid, smartpos_tools::card_sim::CID_TC);
}
