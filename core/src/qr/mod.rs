//! QR payments: the EMVCo merchant-presented payload (make and parse), consumer-presented payloads
//! and payment codes, and the matrix a shell draws.
//!
//! Everything here is a pure codec: no I/O, no clock, no journal. The gateway and the payment
//! session build on it.

pub mod cpm;
pub mod crc;
pub mod emv_tlv;
pub mod mpm;
pub mod paycode;
pub mod render;
