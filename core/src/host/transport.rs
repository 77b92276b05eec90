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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectFailureKind {
    Refused,
    TimedOut,
    /// No route to the host or network (e.g. no 4G signal).
    Unreachable,
    Other,
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
            | TransportError::Unreachable { .. } => false,
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
