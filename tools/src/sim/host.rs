//! The acquirer host's logic: decode a request, check its MAC and PIN, move money in the ledger,
//! and answer in the same dialect. Networking lives in `server`; this part is pure and testable.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use smartpos_core::codec::iso8583::cups::{Field48Totals, Field60, Field61, SideTotals, mac_input};
use smartpos_core::codec::iso8583::{Frame, Message, response_mti};
use smartpos_core::crypto::{
    self, EncryptedPinBlock, KeyAlgorithm, MacAlgorithm, PinBlockFormat, SecretKey,
};
use smartpos_core::txn::TxnKind;
use smartpos_core::txn::track_cipher::decipher_track;

mod chip_uploads;
mod esign_upload;

use super::faults::{Fault, FaultPlan, Matcher};
use super::issuer::Issuer;
use super::ledger::{CardInput, Ledger, MsgRef, OriginalRef, Reply, Totals, UploadLine};

/// What the server does with a connection after a request.
#[derive(Debug)]
pub enum Action {
    Reply(Vec<u8>),
    ReplyAfter(Duration, Vec<u8>),
    /// Keep the connection open and never answer.
    Silent,
    /// Close without answering.
    Close,
}

/// Working keys the host issued to one terminal at its last sign-on.
struct IssuedKeys {
    pik: SecretKey,
    mak: SecretKey,
    /// Issued when the acquirer wants track data enciphered.
    tdk: Option<SecretKey>,
}

struct TerminalSession {
    keys: Option<IssuedKeys>,
    batch_no: u32,
    sign_ons: u32,
}

/// The simulated acquirer: one ledger, one TMK per terminal (all terminals share the demo TMK
/// unless registered otherwise), scriptable faults.
pub struct Acquirer {
    ledger: Mutex<Ledger>,
    sessions: Mutex<HashMap<String, TerminalSession>>,
    tmk: SecretKey,
    faults: FaultPlan,
    ledger_path: Option<PathBuf>,
    /// Added to the host's clock in fields 12/13 of echo answers (clock-drift tests).
    clock_skew_ms: AtomicI64,
    /// The MAC this acquirer checks and answers with (its dialect); X9.19 unless told otherwise.
    mac: MacAlgorithm,
    /// Track data must come enciphered under the TDK it issues (field 53.3 = 1).
    track_encryption: bool,
    /// Every frame that reached the host, readable or not: what a test checks to prove that a
    /// refused TLS session delivered nothing.
    frames_received: AtomicU64,
    /// Checks chip cards' ARQCs and answers ARPCs and scripts (field 55).
    issuer: Issuer,
    /// The chip tables terminals download (IC parameters, CA keys).
    ic_params: super::ic_params::IcParamServer,
    /// Accepted e-signatures (`with_esign_dir`).
    esign: Mutex<Option<super::esign::EsignInbox>>,
}

impl std::fmt::Debug for Acquirer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Acquirer").finish_non_exhaustive()
    }
}

/// Response codes.
const APPROVED: &str = "00";
const FORMAT_ERROR: &str = "30";
const MAC_ERROR: &str = "A0";
const SIGN_ON_AGAIN: &str = "77";
const INVALID_TXN: &str = "12";
const SYSTEM_FAULT: &str = "96";

impl Acquirer {
    pub fn new(ledger: Ledger, tmk: SecretKey) -> Self {
        Acquirer {
            ledger: Mutex::new(ledger),
            sessions: Mutex::new(HashMap::new()),
            tmk,
            faults: FaultPlan::default(),
            ledger_path: None,
            clock_skew_ms: AtomicI64::new(0),
            mac: MacAlgorithm::X919,
            track_encryption: false,
            frames_received: AtomicU64::new(0),
            issuer: Issuer::new(),
            ic_params: super::ic_params::IcParamServer::new(),
            esign: Mutex::new(None),
        }
    }

    /// Issues a TDK at sign-on and accepts track data only enciphered under it; a clear track
    /// is answered 30 (format error) without acting on it.
    pub fn with_track_encryption(mut self, on: bool) -> Self {
        self.track_encryption = on;
        self
    }

    /// Checks and answers with `mac` instead of X9.19; a request MACed otherwise gets A0.
    pub fn with_mac(mut self, mac: MacAlgorithm) -> Self {
        self.mac = mac;
        self
    }

    /// Keeps the ledger on disk: saved after every change that moves money.
    pub fn with_ledger_file(mut self, path: PathBuf) -> Self {
        self.ledger_path = Some(path);
        self
    }

