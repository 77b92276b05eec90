//! Builds the ISO 8583 requests from a kind's table row and the transaction's facts. Which
//! elements identify a kind is data (`kind::KINDS`); this module only knows what each field means.

use crate::codec::iso8583::Message;
use crate::codec::iso8583::cups::{Field60, Field61};
use crate::crypto::EncryptedPinBlock;
use crate::txn::kind::KindSpec;

/// Field 26: the longest PIN the PIN pad accepts.
const PIN_CAPTURE_CODE: &str = "12";

/// Field 49: renminbi.
pub(crate) const CURRENCY_CNY: &str = "156";

/// Network-management code (60.3) of an ordinary financial message.
const NET_MGMT_FINANCIAL: &str = "000";

/// The card facts that go on the wire. Track data and the PIN block are never stored; a request
/// rebuilt later (a reversal) carries the PAN in field 2 instead of track 2.
#[derive(Debug, Default)]
pub(crate) struct CardFields<'a> {
    /// Field 2, used when there is no track 2 (voids, completions, reversals).
    pub pan_digits: Option<&'a str>,
    /// Field 35 digits.
    pub track2_digits: Option<&'a str>,
    /// Field 22.
    pub entry_mode: &'a str,
    /// Field 60.4 and 60.5.
    pub read_capability: char,
    pub ic_condition: char,
    pub pin_block: Option<&'a EncryptedPinBlock>,
    /// Field 35 is enciphered under the TDK (field 53.3 = 1 says so).
    pub track_enciphered: bool,
    /// Field 23, the card's PAN sequence number (5F34) for a chip card.
    pub card_sequence: Option<u8>,
    /// Field 55, the chip's data objects (the UnionPay tag set).
    pub icc_data: Option<&'a [u8]>,
}

/// The original transaction a follow-up (void, refund, completion) refers to.
#[derive(Debug)]
pub(crate) struct OriginalFields<'a> {
    pub batch_no: u32,
    pub stan: u32,
    pub rrn: &'a str,
    pub auth_code: &'a str,
    /// MMDD of the original, if known.
    pub date: Option<&'a str>,
}

#[derive(Debug)]
pub(crate) struct RequestFacts<'a> {
    pub spec: &'static KindSpec,
    pub amount_fen: u64,
    pub stan: u32,
    pub batch_no: u32,
    pub terminal_id: &'a str,
    pub merchant_id: &'a str,
    pub card: CardFields<'a>,
    pub original: Option<OriginalFields<'a>>,
    /// Field 53 from the acquirer dialect, sent with a PIN block.
    pub security_control: String,
}

pub(crate) fn stan_digits(stan: u32) -> String {
    format!("{stan:06}")
}

pub(crate) fn amount_digits(fen: u64) -> String {
    format!("{fen:012}")
}

/// The request of a financial kind (0100, 0200, 0220).
pub(crate) fn financial_request(f: &RequestFacts<'_>) -> Message {
    financial_message(f, f.spec.mti)
}

/// A repeated advice (0221): the same message as the unanswered 0220, same STAN, so the host
/// answers it once whether or not the original arrived.
pub(crate) fn advice_repeat(f: &RequestFacts<'_>) -> Message {
    financial_message(f, "0221")
}

/// 60.3 of a TC upload: UnionPay's IC card batch upload of an online transaction's TC (203 when
/// the batch balanced; the terminal sends it as soon as it has the TC, so 203 always).
const NET_TC_UPLOAD: &str = "203";
/// 60.3 of a script result advice (脚本处理结果通知).
const NET_SCRIPT_RESULT: &str = "951";

/// Field 55 of a script result advice: UnionPay's tag list for 脚本处理结果通知 (the issuer
/// needs the script results DF31 and enough of the transaction to find it), as open-source
/// UnionPay terminal applications send it (e.g. CaoEnXin/LiaoYang_POS, emvtranproc.c).
const SCRIPT_RESULT_TAGS: [u32; 11] = [
    0x9F33, 0x95, 0x9F37, 0x9F1E, 0x9F10, 0x9F26, 0x9F36, 0x82, 0xDF31, 0x9F1A, 0x9A,
];

/// The TC upload of an approved chip transaction (0320, 60.3 = 203): the request's own
/// elements and STAN, so the acquirer matches it to the authorisation it belongs to, and the
/// card's data after the second GENERATE AC in field 55 (9F26 is the TC).
pub(crate) fn tc_upload(f: &RequestFacts<'_>) -> Message {
    let mut m = financial_message(f, "0320");
    m.remove(37);
    m.remove(38);
    m.remove(61);
    set_net_code(&mut m, f, NET_TC_UPLOAD);
    m
}

/// The script result advice (0620, 60.3 = 951) of a chip transaction whose card ran issuer
/// scripts: its own STAN (`f.stan`), the transaction it reports on in 37, 38 and 61, and the
/// script results (DF31) with the tags UnionPay lists in field 55.
pub(crate) fn script_result_advice(f: &RequestFacts<'_>) -> Message {
    let mut m = financial_message(f, "0620");
    set_net_code(&mut m, f, NET_SCRIPT_RESULT);
    match f.card.icc_data.map(|d| icc_subset(d, &SCRIPT_RESULT_TAGS)) {
        Some(icc) if !icc.is_empty() => m.set_bytes(55, icc),
        _ => {
            m.remove(55);
        }
    }
    m
}

