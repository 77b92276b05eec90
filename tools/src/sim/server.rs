//! The simulator's network face: 2-byte length framing over TCP, or over TLS inside it, one
//! thread per connection, port 0 in tests.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use rustls::ServerConfig;

use super::host::{Acquirer, Action};
use super::listener::Listener;
use super::tls::{self, TlsStream};
use crate::cli::msglog::MessageLog;

/// Largest frame the simulator reads; anything larger is a framing error.
const MAX_FRAME: usize = 8 * 1024;

/// A running simulator. Dropping it stops the listener.
#[derive(Debug)]
pub struct SimServer {
    listener: Listener,
    acquirer: Arc<Acquirer>,
}

impl SimServer {
    /// Binds `listen` (use port 0 in tests) and serves plain TCP until stopped.
    pub fn start(acquirer: Arc<Acquirer>, listen: SocketAddr) -> io::Result<SimServer> {
        SimServer::start_with(acquirer, listen, None)
    }

    /// As [`SimServer::start`], every connection inside TLS with `tls` (see
    /// [`super::tls::server_config`]): the same frames, after a handshake.
    pub fn start_tls(
        acquirer: Arc<Acquirer>,
        listen: SocketAddr,
        tls: Arc<ServerConfig>,
    ) -> io::Result<SimServer> {
        SimServer::start_with(acquirer, listen, Some(tls))
    }

    fn start_with(
        acquirer: Arc<Acquirer>,
        listen: SocketAddr,
        tls: Option<Arc<ServerConfig>>,
    ) -> io::Result<SimServer> {
        SimServer::start_logged(acquirer, listen, tls, None)
    }

    /// As [`SimServer::start`] (TLS when `tls` is given), writing every message it receives and
    /// sends to `log` (`smartpos sim --log`).
    pub fn start_logged(
        acquirer: Arc<Acquirer>,
        listen: SocketAddr,
        tls: Option<Arc<ServerConfig>>,
        log: Option<Arc<MessageLog>>,
    ) -> io::Result<SimServer> {
        let serving = acquirer.clone();
        let connections = AtomicU64::new(0);
        let listener = Listener::start(listen, "sim", move |stream, stop| {
            let log = log.as_ref().map(|log| ConnLog {
                log: log.clone(),
                conn: connections.fetch_add(1, Ordering::Relaxed) + 1,
                peer: stream
                    .peer_addr()
                    .map_or_else(|_| "?".to_owned(), |a| a.to_string()),
            });
            let _ = stream.set_nonblocking(false);
            let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
            let conn = match &tls {
                None => Conn::Plain(stream),
                Some(config) => match tls::accept(stream, config, stop) {
                    Some(session) => Conn::Tls(Box::new(session)),
                    None => return,
                },
            };
            serve(conn, &serving, stop, log.as_ref())
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

/// One accepted connection, in clear or inside TLS.
enum Conn {
    Plain(TcpStream),
    Tls(Box<TlsStream>),
}

impl Conn {
    /// Drops the connection the way a host that gives up does: no close_notify, the socket shut.
    fn shutdown(&self) {
        let socket = match self {
            Conn::Plain(s) => s,
            Conn::Tls(s) => &s.sock,
        };
        let _ = socket.shutdown(Shutdown::Both);
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.read(buf),
            Conn::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.write(buf),
            Conn::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Conn::Plain(s) => s.flush(),
            Conn::Tls(s) => s.flush(),
        }
    }
}

/// One connection's place in the message log.
struct ConnLog {
    log: Arc<MessageLog>,
    conn: u64,
    peer: String,
}

fn serve(mut stream: Conn, acquirer: &Acquirer, stop: &AtomicBool, log: Option<&ConnLog>) {
    loop {
        let body = match read_frame(&mut stream, stop) {
            Ok(Some(b)) => b,
            Ok(None) | Err(_) => return,
        };
        let received = Instant::now();
        if let Some(l) = log {
            l.log.request(l.conn, &l.peer, &body);
        }
        let answered = |bytes: &[u8]| {
            if let Some(l) = log {
                l.log.response(l.conn, &l.peer, bytes, received.elapsed());
            }
        };
        let unanswered = |why: &str| {
            if let Some(l) = log {
                l.log.no_answer(l.conn, &l.peer, why, received.elapsed());
            }
        };
        match acquirer.handle(&body) {
            Action::Reply(bytes) => {
                answered(&bytes);
                if write_frame(&mut stream, &bytes).is_err() {
                    return;
                }
            }
            Action::ReplyAfter(delay, bytes) => {
                thread::sleep(delay);
                answered(&bytes);
                if write_frame(&mut stream, &bytes).is_err() {
                    return;
                }
            }
            Action::Silent => {
                unanswered("held silent (simulated fault)");
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
                unanswered("connection closed (simulated fault)");
                stream.shutdown();
                return;
            }
        }
    }
}

/// Reads one length-prefixed frame; `None` when the peer closed between frames.
pub(crate) fn read_frame(stream: &mut impl Read, stop: &AtomicBool) -> io::Result<Option<Vec<u8>>> {
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
    stream: &mut impl Read,
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

pub(crate) fn write_frame(stream: &mut impl Write, body: &[u8]) -> io::Result<()> {
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
