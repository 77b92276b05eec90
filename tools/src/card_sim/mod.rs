//! Virtual contact chip cards with real keys, for tests, the demo and the Kotlin tests.
//!
//! A [`VirtualCard`] is a reader slot holding one personalised card; it implements
//! [`smartpos_core::ports::CardReader`], so the kernel talks to it exactly as to a vendor's
//! contact reader: `detect` reports a contact chip, `transceive` is the card answering
//! C-APDUs (EMV 4.4 Books 1 and 3, ISO/IEC 7816-4), `remove_card` takes it out.
//!
//! ```
//! use smartpos_core::ports::CardReader;
//! use smartpos_tools::card_sim::{VirtualCard, catalogue};
//!
//! let card = VirtualCard::new(catalogue::card("unionpay-debit-sda").expect("in the catalogue"));
//! card.detect(std::time::Duration::from_secs(1)).expect("inserted");
//! let fci = card.transceive(b"\x00\xA4\x04\x00\x0E1PAY.SYS.DDF01\x00").expect("answers");
//! assert_eq!(&fci[fci.len() - 2..], &[0x90, 0x00]);
//! ```
//!
//! The cards' keys come from the issuer master keys in [`catalogue::issuer_families`], which
//! the acquirer simulator's issuer (`sim::issuer`) uses to check ARQCs and answer ARPCs.

pub mod apdu;
mod card;
pub mod catalogue;
mod catalogue_ctls;
pub mod contactless;
mod cryptogram;
pub mod dol;
mod issuer_cmds;
pub mod keys;
pub mod oda;
pub mod personalise;
mod process;
pub mod profile;
mod select;
mod verify;

pub use card::VirtualCard;
pub use catalogue_ctls::CONTACTLESS_NAMES;
pub use cryptogram::{CID_AAC, CID_ARQC, CID_TC};
pub use issuer_cmds::SCRIPT_MAC_LEN;
pub use oda::{IccKey, OdaKind, TEST_CA_INDEX, test_ca_keys};
pub use personalise::CatalogueError;
pub use process::{amount_from_bcd, bcd_amount};
pub use profile::{CardProfile, Tear};
pub use select::PSE_NAME;
pub use verify::format2_block;
