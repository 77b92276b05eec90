//! `smartpos demo`: a scripted business day against an embedded acquirer simulator on loopback,
//! over mutual TLS with a test CA made at start, with the journal in a temporary folder. Nothing
//! to set up.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use smartpos_core::card::Track2;
use smartpos_core::diag::statistics::Window;
use smartpos_core::diag::{Cause, Termination};
use smartpos_core::host::{AcquirerTls, CancelToken};
use smartpos_core::ports::testing::{FixedNetworkMonitor, ScriptedCardReader, SoftwarePinPad};
use smartpos_core::ports::{
    CardPresentation, CellularGeneration, DeviceFault, Link, NetworkStatus, Printer, Receipt,
    SystemClock,
};
use smartpos_core::txn::{
    AcquirerSecurity, BalanceRequest, FollowUpRequest, Original, Outcome, Ports, PreAuthRequest,
    RefundRequest, SaleRequest, Terminal, VoidRequest,
};

use super::{CliError, CliResult};
use crate::demo_setup;

#[path = "demo_esign.rs"]
mod demo_esign;
use crate::sim::ledger::Ledger;
use crate::sim::pki::{LOOPBACK_NAMES, TestCa};
use crate::sim::{Acquirer, Fault, Matcher, SimServer, tls};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print the receipts too (they are long).
    #[arg(long)]
    pub receipts: bool,
    /// Keep the journal in this folder (created if missing) instead of a temporary one, to read
    /// it afterwards with `smartpos journal`, `report` or a secrets scan.
    #[arg(long)]
    pub journal_dir: Option<std::path::PathBuf>,
}

/// Prints receipts on stdout, as a shell's logcat printer would; can run out of paper once.
#[derive(Debug, Default)]
struct ConsolePrinter {
    show: bool,
    printed: Mutex<u32>,
    fault: Mutex<Option<DeviceFault>>,
}

