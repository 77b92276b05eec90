//! QR payments. The codecs are pure (no I/O, no clock, no journal): the EMVCo merchant-presented
//! payload (make and parse), consumer-presented payloads and payment codes, and the matrix a shell
//! draws. On them build the aggregator gateway protocol and the QR session (payment flows,
//! journal, recovery).

pub mod cpm;
pub mod crc;
pub mod emv_tlv;
pub mod gateway;
pub mod mpm;
pub mod paycode;
pub mod render;
pub mod session;
