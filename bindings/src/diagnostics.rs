//! The health self-check and the termination statistics, mirrored for Kotlin, and the
//! `Terminal` calls that produce them. Every text here is already safe to show: the core's
//! checks and statistics never hold card data.

use std::time::SystemTime;

use smartpos_core::diag::health::{CheckKind, CheckStatus, HealthCheck, HealthReport};
use smartpos_core::diag::statistics::{
    CauseCount, LatencySummary, StatisticsReport, Window, WindowStatistics,
};

use crate::error::{SmartPosError, guard};
use crate::outcome::{Cause, RemedyRecord};
use crate::terminal::Terminal;

/// How one check came out (`diag::health::CheckStatus`), from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, uniffi::Enum)]
pub enum HealthStatus {
    Ok,
    Warning,
    Failing,
}

impl From<CheckStatus> for HealthStatus {
    fn from(s: CheckStatus) -> Self {
        match s {
            CheckStatus::Ok => HealthStatus::Ok,
            CheckStatus::Warning => HealthStatus::Warning,
            CheckStatus::Failing => HealthStatus::Failing,
        }
    }
}

/// What a check looks at (`diag::health::CheckKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
#[non_exhaustive]
pub enum HealthCheckKind {
    Host,
    Network,
    Printer,
    CardReader,
    Scanner,
    WorkingKeys,
    ClockDrift,
    Storage,
    Journal,
    PendingReversals,
    PendingAdvices,
    Batch,
    Settlement,
    /// How the acquirer link is protected: TLS and what it verifies, or plain TCP named.
    LinkSecurity,
    /// A check this version of the bindings does not know by name; its texts still explain it.
    Other,
}

