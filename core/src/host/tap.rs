//! An optional observer of the acquirer link: [`TappedTransport`] wraps any [`Transport`] and
//! shows each request frame, its answer (with the round trip) or the failure that took its place
//! to a [`MessageTap`]. Message logs (`smartpos pay --trace`, the simulator's `--log`) and, on
//! Android, a debug line per message in logcat ([`LogTap`]) are taps; the protocol layer is
//! unchanged, so no message is decoded twice on the way.
//!
//! The frames a tap sees are the bytes on the wire and hold card data (field 2, track 2, field
//! 55) and the PIN block: a tap that keeps or prints them must mask and redact them first, as
//! [`LogTap`] does by printing only the MTI, the STAN and the length.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::transport::{CancelToken, LinkSecurity, Timeouts, Transport, TransportError};
use crate::codec::iso8583::cups::Frame;

/// One thing a tap is shown. `exchange` numbers the exchanges of one transport from 1; the
/// transports open one connection per exchange, so it also names the connection.
#[derive(Debug)]
#[non_exhaustive]
pub enum TapEvent<'a> {
    /// A request frame (TPDU onwards, without the length prefix) about to be sent.
    Request { exchange: u64, body: &'a [u8] },
    /// The answer to exchange `exchange`, `round_trip` after the request was handed over.
    Response {
        exchange: u64,
        body: &'a [u8],
        round_trip: Duration,
    },
    /// No answer: the transport's error (a timeout, a refused connection, a closed socket).
    Failed {
        exchange: u64,
        error: &'a TransportError,
        after: Duration,
    },
}

/// Sees the frames of a [`TappedTransport`]. Called on the thread of the exchange, so it must be
/// quick (buffer, or write a line) and must never fail the payment: it returns nothing.
pub trait MessageTap: Send + Sync {
    fn observe(&self, event: &TapEvent<'_>);
}

/// A [`Transport`] that shows its frames to a [`MessageTap`] and otherwise is the one it wraps.
pub struct TappedTransport {
    inner: Arc<dyn Transport>,
    tap: Arc<dyn MessageTap>,
    exchanges: AtomicU64,
}

impl std::fmt::Debug for TappedTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TappedTransport")
            .field("exchanges", &self.exchanges)
            .finish_non_exhaustive()
    }
}

impl TappedTransport {
    pub fn new(inner: Arc<dyn Transport>, tap: Arc<dyn MessageTap>) -> TappedTransport {
        TappedTransport {
            inner,
            tap,
            exchanges: AtomicU64::new(0),
        }
    }
}

impl Transport for TappedTransport {
    fn exchange(
        &self,
        request: &[u8],
        timeouts: &Timeouts,
        cancel: &CancelToken,
    ) -> Result<Vec<u8>, TransportError> {
        let exchange = self.exchanges.fetch_add(1, Ordering::Relaxed) + 1;
        self.tap.observe(&TapEvent::Request {
            exchange,
            body: request,
        });
        let started = Instant::now();
        let result = self.inner.exchange(request, timeouts, cancel);
        let elapsed = started.elapsed();
        match &result {
            Ok(body) => self.tap.observe(&TapEvent::Response {
                exchange,
                body,
                round_trip: elapsed,
            }),
            Err(error) => self.tap.observe(&TapEvent::Failed {
                exchange,
                error,
                after: elapsed,
            }),
        }
        result
    }

    fn security(&self) -> LinkSecurity {
        self.inner.security()
    }
}

/// A tap that writes one `log::debug!` line per frame (logcat on Android, `RUST_LOG=debug`
/// elsewhere): direction, exchange, MTI, STAN, length and round trip — never a field that could
/// hold card data.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogTap;

/// MTI and STAN of a frame body, or why it does not decode (without its bytes).
fn headline(body: &[u8]) -> String {
    match Frame::decode_body(body) {
        Ok(frame) => format!(
            "{} STAN {}",
            frame.message.mti(),
            frame.message.text(11).unwrap_or("-")
        ),
        Err(e) => format!("undecodable ({e})"),
    }
}

impl MessageTap for LogTap {
    fn observe(&self, event: &TapEvent<'_>) {
        match event {
            TapEvent::Request { exchange, body } => log::debug!(
                "acquirer #{exchange} -> {} ({} bytes)",
                headline(body),
                body.len()
            ),
            TapEvent::Response {
                exchange,
                body,
                round_trip,
            } => log::debug!(
                "acquirer #{exchange} <- {} ({} bytes, {} ms)",
                headline(body),
                body.len(),
                round_trip.as_millis()
            ),
            TapEvent::Failed {
                exchange,
                error,
                after,
            } => log::debug!(
                "acquirer #{exchange} no answer after {} ms: {error}",
                after.as_millis()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Mutex;

    use super::*;

    /// Echoes the request, or fails when it is empty.
    struct Echo;

    impl Transport for Echo {
        fn exchange(
            &self,
            request: &[u8],
            _: &Timeouts,
            _: &CancelToken,
        ) -> Result<Vec<u8>, TransportError> {
            if request.is_empty() {
                return Err(TransportError::Cancelled { after_send: false });
            }
            Ok(request.to_vec())
        }
    }

    #[derive(Default)]
    struct Recorder(Mutex<Vec<String>>);

    impl MessageTap for Recorder {
        fn observe(&self, event: &TapEvent<'_>) {
            let line = match event {
                TapEvent::Request { exchange, body } => format!("req {exchange} {}", body.len()),
                TapEvent::Response { exchange, body, .. } => {
                    format!("resp {exchange} {}", body.len())
                }
                TapEvent::Failed { exchange, .. } => format!("fail {exchange}"),
            };
            self.0.lock().unwrap().push(line);
        }
    }

    #[test]
    fn every_request_is_followed_by_its_answer_or_its_failure_and_the_result_passes_through() {
        let recorder = Arc::new(Recorder::default());
        let tapped = TappedTransport::new(Arc::new(Echo), recorder.clone());
        let (t, c) = (Timeouts::default(), CancelToken::new());
        assert_eq!(tapped.exchange(b"abc", &t, &c).unwrap(), b"abc");
        assert!(tapped.exchange(b"", &t, &c).is_err());
        assert_eq!(
            *recorder.0.lock().unwrap(),
            ["req 1 3", "resp 1 3", "req 2 0", "fail 2"]
        );
        assert_eq!(tapped.security(), LinkSecurity::Undeclared);
    }

    #[test]
    fn the_log_tap_names_a_frame_by_mti_and_stan_only() {
        use crate::codec::iso8583::Message;
        use crate::codec::iso8583::cups::Tpdu;
        let mut m = Message::new("0200");
        m.set_digits(2, "6222021234567890123");
        m.set_digits(11, "000123");
        let body = Frame {
            tpdu: Tpdu::new(0x0003, 0x0000),
            header: [0x60, 0x31, 0x00, 0x31, 0x10, 0x00],
            message: m,
        }
        .encode_body()
        .unwrap();
        let line = headline(&body);
        assert_eq!(line, "0200 STAN 000123");
        assert!(headline(&[0x60]).starts_with("undecodable"));
    }
}
