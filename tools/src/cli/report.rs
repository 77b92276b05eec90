//! `smartpos report --journal DB [--json]`: termination statistics of a terminal's journal —
//! today and the last 7 days: approval rate, terminations by cause (with a text chart) and by
//! code, top causes, host latency percentiles and histogram. Reads the journal only; no host.
//! `--json` is the `StatisticsReport` fleet tools ingest.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use smartpos_core::diag::StatisticsReport;
use smartpos_core::diag::statistics::WindowStatistics;
use smartpos_core::store::Journal;

use super::{CliError, CliResult};
use crate::demo_setup;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Journal database to report on.
    #[arg(long)]
    pub journal: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// The terminal id the report is headed with (the one `pay --terminal-id` gave this journal).
    #[arg(long, default_value = demo_setup::DEMO_TERMINAL_ID)]
    pub terminal_id: String,
}

pub fn run(args: Args) -> CliResult {
    super::existing_journal(&args.journal, None)?;
    let fail = |e: smartpos_core::store::StoreError| CliError::journal(&args.journal, &e);
    // A view: it reads while a terminal owns the journal, and never recovers anything.
    let mut journal = Journal::open_read_only(&args.journal).map_err(fail)?;
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let report = journal
        .statistics(&args.terminal_id, now_ms)
        .map_err(fail)?;
    println!("{}", render(&report, args.json)?);
    Ok(())
}

/// Width of the longest bar in the text charts.
const BAR_WIDTH: u64 = 30;

fn bar(count: u64, max: u64) -> String {
    if count == 0 {
        return String::new();
    }
    // Any non-zero count shows at least one block so it is not mistaken for none.
    let n = (count * BAR_WIDTH).div_ceil(max.max(1)).max(1);
    "█".repeat(n as usize)
}

fn ms(v: Option<u64>) -> String {
    v.map_or("-".to_owned(), |v| format!("{v} ms"))
}

/// The report as text for a person (zh/en labels) or as JSON.
pub fn render(report: &StatisticsReport, as_json: bool) -> Result<String, CliError> {
    if as_json {
        return serde_json::to_string_pretty(report)
            .map_err(|e| CliError::new(format!("report: {e}")));
    }
    let mut out = format!("终端 terminal {}\n", report.terminal_id);
    for w in &report.windows {
        out.push_str(&window_text(w));
    }
    out.pop();
    Ok(out)
}

/// One window's block of the text report (the demo prints today's).
pub(crate) fn window_text(w: &WindowStatistics) -> String {
    let (zh, en) = w.window.label();
    let rate = w
        .approval_rate
        .map_or("-".to_owned(), |r| format!("{:.1}%", r * 100.0));
    let mut out = format!(
        "\n== {zh} {en} ==\n交易 payments: {}  成功 approved: {}  终止 terminated: {}  成功率 approval rate: {rate}\n",
        w.total, w.approved, w.terminated
    );
    if !w.top_causes.is_empty() {
        let top: Vec<String> = w
            .top_causes
            .iter()
            .map(|c| format!("{} ({})", c.cause, c.count))
            .collect();
        out.push_str(&format!("主要原因 top causes: {}\n", top.join(", ")));
    }
    out.push_str("按原因 terminations by cause:\n");
    let max = w.by_cause.iter().map(|c| c.count).max().unwrap_or(0);
    for c in &w.by_cause {
        let line = format!(
            "  {:<12} {:>5} {}",
            c.cause.as_str(),
            c.count,
            bar(c.count, max)
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    if !w.by_code.is_empty() {
        out.push_str("按代码 by code:\n");
        for (code, n) in &w.by_code {
            out.push_str(&format!("  {code:<32} {n:>5}\n"));
        }
    }
    let l = &w.host_latency;
    out.push_str(&format!(
        "主机时延 host latency: {} exchanges ({} unanswered)  p50 {}  p90 {}  p99 {}\n",
        l.exchanges,
        l.unanswered,
        ms(l.p50_ms),
        ms(l.p90_ms),
        ms(l.p99_ms)
    ));
    if l.exchanges > 0 {
        let max = l.histogram.iter().map(|b| b.count).max().unwrap_or(0);
        for b in &l.histogram {
            let label = b
                .upto_ms
                .map_or("longer".to_owned(), |u| format!("≤{u} ms"));
            let line = format!("  {label:<9} {:>5} {}", b.count, bar(b.count, max));
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use smartpos_core::diag::Cause;
    use smartpos_core::diag::statistics::{EndingRow, ExchangeSample, compute};

    const NOW: i64 = 1_795_658_400_000;

    fn sample() -> StatisticsReport {
        let endings = vec![
            EndingRow {
                at_ms: NOW - 10,
                kind: "sale".into(),
                termination: None,
            },
            EndingRow {
                at_ms: NOW - 20,
                kind: "sale".into(),
                termination: Some(("HOST_DECLINED_51".into(), Cause::Account)),
            },
            EndingRow {
                at_ms: NOW - 30,
                kind: "sale".into(),
                termination: Some(("NET_TIMEOUT".into(), Cause::Network)),
            },
            EndingRow {
                at_ms: NOW - 40,
                kind: "sale".into(),
                termination: Some(("NET_TIMEOUT".into(), Cause::Network)),
            },
        ];
        let exchanges = [80, 300, 9_000].map(|l| ExchangeSample {
            at_ms: NOW - 5,
            latency_ms: l,
            answered: l < 9_000,
        });
        compute("10000001", NOW, &endings, &exchanges)
    }

    #[test]
    fn text_has_labels_rates_and_charts() {
        let text = render(&sample(), false).unwrap();
        assert!(text.contains("== 今日 today =="), "{text}");
        assert!(text.contains("成功率 approval rate: 25.0%"), "{text}");
        assert!(
            text.contains("top causes: network (2), account (1)"),
            "{text}"
        );
        // Network has the most terminations: the full-width bar; account half of it.
        let network = text
            .lines()
            .find(|l| l.trim_start().starts_with("network"))
            .unwrap();
        assert_eq!(network.matches('█').count(), 30, "{network}");
        let account = text
            .lines()
            .find(|l| l.trim_start().starts_with("account"))
            .unwrap();
        assert_eq!(account.matches('█').count(), 15, "{account}");
        assert!(text.contains("HOST_DECLINED_51"));
        assert!(
            text.contains("p50 300 ms  p90 9000 ms  p99 9000 ms"),
            "{text}"
        );
        assert!(text.contains("3 exchanges (1 unanswered)"), "{text}");
    }

    #[test]
    fn json_is_the_statistics_report() {
        let json: serde_json::Value =
            serde_json::from_str(&render(&sample(), true).unwrap()).unwrap();
        assert_eq!(json["terminal_id"], "10000001");
        assert_eq!(json["windows"][0]["approved"], 1);
        assert_eq!(json["windows"][1]["by_code"]["NET_TIMEOUT"], 2);
        assert_eq!(json["windows"][0]["host_latency"]["p90_ms"], 9000);
    }

    #[test]
    fn a_missing_journal_is_an_error_naming_it() {
        let err = run(Args {
            journal: PathBuf::from("/nonexistent/j.db"),
            json: false,
            terminal_id: demo_setup::DEMO_TERMINAL_ID.into(),
        })
        .unwrap_err();
        assert!(err.to_string().contains("/nonexistent/j.db"), "{err}");
    }
}
