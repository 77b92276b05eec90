//! The TCP listener both simulated servers share (the acquirer and the QR gateway): an accept
//! thread handing each connection to a thread of its own, which can be taken down and brought
//! back on the same port to play a host that is off.

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// What serves one connection; the flag turns true when the server stops.
type Handler = dyn Fn(TcpStream, &AtomicBool) + Send + Sync;

#[derive(Debug)]
pub(crate) struct Listener {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    down: Arc<AtomicBool>,
    /// Whether the accept loop currently holds a bound socket.
    listening: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl Listener {
    /// Binds `listen` (port 0 in tests) and serves each connection with `handle` on a thread
    /// named `{name}-conn`.
    pub(crate) fn start(
        listen: SocketAddr,
        name: &str,
        handle: impl Fn(TcpStream, &AtomicBool) + Send + Sync + 'static,
    ) -> io::Result<Listener> {
        let socket = TcpListener::bind(listen)?;
        socket.set_nonblocking(true)?;
        let addr = socket.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let down = Arc::new(AtomicBool::new(false));
        let listening = Arc::new(AtomicBool::new(true));
        let accept = {
            let flags = (stop.clone(), down.clone(), listening.clone());
            let handle: Arc<Handler> = Arc::new(handle);
            let conn_name = format!("{name}-conn");
            thread::Builder::new()
                .name(format!("{name}-accept"))
                .spawn(move || accept_loop(socket, addr, &conn_name, &handle, flags))?
        };
        Ok(Listener {
            addr,
            stop,
            down,
            listening,
            accept: Some(accept),
        })
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Down: the socket is closed, so connects are refused exactly as with a host that is off;
    /// the same port is bound again when it comes back. Returns once the change took effect, so
    /// a test that connects right after cannot slip into the old socket's backlog.
    pub(crate) fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
        let deadline = Instant::now() + Duration::from_secs(2);
        while self.listening.load(Ordering::SeqCst) == down && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(1));
        }
    }

    /// Serves until the process is interrupted.
    pub(crate) fn wait(mut self) {
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }

    pub(crate) fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop();
    }
}

fn accept_loop(
    socket: TcpListener,
    addr: SocketAddr,
    conn_name: &str,
    handle: &Arc<Handler>,
    (stop, down, listening): (Arc<AtomicBool>, Arc<AtomicBool>, Arc<AtomicBool>),
) {
    let mut socket = Some(socket);
    while !stop.load(Ordering::SeqCst) {
        if down.load(Ordering::SeqCst) {
            socket = None;
            listening.store(false, Ordering::SeqCst);
            thread::sleep(Duration::from_millis(1));
            continue;
        }
        let Some(s) = socket.as_ref() else {
            socket = TcpListener::bind(addr)
                .and_then(|s| s.set_nonblocking(true).map(|()| s))
                .ok();
            listening.store(socket.is_some(), Ordering::SeqCst);
            continue;
        };
        match s.accept() {
            Ok((stream, _)) => {
                // A simulator answers in whole messages. With Nagle on, a TLS server's answer
                // written after its session tickets waited for the terminal's delayed ACK: 40 ms
                // added to some exchanges on loopback, which the FFI bench showed as a bimodal
                // sale time (issue #17). Real acquirers are not ours to tune; the terminal's own
                // socket already has TCP_NODELAY.
                let _ = stream.set_nodelay(true);
                let (handle, stop) = (handle.clone(), stop.clone());
                let _ = thread::Builder::new()
                    .name(conn_name.to_owned())
                    .spawn(move || handle(stream, &stop));
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                thread::sleep(Duration::from_millis(2));
            }
            Err(e) => {
                log::warn!("{conn_name}: accept failed: {e}");
                thread::sleep(Duration::from_millis(20));
            }
        }
    }
}
