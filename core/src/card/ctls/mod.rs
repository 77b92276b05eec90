//! Contactless kernels (EMV Contactless Books A and B, UnionPay qPBOC / QuickPass, Visa C-3,
//! Mastercard C-2) over the same seam as the contact kernel: a state machine over an
//! [`IccChannel`](crate::card::emv::IccChannel) with no I/O of its own. One call to [`start`]
//! is one tap: pre-processing, PPSE, combination selection, the kernel, and an outcome with the
//! UI requests the engine forwards to the `Prompt` port ("card read OK — remove card" as soon
//! as the card is no longer needed).

mod entry;
mod mchip;
mod mchip_cvm;
pub mod outcome;
pub mod params;
pub mod preprocess;
mod quick;
mod tap;

pub use entry::{CtlsConfig, CtlsPorts, CtlsTap, pre_process, ready, start};
pub use outcome::{CtlsCvm, CtlsOutcome, CtlsResult, InsertReason, UiRequest, UiSink};
pub use params::{
    CtlsAid, DEFAULT_CONTACTLESS_LIMIT_FEN, DEFAULT_NO_CVM_LIMIT_FEN, KernelId, default_ctls_aids,
};

#[cfg(test)]
mod tests;
