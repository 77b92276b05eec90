//! The health self-check as data: what the terminal measured about itself ([`HealthFacts`]), the
//! limits it is judged by ([`HealthThresholds`], the one place they live), and the verdict per
//! check ([`HealthReport`]) with zh/en detail and remedies. Gathering the facts needs the
//! terminal and lives in `txn::health`; judging them is pure and tested here.

use std::time::Duration;

use serde::Serialize;

use super::vocabulary::Remedy;
use crate::host::LinkSecurity;
use crate::ports::{DeviceFault, Link, NetworkStatus};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Ok,
    Warning,
    Failing,
}

impl CheckStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            CheckStatus::Ok => "ok",
            CheckStatus::Warning => "warning",
            CheckStatus::Failing => "failing",
        }
    }
}

/// What one check looks at; the string form is stable for fleet tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CheckKind {
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
    /// How the link to the acquirer is protected (TLS, or plain TCP on a private APN). Last, so
    /// the positions fleet tools already read stay where they were.
    LinkSecurity,
}

impl CheckKind {
    /// Short zh/en label for a person reading the report.
    pub fn label(&self) -> (&'static str, &'static str) {
        match self {
            CheckKind::Host => ("收单主机", "acquirer host"),
            CheckKind::Network => ("网络", "network"),
            CheckKind::Printer => ("打印机", "printer"),
            CheckKind::CardReader => ("读卡器", "card reader"),
            CheckKind::Scanner => ("扫码器", "scanner"),
            CheckKind::WorkingKeys => ("工作密钥", "working keys"),
            CheckKind::ClockDrift => ("时钟", "clock"),
            CheckKind::Storage => ("存储空间", "storage"),
            CheckKind::Journal => ("交易流水库", "journal"),
            CheckKind::PendingReversals => ("待冲正", "pending reversals"),
            CheckKind::PendingAdvices => ("待上送通知", "pending advices"),
            CheckKind::Batch => ("批次容量", "batch"),
            CheckKind::Settlement => ("结算", "settlement"),
            CheckKind::LinkSecurity => ("主机链路加密", "host link security"),
        }
    }
}

/// One verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HealthCheck {
    pub kind: CheckKind,
    pub status: CheckStatus,
    pub detail_zh: String,
    pub detail_en: String,
    /// Empty when the check is ok.
    pub remedies: Vec<Remedy>,
}

/// Every check, in a fixed order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HealthReport {
    /// Terminal clock, milliseconds since the Unix epoch.
    pub at_ms: i64,
    pub checks: Vec<HealthCheck>,
}

impl HealthReport {
    /// The worst status of any check.
    pub fn overall(&self) -> CheckStatus {
        self.checks
            .iter()
            .map(|c| c.status)
            .max()
            .unwrap_or(CheckStatus::Ok)
    }

    pub fn check(&self, kind: CheckKind) -> Option<&HealthCheck> {
        self.checks.iter().find(|c| c.kind == kind)
    }

    /// The status of `kind`; a check the report lacks reads as failing, never as ok.
    pub fn status(&self, kind: CheckKind) -> CheckStatus {
        self.check(kind).map_or(CheckStatus::Failing, |c| c.status)
    }
}

/// The limits every check is judged by. Defaults suit a 4G countertop or handheld terminal on a
/// UnionPay-style acquirer that expects a sign-on and a settlement every business day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthThresholds {
    /// An echo slower than this works but makes every payment slow.
    pub host_rtt_warning: Duration,
    /// Signal at or below these levels (dBm) is weak / unusable.
    pub signal_warning_dbm: i16,
    pub signal_failing_dbm: i16,
    /// Working keys older than this: the acquirer expects a daily sign-on.
    pub key_age_warning: Duration,
    /// Clock drift against the host; receipts and field 12/13 carry the terminal's time.
    pub clock_drift_warning: Duration,
    pub clock_drift_failing: Duration,
    /// Free bytes where the journal lives (or left in its storage budget).
    pub storage_warning_bytes: u64,
    pub storage_failing_bytes: u64,
    /// Transactions one batch may hold before the acquirer refuses more (field 48 upload size).
    pub batch_capacity: usize,
    /// Warn when the batch is this full (percent).
    pub batch_warning_percent: usize,
    /// Time since the last settlement (or since the oldest transaction of a never-settled batch).
    pub settlement_warning: Duration,
    pub settlement_failing: Duration,
}

