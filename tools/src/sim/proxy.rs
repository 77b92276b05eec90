//! An on-path attacker (or a broken middlebox) between terminal and acquirer: a TCP proxy that
//! passes frames through and, for the next message of a given MTI, rewrites, drops, forges or
//! holds the answer. Tests put it between a terminal and the simulator to prove that nothing an
//! unauthenticated answer says moves money, and to keep a payment in flight while a second
//! process tries the same journal.

use std::collections::VecDeque;
use std::io;
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use smartpos_core::codec::iso8583::{Frame, Message, response_mti};

use super::listener::Listener;
use super::server::{read_frame, write_frame};

/// What the proxy does to one exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Tamper {
    /// Forward the request; in the answer remove field 64 and write `code` into field 39.
    StripMacAndSay { code: String },
    /// Forward the request (the host acts on it) and swallow the answer: the connection closes.
    DropAnswer,
    /// Never forward; answer at once, unsigned, with the request's identifying fields and `code`.
    ForgeUnsigned { code: String },
    /// Forward; pass the answer on after `delay`.
    Hold { delay: Duration },
    /// Forward; flip a bit of the first working key's check value in field 62 (a sign-on).
    CorruptCheckValue,
    /// Forward; turn an approval into a decline (field 39 "00" → "05") and undo the change's
    /// XOR in the RRN byte 16 bytes earlier — the same offset in its 8-byte block — leaving the
    /// MAC as it was. The UnionPay ECB MAC (XOR of the blocks) still verifies; X9.19 does not.
    EcbCompensatedDecline,
}

/// Tampering planned once per request (`next`), then a standing rule (`every`).
#[derive(Debug, Default)]
struct PlanState {
    once: VecDeque<(String, Tamper)>,
    /// (MTI, n, tamper, requests of that MTI seen so far): every n-th one is tampered with.
    every: Option<(String, usize, Tamper, usize)>,
}

type Plan = Mutex<PlanState>;

/// A running proxy. Dropping it stops the listener.
#[derive(Debug)]
pub struct OnPathProxy {
    listener: Listener,
    plan: Arc<Plan>,
    tampered: Arc<AtomicUsize>,
    /// Every request frame body seen, in order: what a wiretap would capture.
    captured: Arc<Mutex<Vec<Vec<u8>>>>,
    /// Connections the terminal opened through the proxy.
    connections: Arc<AtomicUsize>,
}

