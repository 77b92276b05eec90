//! DUKPT: a unique key per transaction derived from a base derivation key (BDK) and the key
//! serial number (KSN) the PIN pad sends with each transaction.

pub mod aes;
pub mod tdes;
