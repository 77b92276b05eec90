//! The gateway client: builds, signs and POSTs a request, verifies and reads the answer.
//! HTTP(S) through `ureq` with rustls on the ring provider.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use ring::rand::{SecureRandom, SystemRandom};
use ureq::tls::{Certificate, RootCerts, TlsConfig};

use super::protocol::{self, GatewayReply, Operation};
use super::{AuthCode, GatewayError, SigningKey};
use crate::host::CancelToken;
use crate::money::Amount;
use crate::ports::Clock;

/// Where and as whom to talk to the gateway.
#[derive(Debug)]
pub struct GatewayConfig {
    /// Base URL, `http://` (loopback simulator) or `https://`; operation paths are appended.
    pub url: String,
    pub merchant_id: String,
    pub terminal_id: String,
    pub key: SigningKey,
    pub connect_timeout: Duration,
    /// Whole exchange, from connect to the last byte of the answer.
    pub timeout: Duration,
    /// PEM CA certificates to trust instead of the bundled web PKI roots (private gateways).
    pub ca_pem: Option<Vec<u8>>,
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
        if !(config.url.starts_with("http://") || config.url.starts_with("https://")) {
            return Err(GatewayError::Config {
                detail: format!("gateway url {:?} is not http:// or https://", config.url),
            });
        }
        let mut tls = TlsConfig::builder();
        if let Some(pem) = &config.ca_pem {
            let certs = parse_pem_certs(pem)?;
            tls = tls.root_certs(RootCerts::new_with_certs(&certs));
        }
        let agent = ureq::Agent::config_builder()
            .timeout_connect(Some(config.connect_timeout))
            .timeout_global(Some(config.timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .tls_config(tls.build())
            .build()
            .into();
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

fn parse_pem_certs(pem: &[u8]) -> Result<Vec<Certificate<'static>>, GatewayError> {
    let text = std::str::from_utf8(pem).map_err(|_| GatewayError::Config {
        detail: "CA PEM is not UTF-8".into(),
    })?;
    let mut certs = Vec::new();
    const END: &str = "-----END CERTIFICATE-----";
    for block in text.split_inclusive(END).filter(|b| b.contains(END)) {
        let cert = Certificate::from_pem(block.as_bytes()).map_err(|e| GatewayError::Config {
            detail: format!("CA PEM certificate {}: {e}", certs.len() + 1),
        })?;
        certs.push(cert);
    }
    if certs.is_empty() {
        return Err(GatewayError::Config {
            detail: "CA PEM holds no CERTIFICATE block".into(),
        });
    }
    Ok(certs)
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
        config.ca_pem = Some(b"not a pem".to_vec());
        assert!(GatewayClient::new(config, Arc::new(SystemClock)).is_err());
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
