//! `smartpos recover --journal DB --host ADDR [--qr-gateway URL]`: resolves what a killed process
//! left behind — in-flight requests, owed reversals, advices, and with a QR gateway the QR
//! orders left open (queried, then closed) — and says what it found and what remains.

use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;
use smartpos_core::ports::SystemClock;
use smartpos_core::store::Journal;

use super::{CliError, CliResult};
use crate::demo_setup::demo_qr_settings;
use crate::terminal_setup::HostTerminal;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Journal database to recover (its storage key is DB.key beside it).
    #[arg(long)]
    pub journal: PathBuf,
    #[command(flatten)]
    pub acquirer: super::acquirer::AcquirerArgs,
    /// QR gateway base URL: also finish the QR orders the journal holds open. Without it they
    /// are only counted.
    #[arg(long)]
    pub qr_gateway: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Make a new journal if there is none at that path (otherwise a missing one is an error).
    #[arg(long)]
    pub create: bool,
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
    /// QR orders open (outcome unknown) when recovery started.
    pub qr_orders_open_found: usize,
    /// QR orders still open (no `--qr-gateway`, or the gateway unreachable).
    pub qr_orders_open: usize,
}

pub fn run(args: Args) -> CliResult {
    super::existing_journal(&args.journal, Some(args.create))?;
    let fail = |e: smartpos_core::store::StoreError| CliError::journal(&args.journal, &e);
    // Opening the terminal already recovers, so look first: the report must say what was found.
    // A read-only look: the terminal below is what takes the journal, or is refused it (exit 1)
    // while another process owns it — recovery under that process's payment in flight would
    // reverse it while it still waits for its answer.
    let (in_flight_found, reversals_owed_found, qr_orders_open_found) = {
        let journal = Journal::open_read_only(&args.journal).map_err(fail)?;
        (
            journal.in_flight().map_err(fail)?.len(),
            journal.pending_reversals().map_err(fail)?.len(),
            journal.open_qr_orders().map_err(fail)?.len(),
        )
    };
    let host = HostTerminal::open(&args.journal, &args.acquirer.link()?)?;
    // A second pass is cheap and retries whatever the pass at open could not send.
    let report = host.terminal.recover();
    if let Some(url) = &args.qr_gateway {
        // The card terminal's recovery leaves QR orders to the QR session, on the same journal.
        let qr_fail = |e| CliError::new(format!("QR recovery: {e}"));
        host.terminal
            .qr_session(demo_qr_settings(url), Arc::new(SystemClock))
            .map_err(qr_fail)?
            .recover()
            .map_err(qr_fail)?;
    }
    let open_qr_orders = || -> Result<usize, CliError> {
        Ok(Journal::open_read_only(&args.journal)
            .and_then(|j| j.open_qr_orders())
            .map_err(fail)?
            .len())
    };
    let summary = RecoverSummary {
        in_flight_found,
        reversals_owed_found,
        reversals_cleared: reversals_owed_found.saturating_sub(report.reversals_pending),
        reversals_pending: report.reversals_pending,
        advices_pending: report.advices_pending,
        receipts_unprinted: report.receipts_unprinted,
        qr_orders_open_found,
        qr_orders_open: open_qr_orders()?,
    };
    if args.json {
        let text = serde_json::to_string_pretty(&summary)
            .map_err(|e| CliError::new(format!("summary: {e}")))?;
        println!("{text}");
    } else {
        println!(
            "recover {}: found {} in flight, {} reversal(s) owed; cleared {}, still pending {}; \
             {} advice(s) pending, {} receipt(s) to reprint; QR orders open: {} found, {} left",
            args.journal.display(),
            summary.in_flight_found,
            summary.reversals_owed_found,
            summary.reversals_cleared,
            summary.reversals_pending,
            summary.advices_pending,
            summary.receipts_unprinted,
            summary.qr_orders_open_found,
            summary.qr_orders_open
        );
    }
    let owed = summary.reversals_pending + summary.advices_pending + summary.qr_orders_open;
    if owed > 0 {
        return Err(CliError::reported(format!(
            "recovery left {owed} item(s) owed to the acquirer or the QR gateway"
        )));
    }
    Ok(())
}
