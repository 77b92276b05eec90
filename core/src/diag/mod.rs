//! The termination vocabulary: why a transaction ended, in words for the merchant (zh/en) and a
//! neutral message for the cardholder, with concrete remedies and an alternative way to pay.
//!
//! Everything here is data: the field-39 catalog and the local termination codes are tables.

mod catalog;
pub mod health;
mod local_codes;
mod response_code;
pub mod statistics;
mod termination;
mod vocabulary;

pub use catalog::{ActionClass, ResponseCodeInfo, TerminalReaction, clears_reversal, lookup};
pub use health::{CheckKind, CheckStatus, HealthCheck, HealthReport, HealthThresholds};
pub use local_codes::LocalCodeInfo;
pub use response_code::{ResponseCode, ResponseCodeError};
pub use statistics::StatisticsReport;
pub use termination::{Termination, TerminationCode, TerminationCodeError};
pub use vocabulary::{CardholderNotice, Cause, PaymentMethod, Remedy};