const HOUR: u64 = 3600;

impl Default for HealthThresholds {
    fn default() -> Self {
        HealthThresholds {
            host_rtt_warning: Duration::from_secs(3),
            signal_warning_dbm: -100,
            signal_failing_dbm: -115,
            key_age_warning: Duration::from_secs(24 * HOUR),
            clock_drift_warning: Duration::from_secs(60),
            clock_drift_failing: Duration::from_secs(600),
            storage_warning_bytes: 64 << 20,
            storage_failing_bytes: 8 << 20,
            batch_capacity: 500,
            batch_warning_percent: 80,
            settlement_warning: Duration::from_secs(24 * HOUR),
            settlement_failing: Duration::from_secs(72 * HOUR),
        }
    }
}

/// How the echo went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostProbe {
    /// The host answered 00; `host_clock_offset_ms` is host time minus terminal time, when the
    /// answer carried fields 12/13.
    Answered {
        round_trip: Duration,
        host_clock_offset_ms: Option<i64>,
    },
    /// No usable answer: the termination code and its merchant text.
    Failed { code: String, detail_en: String },
}

/// Working keys as the journal and the session know them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeysFact {
    Missing,
    /// Present; `sign_on_required` when the host asked for a new sign-on (A0, 99, 77).
    Loaded {
        age: Duration,
        sign_on_required: bool,
    },
}

/// Everything the checks judge, measured by the terminal. `None` for an optional port means
/// "not fitted"; for a journal read it means the journal could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthFacts {
    pub at_ms: i64,
    pub host: HostProbe,
    pub network: Option<NetworkStatus>,
    pub printer: Result<(), DeviceFault>,
    pub card_reader: Result<(), DeviceFault>,
    pub scanner: Option<Result<(), DeviceFault>>,
    pub keys: KeysFact,
    /// Free bytes; `Err` with the reason when it could not be measured.
    pub free_storage: Result<u64, String>,
    /// `Err` with the fault when the journal is corrupt or unreadable.
    pub journal: Result<(), String>,
    pub pending_reversals: Option<usize>,
    pub pending_advices: Option<usize>,
    pub batch_size: Option<usize>,
    /// `None` when nothing waits to be settled.
    pub since_settlement: Option<Duration>,
    /// No settlement is on record: `since_settlement` then runs from the open batch's oldest
    /// transaction, and the check says "never settled" rather than "since the last settlement".
    pub never_settled: bool,
    /// How the transport protects the link to the acquirer.
    pub link: LinkSecurity,
}

struct Verdict {
    status: CheckStatus,
    zh: String,
    en: String,
    remedies: Vec<Remedy>,
}

fn ok(zh: impl Into<String>, en: impl Into<String>) -> Verdict {
    Verdict {
        status: CheckStatus::Ok,
        zh: zh.into(),
        en: en.into(),
        remedies: Vec::new(),
    }
}

fn bad(
    status: CheckStatus,
    zh: impl Into<String>,
    en: impl Into<String>,
    remedies: &[Remedy],
) -> Verdict {
    Verdict {
        status,
        zh: zh.into(),
        en: en.into(),
        remedies: remedies.to_vec(),
    }
}

use CheckStatus::{Failing, Warning};

