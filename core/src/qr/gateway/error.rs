use crate::diag::TerminationCode;

use super::SignatureError;

/// Why a gateway call gave no usable answer. Each variant says whether the request may have
/// reached the gateway: if it may, the order's outcome is unknown and must be queried.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    /// No connection was made: the request certainly did not reach the gateway.
    #[error("QR gateway unreachable: {detail}")]
    Unreachable { detail: String },
    /// The request went out (or may have) and no complete answer came back.
    /// The TLS handshake failed (certificate not trusted, protocol mismatch): nothing was sent.
    #[error("QR gateway TLS: {detail}")]
    Tls { detail: String },
    #[error("QR gateway exchange failed after sending: {detail}")]
    Exchange { detail: String },
    #[error("QR gateway answered HTTP status {status}")]
    HttpStatus { status: u16 },
    /// The answer is not the protocol's JSON, or a field is wrong.
    #[error("QR gateway response field {field}: {detail}")]
    BadResponse { field: String, detail: String },
    /// The answer's signature did not verify: its content cannot be trusted.
    #[error("QR gateway response signature rejected: {0}")]
    BadSignature(#[source] SignatureError),
    #[error("QR gateway call cancelled before it was sent")]
    Cancelled,
    #[error("QR gateway configuration: {detail}")]
    Config { detail: String },
}

impl GatewayError {
    /// Whether the gateway may have acted on the request.
    pub fn may_have_reached_gateway(&self) -> bool {
        !matches!(
            self,
            GatewayError::Unreachable { .. }
                | GatewayError::Tls { .. }
                | GatewayError::Cancelled
                | GatewayError::Config { .. }
        )
    }

    pub fn termination_code(&self) -> TerminationCode {
        match self {
            GatewayError::Unreachable { .. } => TerminationCode::NetQrGatewayUnreachable,
            GatewayError::Tls { .. } => TerminationCode::NetTls,
            GatewayError::Exchange { .. } => TerminationCode::NetTimeout,
            GatewayError::HttpStatus { .. } => TerminationCode::NetQrGatewayError,
            GatewayError::BadResponse { .. } => TerminationCode::NetBadResponse,
            GatewayError::BadSignature(_) => TerminationCode::NetQrBadSignature,
            GatewayError::Cancelled => TerminationCode::OpCancelled,
            GatewayError::Config { .. } => TerminationCode::SwConfig,
        }
    }
}