    /// Makes the host's clock run `skew_ms` ahead (negative: behind) of the machine's.
    pub fn set_clock_skew_ms(&self, skew_ms: i64) {
        self.clock_skew_ms.store(skew_ms, Ordering::Relaxed);
    }

    pub fn faults(&self) -> &FaultPlan {
        &self.faults
    }

    pub fn inject(&self, matcher: Matcher, fault: Fault) {
        self.faults.push(matcher, fault);
    }

    /// How many times this terminal has signed on.
    pub fn sign_ons(&self, terminal_id: &str) -> u32 {
        self.sessions().get(terminal_id).map_or(0, |s| s.sign_ons)
    }

    /// How many frames reached the host since it started.
    pub fn frames_received(&self) -> u64 {
        self.frames_received.load(Ordering::SeqCst)
    }

    /// The issuer side: queue scripts for a chip card here.
    pub fn issuer(&self) -> &Issuer {
        &self.issuer
    }

    /// The IC parameters and CA keys terminals download; scripted faults for them here.
    pub fn ic_params(&self) -> &super::ic_params::IcParamServer {
        &self.ic_params
    }

    pub fn ledger(&self) -> MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn sessions(&self) -> MutexGuard<'_, HashMap<String, TerminalSession>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Handles one frame body (TPDU onward) and says what to send back.
    pub fn handle(&self, body: &[u8]) -> Action {
        self.frames_received.fetch_add(1, Ordering::SeqCst);
        let frame = match Frame::decode_body(body) {
            Ok(f) => f,
            Err(e) => {
                log::warn!("sim: undecodable request: {e}");
                return Action::Close;
            }
        };
        let mti = frame.message.mti().to_string();
        let fault = self.faults.take_for(&mti);
        let (apply, reply_fault) = match &fault {
            Some(Fault::Maintenance { code }) | Some(Fault::Decline { code }) => {
                let mut resp = echo(&frame.message);
                resp.set_text(39, code);
                // A host that holds the terminal's keys MACs every answer, declines included.
                let tid = resp.field_text(41).unwrap_or_default();
                let resp = self.mac_response(&tid, resp);
                return Action::Reply(self.encode(&frame, resp));
            }
            Some(Fault::NoResponse { apply }) => (*apply, fault.clone()),
            Some(_) => (true, fault.clone()),
            None => (true, None),
        };
        let response = match (&reply_fault, apply) {
            (Some(Fault::IssueKeys { pik_hex, mak_hex }), _) if mti == "0800" => {
                let chosen = [pik_hex, mak_hex].map(|h| {
                    let algorithm = if h.len() == 16 {
                        KeyAlgorithm::Des
                    } else {
                        KeyAlgorithm::Tdes
                    };
                    SecretKey::from_hex(algorithm, h)
                });
                match chosen {
                    [Ok(pik), Ok(mak)] => Some(self.sign_on_with(&frame.message, Some((pik, mak)))),
                    _ => None,
                }
            }
            (_, true) => self.process(&frame.message),
            (_, false) => None,
        };
        match reply_fault {
            Some(Fault::NoResponse { .. }) => Action::Silent,
            Some(Fault::DropAfterRead) => Action::Close,
            Some(Fault::Garbled) => Action::Reply(b"\x60\x00\x00garbage\xff\xff".to_vec()),
            Some(Fault::LateResponse { delay }) => match response {
                Some(r) => Action::ReplyAfter(delay, self.encode(&frame, r)),
                None => Action::Close,
            },
            Some(Fault::AlterField { field, value }) => match response {
                Some(mut r) => {
                    r.set_text(field, &value);
                    let tid = r.field_text(41).unwrap_or_default();
                    // Re-MAC so that only the altered field is wrong.
                    Action::Reply(self.encode(&frame, self.mac_response(&tid, r)))
                }
                None => Action::Close,
            },
            Some(Fault::WrongMac) => match response {
                Some(mut r) => {
                    r.set_bytes(64, vec![0x5A; 8]);
                    Action::Reply(self.encode(&frame, r))
                }
                None => Action::Close,
            },
            _ => match response {
                Some(r) => Action::Reply(self.encode(&frame, r)),
                None => Action::Close,
            },
        }
    }

    fn encode(&self, request: &Frame, message: Message) -> Vec<u8> {
        let reply = Frame {
            tpdu: request.tpdu.swapped(),
            header: request.header,
            message,
        };
        reply.encode_body().unwrap_or_default()
    }

