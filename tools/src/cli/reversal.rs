//! `smartpos reversal list --journal DB [--json]` and `smartpos reversal release --journal DB
//! --id N [--json]`: the reversals a journal still owes the acquirer, and the operator's way to
//! release one parked after its attempts once it has been settled with the acquirer by other
//! means (a call, the acquirer's portal). Releasing is journaled and the reversal stays listed
//! as `released`; nothing is ever dropped silently.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use smartpos_core::store::{Journal, ReversalState};
use smartpos_core::txn::OwedReversal;

use super::{CliError, CliResult};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// The reversals still owed (pending) and those parked for the operator (failed).
    List {
        /// Journal database of the terminal.
        #[arg(long)]
        journal: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Release a parked reversal the acquirer has confirmed by other means: it stops blocking
    /// settlement and stays listed as released.
    Release {
        /// Journal database of the terminal.
        #[arg(long)]
        journal: PathBuf,
        /// The transaction id `reversal list` shows.
        #[arg(long)]
        id: i64,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// One reversal in the `--json` listing.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub id: i64,
    pub attempt_id: String,
    pub kind: &'static str,
    pub amount_fen: u64,
    pub stan: String,
    /// The batch number, as every command's JSON carries it (`batch_no`, a number).
    pub batch_no: u32,
    pub pan_masked: Option<String>,
    /// The reason code the 0400 carries: 98, A0, 06, 96.
    pub reason: String,
    /// owed | parked
    pub state: &'static str,
    pub attempts: u32,
    pub last_error: Option<String>,
    /// For a parked one: the termination code, what the merchant is told, and what to do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub termination_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merchant_zh: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merchant_en: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Listing {
    pub reversals: Vec<Entry>,
    pub owed: usize,
    pub parked: usize,
}

fn entry(r: &OwedReversal) -> Entry {
    Entry {
        id: r.transaction_id,
        attempt_id: r.attempt_id.clone(),
        kind: r.kind.as_str(),
        amount_fen: r.amount_fen,
        stan: format!("{:06}", r.stan),
        batch_no: r.batch_no,
        pan_masked: r.pan_masked.clone(),
        reason: r.reason.clone(),
        state: if r.parked.is_some() { "parked" } else { "owed" },
        attempts: r.attempts,
        last_error: r.last_error.clone(),
        termination_code: r.parked.as_ref().map(|t| t.code.to_string()),
        merchant_zh: r.parked.as_ref().map(|t| t.merchant_zh.clone()),
        merchant_en: r.parked.as_ref().map(|t| t.merchant_en.clone()),
    }
}

pub fn run(args: Args) -> CliResult {
    match args.command {
        Command::List { journal, json } => list(&journal, json),
        Command::Release { journal, id, json } => release(&journal, id, json),
    }
}

fn list(db: &std::path::Path, json: bool) -> CliResult {
    super::existing_journal(db, None)?;
    let fail = |e: smartpos_core::store::StoreError| CliError::journal(db, &e);
    let journal = Journal::open_read_only(db).map_err(fail)?;
    let reversals: Vec<Entry> = OwedReversal::list(&journal)
        .map_err(fail)?
        .iter()
        .map(entry)
        .collect();
    let parked = reversals.iter().filter(|e| e.state == "parked").count();
    let listing = Listing {
        owed: reversals.len() - parked,
        parked,
        reversals,
    };
    if json {
        println!("{}", to_json(&listing)?);
        return Ok(());
    }
    println!(
        "{:<6} {:<28} {:<8} {:>10} {:<6} {:<6} {:<6} {:<7} {:>8}  last error",
        "id", "attempt", "kind", "amount", "stan", "batch", "reason", "state", "attempts"
    );
    for e in &listing.reversals {
        println!(
            "{:<6} {:<28} {:<8} {:>10} {:<6} {:<6} {:<6} {:<7} {:>8}  {}",
            e.id,
            e.attempt_id,
            e.kind,
            super::shape::yuan(e.amount_fen),
            e.stan,
            format!("{:06}", e.batch_no),
            e.reason,
            e.state,
            e.attempts,
            e.last_error.as_deref().unwrap_or("-")
        );
    }
    println!(
        "{} owed (sent again before the next payment), {} parked (release with \
         `smartpos reversal release --journal DB --id N` once the acquirer confirms)",
        listing.owed, listing.parked
    );
    Ok(())
}

fn release(db: &std::path::Path, id: i64, json: bool) -> CliResult {
    super::existing_journal(db, None)?;
    let fail = |e: smartpos_core::store::StoreError| CliError::journal(db, &e);
    // A write: only the journal's owner may make it (exit 1 while a terminal holds it).
    let mut journal = Journal::open(db).map_err(fail)?;
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    journal.release_reversal(id, now_ms).map_err(fail)?;
    let released = journal
        .reversals()
        .map_err(fail)?
        .into_iter()
        .find(|r| r.transaction_id == id && r.state == ReversalState::Released)
        .ok_or_else(|| CliError::new(format!("transaction {id}: release not recorded")))?;
    if json {
        let value = serde_json::json!({
            "id": id,
            "state": released.state.as_str(),
            "reason": released.reason.as_str(),
            "attempts": released.attempts,
        });
        println!("{value}");
    } else {
        println!(
            "reversal of transaction {id} released by the operator after {} attempt(s); it no \
             longer blocks settlement",
            released.attempts
        );
    }
    Ok(())
}

fn to_json(value: &impl Serialize) -> Result<String, CliError> {
    serde_json::to_string_pretty(value).map_err(|e| CliError::new(format!("JSON: {e}")))
}
