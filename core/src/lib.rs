//! SmartPOS core: every rule of the payment domain, with no FFI and no global state.
//!
//! Arrows go one way: `txn` uses everything below it; `codec` and `crypto` know nothing of the
//! rest. See `docs/architecture.md`.

pub mod calendar;
pub mod card;
/// The codecs live in their own crate (optimised for speed in release, issue #17); this path is
/// where the rest of the core and its users have always found them.
pub use smartpos_codec as codec;
pub mod crashpoint;
pub mod crypto;
pub mod diag;
pub mod esign;
pub mod host;
pub mod money;
pub mod ports;
pub mod qr;
pub mod risk;
pub mod store;
pub mod txn;
