//! Crash harness for "nothing lost, nothing charged twice": `smartpos pay` is killed with
//! SIGKILL at random moments, `smartpos recover` runs after every kill, and at the end the
//! terminal's journal and the acquirer's ledger must agree to the fen and the STAN.
//!
//! `SMARTPOS_CRASH_ROUNDS` (default 20) sets the rounds; `SMARTPOS_CRASH_SEED` replays a run.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use smartpos_core::store::Journal;
use smartpos_tools::demo_setup::DEMO_TERMINAL_ID;
use smartpos_tools::sim::{OnPathProxy, Tamper};
use smartpos_tools::terminal_setup::LoadRng;

#[cfg(feature = "crash-points")]
#[path = "crash_harness/offline_signed.rs"]
mod offline_signed;

const BIN: &str = env!("CARGO_BIN_EXE_smartpos");
/// Sales per `pay` process: enough that most kills land inside the run.
const SALES_PER_ROUND: &str = "8";
/// Rounds between settlements, as a shop settles: a batch takes 500 transactions, and a long run
/// without settling would end in (correct) `MNT_BATCH_FULL` refusals instead of payments.
const SETTLE_EVERY_ROUNDS: u32 = 10;

/// The simulator as a child process, killed when the test ends (or fails).
struct Sim {
    child: Child,
    addr: String,
    /// The QR gateway's base URL, when started with one.
    qr_url: Option<String>,
}

impl Sim {
    fn start(ledger: &Path) -> Sim {
        Sim::spawn(ledger, None, None)
    }

    /// With the simulated QR gateway beside the acquirer, its orders written to `qr_ledger`.
    fn start_with_qr(ledger: &Path, qr_ledger: &Path) -> Sim {
        Sim::spawn(ledger, Some(qr_ledger), None)
    }

