//! Acquirer simulator: a UnionPay-style host with a real ledger.
//!
//! The simulator plays acquirer and issuer at once: [`ledger::Ledger`] holds the accounts,
//! authorises, and keeps every money movement as a posting operators can audit.

pub mod ledger;
