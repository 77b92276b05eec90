//! The gateway's TLS: rustls on the ring provider, the configured CA or the bundled web PKI
//! roots, and optional SPKI pins checked after the chain. ureq's own rustls connector takes no
//! verifier of ours, so this is a connector of its own on ureq's `unversioned` transport API
//! (exact version pinned by Cargo.lock; a ureq upgrade must re-check this file).

use std::io::{Read, Write};
use std::sync::Arc;

use base64::Engine as _;
use ring::digest;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{
    CertificateError, ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore,
    SignatureScheme, StreamOwned,
};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout, Transport,
    TransportAdapter,
};

use super::GatewayError;

/// A pin: SHA-256 of a certificate's DER SubjectPublicKeyInfo.
pub(super) type Pin = [u8; 32];

/// Reads `pins` (base64 of 32 bytes each, as `openssl ... | openssl dgst -sha256 -binary |
/// base64` prints them); a pin that is not one is a settings error naming it.
pub(super) fn parse_pins(pins: &[String]) -> Result<Vec<Pin>, GatewayError> {
    pins.iter()
        .enumerate()
        .map(|(i, text)| {
            base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .ok()
                .and_then(|bytes| Pin::try_from(bytes.as_slice()).ok())
                .ok_or_else(|| GatewayError::Config {
                    detail: format!(
                        "SPKI pin {} {text:?} is not base64 of a 32-byte SHA-256 digest",
                        i + 1
                    ),
                })
        })
        .collect()
}

/// The pin of `cert`, base64, as an operator configures it.
pub fn spki_pin(cert: &CertificateDer<'_>) -> Result<String, GatewayError> {
    let parsed = ParsedCertificate::try_from(cert).map_err(|e| GatewayError::Config {
        detail: format!("certificate unreadable: {e}"),
    })?;
    Ok(base64::engine::general_purpose::STANDARD.encode(digest_of(&parsed)))
}

fn digest_of(cert: &ParsedCertificate<'_>) -> Pin {
    let spki = cert.subject_public_key_info();
    let mut pin = [0u8; 32];
    pin.copy_from_slice(digest::digest(&digest::SHA256, spki.as_ref()).as_ref());
    pin
}

/// The rustls client configuration: `roots` verify the chain and the name as always; pins, when
/// given, must also match the leaf's key. A pin narrows the CA's word, it never replaces it.
pub(super) fn client_config(
    roots: RootCertStore,
    pins: Vec<Pin>,
) -> Result<Arc<ClientConfig>, GatewayError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config_error = |detail: String| GatewayError::Config { detail };
    let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| config_error(format!("TLS verifier: {e}")))?;
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| config_error(format!("TLS versions: {e}")))?;
    let config = if pins.is_empty() {
        builder.with_webpki_verifier(webpki).with_no_client_auth()
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(PinnedVerifier {
                inner: webpki,
                pins,
            }))
            .with_no_client_auth()
    };
    Ok(Arc::new(config))
}

#[derive(Debug)]
struct PinnedVerifier {
    inner: Arc<WebPkiServerVerifier>,
    pins: Vec<Pin>,
}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verified = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )?;
        let presented = digest_of(&ParsedCertificate::try_from(end_entity)?);
        if self.pins.contains(&presented) {
            return Ok(verified);
        }
        log::warn!(
            "QR gateway certificate key sha256/{} matches none of the {} configured pin(s)",
            base64::engine::general_purpose::STANDARD.encode(presented),
            self.pins.len()
        );
        Err(rustls::Error::InvalidCertificate(
            CertificateError::ApplicationVerificationFailure,
        ))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// A handshake that failed below TLS (the socket broke or timed out): nothing was sent.
#[derive(Debug, thiserror::Error)]
#[error("TLS handshake: {0}")]
pub(super) struct HandshakeBroken(std::io::Error);

/// Wraps the TCP transport in TLS for `https://` (plain `http://`, allowed to loopback only,
/// passes through).
#[derive(Debug)]
pub(super) struct TlsConnector {
    pub(super) config: Arc<ClientConfig>,
}

impl<In: Transport> Connector<In> for TlsConnector {
    type Out = Either<In, GatewayTls>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        let Some(transport) = chained else {
            return Ok(None);
        };
        if !details.needs_tls() || transport.is_tls() {
            return Ok(Some(Either::A(transport)));
        }
        let host = details.uri.host().unwrap_or_default();
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let name = ServerName::try_from(host.to_owned())
            .map_err(|_| ureq::Error::Tls("gateway host is not a valid TLS server name"))?;
        let mut conn = ClientConnection::new(self.config.clone(), name)
            .map_err(|e| ureq::Error::Io(std::io::Error::other(e)))?;
        let mut sock = TransportAdapter::new(transport.boxed(), details.current_time.clone());
        sock.set_timeout(details.timeout);
        conn.complete_io(&mut sock).map_err(|e| {
            // rustls's own verdicts stay recognisable as such (a TLS failure); anything else
            // broke under the handshake.
            let is_rustls = e
                .get_ref()
                .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some());
            if is_rustls {
                ureq::Error::Io(e)
            } else {
                ureq::Error::Io(std::io::Error::other(HandshakeBroken(e)))
            }
        })?;
        Ok(Some(Either::B(GatewayTls {
            buffers: LazyBuffers::new(
                details.config.input_buffer_size(),
                details.config.output_buffer_size(),
            ),
            stream: StreamOwned::new(conn, sock),
        })))
    }
}

/// An established TLS session as a ureq transport.
pub(super) struct GatewayTls {
    buffers: LazyBuffers,
    stream: StreamOwned<ClientConnection, TransportAdapter>,
}

impl std::fmt::Debug for GatewayTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayTls").finish_non_exhaustive()
    }
}

impl Transport for GatewayTls {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let output = &self.buffers.output()[..amount];
        self.stream.write_all(output)?;
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let input = self.buffers.input_append_buf();
        let amount = self.stream.read(input)?;
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    fn is_open(&mut self) -> bool {
        self.stream.get_mut().get_mut().is_open()
    }

    fn is_tls(&self) -> bool {
        true
    }
}
