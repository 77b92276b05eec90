//! Termination statistics over time windows: counts by cause and code, approval rate, top causes
//! and host latency percentiles. Pure computation over rows the journal keeps (`store::stats`);
//! the result serialises to JSON for fleet tools.

use std::collections::BTreeMap;

use serde::Serialize;

use super::vocabulary::Cause;

/// China Standard Time (UTC+8, no daylight saving): "today" starts at Beijing midnight, as the
/// receipts and the acquirer's business day do.
pub const CHINA_UTC_OFFSET_MS: i64 = 8 * 3600 * 1000;

const DAY_MS: i64 = 24 * 3600 * 1000;

/// Ending kinds that are not payments (their terminations count by cause and code, but not in
/// the approval rate).
pub const NON_PAYMENT_KINDS: [&str; 3] = ["sign_on", "settlement", "ic_download"];

/// How many top causes a window lists.
const TOP_CAUSES: usize = 3;

/// One ending the engine returned: an approval, or a termination with its code and cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndingRow {
    pub at_ms: i64,
    /// Transaction kind name (e.g. "sale", "settlement").
    pub kind: String,
    /// `None` for an approval.
    pub termination: Option<(String, Cause)>,
}

/// One host exchange and how long it took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExchangeSample {
    pub at_ms: i64,
    pub latency_ms: u64,
    /// False when no answer came (timeouts count at the time they took).
    pub answered: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Window {
    /// Since midnight China time.
    Today,
    /// The last 7 × 24 hours.
    Last7Days,
}

impl Window {
    pub fn label(&self) -> (&'static str, &'static str) {
        match self {
            Window::Today => ("今日", "today"),
            Window::Last7Days => ("近7天", "last 7 days"),
        }
    }

