//! The simulator's TCP face: 2-byte length framing, one thread per connection, port 0 in tests.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use super::host::{Acquirer, Action};
use super::listener::Listener;

/// Largest frame the simulator reads; anything larger is a framing error.
const MAX_FRAME: usize = 8 * 1024;

/// A running simulator. Dropping it stops the listener.
#[derive(Debug)]
pub struct SimServer {
    listener: Listener,
    acquirer: Arc<Acquirer>,
}

impl SimServer {
    /// Binds `listen` (use port 0 in tests) and serves until stopped.
    pub fn start(acquirer: Arc<Acquirer>, listen: SocketAddr) -> io::Result<SimServer> {
        let serving = acquirer.clone();
        let listener = Listener::start(listen, "sim", move |stream, stop| {
            serve(stream, &serving, stop)
        })?;
        Ok(SimServer { listener, acquirer })
    }

    pub fn addr(&self) -> SocketAddr {
        self.listener.addr()
    }

    /// While refusing, the listening socket is closed, so connects fail with "connection
    /// refused" exactly as with a host that is down; the same port is bound again afterwards.
    /// Returns once the change took effect.
    pub fn set_refusing(&self, refusing: bool) {
        self.listener.set_down(refusing);
    }

    pub fn acquirer(&self) -> &Arc<Acquirer> {
        &self.acquirer
    }

    /// Serves until the process is interrupted (for `smartpos sim`).
    pub fn wait(self) {
        self.listener.wait();
    }

    pub fn stop(&mut self) {
        self.listener.stop();
    }
}

fn serve(mut stream: TcpStream, acquirer: &Acquirer, stop: &AtomicBool) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    loop {
        let body = match read_frame(&mut stream, stop) {
            Ok(Some(b)) => b,
            Ok(None) | Err(_) => return,
        };
        match acquirer.handle(&body) {
            Action::Reply(bytes) => {
                if write_frame(&mut stream, &bytes).is_err() {
                    return;
                }
            }
            Action::ReplyAfter(delay, bytes) => {
                thread::sleep(delay);
                if write_frame(&mut stream, &bytes).is_err() {
                    return;
                }
            }
            Action::Silent => {
                // Hold the connection until the terminal gives up and closes it.
                let mut sink = [0u8; 64];
                while !stop.load(Ordering::SeqCst) {
                    match stream.read(&mut sink) {
                        Ok(0) => return,
                        Ok(_) => {}
                        Err(e) if is_timeout(&e) => {}
                        Err(_) => return,
                    }
                }
                return;
            }
            Action::Close => {
                let _ = stream.shutdown(Shutdown::Both);
                return;
            }
        }
    }
}

/// Reads one length-prefixed frame; `None` when the peer closed between frames.
pub(crate) fn read_frame(stream: &mut TcpStream, stop: &AtomicBool) -> io::Result<Option<Vec<u8>>> {
    let mut len = [0u8; 2];
    if !read_exact_patiently(stream, &mut len, stop)? {
        return Ok(None);
    }
    let n = u16::from_be_bytes(len) as usize;
    if n == 0 || n > MAX_FRAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "bad frame length",
        ));
    }
    let mut body = vec![0u8; n];
    if !read_exact_patiently(stream, &mut body, stop)? {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "short frame"));
    }
    Ok(Some(body))
}

fn read_exact_patiently(
    stream: &mut TcpStream,
    buf: &mut [u8],
    stop: &AtomicBool,
) -> io::Result<bool> {
    let mut got = 0;
    while got < buf.len() {
        if stop.load(Ordering::SeqCst) {
            return Ok(false);
        }
        match stream.read(&mut buf[got..]) {
            Ok(0) => return Ok(false),
            Ok(n) => got += n,
            Err(e) if is_timeout(&e) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

pub(crate) fn write_frame(stream: &mut TcpStream, body: &[u8]) -> io::Result<()> {
    let len = u16::try_from(body.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame too large"))?;
    let mut out = Vec::with_capacity(body.len() + 2);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(body);
    stream.write_all(&out)?;
    stream.flush()
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}
