//! HTTP/1.1 face of the simulated gateway: one request per connection (`Connection: close`),
//! parsed with httparse; port 0 in tests.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use smartpos_core::qr::gateway::Operation;

use super::QrGateway;
use crate::sim::listener::Listener;

/// Requests larger than this are refused; the protocol's are a few hundred bytes.
const MAX_REQUEST: usize = 64 * 1024;

/// A running simulated gateway. Dropping it stops the listener.
#[derive(Debug)]
pub struct GatewayServer {
    listener: Listener,
    gateway: Arc<QrGateway>,
}

impl GatewayServer {
    pub fn start(gateway: Arc<QrGateway>, listen: SocketAddr) -> io::Result<GatewayServer> {
        let serving = gateway.clone();
        let listener = Listener::start(listen, "qr-gw", move |stream, _| serve(stream, &serving))?;
        Ok(GatewayServer { listener, gateway })
    }

    pub fn addr(&self) -> SocketAddr {
        self.listener.addr()
    }

    /// The base URL to give a QR session.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr())
    }

    pub fn gateway(&self) -> &Arc<QrGateway> {
        &self.gateway
    }

    /// Down: the listener is closed, so connects are refused as with a gateway that is off;
    /// the same port is bound again when it comes back. Returns once the change took effect.
    pub fn set_down(&self, down: bool) {
        self.listener.set_down(down);
    }

    pub fn stop(&mut self) {
        self.listener.stop();
    }

    /// Serves until the process is interrupted.
    pub fn wait(self) {
        self.listener.wait();
    }
}

fn serve(mut stream: TcpStream, gateway: &QrGateway) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let (status, body, delay) = match read_request(&mut stream) {
        Ok((path, body)) => match Operation::from_path(&path) {
            Some(op) => {
                let answer = gateway.handle(op, &body);
                ("200 OK", answer.body, answer.delay)
            }
            None => ("404 Not Found", Vec::new(), None),
        },
        Err(e) => {
            log::warn!("qr gateway sim: bad request: {e}");
            ("400 Bad Request", Vec::new(), None)
        }
    };
    if let Some(delay) = delay {
        thread::sleep(delay);
    }
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    let _ = stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(&body))
        .and_then(|()| stream.flush());
}

fn invalid(detail: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, detail.to_owned())
}

/// Reads one POST: returns its path and body.
fn read_request(stream: &mut TcpStream) -> io::Result<(String, Vec<u8>)> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(invalid("connection closed before the request was complete"));
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.len() > MAX_REQUEST {
            return Err(invalid("request too large"));
        }
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut request = httparse::Request::new(&mut headers);
        let httparse::Status::Complete(head_len) = request
            .parse(&buf)
            .map_err(|e| invalid(&format!("HTTP head: {e}")))?
        else {
            continue;
        };
        if request.method != Some("POST") {
            return Err(invalid("only POST is served"));
        }
        let path = request.path.unwrap_or("/").to_owned();
        let length = request
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case("content-length"))
            .and_then(|h| std::str::from_utf8(h.value).ok())
            .and_then(|v| v.trim().parse::<usize>().ok())
            .ok_or_else(|| invalid("Content-Length missing"))?;
        if head_len + length > MAX_REQUEST {
            return Err(invalid("request too large"));
        }
        while buf.len() < head_len + length {
            let n = stream.read(&mut chunk)?;
            if n == 0 {
                return Err(invalid("body shorter than Content-Length"));
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        return Ok((path, buf[head_len..head_len + length].to_vec()));
    }
}
