//! `smartpos journal DB [--json]`: the journal's transactions as operators read them, with the
//! net approved amount that must equal the acquirer ledger's `net_fen` once nothing is pending.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use smartpos_core::store::{Journal, QrOrder, TransactionRecord, TxnKind, TxnState};

use super::shape::{yuan, yuan_signed};
use super::{CliError, CliResult};

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<JournalCommand>,
    /// Journal database written by `smartpos pay` (or a terminal).
    #[arg(required = true)]
    pub journal: Option<PathBuf>,
    /// Print the JSON contract instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Subcommand)]
pub enum JournalCommand {
    /// The operator acknowledges a storage fault (a corrupt journal moved aside): payments
    /// resume. Journaled, so it holds across restarts.
    Ack {
        /// Journal database of the terminal.
        #[arg(long)]
        journal: PathBuf,
        /// The quarantined copy could not be read, so what it owed is unknown: acknowledge
        /// anyway, after reconciling with the acquirer.
        #[arg(long)]
        accept_unreadable: bool,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
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
    /// The batch number, as every command's JSON carries it (`batch_no`, a number).
    pub batch_no: u32,
    pub pan_masked: Option<String>,
    pub response_code: Option<String>,
    pub termination_code: Option<String>,
}

/// One QR order in the JSON contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QrEntry {
    /// The order number (the caller's attempt id, the gateway's out_trade_no).
    pub out_trade_no: String,
    /// customer_presented | merchant_presented
    pub mode: &'static str,
    /// requested | polling | cancelling | refunding (open) · paid | closed | refunded | declined
    pub state: &'static str,
    pub amount_fen: u64,
    pub refunded_fen: u64,
    pub scheme: Option<String>,
    /// The customer's payment code, masked: the code is a bearer credential.
    pub code_masked: Option<String>,
    pub termination_code: Option<String>,
}

/// The whole JSON document.
#[derive(Debug, Clone, Serialize)]
pub struct Listing {
    pub transactions: Vec<Entry>,
    /// QR orders paid into the same journal, oldest first.
    pub qr_orders: Vec<QrEntry>,
    /// What the customers actually paid: `card_net_fen` + `qr_net_fen`.
    pub net_approved_fen: i64,
    /// Card approvals less voids, refunds and reversals: equals the acquirer ledger's net once
    /// nothing is owed.
    pub card_net_fen: i64,
    /// Paid QR orders less refunds: equals the QR gateway's net once no order is open.
    pub qr_net_fen: i64,
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

pub fn listing(
    records: &[TransactionRecord],
    orders: &[QrOrder],
    pending_reversals: usize,
) -> Listing {
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
                batch_no: r.batch_no.value(),
                pan_masked: r.pan_masked.clone(),
                response_code: r.response_code.clone(),
                termination_code: r.termination_code.clone(),
            }
        })
        .collect();
    let qr_orders = orders
        .iter()
        .map(|o| QrEntry {
            out_trade_no: o.out_trade_no.clone(),
            mode: o.mode.as_str(),
            state: o.state.as_str(),
            amount_fen: o.amount_fen,
            refunded_fen: o.refunded_fen,
            scheme: o.scheme.clone(),
            code_masked: o.code_masked.clone(),
            termination_code: o.termination_code.clone(),
        })
        .collect();
    let card_net_fen = records.iter().map(TransactionRecord::net_effect_fen).sum();
    let qr_net_fen = orders.iter().map(QrOrder::net_effect_fen).sum();
    Listing {
        transactions,
        qr_orders,
        net_approved_fen: card_net_fen + qr_net_fen,
        card_net_fen,
        qr_net_fen,
        pending_reversals,
    }
}

pub fn run(args: Args) -> CliResult {
    match (args.command, args.journal) {
        (
            Some(JournalCommand::Ack {
                journal,
                accept_unreadable,
                json,
            }),
            _,
        ) => acknowledge(&journal, accept_unreadable, json),
        (None, Some(journal)) => list(&journal, args.json),
        (None, None) => Err(CliError::new("journal: give the journal database")),
    }
}

