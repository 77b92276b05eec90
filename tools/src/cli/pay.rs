//! `smartpos pay --host ADDR --journal DB --count N`: load generation. N magstripe sales with
//! the demo card, one process, one journal, one terminal; the storage key lives in `DB.key`
//! (see `terminal_setup`). `--method qr --qr-gateway URL`: N customer-presented QR payments
//! (the demo WeChat Pay code) through the simulated gateway, journaled in the same file.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use smartpos_core::host::CancelToken;
use smartpos_core::money::Amount;
use smartpos_core::ports::SystemClock;
use smartpos_core::qr::session::{QrOutcome, QrRisk, QrSession};
use smartpos_core::txn::{
    FollowUpRequest, Original, Outcome, PreAuthRequest, RefundRequest, RiskConfig, SaleRequest,
    VoidRequest,
};

use super::{CliError, CliResult};
use crate::demo_setup::{DEMO_WECHAT_CODE, demo_qr_settings};
use crate::terminal_setup::{HostTerminal, LoadRng};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Method {
    /// Magstripe card with online PIN (the demo card "normal").
    Card,
    /// The customer's payment code (the demo WeChat Pay code) scanned and sent as a micropay.
    Qr,
}

/// Amounts in fen, `A..B`: from A inclusive to B exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AmountRange {
    pub lo: u64,
    pub hi: u64,
}

impl FromStr for AmountRange {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (a, b) = s
            .split_once("..")
            .ok_or_else(|| format!("amount range {s:?} is not A..B (fen)"))?;
        let num = |t: &str| {
            t.trim()
                .parse::<u64>()
                .map_err(|_| format!("amount range {s:?}: {t:?} is not a whole number of fen"))
        };
        let (lo, hi) = (num(a)?, num(b)?);
        if lo == 0 || hi <= lo {
            return Err(format!(
                "amount range {s:?} must satisfy 0 < A < B (B is exclusive)"
            ));
        }
        // Field 4 holds 12 digits.
        if hi > 1_000_000_000_000 {
            return Err(format!("amount range {s:?} exceeds field 4's 12 digits"));
        }
        Ok(AmountRange { lo, hi })
    }
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub acquirer: super::acquirer::AcquirerArgs,
    /// Journal database (created if missing); its storage key is kept in DB.key.
    #[arg(long)]
    pub journal: PathBuf,
    /// Number of sales to run.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub count: u32,
    /// Payment method.
    #[arg(long, value_enum, default_value = "card")]
    pub method: Method,
    /// QR gateway base URL for `--method qr`, e.g. `http://127.0.0.1:5900` (what
    /// `smartpos sim --qr-listen` prints).
    #[arg(long, required_if_eq("method", "qr"))]
    pub qr_gateway: Option<String>,
    /// Transaction kind; void, refund and completion first make the sale or pre-authorisation
    /// they act on.
    #[arg(long, value_enum, default_value = "sale")]
    pub kind: PayKind,
    /// Amounts in fen, uniformly random in A..B (B exclusive).
    #[arg(long, default_value = "100..10000")]
    pub amount_range: AmountRange,
    /// Print a JSON summary instead of the text one.
    #[arg(long)]
    pub json: bool,
    /// Turn the terminal's risk pre-checks off. Every sale uses the one demo card, so a run of
    /// more than five sales within ten minutes meets the per-card velocity limit, as such a
    /// card would in a shop; load and crash runs opt out with this flag.
    #[arg(long)]
    pub no_risk_checks: bool,
    /// Insert this virtual chip card instead of swiping the demo card: a card_sim catalogue
    /// name such as unionpay-debit-dda or unionpay-declines-second-ac. Each transaction runs
    /// the EMV contact kernel against it, and the simulator plays its issuer. A contactless
    /// card (quickpass-debit, quickpass-credit, quickpass-phone, visa-qvsdc,
    /// mastercard-contactless) is tapped: the contactless kernels run (field 22 = 07x).
    #[arg(long, value_name = "NAME")]
    pub card: Option<String>,
    /// With --card: let the chip approve sales offline below FEN (the AIDs' and the
    /// contactless AIDs' floor limit,
    /// random online selection off). Offline approvals are uploaded to the acquirer before
    /// the next online message, at recovery or before settlement.
    #[arg(long, value_name = "FEN", requires = "card")]
    pub offline_floor_limit: Option<u64>,
    /// Strokes JSON (as `esign render` reads it): the simulated cardholder signs with these
    /// whenever the terminal asks for a signature (swiped cards, a chip whose CVM is signature).
    #[arg(long, value_name = "FILE")]
    pub signature: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PayKind {
    /// A sale.
    Sale,
    /// A sale, then its void.
    Void,
    /// A sale, then a refund of half of it.
    Refund,
    /// A pre-authorisation.
    PreAuth,
    /// A pre-authorisation, then its completion for the same amount.
    Completion,
}