/// Judges `facts` against `limits`.
pub fn evaluate(facts: &HealthFacts, limits: &HealthThresholds) -> HealthReport {
    let checks = [
        (CheckKind::Host, host(&facts.host, limits)),
        (CheckKind::Network, network(facts.network.as_ref(), limits)),
        (
            CheckKind::Printer,
            device(Some(&facts.printer), "打印机", "printer"),
        ),
        (
            CheckKind::CardReader,
            device(Some(&facts.card_reader), "读卡器", "card reader"),
        ),
        (
            CheckKind::Scanner,
            device(facts.scanner.as_ref(), "扫码器", "scanner"),
        ),
        (CheckKind::WorkingKeys, keys(facts.keys, limits)),
        (CheckKind::ClockDrift, clock(&facts.host, limits)),
        (CheckKind::Storage, storage(&facts.free_storage, limits)),
        (CheckKind::Journal, journal(&facts.journal)),
        (
            CheckKind::PendingReversals,
            queue(facts.pending_reversals, "冲正", "reversal(s)", Failing),
        ),
        (
            CheckKind::PendingAdvices,
            queue(facts.pending_advices, "退货通知", "advice(s)", Warning),
        ),
        (CheckKind::Batch, batch(facts.batch_size, limits)),
        (
            CheckKind::Settlement,
            settlement(facts.since_settlement, facts.never_settled, limits),
        ),
        (CheckKind::LinkSecurity, link(&facts.link)),
    ];
    HealthReport {
        at_ms: facts.at_ms,
        checks: checks
            .into_iter()
            .map(|(kind, v)| HealthCheck {
                kind,
                status: v.status,
                detail_zh: v.zh,
                detail_en: v.en,
                remedies: v.remedies,
            })
            .collect(),
    }
}

fn host(probe: &HostProbe, limits: &HealthThresholds) -> Verdict {
    match probe {
        HostProbe::Answered { round_trip, .. } => {
            let ms = round_trip.as_millis();
            if *round_trip > limits.host_rtt_warning {
                bad(
                    Warning,
                    format!("主机应答慢：往返 {ms} 毫秒"),
                    format!("host answers slowly: round trip {ms} ms"),
                    &[Remedy::CheckNetwork],
                )
            } else {
                ok(
                    format!("主机可达，往返 {ms} 毫秒"),
                    format!("host reachable, round trip {ms} ms"),
                )
            }
        }
        HostProbe::Failed { code, detail_en } => bad(
            Failing,
            format!("回响测试失败（{code}）"),
            format!("echo test failed ({code}): {detail_en}"),
            &[Remedy::CheckNetwork, Remedy::RetryLater, Remedy::UseQr],
        ),
    }
}

/// Plain TCP is named as such, and warned about unless nothing crosses a network: the messages
/// are MACed and the PIN block is encrypted, but the PAN, track 2 and amounts are readable by
/// anyone on the path.
fn link(security: &LinkSecurity) -> Verdict {
    match security {
        LinkSecurity::Tls {
            configured_ca,
            mutual,
        } => {
            let (trust_zh, trust_en) = if *configured_ca {
                (
                    "主机证书由配置的CA验证",
                    "host certificate checked against the configured CA",
                )
            } else {
                (
                    "主机证书由内置根证书验证",
                    "host certificate checked against the bundled root CAs",
                )
            };
            let (mutual_zh, mutual_en) = if *mutual {
                (
                    "，双向认证（终端证书）",
                    "; mutual TLS (terminal certificate)",
                )
            } else {
                ("", "")
            };
            ok(
                format!("TLS 加密，{trust_zh}{mutual_zh}"),
                format!("TLS, {trust_en}{mutual_en}"),
            )
        }
        LinkSecurity::PlainTcp {
            loopback_only: true,
        } => ok(
            "明文 TCP 至本机回环地址（模拟器或本机隧道），不经网络",
            "plain TCP to a loopback address (simulator or on-device tunnel); nothing crosses a \
             network in clear",
        ),
        LinkSecurity::PlainTcp { .. } => bad(
            Warning,
            "明文 TCP（未加密）连接收单主机：仅限专网 APN，否则请配置 TLS（tls://）",
            "plain TCP (not encrypted) to the acquirer: acceptable on a private APN only; \
             configure TLS (tls://) otherwise",
            &[Remedy::CheckConfiguration],
        ),
        _ => bad(
            Warning,
            "通信方式未声明是否加密",
            "the transport does not say whether the link to the acquirer is encrypted",
            &[Remedy::CheckConfiguration],
        ),
    }
}

fn link_name(link: Link) -> &'static str {
    match link {
        Link::Wifi => "Wi-Fi",
        Link::Cellular(g) => match g {
            crate::ports::CellularGeneration::G2 => "2G",
            crate::ports::CellularGeneration::G3 => "3G",
            crate::ports::CellularGeneration::G4 => "4G",
            _ => "5G",
        },
        Link::Ethernet => "Ethernet",
        Link::None => "none",
    }
}

