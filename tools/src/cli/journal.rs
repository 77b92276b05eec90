//! `smartpos journal DB [--json]`: the journal's transactions as operators read them, with the
//! net approved amount that must equal the acquirer ledger's `net_fen` once nothing is pending.

use std::path::PathBuf;

use serde::Serialize;
use smartpos_core::store::{Journal, TransactionRecord, TxnKind, TxnState};

use super::{CliError, CliResult};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Journal database written by `smartpos pay` (or a terminal).
    pub journal: PathBuf,
    /// Print the JSON contract instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// One transaction in the JSON contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub attempt_id: String,
    pub kind: &'static str,
    /// approved | declined | reversed | voided | refunded | pending
    pub state: &'static str,
    /// Present only for a request that never reached the host: `not_sent`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    pub amount_fen: u64,
    /// Six digits, as in field 11 and in the simulator ledger's postings.
    pub stan: String,
    pub batch: String,
    pub pan_masked: Option<String>,
    pub response_code: Option<String>,
    pub termination_code: Option<String>,
}

/// The whole JSON document.
#[derive(Debug, Clone, Serialize)]
pub struct Listing {
    pub transactions: Vec<Entry>,
    pub net_approved_fen: i64,
    /// Reversals the host has not confirmed (including ones parked for the operator).
    pub pending_reversals: usize,
}

/// The contract's state for a journal state; `None` reason unless the request was never sent.
pub fn contract_state(kind: TxnKind, state: TxnState) -> (&'static str, Option<&'static str>) {
    match state {
        TxnState::Approved if kind == TxnKind::Refund => ("refunded", None),
        TxnState::Approved => ("approved", None),
        TxnState::Declined => ("declined", None),
        TxnState::NotSent => ("declined", Some("not_sent")),
        TxnState::Reversed => ("reversed", None),
        TxnState::Voided => ("voided", None),
        // Sending, Unknown, and any state added later: the outcome is not settled yet.
        _ => ("pending", None),
    }
}

pub fn listing(records: &[TransactionRecord], pending_reversals: usize) -> Listing {
    let transactions = records
        .iter()
        .map(|r| {
            let (state, reason) = contract_state(r.kind, r.state);
            Entry {
                attempt_id: r.attempt_id.clone(),
                kind: r.kind.as_str(),
                state,
                reason,
                amount_fen: r.amount_fen,
                stan: r.stan.to_string(),
                batch: r.batch_no.to_string(),
                pan_masked: r.pan_masked.clone(),
                response_code: r.response_code.clone(),
                termination_code: r.termination_code.clone(),
            }
        })
        .collect();
    Listing {
        transactions,
        net_approved_fen: records.iter().map(TransactionRecord::net_effect_fen).sum(),
        pending_reversals,
    }
}

pub fn run(args: Args) -> CliResult {
    super::existing_journal(&args.journal, false)?;
    let fail = |e: smartpos_core::store::StoreError| CliError::journal(&args.journal, &e);
    // A view: it reads while a terminal owns the journal, and never recovers anything.
    let journal = Journal::open_read_only(&args.journal).map_err(fail)?;
    let mut records = journal.list(u32::MAX, 0).map_err(fail)?;
    records.reverse(); // oldest first reads like a day's roll
    let pending = journal.unresolved_reversals().map_err(fail)?.len();
    let listing = listing(&records, pending);
    if args.json {
        let text = serde_json::to_string_pretty(&listing)
            .map_err(|e| CliError::new(format!("listing: {e}")))?;
        println!("{text}");
        return Ok(());
    }
    println!(
        "{:<32} {:<15} {:<9} {:>12} {:<6} {:<6} {:<19} code",
        "attempt", "kind", "state", "amount", "stan", "batch", "pan"
    );
    for e in &listing.transactions {
        let code = e
            .termination_code
            .as_deref()
            .or(e.response_code.as_deref())
            .unwrap_or("");
        println!(
            "{:<32} {:<15} {:<9} {:>12} {:<6} {:<6} {:<19} {}{}",
            e.attempt_id,
            e.kind,
            e.state,
            e.amount_fen,
            e.stan,
            e.batch,
            e.pan_masked.as_deref().unwrap_or("-"),
            code,
            e.reason.map(|r| format!(" ({r})")).unwrap_or_default()
        );
    }
    println!(
        "{} transactions, net approved {} fen, {} reversal(s) pending",
        listing.transactions.len(),
        listing.net_approved_fen,
        listing.pending_reversals
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(kind: TxnKind, state: TxnState, amount_fen: u64) -> TransactionRecord {
        use smartpos_core::store::{BatchNo, EntryMode, Stan};
        TransactionRecord {
            id: 1,
            attempt_id: "a".into(),
            kind,
            state,
            amount_fen,
            currency: "156".into(),
            stan: Stan::new(7).unwrap(),
            batch_no: BatchNo::new(1).unwrap(),
            pan_masked: None,
            pan_sealed: None,
            entry_mode: EntryMode::Magstripe,
            rrn: None,
            auth_code: None,
            response_code: None,
            termination_code: None,
            original_id: None,
            icc_data: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn net_counts_approved_sales_and_completions_less_approved_refunds() {
        let records = [
            record(TxnKind::Sale, TxnState::Approved, 1_000),
            record(TxnKind::Completion, TxnState::Approved, 300),
            record(TxnKind::Refund, TxnState::Approved, 250),
            // Cancelled or never charged: nothing.
            record(TxnKind::Sale, TxnState::Voided, 5_000),
            record(TxnKind::Sale, TxnState::Reversed, 7_000),
            record(TxnKind::Sale, TxnState::Unknown, 9_000),
            // Moves no settled money itself.
            record(TxnKind::Void, TxnState::Approved, 5_000),
            record(TxnKind::PreAuth, TxnState::Approved, 8_000),
        ];
        let l = listing(&records, 0);
        assert_eq!(l.net_approved_fen, 1_000 + 300 - 250);
        assert_eq!(l.transactions[2].state, "refunded");
        assert_eq!(l.transactions[5].state, "pending");
        assert_eq!(l.transactions[0].stan, "000007");
    }

    #[test]
    fn states_map_to_the_contract_names() {
        assert_eq!(
            contract_state(TxnKind::Sale, TxnState::Approved),
            ("approved", None)
        );
        assert_eq!(
            contract_state(TxnKind::Refund, TxnState::Approved),
            ("refunded", None)
        );
        assert_eq!(
            contract_state(TxnKind::Sale, TxnState::NotSent),
            ("declined", Some("not_sent"))
        );
        assert_eq!(
            contract_state(TxnKind::Sale, TxnState::Sending),
            ("pending", None)
        );
        assert_eq!(
            contract_state(TxnKind::Sale, TxnState::Unknown),
            ("pending", None)
        );
        assert_eq!(
            contract_state(TxnKind::Sale, TxnState::Reversed),
            ("reversed", None)
        );
        assert_eq!(
            contract_state(TxnKind::Void, TxnState::Voided),
            ("voided", None)
        );
    }
}
