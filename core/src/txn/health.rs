//! `Terminal::health`: measures what `diag::health` judges — an echo to the host (round trip
//! and the host's clock), the network, printer, reader and scanner, keys, storage, the journal,
//! queues, the batch, the last settlement and how the link to the host is protected.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::calendar::{civil_from_days, days_from_civil};

use crate::codec::iso8583::Message;
use crate::diag::HealthReport;
use crate::diag::health::{self, HealthFacts, HealthThresholds, HostProbe, KeysFact};
use crate::txn::sign_on::NET_ECHO;
use crate::txn::terminal::{PED_KEYS_LABEL, Terminal, WORKING_KEYS_LABEL};

/// Fields 12/13 are China local time (UTC+8), as on every UnionPay message.
const CHINA_OFFSET_MS: i64 = 8 * 3600 * 1000;
const DAY_MS: i64 = 24 * 3600 * 1000;

impl Terminal {
    /// Runs every check with the default thresholds.
    pub fn health(&self) -> HealthReport {
        self.health_with(&HealthThresholds::default())
    }

    /// Runs every check against `limits`. Waits for a transaction in progress (the echo shares
    /// the link), never fails: what cannot be measured is reported as a failing check.
    pub fn health_with(&self, limits: &HealthThresholds) -> HealthReport {
        let host = self.probe_host();
        let at_ms = self.now_ms();
        // A PED is asked whether it has keys (before the journal lock: it is a device call);
        // the journal only dates them. Keys a PED had before this journal are of unknown age.
        let ped = self.ports.vault.keeps_keys_across_restarts();
        let ped_has_keys = ped && self.ports.vault.has_working_keys();
        let (keys, journal_state) = {
            let sign_on_required = self.session().sign_on_required;
            let label = if ped {
                PED_KEYS_LABEL
            } else {
                WORKING_KEYS_LABEL
            };
            let keys = match self.journal().key(label) {
                Ok(Some((_, loaded_at))) if !ped || ped_has_keys => KeysFact::Loaded {
                    age: Duration::from_millis((at_ms - loaded_at).max(0) as u64),
                    sign_on_required,
                },
                Ok(None) if ped_has_keys => KeysFact::Loaded {
                    age: Duration::ZERO,
                    sign_on_required,
                },
                _ => KeysFact::Missing,
            };
            let journal_state = match self.session().storage_fault.as_ref() {
                Some(f) => Err(format!("{} (unacknowledged)", f.detail)),
                None => self.journal().quick_check().map_err(|e| e.to_string()),
            };
            (keys, journal_state)
        };
        let mut journal = self.journal();
        let pending_reversals = journal.unresolved_reversals().ok().map(|r| r.len());
        let pending_advices = journal.pending_advices().ok().map(|a| a.len());
        let fill = journal.batch_no().and_then(|b| journal.batch_fill(b)).ok();
        let last_settlement = journal.last_settlement_ms();
        let never_settled = matches!(last_settlement, Ok(None));
        let since_settlement = match (fill, last_settlement) {
            (Some((0, _)), _) => None,
            (Some((_, oldest)), Ok(last)) => last
                .or(oldest)
                .map(|t| Duration::from_millis((at_ms - t).max(0) as u64)),
            _ => None,
        };
        let free_storage = free_bytes(&self.config.journal_path).map(|disk| {
            journal
                .budget_left()
                .ok()
                .flatten()
                .map_or(disk, |budget| budget.min(disk))
        });
        drop(journal);
        let facts = HealthFacts {
            at_ms,
            host,
            network: self.ports.network.as_ref().map(|n| n.status()),
            printer: self.ports.printer.status(),
            card_reader: self.ports.card_reader.status(),
            scanner: self.ports.scanner.as_ref().map(|s| s.status()),
            keys,
            free_storage,
            journal: journal_state,
            pending_reversals,
            pending_advices,
            batch_size: fill.map(|(n, _)| n),
            since_settlement,
            never_settled,
            link: self.transport.security(),
        };
        health::evaluate(&facts, limits)
    }

    fn probe_host(&self) -> HostProbe {
        let _one = self.exclusive();
        let started = Instant::now();
        let answer = self.network_message("0820", NET_ECHO);
        let round_trip = started.elapsed();
        match answer {
            Ok(m) if m.field_text(39).as_deref() == Some("00") => HostProbe::Answered {
                round_trip,
                host_clock_offset_ms: host_clock_offset(&m, self.now_ms()),
            },
            Ok(m) => {
                let code = m.field_text(39).unwrap_or_default();
                let t = crate::txn::endings::from_response(&code);
                HostProbe::Failed {
                    code: t.code.to_string(),
                    detail_en: t.merchant_en,
                }
            }
            Err(t) => HostProbe::Failed {
                code: t.code.to_string(),
                detail_en: t.merchant_en,
            },
        }
    }
}

