//! The terminal configuration as the shell gives it, checked and turned into the core's.

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use smartpos_core::card::ReadCapability;
use smartpos_core::codec::iso8583::Tpdu;
use smartpos_core::crypto::{KeyAlgorithm, SecretKey};
use smartpos_core::host::AcquirerDialect;
use smartpos_core::txn::TerminalConfig;
use zeroize::Zeroize;

use crate::error::SmartPosError;

/// What the shell knows about its terminal. The storage key is wiped from the Rust copy once
/// converted, and never printed. No TMK or working key is here: they live in the `Ped`.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct TerminalConfigRecord {
    /// Field 41, 8 ASCII characters.
    pub terminal_id: String,
    /// Field 42, 15 ASCII characters.
    pub merchant_id: String,
    pub merchant_name: String,
    /// "host:port", primary first; backups are tried only when the primary cannot be reached.
    pub endpoints: Vec<String>,
    pub connect_timeout_ms: u64,
    pub response_timeout_ms: u64,
    pub card_timeout_ms: u64,
    /// Path of the SQLite journal; its folder must exist.
    pub journal_path: String,
    /// AES-256 key (32 bytes) sealing PANs and keys at rest; on Android from the Keystore.
    pub storage_key: Vec<u8>,
    /// Local risk pre-checks before a card is read or the host is called (the built-in rule
    /// bundle). On unless a harness that repeats identical sales turns them off.
    #[uniffi(default = true)]
    pub risk_checks: bool,
    /// The fleet's Ed25519 public key (32 bytes), trusted under its fingerprint id (what
    /// `smartpos risk bundle sign` uses without `--key-id`). Kept for configurations from before
    /// key ids; `risk_trusted_keys` names keys explicitly. With neither, only the built-in
    /// bundle runs and signed updates are refused.
    #[uniffi(default = None)]
    pub risk_trusted_key: Option<Vec<u8>>,
    /// The fleet's Ed25519 public keys by the key id their signed bundles and hot-list deltas
    /// name (several while a key is rotated). What the journal kept is verified again with
    /// these at every open: keep a retired key until what it signed has been replaced.
    #[uniffi(default = [])]
    pub risk_trusted_keys: Vec<crate::risk::RiskTrustedKeyRecord>,
    /// Salt of the card fingerprints in the fleet's hot list; without it the terminal uses a
    /// salt of its own and a fleet hot list cannot match a card. Secret: wiped once converted.
    #[uniffi(default = None)]
    pub risk_card_hash_salt: Option<Vec<u8>>,
    /// ISO 18245 merchant category (4 digits); absent, it is read from the merchant id.
    #[uniffi(default = None)]
    pub risk_mcc: Option<String>,
    /// TLS to the acquirer. Null: plain TCP, acceptable only on a private APN (the health check
    /// warns about it unless every endpoint is loopback).
    #[uniffi(default = None)]
    pub acquirer_tls: Option<AcquirerTlsRecord>,
}

/// How the terminal checks the acquirer's certificate, and the terminal's own for mutual TLS.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct AcquirerTlsRecord {
    /// PEM CA certificate(s) the acquirer's certificate must chain to; null trusts the bundled
    /// root CAs (an acquirer with a publicly issued certificate).
    #[uniffi(default = None)]
    pub ca_pem: Option<String>,
    /// The name the acquirer's certificate carries (and SNI); null checks the endpoint's address.
    #[uniffi(default = None)]
    pub server_name: Option<String>,
    /// The terminal's certificate chain (PEM, leaf first) for mutual TLS, with its key.
    #[uniffi(default = None)]
    pub client_cert_pem: Option<String>,
    /// The client certificate's private key (PEM). Secret: wiped once converted, never printed.
    #[uniffi(default = None)]
    pub client_key_pem: Option<String>,
}

