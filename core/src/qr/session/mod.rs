//! The QR session: customer-presented (micropay) and merchant-presented (precreate) payments
//! against the gateway, polled in [`Clock`] time, every step journaled before its side effect,
//! and every order closed-loop — paid, closed, or cancelled/refunded — never left unknown.
//!
//! Usable on its own: it needs gateway settings, a journal file and a clock; no card
//! configuration and no acquirer host.
//!
//! Recovery ([`QrSession::recover`]) finishes every order a crash left open: it queries, keeps
//! a payment the gateway reports as final (the caller gets it back by its attempt id), and
//! cancels anything still open; the cancel reverses a payment that lands in between.

mod error;
mod flow;
mod outcome;
mod risk;
mod settings;

#[cfg(test)]
mod tests;

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::UNIX_EPOCH;

pub use error::QrError;
pub use outcome::QrOutcome;
pub use risk::QrRisk;
pub use settings::QrSettings;

use crate::host::CancelToken;
use crate::ports::Clock;
use crate::qr::gateway::{GatewayClient, GatewayConfig};
use crate::store::{Journal, QrOrder, QrOrderState, QrOrderUpdate, SharedJournal};

/// A merchant-presented order after precreate.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PresentedOrder {
    /// Show `code_url` as a QR code, then [`QrSession::poll_presented`].
    Ready {
        out_trade_no: String,
        code_url: String,
    },
    /// The order ended before it could be shown (refused, or the gateway failed).
    Ended(QrOutcome),
}

#[allow(missing_debug_implementations)] // holds the gateway client, whose key must not print
pub struct QrSession {
    gateway: GatewayClient,
    /// Its own, or the card terminal's when opened through `Terminal::qr_session`.
    journal: SharedJournal,
    clock: Arc<dyn Clock>,
    settings: QrSettings,
}

impl QrSession {
    /// Opens (or creates) the journal at `journal_path` and prepares the gateway client. Sends
    /// nothing: call [`QrSession::recover`] once the network is up.
    pub fn open(
        settings: QrSettings,
        journal_path: impl AsRef<Path>,
        clock: Arc<dyn Clock>,
    ) -> Result<QrSession, QrError> {
        let journal = Journal::open(journal_path)?;
        QrSession::with_journal(settings, journal, clock)
    }

    /// As [`QrSession::open`], on a journal the caller already opened.
    pub fn with_journal(
        settings: QrSettings,
        journal: Journal,
        clock: Arc<dyn Clock>,
    ) -> Result<QrSession, QrError> {
        QrSession::with_shared_journal(settings, Arc::new(Mutex::new(journal)), clock)
    }

    /// As [`QrSession::open`], on a journal shared with other objects of this process (the card
    /// terminal's: see `Terminal::qr_session`).
    pub fn with_shared_journal(
        mut settings: QrSettings,
        journal: SharedJournal,
        clock: Arc<dyn Clock>,
    ) -> Result<QrSession, QrError> {
        let mut config = GatewayConfig::new(
            &settings.gateway_url,
            &settings.merchant_id,
            &settings.terminal_id,
            // The client owns the key; the session's copy of the settings keeps an empty one.
            std::mem::replace(
                &mut settings.signing_key,
                crate::qr::gateway::SigningKey::new(&[]),
            ),
        );
        config.connect_timeout = settings.connect_timeout;
        config.timeout = settings.request_timeout;
        config.ca_pem = settings.ca_pem.clone();
        config.spki_pins = settings.spki_pins.clone();
        let gateway = GatewayClient::new(config, clock.clone()).map_err(QrError::Settings)?;
        Ok(QrSession {
            gateway,
            journal,
            clock,
            settings,
        })
    }

    /// Every journaled QR order, oldest first.
    pub fn orders(&self) -> Result<Vec<QrOrder>, QrError> {
        Ok(self.journal().qr_orders()?)
    }

    /// The recorded outcome of `out_trade_no`, if the journal knows it.
    pub fn outcome(&self, out_trade_no: &str) -> Result<Option<QrOutcome>, QrError> {
        match self.journal().qr_order(out_trade_no)? {
            Some(order) => Ok(Some(QrOutcome::from_order(&order)?)),
            None => Ok(None),
        }
    }

