//! TLS to the acquirer (rustls, ring provider): the framing, one connection per exchange and
//! primary/backup failover of [`super::TcpTransport`], inside a TLS session whose host certificate
//! is checked against a configured CA (or the bundled web PKI roots), optionally presenting a
//! client certificate (mutual TLS, as UnionPay's SSL access requires).
//!
//! A failed handshake is its own error, [`TransportError::Tls`], and never one that may have
//! reached the host: the request is written only once the handshake has verified the host, so a
//! terminal facing an impostor or a misconfigured host sends nothing and owes no reversal.

use std::io::{self, ErrorKind, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{
    AlertDescription, CertificateError, ClientConfig, ClientConnection, RootCertStore, StreamOwned,
};
use zeroize::Zeroizing;

use super::framing::{TimedRead, encode_frame, nonzero, read_frame};
use super::tcp::connect_endpoint;
use super::transport::{
    CancelToken, ConnectFailure, ConnectFailureKind, LinkSecurity, Timeouts, Transport,
    TransportError,
};

/// What a TLS link to the acquirer needs.
#[derive(Debug, Clone, Default)]
pub struct AcquirerTls {
    /// PEM CA certificates the host's chain must lead to. `None` trusts the bundled web PKI
    /// roots (Mozilla's set, the same the QR gateway client uses), for an acquirer with a
    /// publicly issued certificate.
    pub ca_pem: Option<Vec<u8>>,
    /// The name the host's certificate must carry, also sent as SNI. `None`: the endpoint's IP
    /// address, for acquirers reached by address whose certificates name it.
    pub server_name: Option<String>,
    /// The terminal's certificate and key for mutual TLS.
    pub client: Option<ClientIdentity>,
}

/// A client certificate chain (leaf first) and its private key, both PEM. The key is wiped from
/// memory when dropped and never printed.
#[derive(Clone)]
pub struct ClientIdentity {
    pub cert_chain_pem: Vec<u8>,
    pub key_pem: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientIdentity")
            .field(
                "cert_chain_pem",
                &format!("{} bytes", self.cert_chain_pem.len()),
            )
            .field("key_pem", &"[redacted]")
            .finish()
    }
}

/// The TLS settings cannot be used; found when the transport is built, before anything is sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsSetupError {
    #[error("CA certificates: {detail}")]
    Ca { detail: String },
    #[error("client certificate: {detail}")]
    ClientCertificate { detail: String },
    /// Never carries the key's bytes.
    #[error("client private key: {detail}")]
    ClientKey { detail: String },
    #[error("server name {name:?} is neither a DNS name nor an IP address")]
    ServerName { name: String },
    #[error("TLS configuration: {detail}")]
    Config { detail: String },
}

/// TLS over TCP to the acquirer's endpoints, primary first.
pub struct TlsTransport {
    endpoints: Vec<SocketAddr>,
    config: Arc<ClientConfig>,
    server_name: Option<ServerName<'static>>,
    configured_ca: bool,
    mutual: bool,
}

impl std::fmt::Debug for TlsTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsTransport")
            .field("endpoints", &self.endpoints)
            .field("server_name", &self.server_name)
            .field("configured_ca", &self.configured_ca)
            .field("mutual", &self.mutual)
            .finish_non_exhaustive()
    }
}

