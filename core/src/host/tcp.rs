//! TCP with a 2-byte big-endian length prefix, primary/backup failover on connect failure only.

use std::io::{ErrorKind, Write};
use std::net::{SocketAddr, TcpStream};

use super::framing::{encode_frame, nonzero, read_frame};
use super::transport::{
    CancelToken, ConnectFailure, ConnectFailureKind, LinkSecurity, Timeouts, Transport,
    TransportError,
};

/// One connection per exchange, endpoints tried in order (primary first). Failover happens only
/// while nothing has been written: once a byte may have left, the error goes back to the caller.
#[derive(Debug, Clone)]
pub struct TcpTransport {
    endpoints: Vec<SocketAddr>,
}

impl TcpTransport {
    pub fn new(endpoints: Vec<SocketAddr>) -> TcpTransport {
        TcpTransport { endpoints }
    }

    pub fn endpoints(&self) -> &[SocketAddr] {
        &self.endpoints
    }

    fn connect(
        &self,
        timeouts: &Timeouts,
        cancel: &CancelToken,
    ) -> Result<(TcpStream, SocketAddr), TransportError> {
        if self.endpoints.is_empty() {
            return Err(TransportError::NoEndpoints);
        }
        let mut attempts = Vec::new();
        for &endpoint in &self.endpoints {
            // connect_timeout cannot be interrupted; the token is honoured between endpoints.
            if cancel.is_cancelled() {
                return Err(TransportError::Cancelled { after_send: false });
            }
            match connect_endpoint(endpoint, timeouts) {
                Ok(stream) => return Ok((stream, endpoint)),
                Err(failure) => attempts.push(failure),
            }
        }
        Err(TransportError::Unreachable { attempts })
    }
}

/// One TCP connect within `timeouts.connect`; the failure says what kind it was.
pub(super) fn connect_endpoint(
    endpoint: SocketAddr,
    timeouts: &Timeouts,
) -> Result<TcpStream, ConnectFailure> {
    TcpStream::connect_timeout(&endpoint, timeouts.connect).map_err(|err| {
        let kind = match err.kind() {
            ErrorKind::ConnectionRefused => ConnectFailureKind::Refused,
            ErrorKind::TimedOut | ErrorKind::WouldBlock => ConnectFailureKind::TimedOut,
            ErrorKind::HostUnreachable | ErrorKind::NetworkUnreachable => {
                ConnectFailureKind::Unreachable
            }
            _ => ConnectFailureKind::Other,
        };
        log::warn!("host endpoint {endpoint} connect failed: {kind:?}");
        ConnectFailure {
            endpoint,
            kind,
            detail: err.to_string(),
        }
    })
}

