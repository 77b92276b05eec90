//! The message log: `smartpos sim --log FILE|-` and `--trace FILE` on the commands that talk to
//! an acquirer write every ISO 8583 message as `decode` shows it (PAN masked 6+4; track, PIN
//! block, field 55's card data and field 62's keys redacted), each headed by one line:
//!
//! ```text
//! 2026-12-04T05:30:01.123Z #4711-3 127.0.0.1:5800 request 0200 STAN 000123 (114 bytes)
//! 2026-12-04T05:30:01.140Z #4711-3 127.0.0.1:5800 response 0210 STAN 000123 (99 bytes) round trip 17 ms
//! 2026-12-04T05:30:02.001Z #4711-4 127.0.0.1:5800 no answer after 60000 ms: ...
//! ```
//!
//! `#P-N` names the connection: P the writing process's id (several runs can append to one
//! file), N its connections in order (one per exchange on the terminal side; the simulator
//! counts the connections it accepted); then the peer. Field lines follow their head
//! line indented by four spaces. A record is flushed whole, so `tail -f` shows it at once.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use smartpos_core::codec::iso8583::cups::Frame;
use smartpos_core::host::{MessageTap, TapEvent};

use super::CliError;
use super::decode::dump_for_log;

/// Where the records go, shared by every connection's thread.
pub struct MessageLog {
    out: Mutex<Box<dyn Write + Send>>,
    /// The peer the terminal side talks to (its `--host`); the simulator names each connection's.
    peer: String,
    pid: u32,
}

impl std::fmt::Debug for MessageLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessageLog")
            .field("peer", &self.peer)
            .finish_non_exhaustive()
    }
}

impl MessageLog {
    /// Appends to `path`, or writes to standard output for `-`. The file is created readable
    /// by its owner only: it is masked, but it is still a record of the business.
    pub fn open(path: &Path, peer: &str) -> Result<MessageLog, CliError> {
        let out: Box<dyn Write + Send> = if path == Path::new("-") {
            Box::new(std::io::stdout())
        } else {
            use std::os::unix::fs::OpenOptionsExt;
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o600)
                .open(path)
                .map_err(|e| CliError::new(format!("message log {}: {e}", path.display())))?;
            Box::new(std::io::BufWriter::new(file))
        };
        Ok(MessageLog::to_writer(out, peer))
    }

    pub fn to_writer(out: Box<dyn Write + Send>, peer: &str) -> MessageLog {
        MessageLog {
            out: Mutex::new(out),
            peer: peer.to_owned(),
            pid: std::process::id(),
        }
    }

    /// A request of connection `conn` from or to `peer`.
    pub fn request(&self, conn: u64, peer: &str, body: &[u8]) {
        self.record(
            &format!("#{}-{conn} {peer} request {}", self.pid, headline(body)),
            Some(body),
        );
    }

    /// The answer on connection `conn`, `round_trip` after its request.
    pub fn response(&self, conn: u64, peer: &str, body: &[u8], round_trip: Duration) {
        self.record(
            &format!(
                "#{}-{conn} {peer} response {} round trip {} ms",
                self.pid,
                headline(body),
                round_trip.as_millis()
            ),
            Some(body),
        );
    }

    /// No answer on connection `conn`: why (a timeout, a closed connection), after how long.
    pub fn no_answer(&self, conn: u64, peer: &str, why: &str, after: Duration) {
        self.record(
            &format!(
                "#{}-{conn} {peer} no answer after {} ms: {why}",
                self.pid,
                after.as_millis()
            ),
            None,
        );
    }

    fn record(&self, head: &str, body: Option<&[u8]>) {
        let mut text = format!("{} {head}\n", utc_now());
        if let Some(body) = body {
            for line in dump_for_log(body).lines() {
                text.push_str("    ");
                text.push_str(line);
                text.push('\n');
            }
        }
        let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
        // A log that cannot be written must not fail a payment; the operator sees the file stop.
        let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
    }
}

impl MessageTap for MessageLog {
    fn observe(&self, event: &TapEvent<'_>) {
        match event {
            TapEvent::Request { exchange, body } => self.request(*exchange, &self.peer, body),
            TapEvent::Response {
                exchange,
                body,
                round_trip,
            } => self.response(*exchange, &self.peer, body, *round_trip),
            TapEvent::Failed {
                exchange,
                error,
                after,
            } => self.no_answer(*exchange, &self.peer, &error.to_string(), *after),
            _ => {}
        }
    }
}

/// MTI, STAN and length of a frame body; the length alone when it does not decode.
fn headline(body: &[u8]) -> String {
    match Frame::decode_body(body) {
        Ok(f) => format!(
            "{} STAN {} ({} bytes)",
            f.message.mti(),
            f.message.text(11).unwrap_or("-"),
            body.len()
        ),
        Err(_) => format!("undecodable ({} bytes)", body.len()),
    }
}

/// Now as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
fn utc_now() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    utc(now)
}

fn utc(since_epoch: Duration) -> String {
    let secs = since_epoch.as_secs();
    let (y, m, d) = smartpos_core::calendar::civil_from_days((secs / 86_400) as i64);
    let t = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        t / 3600,
        t / 60 % 60,
        t % 60,
        since_epoch.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc_with_milliseconds() {
        assert_eq!(utc(Duration::from_millis(0)), "1970-01-01T00:00:00.000Z");
        // 2000-03-01 is day 11017 (the leap day before it is the algorithm's edge).
        assert_eq!(
            utc(Duration::from_millis(11_017 * 86_400_000 + 3_723_004)),
            "2000-03-01T01:02:03.004Z"
        );
        assert_eq!(
            utc(Duration::from_secs(1_796_361_311)),
            "2026-12-04T05:15:11.000Z"
        );
    }
}