fn set_net_code(m: &mut Message, f: &RequestFacts<'_>, net_code: &str) {
    let f60 = Field60 {
        type_code: "00".into(),
        batch_no: f.batch_no,
        net_mgmt: net_code.into(),
        read_capability: Some(f.card.read_capability),
        ic_condition: Some(f.card.ic_condition),
        tail: String::new(),
    };
    m.set_digits(60, &f60.to_digits());
}

/// The reversal of a request: the same identifying elements and STAN as the original, MTI 0400,
/// and the reason in field 39. No track or PIN data: they were never stored. For a chip card,
/// field 55 carries the objects the issuer needs to undo the card's side (TVR, IFD serial, IAD,
/// ATC and the script results) and never the cryptogram.
pub(crate) fn reversal_request(f: &RequestFacts<'_>, reason: &str) -> Message {
    let mut m = financial_message(f, "0400");
    m.set_text(39, reason);
    match f.card.icc_data.map(reversal_icc_data) {
        Some(icc) if !icc.is_empty() => m.set_bytes(55, icc),
        _ => {
            m.remove(55);
        }
    }
    m
}

/// The field-55 objects of a reversal (UnionPay POS specification, IC card reversal: 95, 9F1E,
/// 9F10, 9F36, DF31), in the order the request carried them.
fn reversal_icc_data(field55: &[u8]) -> Vec<u8> {
    icc_subset(field55, &[0x95, 0x9F1E, 0x9F10, 0x9F36, 0xDF31])
}

/// The objects of `field55` whose tag is in `tags`, in the order field 55 has them.
fn icc_subset(field55: &[u8], tags: &[u32]) -> Vec<u8> {
    let Ok(objects) = crate::codec::tlv::parse(field55) else {
        return Vec::new();
    };
    let kept: Vec<_> = objects
        .into_iter()
        .filter(|o| tags.contains(&o.tag))
        .collect();
    crate::codec::tlv::encode(&kept)
}

fn financial_message(f: &RequestFacts<'_>, mti: &str) -> Message {
    let mut m = Message::new(mti);
    let c = &f.card;
    if let (None, Some(pan)) = (c.track2_digits, c.pan_digits) {
        m.set_digits(2, pan);
    }
    m.set_digits(3, f.spec.processing_code);
    if f.spec.effect != crate::txn::kind::MoneyEffect::None {
        m.set_digits(4, &amount_digits(f.amount_fen));
    }
    m.set_digits(11, &stan_digits(f.stan));
    m.set_digits(22, c.entry_mode);
    if let Some(psn) = c.card_sequence {
        m.set_digits(23, &format!("{psn:03}"));
    }
    m.set_digits(25, f.spec.condition_code);
    if c.pin_block.is_some() {
        m.set_digits(26, PIN_CAPTURE_CODE);
    }
    if let Some(t2) = c.track2_digits {
        m.set_digits(35, t2);
    }
    if let Some(o) = &f.original {
        if !o.rrn.is_empty() {
            m.set_text(37, o.rrn);
        }
        if !o.auth_code.is_empty() {
            m.set_text(38, o.auth_code);
        }
    }
    m.set_text(41, f.terminal_id);
    m.set_text(42, f.merchant_id);
    m.set_text(49, CURRENCY_CNY);
    if let Some(block) = c.pin_block {
        m.set_bytes(52, block.as_bytes().to_vec());
    }
    if c.pin_block.is_some() || c.track_enciphered {
        m.set_digits(53, &f.security_control);
    }
    if let Some(icc) = c.icc_data {
        m.set_bytes(55, icc.to_vec());
    }
    let f60 = Field60 {
        type_code: f.spec.type_code.to_string(),
        batch_no: f.batch_no,
        net_mgmt: NET_MGMT_FINANCIAL.to_string(),
        read_capability: Some(c.read_capability),
        ic_condition: Some(c.ic_condition),
        tail: String::new(),
    };
    m.set_digits(60, &f60.to_digits());
    if let Some(o) = &f.original {
        let f61 = Field61 {
            batch_no: o.batch_no,
            stan: o.stan,
            date: o.date.map(str::to_string),
            tail: String::new(),
        };
        m.set_digits(61, &f61.to_digits());
    }
    m
}

/// A network-management or batch message (0800, 0820, 0500, 0320): STAN, terminal, merchant,
/// 60 = type code 00 + batch + network-management code, operator in 63.
pub(crate) fn management_message(
    mti: &str,
    stan: u32,
    terminal_id: &str,
    merchant_id: &str,
    batch_no: u32,
    net_code: &str,
    operator: &str,
) -> Message {
    let mut m = Message::new(mti);
    m.set_digits(11, &stan_digits(stan));
    m.set_text(41, terminal_id);
    m.set_text(42, merchant_id);
    let f60 = Field60 {
        type_code: "00".into(),
        batch_no,
        net_mgmt: net_code.into(),
        read_capability: None,
        ic_condition: None,
        tail: String::new(),
    };
    m.set_digits(60, &f60.to_digits());
    m.set_text(63, &format!("{operator:<3}"));
    m
}