    /// Acts on a request; `None` when it cannot even be answered.
    pub fn process(&self, req: &Message) -> Option<Message> {
        if let Some(resp) = self.ic_params.answer(req) {
            return Some(resp);
        }
        let resp = match req.mti() {
            "0800" => self.sign_on(req),
            "0820" if is_esign_upload(req) => self.esign_upload(req),
            "0820" => self.network(req),
            "0100" | "0200" | "0220" => self.financial(req),
            "0221" => self.advice_repeat(req),
            "0400" => self.reversal(req),
            "0500" => self.settlement(req),
            "0320" => self.batch_upload(req),
            "0620" => self.script_result(req),
            _ => return None,
        };
        if let Some(Err(e)) = self.ledger_path.as_ref().map(|p| self.ledger().save(p)) {
            log::error!("sim: ledger not saved: {e}");
        }
        Some(resp)
    }

    fn sign_on(&self, req: &Message) -> Message {
        self.sign_on_with(req, None)
    }

    /// A sign-on answer carrying `keys`, or fresh random double-length keys.
    fn sign_on_with(&self, req: &Message, keys: Option<(SecretKey, SecretKey)>) -> Message {
        let tid = req.field_text(41).unwrap_or_default();
        let mut resp = echo(req);
        let keys = match keys {
            Some(k) => Ok(k),
            None => random_key().and_then(|pik| Ok((pik, random_key()?))),
        };
        let Ok((pik, mak)) = keys else {
            resp.set_text(39, SYSTEM_FAULT);
            return resp;
        };
        let tdk = if self.track_encryption {
            match random_key() {
                Ok(k) => Some(k),
                Err(_) => {
                    resp.set_text(39, SYSTEM_FAULT);
                    return resp;
                }
            }
        } else {
            None
        };
        let mut field62 = Vec::with_capacity(60);
        for key in [Some(&pik), Some(&mak), tdk.as_ref()].into_iter().flatten() {
            let encrypted = crypto::ecb_encrypt(&self.tmk, key.expose_secret());
            let check = crypto::unionpay_check_value(key);
            let (Ok(encrypted), Ok(check)) = (encrypted, check) else {
                resp.set_text(39, SYSTEM_FAULT);
                return resp;
            };
            field62.extend_from_slice(&encrypted);
            field62.extend_from_slice(&check);
        }
        let mut sessions = self.sessions();
        let session = sessions.entry(tid).or_insert(TerminalSession {
            keys: None,
            batch_no: 1,
            sign_ons: 0,
        });
        session.keys = Some(IssuedKeys { pik, mak, tdk });
        session.sign_ons += 1;
        let f60 = Field60 {
            type_code: "00".into(),
            batch_no: session.batch_no,
            net_mgmt: "004".into(),
            read_capability: None,
            ic_condition: None,
            tail: String::new(),
        };
        resp.set_digits(60, &f60.to_digits());
        resp.set_bytes(62, field62);
        resp.set_text(39, APPROVED);
        resp
    }

    /// Echo and other network management: answered with the host's time in fields 12/13, which
    /// the terminal's health check compares against its own clock.
    fn network(&self, req: &Message) -> Message {
        let mut resp = echo(req);
        let skew = self.clock_skew_ms.load(Ordering::Relaxed);
        let now = SystemTime::now();
        let host_time = if skew >= 0 {
            now + Duration::from_millis(skew.unsigned_abs())
        } else {
            now - Duration::from_millis(skew.unsigned_abs())
        };
        let (time, date) = smartpos_core::txn::local_time_fields(host_time);
        resp.set_digits(12, &time);
        resp.set_digits(13, &date);
        resp.set_text(39, APPROVED);
        resp
    }

    fn financial(&self, req: &Message) -> Message {
        let resp = echo(req);
        let tid = req.field_text(41).unwrap_or_default();
        if let Err(code) = self.verify_request_mac(&tid, req) {
            let mut resp = resp;
            resp.set_text(39, code);
            return resp;
        }
        self.answer_financial(req, resp, &tid)
    }

