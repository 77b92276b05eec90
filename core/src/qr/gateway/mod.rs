//! The QR payment gateway (aggregator style): JSON over HTTP(S) POST, HMAC-SHA256 signed both
//! ways. Operations: micropay, query, cancel (reverse), refund, precreate.

mod auth_code;
mod client;
pub mod codes;
mod error;
pub mod protocol;
mod sign;
mod tls;

#[cfg(test)]
mod tls_tests;

pub use auth_code::AuthCode;
pub use client::{GatewayClient, GatewayConfig};
pub use codes::Verdict;
pub use error::GatewayError;
pub use protocol::{GatewayReply, Operation, TradeState};
pub use sign::{SIGN_FIELD, SignatureError, SigningKey, canonical};
pub use tls::spki_pin;