impl Printer for ConsolePrinter {
    fn print(&self, receipt: &Receipt) -> Result<(), DeviceFault> {
        if let Some(fault) = self.fault.lock().unwrap_or_else(|p| p.into_inner()).take() {
            return Err(fault);
        }
        *self.printed.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        if self.show {
            println!("{}", indent(&receipt.to_string()));
        }
        Ok(())
    }
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("      | {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

struct Day {
    terminal: Terminal,
    printer: Arc<ConsolePrinter>,
    reader: Arc<ScriptedCardReader>,
    pin_pad: Arc<SoftwarePinPad>,
    server: SimServer,
    cancel: CancelToken,
    approved: u32,
    terminated: u32,
    /// Endings before any payment existed (a scan that is no payment code): explained, but not
    /// journaled, so outside the statistics.
    refused_unrecorded: u32,
}

impl Day {
    fn present(&self, card: &str, pin: Option<&str>) -> Result<(), CliError> {
        let t2 = demo_setup::demo_track2(card)
            .ok_or_else(|| CliError::new(format!("demo card {card} missing")))?;
        let track2 = Track2::parse(&t2).map_err(|e| CliError::new(e.to_string()))?;
        self.reader.present(CardPresentation::Magstripe { track2 });
        self.pin_pad.set_pin(pin);
        Ok(())
    }

    fn show(&mut self, step: &str, outcome: &Outcome) {
        // A card the transaction never read (a risk decline comes before the reader) goes back
        // to its holder; left in the script it would be read by the next sale.
        self.reader.withdraw();
        match outcome {
            Outcome::Approved(a) => {
                self.approved += 1;
                let extra = a
                    .balance_fen
                    .map(|b| format!(", balance {}", yuan(b)))
                    .unwrap_or_default();
                // An offline approval has no host references yet: its upload brings them.
                let refs = if a.rrn.is_empty() {
                    "no host reference until its upload".to_string()
                } else {
                    format!("auth {}, ref {}", a.auth_code, a.rrn)
                };
                println!(
                    "  ✔ {step}: approved — {} {} RMB {}, voucher {:06}, {refs}{extra}",
                    a.kind.spec().en,
                    a.pan_masked,
                    yuan(a.amount_fen as i64),
                    a.stan,
                );
                if a.paperless {
                    println!("      paperless: signed on the screen, no paper slip printed");
                } else if !a.receipt_printed {
                    println!("      receipt not printed: it waits in the journal for a reprint");
                }
            }
            Outcome::Terminated(t) => {
                self.terminated += 1;
                println!("  ✘ {step}: terminated");
                explain(t);
            }
        }
    }
}

fn explain(t: &Termination) {
    println!("      cause: {}   code: {}", t.cause, t.code);
    if let Some(rc) = &t.host_code {
        println!("      host response code: {}", rc.as_str());
    }
    println!("      商户提示: {}", t.merchant_zh);
    println!("      merchant: {}", t.merchant_en);
    println!("      cardholder: {}", t.cardholder);
    for r in &t.remedies {
        println!("      → {} / {}", r.zh(), r.en());
    }
    if let Some(alt) = &t.alternative {
        println!("      another way to pay: {}", alt.en());
    }
}

/// Signed yuan: a net between -1 and 0 yuan keeps its sign ("-0.50", not "0.50").
fn yuan(fen: i64) -> String {
    super::shape::yuan_signed(fen)
}

/// The demo's link: one CA made for this run issues the simulator's certificate and the
/// terminal's client certificate; the simulator requires the latter (mutual TLS) and the terminal
/// trusts only that CA. Returns the simulator's TLS configuration and the terminal's settings.
fn demo_tls() -> Result<(Arc<rustls::ServerConfig>, AcquirerTls), CliError> {
    let fail = |e: &dyn std::fmt::Display| CliError::new(format!("demo TLS: {e}"));
    let ca = TestCa::new("SmartPOS demo acquirer CA").map_err(|e| fail(&e))?;
    let server = ca.server_cert(&LOOPBACK_NAMES).map_err(|e| fail(&e))?;
    let terminal = ca
        .client_cert(demo_setup::DEMO_TERMINAL_ID)
        .map_err(|e| fail(&e))?;
    let ca_pem = ca.cert_pem().into_bytes();
    let config = tls::server_config(
        server.cert_pem.as_bytes(),
        server.key_pem.as_bytes(),
        Some(&ca_pem),
    )
    .map_err(|e| fail(&e))?;
    let settings = AcquirerTls {
        ca_pem: Some(ca_pem),
        server_name: None,
        client: Some(terminal.identity()),
    };
    Ok((config, settings))
}

pub fn run(args: Args) -> CliResult {
    let mut ledger = Ledger::with_demo_accounts();
    crate::card_sim::catalogue::add_ledger_accounts(&mut ledger);
    let acquirer = Arc::new(Acquirer::new(ledger, demo_setup::demo_tmk()));
    let (server_tls, terminal_tls) = demo_tls()?;
    let server = SimServer::start_tls(
        acquirer,
        "127.0.0.1:0"
            .parse()
            .map_err(|_| CliError::new("address"))?,
        server_tls,
    )
    .map_err(|e| CliError::new(format!("simulator: {e}")))?;
    let temporary =
        tempfile::tempdir().map_err(|e| CliError::new(format!("temporary folder: {e}")))?;
    let dir = match &args.journal_dir {
        Some(kept) => {
            std::fs::create_dir_all(kept)
                .map_err(|e| CliError::new(format!("--journal-dir {}: {e}", kept.display())))?;
            kept.clone()
        }
        None => temporary.path().to_path_buf(),
    };
    // The acquirer keeps the e-signatures it accepts beside the journal (section 13).
    server.acquirer().set_esign_dir(dir.join("esign"));
    let vault = Arc::new(demo_setup::demo_vault());
    let reader = Arc::new(ScriptedCardReader::default());
    let pin_pad = Arc::new(SoftwarePinPad::new(vault.clone()));
    let printer = Arc::new(ConsolePrinter {
        show: args.receipts,
        printed: Mutex::new(0),
        fault: Mutex::new(None),
    });
    let ports = Ports {
        card_reader: reader.clone(),
        pin_pad: pin_pad.clone(),
        printer: printer.clone(),
        vault,
        clock: Arc::new(SystemClock),
        scanner: None,
        network: Some(Arc::new(FixedNetworkMonitor::new(NetworkStatus {
            link: Link::Cellular(CellularGeneration::G4),
            signal_dbm: Some(-78),
            connected: true,
        }))),
        location: None,
        prompt: None,
    };
    let storage_key =
        demo_setup::fresh_storage_key().map_err(|e| CliError::new(format!("storage key: {e}")))?;
    let mut config = demo_setup::demo_terminal_config(storage_key);
    config.journal_path = dir.join("journal.db");
    config.endpoints = vec![server.addr()];
    config.response_timeout = Duration::from_millis(800);
    let terminal = Terminal::open_with_security(config, AcquirerSecurity::Tls(terminal_tls), ports)
        .map_err(|e| CliError::new(format!("terminal: {e}")))?;
    // The virtual chip cards' certificates chain to the simulator's test CA.
    let mut chip = terminal.chip_config();
    chip.ca_keys =
        crate::card_sim::test_ca_keys().map_err(|e| CliError::new(format!("test CA keys: {e}")))?;
    terminal.configure_chip(chip);

    println!(
        "SmartPOS demo — acquirer simulator on tls://{}, journal in {}",
        server.addr(),
        dir.display()
    );
    println!(
        "mutual TLS (rustls): a test CA made at start (rcgen) issued the simulator's certificate \
         and this terminal's; each side trusts only that CA"
    );
    println!(
        "terminal {} merchant {}\n",
        demo_setup::DEMO_TERMINAL_ID,
        demo_setup::DEMO_MERCHANT_ID
    );
    let mut day = Day {
        terminal,
        printer: printer.clone(),
        reader,
        pin_pad,
        server,
        cancel: CancelToken::new(),
        approved: 0,
        terminated: 0,
        refused_unrecorded: 0,
    };
    script(&mut day)?;

    let ledger = day.server.acquirer().ledger();
    println!("\nSummary");
    println!(
        "  approved: {}   terminated (explained): {}   refused before any record: {}",
        day.approved, day.terminated, day.refused_unrecorded
    );
    println!(
        "  receipts printed: {}",
        *printer.printed.lock().unwrap_or_else(|p| p.into_inner())
    );
    println!(
        "  acquirer ledger: {} postings, merchant net RMB {}",
        ledger.postings().len(),
        yuan(ledger.net_fen())
    );
    Ok(())
}

fn sale(
    day: &mut Day,
    step: &str,
    attempt: &str,
    card: &str,
    pin: Option<&str>,
    fen: u64,
) -> Result<Outcome, CliError> {
    day.present(card, pin)?;
    let outcome = day.terminal.sale(
        &SaleRequest {
            attempt_id: attempt.into(),
            amount_fen: fen,
        },
        &day.cancel,
    );
    day.show(step, &outcome);
    Ok(outcome)
}

/// A sale with a chip card in the slot; prints the cryptograms and the ARPC after the ending.
fn chip_sale(day: &mut Day, step: &str, attempt: &str, card: &str, fen: u64) -> CliResult {
    let exchanges = super::demo_chip::insert(&day.reader, card)?;
    day.pin_pad
        .set_pin(Some(crate::card_sim::catalogue::TEST_PIN));
    let outcome = day.terminal.sale(
        &SaleRequest {
            attempt_id: attempt.into(),
            amount_fen: fen,
        },
        &day.cancel,
    );
    day.show(step, &outcome);
    for line in exchanges.lines() {
        println!("      {line}");
    }
    Ok(())
}

/// A sale the chip approves offline: the AIDs allow it below 100 yuan (random online selection
/// off, so the amount alone decides), and the card asks for no PIN (signature CVM).
fn offline_chip_sale(day: &mut Day) -> CliResult {
    let mut chip = day.terminal.chip_config();
    for aid in &mut chip.kernel.aids {
        aid.floor_limit_fen = 10_000;
        aid.target_percent = 0;
        aid.max_target_percent = 0;
    }
    day.terminal.configure_chip(chip);
    chip_sale(
        day,
        "chip sale approved offline under the floor limit",
        "demo-chip-3",
        "unionpay-offline",
        4_500,
    )?;
    let queued = day.terminal.pending_advices().map_or(0, |a| a.len());
    println!(
        "      approved by the card offline (Y1): nothing went online; {queued} upload(s) queued"
    );
    Ok(())
}

fn script(day: &mut Day) -> CliResult {
    println!("1. Sign-on: working keys under the TMK, check values verified");
    match day.terminal.sign_on() {
        Ok(r) => println!(
            "  ✔ signed on, batch {:06}{}",
            r.batch_no,
            if r.data_key { ", with data key" } else { "" }
        ),
        Err(t) => {
            explain(&t);
            return Err(CliError::new("sign-on failed"));
        }
    }

    println!("\n2. Sales");
    let first = sale(day, "sale", "demo-sale-1", "normal", Some("123456"), 12_800)?;
    let second = sale(day, "sale", "demo-sale-2", "credit", Some("123456"), 5_680)?;

    println!("\n3. Void of the second sale (by voucher number)");
    if let Some(a) = second.approval() {
        let outcome = day.terminal.void(
            &VoidRequest {
                attempt_id: "demo-void-1".into(),
                original: Original { stan: a.stan },
            },
            &day.cancel,
        );
        day.show("void", &outcome);
    }

    println!("\n4. Partial refund of the first sale");
    if let Some(a) = first.approval() {
        day.present("normal", None)?;
        let outcome = day.terminal.refund(
            &RefundRequest {
                attempt_id: "demo-refund-1".into(),
                amount_fen: 2_800,
                original: Original { stan: a.stan },
            },
            &day.cancel,
        );
        day.show("refund", &outcome);
    }

    println!("\n5. Declines, each with its reason");
    sale(
        day,
        "sale on a low-balance card",
        "demo-sale-3",
        "low",
        Some("123456"),
        99_900,
    )?;
    sale(
        day,
        "sale with a wrong PIN",
        "demo-sale-4",
        "normal",
        Some("000000"),
        1_000,
    )?;
    sale(
        day,
        "sale on a card reported lost",
        "demo-sale-5",
        "lost",
        Some("123456"),
        1_000,
    )?;
    // The terminal's own risk check, before the card is read or the host called: the built-in
    // bundle's per-sale card maximum is 50,000 yuan.
    let refused = sale(
        day,
        "sale over the terminal's per-sale maximum",
        "demo-sale-risk",
        "normal",
        Some("123456"),
        5_000_001,
    )?;
    if refused.termination().map(|t| t.cause) != Some(Cause::Risk) {
        return Err(CliError::new(
            "the risk pre-check did not refuse a sale over its maximum",
        ));
    }

    println!("\n6. The host's answer is lost: the terminal reverses automatically");
    day.server.acquirer().inject(
        Matcher::Mti("0200".into()),
        Fault::NoResponse { apply: true },
    );
    sale(
        day,
        "sale whose response never arrives",
        "demo-sale-6",
        "normal",
        Some("123456"),
        4_200,
    )?;
    println!("      (the acquirer had charged it; the 0400 reversal with reason 98 undid it)");

    println!("\n7. Balance inquiry, pre-authorisation and completion");
    day.present("normal", Some("123456"))?;
    let outcome = day.terminal.balance(
        &BalanceRequest {
            attempt_id: "demo-balance-1".into(),
        },
        &day.cancel,
    );
    day.show("balance", &outcome);
    day.present("normal", Some("123456"))?;
    let pre = day.terminal.pre_auth(
        &PreAuthRequest {
            attempt_id: "demo-preauth-1".into(),
            amount_fen: 30_000,
        },
        &day.cancel,
    );
    day.show("pre-authorisation", &pre);
    if let Some(a) = pre.approval() {
        let done = day.terminal.completion(
            &FollowUpRequest {
                attempt_id: "demo-completion-1".into(),
                original: Original { stan: a.stan },
                amount_fen: 26_500,
            },
            &day.cancel,
        );
        day.show("completion", &done);
    }

    println!("\n8. Chip cards: the EMV contact kernel against virtual cards with real keys");
    chip_sale(
        day,
        "chip sale (UnionPay debit, DDA)",
        "demo-chip-1",
        "unionpay-debit-dda",
        8_800,
    )?;
    chip_sale(
        day,
        "chip sale the card refuses after the host approved",
        "demo-chip-2",
        "unionpay-declines-second-ac",
        6_600,
    )?;
    println!("      (the acquirer had approved it; the 0400 reversal with reason 96 undid it)");

    println!("\n9. Devices and maintenance: more endings, each explained");
    day.reader.fail_detect(DeviceFault::ReaderFailure {
        message: "magnetic head not responding".into(),
    });
    let outcome = day.terminal.sale(
        &SaleRequest {
            attempt_id: "demo-sale-7".into(),
            amount_fen: 1_500,
        },
        &day.cancel,
    );
    day.show("sale with a failing card reader", &outcome);
    day.server.acquirer().inject(
        Matcher::Mti("0200".into()),
        Fault::Maintenance { code: "90".into() },
    );
    sale(
        day,
        "sale during the acquirer's cutover",
        "demo-sale-8",
        "normal",
        Some("123456"),
        1_500,
    )?;
    day.server
        .acquirer()
        .inject(Matcher::Mti("0200".into()), Fault::Garbled);
    sale(
        day,
        "sale answered with garbled bytes",
        "demo-sale-9",
        "normal",
        Some("123456"),
        1_500,
    )?;
    *day.printer.fault.lock().unwrap_or_else(|p| p.into_inner()) =
        Some(DeviceFault::PrinterOutOfPaper);
    sale(
        day,
        "sale while the printer is out of paper",
        "demo-sale-10",
        "normal",
        Some("123456"),
        2_000,
    )?;
    println!("      (a printer fault never undoes a payment; what the merchant is told:)");
    explain(&DeviceFault::PrinterOutOfPaper.termination());

    println!("\n10. QR payments (simulated gateway in simulated time, same journal)");
    let (paid, ended, refused) = super::demo_qr::run(&day.terminal, &explain)?;
    day.approved += paid;
    day.terminated += ended;
    day.refused_unrecorded += refused;

    println!("\n11. Health self-check");
    println!(
        "{}",
        indent(&super::health::render(&day.terminal.health(), false))
    );

    println!("\n12. Settlement: what the terminal owes the acquirer goes first");
    offline_chip_sale(day)?;
    let owed = day.terminal.pending_advices().map_or(0, |a| a.len());
    let settled = day.terminal.settle();
    let still = day.terminal.pending_advices().map_or(0, |a| a.len());
    println!(
        "      uploads before the batch closed: {} (the offline sale's 0220 with the card's TC, \
         verified by the issuer); still owed: {still}",
        owed.saturating_sub(still)
    );
    match settled {
        Ok(r) => println!(
            "  ✔ batch {:06} settled {}: {} debits RMB {}, {} credits RMB {}; batch {:06} is open",
            r.batch_no,
            if r.balanced {
                "balanced"
            } else {
                "after batch upload"
            },
            r.debit_count,
            yuan(r.debit_fen as i64),
            r.credit_count,
            yuan(r.credit_fen as i64),
            r.next_batch_no
        ),
        Err(t) => {
            println!("  ✘ settlement");
            explain(&t);
        }
    }

    // Before the statistics, the day's last word, so they count the taps.
    println!("\n13. Tap to pay: QuickPass (qPBOC) on the contactless kernels, 小额免密免签");
    for tap in super::demo_tap::taps(&day.terminal, &day.reader, &day.pin_pad, &day.cancel)? {
        day.show(tap.step, &tap.outcome);
        for line in &tap.notes {
            println!("      {line}");
        }
    }
    demo_esign::section(day)?;

    println!("\n15. Today's statistics (smartpos report)");
    match day.terminal.report(std::time::SystemTime::now()) {
        Ok(report) => {
            if let Some(today) = report.window(Window::Today) {
                println!("{}", indent(super::report::window_text(today).trim()));
            }
        }
        Err(e) => println!("  statistics unavailable: {e}"),
    }

    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scripted_day_runs_to_the_end() {
        // Every step, the injected faults included, must end in an approval or an explained
        // termination; a step that errors stops the demo with Err.
        assert!(
            run(Args {
                receipts: false,
                journal_dir: None
            })
            .is_ok()
        );
    }
}