/// Host time minus terminal time from fields 12 (hhmmss) and 13 (MMDD) of an answer. The fields
/// carry no year: the year that puts the host closest to the terminal is taken, so a drift
/// across New Year still reads as seconds, not as a year.
pub(crate) fn host_clock_offset(m: &Message, terminal_ms: i64) -> Option<i64> {
    let time = m.field_text(12)?;
    let date = m.field_text(13)?;
    let num = |s: &str, from: usize| s.get(from..from + 2)?.parse::<i64>().ok();
    let (hh, mi, ss) = (num(&time, 0)?, num(&time, 2)?, num(&time, 4)?);
    let (mo, dd) = (num(&date, 0)?, num(&date, 2)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&dd) || hh > 23 || mi > 59 || ss > 59 {
        return None;
    }
    let local_ms = terminal_ms + CHINA_OFFSET_MS;
    let (year, _, _) = civil_from_days(local_ms.div_euclid(DAY_MS));
    [year - 1, year, year + 1]
        .into_iter()
        .map(|y| {
            let days = days_from_civil(y, mo, dd);
            (days * 86_400 + hh * 3600 + mi * 60 + ss) * 1000 - local_ms
        })
        .min_by_key(|offset| offset.abs())
}

/// Fields 12 (hhmmss) and 13 (MMDD) for `at`, in China local time: what a host puts in its
/// answers and [`host_clock_offset`] reads back.
pub fn local_time_fields(at: SystemTime) -> (String, String) {
    let ms = china_local_ms(at);
    let (_, m, d) = civil_from_days(ms.div_euclid(DAY_MS));
    let secs = ms.rem_euclid(DAY_MS) / 1000;
    (
        format!("{:02}{:02}{:02}", secs / 3600, secs % 3600 / 60, secs % 60),
        format!("{m:02}{d:02}"),
    )
}

/// The China local date of `at` as YYMMDD: the transaction date (9A) the chip kernel signs.
pub(crate) fn local_date_yymmdd(at: SystemTime) -> String {
    let (y, m, d) = civil_from_days(china_local_ms(at).div_euclid(DAY_MS));
    format!("{:02}{m:02}{d:02}", y.rem_euclid(100))
}

/// Milliseconds since the epoch, shifted to China local time (UTC+8).
fn china_local_ms(at: SystemTime) -> i64 {
    at.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
        + CHINA_OFFSET_MS
}

/// Free bytes for an unprivileged writer on the file system holding the journal.
fn free_bytes(journal: &Path) -> Result<u64, String> {
    let dir = match journal.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let st = rustix::fs::statvfs(dir).map_err(|e| format!("statvfs {}: {e}", dir.display()))?;
    Ok(st.f_bavail.saturating_mul(st.f_frsize))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::iso8583::Message;

    fn answer(time: &str, date: &str) -> Message {
        let mut m = Message::new("0830");
        m.set_digits(12, time);
        m.set_digits(13, date);
        m
    }

    /// 2026-11-26 10:00:00 China time (date -d '2026-11-26T10:00:00+08:00' +%s%3N).
    const T: i64 = 1_795_658_400_000;

    #[test]
    fn offset_from_fields_12_and_13() {
        assert_eq!(host_clock_offset(&answer("100000", "1126"), T), Some(0));
        assert_eq!(
            host_clock_offset(&answer("100130", "1126"), T),
            Some(90_000)
        );
        assert_eq!(
            host_clock_offset(&answer("095500", "1126"), T),
            Some(-300_000)
        );
        assert_eq!(host_clock_offset(&answer("1000", "1126"), T), None);
        assert_eq!(host_clock_offset(&answer("100000", "1326"), T), None);
        assert_eq!(host_clock_offset(&Message::new("0830"), T), None);
    }

    #[test]
    fn local_time_fields_read_back_as_no_offset() {
        let at = UNIX_EPOCH + Duration::from_millis(T as u64);
        assert_eq!(
            local_time_fields(at),
            ("100000".to_owned(), "1126".to_owned())
        );
        let (time, date) = local_time_fields(at + Duration::from_secs(42));
        assert_eq!(host_clock_offset(&answer(&time, &date), T), Some(42_000));
    }

    #[test]
    fn offset_across_new_year_is_seconds() {
        // Terminal: 2027-01-01 00:00:10 China time; host: 2026-12-31 23:59:50.
        // date -d '2027-01-01T00:00:10+08:00' +%s -> 1798732810
        let t = 1_798_732_810_000;
        assert_eq!(
            host_clock_offset(&answer("235950", "1231"), t),
            Some(-20_000)
        );
    }
}
