//! The demo's QR part: a customer's payment code scanned and polled while the customer confirms,
//! one never confirmed and cancelled at the deadline, a scan that is no payment code, and a
//! dynamic merchant-presented order. The simulated gateway runs in simulated time, so 45 seconds
//! of polling take none.

use smartpos_core::txn::Terminal;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use smartpos_core::diag::Termination;
use smartpos_core::host::CancelToken;
use smartpos_core::money::Amount;
use smartpos_core::ports::SimulatedClock;
use smartpos_core::qr::mpm::{MerchantQr, UnionPayAccount};
use smartpos_core::qr::session::{PresentedOrder, QrError, QrOutcome};

use super::{CliError, qr::DEMO_ACCOUNT};
use crate::demo_setup::{DEMO_MERCHANT_ID, DEMO_WECHAT_CODE};
use crate::sim::gateway::{Behaviour, DEMO_SIGNING_KEY, GatewayServer, QrGateway};

fn fen(v: u64) -> Result<Amount, CliError> {
    Amount::from_fen(v).map_err(|e| CliError::new(format!("amount: {e}")))
}

fn failed(what: &str) -> impl Fn(QrError) -> CliError + '_ {
    move |e| CliError::new(format!("{what}: {e}"))
}

/// Prints an outcome; returns whether it was a payment.
fn show(step: &str, outcome: &QrOutcome, explain: &dyn Fn(&Termination)) -> bool {
    match outcome {
        QrOutcome::Paid { amount, .. } => {
            println!("  ✔ {step}: paid RMB {amount}");
            true
        }
        QrOutcome::Refunded { amount, .. } => {
            println!("  ↺ {step}: given back RMB {amount}");
            false
        }
        QrOutcome::Cancelled { .. } => {
            println!("  ✘ {step}: cancelled by the operator");
            false
        }
        QrOutcome::Closed { termination, .. }
        | QrOutcome::Declined { termination, .. }
        | QrOutcome::Unresolved { termination, .. } => {
            println!("  ✘ {step}: {}", outcome_name(outcome));
            explain(termination);
            false
        }
        _ => false,
    }
}

fn outcome_name(outcome: &QrOutcome) -> &'static str {
    match outcome {
        QrOutcome::Closed { .. } => "closed",
        QrOutcome::Declined { .. } => "declined",
        _ => "unresolved",
    }
}

/// Runs the QR part on `terminal`'s journal (one file and one owner hold both).
/// Returns (payments, explained endings).
pub fn run(
    terminal: &Terminal,
    explain: &dyn Fn(&Termination),
) -> Result<(u32, u32, u32), CliError> {
    // Simulated time starts a few minutes back so the orders it ends (75 s of polling in all)
    // are in the past when today's statistics are read on the real clock.
    let start = SystemTime::now()
        .checked_sub(Duration::from_secs(300))
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let clock = Arc::new(SimulatedClock::new(start));
    let gateway = Arc::new(QrGateway::new(
        DEMO_SIGNING_KEY,
        DEMO_MERCHANT_ID,
        clock.clone(),
    ));
    let addr = "127.0.0.1:0"
        .parse()
        .map_err(|_| CliError::new("address"))?;
    let server = GatewayServer::start(gateway.clone(), addr)
        .map_err(|e| CliError::new(format!("QR gateway simulator: {e}")))?;
    let settings = crate::demo_setup::demo_qr_settings(&server.url());
    let session = terminal
        .qr_session(settings, clock.clone())
        .map_err(failed("QR session"))?;
    let cancel = CancelToken::new();
    let (mut paid, mut ended, mut refused) = (0, 0, 0);
    let mut count = |was_paid: bool| {
        if was_paid {
            paid += 1;
        } else {
            ended += 1;
        }
    };

    gateway.script("QR-1", Behaviour::PayAfter(Duration::from_secs(20)));
    let outcome = session
        .pay_code("QR-1", fen(3_600)?, DEMO_WECHAT_CODE, &cancel)
        .map_err(failed("QR pay"))?;
    count(show(
        "WeChat Pay code 1345**********6789, customer confirms for 20 s (queried every 5 s)",
        &outcome,
        explain,
    ));

    gateway.script("QR-2", Behaviour::NeverPay);
    let outcome = session
        .pay_code("QR-2", fen(1_200)?, "28763443825664394", &cancel)
        .map_err(failed("QR pay"))?;
    count(show(
        "Alipay code, never confirmed: cancelled at the 45 s deadline, nothing charged",
        &outcome,
        explain,
    ));

    match session.pay_code("QR-3", fen(500)?, "6212345678", &cancel) {
        Err(QrError::NotAPaymentCode(why)) => {
            println!("  ✘ a scan that is no payment code, refused before anything is sent: {why}");
            // Not a payment: nothing is journaled, so the statistics do not count it either.
            refused += 1;
        }
        other => return Err(CliError::new(format!("QR-3: unexpected {other:?}"))),
    }

    let account =
        UnionPayAccount::parse(DEMO_ACCOUNT).map_err(|e| CliError::new(format!("account: {e}")))?;
    let mut mpm = MerchantQr::new(account, "5812", fen(1_880)?, "SMARTPOS DEMO", "SHANGHAI");
    mpm.bill_number = Some("QR-4".into());
    let payload = mpm.make().map_err(|e| CliError::new(format!("MPM: {e}")))?;
    println!(
        "  ▣ dynamic merchant QR (EMVCo MPM, CRC {}):",
        &payload[payload.len() - 4..]
    );
    println!("      {payload}");
    println!("      (`smartpos qr make` draws it; `smartpos qr parse` reads it back)");
    gateway.script("QR-4", Behaviour::PayAfter(Duration::from_secs(10)));
    match session
        .precreate("QR-4", fen(1_880)?, "demo order", &cancel)
        .map_err(failed("QR precreate"))?
    {
        PresentedOrder::Ready { .. } => {
            let outcome = session
                .poll_presented("QR-4", &cancel)
                .map_err(failed("QR poll"))?;
            count(show(
                "merchant-presented order, scanned and paid after 10 s",
                &outcome,
                explain,
            ));
        }
        PresentedOrder::Ended(outcome) => {
            count(show("merchant-presented order", &outcome, explain))
        }
        other => return Err(CliError::new(format!("QR-4: unexpected {other:?}"))),
    }
    let ledger = gateway.ledger();
    println!(
        "  QR gateway ledger: charged RMB {}, given back RMB {}",
        Amount::from_fen(ledger.orders().map(|o| o.charged_fen).sum()).unwrap_or(Amount::ZERO),
        Amount::from_fen(ledger.orders().map(|o| o.refunded_fen).sum()).unwrap_or(Amount::ZERO),
    );
    Ok((paid, ended, refused))
}
