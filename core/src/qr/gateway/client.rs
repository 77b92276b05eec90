//! The gateway client: builds, signs and POSTs a request, verifies and reads the answer.
//! HTTP(S) through `ureq`, TLS through rustls on the ring provider with optional SPKI pins
//! (`super::tls`). Plain `http://` is allowed only to a loopback address: the payment code a
//! micropay carries is a bearer credential, good for one charge by whoever reads it.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use ring::rand::{SecureRandom, SystemRandom};
use rustls::RootCertStore;
use ureq::unversioned::resolver::DefaultResolver;
use ureq::unversioned::transport::{Connector, TcpConnector};

use super::protocol::{self, GatewayReply, Operation};
use super::tls::{self, HandshakeBroken, TlsConnector};
use super::{AuthCode, GatewayError, SigningKey};
use crate::host::CancelToken;
use crate::money::Amount;
use crate::ports::Clock;

/// Where and as whom to talk to the gateway.
#[derive(Debug)]
pub struct GatewayConfig {
    /// Base URL: `https://`, or `http://` to a loopback address only (a simulator on the
    /// device or the test machine); operation paths are appended.
    pub url: String,
    pub merchant_id: String,
    pub terminal_id: String,
    pub key: SigningKey,
    pub connect_timeout: Duration,
    /// Whole exchange, from connect to the last byte of the answer.
    pub timeout: Duration,
    /// PEM CA certificates to trust instead of the bundled web PKI roots (private gateways).
    pub ca_pem: Option<Vec<u8>>,
    /// SPKI pins: base64 of the SHA-256 of the gateway certificate's SubjectPublicKeyInfo. When
    /// any are given, the certificate must also carry one of these keys (after the CA check); a
    /// mismatch is a TLS failure, before anything is sent. Several allow a key rollover.
    pub spki_pins: Vec<String>,
}

impl GatewayConfig {
    pub fn new(url: &str, merchant_id: &str, terminal_id: &str, key: SigningKey) -> Self {
        GatewayConfig {
            url: url.trim_end_matches('/').to_owned(),
            merchant_id: merchant_id.to_owned(),
            terminal_id: terminal_id.to_owned(),
            key,
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            ca_pem: None,
            spki_pins: Vec::new(),
        }
    }
}

/// Largest answer read; the protocol's answers are a few hundred bytes.
const MAX_REPLY: u64 = 64 * 1024;

#[allow(missing_debug_implementations)] // ureq::Agent has no Debug; the key must not print.
pub struct GatewayClient {
    config: GatewayConfig,
    agent: ureq::Agent,
    clock: Arc<dyn Clock>,
    random: SystemRandom,
}

