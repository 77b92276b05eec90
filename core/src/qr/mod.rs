//! QR payments: the aggregator gateway protocol and the QR session (payment flows, journal, recovery).
pub mod gateway;
pub mod session;
