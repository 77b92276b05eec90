//! Field 55 (ICC system related data) as UnionPay asks for it in the authorisation request, the
//! offline advice and the TC upload: a fixed tag set, present values only, BER-TLV.

use super::data::TagStore;
use crate::codec::tlv::{self, Tlv};

/// UnionPay's field 55 tag set for a contact debit/credit transaction, in its order.
pub const UNIONPAY_TAGS: &[u32] = &[
    0x9F26, 0x9F27, 0x9F10, 0x9F37, 0x9F36, 0x95, 0x9A, 0x9C, 0x9F02, 0x5F2A, 0x82, 0x9F1A, 0x9F03,
    0x9F33, 0x9F34, 0x9F35, 0x9F1E, 0x84, 0x9F09, 0x9F41,
];

/// Tags that may follow the set when the card has them (card product identification).
const OPTIONAL: &[u32] = &[0x9F63];

pub fn build(store: &TagStore) -> Vec<u8> {
    let objs: Vec<Tlv> = UNIONPAY_TAGS
        .iter()
        .chain(OPTIONAL)
        .filter_map(|&t| store.get(t).map(|v| Tlv::primitive(t, v.to_vec())))
        .collect();
    tlv::encode(&objs)
}

/// The CVM results (9F34) a field 55 carries, if well formed: what the receipt, the signature
/// decision and a journaled tap's rebuilt field 22 read back.
pub fn cvm_results(field55: &[u8]) -> Option<[u8; 3]> {
    let objects = tlv::parse(field55).ok()?;
    let value = tlv::find(&objects, 0x9F34).and_then(Tlv::bytes)?;
    <[u8; 3]>::try_from(value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_present_tags_in_the_set_order() {
        let mut s = TagStore::default();
        s.set_card(0x9F36, &[0, 7]);
        s.set_card(0x5A, &[0x62, 0x22]);
        s.set_terminal(0x95, vec![0; 5]);
        s.set_card(0x9F26, &[1; 8]);
        let f = hex::encode_upper(build(&s));
        assert_eq!(
            f,
            "9F260801010101010101019F360200079505 0000000000".replace(' ', "")
        );
    }

    #[test]
    fn the_cvm_result_is_read_from_the_chip_data() {
        let f55 = hex::decode("9F2701409F34031E0300").expect("hex");
        assert_eq!(cvm_results(&f55), Some([0x1E, 0x03, 0x00]));
        assert_eq!(cvm_results(&[0x9F, 0x27, 0x01, 0x40]), None);
    }
}