impl GatewayClient {
    pub fn new(config: GatewayConfig, clock: Arc<dyn Clock>) -> Result<Self, GatewayError> {
        let https = check_url(&config.url)?;
        let pins = tls::parse_pins(&config.spki_pins)?;
        if !https && !pins.is_empty() {
            return Err(GatewayError::Config {
                detail: format!(
                    "gateway url {:?}: SPKI pins need https:// (http:// has no certificate to pin)",
                    config.url
                ),
            });
        }
        let roots = match &config.ca_pem {
            Some(pem) => {
                let mut roots = RootCertStore::empty();
                let certs =
                    crate::host::certificates(pem).map_err(|detail| GatewayError::Config {
                        detail: format!("CA PEM: {detail}"),
                    })?;
                for (i, cert) in certs.into_iter().enumerate() {
                    roots.add(cert).map_err(|e| GatewayError::Config {
                        detail: format!("CA PEM certificate {}: {e}", i + 1),
                    })?;
                }
                roots
            }
            None => crate::host::bundled_roots().ok_or_else(|| GatewayError::Config {
                detail: format!("CA PEM: {}", crate::host::NO_BUNDLED_ROOTS),
            })?,
        };
        let connector = ().chain(TcpConnector::default()).chain(TlsConnector {
            config: tls::client_config(roots, pins)?,
        });
        let agent_config = ureq::Agent::config_builder()
            .timeout_connect(Some(config.connect_timeout))
            .timeout_global(Some(config.timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            // Straight to the gateway: a proxy from the environment would be a party the pins
            // and the loopback rule never vetted (and this connector chain speaks no CONNECT).
            .proxy(None)
            .build();
        let agent = ureq::Agent::with_parts(agent_config, connector, DefaultResolver::default());
        Ok(GatewayClient {
            config,
            agent,
            clock,
            random: SystemRandom::new(),
        })
    }

    pub fn micropay(
        &self,
        out_trade_no: &str,
        amount: Amount,
        code: &AuthCode,
        cancel: &CancelToken,
    ) -> Result<GatewayReply, GatewayError> {
        let mut params = self.base(out_trade_no);
        params.insert("total_fee".into(), amount.fen().to_string());
        params.insert("auth_code".into(), code.expose().to_owned());
        self.call(Operation::Micropay, params, out_trade_no, cancel)
    }

    pub fn query(
        &self,
        out_trade_no: &str,
        cancel: &CancelToken,
    ) -> Result<GatewayReply, GatewayError> {
        let params = self.base(out_trade_no);
        self.call(Operation::Query, params, out_trade_no, cancel)
    }

    /// Closes the order; if it was paid, the gateway reverses the payment.
    pub fn cancel_order(
        &self,
        out_trade_no: &str,
        cancel: &CancelToken,
    ) -> Result<GatewayReply, GatewayError> {
        let params = self.base(out_trade_no);
        self.call(Operation::Cancel, params, out_trade_no, cancel)
    }

    /// `out_refund_no` makes the refund idempotent the way `out_trade_no` does the payment.
    pub fn refund(
        &self,
        out_trade_no: &str,
        out_refund_no: &str,
        refund: Amount,
        cancel: &CancelToken,
    ) -> Result<GatewayReply, GatewayError> {
        let mut params = self.base(out_trade_no);
        params.insert("out_refund_no".into(), out_refund_no.to_owned());
        params.insert("refund_fee".into(), refund.fen().to_string());
        self.call(Operation::Refund, params, out_trade_no, cancel)
    }

    pub fn precreate(
        &self,
        out_trade_no: &str,
        amount: Amount,
        description: &str,
        cancel: &CancelToken,
    ) -> Result<GatewayReply, GatewayError> {
        let mut params = self.base(out_trade_no);
        params.insert("total_fee".into(), amount.fen().to_string());
        params.insert("body".into(), description.to_owned());
        self.call(Operation::Precreate, params, out_trade_no, cancel)
    }

    fn base(&self, out_trade_no: &str) -> BTreeMap<String, String> {
        let mut nonce = [0u8; 16];
        // SystemRandom fails only if the OS has no entropy source; a zero nonce then still
        // yields a valid (if replay-weaker) request, which the timestamp also bounds.
        let _ = self.random.fill(&mut nonce);
        let timestamp = self
            .clock
            .now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        BTreeMap::from([
            ("mch_id".to_owned(), self.config.merchant_id.clone()),
            ("terminal_id".to_owned(), self.config.terminal_id.clone()),
            ("out_trade_no".to_owned(), out_trade_no.to_owned()),
            ("nonce_str".to_owned(), hex::encode_upper(nonce)),
            ("timestamp".to_owned(), timestamp.to_string()),
        ])
    }

    fn call(
        &self,
        op: Operation,
        mut params: BTreeMap<String, String>,
        out_trade_no: &str,
        cancel: &CancelToken,
    ) -> Result<GatewayReply, GatewayError> {
        // ureq cannot be interrupted mid-exchange; the deadline bounds it, and a cancel is
        // honoured before anything is sent.
        if cancel.is_cancelled() {
            return Err(GatewayError::Cancelled);
        }
        protocol::sign_params(&self.config.key, &mut params);
        let body = protocol::params_to_json(&params);
        let url = format!("{}{}", self.config.url, op.path());
        log::debug!("QR gateway {op:?} for order {out_trade_no}");
        let mut response = self
            .agent
            .post(&url)
            .header("Content-Type", "application/json")
            .send(&body[..])
            .map_err(map_error)?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(GatewayError::HttpStatus { status });
        }
        let bytes = response
            .body_mut()
            .with_config()
            .limit(MAX_REPLY)
            .read_to_vec()
            .map_err(map_error)?;
        protocol::parse_reply(&bytes, &self.config.key, out_trade_no)
    }
}

/// Whether `url` is https (`Ok(true)`) or http to a loopback address (`Ok(false)`); anything
/// else is a settings error naming the rule.
fn check_url(url: &str) -> Result<bool, GatewayError> {
    let refuse = |why: &str| GatewayError::Config {
        detail: format!("gateway url {url:?}: {why}"),
    };
    let uri: ureq::http::Uri = url.parse().map_err(|_| refuse("not a URL"))?;
    match uri.scheme_str() {
        Some("https") => Ok(true),
        Some("http") => {
            let host = uri.host().unwrap_or_default();
            let host = host.trim_start_matches('[').trim_end_matches(']');
            let loopback = host.eq_ignore_ascii_case("localhost")
                || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
            if loopback {
                Ok(false)
            } else {
                Err(refuse(
                    "http:// is allowed only to a loopback address (127.0.0.0/8, ::1, \
                     localhost): the payment code it carries is a bearer credential; use https://",
                ))
            }
        }
        _ => Err(refuse("is not http:// or https://")),
    }
}

fn map_error(err: ureq::Error) -> GatewayError {
    use ureq::Timeout;
    let detail = err.to_string();
    match err {
        ureq::Error::ConnectionFailed
        | ureq::Error::HostNotFound
        | ureq::Error::Timeout(Timeout::Connect | Timeout::Resolve) => {
            GatewayError::Unreachable { detail }
        }
        ureq::Error::Io(io)
            if matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionRefused
                    | std::io::ErrorKind::HostUnreachable
                    | std::io::ErrorKind::NetworkUnreachable
            ) =>
        {
            GatewayError::Unreachable { detail }
        }
        ureq::Error::Tls(_) => GatewayError::Tls { detail },
        // The connection broke under the handshake: nothing was sent.
        ureq::Error::Io(io)
            if io
                .get_ref()
                .is_some_and(|inner| inner.downcast_ref::<HandshakeBroken>().is_some()) =>
        {
            GatewayError::Unreachable { detail }
        }
        // rustls reports handshake failures through the I/O error it wraps.
        ureq::Error::Io(io)
            if io
                .get_ref()
                .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some()) =>
        {
            GatewayError::Tls { detail }
        }
        ureq::Error::BadUri(_) => GatewayError::Config { detail },
        _ => GatewayError::Exchange { detail },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::SystemClock;