fn network(status: Option<&NetworkStatus>, limits: &HealthThresholds) -> Verdict {
    let Some(s) = status else {
        return ok("未接入网络监测", "no network monitor fitted");
    };
    let name = link_name(s.link);
    if !s.connected || s.link == Link::None {
        return bad(
            Failing,
            format!("无网络连接（{name}）"),
            format!("no network connection ({name})"),
            &[Remedy::CheckNetwork, Remedy::RestartTerminal],
        );
    }
    let signal = s.signal_dbm.map_or(String::new(), |d| format!(", {d} dBm"));
    match s.signal_dbm {
        Some(d) if d <= limits.signal_failing_dbm => bad(
            Failing,
            format!("信号过弱（{name}{signal}）"),
            format!("signal unusable ({name}{signal})"),
            &[Remedy::CheckNetwork],
        ),
        Some(d) if d <= limits.signal_warning_dbm => bad(
            Warning,
            format!("信号弱（{name}{signal}）"),
            format!("weak signal ({name}{signal})"),
            &[Remedy::CheckNetwork],
        ),
        _ => ok(
            format!("已连接（{name}{signal}）"),
            format!("connected ({name}{signal})"),
        ),
    }
}

fn device(status: Option<&Result<(), DeviceFault>>, zh: &str, en: &str) -> Verdict {
    match status {
        None => ok(format!("未配备{zh}"), format!("no {en} fitted")),
        Some(Ok(())) => ok(format!("{zh}正常"), format!("{en} ready")),
        Some(Err(fault)) => {
            let t = fault.termination();
            bad(Failing, t.merchant_zh, t.merchant_en, &t.remedies)
        }
    }
}

fn keys(fact: KeysFact, limits: &HealthThresholds) -> Verdict {
    match fact {
        KeysFact::Missing => bad(
            Failing,
            "无工作密钥，需要签到",
            "no working keys; sign on",
            &[Remedy::SignOnAgain],
        ),
        KeysFact::Loaded {
            sign_on_required: true,
            ..
        } => bad(
            Failing,
            "主机要求重新签到",
            "the host asked for a new sign-on",
            &[Remedy::SignOnAgain],
        ),
        KeysFact::Loaded { age, .. } => {
            let hours = age.as_secs() / HOUR;
            if age > limits.key_age_warning {
                bad(
                    Warning,
                    format!("工作密钥已使用 {hours} 小时，请重新签到"),
                    format!("working keys are {hours} h old; sign on again"),
                    &[Remedy::SignOnAgain],
                )
            } else {
                ok(
                    format!("工作密钥已装载 {hours} 小时"),
                    format!("working keys loaded {hours} h ago"),
                )
            }
        }
    }
}

fn clock(probe: &HostProbe, limits: &HealthThresholds) -> Verdict {
    let offset = match probe {
        HostProbe::Answered {
            host_clock_offset_ms: Some(o),
            ..
        } => *o,
        HostProbe::Answered { .. } => {
            return ok("主机未返回时间，未比对", "host sent no time; not compared");
        }
        HostProbe::Failed { .. } => {
            return bad(
                Warning,
                "主机不可达，无法比对时钟",
                "host unreachable; clock not compared",
                &[Remedy::CheckNetwork],
            );
        }
    };
    let drift = Duration::from_millis(offset.unsigned_abs());
    let secs = offset / 1000;
    let status = if drift > limits.clock_drift_failing {
        Failing
    } else if drift > limits.clock_drift_warning {
        Warning
    } else {
        return ok(
            format!("与主机时差 {secs} 秒"),
            format!("{secs} s from host time"),
        );
    };
    bad(
        status,
        format!("终端时钟与主机相差 {secs} 秒"),
        format!("terminal clock is {secs} s off host time"),
        &[Remedy::CheckConfiguration, Remedy::RestartTerminal],
    )
}

