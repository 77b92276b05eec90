//! The transport contract: one request frame out, one response frame back, and an error that
//! always says whether the host may have seen the request.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Cooperative cancellation shared between the shell (which cancels) and the core (which checks
/// while it waits). Cloning shares the flag.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn new() -> CancelToken {
        CancelToken::default()
    }
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Deadlines for one exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Per endpoint; a connect that times out moves on to the next endpoint.
    pub connect: Duration,
    /// From the end of the write to the last byte of the response.
    pub read: Duration,
    /// How often a blocked read wakes to check the cancel token.
    pub poll: Duration,
}

impl Default for Timeouts {
    /// UnionPay-style terminals commonly use 10 s to connect and 60 s for the response.
    fn default() -> Timeouts {
        Timeouts {
            connect: Duration::from_secs(10),
            read: Duration::from_secs(60),
            poll: Duration::from_millis(100),
        }
    }
}

/// Sends one request frame and returns the response frame (payloads, without length prefix).
pub trait Transport: Send + Sync {
    fn exchange(
        &self,
        request: &[u8],
        timeouts: &Timeouts,
        cancel: &CancelToken,
    ) -> Result<Vec<u8>, TransportError>;

    /// How this transport protects the link, for the health check. A transport of the shell's
    /// own that does not say is reported as undeclared, which the check warns about: card data
    /// on an unencrypted link must be a decision somebody made, not a default nobody saw.
    fn security(&self) -> LinkSecurity {
        LinkSecurity::Undeclared
    }
}

/// How the link to the acquirer is protected. The 8583 messages are MACed and PIN blocks are
/// encrypted either way; what TLS adds is confidentiality of the rest (PAN, track 2, amounts)
/// and the certainty that the other end is the acquirer before anything is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkSecurity {
    /// Plain TCP, acceptable only on a private APN. `loopback_only` when every endpoint is a
    /// loopback address (a simulator, or a tunnel on the device itself): then nothing crosses a
    /// network in clear from this process.
    PlainTcp { loopback_only: bool },
    /// TLS; `configured_ca` when the host must chain to the configured CA rather than to the
    /// bundled web PKI roots; `mutual` when the terminal presents a client certificate.
    Tls { configured_ca: bool, mutual: bool },
    /// A transport that does not say.
    Undeclared,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectFailureKind {
    Refused,
    TimedOut,
    /// No route to the host or network (e.g. no 4G signal).
    Unreachable,
    Other,
    /// TLS: the host's certificate was refused (not from a trusted CA, expired, issued for
    /// another name).
    TlsCertificate,
    /// TLS: the host refused the terminal (no client certificate, or one it does not trust).
    TlsRefusedByHost,
    /// TLS: the handshake failed otherwise (no common protocol, the host closed or went
    /// silent during the handshake, e.g. a plain TCP host).
    TlsHandshake,
}

impl ConnectFailureKind {
    pub fn is_tls(self) -> bool {
        matches!(
            self,
            ConnectFailureKind::TlsCertificate
                | ConnectFailureKind::TlsRefusedByHost
                | ConnectFailureKind::TlsHandshake
        )
    }
}

/// One endpoint that could not be connected to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectFailure {
    pub endpoint: SocketAddr,
    pub kind: ConnectFailureKind,
    pub detail: String,
}

impl fmt::Display for ConnectFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({:?}: {})", self.endpoint, self.kind, self.detail)
    }
}

fn list(failures: &[ConnectFailure]) -> String {
    failures
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    #[error("no host endpoint configured")]
    NoEndpoints,
    #[error("request of {len} bytes is outside the frame limit 1..={max}; not sent")]
    BadRequestLength { len: usize, max: usize },
    #[error("could not connect to any host endpoint: {}", list(attempts))]
    Unreachable { attempts: Vec<ConnectFailure> },
    /// No secure connection could be made (at least one endpoint failed its TLS handshake, the
    /// others, if any, could not be reached); the request was never sent.
    #[error(
        "no secure connection to the host, request not sent: {}",
        list(attempts)
    )]
    Tls { attempts: Vec<ConnectFailure> },
    /// Connected, but the write failed part-way: some bytes may have been delivered.
    #[error("write to {endpoint} failed after connecting: {source}")]
    WriteFailed {
        endpoint: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("no response within {waited:?} after sending")]
    NoResponse { waited: Duration },
    #[error("host closed the connection after the request was sent, before any response")]
    ClosedAfterSend,
    #[error("response length prefix {declared} is outside 1..={max}")]
    BadLength { declared: usize, max: usize },
    #[error("response frame cut short: {received} of {expected} bytes received")]
    ShortFrame { expected: usize, received: usize },
    #[error("reading the response failed: {source}")]
    ReadFailed {
        #[source]
        source: std::io::Error,
    },
    #[error("cancelled {}", if *after_send { "after the request was sent" } else { "before sending" })]
    Cancelled { after_send: bool },
}

impl TransportError {
    /// Whether the host may have received (and acted on) the request. When true the request
    /// must never be resent; its outcome is unknown and a reversal is owed. When false the
    /// request certainly never left: failing over or retrying is safe.
    pub fn may_have_reached_host(&self) -> bool {
        match self {
            TransportError::NoEndpoints
            | TransportError::BadRequestLength { .. }
            | TransportError::Unreachable { .. }
            | TransportError::Tls { .. } => false,
            TransportError::Cancelled { after_send } => *after_send,
            TransportError::WriteFailed { .. }
            | TransportError::NoResponse { .. }
            | TransportError::ClosedAfterSend
            | TransportError::BadLength { .. }
            | TransportError::ShortFrame { .. }
            | TransportError::ReadFailed { .. } => true,
        }
    }
}
