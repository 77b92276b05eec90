//! What a terminal needs to know about itself and its acquirer.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::codec::iso8583::Tpdu;
use crate::crypto::{MacAlgorithm, SecretKey};

/// Terminal identity, acquirer endpoints and policies.
#[derive(Debug)]
pub struct TerminalConfig {
    /// Field 41, 8 characters.
    pub terminal_id: String,
    /// Field 42, 15 characters.
    pub merchant_id: String,
    /// Printed on receipts.
    pub merchant_name: String,
    /// Primary first, then backups; a backup is tried only when the primary cannot be reached.
    pub endpoints: Vec<SocketAddr>,
    pub connect_timeout: Duration,
    pub response_timeout: Duration,
    pub tpdu: Tpdu,
    /// The 6-byte application header of every frame.
    pub header: [u8; 6],
    pub mac: MacAlgorithm,
    pub journal_path: PathBuf,
    /// Storage budget for the journal in bytes; `None` means only the disk limits it. Reaching
    /// it fails a transaction before anything is sent, like a full disk.
    pub journal_max_bytes: Option<u64>,
    /// Seals PANs and working keys at rest (AES-256-GCM). On Android it comes from the Keystore.
    pub storage_key: SecretKey,
    /// How many times a reversal is sent before it is left as pending work for the operator.
    pub reversal_attempts: u32,
    /// Whether the engine signs on by itself when it has no working keys or the host demanded it.
    pub auto_sign_on: bool,
    /// Field 60.4: what the terminal can read (see `card::entry`).
    pub read_capability: crate::card::ReadCapability,
    /// How long the card reader waits for a card.
    pub card_timeout: Duration,
    /// Operator code sent in field 63 of network-management messages.
    pub operator: String,
}