fn storage(free: &Result<u64, String>, limits: &HealthThresholds) -> Verdict {
    let bytes = match free {
        Ok(b) => *b,
        Err(e) => {
            return bad(
                Warning,
                format!("无法读取剩余空间：{e}"),
                format!("free space unknown: {e}"),
                &[Remedy::ContactSupport],
            );
        }
    };
    let mib = bytes >> 20;
    let status = if bytes < limits.storage_failing_bytes {
        Failing
    } else if bytes < limits.storage_warning_bytes {
        Warning
    } else {
        return ok(format!("剩余 {mib} MiB"), format!("{mib} MiB free"));
    };
    bad(
        status,
        format!("存储空间不足：剩余 {mib} MiB"),
        format!("low storage: {mib} MiB free"),
        &[Remedy::SettleNow, Remedy::ContactSupport],
    )
}

fn journal(state: &Result<(), String>) -> Verdict {
    match state {
        Ok(()) => ok("完整性检查通过", "integrity check passed"),
        Err(e) => bad(
            Failing,
            format!("交易流水库异常：{e}"),
            format!("journal fault: {e}"),
            &[Remedy::ContactSupport],
        ),
    }
}

fn queue(count: Option<usize>, zh: &str, en: &str, when_stuck: CheckStatus) -> Verdict {
    match count {
        None => bad(
            Failing,
            format!("无法读取待处理{zh}"),
            format!("pending {en} unreadable"),
            &[Remedy::ContactSupport],
        ),
        Some(0) => ok(format!("无待处理{zh}"), format!("no pending {en}")),
        // Each one waits for the host; reversals also hold up the next payment and settlement.
        Some(n) => bad(
            when_stuck,
            format!("{n} 笔{zh}待主机确认"),
            format!("{n} {en} waiting for the host"),
            &[Remedy::CheckNetwork, Remedy::RetryLater],
        ),
    }
}

fn batch(size: Option<usize>, limits: &HealthThresholds) -> Verdict {
    let Some(n) = size else {
        return bad(
            Failing,
            "无法读取当前批次",
            "open batch unreadable",
            &[Remedy::ContactSupport],
        );
    };
    let cap = limits.batch_capacity.max(1);
    let text = (
        format!("批次 {n}/{cap} 笔"),
        format!("batch holds {n} of {cap}"),
    );
    if n >= cap {
        bad(Failing, text.0, text.1, &[Remedy::SettleNow])
    } else if n * 100 >= cap * limits.batch_warning_percent {
        bad(Warning, text.0, text.1, &[Remedy::SettleNow])
    } else {
        ok(text.0, text.1)
    }
}