    fn spawn(ledger: &Path, qr_ledger: Option<&Path>, esign_dir: Option<&Path>) -> Sim {
        let mut command = Command::new(BIN);
        command
            .args(["sim", "--listen", "127.0.0.1:0", "--ledger"])
            .arg(ledger);
        if let Some(dir) = esign_dir {
            command.arg("--esign-dir").arg(dir);
        }
        if let Some(qr_ledger) = qr_ledger {
            command
                .args(["--qr-listen", "127.0.0.1:0", "--qr-ledger"])
                .arg(qr_ledger);
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = || {
            let mut text = String::new();
            out.read_line(&mut text).unwrap();
            text
        };
        // "smartpos sim: acquirer listening on 127.0.0.1:PORT"
        let first = line();
        let addr = first
            .split_whitespace()
            .last()
            .unwrap_or_default()
            .to_owned();
        assert!(addr.contains(':'), "unexpected first line: {first:?}");
        // "QR gateway listening on http://127.0.0.1:PORT (demo signing key)"
        let qr_url = qr_ledger.map(|_| {
            loop {
                let text = line();
                assert!(
                    !text.is_empty(),
                    "the simulator ended before its QR gateway line"
                );
                if let Some(url) = text.split_whitespace().find(|w| w.starts_with("http://")) {
                    break url.to_owned();
                }
            }
        });
        // Keep reading: a closed pipe would kill the simulator at its next line of output.
        std::thread::spawn(move || out.lines().for_each(drop));
        Sim {
            child,
            addr,
            qr_url,
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run_json(args: &[&str]) -> Value {
    let out: Output = Command::new(BIN).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[derive(Debug, Default)]
struct Counts {
    rounds: u32,
    settlements: u32,
    kills_mid_transaction: u32,
    finished_before_kill: u32,
    reversals_cleared_by_recover: u64,
}

/// Rounds and seed from `SMARTPOS_CRASH_ROUNDS` (default 20) and `SMARTPOS_CRASH_SEED`.
fn rounds_and_seed() -> (u32, u64) {
    let setting = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    let rounds = setting("SMARTPOS_CRASH_ROUNDS").map_or(20, |r| r as u32);
    (
        rounds,
        setting("SMARTPOS_CRASH_SEED").unwrap_or(0x5eed_cafe),
    )
}

/// `smartpos pay` of `SALES_PER_ROUND` small payments on this journal and simulator, output
/// discarded; `extra` picks the method.
fn pay_command(host: &str, db_arg: &str, extra: &[&str]) -> Command {
    let mut pay = Command::new(BIN);
    pay.args(["pay", "--host", host, "--journal", db_arg])
        .args(extra)
        // Small amounts keep the demo card's balance from running out in long runs.
        .args(["--count", SALES_PER_ROUND, "--amount-range", "100..500"])
        // Dozens of payments within seconds on one demo card (velocity, duplicates) and one
        // terminal (the PBOC QR day cap): the rules would rightly stop them; these runs test
        // durability, not risk.
        .arg("--no-risk-checks")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    pay
}

/// Kills `pay` runs at random instants. Delays are uniform over one whole run, timed once when
/// the killer is made, so kills land from process start to the last payment whatever the speed
/// of this machine and build.
struct Killer {
    rng: LoadRng,
    max_delay_ms: u64,
}

impl Killer {
    fn calibrate(seed: u64, mut run: Command) -> Killer {
        let timed = Instant::now();
        // Exit 1 is a run in which some sale terminated (the proxy's tampered answers): it ran.
        let code = run.status().unwrap().code();
        assert!(
            matches!(code, Some(0 | 1)),
            "calibration pay: exit {code:?}"
        );
        Killer {
            rng: LoadRng::new(seed),
            max_delay_ms: (timed.elapsed().as_millis() as u64).max(20),
        }
    }

    /// Starts `run` and kills it (SIGKILL on Unix: no destructor, no flush, no goodbye) after a
    /// random delay. True when it had finished first.
    fn run_and_kill(&mut self, mut run: Command) -> bool {
        let mut child = run.spawn().unwrap();
        let delay = self.rng.in_range(0, self.max_delay_ms);
        std::thread::sleep(Duration::from_millis(delay));
        let finished = child.try_wait().unwrap().is_some();
        if !finished {
            child.kill().unwrap();
        }
        child.wait().unwrap();
        finished
    }
}

#[test]
fn killed_payments_are_recovered_nothing_lost_nothing_charged_twice() {
    let (rounds, seed) = rounds_and_seed();
    let dir = tempfile::tempdir().unwrap();
    let ledger_file = dir.path().join("ledger.json");
    let db = dir.path().join("journal.db");
    let db_arg = db.to_str().unwrap();
    let sim = Sim::start(&ledger_file);
    // Payments go through an on-path proxy that strips the MAC of every fourth answer and writes
    // A0 over it: each such sale is owed as unknown, and the terminal signs on and resends its
    // reversal inside the same run, so the random kills land in that path too. Recovery talks to
    // the host directly.
    let proxy = OnPathProxy::start(sim.addr.parse().unwrap()).unwrap();
    proxy.every("0200", 4, Tamper::StripMacAndSay { code: "A0".into() });
    let via_proxy = proxy.addr().to_string();
    let started = Instant::now();
    let mut counts = Counts::default();
    let mut killer = Killer::calibrate(seed, pay_command(&via_proxy, db_arg, &[]));

    for _ in 0..rounds {
        counts.rounds += 1;
        if killer.run_and_kill(pay_command(&via_proxy, db_arg, &[])) {
            counts.finished_before_kill += 1;
        }

        if db.exists() {
            let journal = Journal::open_read_only(&db).unwrap();
            if !journal.in_flight().unwrap().is_empty() {
                counts.kills_mid_transaction += 1;
            }
        }
        if db.exists() {
            let report = run_json(&[
                "recover",
                "--journal",
                db_arg,
                "--host",
                &sim.addr,
                "--json",
            ]);
            counts.reversals_cleared_by_recover +=
                report["reversals_cleared"].as_u64().unwrap_or(0);
        }
        if db.exists() && counts.rounds % SETTLE_EVERY_ROUNDS == 0 {
            let settled = run_json(&["settle", "--journal", db_arg, "--host", &sim.addr, "--json"]);
            assert_eq!(settled["balanced"], true, "{settled}");
            counts.settlements += 1;
        }
    }

    let audit = audit(db_arg, &sim.addr, &ledger_file);
    let a0_reversals = Journal::open_read_only(&db)
        .unwrap()
        .reversals()
        .unwrap()
        .iter()
        .filter(|r| r.reason.as_str() == "A0")
        .count();
    assert!(
        a0_reversals > 0 || proxy.tampered() == 0,
        "the proxy stripped MACs but no A0 reversal was made"
    );
    drop(sim);
    eprintln!(
        "crash harness: seed {seed}, {} rounds in {:.1} s (kills at 0..{} ms): {audit}; kills \
         mid-transaction {}, pay finished before kill {}, reversals cleared by recover {}, \
         settlements {}, answers stripped to A0 {} (A0 reversals {a0_reversals})",
        counts.rounds,
        started.elapsed().as_secs_f64(),
        killer.max_delay_ms,
        counts.kills_mid_transaction,
        counts.finished_before_kill,
        counts.reversals_cleared_by_recover,
        counts.settlements,
        proxy.tampered(),
    );
}

/// The same for customer-presented QR payments: `smartpos pay --method qr` killed at random
/// instants, `smartpos recover --qr-gateway` after each kill, and at the end no QR order open
/// and the journal and the gateway's ledger agreeing on every order.
#[test]
fn killed_qr_payments_are_recovered_and_agree_with_the_gateway() {
    let (rounds, seed) = rounds_and_seed();
    let dir = tempfile::tempdir().unwrap();
    let qr_ledger = dir.path().join("qr-ledger.json");
    let db = dir.path().join("journal.db");
    let db_arg = db.to_str().unwrap();
    let sim = Sim::start_with_qr(&dir.path().join("ledger.json"), &qr_ledger);
    let qr_url = sim.qr_url.clone().unwrap();
    let qr = ["--method", "qr", "--qr-gateway", qr_url.as_str()];
    let started = Instant::now();
    let mut killer = Killer::calibrate(seed, pay_command(&sim.addr, db_arg, &qr));

    let (mut kills_mid_order, mut finished_before_kill) = (0, 0);
    for _ in 0..rounds {
        if killer.run_and_kill(pay_command(&sim.addr, db_arg, &qr)) {
            finished_before_kill += 1;
        }
        if !Journal::open_read_only(&db)
            .unwrap()
            .open_qr_orders()
            .unwrap()
            .is_empty()
        {
            kills_mid_order += 1;
        }
        let report = run_json(&[
            "recover",
            "--journal",
            db_arg,
            "--host",
            &sim.addr,
            "--qr-gateway",
            &qr_url,
            "--json",
        ]);
        assert_eq!(report["qr_orders_open"], 0, "{report}");
    }
    let audit = audit_qr(&db, &qr_ledger);
    drop(sim);
    eprintln!(
        "QR crash harness: seed {seed}, {rounds} rounds in {:.1} s (kills at 0..{} ms): {audit}; \
         kills with an order open {kills_mid_order}, pay finished before kill \
         {finished_before_kill}",
        started.elapsed().as_secs_f64(),
        killer.max_delay_ms,
    );
}

/// Checks the journal's QR orders against the gateway's ledger file: none open; every order
/// the gateway saw is journaled (journal first); an order is `paid` in the journal exactly when
/// the gateway holds its amount, and the gateway holds nothing for any other order.
fn audit_qr(db: &Path, qr_ledger: &Path) -> String {
    use smartpos_core::store::QrOrderState;
    let orders = Journal::open_read_only(db).unwrap().qr_orders().unwrap();
    let ledger: Value = serde_json::from_slice(&std::fs::read(qr_ledger).unwrap()).unwrap();
    let mut at_gateway: BTreeMap<String, (i64, u64)> = BTreeMap::new();
    for o in ledger["orders"].as_array().unwrap() {
        let net = o["charged_fen"].as_i64().unwrap() - o["refunded_fen"].as_i64().unwrap();
        at_gateway.insert(
            o["out_trade_no"].as_str().unwrap().to_owned(),
            (net, o["total_fee"].as_u64().unwrap()),
        );
    }
    let mut by_state: BTreeMap<&str, usize> = BTreeMap::new();
    let (mut paid_fen, mut tombstones) = (0, 0);
    for order in &orders {
        assert!(!order.state.is_open(), "left open: {order:?}");
        *by_state.entry(order.state.as_str()).or_default() += 1;
        let (net, total_fee) = at_gateway
            .remove(&order.out_trade_no)
            .unwrap_or((0, order.amount_fen));
        // A cancel for an order the gateway never saw leaves a tombstone of no amount, so that
        // a micropay still on its way cannot create the order afterwards.
        if total_fee == 0 {
            tombstones += 1;
        } else {
            assert_eq!(total_fee, order.amount_fen, "amount of {order:?}");
        }
        if order.state == QrOrderState::Paid {
            assert_eq!(net, order.amount_fen as i64, "paid but not held: {order:?}");
            paid_fen += net;
        } else {
            assert_eq!(net, 0, "the gateway holds money for a {order:?}");
        }
    }
    assert!(
        at_gateway.is_empty(),
        "orders the gateway saw but the journal does not hold: {at_gateway:?}"
    );
    assert!(by_state.get("paid").is_some_and(|&n| n > 0), "nothing paid");
    assert_eq!(ledger["net_fen"].as_i64(), Some(paid_fen), "net");
    // The operators' view says the same: QR orders in `smartpos journal`, counted in its nets.
    let listing = run_json(&["journal", db.to_str().unwrap(), "--json"]);
    assert_eq!(listing["qr_orders"].as_array().unwrap().len(), orders.len());
    assert_eq!(listing["qr_net_fen"].as_i64(), Some(paid_fen));
    assert_eq!(
        listing["net_approved_fen"].as_i64(),
        Some(paid_fen + listing["card_net_fen"].as_i64().unwrap())
    );
    format!(
        "{} orders {by_state:?} ({tombstones} cancelled before the gateway saw them), \
         {paid_fen} fen held",
        orders.len()
    )
}

/// Runs recovery once more, then checks the journal against the acquirer's ledger file: nothing
/// pending, no reversal owed, the same net, every approved STAN debited exactly once and every
/// standing debit approved in the journal. Returns a one-line summary.
/// The journal's signed transactions, each checked against the simulator's copy: approved, its
/// upload acknowledged, the image the simulator kept as long as the journal's, and no image at
/// the simulator that no signed transaction accounts for (so none went twice).
#[cfg(feature = "crash-points")]
fn uploaded_signatures(
    db: &str,
    esign_dir: &Path,
) -> Vec<(
    smartpos_core::store::TransactionRecord,
    smartpos_core::store::StoredSignature,
)> {
    let journal = Journal::open_read_only(db).unwrap();
    let mut signed = Vec::new();
    for t in journal.list(u32::MAX, 0).unwrap() {
        let Some(sig) = journal.signature(t.id).unwrap() else {
            continue;
        };
        assert_eq!(t.state, smartpos_core::store::TxnState::Approved);
        let upload = sig.upload.as_ref().expect("queued with the signature");
        assert_eq!(
            upload.state,
            smartpos_core::store::AdviceState::Sent,
            "{t:?}"
        );
        let file = esign_dir.join(format!("{DEMO_TERMINAL_ID}-{}-{}.jbg", t.batch_no, t.stan));
        let kept = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert_eq!(kept.len(), sig.jbig_bytes, "{}", file.display());
        signed.push((t, sig));
    }
    let files = std::fs::read_dir(esign_dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "jbg"))
        })
        .count();
    assert_eq!(
        files,
        signed.len(),
        "one signature per signed sale, none twice"
    );
    signed
}

fn audit(db_arg: &str, sim_addr: &str, ledger_file: &Path) -> String {
    let last = run_json(&["recover", "--journal", db_arg, "--host", sim_addr, "--json"]);
    assert_eq!(last["reversals_pending"], 0, "{last}");
    assert_eq!(last["in_flight_found"], 0, "{last}");
    assert_eq!(last["advices_pending"], 0, "uploads left: {last}");
    let listing = run_json(&["journal", db_arg, "--json"]);
    let ledger: Value = serde_json::from_slice(&std::fs::read(ledger_file).unwrap()).unwrap();

    let txns = listing["transactions"].as_array().unwrap();
    // An offline chip sale is a sale the acquirer books from its upload.
    let sales: Vec<&Value> = txns
        .iter()
        .filter(|t| t["kind"] == "sale" || t["kind"] == "offline_sale")
        .collect();
    let in_state = |s: &str| sales.iter().filter(|t| t["state"] == s).count();
    let summary = format!(
        "{} sales attempted, {} approved, {} reversed, {} declined",
        sales.len(),
        in_state("approved"),
        in_state("reversed"),
        in_state("declined"),
    );

    // A harness whose payments never reach the host would pass vacuously.
    assert!(
        in_state("approved") > 0,
        "no sale was approved: is the simulator up?"
    );

    // Nothing lost: every transaction has a settled outcome and no reversal is owed.
    for t in txns {
        assert_ne!(t["state"], "pending", "left pending: {t}");
    }
    assert_eq!(listing["pending_reversals"], 0, "{listing}");

    // The terminal and the acquirer agree on the money.
    assert_eq!(
        listing["net_approved_fen"], ledger["net_fen"],
        "journal net vs ledger net_fen"
    );

    // Per message: (batch, STAN) → debits and reversals the acquirer posted. A reversal posting
    // carries the STAN of the message it undoes (the 0400 reuses the original's field 11).
    let mut posted: BTreeMap<(String, String), (u32, u32, u64)> = BTreeMap::new();
    for p in ledger["postings"].as_array().unwrap() {
        if p["terminal_id"] != DEMO_TERMINAL_ID {
            continue;
        }
        let key = (
            p["batch_no"].as_str().unwrap().to_owned(),
            p["stan"].as_str().unwrap().to_owned(),
        );
        let entry = posted.entry(key).or_default();
        match p["effect"].as_str().unwrap() {
            "debit" => {
                entry.0 += 1;
                entry.2 = p["amount_fen"].as_u64().unwrap();
            }
            "reversal" => entry.1 += 1,
            other => panic!("the harness only sells, yet the ledger has a {other} posting: {p}"),
        }
    }
    // Nothing charged twice: no message debited more than once, none reversed more often
    // than it was debited.
    for (key, (debits, reversals, _)) in &posted {
        assert!(*debits <= 1, "STAN {key:?} debited {debits} times");
        assert!(reversals <= debits, "STAN {key:?} reversed {reversals}x");
    }
    // Every approved sale has exactly one standing debit of its amount, and every standing
    // debit is a sale the journal calls approved.
    let mut approved_keys = std::collections::BTreeSet::new();
    for t in &sales {
        let key = (
            format!("{:06}", t["batch_no"].as_u64().unwrap()),
            t["stan"].as_str().unwrap().to_owned(),
        );
        let (debits, reversals, amount) = posted.get(&key).copied().unwrap_or_default();
        if t["state"] == "approved" {
            assert_eq!((debits, reversals), (1, 0), "approved sale {t}");
            assert_eq!(Some(amount), t["amount_fen"].as_u64(), "amount of {t}");
            assert!(approved_keys.insert(key), "STAN reused in journal: {t}");
        } else {
            assert_eq!(
                debits, reversals,
                "a {} sale left a charge: {t}",
                t["state"]
            );
        }
    }
    for (key, (debits, reversals, _)) in &posted {
        if debits > reversals {
            assert!(
                approved_keys.contains(key),
                "the acquirer holds a charge the journal does not call approved: {key:?}"
            );
        }
    }
    summary
}

/// Runs `smartpos` with `SMARTPOS_CRASH_AT=point` and asserts it died at that point (abort).
/// A simulator child with a ledger file and one journal that has made a clean sale (so it
/// exists and is signed on): the setting of the named-point tests.
#[cfg(feature = "crash-points")]
struct Lab {
    _dir: tempfile::TempDir,
    ledger_file: std::path::PathBuf,
    db: String,
    sim: Sim,
}

#[cfg(feature = "crash-points")]
impl Lab {
    fn start() -> Lab {
        let dir = tempfile::tempdir().unwrap();
        let ledger_file = dir.path().join("ledger.json");
        let db = dir.path().join("journal.db").to_str().unwrap().to_owned();
        let sim = Sim::start(&ledger_file);
        let lab = Lab {
            _dir: dir,
            ledger_file,
            db,
            sim,
        };
        run_json(&strs(&lab.args(&[
            "pay",
            "--count",
            "1",
            "--json",
            "--no-risk-checks",
        ])));
        lab
    }

    /// `command` plus this lab's `--journal` and `--host`.
    fn args(&self, command: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = command.iter().map(|s| s.to_string()).collect();
        v.extend([
            "--journal".into(),
            self.db.clone(),
            "--host".into(),
            self.sim.addr.clone(),
        ]);
        v
    }
}

#[cfg(feature = "crash-points")]
fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[cfg(feature = "crash-points")]
fn crash_at(point: &str, args: &[&str]) {
    let out = Command::new(BIN)
        .args(args)
        .env("SMARTPOS_CRASH_AT", point)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(!out.status.success(), "{point}: {args:?} did not crash");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(point),
        "{point}: crashed elsewhere: {stderr}"
    );
}

/// Kills at every named durability point of a sale and of its reversal, recovering after each,
/// then audits journal against ledger.
#[cfg(feature = "crash-points")]
#[test]
fn crashes_at_every_named_durability_point_are_recovered() {
    let lab = Lab::start();
    // Repeated demo-card sales within seconds: risk checks off (see the first test).
    let pay = lab.args(&["pay", "--count", "2", "--no-risk-checks"]);
    let recover = lab.args(&["recover", "--json"]);
    for point in ["online.journaled", "online.answered", "online.recorded"] {
        crash_at(point, &strs(&pay));
        let report = run_json(&strs(&recover));
        assert_eq!(report["reversals_pending"], 0, "after {point}: {report}");
    }
    // A reversal owed (crash after the host answered), then crashes inside the reversal itself.
    crash_at("online.answered", &strs(&pay));
    crash_at("reversal.journaled", &strs(&recover));
    crash_at("reversal.answered", &strs(&recover));
    let report = run_json(&strs(&recover));
    assert_eq!(report["reversals_pending"], 0, "{report}");
    // The sign-on-and-resend path: an unsigned A0 answers the reversal, so the terminal signs on
    // before resending it; killed before the sign-on, then after it, then recovered.
    let proxy = OnPathProxy::start(lab.sim.addr.parse().unwrap()).unwrap();
    let via_proxy = [
        "recover",
        "--json",
        "--journal",
        &lab.db,
        "--host",
        &proxy.addr().to_string(),
    ]
    .map(String::from);
    crash_at("online.answered", &strs(&pay));
    for point in ["reversal.sign_on", "reversal.signed_on"] {
        proxy.next("0400", Tamper::ForgeUnsigned { code: "A0".into() });
        crash_at(point, &strs(&via_proxy));
    }
    assert!(proxy.plan_done());
    let report = run_json(&strs(&recover));
    assert_eq!(report["reversals_pending"], 0, "{report}");
    let summary = audit(&lab.db, &lab.sim.addr, &lab.ledger_file);
    eprintln!("named durability points: {summary}");
}

/// Chip sales (the EMV contact kernel against a virtual card, the simulator as issuer) killed
/// at every named durability point, including the one right after the card refused the host's
/// approval and the 96 reversal was armed: recovery leaves nothing owed, and the audit finds
/// journal and ledger agreeing with no message charged twice.
#[cfg(feature = "crash-points")]
#[test]
fn chip_sales_survive_a_crash_at_every_named_durability_point() {
    let lab = Lab::start();
    let chip = lab.args(&[
        "pay",
        "--count",
        "2",
        "--no-risk-checks",
        "--card",
        "unionpay-debit-dda",
    ]);
    let refusing = lab.args(&[
        "pay",
        "--count",
        "1",
        "--no-risk-checks",
        "--card",
        "unionpay-declines-second-ac",
    ]);
    let recover = lab.args(&["recover", "--json"]);
    for point in ["online.journaled", "online.answered", "online.recorded"] {
        crash_at(point, &strs(&chip));
        let report = run_json(&strs(&recover));
        assert_eq!(report["reversals_pending"], 0, "after {point}: {report}");
    }
    crash_at("online.card_declined", &strs(&refusing));
    let report = run_json(&strs(&recover));
    assert_eq!(report["reversals_pending"], 0, "{report}");
    // And chip sales that run to their end.
    let clean = lab.args(&[
        "pay",
        "--count",
        "2",
        "--json",
        "--no-risk-checks",
        "--card",
        "unionpay-debit-cda",
    ]);
    let done = run_json(&strs(&clean));
    assert_eq!(done["approved"], 2, "{done}");
    let summary = audit(&lab.db, &lab.sim.addr, &lab.ledger_file);
    eprintln!("chip sales at the named durability points: {summary}");
}

/// Sales the chip approved offline, killed right after the approval was journaled, and their
/// uploads (and an online approval's TC upload) killed after the host answered and before the
/// journal knew: recovery uploads what is owed, the host books each offline sale once, and the
/// audit finds journal and ledger agreeing.
#[cfg(feature = "crash-points")]
#[test]
fn offline_chip_sales_and_uploads_survive_a_crash_at_every_named_point() {
    let lab = Lab::start();
    let offline = lab.args(&[
        "pay",
        "--count",
        "2",
        "--no-risk-checks",
        "--card",
        "unionpay-offline",
        "--offline-floor-limit",
        "100000",
        "--amount-range",
        "100..5000",
    ]);
    let online = lab.args(&[
        "pay",
        "--count",
        "1",
        "--json",
        "--no-risk-checks",
        "--card",
        "unionpay-debit-dda",
    ]);
    let recover = lab.args(&["recover", "--json"]);
    crash_at("offline.recorded", &strs(&offline));
    crash_at("advice.answered", &strs(&recover));
    let report = run_json(&strs(&recover));
    assert_eq!(report["advices_pending"], 0, "{report}");
    crash_at("offline.recorded", &strs(&offline));
    run_json(&strs(&online));
    crash_at("upload.answered", &strs(&recover));
    let report = run_json(&strs(&recover));
    assert_eq!(report["advices_pending"], 0, "{report}");
    let summary = audit(&lab.db, &lab.sim.addr, &lab.ledger_file);
    let listing = run_json(&["journal", &lab.db, "--json"]);
    let offline_sales = listing["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["kind"] == "offline_sale" && t["state"] == "approved")
        .count();
    assert!(offline_sales >= 2, "{listing}");
    eprintln!("offline chip sales and uploads at the named points: {summary}");
}

/// The audit for mixed transaction kinds: recovery leaves nothing pending and no reversal owed,
/// journal and ledger agree on the net, and no message moved money twice.
#[cfg(feature = "crash-points")]
fn audit_all_kinds(db_arg: &str, sim_addr: &str, ledger_file: &Path) -> String {
    let last = run_json(&["recover", "--journal", db_arg, "--host", sim_addr, "--json"]);
    assert_eq!(last["reversals_pending"], 0, "{last}");
    let listing = run_json(&["journal", db_arg, "--json"]);
    let ledger: Value = serde_json::from_slice(&std::fs::read(ledger_file).unwrap()).unwrap();
    let txns = listing["transactions"].as_array().unwrap();
    for t in txns {
        assert_ne!(t["state"], "pending", "left pending: {t}");
    }
    assert_eq!(listing["pending_reversals"], 0, "{listing}");
    assert_eq!(
        listing["net_approved_fen"], ledger["net_fen"],
        "journal net vs ledger"
    );
    let mut seen = std::collections::BTreeSet::new();
    for p in ledger["postings"].as_array().unwrap() {
        let key = (
            p["batch_no"].as_str().unwrap().to_owned(),
            p["stan"].as_str().unwrap().to_owned(),
            p["effect"].as_str().unwrap().to_owned(),
        );
        assert!(seen.insert(key.clone()), "posted twice: {key:?}");
    }
    let by_state = |s: &str| txns.iter().filter(|t| t["state"] == s).count();
    format!(
        "{} transactions: {} approved, {} refunded, {} voided, {} reversed, {} declined; {} postings",
        txns.len(),
        by_state("approved"),
        by_state("refunded"),
        by_state("voided"),
        by_state("reversed"),
        by_state("declined"),
        seen.len()
    )
}

/// Every named durability point of every transaction kind: the process aborts there, recovery
/// runs, and after all of them (and a settlement killed after the host settled) the journal and
/// the ledger agree.
#[cfg(feature = "crash-points")]
#[test]
fn every_kind_killed_at_every_durability_point_is_recovered() {
    let lab = Lab::start();
    let recover = lab.args(&["recover", "--json"]);
    let mut kills = 0;
    for (kind, journal_kind) in [
        ("sale", "sale"),
        ("void", "void"),
        ("refund", "refund"),
        ("pre-auth", "pre_auth"),
        ("completion", "completion"),
    ] {
        for point in ["online.journaled", "online.answered", "online.recorded"] {
            let at = format!("{point}@{journal_kind}");
            let pay = lab.args(&[
                "pay",
                "--count",
                "1",
                "--kind",
                kind,
                "--amount-range",
                "100..500",
                "--no-risk-checks",
            ]);
            crash_at(&at, &strs(&pay));
            kills += 1;
            let report = run_json(&strs(&recover));
            assert_eq!(report["reversals_pending"], 0, "after {at}: {report}");
        }
    }
    let settle = lab.args(&["settle", "--json"]);
    crash_at("settlement.answered@settlement", &strs(&settle));
    kills += 1;
    let settled = run_json(&strs(&settle));
    assert_eq!(settled["balanced"], true, "{settled}");
    let summary = audit_all_kinds(&lab.db, &lab.sim.addr, &lab.ledger_file);
    eprintln!("every kind at every durability point: {kills} kills; {summary}");
}

/// Taps (the contactless kernels against the catalogue's contactless cards, the simulator as
/// issuer) killed at every named point a tap passes: online QuickPass, Visa and Mastercard taps
/// at the online points (the card already gone, so the reversal alone undoes an unknown
/// outcome), and a QuickPass tap approved offline against its EC balance right after its
/// approval and upload were journaled, then its upload after the host answered. A tap adds no
/// durable step of its own: it reuses the chip's. Recovery leaves nothing owed and the audit
/// finds journal and ledger agreeing, no message charged twice.
#[cfg(feature = "crash-points")]
#[test]
fn taps_survive_a_crash_at_every_named_point() {
    let lab = Lab::start();
    let tap = |card: &str| {
        lab.args(&[
            "pay",
            "--count",
            "2",
            "--no-risk-checks",
            "--card",
            card,
            "--amount-range",
            "10000..200000",
        ])
    };
    let recover = lab.args(&["recover", "--json"]);
    for card in ["quickpass-credit", "visa-qvsdc", "mastercard-contactless"] {
        for point in ["online.journaled", "online.answered", "online.recorded"] {
            crash_at(point, &strs(&tap(card)));
            let report = run_json(&strs(&recover));
            assert_eq!(
                report["reversals_pending"], 0,
                "{card} after {point}: {report}"
            );
        }
    }
    let offline = lab.args(&[
        "pay",
        "--count",
        "2",
        "--no-risk-checks",
        "--card",
        "quickpass-debit",
        "--offline-floor-limit",
        "100000",
        "--amount-range",
        "100..5000",
    ]);
    crash_at("offline.recorded", &strs(&offline));
    crash_at("advice.answered", &strs(&recover));
    let report = run_json(&strs(&recover));
    assert_eq!(report["advices_pending"], 0, "{report}");
    let clean = lab.args(&[
        "pay",
        "--count",
        "2",
        "--json",
        "--no-risk-checks",
        "--card",
        "quickpass-debit",
    ]);
    assert_eq!(run_json(&strs(&clean))["approved"], 2);
    let summary = audit(&lab.db, &lab.sim.addr, &lab.ledger_file);
    let listing = run_json(&["journal", &lab.db, "--json"]);
    let taps = listing["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| {
            // The contactless cards of the catalogue, by their masked PANs.
            [
                "622202******0338",
                "622202******0346",
                "476173******0029",
                "541333******0027",
            ]
            .iter()
            .any(|p| t["pan_masked"] == *p)
        })
        .count();
    assert!(taps >= 10, "{listing}");
    eprintln!("taps at the named points: {summary}");
}

/// A dense random scribble (a fixed linear congruential sequence) whose JBIG takes several
/// upload messages, as strokes JSON.
#[cfg(feature = "crash-points")]
fn scribble_json() -> String {
    let mut seed: u64 = 0x5EED;
    let mut next = |range: f64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((seed >> 33) as f64 / f64::from(1u32 << 31) * range).floor()
    };
    let strokes: Vec<Value> = (0..4u64)
        .map(|s| {
            (0..30u64)
                .map(|i| serde_json::json!([next(999.0), next(399.0), (s * 30 + i) * 16]))
                .collect()
        })
        .collect();
    serde_json::json!({"width": 1000, "height": 400, "strokes": strokes}).to_string()
}