    /// Acts on a financial request whose MAC has been verified.
    fn answer_financial(&self, req: &Message, mut resp: Message, tid: &str) -> Message {
        // A chip card's ARQC is checked before any money moves; a wrong one is declined.
        let chip = match self
            .issuer
            .check_request(req, || self.request_pan(tid, req).ok())
        {
            Some(Err(e)) => {
                log::warn!("sim: chip check refused: {e}");
                resp.set_text(39, e.response_code());
                return self.mac_response(tid, resp);
            }
            Some(Ok(verified)) => Some(verified),
            None => None,
        };
        let reply = match identify(req) {
            Some(kind) => self.apply_financial(kind, tid, req),
            None => Err(INVALID_TXN),
        };
        match reply {
            Ok(Reply::Approved(done)) => {
                resp.set_text(37, &done.rrn);
                resp.set_text(38, &done.auth_code);
                if let Some(balance) = done.balance_fen {
                    resp.set_text(54, &balance_field(balance));
                }
                resp.set_text(39, APPROVED);
            }
            Ok(declined) => resp.set_text(39, declined.response_code()),
            Err(code) => resp.set_text(39, code),
        }
        if let Some(verified) = &chip {
            let code = resp.field_text(39).unwrap_or_default();
            resp.set_bytes(55, self.issuer.answer_field55(verified, &code));
        }
        self.mac_response(tid, resp)
    }