impl OnPathProxy {
    /// Listens on a loopback port the OS picks and forwards to `upstream`.
    pub fn start(upstream: SocketAddr) -> io::Result<OnPathProxy> {
        let plan: Arc<Plan> = Arc::new(Mutex::new(PlanState::default()));
        let tampered = Arc::new(AtomicUsize::new(0));
        let captured = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let (p, t, c, n) = (
            plan.clone(),
            tampered.clone(),
            captured.clone(),
            connections.clone(),
        );
        let listener = Listener::start(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            "proxy",
            move |stream, stop| {
                n.fetch_add(1, Ordering::SeqCst);
                relay(stream, upstream, &p, &t, &c, stop)
            },
        )?;
        Ok(OnPathProxy {
            listener,
            plan,
            tampered,
            captured,
            connections,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.listener.addr()
    }

    /// Tampers with the next request of MTI `mti` (e.g. "0200") and its answer; once.
    pub fn next(&self, mti: &str, tamper: Tamper) {
        lock(&self.plan).once.push_back((mti.to_string(), tamper));
    }

    /// From now on, tampers with every `n`-th request of MTI `mti` (after the planned `next`
    /// ones): a host or a middlebox misbehaving now and then over a long run.
    pub fn every(&self, mti: &str, n: usize, tamper: Tamper) {
        lock(&self.plan).every = Some((mti.to_string(), n.max(1), tamper, 0));
    }

    /// How many exchanges were tampered with so far.
    pub fn tampered(&self) -> usize {
        self.tampered.load(Ordering::SeqCst)
    }

    /// How many connections the terminal opened through the proxy.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// The request frame bodies (TPDU onward) seen so far, oldest first.
    pub fn captured(&self) -> Vec<Vec<u8>> {
        self.captured
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Whether every planned tampering has happened.
    pub fn plan_done(&self) -> bool {
        lock(&self.plan).once.is_empty()
    }
}

fn lock(plan: &Plan) -> std::sync::MutexGuard<'_, PlanState> {
    plan.lock().unwrap_or_else(|p| p.into_inner())
}

fn take_for(plan: &Plan, mti: &str) -> Option<Tamper> {
    let mut state = lock(plan);
    if let Some(pos) = state.once.iter().position(|(m, _)| m == mti) {
        return state.once.remove(pos).map(|(_, t)| t);
    }
    match &mut state.every {
        Some((m, n, tamper, seen)) if m == mti => {
            *seen += 1;
            (*seen % *n == 0).then(|| tamper.clone())
        }
        _ => None,
    }
}

fn relay(
    mut downstream: TcpStream,
    upstream_addr: SocketAddr,
    plan: &Plan,
    tampered: &AtomicUsize,
    captured: &Mutex<Vec<Vec<u8>>>,
    stop: &AtomicBool,
) {
    let _ = downstream.set_read_timeout(Some(Duration::from_millis(200)));
    let mut upstream: Option<TcpStream> = None;
    while let Ok(Some(request)) = read_frame(&mut downstream, stop) {
        captured
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(request.clone());
        let mti = Frame::decode_body(&request)
            .map(|f| f.message.mti().to_string())
            .unwrap_or_default();
        let tamper = take_for(plan, &mti);
        if tamper.is_some() {
            tampered.fetch_add(1, Ordering::SeqCst);
        }
        if let Some(Tamper::ForgeUnsigned { code }) = &tamper {
            if write_frame(&mut downstream, &forged(&request, code)).is_err() {
                return;
            }
            continue;
        }
        let answer = match forward(&mut upstream, upstream_addr, &request, stop) {
            Some(a) => a,
            None => break,
        };
        let answer = match tamper {
            Some(Tamper::DropAnswer) => break,
            Some(Tamper::Hold { delay }) => {
                std::thread::sleep(delay);
                answer
            }
            Some(Tamper::StripMacAndSay { code }) => rewrite(&answer, |m| {
                m.remove(64);
                m.set_text(39, &code);
            }),
            Some(Tamper::EcbCompensatedDecline) => compensated_decline(answer),
            Some(Tamper::CorruptCheckValue) => rewrite(&answer, |m| {
                if let Some(mut f62) = m.bytes(62).map(<[u8]>::to_vec) {
                    // PIK: 16 bytes of key, then its 4-byte check value.
                    if let Some(b) = f62.get_mut(16) {
                        *b ^= 0x01;
                    }
                    m.set_bytes(62, f62);
                }
            }),
            _ => answer,
        };
        if write_frame(&mut downstream, &answer).is_err() {
            return;
        }
    }
    let _ = downstream.shutdown(Shutdown::Both);
}

fn forward(
    upstream: &mut Option<TcpStream>,
    addr: SocketAddr,
    request: &[u8],
    stop: &AtomicBool,
) -> Option<Vec<u8>> {
    if upstream.is_none() {
        let s = TcpStream::connect(addr).ok()?;
        let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
        *upstream = Some(s);
    }
    let s = upstream.as_mut()?;
    write_frame(s, request).ok()?;
    read_frame(s, stop).ok().flatten()
}

fn rewrite(body: &[u8], edit: impl FnOnce(&mut Message)) -> Vec<u8> {
    match Frame::decode_body(body) {
        Ok(mut frame) => {
            edit(&mut frame.message);
            frame.encode_body().unwrap_or_else(|_| body.to_vec())
        }
        Err(_) => body.to_vec(),
    }
}

/// Fields 37 (an 12), 38 (an 6) and 39 (an 2) lie side by side in an approval; the second digit
/// of 39 sits 19 bytes after the RRN's first, so RRN byte 3 shares its offset in an 8-byte block.
fn compensated_decline(mut body: Vec<u8>) -> Vec<u8> {
    let Ok(frame) = Frame::decode_body(&body) else {
        return body;
    };
    let (Some(rrn), Some(auth)) = (frame.message.text(37), frame.message.text(38)) else {
        return body;
    };
    let run: Vec<u8> = [rrn.as_bytes(), auth.as_bytes(), b"00"].concat();
    if let Some(at) = body.windows(run.len()).position(|w| w == run.as_slice()) {
        let delta = b'0' ^ b'5';
        body[at + 19] ^= delta;
        body[at + 3] ^= delta;
    }
    body
}

/// An unsigned answer to `request` saying `code`, as an attacker would write it.
fn forged(request: &[u8], code: &str) -> Vec<u8> {
    let Ok(frame) = Frame::decode_body(request) else {
        return Vec::new();
    };
    let req = &frame.message;
    let mut resp = Message::new(&response_mti(req.mti()).unwrap_or_default());
    for n in [2u8, 3, 4, 11, 22, 25, 41, 42, 49, 60] {
        resp.copy_field_from(req, n);
    }
    resp.set_text(39, code);
    Frame {
        tpdu: frame.tpdu.swapped(),
        header: frame.header,
        message: resp,
    }
    .encode_body()
    .unwrap_or_default()
}
