//! Figures for the journal issue, printed rather than asserted (timings never gate CI):
//! online sales against the simulator on loopback with full durability — sales per second,
//! p50/p99 latency, user CPU per sale (fsync is kernel time and disk wait, so user CPU is the
//! core's own work plus the in-process simulator's), journal commits per sale — and cold open
//! plus recovery of a journal holding 100,000 transactions (and when the integrity check that
//! runs on after open delivers its verdict).
//!
//! Run: `cargo bench -p smartpos-e2e --bench online_sale` (SMARTPOS_BENCH_SALES to change N;
//! SMARTPOS_BENCH_ONLY_SALES or SMARTPOS_BENCH_ONLY_OPEN for one half).

use std::time::{Duration, Instant};

use smartpos_e2e::{Harness, open_terminal};

fn user_cpu() -> Duration {
    // /proc/self/stat fields 14 (utime) in clock ticks; Linux only, like the machines this runs on.
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_comm = stat.rsplit(')').next().unwrap_or("");
    let utime: u64 = after_comm
        .split_whitespace()
        .nth(11)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Duration::from_millis(utime * 10)
}

/// User and system CPU of the calling thread (fields 14 and 15 of /proc/thread-self/stat, in
/// clock ticks). The terminal runs a sale entirely on the caller's thread, while the in-process
/// simulator serves on threads of its own, so this is the core's CPU without the simulator's.
fn thread_cpu() -> (Duration, Duration) {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    let after_comm = stat.rsplit(')').next().unwrap_or("");
    let mut fields = after_comm.split_whitespace().skip(11);
    let mut next = || {
        fields
            .next()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let (utime, stime) = (next(), next());
    (
        Duration::from_millis(utime * 10),
        Duration::from_millis(stime * 10),
    )
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn online_sales(n: usize) {
    // Risk checks off: the bench repeats one card far past the velocity rule on purpose. (The
    // pre-check itself costs under a microsecond: core/benches/risk.rs.)
    let h = Harness::without_risk_checks();
    h.sale("warm-up", "normal", Some("123456"), 100);
    let commits_before = h.terminal.journal_commits();
    let cpu_before = user_cpu();
    let (thread_user_before, thread_sys_before) = thread_cpu();
    let start = Instant::now();
    let mut latencies = Vec::with_capacity(n);
    // The open batch holds 500 transactions; settle before it fills, and leave the settlement's
    // time, CPU and commits out of the per-sale figures.
    let mut settling = (
        Duration::ZERO,
        Duration::ZERO,
        Duration::ZERO,
        Duration::ZERO,
        0,
    );
    for i in 0..n {
        if i > 0 && i % 400 == 0 {
            let (t, p, (u, k), c) = (
                Instant::now(),
                user_cpu(),
                thread_cpu(),
                h.terminal.journal_commits(),
            );
            h.terminal.settle().expect("settle");
            let (u2, k2) = thread_cpu();
            settling.0 += t.elapsed();
            settling.1 += user_cpu() - p;
            settling.2 += u2 - u;
            settling.3 += k2 - k;
            settling.4 += h.terminal.journal_commits() - c;
        }
        let t = Instant::now();
        let outcome = h.sale(
            &format!("bench-{i}"),
            "credit",
            Some("123456"),
            100 + i as u64,
        );
        latencies.push(t.elapsed());
        assert!(outcome.is_approved(), "{outcome:?}");
    }
    let wall = start.elapsed() - settling.0;
    let cpu = user_cpu() - cpu_before - settling.1;
    let (thread_user, thread_sys) = thread_cpu();
    let (thread_user, thread_sys) = (
        thread_user - thread_user_before - settling.2,
        thread_sys - thread_sys_before - settling.3,
    );
    let commits = h.terminal.journal_commits() - commits_before - settling.4;
    latencies.sort();
    println!("online sale, {n} sales on loopback, WAL + synchronous=FULL:");
    println!(
        "  sales per second      {:.0}",
        n as f64 / wall.as_secs_f64()
    );
    println!("  latency p50           {:?}", percentile(&latencies, 0.50));
    println!("  latency p99           {:?}", percentile(&latencies, 0.99));
    println!(
        "  user CPU per sale     {:?} (terminal + in-process simulator)",
        cpu / n as u32
    );
    println!(
        "  core CPU per sale      user {:?}, kernel {:?} (the terminal's thread only; kernel \
         time holds the syscalls, fsync's share included, not its disk wait)",
        thread_user / n as u32,
        thread_sys / n as u32
    );
    println!("  journal commits/sale  {:.2}", commits as f64 / n as f64);
}

fn open_big_journal(rows: usize) {
    let h = Harness::new();
    h.sale("seed", "normal", Some("123456"), 100);
    let path = h.journal_path();
    // Fill the journal through SQLite directly: 100,000 journaled sales through the engine would
    // take 200,000 fsyncs. The rows copy the shape of the one real sale.
    {
        let conn = rusqlite::Connection::open(&path).expect("journal");
        conn.execute_batch("BEGIN").expect("begin");
        let mut stmt = conn
            .prepare(
                "INSERT INTO transactions (attempt_id, kind, state, amount_fen, currency, stan, \
                 batch_no, pan_masked, pan_sealed, entry_mode, rrn, auth_code, response_code, \
                 created_at, updated_at) \
                 SELECT ?1, kind, state, amount_fen, currency, ?2, batch_no, pan_masked, \
                 pan_sealed, entry_mode, rrn, auth_code, response_code, created_at, updated_at \
                 FROM transactions WHERE attempt_id = 'seed'",
            )
            .expect("prepare");
        for i in 0..rows {
            stmt.execute(rusqlite::params![
                format!("bulk-{i}"),
                (i % 999_999) as i64 + 1
            ])
            .expect("insert");
        }
        drop(stmt);
        conn.execute_batch("COMMIT").expect("commit");
    }
    let endpoints = vec![h.sim.addr()];
    let key = h.storage_key_bytes().to_vec();
    let mut samples = Vec::new();
    let mut verdicts = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let opened = open_terminal(&h.dir, &endpoints, &key).expect("open");
        samples.push(t.elapsed());
        // The integrity check runs on after open; the first payment would wait for it here.
        assert!(opened.0.unacknowledged_storage_fault().is_none());
        verdicts.push(t.elapsed());
        drop(opened);
    }
    samples.sort();
    verdicts.sort();
    println!(
        "cold open + recovery, journal of {} transactions:",
        rows + 1
    );
    println!(
        "  median {:?}, best {:?}, worst {:?}",
        samples[2], samples[0], samples[4]
    );
    println!(
        "  integrity verdict (background quick_check) in by: median {:?}",
        verdicts[2]
    );
    let mut journal_only = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        drop(smartpos_core::store::Journal::open(&path).expect("journal"));
        journal_only.push(t.elapsed());
    }
    journal_only.sort();
    println!(
        "  Journal::open with quick_check inline, for comparison: median {:?}",
        journal_only[2]
    );
}

fn main() {
    if std::env::var("SMARTPOS_BENCH_ONLY_OPEN").is_ok() {
        open_big_journal(100_000);
        return;
    }
    let n = std::env::var("SMARTPOS_BENCH_SALES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    online_sales(n);
    if std::env::var("SMARTPOS_BENCH_ONLY_SALES").is_err() {
        open_big_journal(100_000);
    }
}
