//! Talking to the acquirer: the [`Transport`] trait the protocol layer sends frames through,
//! [`TcpTransport`], its length-framed TCP implementation with primary/backup failover, and
//! [`TlsTransport`], the same inside TLS (rustls, ring provider) with an optional client
//! certificate.
//!
//! The one rule this layer enforces: a request that may have reached the host is never resent.
//! Every [`TransportError`] says whether it may have ([`TransportError::may_have_reached_host`]);
//! if so, the engine reverses instead of retrying. A TLS handshake that fails never sent the
//! request ([`TransportError::Tls`]).

pub mod acquirer;
mod dialect;
mod framing;
mod tap;
mod tcp;
mod tls;
mod transport;

pub use dialect::{AcquirerDialect, mac_by_name};
pub use framing::MAX_FRAME_LEN;
pub use tap::{LogTap, MessageTap, TapEvent, TappedTransport};
pub use tcp::TcpTransport;
pub use tls::{AcquirerTls, ClientIdentity, TlsSetupError, TlsTransport};
pub(crate) use tls::{NO_BUNDLED_ROOTS, bundled_roots, certificates};
pub use transport::{
    CancelToken, ConnectFailure, ConnectFailureKind, LinkSecurity, Timeouts, Transport,
    TransportError,
};
