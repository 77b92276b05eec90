//! `smartpos settle --journal DB --host ADDR [--json]`: settles the open batch of a journal
//! (batch upload first when the host's totals disagree).

use std::path::PathBuf;

use serde_json::json;

use super::{CliError, CliResult};
use crate::terminal_setup::HostTerminal;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Journal database of the terminal (its storage key is DB.key beside it).
    #[arg(long)]
    pub journal: PathBuf,
    #[command(flatten)]
    pub acquirer: super::acquirer::AcquirerArgs,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Make a new journal if there is none at that path (otherwise a missing one is an error).
    #[arg(long)]
    pub create: bool,
}

pub fn run(args: Args) -> CliResult {
    super::existing_journal(&args.journal, Some(args.create))?;
    let host = HostTerminal::open(&args.journal, &args.acquirer.link()?)?;
    // The settlement ran and was not done: exit 1 (operational), not 2 (bad input).
    let report = host.terminal.settle().map_err(|t| {
        CliError::not_done(format!(
            "settlement not done: {} ({})",
            t.code, t.merchant_en
        ))
    })?;
    if args.json {
        let value = json!({
            "batch_no": report.batch_no,
            "debit_count": report.debit_count,
            "debit_fen": report.debit_fen,
            "credit_count": report.credit_count,
            "credit_fen": report.credit_fen,
            "balanced": report.balanced,
            "differences": report.differences.iter().map(|d| json!({
                "total": d.total, "terminal": d.terminal, "host": d.host,
            })).collect::<Vec<_>>(),
            "uploaded": report.uploaded,
            "next_batch_no": report.next_batch_no,
        });
        println!("{value}");
    } else {
        println!(
            "batch {:06} settled {}: {} debits {} yuan, {} credits {} yuan; batch {:06} open",
            report.batch_no,
            if report.balanced {
                "balanced"
            } else {
                "after batch upload"
            },
            report.debit_count,
            super::shape::yuan(report.debit_fen),
            report.credit_count,
            super::shape::yuan(report.credit_fen),
            report.next_batch_no
        );
        for d in &report.differences {
            println!(
                "  {}: terminal {}, host {} (the batch upload sent the terminal's lines)",
                d.total, d.terminal, d.host
            );
        }
    }
    Ok(())
}