    /// The window's start for a terminal clock reading of `now_ms`.
    pub fn start_ms(&self, now_ms: i64) -> i64 {
        match self {
            Window::Today => {
                let local = now_ms + CHINA_UTC_OFFSET_MS;
                local - local.rem_euclid(DAY_MS) - CHINA_UTC_OFFSET_MS
            }
            Window::Last7Days => now_ms - 7 * DAY_MS,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CauseCount {
    pub cause: Cause,
    pub count: u64,
}

/// Upper bounds (inclusive, ms) of the latency histogram's buckets; a last bucket takes the rest.
/// Chosen around what a merchant notices: under a quarter second feels instant, over five
/// seconds is close to the terminal's response timeout.
pub const LATENCY_BUCKETS_MS: [u64; 6] = [100, 250, 500, 1000, 2000, 5000];

/// One histogram bar: round trips up to `upto_ms` (and above the previous bound); `None` is the
/// open-ended last bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LatencyBucket {
    pub upto_ms: Option<u64>,
    pub count: u64,
}

/// Nearest-rank percentiles of host round trips, in milliseconds; `None` without samples.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LatencySummary {
    pub exchanges: u64,
    pub unanswered: u64,
    pub p50_ms: Option<u64>,
    pub p90_ms: Option<u64>,
    pub p99_ms: Option<u64>,
    pub histogram: Vec<LatencyBucket>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowStatistics {
    pub window: Window,
    pub from_ms: i64,
    pub to_ms: i64,
    /// Payment endings (every transaction kind, not sign-on or settlement): approved plus
    /// terminated.
    pub total: u64,
    pub approved: u64,
    pub terminated: u64,
    /// approved / total; `None` when no payment ended in the window.
    pub approval_rate: Option<f64>,
    /// Terminations per cause, payments and other operations alike (every cause listed, zero
    /// included, in taxonomy order).
    pub by_cause: Vec<CauseCount>,
    /// Terminations per termination code.
    pub by_code: BTreeMap<String, u64>,
    /// The most frequent causes, most frequent first (ties in taxonomy order), zeros left out.
    pub top_causes: Vec<CauseCount>,
    pub host_latency: LatencySummary,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatisticsReport {
    pub terminal_id: String,
    pub generated_at_ms: i64,
    pub windows: Vec<WindowStatistics>,
}

impl StatisticsReport {
    pub fn window(&self, w: Window) -> Option<&WindowStatistics> {
        self.windows.iter().find(|s| s.window == w)
    }
}

/// Statistics for today and the last 7 days as of `now_ms`. Rows outside a window (including
/// any stamped after `now_ms` by a clock that was later set back) are not counted in it.
pub fn compute(
    terminal_id: &str,
    now_ms: i64,
    endings: &[EndingRow],
    exchanges: &[ExchangeSample],
) -> StatisticsReport {
    let windows = [Window::Today, Window::Last7Days]
        .into_iter()
        .map(|w| window(w, now_ms, endings, exchanges))
        .collect();
    StatisticsReport {
        terminal_id: terminal_id.to_owned(),
        generated_at_ms: now_ms,
        windows,
    }
}

fn window(
    w: Window,
    now_ms: i64,
    endings: &[EndingRow],
    exchanges: &[ExchangeSample],
) -> WindowStatistics {
    let from_ms = w.start_ms(now_ms);
    let inside = |at: i64| at >= from_ms && at <= now_ms;
    let mut approved = 0;
    let mut terminated = 0;
    let mut per_cause: BTreeMap<usize, u64> = BTreeMap::new();
    let mut by_code = BTreeMap::new();
    for e in endings.iter().filter(|e| inside(e.at_ms)) {
        let payment = !NON_PAYMENT_KINDS.contains(&e.kind.as_str());
        match &e.termination {
            None => approved += u64::from(payment),
            Some((code, cause)) => {
                terminated += u64::from(payment);
                let idx = Cause::ALL.iter().position(|c| c == cause).unwrap_or(0);
                *per_cause.entry(idx).or_default() += 1;
                *by_code.entry(code.clone()).or_default() += 1;
            }
        }
    }
    let by_cause: Vec<CauseCount> = Cause::ALL
        .iter()
        .enumerate()
        .map(|(i, cause)| CauseCount {
            cause: *cause,
            count: per_cause.get(&i).copied().unwrap_or(0),
        })
        .collect();
    let mut top_causes: Vec<CauseCount> =
        by_cause.iter().copied().filter(|c| c.count > 0).collect();
    // Stable sort keeps taxonomy order among equal counts.
    top_causes.sort_by_key(|c| std::cmp::Reverse(c.count));
    top_causes.truncate(TOP_CAUSES);
    let total = approved + terminated;
    let samples: Vec<&ExchangeSample> = exchanges.iter().filter(|x| inside(x.at_ms)).collect();
    let mut latencies: Vec<u64> = samples.iter().map(|x| x.latency_ms).collect();
    latencies.sort_unstable();
    WindowStatistics {
        window: w,
        from_ms,
        to_ms: now_ms,
        total,
        approved,
        terminated,
        approval_rate: (total > 0).then(|| approved as f64 / total as f64),
        by_cause,
        by_code,
        top_causes,
        host_latency: LatencySummary {
            exchanges: samples.len() as u64,
            unanswered: samples.iter().filter(|x| !x.answered).count() as u64,
            p50_ms: percentile(&latencies, 50),
            p90_ms: percentile(&latencies, 90),
            p99_ms: percentile(&latencies, 99),
            histogram: histogram(&latencies),
        },
    }
}

fn histogram(latencies: &[u64]) -> Vec<LatencyBucket> {
    let bounds = LATENCY_BUCKETS_MS.iter().map(|b| Some(*b)).chain([None]);
    let mut lower = 0;
    bounds
        .map(|upto| {
            let count = latencies
                .iter()
                .filter(|l| {
                    let above = lower == 0 || **l > lower;
                    above && upto.is_none_or(|u| **l <= u)
                })
                .count() as u64;
            lower = upto.unwrap_or(u64::MAX);
            LatencyBucket {
                upto_ms: upto,
                count,
            }
        })
        .collect()
}

/// Nearest-rank percentile of sorted `values`: the smallest value with at least `p` percent of
/// the values at or below it (rank ⌈p/100 · n⌉). It is always an observed latency, which is what
/// an operator comparing against logs expects.
pub fn percentile(sorted: &[u64], p: u32) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len() as u64;
    let rank = (u64::from(p.min(100)) * n).div_ceil(100).max(1);
    sorted.get((rank - 1) as usize).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-26 10:00:00 China time = 02:00:00 UTC.
    const NOW: i64 = 1_795_658_400_000;

    fn ending(at_ms: i64, termination: Option<(&str, Cause)>) -> EndingRow {
        EndingRow {
            at_ms,
            kind: "sale".into(),
            termination: termination.map(|(c, k)| (c.to_owned(), k)),
        }
    }

    #[test]
    fn today_starts_at_beijing_midnight() {
        // 2026-11-26 00:00 +08:00 is 2026-11-25 16:00 UTC (date -d '2026-11-26T00:00+08:00' +%s).
        assert_eq!(Window::Today.start_ms(NOW), 1_795_622_400_000);
        assert_eq!(Window::Last7Days.start_ms(NOW), NOW - 7 * DAY_MS);
    }

    #[test]
    fn nearest_rank_percentiles() {
        // Cross-checked with numpy 2.x:
        // np.percentile(range(1, 11), [50, 90, 99], method="inverted_cdf") -> [5, 9, 10].
        let v: Vec<u64> = (1..=10).collect();
        assert_eq!(percentile(&v, 50), Some(5));
        assert_eq!(percentile(&v, 90), Some(9));
        assert_eq!(percentile(&v, 99), Some(10));
        assert_eq!(percentile(&[42], 99), Some(42));
        assert_eq!(percentile(&[], 50), None);
        // np.percentile([15, 20, 35, 40, 50], [30, 40, 100], method="inverted_cdf") -> [20, 20, 50]
        // (the worked example of the nearest-rank method on Wikipedia, "Percentile").
        let w = [15, 20, 35, 40, 50];
        assert_eq!(percentile(&w, 30), Some(20));
        assert_eq!(percentile(&w, 40), Some(20));
        assert_eq!(percentile(&w, 100), Some(50));
    }

    #[test]
    fn windows_count_causes_codes_and_approval_rate() {
        let yesterday = Window::Today.start_ms(NOW) - 1;
        let rows = vec![
            ending(NOW - 1000, None),
            ending(NOW - 2000, None),
            ending(NOW - 3000, Some(("HOST_DECLINED_51", Cause::Account))),
            ending(NOW - 4000, Some(("NET_TIMEOUT", Cause::Network))),
            ending(yesterday, Some(("NET_TIMEOUT", Cause::Network))),
            ending(yesterday, Some(("DEV_READER", Cause::Device))),
            ending(NOW - 8 * DAY_MS, Some(("RISK_LOCAL", Cause::Risk))),
            ending(NOW + 1000, None),
            EndingRow {
                at_ms: NOW - 5000,
                kind: "settlement".into(),
                termination: Some(("NET_HOST_UNREACHABLE".into(), Cause::Network)),
            },
        ];
        let r = compute("T0000001", NOW, &rows, &[]);
        let today = r.window(Window::Today).unwrap();
        assert_eq!((today.total, today.approved, today.terminated), (4, 2, 2));
        assert_eq!(today.approval_rate, Some(0.5));
        assert_eq!(today.by_code.get("NET_TIMEOUT"), Some(&1));
        // A failed settlement counts by cause and code, not against the approval rate.
        assert_eq!(today.by_code.get("NET_HOST_UNREACHABLE"), Some(&1));
        let network = today.by_cause.iter().find(|c| c.cause == Cause::Network);
        assert_eq!(network.map(|c| c.count), Some(2));
        let week = r.window(Window::Last7Days).unwrap();
        assert_eq!((week.total, week.approved), (6, 2));
        assert_eq!(week.by_code.get("NET_TIMEOUT"), Some(&2));
        assert_eq!(week.terminated, 4);
        assert!(
            !week.by_code.contains_key("RISK_LOCAL"),
            "older than 7 days"
        );
        assert_eq!(
            week.top_causes,
            vec![
                CauseCount {
                    cause: Cause::Network,
                    count: 3
                },
                CauseCount {
                    cause: Cause::Device,
                    count: 1
                },
                CauseCount {
                    cause: Cause::Account,
                    count: 1
                },
            ]
        );
        assert_eq!(week.by_cause.len(), Cause::ALL.len());
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["windows"][0]["window"], "today");
        assert_eq!(json["windows"][1]["top_causes"][0]["cause"], "network");
    }

    #[test]
    fn empty_window_has_no_rate_and_no_percentiles() {
        let r = compute("T0000001", NOW, &[], &[]);
        let today = r.window(Window::Today).unwrap();
        assert_eq!(today.approval_rate, None);
        assert_eq!(today.host_latency.p50_ms, None);
        assert!(today.top_causes.is_empty());
    }

    #[test]
    fn latency_over_the_window() {
        let samples: Vec<ExchangeSample> = (1..=100)
            .map(|i| ExchangeSample {
                at_ms: NOW - i,
                latency_ms: i as u64 * 10,
                answered: i != 100,
            })
            .chain(std::iter::once(ExchangeSample {
                at_ms: NOW - 9 * DAY_MS,
                latency_ms: 99_999,
                answered: true,
            }))
            .collect();
        let r = compute("T0000001", NOW, &[], &samples);
        let l = &r.window(Window::Last7Days).unwrap().host_latency;
        assert_eq!(l.exchanges, 100);
        assert_eq!(l.unanswered, 1);
        // 10..=100 ms: 10 samples; 110..=250: 15; 260..=500: 25; 510..=1000: 50.
        let counts: Vec<u64> = l.histogram.iter().map(|b| b.count).collect();
        assert_eq!(counts, vec![10, 15, 25, 50, 0, 0, 0]);
        assert_eq!(l.histogram.last().unwrap().upto_ms, None);
        // Nearest rank over 10, 20, …, 1000: ranks 50, 90, 99.
        assert_eq!(
            (l.p50_ms, l.p90_ms, l.p99_ms),
            (Some(500), Some(900), Some(990))
        );
    }
}