/// Signed sales killed at every durability point of the e-signature: after the signature and
/// its upload were journaled (nothing sent), after the host took a segment (progress not
/// journaled), after the progress was journaled, after the upload was acknowledged. Recovery
/// uploads what is owed; at the end every approved signed sale has exactly one signature at the
/// simulator, bound to its slip, and nothing is owed.
#[cfg(feature = "crash-points")]
#[test]
fn signed_sales_killed_around_the_upload_leave_exactly_one_signature_each() {
    let dir = tempfile::tempdir().unwrap();
    let ledger_file = dir.path().join("ledger.json");
    let esign_dir = dir.path().join("esign");
    let db = dir.path().join("journal.db").to_str().unwrap().to_owned();
    let sim = Sim::spawn(&ledger_file, None, Some(&esign_dir));
    let scribble = dir.path().join("scribble.json");
    std::fs::write(&scribble, scribble_json()).unwrap();
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../core/src/esign/fixtures/signature.json"
    );
    let with = |strokes: &str, extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "pay",
            "--count",
            "1",
            "--no-risk-checks",
            "--signature",
            strokes,
        ]
        .iter()
        .chain(extra)
        .map(|s| s.to_string())
        .collect();
        v.extend([
            "--journal".into(),
            db.clone(),
            "--host".into(),
            sim.addr.clone(),
        ]);
        v
    };
    let recover = |_: ()| run_json(&["recover", "--journal", &db, "--host", &sim.addr, "--json"]);
    for strokes in [fixture, scribble.to_str().unwrap()] {
        for point in [
            "esign.journaled",
            "esign.segment_answered",
            "esign.segment_journaled",
            "esign.uploaded",
        ] {
            crash_at(point, &strs(&with(strokes, &[])));
            let report = recover(());
            assert_eq!(report["reversals_pending"], 0, "after {point}: {report}");
            assert_eq!(report["advices_pending"], 0, "after {point}: {report}");
        }
    }
    // And signed sales that run to their end.
    run_json(&strs(&with(fixture, &["--json"])));
    let summary = audit(&db, &sim.addr, &ledger_file);

    let signed = uploaded_signatures(&db, &esign_dir);
    assert_eq!(
        signed.len(),
        9,
        "eight killed signed sales and one clean one"
    );
    let most_segments = signed.iter().map(|(_, s)| s.segments).max();
    assert!(
        most_segments > Some(1),
        "the scribble went in several messages"
    );
    let signed = signed.len();
    eprintln!("signed sales killed around the upload: {signed} signatures; {summary}");
}
