//! `smartpos chip-config download --journal DB --host ADDR [--set all|ca-keys|ic-parameters]
//! [--json]`: the acquirer's IC parameter and CA public key downloads (UnionPay network
//! management 382/380/381, 372/370/371); a refused record or a lost host leaves the tables in
//! force as they were and exits 1.
//!
//! `smartpos chip-config show --journal DB [--json]`: the chip tables a terminal on that
//! journal uses: each downloaded set as the journal keeps it (checked again as at open), or
//! the built-in table where none was downloaded or the stored one is refused.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::json;
use smartpos_core::card::oda::{CaKeyAlgorithm, CaKeyTable};
use smartpos_core::store::Journal;
use smartpos_core::txn::ChipConfig;
use smartpos_core::txn::ic_download::{DownloadedTable, IcParameters};
use smartpos_core::txn::{ChipDownload, ChipDownloadError, ChipSet};

use super::{CliError, CliResult};
use crate::terminal_setup::HostTerminal;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per process: the size of the larger variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Download the acquirer's IC parameters and CA public keys and put them in force.
    Download {
        /// Journal database of the terminal (its storage key is DB.key beside it).
        #[arg(long)]
        journal: PathBuf,
        #[command(flatten)]
        acquirer: super::acquirer::AcquirerArgs,
        /// Which tables: all (IC parameters, then CA keys), ca-keys or ic-parameters.
        #[arg(long, default_value = "all", value_parser = ["all", "ca-keys", "ic-parameters"])]
        set: String,
        /// Make a new journal if there is none at that path.
        #[arg(long)]
        create: bool,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// The chip tables in force for a journal: downloaded or built in.
    Show {
        /// Journal database of the terminal.
        #[arg(long)]
        journal: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(args: Args) -> CliResult {
    match args.command {
        Command::Download {
            journal,
            acquirer,
            set,
            create,
            json,
        } => download(&journal, &acquirer, &set, create, json),
        Command::Show { journal, json } => show(&journal, json),
    }
}

fn download(
    db: &Path,
    acquirer: &super::acquirer::AcquirerArgs,
    set: &str,
    create: bool,
    json: bool,
) -> CliResult {
    super::existing_journal(db, Some(create))?;
    let host = HostTerminal::open(db, &acquirer.link()?)?;
    let sets: Vec<ChipSet> = match set {
        "ca-keys" => vec![ChipSet::CaKeys],
        "ic-parameters" => vec![ChipSet::IcParameters],
        _ => ChipSet::ALL.to_vec(),
    };
    let mut done: Vec<ChipDownload> = Vec::new();
    for s in sets {
        match host.terminal.download_chip_set(s) {
            Ok(d) => done.push(d),
            // The operation ran and did not succeed: exit 1, the sets before it stay done.
            Err(e) => return Err(not_done(&e, &done)),
        }
    }
    if json {
        let value = json!({ "downloads": done.iter().map(download_json).collect::<Vec<_>>() });
        println!("{value}");
    } else {
        for d in &done {
            println!("{}", download_line(d));
        }
    }
    Ok(())
}

fn download_json(d: &ChipDownload) -> serde_json::Value {
    json!({"set": d.set.name(), "entries": d.entries, "applied": d.applied})
}

fn download_line(d: &ChipDownload) -> String {
    if d.applied {
        format!(
            "{}: {} entries downloaded and in force",
            d.set.name(),
            d.entries
        )
    } else {
        format!(
            "{}: the acquirer lists none; the table in force stays",
            d.set.name()
        )
    }
}

fn not_done(e: &ChipDownloadError, done: &[ChipDownload]) -> CliError {
    let before: Vec<String> = done.iter().map(download_line).collect();
    let mut message = format!("{e}; the tables in force are unchanged");
    if !before.is_empty() {
        message.push_str(&format!(" (done before it: {})", before.join("; ")));
    }
    CliError::not_done(message)
}

/// One CA key in the listing.
#[derive(Debug, Serialize)]
struct KeyRow {
    rid: String,
    index: String,
    algorithm: &'static str,
    bits: usize,
    expiry: Option<String>,
    checksum: String,
    source: String,
}

/// One set in the listing.
#[derive(Debug, Serialize)]
struct SetView<T> {
    /// download | built_in
    source: &'static str,
    applied_at_ms: Option<i64>,
    /// Why a stored set is not in force (the built-in table is).
    problem: Option<String>,
    entries: Vec<T>,
}

fn key_rows(table: &CaKeyTable) -> Vec<KeyRow> {
    table
        .iter()
        .map(|k| KeyRow {
            rid: hex::encode_upper(k.rid),
            index: format!("{:02X}", k.index),
            algorithm: match k.algorithm {
                CaKeyAlgorithm::Sm2 => "sm2",
                _ => "rsa",
            },
            bits: k.modulus.len() * 8,
            expiry: k.expiry_yymmdd.clone(),
            checksum: hex::encode_upper(&k.checksum),
            source: k.source.clone(),
        })
        .collect()
}

fn show(db: &Path, json: bool) -> CliResult {
    super::existing_journal(db, None)?;
    let fail = |e: smartpos_core::store::StoreError| CliError::journal(db, &e);
    let journal = Journal::open_read_only(db).map_err(fail)?;
    let stored = journal.stored_chip_sets().map_err(fail)?;
    let builtin = ChipConfig::production();
    let mut keys = SetView {
        source: "built_in",
        applied_at_ms: None,
        problem: None,
        entries: key_rows(&builtin.ca_keys),
    };
    let mut aids = SetView {
        source: "built_in",
        applied_at_ms: None,
        problem: None,
        entries: builtin
            .kernel
            .aids
            .iter()
            .map(IcParameters::from_aid_params)
            .collect::<Vec<_>>(),
    };
    for s in &stored {
        let Some(set) = ChipSet::from_name(&s.name) else {
            continue;
        };
        let decoded = if s.is_complete() {
            DownloadedTable::decode(set, &s.records, None)
                .map_err(|(i, e)| format!("record {i}: {e}"))
        } else {
            Err(format!("{} of {} records left", s.records.len(), s.entries))
        };
        match (decoded, set) {
            (Ok(DownloadedTable::CaKeys(t)), _) => {
                keys.source = "download";
                keys.applied_at_ms = Some(s.applied_at_ms);
                keys.entries = key_rows(&t);
            }
            (Ok(DownloadedTable::IcParameters(p)), _) => {
                aids.source = "download";
                aids.applied_at_ms = Some(s.applied_at_ms);
                aids.entries = p;
            }
            (Err(problem), ChipSet::CaKeys) => keys.problem = Some(problem),
            (Err(problem), ChipSet::IcParameters) => aids.problem = Some(problem),
        }
    }
    if json {
        println!("{}", json!({ "ca_keys": keys, "ic_parameters": aids }));
        return Ok(());
    }
    println!(
        "IC parameters ({}, {} AIDs){}",
        source_text(&aids),
        aids.entries.len(),
        problem_text(aids.problem.as_deref())
    );
    println!(
        "  {:<32} {:<5} {:<10} {:<10} {:<10} {:>12} {:>12} {:>7}",
        "AID", "ver", "TAC dflt", "TAC onl", "TAC den", "floor", "threshold", "target"
    );
    for p in &aids.entries {
        println!(
            "  {:<32} {:<5} {:<10} {:<10} {:<10} {:>12} {:>12} {:>3}/{:>3}",
            hex::encode_upper(&p.aid),
            hex::encode_upper(p.application_version),
            hex::encode_upper(p.tac_default),
            hex::encode_upper(p.tac_online),
            hex::encode_upper(p.tac_denial),
            super::shape::yuan(p.floor_limit_fen),
            super::shape::yuan(p.random_threshold_fen),
            p.target_percent,
            p.max_target_percent
        );
    }
    println!(
        "CA public keys ({}, {} keys){}",
        source_text(&keys),
        keys.entries.len(),
        problem_text(keys.problem.as_deref())
    );
    for k in &keys.entries {
        println!(
            "  {} [{}] {:<3} {:>4} bits expiry {:<6} checksum {} ({})",
            k.rid,
            k.index,
            k.algorithm,
            k.bits,
            k.expiry.as_deref().unwrap_or("-"),
            k.checksum,
            k.source
        );
    }
    Ok(())
}

fn source_text<T>(view: &SetView<T>) -> String {
    match view.applied_at_ms {
        Some(at) => {
            let when = std::time::UNIX_EPOCH + std::time::Duration::from_millis(at.max(0) as u64);
            let (time, date) = smartpos_core::txn::local_time_fields(when);
            format!(
                "downloaded {}-{} {}:{}:{} China time",
                &date[..2],
                &date[2..],
                &time[..2],
                &time[2..4],
                &time[4..]
            )
        }
        None => "built in".to_string(),
    }
}

fn problem_text(problem: Option<&str>) -> String {
    problem.map_or_else(String::new, |p| {
        format!("; the downloaded set is refused ({p}), the built-in table is in force")
    })
}