    /// Finishes every order a crash (or an unreachable gateway) left open. Returns the outcome
    /// of each order it touched; orders still unreachable come back `Unresolved` and stay open
    /// for the next call.
    pub fn recover(&self) -> Result<Vec<QrOutcome>, QrError> {
        let open = self.journal().open_qr_orders()?;
        let mut outcomes = Vec::with_capacity(open.len());
        for order in open {
            log::info!(
                "QR recovery: order {} found {}",
                order.out_trade_no,
                order.state.as_str()
            );
            outcomes.push(self.finish(&order, 1)?);
        }
        Ok(outcomes)
    }

    fn journal(&self) -> MutexGuard<'_, Journal> {
        // A panic while holding the lock cannot leave the journal half-written (SQLite
        // transactions roll back), so the poisoned guard is safe to reuse.
        self.journal.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn now_ms(&self) -> i64 {
        self.clock
            .now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }

    fn order(&self, out_trade_no: &str) -> Result<QrOrder, QrError> {
        self.journal()
            .qr_order(out_trade_no)?
            .ok_or_else(|| QrError::UnknownOrder {
                out_trade_no: out_trade_no.to_owned(),
            })
    }

    /// Writes a state and returns the outcome it now stands for.
    ///
    /// Two threads may drive one order: the payment polling it and an operator cancelling it.
    /// Under the one journal lock, a late answer never undoes the other's work: an order already
    /// ended is not reopened for polling, an order being cancelled stays `cancelling` until the
    /// cancel's own answer, and a close the gateway reports meanwhile keeps the cancel's reason
    /// (the operator's cancel ends as cancelled, not as "closed by the gateway").
    fn record(
        &self,
        out_trade_no: &str,
        state: QrOrderState,
        mut update: QrOrderUpdate,
    ) -> Result<QrOutcome, QrError> {
        let now = self.now_ms();
        let mut journal = self.journal();
        let current = journal
            .qr_order(out_trade_no)?
            .ok_or_else(|| QrError::UnknownOrder {
                out_trade_no: out_trade_no.to_owned(),
            })?;
        let mut state = state;
        match (current.state, state) {
            (from, QrOrderState::Polling | QrOrderState::Requested) if !from.is_open() => {
                return Ok(QrOutcome::from_order(&current)?);
            }
            (QrOrderState::Cancelling, QrOrderState::Polling | QrOrderState::Requested) => {
                state = QrOrderState::Cancelling;
            }
            (QrOrderState::Cancelling, QrOrderState::Closed) => update.termination_code = None,
            _ => {}
        }
        journal.update_qr_order(out_trade_no, state, &update, now)?;
        let order = journal
            .qr_order(out_trade_no)?
            .ok_or_else(|| QrError::UnknownOrder {
                out_trade_no: out_trade_no.to_owned(),
            })?;
        let outcome = QrOutcome::from_order(&order)?;
        tally(&mut journal, &order, &outcome, now);
        Ok(outcome)
    }
}

/// Counts a QR order's ending in the terminal's statistics (same tables as card endings), so
/// `report` shows QR approvals and terminations by cause. Statistics are not money state: a
/// failure to write one is logged, never allowed to fail the payment.
fn tally(journal: &mut Journal, order: &QrOrder, outcome: &QrOutcome, at_ms: i64) {
    let termination = match outcome {
        QrOutcome::Paid { .. } if order.state == QrOrderState::Paid => None,
        QrOutcome::Closed { termination, .. } | QrOutcome::Declined { termination, .. } => {
            Some(termination)
        }
        // Orders still being polled or cancelled end later; operator cancels and refunds are
        // follow-ups, not payment endings.
        _ => return,
    };
    let code = termination.map(|t| t.code.to_string());
    let ending = crate::store::EndingRecord {
        at_ms,
        attempt_id: Some(&order.out_trade_no),
        kind: match order.mode {
            crate::store::QrMode::CustomerPresented => "qr_pay",
            _ => "qr_present",
        },
        termination: code.as_deref().zip(termination.map(|t| t.cause)),
    };
    if let Err(e) = journal.record_ending(&ending) {
        log::warn!("QR order {}: ending not counted: {e}", order.out_trade_no);
    }
}

/// A token nobody cancels: closing an order must run to its end even when the shell has
/// cancelled the payment that led to it.
fn uncancellable() -> CancelToken {
    CancelToken::new()
}
