//! Card data: PAN, track 2, expiry, service code and the magstripe/chip entry decision.
//!
//! Everything that can carry a full PAN or track data is a `Zeroize` type whose `Debug` and
//! `Display` show only the masked PAN (first 6 + last 4).

pub mod ctls;
pub mod emv;
mod entry;
mod error;
mod expiry;
pub mod oda;
mod pan;
mod service_code;
mod track2;

pub use entry::{
    ChipAttempt, EntryConditions, EntryMode, IcCondition, PinCapability, ReadCapability,
    SwipeDecision, decide_swipe,
};
pub use error::CardError;
pub use expiry::{Expiry, YearMonth};
pub use pan::{Bin, LuhnCheck, MaskedPan, Pan};
pub use service_code::{AuthorizationProcessing, Interchange, ServiceCode, ServiceRestriction};
pub use track2::Track2;