impl TlsTransport {
    pub fn new(
        endpoints: Vec<SocketAddr>,
        settings: &AcquirerTls,
    ) -> Result<TlsTransport, TlsSetupError> {
        let roots = match &settings.ca_pem {
            Some(pem) => configured_roots(pem)?,
            None => bundled_roots().ok_or_else(|| TlsSetupError::Ca {
                detail: NO_BUNDLED_ROOTS.into(),
            })?,
        };
        let builder =
            ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .map_err(|e| TlsSetupError::Config {
                    detail: e.to_string(),
                })?
                .with_root_certificates(roots);
        let config = match &settings.client {
            None => builder.with_no_client_auth(),
            Some(identity) => {
                let chain = certificates(&identity.cert_chain_pem)
                    .map_err(|detail| TlsSetupError::ClientCertificate { detail })?;
                // The PEM parser's messages can quote the input; for a key they are left out.
                let key = PrivateKeyDer::from_pem_slice(&identity.key_pem).map_err(|_| {
                    TlsSetupError::ClientKey {
                        detail: "no PKCS#8, PKCS#1 or SEC1 private key in the PEM".into(),
                    }
                })?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|e| TlsSetupError::ClientKey {
                        detail: format!("does not suit the certificate: {e}"),
                    })?
            }
        };
        let server_name = settings
            .server_name
            .as_deref()
            .map(|name| {
                ServerName::try_from(name.to_owned()).map_err(|_| TlsSetupError::ServerName {
                    name: name.to_owned(),
                })
            })
            .transpose()?;
        Ok(TlsTransport {
            endpoints,
            config: Arc::new(config),
            server_name,
            configured_ca: settings.ca_pem.is_some(),
            mutual: settings.client.is_some(),
        })
    }

    pub fn endpoints(&self) -> &[SocketAddr] {
        &self.endpoints
    }

    /// A verified session with the first endpoint that offers one. A refused certificate moves
    /// on to the next endpoint like a refused connection does: nothing was sent, and a backup on
    /// another path may present the right certificate.
    fn connect(
        &self,
        timeouts: &Timeouts,
        cancel: &CancelToken,
    ) -> Result<(TlsStream, SocketAddr), TransportError> {
        if self.endpoints.is_empty() {
            return Err(TransportError::NoEndpoints);
        }
        let mut attempts = Vec::new();
        for &endpoint in &self.endpoints {
            if cancel.is_cancelled() {
                return Err(TransportError::Cancelled { after_send: false });
            }
            let socket = match connect_endpoint(endpoint, timeouts) {
                Ok(socket) => socket,
                Err(failure) => {
                    attempts.push(failure);
                    continue;
                }
            };
            match self.handshake(endpoint, socket, timeouts, cancel) {
                Ok(stream) => return Ok((stream, endpoint)),
                Err(Handshake::Cancelled) => {
                    return Err(TransportError::Cancelled { after_send: false });
                }
                Err(Handshake::Failed(failure)) => {
                    log::warn!(
                        "host endpoint {endpoint} TLS failed: {:?}: {}",
                        failure.kind,
                        failure.detail
                    );
                    attempts.push(failure);
                }
            }
        }
        if attempts.iter().any(|a| a.kind.is_tls()) {
            Err(TransportError::Tls { attempts })
        } else {
            Err(TransportError::Unreachable { attempts })
        }
    }

    /// Runs the handshake to its end within `timeouts.connect`, waking every `timeouts.poll` to
    /// honour the cancel token.
    fn handshake(
        &self,
        endpoint: SocketAddr,
        mut socket: TcpStream,
        timeouts: &Timeouts,
        cancel: &CancelToken,
    ) -> Result<TlsStream, Handshake> {
        let fail = |kind, detail: String| {
            Handshake::Failed(ConnectFailure {
                endpoint,
                kind,
                detail,
            })
        };
        let name = self
            .server_name
            .clone()
            .unwrap_or_else(|| ServerName::IpAddress(endpoint.ip().into()));
        let mut conn = ClientConnection::new(self.config.clone(), name)
            .map_err(|e| fail(ConnectFailureKind::TlsHandshake, e.to_string()))?;
        socket
            .set_write_timeout(Some(nonzero(timeouts.connect)))
            .map_err(|e| fail(ConnectFailureKind::Other, e.to_string()))?;
        let deadline = Instant::now() + timeouts.connect;
        while conn.is_handshaking() {
            if cancel.is_cancelled() {
                return Err(Handshake::Cancelled);
            }
            let now = Instant::now();
            if now >= deadline {
                // Counted as a network failure, not a certificate one: a stalled 4G link looks
                // the same. The detail says where it stalled.
                return Err(fail(
                    ConnectFailureKind::TimedOut,
                    format!(
                        "no TLS handshake answer within {:?} (is the host speaking TLS?)",
                        timeouts.connect
                    ),
                ));
            }
            socket
                .set_read_timeout(Some(nonzero(timeouts.poll.min(deadline - now))))
                .map_err(|e| fail(ConnectFailureKind::Other, e.to_string()))?;
            match conn.complete_io(&mut socket) {
                Ok(_) => {}
                // rustls keeps a partly read record; the next round goes on from there.
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                    ) => {}
                Err(e) => {
                    let (kind, detail) = classify_handshake_error(&e);
                    return Err(fail(kind, detail));
                }
            }
        }
        Ok(StreamOwned::new(conn, socket))
    }
}

type TlsStream = StreamOwned<ClientConnection, TcpStream>;

enum Handshake {
    Cancelled,
    Failed(ConnectFailure),
}

impl TimedRead for TlsStream {
    fn set_read_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        self.sock.set_read_timeout(Some(timeout))
    }
}

impl Transport for TlsTransport {
    fn exchange(
        &self,
        request: &[u8],
        timeouts: &Timeouts,
        cancel: &CancelToken,
    ) -> Result<Vec<u8>, TransportError> {
        let frame = encode_frame(request)?;
        let (mut stream, endpoint) = self.connect(timeouts, cancel)?;
        if cancel.is_cancelled() {
            return Err(TransportError::Cancelled { after_send: false });
        }
        let write_failed = |source| TransportError::WriteFailed { endpoint, source };
        stream.sock.set_nodelay(true).map_err(write_failed)?;
        stream
            .sock
            .set_write_timeout(Some(nonzero(timeouts.read)))
            .map_err(write_failed)?;
        if let Err(e) = stream.write_all(&frame).and_then(|()| stream.flush()) {
            return Err(refused_after_handshake(&mut stream, endpoint).unwrap_or(write_failed(e)));
        }
        read_frame(&mut stream, timeouts, cancel).map_err(|e| match e {
            TransportError::ReadFailed { source } => match host_refusal(&source) {
                Some(alert) => refused(endpoint, alert),
                None => TransportError::ReadFailed { source },
            },
            other => other,
        })
    }

