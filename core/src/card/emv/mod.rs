//! The EMV / PBOC 3.0 contact kernel (EMV 4.4 Books 1 and 3): a state machine over APDU
//! exchange with the card. It does no I/O of its own: the card is an [`IccChannel`], the PIN pad
//! a [`CvmHandler`], the cardholder's choice an [`ApplicationChooser`], offline data
//! authentication an [`OdaVerifier`]. Tag dictionary, TVR/TSI bits, DOLs and the AID table are
//! data, shared with the contactless kernels to come.

pub mod action;
pub mod bits;
pub mod channel;
mod complete;
pub mod cvm;
pub mod data;
pub mod describe;
pub mod dol;
pub mod ec;
pub mod field55;
pub mod genac;
pub mod kernel;
pub mod oda;
mod oda_keys;
pub mod outcome;
pub mod params;
pub mod records;
pub mod restrict;
pub mod risk;
pub mod script;
pub mod select;
pub mod tags;
pub mod txn_data;

pub use channel::{ChannelError, IccChannel, ReaderChannel};
pub use cvm::{CvmHandler, CvmOutcome, NoPinPad, OnlinePinEntry};
pub use ec::{EcBalance, ec_balance};
pub use kernel::{ContactKernel, KernelConfig, KernelPorts, KernelSnapshot, RiskSource, Step};
pub use oda::{IccPublicKey, NoCaKeys, OdaError, OdaMethod, OdaResult, OdaVerifier};
pub use oda_keys::CaKeyVerifier;
pub use outcome::{
    AcRecord, AcType, Completion, CompletionReport, FallbackReason, FirstAcDecision, HostAnswer,
    IccCardData, IccRequest, TerminationReason,
};
pub use params::{AidParams, TerminalParams, default_aids};
pub use select::{AcceptFirst, ApplicationChooser, Candidate};
pub use txn_data::TransactionData;

#[cfg(test)]
mod cvm_tests;
#[cfg(test)]
mod kernel_tests;
#[cfg(test)]
mod oda_tests;
