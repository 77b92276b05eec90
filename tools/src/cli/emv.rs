//! `smartpos emv replay FILE [--json]`: runs the contact kernel against a recorded card (the
//! contactless kernels for `"interface": "contactless"`, in `emv_ctls.rs`).
//!
//! The replaying card answers each command with the first unused recorded pair whose C-APDU
//! starts with the same CLA INS P1 P2, and 6A82 when none is left. The file's unpredictable
//! number is the one the kernel uses for the whole transaction, so a capture's cryptograms come
//! out the same.
//!
//! Beyond the keys: `unmatched` lists the commands the recording had no answer for
//! (answered 6A82); `outcome` is `online` when the card asked for an ARQC and the file has no
//! `host`; a fallback is `terminated` with `fallback_<reason>`; an optional `ca_keys` array adds
//! CA keys (test CAs, retired keys) to the production table.

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;

use clap::Subcommand;
use serde::Deserialize;
use serde_json::{Value as Json, json};
use smartpos_core::card::Pan;
use smartpos_core::card::emv::{
    AcceptFirst, CaKeyVerifier, Completion, ContactKernel, CvmHandler, FirstAcDecision, HostAnswer,
    IccChannel, KernelConfig, KernelPorts, KernelSnapshot, OnlinePinEntry, RiskSource,
    TerminalParams, TransactionData, default_aids,
};
use smartpos_core::card::oda::{CaKeyAlgorithm, CaKeyTable, CaPublicKey};
use smartpos_core::crypto::{OfflinePinRequest, OfflinePinResult};
use smartpos_core::ports::DeviceFault;
use zeroize::Zeroizing;

use super::tlv::print_output;
use super::{CliError, CliResult};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the kernel against a recorded card (JSON: terminal, apdus, optional host).
    Replay {
        /// The recording: {"interface", "terminal", "apdus": [[C-APDU, R-APDU], …], "host"}.
        file: PathBuf,
        /// Print the run as JSON (commands, AID, ODA, TVR, TSI, CVM results, ACs, field 55,
        /// outcome, termination).
        #[arg(long)]
        json: bool,
    },
}

