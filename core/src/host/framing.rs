//! The acquirer's framing, shared by TCP and TLS: a 2-byte big-endian length, then the payload;
//! one request out, one response back, read against a deadline that wakes to honour a cancel.

use std::io::{self, ErrorKind, Read};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::transport::{CancelToken, Timeouts, TransportError};

/// Largest payload accepted either way. UnionPay-style 8583 messages are well under 2 KiB; a
/// larger prefix means a desynchronised or hostile stream.
pub const MAX_FRAME_LEN: usize = 8 * 1024;

/// A byte stream whose blocking reads can be bounded, so a read wakes to check the deadline and
/// the cancel token: a socket, or TLS over one.
pub(super) trait TimedRead: Read {
    fn set_read_timeout(&mut self, timeout: Duration) -> io::Result<()>;
}

impl TimedRead for TcpStream {
    fn set_read_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        TcpStream::set_read_timeout(self, Some(timeout))
    }
}

/// The request with its length prefix, in one buffer so prefix and payload leave together.
/// Refused before anything is connected when the payload is empty or over the limit.
/// The frame holds card data: it is wiped when dropped.
pub(super) fn encode_frame(request: &[u8]) -> Result<zeroize::Zeroizing<Vec<u8>>, TransportError> {
    let len = u16::try_from(request.len())
        .ok()
        .filter(|&len| usize::from(len) <= MAX_FRAME_LEN && len > 0)
        .ok_or(TransportError::BadRequestLength {
            len: request.len(),
            max: MAX_FRAME_LEN,
        })?;
    let mut frame = zeroize::Zeroizing::new(Vec::with_capacity(request.len() + 2));
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(request);
    Ok(frame)
}

/// `set_read_timeout(Some(0))` is an error, so clamp to the smallest useful slice.
pub(super) fn nonzero(duration: Duration) -> Duration {
    duration.max(Duration::from_millis(1))
}

pub(super) fn read_frame(
    stream: &mut impl TimedRead,
    timeouts: &Timeouts,
    cancel: &CancelToken,
) -> Result<Vec<u8>, TransportError> {
    let started = Instant::now();
    let deadline = started + timeouts.read;
    let mut prefix = [0u8; 2];
    let mut received = 0;
    read_until(
        stream,
        &mut prefix,
        &mut received,
        deadline,
        timeouts,
        cancel,
    )
    .map_err(|cut| match cut {
        Cut::Eof if received == 0 => TransportError::ClosedAfterSend,
        Cut::Deadline if received == 0 => TransportError::NoResponse {
            waited: started.elapsed(),
        },
        Cut::Eof | Cut::Deadline => TransportError::ShortFrame {
            expected: 2,
            received,
        },
        Cut::Failed(err) => err,
    })?;
    let declared = usize::from(u16::from_be_bytes(prefix));
    if declared == 0 || declared > MAX_FRAME_LEN {
        return Err(TransportError::BadLength {
            declared,
            max: MAX_FRAME_LEN,
        });
    }
    let mut payload = vec![0u8; declared];
    let mut received = 0;
    read_until(
        stream,
        &mut payload,
        &mut received,
        deadline,
        timeouts,
        cancel,
    )
    .map_err(|cut| match cut {
        Cut::Eof | Cut::Deadline => TransportError::ShortFrame {
            expected: declared,
            received,
        },
        Cut::Failed(err) => err,
    })?;
    Ok(payload)
}

enum Cut {
    Eof,
    Deadline,
    Failed(TransportError),
}

/// Fills `buf[*filled..]`, waking every `timeouts.poll` to honour the cancel token and deadline.
fn read_until(
    stream: &mut impl TimedRead,
    buf: &mut [u8],
    filled: &mut usize,
    deadline: Instant,
    timeouts: &Timeouts,
    cancel: &CancelToken,
) -> Result<(), Cut> {
    let failed = |source| Cut::Failed(TransportError::ReadFailed { source });
    while *filled < buf.len() {
        if cancel.is_cancelled() {
            return Err(Cut::Failed(TransportError::Cancelled { after_send: true }));
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(Cut::Deadline);
        }
        let slice = nonzero(timeouts.poll.min(deadline - now));
        stream.set_read_timeout(slice).map_err(failed)?;
        match stream.read(&mut buf[*filled..]) {
            Ok(0) => return Err(Cut::Eof),
            Ok(n) => *filled += n,
            Err(err)
                if matches!(
                    err.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) => {}
            Err(err) if err.kind() == ErrorKind::ConnectionReset && *filled == 0 => {
                return Err(Cut::Eof);
            }
            // TLS: the host closed the socket without a close_notify.
            Err(err) if err.kind() == ErrorKind::UnexpectedEof => return Err(Cut::Eof),
            Err(err) => return Err(failed(err)),
        }
    }
    Ok(())
}