impl From<CheckKind> for HealthCheckKind {
    fn from(k: CheckKind) -> Self {
        use HealthCheckKind as K;
        match k {
            CheckKind::Host => K::Host,
            CheckKind::Network => K::Network,
            CheckKind::Printer => K::Printer,
            CheckKind::CardReader => K::CardReader,
            CheckKind::Scanner => K::Scanner,
            CheckKind::WorkingKeys => K::WorkingKeys,
            CheckKind::ClockDrift => K::ClockDrift,
            CheckKind::Storage => K::Storage,
            CheckKind::Journal => K::Journal,
            CheckKind::PendingReversals => K::PendingReversals,
            CheckKind::PendingAdvices => K::PendingAdvices,
            CheckKind::Batch => K::Batch,
            CheckKind::Settlement => K::Settlement,
            CheckKind::LinkSecurity => K::LinkSecurity,
            _ => K::Other,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HealthCheckRecord {
    pub kind: HealthCheckKind,
    /// Short labels of the check, e.g. "打印机" / "printer".
    pub label_zh: String,
    pub label_en: String,
    pub status: HealthStatus,
    pub detail_zh: String,
    pub detail_en: String,
    /// Empty when the check is ok.
    pub remedies: Vec<RemedyRecord>,
}

impl From<&HealthCheck> for HealthCheckRecord {
    fn from(c: &HealthCheck) -> Self {
        let (label_zh, label_en) = c.kind.label();
        HealthCheckRecord {
            kind: c.kind.into(),
            label_zh: label_zh.into(),
            label_en: label_en.into(),
            status: c.status.into(),
            detail_zh: c.detail_zh.clone(),
            detail_en: c.detail_en.clone(),
            remedies: c.remedies.iter().map(|r| (*r).into()).collect(),
        }
    }
}

/// Every check, in a fixed order, and the worst of them.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HealthReportRecord {
    /// Terminal clock, milliseconds since the Unix epoch.
    pub at_ms: i64,
    pub overall: HealthStatus,
    pub checks: Vec<HealthCheckRecord>,
}

impl From<&HealthReport> for HealthReportRecord {
    fn from(r: &HealthReport) -> Self {
        HealthReportRecord {
            at_ms: r.at_ms,
            overall: r.overall().into(),
            checks: r.checks.iter().map(Into::into).collect(),
        }
    }
}

/// The period a block of statistics covers (`diag::statistics::Window`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum StatisticsWindow {
    /// Since midnight China time.
    Today,
    /// The last 7 × 24 hours.
    Last7Days,
}

impl From<Window> for StatisticsWindow {
    fn from(w: Window) -> Self {
        match w {
            Window::Today => StatisticsWindow::Today,
            Window::Last7Days => StatisticsWindow::Last7Days,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct CauseCountRecord {
    pub cause: Cause,
    pub count: u64,
}

impl From<&CauseCount> for CauseCountRecord {
    fn from(c: &CauseCount) -> Self {
        CauseCountRecord {
            cause: c.cause.into(),
            count: c.count,
        }
    }
}

/// Terminations with one stable termination code (e.g. "HOST_DECLINED_51").
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CodeCountRecord {
    pub code: String,
    pub count: u64,
}

/// One histogram bar: round trips up to `uptoMs` (and above the previous bar's bound); null is
/// the open-ended last bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct LatencyBucketRecord {
    pub upto_ms: Option<u64>,
    pub count: u64,
}

/// Host round trips: nearest-rank percentiles (null without samples) and a histogram.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LatencyRecord {
    pub exchanges: u64,
    pub unanswered: u64,
    pub p50_ms: Option<u64>,
    pub p90_ms: Option<u64>,
    pub p99_ms: Option<u64>,
    pub histogram: Vec<LatencyBucketRecord>,
}

impl From<&LatencySummary> for LatencyRecord {
    fn from(l: &LatencySummary) -> Self {
        LatencyRecord {
            exchanges: l.exchanges,
            unanswered: l.unanswered,
            p50_ms: l.p50_ms,
            p90_ms: l.p90_ms,
            p99_ms: l.p99_ms,
            histogram: l
                .histogram
                .iter()
                .map(|b| LatencyBucketRecord {
                    upto_ms: b.upto_ms,
                    count: b.count,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct WindowStatisticsRecord {
    pub window: StatisticsWindow,
    pub from_ms: i64,
    pub to_ms: i64,
    /// Payment endings (approved + terminated); sign-on and settlement are not payments.
    pub total: u64,
    pub approved: u64,
    pub terminated: u64,
    /// approved / total; null when no payment ended in the window.
    pub approval_rate: Option<f64>,
    /// Every cause, zero included, in taxonomy order.
    pub by_cause: Vec<CauseCountRecord>,
    /// Terminations per termination code, in code order.
    pub by_code: Vec<CodeCountRecord>,
    /// The most frequent causes first, zeros left out.
    pub top_causes: Vec<CauseCountRecord>,
    pub host_latency: LatencyRecord,
}

impl From<&WindowStatistics> for WindowStatisticsRecord {
    fn from(w: &WindowStatistics) -> Self {
        WindowStatisticsRecord {
            window: w.window.into(),
            from_ms: w.from_ms,
            to_ms: w.to_ms,
            total: w.total,
            approved: w.approved,
            terminated: w.terminated,
            approval_rate: w.approval_rate,
            by_cause: w.by_cause.iter().map(Into::into).collect(),
            by_code: w
                .by_code
                .iter()
                .map(|(code, count)| CodeCountRecord {
                    code: code.clone(),
                    count: *count,
                })
                .collect(),
            top_causes: w.top_causes.iter().map(Into::into).collect(),
            host_latency: (&w.host_latency).into(),
        }
    }
}

/// Termination statistics for today and the last 7 days.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct StatisticsRecord {
    pub terminal_id: String,
    pub generated_at_ms: i64,
    pub windows: Vec<WindowStatisticsRecord>,
}

impl From<&StatisticsReport> for StatisticsRecord {
    fn from(r: &StatisticsReport) -> Self {
        StatisticsRecord {
            terminal_id: r.terminal_id.clone(),
            generated_at_ms: r.generated_at_ms,
            windows: r.windows.iter().map(Into::into).collect(),
        }
    }
}

#[uniffi::export]
impl Terminal {
    /// Runs every self-check (echoes the host, asks the printer, reader and scanner for their
    /// status, reads the journal). Waits for a transaction in progress; never fails on a bad
    /// check: what cannot be measured is reported as a failing check.
    pub fn health(&self) -> Result<HealthReportRecord, SmartPosError> {
        guard("Terminal.health", || Ok((&self.core()?.health()).into()))
    }

    /// Termination statistics from the journal, as of the wall clock now.
    pub fn report(&self) -> Result<StatisticsRecord, SmartPosError> {
        guard("Terminal.report", || {
            Ok((&self.core()?.report(SystemTime::now())?).into())
        })
    }

    /// The same statistics as the core's JSON (the `smartpos report --json` shape), for fleet
    /// tools that forward it without reading it.
    pub fn report_json(&self) -> Result<String, SmartPosError> {
        guard("Terminal.report_json", || {
            let report = self.core()?.report(SystemTime::now())?;
            serde_json::to_string(&report).map_err(|e| SmartPosError::Internal {
                operation: "Terminal.report_json".into(),
                detail: e.to_string(),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use smartpos_core::diag::Remedy;

    fn check(kind: CheckKind, status: CheckStatus) -> HealthCheck {
        HealthCheck {
            kind,
            status,
            detail_zh: "纸尽".into(),
            detail_en: "out of paper".into(),
            remedies: vec![Remedy::ReplacePaper],
        }
    }

    #[test]
    fn the_overall_status_is_the_worst_check() {
        let report = HealthReport {
            at_ms: 7,
            checks: vec![
                check(CheckKind::Host, CheckStatus::Ok),
                check(CheckKind::Printer, CheckStatus::Failing),
                check(CheckKind::Batch, CheckStatus::Warning),
            ],
        };
        let record = HealthReportRecord::from(&report);
        assert_eq!(record.overall, HealthStatus::Failing);
        assert_eq!(record.checks[1].kind, HealthCheckKind::Printer);
        assert_eq!(record.checks[1].label_en, "printer");
        assert_eq!(
            record.checks[1].remedies[0].code,
            crate::RemedyCode::ReplacePaper
        );
    }

    #[test]
    fn codes_keep_their_counts() {
        let mut by_code = std::collections::BTreeMap::new();
        by_code.insert("HOST_DECLINED_51".to_string(), 2);
        let w = WindowStatistics {
            window: Window::Today,
            from_ms: 0,
            to_ms: 1,
            total: 3,
            approved: 1,
            terminated: 2,
            approval_rate: Some(1.0 / 3.0),
            by_cause: vec![],
            by_code,
            top_causes: vec![],
            host_latency: LatencySummary {
                exchanges: 0,
                unanswered: 0,
                p50_ms: None,
                p90_ms: None,
                p99_ms: None,
                histogram: vec![],
            },
        };
        let r = WindowStatisticsRecord::from(&w);
        assert_eq!(
            r.by_code,
            vec![CodeCountRecord {
                code: "HOST_DECLINED_51".into(),
                count: 2
            }]
        );
        assert_eq!(r.window, StatisticsWindow::Today);
    }
}