pub fn run(args: Args) -> CliResult {
    match args.command {
        Command::Replay { file, json } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| CliError::new(format!("{}: {e}", file.display())))?;
            let out = replay_text(&text)
                .map_err(|e| CliError::new(format!("{}: {e}", file.display())))?;
            if json {
                let s = serde_json::to_string_pretty(&out)
                    .map_err(|e| CliError::new(format!("JSON output: {e}")))?;
                print_output(&s)
            } else {
                print_output(&human(&out))
            }
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplayFile {
    interface: Interface,
    terminal: TerminalFields,
    apdus: Vec<(String, String)>,
    #[serde(default)]
    host: Option<HostFields>,
    /// CA public keys to add to the production table (test CAs, the simulator's keys).
    #[serde(default)]
    ca_keys: Vec<CaKeyField>,
    /// Free text: where the capture comes from.
    #[serde(default)]
    #[allow(dead_code)]
    source: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaKeyField {
    rid: String,
    index: String,
    modulus: String,
    #[serde(default)]
    exponent: String,
    /// "rsa" (default) or "sm2".
    #[serde(default)]
    algorithm: Option<String>,
}

fn ca_table(fields: &[CaKeyField]) -> Result<CaKeyTable, String> {
    let mut table = CaKeyTable::production().unwrap_or_default();
    for (i, k) in fields.iter().enumerate() {
        let bad = |what: &str| format!("ca_keys[{i}].{what}: not valid hex of the right length");
        let rid = <[u8; 5]>::try_from(hex::decode(&k.rid).map_err(|_| bad("rid"))?.as_slice())
            .map_err(|_| bad("rid"))?;
        let index =
            <[u8; 1]>::try_from(hex::decode(&k.index).map_err(|_| bad("index"))?.as_slice())
                .map_err(|_| bad("index"))?[0];
        let algorithm = match k.algorithm.as_deref() {
            None | Some("rsa") => CaKeyAlgorithm::Rsa,
            Some("sm2") => CaKeyAlgorithm::Sm2,
            Some(other) => {
                return Err(format!(
                    "ca_keys[{i}].algorithm: {other:?} is not rsa or sm2"
                ));
            }
        };
        let key = CaPublicKey::with_computed_checksum(
            rid,
            index,
            algorithm,
            hex::decode(&k.modulus).map_err(|_| bad("modulus"))?,
            hex::decode(&k.exponent).map_err(|_| bad("exponent"))?,
            "replay file",
        );
        table
            .insert(key)
            .map_err(|e| format!("ca_keys[{i}]: {e}"))?;
    }
    Ok(table)
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Interface {
    Contact,
    Contactless,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TerminalFields {
    amount_fen: u64,
    currency: String,
    country: String,
    date: String,
    time: String,
    unpredictable_number: String,
    transaction_type: String,
    #[serde(default)]
    amount_other_fen: Option<u64>,
    #[serde(default)]
    terminal_type: Option<String>,
    #[serde(default)]
    terminal_capabilities: Option<String>,
    #[serde(default)]
    application_version: Option<String>,
    #[serde(default)]
    floor_limit_fen: Option<u64>,
    #[serde(default)]
    pub(super) contactless_floor_limit_fen: Option<u64>,
    #[serde(default)]
    pub(super) contactless_limit_fen: Option<u64>,
    #[serde(default)]
    pub(super) cvm_required_limit_fen: Option<u64>,
    /// Kernel C-2's CVM capabilities over and under the CVM required limit (one hex byte each,
    /// coded as byte 2 of 9F33).
    #[serde(default)]
    pub(super) cvm_capability_cvm_required: Option<String>,
    #[serde(default)]
    pub(super) cvm_capability_no_cvm_required: Option<String>,
    #[serde(default)]
    tac_default: Option<String>,
    #[serde(default)]
    tac_denial: Option<String>,
    #[serde(default)]
    tac_online: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HostFields {
    #[serde(default)]
    response_code: Option<String>,
    #[serde(default)]
    issuer_authentication_data: Option<String>,
    #[serde(default)]
    issuer_scripts: Option<String>,
}

pub(super) fn fixed<const N: usize>(name: &str, text: &str) -> Result<[u8; N], String> {
    let v = hex::decode(text).map_err(|e| format!("terminal.{name}: {e}"))?;
    <[u8; N]>::try_from(v.as_slice())
        .map_err(|_| format!("terminal.{name}: expected {} hex digits", N * 2))
}

fn bcd_digits<const N: usize>(name: &str, text: &str) -> Result<[u8; N], String> {
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("terminal.{name}: digits only"));
    }
    fixed(name, text)
}

pub(super) fn config_and_txn(
    t: &TerminalFields,
) -> Result<(KernelConfig, TransactionData), String> {
    let mut terminal = TerminalParams::unionpay_attended();
    terminal.currency_code = bcd_digits("currency", &t.currency)?;
    terminal.country_code = bcd_digits("country", &t.country)?;
    if let Some(tt) = &t.terminal_type {
        terminal.terminal_type = fixed::<1>("terminal_type", tt)?[0];
    }
    if let Some(c) = &t.terminal_capabilities {
        terminal.capabilities = fixed("terminal_capabilities", c)?;
    }
    let mut aids = default_aids();
    for a in &mut aids {
        if let Some(v) = &t.application_version {
            a.application_version = fixed("application_version", v)?;
        }
        if let Some(f) = t.floor_limit_fen {
            a.floor_limit_fen = f;
            a.random_threshold_fen = 0;
        }
        // Random selection would make a replay depend on a draw; the replay draws 99.
        if let Some(v) = &t.tac_default {
            a.tac_default = fixed("tac_default", v)?;
        }
        if let Some(v) = &t.tac_denial {
            a.tac_denial = fixed("tac_denial", v)?;
        }
        if let Some(v) = &t.tac_online {
            a.tac_online = fixed("tac_online", v)?;
        }
    }
    let txn = TransactionData {
        amount_fen: t.amount_fen,
        other_amount_fen: t.amount_other_fen.unwrap_or(0),
        transaction_type: bcd_digits::<1>("transaction_type", &t.transaction_type)?[0],
        date: bcd_digits("date", &t.date)?,
        time: bcd_digits("time", &t.time)?,
        unpredictable_number: fixed("unpredictable_number", &t.unpredictable_number)?,
        sequence_counter: 1,
        merchant_forced_online: false,
    };
    Ok((KernelConfig { terminal, aids }, txn))
}

/// The recorded card.
pub(super) struct ReplayCard {
    pairs: Vec<(Vec<u8>, Vec<u8>, bool)>,
    commands: Vec<String>,
    unmatched: Vec<String>,
}

impl ReplayCard {
    fn answer(&mut self, c: &[u8]) -> Vec<u8> {
        self.commands.push(hex::encode_upper(c));
        let head = &c[..c.len().min(4)];
        let hit = self
            .pairs
            .iter_mut()
            .find(|(rc, _, used)| !*used && rc.len() >= 4 && head.len() == 4 && rc[..4] == *head);
        match hit {
            Some((_, r, used)) => {
                *used = true;
                r.clone()
            }
            None => {
                self.unmatched.push(hex::encode_upper(c));
                vec![0x6A, 0x82]
            }
        }
    }
}

pub(super) struct Channel(pub(super) Rc<RefCell<ReplayCard>>);

impl IccChannel for Channel {
    fn exchange(&mut self, c: &[u8]) -> Result<Zeroizing<Vec<u8>>, DeviceFault> {
        Ok(Zeroizing::new(self.0.borrow_mut().answer(c)))
    }
}

/// Online PIN is taken as entered; offline PIN is a VERIFY to the recorded card, whose answer
/// the kernel reads as the PED would report it.
struct ReplayPed(Rc<RefCell<ReplayCard>>);

impl CvmHandler for ReplayPed {
    fn online_pin(&mut self, _: &Pan, _: u64) -> Result<OnlinePinEntry, DeviceFault> {
        Ok(OnlinePinEntry::Entered)
    }
    fn offline_pin(&mut self, _: &OfflinePinRequest) -> Result<OfflinePinResult, DeviceFault> {
        let r = self.0.borrow_mut().answer(&[0x00, 0x20, 0x00, 0x80]);
        let n = r.len();
        let sw = if n >= 2 {
            u16::from_be_bytes([r[n - 2], r[n - 1]])
        } else {
            0x6F00
        };
        Ok(OfflinePinResult::CardAnswered { status_word: sw })
    }
}

struct NoRisk;

impl RiskSource for NoRisk {
    fn random_percent(&mut self) -> u8 {
        99
    }
    fn on_exception_file(&self, _: &Pan) -> bool {
        false
    }
}

fn host_answer(h: &HostFields) -> Result<HostAnswer, String> {
    let response_code = match &h.response_code {
        Some(rc) => Some(
            <[u8; 2]>::try_from(rc.as_bytes())
                .map_err(|_| "host.response_code: two characters".to_string())?,
        ),
        None => None,
    };
    let hexf = |name: &str, v: &Option<String>| -> Result<Option<Vec<u8>>, String> {
        v.as_deref()
            .map(|s| hex::decode(s).map_err(|e| format!("host.{name}: {e}")))
            .transpose()
    };
    Ok(HostAnswer {
        response_code,
        issuer_authentication_data: hexf(
            "issuer_authentication_data",
            &h.issuer_authentication_data,
        )?,
        issuer_scripts: hexf("issuer_scripts", &h.issuer_scripts)?.unwrap_or_default(),
    })
}

/// Parses the file and replays it; `Err` only for a malformed file.
pub fn replay_text(text: &str) -> Result<Json, String> {
    let file: ReplayFile =
        serde_json::from_str(text).map_err(|e| format!("not a replay file: {e}"))?;
    let (config, txn) = config_and_txn(&file.terminal)?;
    let mut pairs = Vec::new();
    for (i, (c, r)) in file.apdus.iter().enumerate() {
        let c = hex::decode(c).map_err(|e| format!("apdus[{i}] command: {e}"))?;
        let r = hex::decode(r).map_err(|e| format!("apdus[{i}] response: {e}"))?;
        if c.len() < 4 || r.len() < 2 {
            return Err(format!(
                "apdus[{i}]: a command needs CLA INS P1 P2, a response SW1 SW2"
            ));
        }
        pairs.push((c, r, false));
    }
    let host = file.host.as_ref().map(host_answer).transpose()?;
    let card = Rc::new(RefCell::new(ReplayCard {
        pairs,
        commands: Vec::new(),
        unmatched: Vec::new(),
    }));
    // The published production CA keys plus the file's own (a production table that fails its
    // checksums is a build defect caught by card::oda's tests; here it would only mean ODA
    // fails).
    let verifier = CaKeyVerifier {
        ca_keys: ca_table(&file.ca_keys)?,
        ..CaKeyVerifier::default()
    };
    if file.interface == Interface::Contactless {
        return super::emv_ctls::replay(&file.terminal, &card, host.as_ref(), &verifier);
    }
    let mut channel = Channel(card.clone());
    let mut ped = ReplayPed(card.clone());
    let mut risk = NoRisk;
    let ports = KernelPorts {
        chooser: &mut AcceptFirst,
        cvm: &mut ped,
        oda: &verifier,
        risk: &mut risk,
    };
    let (mut kernel, decision) = ContactKernel::start(&config, txn, &mut channel, ports);
    let (outcome, termination, field55): (&str, Option<String>, Vec<u8>) = match decision {
        FirstAcDecision::ApprovedOffline(r) => ("approved_offline", None, r.field55),
        FirstAcDecision::DeclinedOffline(r) => ("declined_offline", None, r.field55),
        FirstAcDecision::Online(r) => match &host {
            None => ("online", None, r.field55),
            Some(h) => {
                let rep = kernel.complete(h, &mut channel, &verifier);
                let (o, t) = match rep.completion {
                    Completion::ApprovedOnline => ("approved_online", None),
                    Completion::DeclinedOnline => ("declined_online", None),
                    Completion::CardDeclinedAfterApproval => (
                        "declined_online",
                        Some("card_declined_after_approval".into()),
                    ),
                    Completion::ApprovedUnableOnline => ("approved_offline", None),
                    Completion::DeclinedUnableOnline => ("declined_offline", None),
                    Completion::Terminated(r) => ("terminated", Some(r.code().to_string())),
                    _ => ("terminated", Some("unknown".into())),
                };
                (o, t, r.field55)
            }
        },
        FirstAcDecision::FallbackToMagstripe(r) => {
            let code = serde_json::to_value(r)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned));
            (
                "terminated",
                Some(format!("fallback_{}", code.unwrap_or_default())),
                Vec::new(),
            )
        }
        FirstAcDecision::Terminated(r) => ("terminated", Some(r.code().to_string()), Vec::new()),
        _ => (
            "terminated",
            Some("try_another_interface".into()),
            Vec::new(),
        ),
    };
    Ok(report(
        &card,
        Some(kernel.snapshot()),
        field55,
        outcome,
        termination.as_deref(),
    ))
}

pub(super) fn report(
    card: &Rc<RefCell<ReplayCard>>,
    snap: Option<KernelSnapshot>,
    field55: Vec<u8>,
    outcome: &str,
    termination: Option<&str>,
) -> Json {
    let card = card.borrow();
    let ac: Vec<Json> = snap
        .iter()
        .flat_map(|s| s.acs.iter())
        .map(|a| {
            json!({
                "requested": a.requested.name(),
                "cid": hex::encode_upper([a.cid]),
                "cryptogram": hex::encode_upper(a.cryptogram),
                "atc": hex::encode_upper(a.atc),
            })
        })
        .collect();
    json!({
        "commands": card.commands,
        "unmatched": card.unmatched,
        "aid": snap.as_ref().filter(|s| !s.aid.is_empty()).map(|s| hex::encode_upper(&s.aid)),
        "oda": {
            "method": snap.as_ref().map_or("none", |s| s.oda_method.name()),
            "result": snap.as_ref().map_or("not_performed", |s| match s.oda_result {
                smartpos_core::card::emv::OdaResult::Ok => "ok",
                smartpos_core::card::emv::OdaResult::Failed => "failed",
                smartpos_core::card::emv::OdaResult::NotPerformed => "not_performed",
            }),
        },
        "tvr": hex::encode_upper(snap.as_ref().map(|s| s.tvr.0).unwrap_or_default()),
        "tsi": hex::encode_upper(snap.as_ref().map(|s| s.tsi.0).unwrap_or_default()),
        "cvm_results": hex::encode_upper(snap.as_ref().map(|s| s.cvm_results).unwrap_or_default()),
        "ac": ac,
        "field55": hex::encode_upper(field55),
        "outcome": outcome,
        "termination": termination,
    })
}

fn human(out: &Json) -> String {
    let s = |k: &str| out[k].as_str().unwrap_or("-").to_owned();
    let mut lines = vec![
        format!("outcome: {}", s("outcome")),
        format!(
            "termination: {}",
            out["termination"].as_str().unwrap_or("none")
        ),
        format!("AID: {}", s("aid")),
        format!(
            "ODA: {} ({})",
            out["oda"]["method"].as_str().unwrap_or("-"),
            out["oda"]["result"].as_str().unwrap_or("-")
        ),
        format!(
            "TVR: {}  TSI: {}  CVM results: {}",
            s("tvr"),
            s("tsi"),
            s("cvm_results")
        ),
    ];
    for a in out["ac"].as_array().into_iter().flatten() {
        lines.push(format!(
            "GENERATE AC {}: CID {} AC {} ATC {}",
            a["requested"].as_str().unwrap_or("-"),
            a["cid"].as_str().unwrap_or("-"),
            a["cryptogram"].as_str().unwrap_or("-"),
            a["atc"].as_str().unwrap_or("-"),
        ));
    }
    lines.push(format!(
        "commands: {} sent, {} without a recorded answer",
        out["commands"].as_array().map_or(0, Vec::len),
        out["unmatched"].as_array().map_or(0, Vec::len)
    ));
    lines.join("\n")
}
