//! The fixed identities the demo, the simulator CLI and the tests share: one terminal, one
//! merchant, a test TMK, and the demo ledger's cards. Test keys only; nothing here is a secret.

use std::sync::OnceLock;
use std::time::Duration;

use smartpos_core::card::ReadCapability;
use smartpos_core::crypto::{KeyAlgorithm, SecretKey, SoftwareVault, VaultAlgorithm};
use smartpos_core::host::AcquirerDialect;
use smartpos_core::qr::gateway::SigningKey;
use smartpos_core::qr::session::QrSettings;
use smartpos_core::txn::{RiskConfig, TerminalConfig};

use crate::sim::ledger::Ledger;

pub const DEMO_TERMINAL_ID: &str = "10000001";
pub const DEMO_MERCHANT_ID: &str = "898310048140001";
pub const DEMO_MERCHANT_NAME: &str = "SmartPOS 演示商户 DEMO SHOP";
/// A WeChat Pay payment code (18 digits, prefix 13) as a customer's wallet shows it; the
/// simulated gateway charges it.
pub const DEMO_WECHAT_CODE: &str = "134567890123456789";

/// The demo terminal master key (double-length TDES), injected into both the simulator and the
/// terminal's vault as a key-loading device would.
const DEMO_TMK_HEX: &str = "0123456789ABCDEFFEDCBA9876543210";

pub fn demo_tmk() -> SecretKey {
    // A compile-time constant of valid hex and length (pinned by a test below).
    SecretKey::from_hex(KeyAlgorithm::Tdes, DEMO_TMK_HEX).expect("demo TMK constant is valid")
}

/// A software vault holding the demo TMK.
pub fn demo_vault() -> SoftwareVault {
    SoftwareVault::new(demo_tmk(), VaultAlgorithm::Tdes).expect("a TDES TMK suits a TDES vault")
}

/// A fresh random storage key (AES-256) for sealing PANs and keys at rest. On a terminal it
/// comes from the Android Keystore.
pub fn fresh_storage_key() -> Result<SecretKey, smartpos_core::crypto::CryptoError> {
    SecretKey::random(KeyAlgorithm::Aes, 32)
}

/// A terminal configuration for the demo identity; the caller sets the journal path and
/// endpoints.
pub fn demo_terminal_config(storage_key: SecretKey) -> TerminalConfig {
    TerminalConfig {
        terminal_id: DEMO_TERMINAL_ID.into(),
        merchant_id: DEMO_MERCHANT_ID.into(),
        merchant_name: DEMO_MERCHANT_NAME.into(),
        endpoints: Vec::new(),
        connect_timeout: Duration::from_secs(2),
        response_timeout: Duration::from_secs(5),
        // UnionPay framing with the X9.19 MAC, the terminal's safe default (see
        // `AcquirerDialect`); the simulator checks the same unless started otherwise.
        dialect: AcquirerDialect::default(),
        journal_path: "journal.db".into(),
        journal_max_bytes: None,
        storage_key,
        reversal_attempts: 3,
        auto_sign_on: true,
        read_capability: ReadCapability::ContactAndContactless,
        card_timeout: Duration::from_secs(30),
        operator: "001".into(),
        // On, with the built-in bundle: the demo identity trades like a terminal in the field.
        risk: RiskConfig::default(),
    }
}

/// QR session settings for the simulated gateway at `gateway_url` (demo merchant, terminal and
/// signing key).
pub fn demo_qr_settings(gateway_url: &str) -> QrSettings {
    QrSettings::new(
        gateway_url,
        DEMO_MERCHANT_ID,
        DEMO_TERMINAL_ID,
        SigningKey::new(crate::sim::gateway::DEMO_SIGNING_KEY),
    )
}

/// Track 2 of a demo card by its name in the demo ledger. The ledger's cards never change, so
/// it is built once: soak runs and the sale bench present a card per sale, and building the
/// ledger each time cost more CPU than parts of the sale they measure.
pub fn demo_track2(name: &str) -> Option<String> {
    static DEMO_CARDS: OnceLock<Ledger> = OnceLock::new();
    DEMO_CARDS
        .get_or_init(Ledger::with_demo_accounts)
        .demo_track2(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_tmk_is_the_documented_constant() {
        assert_eq!(
            demo_tmk().expose_secret(),
            hex::decode(DEMO_TMK_HEX).unwrap().as_slice()
        );
        assert_eq!(fresh_storage_key().unwrap().len(), 32);
    }

    #[test]
    fn demo_track2_has_the_chip_service_code_only_for_the_chip_card() {
        assert!(demo_track2("chip").unwrap().contains("=3012201"));
        assert!(demo_track2("normal").unwrap().contains("=3012101"));
        assert!(demo_track2("nobody").is_none());
    }
}