impl std::fmt::Debug for AcquirerTlsRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AcquirerTlsRecord")
            .field("ca_pem", &self.ca_pem.as_ref().map(|_| "[CA certificates]"))
            .field("server_name", &self.server_name)
            .field(
                "client_cert_pem",
                &self.client_cert_pem.as_ref().map(|_| "[certificate]"),
            )
            .field(
                "client_key_pem",
                &self.client_key_pem.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

impl AcquirerTlsRecord {
    /// The core's TLS settings; a certificate without its key (or the reverse) is refused.
    pub(crate) fn to_core(&self) -> Result<smartpos_core::host::AcquirerTls, SmartPosError> {
        let client = match (&self.client_cert_pem, &self.client_key_pem) {
            (Some(cert), Some(key)) => Some(smartpos_core::host::ClientIdentity {
                cert_chain_pem: cert.as_bytes().to_vec(),
                key_pem: zeroize::Zeroizing::new(key.as_bytes().to_vec()),
            }),
            (None, None) => None,
            _ => {
                return Err(config_error(
                    "acquirer_tls: client_cert_pem and client_key_pem go together",
                ));
            }
        };
        Ok(smartpos_core::host::AcquirerTls {
            ca_pem: self.ca_pem.as_ref().map(|p| p.as_bytes().to_vec()),
            server_name: self.server_name.clone(),
            client,
        })
    }
}

impl std::fmt::Debug for TerminalConfigRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TerminalConfigRecord")
            .field("terminal_id", &self.terminal_id)
            .field("merchant_id", &self.merchant_id)
            .field("endpoints", &self.endpoints)
            .field("journal_path", &self.journal_path)
            .field("storage_key", &"[redacted]")
            .field(
                "risk_card_hash_salt",
                &self.risk_card_hash_salt.as_ref().map(|_| "[redacted]"),
            )
            .finish_non_exhaustive()
    }
}

impl TerminalConfigRecord {
    /// Wipes the key material from this record's buffers (a Drop impl would stop UniFFI from
    /// moving the fields out when it lowers the record).
    pub(crate) fn wipe_secrets(&mut self) {
        self.storage_key.zeroize();
        if let Some(key) = self
            .acquirer_tls
            .as_mut()
            .and_then(|t| t.client_key_pem.as_mut())
        {
            key.zeroize();
        }
        if let Some(salt) = self.risk_card_hash_salt.as_mut() {
            salt.zeroize();
        }
    }
}

/// The UnionPay POS defaults the demo acquirer and most CUPS acquirers use; a deployment that
/// needs others gets fields for them in this record.
const TPDU_DESTINATION: u16 = 0x0001;
const HEADER: [u8; 6] = [0x60, 0x22, 0x00, 0x00, 0x00, 0x00];
const REVERSAL_ATTEMPTS: u32 = 3;
const OPERATOR: &str = "001";

fn config_error(detail: impl Into<String>) -> SmartPosError {
    SmartPosError::Config {
        detail: detail.into(),
    }
}

fn timeout(name: &str, ms: u64) -> Result<Duration, SmartPosError> {
    if ms == 0 {
        return Err(config_error(format!("{name} must be more than 0 ms")));
    }
    Ok(Duration::from_millis(ms))
}

/// Resolves "host:port"; a host name is looked up once, here, at open.
fn endpoints(texts: &[String]) -> Result<Vec<SocketAddr>, SmartPosError> {
    if texts.is_empty() {
        return Err(config_error(
            "endpoints: at least one \"host:port\" is needed",
        ));
    }
    let mut out = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        let resolved = text
            .to_socket_addrs()
            .map_err(|e| config_error(format!("endpoints[{i}] {text:?} is not host:port: {e}")))?;
        let before = out.len();
        out.extend(resolved);
        if out.len() == before {
            return Err(config_error(format!(
                "endpoints[{i}] {text:?} resolves to no address"
            )));
        }
    }
    Ok(out)
}