fn settlement(since: Option<Duration>, never_settled: bool, limits: &HealthThresholds) -> Verdict {
    let Some(age) = since else {
        return ok("无待结算交易", "nothing to settle");
    };
    let hours = age.as_secs() / HOUR;
    let text = if never_settled {
        (
            format!("从未结算；当前批次始于 {hours} 小时前"),
            format!("never settled; the open batch began {hours} h ago"),
        )
    } else {
        (
            format!("距上次结算 {hours} 小时"),
            format!("{hours} h since the last settlement"),
        )
    };
    if age > limits.settlement_failing {
        bad(Failing, text.0, text.1, &[Remedy::SettleNow])
    } else if age > limits.settlement_warning {
        bad(Warning, text.0, text.1, &[Remedy::SettleNow])
    } else {
        ok(text.0, text.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::CellularGeneration;

    fn healthy() -> HealthFacts {
        HealthFacts {
            at_ms: 1_700_000_000_000,
            host: HostProbe::Answered {
                round_trip: Duration::from_millis(120),
                host_clock_offset_ms: Some(1_500),
            },
            network: Some(NetworkStatus {
                link: Link::Cellular(CellularGeneration::G4),
                signal_dbm: Some(-80),
                connected: true,
            }),
            printer: Ok(()),
            card_reader: Ok(()),
            scanner: Some(Ok(())),
            keys: KeysFact::Loaded {
                age: Duration::from_secs(2 * HOUR),
                sign_on_required: false,
            },
            free_storage: Ok(1 << 30),
            journal: Ok(()),
            pending_reversals: Some(0),
            pending_advices: Some(0),
            batch_size: Some(10),
            since_settlement: Some(Duration::from_secs(3 * HOUR)),
            never_settled: false,
            link: LinkSecurity::Tls {
                configured_ca: true,
                mutual: true,
            },
        }
    }

    fn judge(f: &HealthFacts) -> HealthReport {
        evaluate(f, &HealthThresholds::default())
    }

    #[test]
    fn all_ok_when_everything_is_fine() {
        let r = judge(&healthy());
        assert_eq!(r.overall(), CheckStatus::Ok, "{r:#?}");
        assert_eq!(r.checks.len(), 14);
        assert!(r.checks.iter().all(|c| c.remedies.is_empty()));
    }

    /// Each injected condition flips exactly its own check (and the clock, which depends on the
    /// echo) to the expected status, with at least one remedy.
    #[test]
    fn each_condition_is_reported() {
        type Inject = fn(&mut HealthFacts);
        let cases: &[(Inject, CheckKind, CheckStatus)] = &[
            (
                |f| {
                    f.host = HostProbe::Failed {
                        code: "NET_HOST_UNREACHABLE".into(),
                        detail_en: "refused".into(),
                    }
                },
                CheckKind::Host,
                Failing,
            ),
            (
                |f| {
                    f.host = HostProbe::Answered {
                        round_trip: Duration::from_secs(5),
                        host_clock_offset_ms: Some(0),
                    }
                },
                CheckKind::Host,
                Warning,
            ),
            (
                |f| f.network = Some(NetworkStatus::DISCONNECTED),
                CheckKind::Network,
                Failing,
            ),
            (
                |f| {
                    if let Some(n) = f.network.as_mut() {
                        n.signal_dbm = Some(-105);
                    }
                },
                CheckKind::Network,
                Warning,
            ),
            (
                |f| f.printer = Err(DeviceFault::PrinterOutOfPaper),
                CheckKind::Printer,
                Failing,
            ),
            (
                |f| {
                    f.card_reader = Err(DeviceFault::ReaderFailure {
                        message: "slot".into(),
                    })
                },
                CheckKind::CardReader,
                Failing,
            ),
            (
                |f| {
                    f.scanner = Some(Err(DeviceFault::ScannerFailure {
                        message: "camera".into(),
                    }))
                },
                CheckKind::Scanner,
                Failing,
            ),
            (
                |f| f.keys = KeysFact::Missing,
                CheckKind::WorkingKeys,
                Failing,
            ),
            (
                |f| {
                    f.keys = KeysFact::Loaded {
                        age: Duration::from_secs(30 * HOUR),
                        sign_on_required: false,
                    }
                },
                CheckKind::WorkingKeys,
                Warning,
            ),
            (
                |f| {
                    f.host = HostProbe::Answered {
                        round_trip: Duration::from_millis(100),
                        host_clock_offset_ms: Some(-120_000),
                    }
                },
                CheckKind::ClockDrift,
                Warning,
            ),
            (
                |f| {
                    f.host = HostProbe::Answered {
                        round_trip: Duration::from_millis(100),
                        host_clock_offset_ms: Some(3_600_000),
                    }
                },
                CheckKind::ClockDrift,
                Failing,
            ),
            (
                |f| f.free_storage = Ok(1 << 20),
                CheckKind::Storage,
                Failing,
            ),
            (
                |f| f.free_storage = Ok(20 << 20),
                CheckKind::Storage,
                Warning,
            ),
            (
                |f| f.journal = Err("quick_check: page 3".into()),
                CheckKind::Journal,
                Failing,
            ),
            (
                |f| f.pending_reversals = Some(2),
                CheckKind::PendingReversals,
                Failing,
            ),
            (
                |f| f.pending_advices = Some(1),
                CheckKind::PendingAdvices,
                Warning,
            ),
            (|f| f.batch_size = Some(450), CheckKind::Batch, Warning),
            (|f| f.batch_size = Some(500), CheckKind::Batch, Failing),
            (
                |f| f.since_settlement = Some(Duration::from_secs(30 * HOUR)),
                CheckKind::Settlement,
                Warning,
            ),
            (
                |f| f.since_settlement = Some(Duration::from_secs(80 * HOUR)),
                CheckKind::Settlement,
                Failing,
            ),
            (
                |f| {
                    f.link = LinkSecurity::PlainTcp {
                        loopback_only: false,
                    }
                },
                CheckKind::LinkSecurity,
                Warning,
            ),
            (
                |f| f.link = LinkSecurity::Undeclared,
                CheckKind::LinkSecurity,
                Warning,
            ),
        ];
        for (i, (inject, kind, want)) in cases.iter().enumerate() {
            let mut f = healthy();
            inject(&mut f);
            let r = judge(&f);
            let c = r.check(*kind).unwrap();
            assert_eq!(c.status, *want, "case {i}: {c:?}");
            assert!(!c.remedies.is_empty(), "case {i}: no remedy");
            assert!(!c.detail_zh.is_empty() && !c.detail_en.is_empty());
            for other in &r.checks {
                let echo_related =
                    matches!(*kind, CheckKind::Host) && other.kind == CheckKind::ClockDrift;
                if other.kind != *kind && !echo_related {
                    assert_eq!(other.status, CheckStatus::Ok, "case {i}: {other:?}");
                }
            }
            assert_eq!(r.overall(), *want, "case {i}");
        }
    }

    #[test]
    fn absent_optional_ports_are_not_faults() {
        let mut f = healthy();
        f.scanner = None;
        f.network = None;
        f.since_settlement = None;
        let r = judge(&f);
        assert_eq!(r.overall(), CheckStatus::Ok);
        assert!(
            r.check(CheckKind::Scanner)
                .unwrap()
                .detail_en
                .contains("no scanner")
        );
    }

    #[test]
    fn a_journal_that_never_settled_says_so() {
        let mut f = healthy();
        f.never_settled = true;
        let check = judge(&f).check(CheckKind::Settlement).unwrap().clone();
        assert_eq!(
            check.detail_en,
            "never settled; the open batch began 3 h ago"
        );
        assert!(check.detail_zh.starts_with("从未结算"));
        f.never_settled = false;
        let check = judge(&f).check(CheckKind::Settlement).unwrap().clone();
        assert_eq!(check.detail_en, "3 h since the last settlement");
    }

    #[test]
    fn the_link_check_names_plain_tcp_and_what_tls_verifies() {
        let text = |link: LinkSecurity| {
            let mut f = healthy();
            f.link = link;
            let c = judge(&f).check(CheckKind::LinkSecurity).cloned().unwrap();
            (c.status, c.detail_en)
        };
        let (status, en) = text(LinkSecurity::PlainTcp {
            loopback_only: false,
        });
        assert_eq!(status, CheckStatus::Warning);
        assert!(
            en.contains("plain TCP") && en.contains("private APN"),
            "{en}"
        );
        // On loopback nothing crosses a network: named, not warned about.
        let (status, en) = text(LinkSecurity::PlainTcp {
            loopback_only: true,
        });
        assert_eq!(status, CheckStatus::Ok);
        assert!(en.contains("plain TCP to a loopback address"), "{en}");
        let (status, en) = text(LinkSecurity::Tls {
            configured_ca: false,
            mutual: false,
        });
        assert_eq!(status, CheckStatus::Ok);
        assert_eq!(
            en,
            "TLS, host certificate checked against the bundled root CAs"
        );
        let json = serde_json::to_value(judge(&healthy())).unwrap();
        assert_eq!(json["checks"][13]["kind"], "link_security");
    }

    #[test]
    fn device_fault_reuses_the_termination_remedies() {
        let mut f = healthy();
        f.printer = Err(DeviceFault::PrinterOutOfPaper);
        let c = judge(&f).check(CheckKind::Printer).cloned().unwrap();
        assert!(c.remedies.contains(&Remedy::ReplacePaper));
        assert!(c.detail_en.contains("out of paper"));
    }

    #[test]
    fn report_serialises_with_stable_names() {
        let mut f = healthy();
        f.keys = KeysFact::Missing;
        let json = serde_json::to_value(judge(&f)).unwrap();
        let keys = &json["checks"][5];
        assert_eq!(keys["kind"], "working_keys");
        assert_eq!(keys["status"], "failing");
        assert_eq!(keys["remedies"][0], "sign_on_again");
    }
}
