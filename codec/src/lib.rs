//! Codecs: packed BCD, BER-TLV (EMV field 55) and ISO 8583 with the UnionPay dialect as a table.
//! Nothing here knows about cards, keys or transactions; every malformed input is a typed error
//! that says where it is.

pub mod bcd;
pub mod iso8583;
mod short_copy;
pub mod tlv;