impl TerminalConfigRecord {
    /// The core configuration.
    pub(crate) fn to_core(&self) -> Result<TerminalConfig, SmartPosError> {
        if self.storage_key.len() != 32 {
            return Err(config_error(format!(
                "storage_key must be 32 bytes (AES-256), got {}",
                self.storage_key.len()
            )));
        }
        let storage_key = SecretKey::new(KeyAlgorithm::Aes, &self.storage_key)
            .map_err(|e| config_error(format!("storage_key: {e}")))?;
        if self.journal_path.is_empty() {
            return Err(config_error("journal_path is empty"));
        }
        let config = TerminalConfig {
            terminal_id: self.terminal_id.clone(),
            merchant_id: self.merchant_id.clone(),
            merchant_name: self.merchant_name.clone(),
            endpoints: endpoints(&self.endpoints)?,
            connect_timeout: timeout("connect_timeout_ms", self.connect_timeout_ms)?,
            response_timeout: timeout("response_timeout_ms", self.response_timeout_ms)?,
            dialect: AcquirerDialect {
                tpdu: Tpdu::new(TPDU_DESTINATION, 0x0000),
                header: HEADER,
                ..AcquirerDialect::default()
            },
            journal_path: self.journal_path.clone().into(),
            journal_max_bytes: None,
            storage_key,
            reversal_attempts: REVERSAL_ATTEMPTS,
            auto_sign_on: true,
            read_capability: ReadCapability::ContactAndContactless,
            card_timeout: timeout("card_timeout_ms", self.card_timeout_ms)?,
            operator: OPERATOR.into(),
            risk: smartpos_core::txn::RiskConfig {
                enabled: self.risk_checks,
                trusted_keys: crate::risk::trusted_keys(
                    self.risk_trusted_key.as_deref(),
                    &self.risk_trusted_keys,
                )?,
                card_hash_salt: self
                    .risk_card_hash_salt
                    .as_ref()
                    .map(|salt| zeroize::Zeroizing::new(salt.clone())),
                mcc: self.risk_mcc.clone(),
            },
        };
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> TerminalConfigRecord {
        TerminalConfigRecord {
            terminal_id: "10000001".into(),
            merchant_id: "898310048140001".into(),
            merchant_name: "shop".into(),
            endpoints: vec!["127.0.0.1:9".into()],
            connect_timeout_ms: 100,
            response_timeout_ms: 100,
            card_timeout_ms: 100,
            journal_path: "j.db".into(),
            storage_key: vec![1; 32],
            risk_checks: true,
            risk_trusted_key: None,
            risk_trusted_keys: vec![],
            risk_card_hash_salt: Some(b"fleet salt".to_vec()),
            risk_mcc: None,
            acquirer_tls: None,
        }
    }

    fn detail(r: TerminalConfigRecord) -> String {
        match r.to_core() {
            Err(SmartPosError::Config { detail }) => detail,
            other => panic!("expected a config error, got {:?}", other.map(|_| ())),
        }
    }

    #[test]
    fn acquirer_tls_converts_and_a_client_certificate_needs_its_key() {
        let tls = AcquirerTlsRecord {
            ca_pem: Some("CA".into()),
            server_name: Some("acquirer.example".into()),
            client_cert_pem: Some("CERT".into()),
            client_key_pem: None,
        };
        assert!(tls.to_core().is_err(), "a certificate without its key");
        let tls = AcquirerTlsRecord {
            client_key_pem: Some("KEY".into()),
            ..tls
        };
        let core = tls.to_core().unwrap();
        assert_eq!(core.ca_pem.as_deref(), Some(b"CA".as_slice()));
        assert_eq!(core.server_name.as_deref(), Some("acquirer.example"));
        assert!(core.client.is_some());
        assert!(
            !format!("{tls:?}").contains("KEY"),
            "the key is never printed"
        );
        let mut r = TerminalConfigRecord {
            acquirer_tls: Some(tls),
            ..record()
        };
        r.wipe_secrets();
        assert_ne!(
            r.acquirer_tls.unwrap().client_key_pem.as_deref(),
            Some("KEY")
        );
    }

    #[test]
    fn a_good_record_converts() {
        let c = record().to_core().unwrap();
        assert_eq!(
            c.endpoints,
            vec!["127.0.0.1:9".parse::<SocketAddr>().unwrap()]
        );
        assert_eq!(c.response_timeout, Duration::from_millis(100));
    }

    #[test]
    fn each_bad_field_is_named() {
        let mut r = record();
        r.storage_key = vec![1; 16];
        assert!(detail(r).contains("storage_key"));
        let mut r = record();
        r.endpoints = vec!["127.0.0.1:9".into(), "no-port".into()];
        assert!(detail(r).contains("endpoints[1]"));
        let mut r = record();
        r.endpoints.clear();
        assert!(detail(r).contains("endpoints"));
        let mut r = record();
        r.card_timeout_ms = 0;
        assert!(detail(r).contains("card_timeout_ms"));
    }

    #[test]
    fn debug_hides_the_keys() {
        let text = format!("{:?}", record());
        assert!(!text.contains("[1, 1, 1"));
        assert!(
            !text.contains("102, 108, 101, 101, 116"),
            "the salt's bytes: {text}"
        );
        assert!(text.contains("[redacted]"));
    }

    #[test]
    fn the_salt_is_wiped_with_the_keys() {
        let mut r = record();
        r.wipe_secrets();
        assert_eq!(r.risk_card_hash_salt, Some(vec![]));
    }
}
