//! What a terminal needs to know about itself and its acquirer.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::crypto::SecretKey;
use crate::host::{AcquirerDialect, AcquirerTls};
use crate::risk::{EnvelopeError, TrustedKeys};
use zeroize::Zeroizing;

/// How the terminal's link to the acquirer is protected ([`crate::txn::Terminal::open_with_security`]).
///
/// It travels beside [`TerminalConfig`] rather than inside it: the FFI layer builds
/// `TerminalConfig` as a complete struct literal, so a new field there would break every such
/// builder, while `Terminal::open` keeps meaning plain TCP for them.
#[derive(Debug, Clone)]
pub enum AcquirerSecurity {
    /// Plain TCP: acceptable only on a private APN. The health check warns about it unless every
    /// endpoint is a loopback address.
    PlainTcp,
    /// TLS (rustls, ring provider) to the same endpoints, optionally with a client certificate.
    Tls(AcquirerTls),
}

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
    /// The acquirer's message conventions: MAC algorithm, TPDU, header, track encryption, PIN
    /// block format. Default: UnionPay framing with the X9.19 MAC.
    pub dialect: AcquirerDialect,
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
    /// Risk pre-checks; on by default (see [`RiskConfig`]).
    pub risk: RiskConfig,
}

/// Risk pre-checks at open. `Default` is on, with the built-in rule bundle, no fleet key, a
/// terminal-local card-hash salt and the MCC taken from the merchant id.
///
/// Why the built-in bundle does not get in the way of a normal day's trade: every limit is
/// far above one shop's ordinary takings (card: 50,000 yuan per sale, 100,000 per card and
/// 500,000 per terminal per day; 60 payments per terminal and 5 per card in any 10 minutes),
/// and the duplicate guard asks only about the *same card for the same amount within 5
/// minutes* — a second purchase on the same card for another amount passes untouched, and
/// the real duplicate goes on once the operator confirms it on the `Prompt` port. The cash-out
/// patterns need three round 1,000-yuan amounts (or a 47,500-yuan "just below" pair, or four
/// sales adding up to 50,000 yuan) on one card within a day.
///
/// QR payments carry the PBOC barcode caps per day (see `qr::session`), which *are* tight:
/// 1,000 yuan per day for dynamic codes when the payer's grade is unknown.
#[derive(Clone)]
pub struct RiskConfig {
    /// `false` turns every check off: only for harnesses that must repeat identical sales on
    /// one card (crash tests, load runs), never on a terminal in trade.
    pub enabled: bool,
    /// Ed25519 public keys of the fleet's back office, by key id, which sign rule bundles and
    /// hot-list deltas (several while a key is being rotated). Empty: only the built-in bundle is
    /// trusted and run-time updates are refused with a clear error. Bundles and deltas the
    /// journal keeps are verified again at open with these keys: keep a retired key here until
    /// what it signed has been replaced.
    pub trusted_keys: TrustedKeys,
    /// Salt of the card fingerprints, shared with the fleet's hot list. `None` derives a
    /// terminal-local salt from the storage key (counters work; a central hot list cannot
    /// match). Secret.
    pub card_hash_salt: Option<Zeroizing<Vec<u8>>>,
    /// ISO 18245 merchant category code (4 digits); `None` takes it from the merchant id.
    pub mcc: Option<String>,
}

impl Default for RiskConfig {
    fn default() -> RiskConfig {
        RiskConfig {
            enabled: true,
            trusted_keys: TrustedKeys::none(),
            card_hash_salt: None,
            mcc: None,
        }
    }
}

impl RiskConfig {
    /// Checks off: for test and load harnesses that make repeated identical sales.
    pub fn disabled() -> RiskConfig {
        RiskConfig {
            enabled: false,
            ..RiskConfig::default()
        }
    }

    /// Checks on, trusting one bare public key under its fingerprint id (what a configuration
    /// with a single `trusted_key` meant before key ids; see [`TrustedKeys::single`]).
    pub fn with_trusted_key(public_key: &[u8]) -> Result<RiskConfig, EnvelopeError> {
        Ok(RiskConfig {
            trusted_keys: TrustedKeys::single(public_key)?,
            ..RiskConfig::default()
        })
    }
}

impl std::fmt::Debug for RiskConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RiskConfig")
            .field("enabled", &self.enabled)
            .field("trusted_keys", &self.trusted_keys.ids())
            .field(
                "card_hash_salt",
                &self.card_hash_salt.as_ref().map(|_| "[redacted]"),
            )
            .field("mcc", &self.mcc)
            .finish()
    }
}
