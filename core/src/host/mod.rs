//! Talking to the acquirer: the [`Transport`] trait the protocol layer sends frames through,
//! and [`TcpTransport`], its length-framed TCP implementation with primary/backup failover.
//!
//! The one rule this layer enforces: a request that may have reached the host is never resent.
//! Every [`TransportError`] says whether it may have ([`TransportError::may_have_reached_host`]);
//! if so, the engine reverses instead of retrying.

pub mod acquirer;
mod dialect;
mod tcp;
mod transport;

pub use dialect::{AcquirerDialect, mac_by_name};
pub use tcp::{MAX_FRAME_LEN, TcpTransport};
pub use transport::{
    CancelToken, ConnectFailure, ConnectFailureKind, Timeouts, Transport, TransportError,
};
