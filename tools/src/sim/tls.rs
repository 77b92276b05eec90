//! The simulators' TLS face (rustls, ring provider): a server configuration from PEM files or
//! strings, optionally requiring client certificates from a CA (mutual TLS, as an acquirer's SSL
//! access does), and the server side of the handshake on an accepted socket.

use std::io::{ErrorKind, Read};
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig, ServerConnection, StreamOwned};

/// A TLS session on an accepted connection.
pub(crate) type TlsStream = StreamOwned<ServerConnection, TcpStream>;

/// How long a client gets to finish its handshake.
const HANDSHAKE_DEADLINE: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsServerError {
    #[error("server certificate: {0}")]
    Certificate(String),
    /// Never quotes the key.
    #[error("server private key: no PKCS#8, PKCS#1 or SEC1 key in the PEM")]
    Key,
    #[error("client CA: {0}")]
    ClientCa(String),
    #[error("TLS configuration: {0}")]
    Config(String),
}

/// A server configuration presenting `cert_chain_pem` (leaf first) with `key_pem`; with
/// `client_ca_pem`, every client must present a certificate that CA issued.
pub fn server_config(
    cert_chain_pem: &[u8],
    key_pem: &[u8],
    client_ca_pem: Option<&[u8]>,
) -> Result<Arc<ServerConfig>, TlsServerError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsServerError::Config(e.to_string()))?;
    let builder = match client_ca_pem {
        None => builder.with_no_client_auth(),
        Some(pem) => {
            let mut roots = RootCertStore::empty();
            for cert in certificates(pem).map_err(TlsServerError::ClientCa)? {
                roots
                    .add(cert)
                    .map_err(|e| TlsServerError::ClientCa(e.to_string()))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| TlsServerError::ClientCa(e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let chain = certificates(cert_chain_pem).map_err(TlsServerError::Certificate)?;
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|_| TlsServerError::Key)?;
    let config = builder
        .with_single_cert(chain, key)
        .map_err(|e| TlsServerError::Config(e.to_string()))?;
    Ok(Arc::new(config))
}

fn certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("PEM unreadable: {e}"))?;
    if certs.is_empty() {
        return Err("no CERTIFICATE block in the PEM".into());
    }
    Ok(certs)
}

/// Runs the server side of the handshake on `socket`, whose read timeout is already set short
/// enough to notice `stop`. A client that fails it is told so by rustls's alert; then the socket
/// is closed for writing and drained, so the alert is not lost to a reset under the client (in
/// TLS 1.3 the client may already have written its request when its certificate is refused).
pub(crate) fn accept(
    socket: TcpStream,
    config: &Arc<ServerConfig>,
    stop: &AtomicBool,
) -> Option<TlsStream> {
    let mut conn = ServerConnection::new(config.clone())
        .map_err(|e| log::warn!("sim TLS: {e}"))
        .ok()?;
    let mut socket = socket;
    let deadline = Instant::now() + HANDSHAKE_DEADLINE;
    while conn.is_handshaking() {
        if stop.load(Ordering::SeqCst) || Instant::now() >= deadline {
            return None;
        }
        match conn.complete_io(&mut socket) {
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => {
                log::warn!("sim TLS: handshake refused: {e}");
                drain(&mut socket, stop);
                return None;
            }
        }
    }
    Some(StreamOwned::new(conn, socket))
}

fn drain(socket: &mut TcpStream, stop: &AtomicBool) {
    let _ = socket.shutdown(Shutdown::Write);
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut sink = [0u8; 512];
    while !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
        match socket.read(&mut sink) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return,
        }
    }
}
