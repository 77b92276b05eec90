//! Acquirer simulator: a UnionPay-style host with a real ledger, scriptable faults, and a TCP
//! (or TLS) server speaking the terminal's dialect. Tests and the demo embed it in-process.
//!
//! The simulator plays acquirer and issuer at once: [`ledger::Ledger`] holds the accounts,
//! authorises, and keeps every money movement as a posting operators can audit.

pub mod esign;
pub mod faults;
pub mod gateway;
pub mod host;
pub mod ic_params;
pub mod issuer;
pub mod ledger;
mod listener;
pub mod pki;
pub mod proxy;
pub mod server;
pub mod tls;

pub use faults::{Fault, Matcher};
pub use host::Acquirer;
pub use ic_params::ProtocolFault;
pub use proxy::{OnPathProxy, Tamper};
pub use server::SimServer;