/// One cycle of `kind`; the outcome of its last message.
fn cycle(
    host: &HostTerminal,
    card: Option<&str>,
    kind: PayKind,
    id: &str,
    fen: u64,
    cancel: &CancelToken,
) -> Result<Outcome, CliError> {
    let present = |host: &HostTerminal| match card {
        Some(name) => host.insert_chip_card(name),
        None => host.present_demo_card(),
    };
    let sale = |attempt_id: String| -> Result<Outcome, CliError> {
        present(host)?;
        Ok(host.terminal.sale(
            &SaleRequest {
                attempt_id,
                amount_fen: fen,
            },
            cancel,
        ))
    };
    let pre_auth = |attempt_id: String| -> Result<Outcome, CliError> {
        present(host)?;
        Ok(host.terminal.pre_auth(
            &PreAuthRequest {
                attempt_id,
                amount_fen: fen,
            },
            cancel,
        ))
    };
    Ok(match kind {
        PayKind::Sale => sale(id.to_string())?,
        PayKind::PreAuth => pre_auth(id.to_string())?,
        PayKind::Void | PayKind::Refund => {
            let first = sale(format!("{id}-sale"))?;
            let Some(a) = first.approval() else {
                return Ok(first);
            };
            let original = Original { stan: a.stan };
            if kind == PayKind::Void {
                host.terminal.void(
                    &VoidRequest {
                        attempt_id: id.to_string(),
                        original,
                    },
                    cancel,
                )
            } else {
                present(host)?;
                host.terminal.refund(
                    &RefundRequest {
                        attempt_id: id.to_string(),
                        amount_fen: kind.final_fen(fen),
                        original,
                    },
                    cancel,
                )
            }
        }
        PayKind::Completion => {
            let first = pre_auth(format!("{id}-preauth"))?;
            let Some(a) = first.approval() else {
                return Ok(first);
            };
            host.terminal.completion(
                &FollowUpRequest {
                    attempt_id: id.to_string(),
                    original: Original { stan: a.stan },
                    amount_fen: fen,
                },
                cancel,
            )
        }
    })
}

impl PayKind {
    /// The kind as the command line and the output name it.
    pub fn label(self) -> &'static str {
        match self {
            PayKind::Sale => "sale",
            PayKind::Void => "void",
            PayKind::Refund => "refund",
            PayKind::PreAuth => "pre-auth",
            PayKind::Completion => "completion",
        }
    }

    /// The amount of the message this kind ends with, for a cycle whose first message is for
    /// `fen`: a refund returns half the sale (rounded up), the others the whole.
    fn final_fen(self, fen: u64) -> u64 {
        match self {
            PayKind::Refund => fen.div_ceil(2),
            _ => fen,
        }
    }

    /// What the cycle acted on first, for kinds that make their own original.
    fn original(self) -> Option<&'static str> {
        match self {
            PayKind::Void | PayKind::Refund => Some("sale"),
            PayKind::Completion => Some("pre-auth"),
            PayKind::Sale | PayKind::PreAuth => None,
        }
    }
}

/// The `--json` summary.
#[derive(Debug, Default, Serialize)]
pub struct PaySummary {
    /// What each cycle ended with: sale, void, refund, pre-auth or completion.
    pub kind: &'static str,
    pub attempted: u32,
    pub approved: u32,
    pub approved_fen: u64,
    /// Termination code → count.
    pub terminated: BTreeMap<String, u32>,
}