impl Transport for TcpTransport {
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
        // Socket options failing means nothing was written yet, but the connection is unusable
        // in a way failover would not fix; report it as a write failure on this endpoint.
        stream.set_nodelay(true).map_err(write_failed)?;
        stream
            .set_write_timeout(Some(nonzero(timeouts.read)))
            .map_err(write_failed)?;
        // One buffer, one write: the prefix and payload leave together.
        stream.write_all(&frame).map_err(write_failed)?;
        stream.flush().map_err(write_failed)?;
        read_frame(&mut stream, timeouts, cancel)
    }

    fn security(&self) -> LinkSecurity {
        LinkSecurity::PlainTcp {
            loopback_only: self.endpoints.iter().all(|e| e.ip().is_loopback()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::net::TcpListener;
    use std::sync::mpsc;
    use std::thread;
    use std::time::Duration;

    use super::super::MAX_FRAME_LEN;
    use super::*;

    fn timeouts(read_ms: u64) -> Timeouts {
        Timeouts {
            connect: Duration::from_secs(2),
            read: Duration::from_millis(read_ms),
            poll: Duration::from_millis(10),
        }
    }

    /// A port nothing listens on: bind port 0, note it, close it.
    fn closed_port() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        drop(listener);
        addr
    }

    fn read_request(stream: &mut TcpStream) -> Vec<u8> {
        let mut prefix = [0u8; 2];
        stream.read_exact(&mut prefix).expect("prefix");
        let mut body = vec![0u8; usize::from(u16::from_be_bytes(prefix))];
        stream.read_exact(&mut body).expect("body");
        body
    }

    /// Serves one connection with `behaviour`, reporting the request it read on the channel.
    fn serve(
        behaviour: impl FnOnce(TcpStream, Vec<u8>) + Send + 'static,
    ) -> (SocketAddr, mpsc::Receiver<Vec<u8>>, thread::JoinHandle<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (seen_tx, seen_rx) = mpsc::channel();
        let handle = thread::spawn(move || {
            let (mut stream, _) = listener.accept().expect("accept");
            let request = read_request(&mut stream);
            seen_tx.send(request.clone()).expect("report");
            behaviour(stream, request);
        });
        (addr, seen_rx, handle)
    }

    fn echo(mut stream: TcpStream, request: Vec<u8>) {
        let mut frame = (request.len() as u16).to_be_bytes().to_vec();
        frame.extend_from_slice(&request);
        stream.write_all(&frame).expect("reply");
    }

    #[test]
    fn echo_round_trip_uses_big_endian_length_prefix() {
        let (addr, seen, server) = serve(echo);
        let transport = TcpTransport::new(vec![addr]);
        let request: Vec<u8> = (0..300u16).map(|n| n as u8).collect();
        let reply = transport
            .exchange(&request, &timeouts(2_000), &CancelToken::new())
            .expect("exchange");
        assert_eq!(reply, request);
        assert_eq!(seen.recv().expect("seen"), request);
        server.join().expect("server");
    }

    #[test]
    fn refused_primary_fails_over_to_backup() {
        let (backup, _seen, server) = serve(echo);
        let transport = TcpTransport::new(vec![closed_port(), backup]);
        let reply = transport
            .exchange(b"0800", &timeouts(2_000), &CancelToken::new())
            .expect("exchange via backup");
        assert_eq!(reply, b"0800");
        server.join().expect("server");
    }

    #[test]
    fn all_endpoints_refused_is_not_sent() {
        let (a, b) = (closed_port(), closed_port());
        let err = TcpTransport::new(vec![a, b])
            .exchange(b"0200", &timeouts(2_000), &CancelToken::new())
            .expect_err("unreachable");
        match &err {
            TransportError::Unreachable { attempts } => {
                assert_eq!(attempts.len(), 2);
                assert_eq!(attempts[0].endpoint, a);
                assert_eq!(attempts[0].kind, ConnectFailureKind::Refused);
            }
            other => panic!("expected Unreachable, got {other:?}"),
        }
        assert!(!err.may_have_reached_host());
    }

    #[test]
    fn silent_host_hits_read_deadline_and_may_have_seen_request() {
        let (release_tx, release_rx) = mpsc::channel::<()>();
        // The server keeps the connection open, unanswered, until the test is done.
        let (addr, seen, server) = serve(move |_stream, _| {
            let _ = release_rx.recv();
        });
        let err = TcpTransport::new(vec![addr])
            .exchange(b"0200", &timeouts(150), &CancelToken::new())
            .expect_err("no response");
        assert!(
            matches!(err, TransportError::NoResponse { waited } if waited >= Duration::from_millis(150))
        );
        assert!(err.may_have_reached_host());
        assert_eq!(seen.recv().expect("seen"), b"0200");
        release_tx.send(()).expect("release");
        server.join().expect("server");
    }

    #[test]
    fn close_after_read_is_closed_after_send() {
        let (addr, _seen, server) = serve(|stream, _| drop(stream));
        let err = TcpTransport::new(vec![addr])
            .exchange(b"0200", &timeouts(2_000), &CancelToken::new())
            .expect_err("closed");
        assert!(matches!(err, TransportError::ClosedAfterSend), "{err:?}");
        assert!(err.may_have_reached_host());
        server.join().expect("server");
    }

    #[test]
    fn oversize_length_prefix_is_bad_length() {
        let (addr, _seen, server) = serve(|mut stream, _| {
            stream.write_all(&[0x20, 0x01]).expect("prefix 8193");
        });
        let err = TcpTransport::new(vec![addr])
            .exchange(b"0200", &timeouts(2_000), &CancelToken::new())
            .expect_err("bad length");
        assert!(
            matches!(err, TransportError::BadLength { declared: 8193, .. }),
            "{err:?}"
        );
        assert!(err.may_have_reached_host());
        server.join().expect("server");
    }

    #[test]
    fn truncated_response_is_short_frame() {
        let (addr, _seen, server) = serve(|mut stream, _| {
            stream.write_all(&[0x00, 0x0A, 1, 2, 3]).expect("partial");
        });
        let err = TcpTransport::new(vec![addr])
            .exchange(b"0200", &timeouts(2_000), &CancelToken::new())
            .expect_err("short");
        assert!(
            matches!(
                err,
                TransportError::ShortFrame {
                    expected: 10,
                    received: 3
                }
            ),
            "{err:?}"
        );
        assert!(err.may_have_reached_host());
        server.join().expect("server");
    }

    #[test]
    fn cancel_while_waiting_reports_after_send() {
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let (addr, seen, server) = serve(move |_stream, _| {
            let _ = release_rx.recv();
        });
        let cancel = CancelToken::new();
        let canceller = {
            let cancel = cancel.clone();
            // Cancel only once the host has the request, so the "after send" path is certain.
            thread::spawn(move || {
                seen.recv().expect("seen");
                cancel.cancel();
            })
        };
        let err = TcpTransport::new(vec![addr])
            .exchange(b"0200", &timeouts(30_000), &cancel)
            .expect_err("cancelled");
        assert!(
            matches!(err, TransportError::Cancelled { after_send: true }),
            "{err:?}"
        );
        assert!(err.may_have_reached_host());
        canceller.join().expect("canceller");
        release_tx.send(()).expect("release");
        server.join().expect("server");
    }

    #[test]
    fn cancelled_before_sending_never_connects() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let cancel = CancelToken::new();
        cancel.cancel();
        let err = TcpTransport::new(vec![listener.local_addr().expect("addr")])
            .exchange(b"0200", &timeouts(2_000), &cancel)
            .expect_err("cancelled");
        assert!(matches!(
            err,
            TransportError::Cancelled { after_send: false }
        ));
        assert!(!err.may_have_reached_host());
        assert!(listener.accept().is_err(), "no connection was attempted");
    }

    #[test]
    fn oversize_or_empty_request_is_refused_unsent() {
        let transport = TcpTransport::new(vec![closed_port()]);
        for request in [vec![0u8; MAX_FRAME_LEN + 1], Vec::new()] {
            let err = transport
                .exchange(&request, &timeouts(100), &CancelToken::new())
                .expect_err("too large");
            assert!(matches!(err, TransportError::BadRequestLength { .. }));
            assert!(!err.may_have_reached_host());
        }
        let err = TcpTransport::new(Vec::new())
            .exchange(b"x", &timeouts(100), &CancelToken::new())
            .expect_err("no endpoints");
        assert!(matches!(err, TransportError::NoEndpoints));
    }
}
