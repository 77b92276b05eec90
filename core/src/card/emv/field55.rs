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
}