pub fn run(args: Args) -> CliResult {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let pid = std::process::id();
    let mut rng = LoadRng::new((now_ms as u64) ^ (u64::from(pid) << 32));
    let risk = if args.no_risk_checks {
        RiskConfig::disabled()
    } else {
        RiskConfig::default()
    };
    let mut summary = PaySummary {
        kind: args.kind.label(),
        ..PaySummary::default()
    };
    // An ending: the amount approved and what identifies it, or the termination code.
    type Ending = Result<(u64, String), String>;
    let mut record = |i: u32, attempt_id: &str, amount_fen: u64, ending: Ending| {
        summary.attempted += 1;
        let line = match ending {
            Ok((fen, what)) => {
                summary.approved += 1;
                summary.approved_fen += fen;
                format!("approved {} {what}", yuan(fen))
            }
            Err(code) => {
                let line = format!("terminated {code}");
                *summary.terminated.entry(code).or_insert(0) += 1;
                line
            }
        };
        if !args.json {
            // The amount of the kind's own message; the original it made first, in brackets.
            let of = args
                .kind
                .original()
                .map(|o| format!(" (of {o} {})", yuan(amount_fen)))
                .unwrap_or_default();
            println!(
                "{} {i}/{} {attempt_id} {}{of}: {line}",
                args.kind.label(),
                args.count,
                yuan(args.kind.final_fen(amount_fen))
            );
        }
    };
    let cancel = CancelToken::new();
    match args.method {
        Method::Card => {
            let host = HostTerminal::open_with_risk(&args.journal, &args.acquirer.link()?, risk)?;
            if let Some(fen) = args.offline_floor_limit {
                host.allow_offline_below(fen);
            }
            if let Some(strokes) = &args.signature {
                super::esign::fit_scripted_pad(&host.terminal, strokes)?;
            }
            for i in 1..=args.count {
                // Unique across runs and processes: a replayed attempt id would return the old
                // outcome.
                let attempt_id = format!("pay-{pid}-{now_ms}-{i}");
                let amount_fen = rng.in_range(args.amount_range.lo, args.amount_range.hi);
                let outcome = cycle(
                    &host,
                    args.card.as_deref(),
                    args.kind,
                    &attempt_id,
                    amount_fen,
                    &cancel,
                )?;
                let ending = match &outcome {
                    Outcome::Approved(a) => Ok((
                        a.amount_fen,
                        format!(
                            "STAN {:06} {}{}",
                            a.stan,
                            a.pan_masked,
                            super::esign::signature_words(a.signature.as_ref())
                        ),
                    )),
                    Outcome::Terminated(t) => Err(t.code.to_string()),
                };
                record(i, &attempt_id, amount_fen, ending);
            }
        }
        Method::Qr => {
            if args.kind != PayKind::Sale {
                return Err(CliError::new("--method qr runs sales only"));
            }
            let url = args
                .qr_gateway
                .as_deref()
                .ok_or_else(|| CliError::new("--method qr needs --qr-gateway URL"))?;
            let mut settings = demo_qr_settings(url);
            if args.no_risk_checks {
                settings.risk = QrRisk::disabled();
            }
            let fail = |e| CliError::new(format!("QR: {e}"));
            let session =
                QrSession::open(settings, &args.journal, Arc::new(SystemClock)).map_err(fail)?;
            // As a shell does once the network is up: finish what an earlier run left open.
            session.recover().map_err(fail)?;
            for i in 1..=args.count {
                let attempt_id = format!("qr-{pid}-{now_ms}-{i}");
                let amount_fen = rng.in_range(args.amount_range.lo, args.amount_range.hi);
                let amount = Amount::from_fen(amount_fen)
                    .map_err(|e| CliError::new(format!("amount: {e}")))?;
                let outcome = session
                    .pay_code(&attempt_id, amount, DEMO_WECHAT_CODE, &cancel)
                    .map_err(fail)?;
                record(i, &attempt_id, amount_fen, qr_ending(&outcome));
            }
        }
    }
    if args.json {
        let text = serde_json::to_string_pretty(&summary)
            .map_err(|e| CliError::new(format!("summary: {e}")))?;
        println!("{text}");
    } else {
        println!(
            "summary: {} attempted, {} approved (RMB {}), {} terminated",
            summary.attempted,
            summary.approved,
            yuan(summary.approved_fen),
            summary.attempted - summary.approved
        );
        for (code, n) in &summary.terminated {
            println!("  {code}: {n}");
        }
    }
    let terminated = summary.attempted - summary.approved;
    if terminated > 0 {
        return Err(CliError::reported(format!(
            "{terminated} of {} payment(s) terminated",
            summary.attempted
        )));
    }
    Ok(())
}

/// A QR outcome as the summary counts it: the amount paid and the gateway's trade number, or
/// the code of the ending.
fn qr_ending(outcome: &QrOutcome) -> Result<(u64, String), String> {
    match outcome {
        QrOutcome::Paid {
            amount,
            transaction_id,
            ..
        } => Ok((
            amount.fen(),
            format!("trade {}", transaction_id.as_deref().unwrap_or("?")),
        )),
        QrOutcome::Closed { termination, .. }
        | QrOutcome::Declined { termination, .. }
        | QrOutcome::Unresolved { termination, .. } => Err(termination.code.to_string()),
        QrOutcome::Refunded { .. } => Err("QR_REFUNDED".into()),
        QrOutcome::Cancelled { .. } => Err("QR_CANCELLED".into()),
        _ => Err("QR_OTHER".into()),
    }
}

use super::shape::yuan;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amount_range_parses_and_rejects_with_the_reason() {
        assert_eq!(
            "100..10000".parse::<AmountRange>(),
            Ok(AmountRange { lo: 100, hi: 10000 })
        );
        for (bad, why) in [
            ("100-200", "not A..B"),
            ("x..200", "\"x\" is not a whole number"),
            ("500..500", "0 < A < B"),
            ("0..5", "0 < A < B"),
            ("1..9999999999999", "12 digits"),
        ] {
            let err = bad.parse::<AmountRange>().unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }
}