    fn apply_financial(
        &self,
        kind: TxnKind,
        tid: &str,
        req: &Message,
    ) -> Result<Reply, &'static str> {
        let stan: u32 = req
            .text(11)
            .and_then(|s| s.parse().ok())
            .ok_or(FORMAT_ERROR)?;
        let amount: u64 = req.text(4).and_then(|a| a.parse().ok()).unwrap_or(0);
        let batch_no = batch_of(req);
        let key = MsgRef::new(tid, batch_no, stan);
        let original = req
            .text(61)
            .and_then(|d| Field61::parse(d).ok())
            .map(|o| OriginalRef {
                batch_no: o.batch_no,
                stan: o.stan,
                rrn: req.field_text(37).unwrap_or_default(),
            });
        let card = || -> Result<CardInput, &'static str> {
            let pan = self.request_pan(tid, req)?;
            let pin = match req.bytes(52) {
                Some(block) => Some(self.decrypt_pin(tid, block, &pan).ok_or("99")?),
                None => None,
            };
            Ok(CardInput { pan, pin })
        };
        if kind == TxnKind::OfflineSale {
            return self.offline_sale(tid, req, &key, amount);
        }
        let mut ledger = self.ledger();
        let reply = match kind {
            TxnKind::Sale => ledger.sale(&key, &card()?, amount),
            TxnKind::Balance => ledger.balance_inquiry(&key, &card()?),
            TxnKind::PreAuth => ledger.preauth(&key, &card()?, amount),
            TxnKind::Refund => ledger.refund(&key, &card()?, amount),
            TxnKind::Void => ledger.void_sale(&key, &original.ok_or(FORMAT_ERROR)?, amount),
            TxnKind::CompletionVoid => {
                ledger.void_completion(&key, &original.ok_or(FORMAT_ERROR)?, amount)
            }
            TxnKind::PreAuthVoid => {
                ledger.void_preauth(&key, &original.ok_or(FORMAT_ERROR)?, amount)
            }
            TxnKind::Completion => ledger.completion(&key, &original.ok_or(FORMAT_ERROR)?, amount),
            _ => return Err(INVALID_TXN),
        };
        Ok(reply)
    }

    /// A repeated advice (0221): the answer already given if the original arrived, else the
    /// advice is acted on now as the 0220 it repeats.
    fn advice_repeat(&self, req: &Message) -> Message {
        let tid = req.field_text(41).unwrap_or_default();
        let mut resp = echo(req);
        if let Err(code) = self.verify_request_mac(&tid, req) {
            resp.set_text(39, code);
            return resp;
        }
        let stan = req.text(11).and_then(|s| s.parse().ok()).unwrap_or(0);
        let known = self
            .ledger()
            .repeat(&MsgRef::new(&tid, batch_of(req), stan));
        match known {
            Some(reply) => {
                if let Reply::Approved(done) = &reply {
                    resp.set_text(37, &done.rrn);
                    resp.set_text(38, &done.auth_code);
                }
                resp.set_text(39, reply.response_code());
                self.mac_response(&tid, resp)
            }
            None => {
                let mut original = req.clone();
                original.set_mti("0220");
                self.answer_financial(&original, resp, &tid)
            }
        }
    }

    fn reversal(&self, req: &Message) -> Message {
        let mut resp = echo(req);
        let tid = req.field_text(41).unwrap_or_default();
        if let Err(code) = self.verify_request_mac(&tid, req) {
            resp.set_text(39, code);
            return resp;
        }
        // A UnionPay reversal carries the original's STAN in field 11.
        let Some(stan) = req.text(11).and_then(|s| s.parse().ok()) else {
            resp.set_text(39, FORMAT_ERROR);
            return self.mac_response(&tid, resp);
        };
        let original = MsgRef::new(&tid, batch_of(req), stan);
        let reply = self.ledger().reverse(&original, stan);
        resp.set_text(39, reply.response_code());
        self.mac_response(&tid, resp)
    }

    fn settlement(&self, req: &Message) -> Message {
        let mut resp = echo(req);
        let tid = req.field_text(41).unwrap_or_default();
        if let Err(code) = self.verify_request_mac(&tid, req) {
            resp.set_text(39, code);
            return resp;
        }
        let Some(theirs) = req
            .field_text(48)
            .and_then(|d| Field48Totals::parse(&d).ok())
        else {
            resp.set_text(39, FORMAT_ERROR);
            return self.mac_response(&tid, resp);
        };
        let batch_no = batch_of(req);
        let terminal = Totals {
            debit_count: theirs.domestic.debit_count,
            debit_fen: theirs.domestic.debit_amount,
            credit_count: theirs.domestic.credit_count,
            credit_fen: theirs.domestic.credit_amount,
        };
        let settled = self.ledger().settle(&tid, batch_no, &terminal);
        let agree = settled.balanced;
        // Unbalanced: the host answers with its own totals, so the terminal can say which differ.
        let ours = &settled.host;
        let answer = Field48Totals {
            domestic: SideTotals {
                debit_count: ours.debit_count,
                debit_amount: ours.debit_fen,
                credit_count: ours.credit_count,
                credit_amount: ours.credit_fen,
                reconciliation: if agree { '1' } else { '2' },
            },
            foreign: SideTotals {
                reconciliation: '1',
                ..theirs.foreign
            },
        };
        resp.set_digits(48, &answer.to_digits());
        if agree {
            self.close_batch(&tid, batch_no);
        }
        resp.set_text(39, APPROVED);
        self.mac_response(&tid, resp)
    }

    fn batch_upload(&self, req: &Message) -> Message {
        let mut resp = echo(req);
        let tid = req.field_text(41).unwrap_or_default();
        if let Err(code) = self.verify_request_mac(&tid, req) {
            resp.set_text(39, code);
            return resp;
        }
        let f60 = req.text(60).and_then(|d| Field60::parse(d).ok());
        match f60 {
            Some(f60) if f60.net_mgmt == "203" => {
                let code = self.tc_upload(&tid, req, &f60);
                resp.set_text(39, code);
                return self.mac_response(&tid, resp);
            }
            Some(f60) if f60.net_mgmt == "202" => {
                // The end of the batch upload: the terminal's lines are the record the
                // acquirer settles by.
                self.close_batch(&tid, f60.batch_no);
            }
            Some(f60) => {
                let lines = upload_lines(req.text(48).unwrap_or(""));
                let report = self.ledger().batch_upload(&tid, f60.batch_no, &lines);
                if !report.mismatched.is_empty() {
                    log::warn!(
                        "sim: batch upload of {tid}: unmatched STANs {:?}",
                        report.mismatched
                    );
                }
            }
            None => {
                resp.set_text(39, FORMAT_ERROR);
                return self.mac_response(&tid, resp);
            }
        }
        resp.set_text(39, APPROVED);
        self.mac_response(&tid, resp)
    }

    fn close_batch(&self, tid: &str, batch_no: u32) {
        self.ledger().close_batch(tid, batch_no);
        if let Some(s) = self.sessions().get_mut(tid) {
            s.batch_no = batch_no + 1;
        }
    }

    fn verify_request_mac(&self, tid: &str, req: &Message) -> Result<(), &'static str> {
        let sessions = self.sessions();
        let Some(keys) = sessions.get(tid).and_then(|s| s.keys.as_ref()) else {
            return Err(SIGN_ON_AGAIN);
        };
        let (Some(tag), Ok(input)) = (req.bytes(64), mac_input(req)) else {
            return Err(MAC_ERROR);
        };
        match crypto::verify_mac(self.mac, &keys.mak, &input, tag) {
            Ok(true) => Ok(()),
            _ => Err(MAC_ERROR),
        }
    }

    fn mac_response(&self, tid: &str, mut resp: Message) -> Message {
        if resp.field_text(39).as_deref() == Some(MAC_ERROR) {
            return resp;
        }
        let sessions = self.sessions();
        if let Some(keys) = sessions.get(tid).and_then(|s| s.keys.as_ref()) {
            resp.set_bytes(64, vec![0; 8]);
            let tag = mac_input(&resp)
                .ok()
                .and_then(|input| crypto::compute_mac(self.mac, &keys.mak, &input).ok());
            if let Some(tag) = tag {
                resp.set_bytes(64, tag.to_vec());
            }
        }
        resp
    }

    fn decrypt_pin(&self, tid: &str, block: &[u8], pan: &str) -> Option<String> {
        let sessions = self.sessions();
        let keys = sessions.get(tid)?.keys.as_ref()?;
        let encrypted = EncryptedPinBlock::from_bytes(PinBlockFormat::Iso0, block).ok()?;
        let clear = encrypted.decrypt(&keys.pik, pan).ok()?;
        clear.decode_pin(pan).ok().map(|p| p.to_string())
    }
}