    fn security(&self) -> LinkSecurity {
        LinkSecurity::Tls {
            configured_ca: self.configured_ca,
            mutual: self.mutual,
        }
    }
}

/// The alerts a TLS server sends only while it is still in the handshake: refusing the client's
/// certificate (or its absence) or the handshake itself. A server that sent one never completed
/// the session, so it never read the request.
const HANDSHAKE_REFUSALS: [AlertDescription; 9] = [
    AlertDescription::HandshakeFailure,
    AlertDescription::BadCertificate,
    AlertDescription::UnsupportedCertificate,
    AlertDescription::CertificateRevoked,
    AlertDescription::CertificateExpired,
    AlertDescription::CertificateUnknown,
    AlertDescription::UnknownCA,
    AlertDescription::AccessDenied,
    AlertDescription::CertificateRequired,
];

fn host_refusal(err: &io::Error) -> Option<AlertDescription> {
    match err.get_ref()?.downcast_ref::<rustls::Error>()? {
        rustls::Error::AlertReceived(alert) if HANDSHAKE_REFUSALS.contains(alert) => Some(*alert),
        _ => None,
    }
}

/// In TLS 1.3 the client finishes its side of the handshake before the server has judged the
/// client's certificate, so a refusal arrives after the request was written. It is still a
/// refusal: the server's session never opened and the request was never read.
fn refused(endpoint: SocketAddr, alert: AlertDescription) -> TransportError {
    TransportError::Tls {
        attempts: vec![ConnectFailure {
            endpoint,
            kind: ConnectFailureKind::TlsRefusedByHost,
            detail: format!(
                "the host refused the TLS session ({alert:?}): client certificate missing or not \
                 trusted"
            ),
        }],
    }
}

/// After a failed write, whether the host's refusal is already waiting to be read.
fn refused_after_handshake(stream: &mut TlsStream, endpoint: SocketAddr) -> Option<TransportError> {
    stream
        .sock
        .set_read_timeout(Some(Duration::from_millis(50)))
        .ok()?;
    stream.conn.read_tls(&mut stream.sock).ok()?;
    match stream.conn.process_new_packets() {
        Err(rustls::Error::AlertReceived(alert)) if HANDSHAKE_REFUSALS.contains(&alert) => {
            Some(refused(endpoint, alert))
        }
        _ => None,
    }
}

fn classify_handshake_error(err: &io::Error) -> (ConnectFailureKind, String) {
    match err
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        Some(rustls::Error::InvalidCertificate(cert)) => (
            ConnectFailureKind::TlsCertificate,
            format!("{}: {err}", certificate_problem(cert)),
        ),
        Some(rustls::Error::AlertReceived(alert)) => (
            ConnectFailureKind::TlsRefusedByHost,
            format!("the host refused the TLS handshake ({alert:?})"),
        ),
        Some(other) => (ConnectFailureKind::TlsHandshake, other.to_string()),
        None => (
            ConnectFailureKind::TlsHandshake,
            format!("the host closed the connection during the TLS handshake ({err})"),
        ),
    }
}

/// What the operator needs to hear first; rustls's own text follows it in the detail.
fn certificate_problem(err: &CertificateError) -> &'static str {
    match err {
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            "host certificate expired"
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            "host certificate not valid yet (check the terminal's clock)"
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            "host certificate issued for another name"
        }
        CertificateError::UnknownIssuer => "host certificate not issued by a trusted CA",
        CertificateError::Revoked => "host certificate revoked",
        _ => "host certificate refused",
    }
}

/// Why a link without a CA cannot be verified in a build without `bundled-roots`.
pub(crate) const NO_BUNDLED_ROOTS: &str = "none configured, and this build has no bundled root \
     set (feature bundled-roots): pass the platform's trust anchors (AndroidCAStore) as the CA PEM";

/// Mozilla's root set, in builds that carry it (feature `bundled-roots`).
pub(crate) fn bundled_roots() -> Option<RootCertStore> {
    #[cfg(feature = "bundled-roots")]
    return Some(RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    });
    #[cfg(not(feature = "bundled-roots"))]
    None
}

fn configured_roots(pem: &[u8]) -> Result<RootCertStore, TlsSetupError> {
    let mut roots = RootCertStore::empty();
    for (i, cert) in certificates(pem)
        .map_err(|detail| TlsSetupError::Ca { detail })?
        .into_iter()
        .enumerate()
    {
        roots.add(cert).map_err(|e| TlsSetupError::Ca {
            detail: format!("certificate {} is not a usable trust anchor: {e}", i + 1),
        })?;
    }
    Ok(roots)
}

/// Every CERTIFICATE block of a PEM text; none at all is an error.
pub(crate) fn certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("PEM unreadable: {e}"))?;
    if certs.is_empty() {
        return Err("no CERTIFICATE block in the PEM".into());
    }
    Ok(certs)
}

#[cfg(test)]
#[path = "tls_tests.rs"]
mod tests;