fn acknowledge(db: &Path, accept_unreadable: bool, json: bool) -> CliResult {
    super::existing_journal(db, None)?;
    let fail = |e: smartpos_core::store::StoreError| CliError::journal(db, &e);
    // A write: only the journal's owner may make it (exit 1 while a terminal holds it).
    let mut journal = Journal::open(db).map_err(fail)?;
    let open = journal.unacknowledged_storage_fault().map_err(fail)?;
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let acknowledged = journal
        .acknowledge_storage_faults(now_ms, accept_unreadable)
        .map_err(fail)?;
    if json {
        let value = serde_json::json!({
            "acknowledged": acknowledged,
            "detail": open.as_ref().map(|f| f.detail.clone()),
            "carried": open.as_ref().map_or(0, |f| f.carried),
            "moved_to": open.as_ref().map(|f| f.moved_to.iter()
                .map(|p| p.display().to_string()).collect::<Vec<_>>()),
        });
        println!("{value}");
    } else if let Some(f) = open {
        println!(
            "storage fault acknowledged ({}); {} owed transaction(s) carried over; quarantined \
             files kept: {}",
            f.detail,
            f.carried,
            f.moved_to
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    } else {
        println!("no storage fault to acknowledge");
    }
    Ok(())
}

fn list(db: &Path, as_json: bool) -> CliResult {
    super::existing_journal(db, None)?;
    let fail = |e: smartpos_core::store::StoreError| CliError::journal(db, &e);
    // A view: it reads while a terminal owns the journal, and never recovers anything.
    let journal = Journal::open_read_only(db).map_err(fail)?;
    let mut records = journal.list(u32::MAX, 0).map_err(fail)?;
    records.reverse(); // oldest first reads like a day's roll
    let pending = journal.unresolved_reversals().map_err(fail)?.len();
    let orders = journal.qr_orders().map_err(fail)?;
    let listing = listing(&records, &orders, pending);
    if as_json {
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
            yuan(e.amount_fen),
            e.stan,
            format!("{:06}", e.batch_no),
            e.pan_masked.as_deref().unwrap_or("-"),
            code,
            e.reason.map(|r| format!(" ({r})")).unwrap_or_default()
        );
    }
    if !listing.qr_orders.is_empty() {
        println!(
            "\n{:<32} {:<18} {:<10} {:>12} {:>10} {:<8} {:<19} code",
            "QR order", "mode", "state", "amount", "refunded", "scheme", "code"
        );
    }
    for q in &listing.qr_orders {
        println!(
            "{:<32} {:<18} {:<10} {:>12} {:>10} {:<8} {:<19} {}",
            q.out_trade_no,
            q.mode,
            q.state,
            yuan(q.amount_fen),
            yuan(q.refunded_fen),
            q.scheme.as_deref().unwrap_or("-"),
            q.code_masked.as_deref().unwrap_or("-"),
            q.termination_code.as_deref().unwrap_or("")
        );
    }
    println!(
        "{} transactions and {} QR orders, net approved {} yuan (card {}, QR {}), {} reversal(s) \
         pending",
        listing.transactions.len(),
        listing.qr_orders.len(),
        yuan_signed(listing.net_approved_fen),
        yuan_signed(listing.card_net_fen),
        yuan_signed(listing.qr_net_fen),
        listing.pending_reversals
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use smartpos_core::store::{QrMode, QrOrderState};

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
        let l = listing(&records, &[], 0);
        assert_eq!(l.net_approved_fen, 1_000 + 300 - 250);
        assert_eq!(l.transactions[2].state, "refunded");
        assert_eq!(l.transactions[5].state, "pending");
        assert_eq!(l.transactions[0].stan, "000007");
    }

    fn order(state: QrOrderState, amount_fen: u64, refunded_fen: u64) -> QrOrder {
        QrOrder {
            out_trade_no: "q".into(),
            mode: QrMode::CustomerPresented,
            state,
            amount_fen,
            currency: "CNY".into(),
            scheme: Some("wechat".into()),
            code_masked: Some("1345**********6789".into()),
            gateway_trade_no: None,
            code_url: None,
            refunded_fen,
            refund_fen: None,
            termination_code: None,
            created_at_ms: 0,
            updated_at_ms: 0,
        }
    }

    #[test]
    fn qr_orders_are_listed_and_what_customers_paid_counts_in_the_net() {
        let records = [record(TxnKind::Sale, TxnState::Approved, 1_000)];
        let orders = [
            order(QrOrderState::Paid, 3_600, 0),
            // Paid, then 1,000 given back.
            order(QrOrderState::Refunded, 2_000, 1_000),
            // Never paid, or not known yet: nothing.
            order(QrOrderState::Closed, 5_000, 0),
            order(QrOrderState::Declined, 7_000, 0),
            order(QrOrderState::Polling, 9_000, 0),
        ];
        let l = listing(&records, &orders, 0);
        assert_eq!(l.card_net_fen, 1_000);
        assert_eq!(l.qr_net_fen, 3_600 + 1_000);
        assert_eq!(l.net_approved_fen, 1_000 + 3_600 + 1_000);
        assert_eq!(l.qr_orders.len(), 5);
        assert_eq!(l.qr_orders[1].state, "refunded");
        assert_eq!(
            l.qr_orders[0].code_masked.as_deref(),
            Some("1345**********6789")
        );
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
