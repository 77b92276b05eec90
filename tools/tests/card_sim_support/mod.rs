//! A minimal terminal for driving virtual cards in tests: it sends the commands a kernel would,
//! with fixed terminal data, and reads the answers. It checks nothing itself; the tests do.

#![allow(dead_code)]

use std::collections::HashMap;
use std::time::Duration;

use smartpos_core::codec::tlv::{self, Tlv};
use smartpos_core::ports::CardReader;
use smartpos_tools::card_sim::{VirtualCard, catalogue, dol};

pub fn card(name: &str) -> VirtualCard {
    let card = VirtualCard::new(catalogue::card(name).expect("catalogue card"));
    card.detect(Duration::from_secs(1)).expect("inserted");
    card
}

/// Sends one command; returns the data and SW1 SW2.
pub fn send(card: &VirtualCard, apdu: &[u8]) -> (Vec<u8>, u16) {
    let r = card.transceive(apdu).expect("card in the slot");
    let (data, sw) = r.split_at(r.len() - 2);
    (data.to_vec(), u16::from_be_bytes([sw[0], sw[1]]))
}

pub fn apdu(cla: u8, ins: u8, p1: u8, p2: u8, data: &[u8], le: Option<u8>) -> Vec<u8> {
    let mut v = vec![cla, ins, p1, p2];
    if !data.is_empty() {
        v.push(u8::try_from(data.len()).expect("short"));
        v.extend_from_slice(data);
    }
    if let Some(le) = le {
        v.push(le);
    }
    v
}

pub fn select(card: &VirtualCard, name: &[u8], p2: u8) -> (Vec<u8>, u16) {
    send(card, &apdu(0x00, 0xA4, 0x04, p2, name, Some(0)))
}

/// The terminal's values for DOL-requested tags.
pub fn terminal_values(amount_fen: u64, un: [u8; 4]) -> HashMap<u32, Vec<u8>> {
    let h = |s: &str| hex::decode(s).expect("hex");
    let mut m = HashMap::new();
    m.insert(
        0x9F02,
        smartpos_tools::card_sim::bcd_amount(amount_fen).to_vec(),
    );
    m.insert(0x9F03, vec![0; 6]);
    m.insert(0x9F1A, h("0156"));
    m.insert(0x95, h("0000000000"));
    m.insert(0x5F2A, h("0156"));
    m.insert(0x9A, h("261204"));
    m.insert(0x9C, vec![0x00]);
    m.insert(0x9F37, un.to_vec());
    m.insert(0x9F21, h("120000"));
    m.insert(0x9F4E, b"SMARTPOS TEST SHOP  ".to_vec());
    m.insert(0x9F35, vec![0x22]);
    m.insert(0x9F45, vec![0, 0]);
    m.insert(0x9F34, h("1F0302"));
    m.insert(0x9F7A, vec![0x00]);
    m.insert(0x8A, b"00".to_vec());
    m
}

/// The data for `dol_bytes` from `values` (zeros for what the terminal does not know).
pub fn dol_data(dol_bytes: &[u8], values: &HashMap<u32, Vec<u8>>) -> Vec<u8> {
    let mut out = Vec::new();
    for e in dol::entries(dol_bytes).expect("DOL") {
        let mut v = values.get(&e.tag).cloned().unwrap_or_default();
        v.resize(e.len, 0);
        out.extend_from_slice(&v);
    }
    out
}

pub fn find(data: &[u8], tag: u32) -> Option<Vec<u8>> {
    let objects = tlv::parse(data).ok()?;
    tlv::find(&objects, tag)
        .and_then(Tlv::bytes)
        .map(<[u8]>::to_vec)
}

/// What the card answered to a GENERATE AC in format 1 (or 2).
#[derive(Debug, Clone)]
pub struct Ac {
    pub cid: u8,
    pub atc: u16,
    pub cryptogram: [u8; 8],
    pub iad: Vec<u8>,
}

pub fn parse_ac(data: &[u8]) -> Ac {
    if data.first() == Some(&0x80) {
        let body = &data[2..];
        Ac {
            cid: body[0],
            atc: u16::from_be_bytes([body[1], body[2]]),
            cryptogram: body[3..11].try_into().expect("8 bytes"),
            iad: body[11..].to_vec(),
        }
    } else {
        let atc = find(data, 0x9F36).expect("9F36");
        Ac {
            cid: find(data, 0x9F27).expect("9F27")[0],
            atc: u16::from_be_bytes([atc[0], atc[1]]),
            cryptogram: find(data, 0x9F26)
                .map(|v| v.try_into().expect("8"))
                .unwrap_or([0; 8]),
            iad: find(data, 0x9F10).expect("9F10"),
        }
    }
}

