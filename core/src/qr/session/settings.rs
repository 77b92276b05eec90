use std::time::Duration;

use crate::qr::gateway::SigningKey;

/// Everything a QR session needs: the gateway and its polling rules. No card configuration.
#[derive(Debug)]
pub struct QrSettings {
    /// `https://`, or `http://` to a loopback address only (a simulator): the payment code is
    /// a bearer credential and never crosses a network in clear.
    pub gateway_url: String,
    pub merchant_id: String,
    pub terminal_id: String,
    pub signing_key: SigningKey,
    /// Gap between queries while the customer confirms (aggregators advise 5 s).
    pub poll_interval: Duration,
    /// How long after "user paying" the session keeps querying before it cancels (45 s).
    pub poll_deadline: Duration,
    /// Cancels sent before an order is left to [`super::QrSession::recover`].
    pub cancel_attempts: u32,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    /// PEM CA certificates for a private gateway; `None` trusts the web PKI roots.
    pub ca_pem: Option<Vec<u8>>,
    /// SPKI pins of the gateway's certificate (base64 SHA-256 of its SubjectPublicKeyInfo);
    /// empty: none. See `GatewayConfig::spki_pins`.
    pub spki_pins: Vec<String>,
    /// ISO 4217 numeric currency journaled with each order.
    pub currency: String,
    /// Risk pre-check before each micropay and precreate; on by default.
    pub risk: super::QrRisk,
}

impl QrSettings {
    pub fn new(
        gateway_url: &str,
        merchant_id: &str,
        terminal_id: &str,
        signing_key: SigningKey,
    ) -> QrSettings {
        QrSettings {
            gateway_url: gateway_url.to_owned(),
            merchant_id: merchant_id.to_owned(),
            terminal_id: terminal_id.to_owned(),
            signing_key,
            poll_interval: Duration::from_secs(5),
            poll_deadline: Duration::from_secs(45),
            cancel_attempts: 3,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            ca_pem: None,
            spki_pins: Vec::new(),
            currency: "156".to_owned(),
            risk: super::QrRisk::default(),
        }
    }
}