    fn client(url: &str) -> Result<GatewayClient, GatewayError> {
        let config = GatewayConfig::new(url, "M1", "T1", SigningKey::new(b"k"));
        GatewayClient::new(config, Arc::new(SystemClock))
    }

    #[test]
    fn refuses_non_http_urls_and_bad_pem() {
        assert!(matches!(
            client("ftp://x"),
            Err(GatewayError::Config { .. })
        ));
        let mut config =
            GatewayConfig::new("https://gw.example", "M1", "T1", SigningKey::new(b"k"));
        config.ca_pem =
            Some(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".to_vec());
        assert!(GatewayClient::new(config, Arc::new(SystemClock)).is_err());
        let mut config =
            GatewayConfig::new("https://gw.example", "M1", "T1", SigningKey::new(b"k"));
        config.ca_pem = Some(b"not a pem".to_vec());
        assert!(GatewayClient::new(config, Arc::new(SystemClock)).is_err());
    }

    #[test]
    fn http_is_refused_off_loopback_naming_the_rule() {
        for url in [
            "http://127.0.0.1:8080",
            "http://127.3.4.5",
            "http://[::1]:8080/gw",
            "http://localhost:9",
            "https://gw.example",
            "https://10.0.0.7:8443",
        ] {
            assert!(client(url).is_ok(), "{url}");
        }
        for url in [
            "http://10.0.0.7:8080",
            "http://gw.example",
            "http://192.168.1.20",
            "http://[2001:db8::1]:80",
            "http://127.0.0.1.gw.example",
        ] {
            let Err(GatewayError::Config { detail }) = client(url) else {
                panic!("{url} accepted");
            };
            assert!(
                detail.contains("only to a loopback address") && detail.contains("bearer"),
                "{detail}"
            );
        }
    }

    #[test]
    fn pins_must_be_sha256_in_base64_and_need_https() {
        let with_pins = |url: &str, pins: &[&str]| {
            let mut config = GatewayConfig::new(url, "M1", "T1", SigningKey::new(b"k"));
            config.spki_pins = pins.iter().map(|p| p.to_string()).collect();
            GatewayClient::new(config, Arc::new(SystemClock))
        };
        let good = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
        assert!(with_pins("https://gw.example", &[good, good]).is_ok());
        for bad in ["", "not base64!", "AAAA"] {
            let Err(GatewayError::Config { detail }) =
                with_pins("https://gw.example", &[good, bad])
            else {
                panic!("pin {bad:?} accepted");
            };
            assert!(detail.contains("SPKI pin 2"), "{detail}");
        }
        let Err(GatewayError::Config { detail }) = with_pins("http://127.0.0.1:1", &[good]) else {
            panic!("pins on http accepted");
        };
        assert!(detail.contains("https://"), "{detail}");
    }

    #[test]
    fn closed_port_is_unreachable_and_cancel_sends_nothing() {
        // Bind then drop: the port is (almost certainly) closed now.
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let c = client(&format!("http://{addr}")).unwrap();
        let err = c.query("A1", &CancelToken::new()).unwrap_err();
        assert!(!err.may_have_reached_gateway(), "{err}");
        let token = CancelToken::new();
        token.cancel();
        assert!(matches!(
            c.query("A1", &token),
            Err(GatewayError::Cancelled)
        ));
    }
}