/// The fields a response echoes from its request.
fn echo(req: &Message) -> Message {
    let mti = response_mti(req.mti()).unwrap_or_default();
    let mut resp = Message::new(&mti);
    for n in [2u8, 3, 4, 11, 14, 22, 23, 25, 41, 42, 49, 60, 61, 63] {
        resp.copy_field_from(req, n);
    }
    resp
}

fn is_esign_upload(req: &Message) -> bool {
    req.text(60)
        .and_then(|d| Field60::parse(d).ok())
        .is_some_and(|f| f.net_mgmt == smartpos_core::esign::wire::NET_CODE)
}

fn batch_of(req: &Message) -> u32 {
    req.text(60)
        .and_then(|d| Field60::parse(d).ok())
        .map_or(0, |f| f.batch_no)
}

/// Field 48 of a batch-upload 0320 (see `smartpos_core::txn::upload_digits`): count n2, then
/// type code n2 + STAN n6 + amount n12 per line.
fn upload_lines(digits: &str) -> Vec<UploadLine> {
    digits
        .get(2..)
        .unwrap_or("")
        .as_bytes()
        .chunks(20)
        .filter_map(|line| {
            let line = std::str::from_utf8(line).ok()?;
            Some(UploadLine {
                stan: line.get(2..8)?.parse().ok()?,
                amount_fen: line.get(8..20)?.parse().ok()?,
            })
        })
        .collect()
}

fn identify(req: &Message) -> Option<TxnKind> {
    let type_code = req.text(60).and_then(|d| Field60::parse(d).ok())?.type_code;
    TxnKind::identify(req.mti(), req.text(3)?, &type_code)
}

impl Acquirer {
    /// The PAN from field 2, or from track 2 when the card was swiped — deciphered with the TDK
    /// when field 53.3 says the track is enciphered. A clear track where this acquirer wants it
    /// enciphered is a format error (30); an unreadable card number, 14.
    fn request_pan(&self, tid: &str, req: &Message) -> Result<String, &'static str> {
        if let Some(p) = req.text(2) {
            return Ok(p.to_string());
        }
        let t2 = req.text(35).ok_or("14")?;
        let enciphered = req
            .text(53)
            .is_some_and(|f53| f53.as_bytes().get(2) == Some(&b'1'));
        let t2 = match (enciphered, self.track_encryption) {
            (false, true) => return Err(FORMAT_ERROR),
            (false, false) => t2.to_string(),
            (true, _) => {
                let sessions = self.sessions();
                let tdk = sessions
                    .get(tid)
                    .and_then(|s| s.keys.as_ref())
                    .and_then(|k| k.tdk.as_ref())
                    .ok_or(FORMAT_ERROR)?;
                decipher_track(t2, |b| {
                    crypto::ecb_decrypt(tdk, b)
                        .map(|z| z.to_vec())
                        .map_err(|e| e.to_string())
                })
                .map_err(|_| FORMAT_ERROR)?
            }
        };
        let end = t2.find(['=', 'D']).ok_or("14")?;
        Ok(t2[..end].to_string())
    }
}

fn balance_field(fen: i64) -> String {
    let sign = if fen < 0 { 'D' } else { 'C' };
    format!("1002156{sign}{:012}", fen.unsigned_abs())
}

fn random_key() -> Result<SecretKey, crypto::CryptoError> {
    SecretKey::random(KeyAlgorithm::Tdes, 16)
}
