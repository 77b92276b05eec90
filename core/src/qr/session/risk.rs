//! The risk pre-check of a QR payment, run before the order is journaled or sent.
//!
//! Which PBOC barcode cap applies (Yinfa [2017] No. 296): both flows of this session use
//! codes generated per payment — the customer's payment code (付款码, micropay) and the
//! merchant's per-order dynamic code (precreate) — so both are *dynamic* and take the
//! dynamic cap. The static cap is for a fixed merchant sticker, which never passes through
//! the terminal. The payer's grade is known to the wallet, not to the terminal: unless the
//! settings say otherwise the stricter grade B cap (1,000 yuan per day) applies.
//!
//! The cap is per payer, but a terminal cannot tell payers apart (a payment code is one-time),
//! so the counter is this terminal's own dynamic-QR total for the local day, from its journal:
//! paid orders, net of refunds, plus orders still open (they may yet be paid).

use std::time::UNIX_EPOCH;

use crate::diag::Termination;
use crate::money::Amount;
use crate::risk::{
    Bundle, CHINA_UTC_OFFSET_MINUTES, CounterQuery, Counters, Method, QrGrade, RiskContext,
    TerminalFacts, Verdict, evaluate, qr_termination,
};
use crate::store::{QrOrder, QrOrderState as S};

use super::{QrError, QrSession};

/// Risk pre-checks of a QR session. `Default`: on, with the built-in bundle and the payer's
/// grade unknown (the stricter cap).
#[derive(Debug, Clone)]
pub struct QrRisk {
    /// `false` only for harnesses; a session in trade checks every payment.
    pub enabled: bool,
    /// The payer's grade when an agreement with the wallet fixes it; `None` = unknown, which
    /// takes grade B's lower cap.
    pub grade: Option<QrGrade>,
    /// The rules (per-payment limits and daily caps); a terminal's verified bundle can be
    /// handed in here.
    pub bundle: Bundle,
}

impl Default for QrRisk {
    fn default() -> QrRisk {
        QrRisk {
            enabled: true,
            grade: None,
            bundle: Bundle::built_in(),
        }
    }
}

impl QrRisk {
    pub fn disabled() -> QrRisk {
        QrRisk {
            enabled: false,
            ..QrRisk::default()
        }
    }

    fn method(&self) -> Method {
        Method::QrDynamic {
            grade: self.grade.unwrap_or(QrGrade::B),
        }
    }
}

/// What an order still counts towards today's cap: paid (net of refunds) or possibly paid.
fn counted_fen(order: &QrOrder) -> u64 {
    match order.state {
        S::Paid | S::Requested | S::Polling | S::Cancelling | S::Refunding => order.amount_fen,
        S::Refunded => order.amount_fen.saturating_sub(order.refunded_fen),
        _ => 0,
    }
}

/// Counters from the journal's orders: today's dynamic-QR total and the orders in the
/// velocity window. Nothing here is per card.
fn counters(orders: &[QrOrder], q: &CounterQuery) -> Counters {
    let ms = |s: i64| s.saturating_mul(1000);
    let mut c = Counters::default();
    for order in orders.iter().filter(|o| counted_fen(o) > 0) {
        if order.created_at_ms >= ms(q.day_start) {
            c.method_day_fen = c.method_day_fen.saturating_add(counted_fen(order));
        }
        if order.created_at_ms >= ms(q.velocity_since) {
            c.terminal_window_count = c.terminal_window_count.saturating_add(1);
        }
    }
    // The session sees only QR orders, so its terminal total is the QR total.
    c.terminal_day_fen = c.method_day_fen;
    c
}

impl QrSession {
    /// `Ok(None)` when the payment may go on, `Ok(Some(termination))` when a rule declines it.
    /// Nothing is written: the order is refused before it exists.
    pub(super) fn risk_check(&self, amount: Amount) -> Result<Option<Termination>, QrError> {
        let risk = &self.settings.risk;
        if !risk.enabled {
            return Ok(None);
        }
        let unix_time = self
            .clock
            .now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        let ctx = RiskContext {
            amount_fen: amount.fen(),
            method: risk.method(),
            card: None,
            terminal: TerminalFacts {
                unix_time,
                utc_offset_minutes: CHINA_UTC_OFFSET_MINUTES,
                position: None,
                cell_id: None,
                online: true,
                mcc: String::new(),
            },
            // Random selection is for offline card approvals; a QR payment is always online.
            random_1_99: 99,
            offline_capable: false,
        };
        let query = CounterQuery::new(&risk.bundle, &ctx);
        // Only the orders the rules' windows can see: the day's and the velocity window's.
        let since_ms = query
            .day_start
            .min(query.velocity_since)
            .saturating_mul(1000);
        let counters = counters(&self.journal().qr_orders_since(since_ms)?, &query);
        let decision = evaluate(&risk.bundle, &ctx, &counters);
        Ok(match decision.verdict {
            // Step-ups (PIN, signature, online) are the wallet's business for a QR payment.
            Verdict::Allow | Verdict::StepUp(_) => None,
            _ => {
                log::info!(
                    "QR payment of {amount} refused by risk rule {}",
                    decision.rule
                );
                Some(qr_termination(&decision))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::QrMode;

    fn order(state: S, fen: u64, refunded: u64, at_s: i64) -> QrOrder {
        QrOrder {
            out_trade_no: format!("o{at_s}"),
            mode: QrMode::CustomerPresented,
            state,
            amount_fen: fen,
            currency: "156".into(),
            scheme: None,
            code_masked: None,
            gateway_trade_no: None,
            code_url: None,
            refunded_fen: refunded,
            refund_fen: None,
            termination_code: None,
            created_at_ms: at_s * 1000,
            updated_at_ms: at_s * 1000,
        }
    }

    #[test]
    fn today_counts_paid_net_of_refunds_and_open_orders_only() {
        let q = CounterQuery {
            card: None,
            method: "qr_dynamic",
            amount_fen: 1,
            now: 2_000,
            day_start: 1_000,
            velocity_since: 1_900,
            duplicate_since: 0,
            fallback_since: 0,
            cash_out_since: 0,
            round_unit_fen: 0,
            just_below_low_fen: 0,
            just_below_high_fen: 0,
        };
        let orders = [
            order(S::Paid, 100, 0, 1_500),
            order(S::Refunded, 300, 120, 1_950),
            order(S::Polling, 40, 0, 1_990),
            order(S::Declined, 5_000, 0, 1_990),
            order(S::Closed, 7_000, 0, 1_990),
            // Yesterday: before the local day started.
            order(S::Paid, 9_000, 0, 999),
        ];
        let c = counters(&orders, &q);
        assert_eq!(c.method_day_fen, 100 + 180 + 40);
        assert_eq!(c.terminal_day_fen, c.method_day_fen);
        assert_eq!(c.terminal_window_count, 2);
        assert_eq!(c.card_day_fen, 0);
    }

    #[test]
    fn an_unknown_grade_takes_the_lower_dynamic_cap() {
        assert_eq!(
            QrRisk::default().method(),
            Method::QrDynamic { grade: QrGrade::B }
        );
        let graded = QrRisk {
            grade: Some(QrGrade::A),
            ..QrRisk::default()
        };
        assert_eq!(graded.method(), Method::QrDynamic { grade: QrGrade::A });
        // The PBOC caps (Yinfa [2017] No. 296): 1,000 and 5,000 yuan per day.
        let b = Bundle::built_in();
        assert_eq!(b.qr.dynamic_grade_b_daily_fen, 100_000);
        assert_eq!(b.qr.dynamic_grade_a_daily_fen, 500_000);
    }
}