/// A transaction up to the first GENERATE AC.
pub struct Txn {
    pub aid: Vec<u8>,
    pub aip: [u8; 2],
    pub afl: Vec<u8>,
    pub cdol1: Vec<u8>,
    pub cdol2: Vec<u8>,
    pub values: HashMap<u32, Vec<u8>>,
    pub records: Vec<Vec<u8>>,
}

/// Selects the card's first application through the PSE (or by the AID when it has none),
/// GET PROCESSING OPTIONS with its PDOL, reads the AFL's records.
pub fn start(card: &VirtualCard, amount_fen: u64) -> Txn {
    let values = terminal_values(amount_fen, [0x11, 0x22, 0x33, 0x44]);
    let (_, sw) = select(card, smartpos_tools::card_sim::PSE_NAME, 0);
    let aid = if sw == 0x9000 {
        let (dir, sw) = send(card, &apdu(0x00, 0xB2, 1, (1 << 3) | 4, &[], Some(0)));
        assert_eq!(sw, 0x9000);
        find(&dir, 0x4F).expect("an application in the directory")
    } else {
        hex::decode("A0000000041010").expect("hex")
    };
    let (fci, sw) = select(card, &aid, 0);
    assert_eq!(sw, 0x9000, "SELECT {}", hex::encode_upper(&aid));
    let pdol = find(&fci, 0x9F38).unwrap_or_default();
    let pdol_data = dol_data(&pdol, &values);
    let mut gpo = vec![0x83, u8::try_from(pdol_data.len()).expect("short")];
    gpo.extend_from_slice(&pdol_data);
    let (resp, sw) = send(card, &apdu(0x80, 0xA8, 0, 0, &gpo, Some(0)));
    assert_eq!(sw, 0x9000, "GPO");
    let aip: [u8; 2] = find(&resp, 0x82).expect("AIP").try_into().expect("2");
    let afl = find(&resp, 0x94).expect("AFL");
    let mut records = Vec::new();
    let (mut cdol1, mut cdol2) = (Vec::new(), Vec::new());
    for entry in afl.chunks(4) {
        for n in entry[1]..=entry[2] {
            let (rec, sw) = send(card, &apdu(0x00, 0xB2, n, entry[0] | 4, &[], Some(0)));
            assert_eq!(sw, 0x9000, "READ RECORD");
            if let Some(c) = find(&rec, 0x8C) {
                cdol1 = c;
            }
            if let Some(c) = find(&rec, 0x8D) {
                cdol2 = c;
            }
            records.push(rec);
        }
    }
    Txn {
        aid,
        aip,
        afl,
        cdol1,
        cdol2,
        values,
        records,
    }
}

/// GENERATE AC with P1 (00 AAC, 40 TC, 80 ARQC, | 10 for CDA) and the DOL's data.
pub fn generate_ac(
    card: &VirtualCard,
    p1: u8,
    dol_bytes: &[u8],
    values: &HashMap<u32, Vec<u8>>,
) -> (Vec<u8>, u16) {
    let data = dol_data(dol_bytes, values);
    send(card, &apdu(0x80, 0xAE, p1, 0, &data, Some(0)))
}

/// The field 55 a kernel would send for this ARQC: the UnionPay tag set.
pub fn field55(txn: &Txn, ac: &Ac) -> Vec<u8> {
    let v = |t: u32| txn.values.get(&t).cloned().unwrap_or_default();
    let objects = vec![
        Tlv::primitive(0x9F26, ac.cryptogram.to_vec()),
        Tlv::primitive(0x9F27, vec![ac.cid]),
        Tlv::primitive(0x9F10, ac.iad.clone()),
        Tlv::primitive(0x9F37, v(0x9F37)),
        Tlv::primitive(0x9F36, ac.atc.to_be_bytes().to_vec()),
        Tlv::primitive(0x95, v(0x95)),
        Tlv::primitive(0x9A, v(0x9A)),
        Tlv::primitive(0x9C, v(0x9C)),
        Tlv::primitive(0x9F02, v(0x9F02)),
        Tlv::primitive(0x5F2A, v(0x5F2A)),
        Tlv::primitive(0x82, txn.aip.to_vec()),
        Tlv::primitive(0x9F1A, v(0x9F1A)),
        Tlv::primitive(0x9F03, v(0x9F03)),
        Tlv::primitive(0x84, txn.aid.clone()),
    ];
    tlv::encode(&objects)
}
