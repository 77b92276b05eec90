//! `smartpos recover --journal DB --host ADDR`: resolves what a killed process left behind —
//! in-flight requests, owed reversals, advices — and says what it found and what remains.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Serialize;
use smartpos_core::store::Journal;

use super::{CliError, CliResult};
use crate::terminal_setup::HostTerminal;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Journal database to recover (its storage key is DB.key beside it).
    #[arg(long)]
    pub journal: PathBuf,
    /// Acquirer address the reversals go to.
    #[arg(long)]
    pub host: SocketAddr,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// The `--json` document: what the journal held before, and what is left after recovery.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RecoverSummary {
    /// Transactions with no recorded outcome when recovery started (the process died mid-exchange).
    pub in_flight_found: usize,
    /// Reversals owed when recovery started (in-flight reversible requests included).
    pub reversals_owed_found: usize,
    /// Of those, how many the host has now confirmed.
    pub reversals_cleared: usize,
    /// Reversals still owed (host unreachable, or parked for the operator).
    pub reversals_pending: usize,
    /// Refund advices waiting to be re-sent.
    pub advices_pending: usize,
    /// Approved transactions whose receipt never printed.
    pub receipts_unprinted: usize,
}

pub fn run(args: Args) -> CliResult {
    if !args.journal.is_file() {
        return Err(CliError::new(format!(
            "journal {}: no such file",
            args.journal.display()
        )));
    }
    // Opening the terminal already recovers, so look first: the report must say what was found.
    let (in_flight_found, reversals_owed_found) = {
        let fail = |e: smartpos_core::store::StoreError| {
            CliError::new(format!("journal {}: {e}", args.journal.display()))
        };
        let journal = Journal::open(&args.journal).map_err(fail)?;
        (
            journal.in_flight().map_err(fail)?.len(),
            journal.pending_reversals().map_err(fail)?.len(),
        )
    };
    let host = HostTerminal::open(&args.journal, args.host)?;
    // A second pass is cheap and retries whatever the pass at open could not send.
    let report = host.terminal.recover();
    let summary = RecoverSummary {
        in_flight_found,
        reversals_owed_found,
        reversals_cleared: reversals_owed_found.saturating_sub(report.reversals_pending),
        reversals_pending: report.reversals_pending,
        advices_pending: report.advices_pending,
        receipts_unprinted: report.receipts_unprinted,
    };
    if args.json {
        let text = serde_json::to_string_pretty(&summary)
            .map_err(|e| CliError::new(format!("summary: {e}")))?;
        println!("{text}");
    } else {
        println!(
            "recover {}: found {} in flight, {} reversal(s) owed; cleared {}, still pending {}; \
             {} advice(s) pending, {} receipt(s) to reprint",
            args.journal.display(),
            summary.in_flight_found,
            summary.reversals_owed_found,
            summary.reversals_cleared,
            summary.reversals_pending,
            summary.advices_pending,
            summary.receipts_unprinted
        );
    }
    Ok(())
}
