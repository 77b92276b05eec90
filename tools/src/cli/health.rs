//! `smartpos health --journal DB --host ADDR|tls://ADDR [--ca FILE] [--json]`: the terminal's
//! self-check against an acquirer (the simulator, normally): host round trip and clock, devices,
//! keys, storage, journal, queues, batch, settlement and how the link is protected (plain TCP is
//! named, and a warning off loopback), each ok / warning / failing with what to do.
//!
//! The report is printed whatever it finds; the exit code follows the CLI policy: 1 when any
//! check is failing (a warning still exits 0), so a script can gate on it without reading JSON.

use std::path::PathBuf;

use serde_json::json;
use smartpos_core::diag::{CheckStatus, HealthReport};

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
    // A self-check of a journal that is not there would make one and report it healthy.
    super::existing_journal(&args.journal, Some(args.create))?;
    let host = HostTerminal::open(&args.journal, &args.acquirer.link()?)?;
    let report = host.terminal.health();
    drop(host);
    println!("{}", render(&report, args.json));
    if report.overall() == CheckStatus::Failing {
        return Err(CliError::reported("health check failing"));
    }
    Ok(())
}

fn mark(status: CheckStatus) -> &'static str {
    match status {
        CheckStatus::Ok => "[ok]  ",
        CheckStatus::Warning => "[warn]",
        CheckStatus::Failing => "[FAIL]",
    }
}

/// The report as text for a person (zh/en) or as one JSON document.
pub fn render(report: &HealthReport, as_json: bool) -> String {
    if as_json {
        let mut value =
            serde_json::to_value(report).unwrap_or_else(|e| json!({"error": e.to_string()}));
        value["overall"] = json!(report.overall().as_str());
        // Remedies as every command shows them: `{id, zh, en}`, not the bare id.
        if let Some(checks) = value["checks"].as_array_mut() {
            for (check, c) in checks.iter_mut().zip(&report.checks) {
                check["remedies"] = super::shape::remedies_json(&c.remedies);
            }
        }
        return value.to_string();
    }
    let mut out = format!(
        "健康检查 health check: {}\n",
        match report.overall() {
            CheckStatus::Ok => "全部正常 all ok",
            CheckStatus::Warning => "有警告 warnings",
            CheckStatus::Failing => "有故障 failing",
        }
    );
    for c in &report.checks {
        let (zh, en) = c.kind.label();
        out.push_str(&format!(
            "{} {zh} {en}: {} / {}\n",
            mark(c.status),
            c.detail_zh,
            c.detail_en
        ));
        for r in &c.remedies {
            out.push_str(&format!("         → {} / {}\n", r.zh(), r.en()));
        }
    }
    out.pop();
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::demo_setup;
    use crate::sim::ledger::Ledger;
    use crate::sim::{Acquirer, SimServer};
    use smartpos_core::diag::CheckKind;

    #[test]
    fn health_against_the_simulator_reads_for_a_person_and_as_json() {
        let sim = SimServer::start(
            Arc::new(Acquirer::new(
                Ledger::with_demo_accounts(),
                demo_setup::demo_tmk(),
            )),
            "127.0.0.1:0".parse().unwrap(),
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let link = crate::cli::acquirer::HostLink::plain(sim.addr());
        let host = HostTerminal::open(&dir.path().join("j.db"), &link).unwrap();
        // Opened without a sign-on: keys are missing, everything else is fine.
        let report = host.terminal.health();
        assert_eq!(report.status(CheckKind::WorkingKeys), CheckStatus::Failing);
        let text = render(&report, false);
        assert!(
            text.starts_with("健康检查 health check: 有故障 failing"),
            "{text}"
        );
        assert!(text.contains("[FAIL] 工作密钥 working keys"), "{text}");
        assert!(text.contains("[ok]   收单主机 acquirer host"), "{text}");
        let json: serde_json::Value = serde_json::from_str(&render(&report, true)).unwrap();
        assert_eq!(json["overall"], "failing");
        host.terminal.sign_on().unwrap();
        let json: serde_json::Value =
            serde_json::from_str(&render(&host.terminal.health(), true)).unwrap();
        // (Not `overall`: the storage check judges this machine's disk.)
        assert_eq!(json["checks"][5]["kind"], "working_keys");
        assert_eq!(json["checks"][5]["status"], "ok", "{json}");
    }
}
