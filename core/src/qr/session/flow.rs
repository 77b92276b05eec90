//! The order flows: pay, poll, close, refund. Each journal write precedes the gateway call it
//! enables, so a crash at any point leaves an order recovery can finish.

use crate::crashpoint;
use crate::diag::{Termination, TerminationCode as T};
use crate::host::CancelToken;
use crate::money::Amount;
use crate::qr::gateway::{AuthCode, GatewayReply, TradeState, Verdict};
use crate::store::{NewQrOrder, QrMode, QrOrder, QrOrderState as S, QrOrderUpdate, StoreError};

use super::{PresentedOrder, QrError, QrOutcome, QrSession, uncancellable};

/// out_trade_no limits shared by the common aggregators (32 characters, no separators that
/// would need escaping in the canonical string).
pub(super) fn check_attempt_id(attempt_id: &str) -> Result<(), QrError> {
    let valid = !attempt_id.is_empty()
        && attempt_id.len() <= 32
        && attempt_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-|*".contains(&b));
    if valid {
        Ok(())
    } else {
        Err(QrError::InvalidInput {
            what: "attempt id",
            detail: format!("{attempt_id:?} must be 1 to 32 characters of A-Z, a-z, 0-9, _ - | *"),
        })
    }
}

/// A payment of nothing would open an order the gateway refuses: refused before anything is
/// journaled or sent.
fn check_payment_amount(amount: Amount) -> Result<(), QrError> {
    if amount.fen() == 0 {
        return Err(QrError::InvalidInput {
            what: "amount",
            detail: "a QR payment must be at least 0.01".into(),
        });
    }
    Ok(())
}

fn with_code(code: T) -> QrOrderUpdate {
    QrOrderUpdate {
        termination_code: Some(code.to_string()),
        ..QrOrderUpdate::default()
    }
}

impl QrSession {
    /// Charges a customer-presented payment code as scanned or typed: recognises its scheme
    /// (WeChat Pay, Alipay, UnionPay, e-CNY, EMVCo CPM) first, so a code of no known scheme is
    /// refused with the reason before anything is journaled or sent; then as
    /// [`QrSession::micropay`].
    pub fn pay_code(
        &self,
        attempt_id: &str,
        amount: Amount,
        code: &str,
        cancel: &CancelToken,
    ) -> Result<QrOutcome, QrError> {
        let recognised = crate::qr::paycode::recognise(code)?;
        let auth_code = AuthCode::new(recognised.expose_code());
        self.micropay(
            attempt_id,
            amount,
            &auth_code,
            recognised.scheme().code(),
            cancel,
        )
    }

    /// Charges a customer-presented payment code. `attempt_id` is the out_trade_no: the same
    /// attempt id again returns the recorded outcome (or finishes the open order), never a
    /// second charge. `scheme` names the wallet (from payment-code recognition), for the journal.
    pub fn micropay(
        &self,
        attempt_id: &str,
        amount: Amount,
        code: &AuthCode,
        scheme: &str,
        cancel: &CancelToken,
    ) -> Result<QrOutcome, QrError> {
        check_attempt_id(attempt_id)?;
        if let Some(order) = self.journal().qr_order(attempt_id)? {
            return self.repeat(&order, QrMode::CustomerPresented);
        }
        check_payment_amount(amount)?;
        if let Some(termination) = self.risk_check(amount)? {
            return Ok(risk_declined(attempt_id, termination));
        }
        self.begin(
            attempt_id,
            QrMode::CustomerPresented,
            amount,
            Some(scheme),
            Some(code),
        )?;
        crashpoint::reached("qr.requested", "micropay");
        match self.gateway.micropay(attempt_id, amount, code, cancel) {
            Ok(reply) => match reply.verdict {
                Verdict::Success => match mismatch(attempt_id, amount.fen(), &reply) {
                    None => self.record(attempt_id, S::Paid, paid_update(&reply)),
                    // Not this order's payment, so nothing it says is kept (not even its trade
                    // number): unknown, and the query loop asks again.
                    Some(why) => {
                        log::warn!("QR order {attempt_id}: micropay answer unconfirmed: {why}");
                        self.poll(attempt_id, None, T::NetBadResponse, cancel)
                    }
                },
                Verdict::Declined(code) => self.record(attempt_id, S::Declined, with_code(code)),
                // Paying, already paid, or unknown: the query loop finds out which.
                _ => self.poll(attempt_id, reply.transaction_id, T::OpQrNotPaid, cancel),
            },
            Err(err) if !err.may_have_reached_gateway() => {
                log::warn!("QR order {attempt_id}: micropay not sent: {err}");
                let state = if err.termination_code() == T::OpCancelled {
                    S::Closed
                } else {
                    S::Declined
                };
                self.record(attempt_id, state, with_code(err.termination_code()))
            }
            Err(err) => {
                log::warn!("QR order {attempt_id}: micropay outcome unknown: {err}");
                self.poll(attempt_id, None, T::OpQrNotPaid, cancel)
            }
        }
    }

    /// Creates a dynamic merchant-presented order; show the returned `code_url`, then
    /// [`QrSession::poll_presented`].
    pub fn precreate(
        &self,
        attempt_id: &str,
        amount: Amount,
        description: &str,
        cancel: &CancelToken,
    ) -> Result<PresentedOrder, QrError> {
        check_attempt_id(attempt_id)?;
        if let Some(order) = self.journal().qr_order(attempt_id)? {
            if order.mode != QrMode::MerchantPresented {
                return Err(not_usable(&order, "precreate"));
            }
            return match (&order.state, &order.code_url) {
                (S::Polling, Some(url)) => Ok(PresentedOrder::Ready {
                    out_trade_no: order.out_trade_no.clone(),
                    code_url: url.clone(),
                }),
                _ => Ok(PresentedOrder::Ended(
                    self.repeat(&order, QrMode::MerchantPresented)?,
                )),
            };
        }
        check_payment_amount(amount)?;
        if let Some(termination) = self.risk_check(amount)? {
            return Ok(PresentedOrder::Ended(risk_declined(
                attempt_id,
                termination,
            )));
        }
        self.begin(attempt_id, QrMode::MerchantPresented, amount, None, None)?;
        crashpoint::reached("qr.requested", "precreate");
        let ended = match self
            .gateway
            .precreate(attempt_id, amount, description, cancel)
        {
            Ok(reply) => match (reply.verdict, reply.code_url.clone()) {
                // A code created for another amount would charge the customer that amount.
                (Verdict::Success, Some(_))
                    if mismatch(attempt_id, amount.fen(), &reply).is_some() =>
                {
                    let why = mismatch(attempt_id, amount.fen(), &reply).unwrap_or_default();
                    log::warn!("QR order {attempt_id}: precreate answer unconfirmed: {why}");
                    self.close(attempt_id, T::NetBadResponse)?
                }
                (Verdict::Success, Some(code_url)) => {
                    let update = QrOrderUpdate {
                        code_url: Some(code_url.clone()),
                        ..QrOrderUpdate::default()
                    };
                    self.record(attempt_id, S::Polling, update)?;
                    return Ok(PresentedOrder::Ready {
                        out_trade_no: attempt_id.to_owned(),
                        code_url,
                    });
                }
                (Verdict::Declined(code), _) => {
                    self.record(attempt_id, S::Declined, with_code(code))?
                }
                // Created but unusable (no code_url) or unknown: close it on the gateway.
                _ => self.close(attempt_id, T::NetQrGatewayError)?,
            },
            Err(err) if !err.may_have_reached_gateway() => {
                self.record(attempt_id, S::Declined, with_code(err.termination_code()))?
            }
            Err(_) => self.close(attempt_id, T::NetQrGatewayError)?,
        };
        Ok(PresentedOrder::Ended(ended))
    }

    /// Polls a shown merchant-presented order until paid or `poll_deadline`, then cancels it.
    pub fn poll_presented(
        &self,
        out_trade_no: &str,
        cancel: &CancelToken,
    ) -> Result<QrOutcome, QrError> {
        let order = self.order(out_trade_no)?;
        if order.mode != QrMode::MerchantPresented {
            return Err(not_usable(&order, "poll_presented"));
        }
        match order.state {
            S::Polling => self.poll(out_trade_no, None, T::OpQrNotPaid, cancel),
            S::Requested | S::Cancelling | S::Refunding => {
                self.finish(&order, self.settings.cancel_attempts)
            }
            _ => Ok(QrOutcome::from_order(&order)?),
        }
    }

    /// Operator cancel: closes an open order; a paid one is reversed (given back in full).
    pub fn cancel(&self, out_trade_no: &str) -> Result<QrOutcome, QrError> {
        let order = self.order(out_trade_no)?;
        match order.state {
            S::Requested | S::Polling | S::Cancelling | S::Paid => {
                self.close(out_trade_no, T::OpCancelled)
            }
            S::Refunding => Err(not_usable(&order, "cancel")),
            _ => Ok(QrOutcome::from_order(&order)?),
        }
    }

    /// Refunds `amount` of a paid order (one refund per order; the refund number is derived
    /// from the order so a resent refund is the same refund).
    pub fn refund(&self, out_trade_no: &str, amount: Amount) -> Result<QrOutcome, QrError> {
        let order = self.order(out_trade_no)?;
        if order.state != S::Paid {
            return Err(not_usable(&order, "refund"));
        }
        if amount.fen() == 0 || amount.fen() > order.amount_fen {
            return Err(QrError::InvalidInput {
                what: "refund amount",
                detail: format!("{amount} is not within 0.01 and the paid amount"),
            });
        }
        let update = QrOrderUpdate {
            refund_fen: Some(amount.fen()),
            ..QrOrderUpdate::default()
        };
        self.record(out_trade_no, S::Refunding, update)?;
        crashpoint::reached("qr.refunding", "refund");
        self.send_refund(out_trade_no, amount.fen())
    }

    /// Drives an open order to its end (used by recovery and by a repeated attempt id), with
    /// at most `cancel_attempts` cancels so a recovery with the gateway down does not stall.
    pub(super) fn finish(
        &self,
        order: &QrOrder,
        cancel_attempts: u32,
    ) -> Result<QrOutcome, QrError> {
        let id = order.out_trade_no.as_str();
        match order.state {
            S::Requested | S::Polling => {
                let reason = match self.gateway.query(id, &uncancellable()) {
                    Ok(reply) => match self.settle_from_query(id, &reply)? {
                        Query::Ended(outcome) => return Ok(outcome),
                        Query::Open => T::OpQrNotPaid,
                        Query::Unconfirmed => T::NetBadResponse,
                    },
                    Err(_) => T::OpQrNotPaid,
                };
                self.close_with(id, reason, cancel_attempts)
            }
            S::Cancelling => {
                let reason = order
                    .termination_code
                    .as_deref()
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(T::OpQrNotPaid);
                self.close_with(id, reason, cancel_attempts)
            }
            S::Refunding => self.send_refund(id, order.refund_fen.unwrap_or(order.amount_fen)),
            _ => Ok(QrOutcome::from_order(order)?),
        }
    }

    fn repeat(&self, order: &QrOrder, mode: QrMode) -> Result<QrOutcome, QrError> {
        if order.mode != mode {
            return Err(not_usable(order, "a new payment with this attempt id"));
        }
        if order.state.is_open() {
            self.finish(order, self.settings.cancel_attempts)
        } else {
            Ok(QrOutcome::from_order(order)?)
        }
    }

    fn begin(
        &self,
        attempt_id: &str,
        mode: QrMode,
        amount: Amount,
        scheme: Option<&str>,
        code: Option<&AuthCode>,
    ) -> Result<(), QrError> {
        let new = NewQrOrder {
            out_trade_no: attempt_id.to_owned(),
            mode,
            amount_fen: amount.fen(),
            currency: self.settings.currency.clone(),
            scheme: scheme.map(str::to_owned),
            code_masked: code.map(AuthCode::masked),
            at_ms: self.now_ms(),
        };
        Ok(self.journal().begin_qr_order(&new)?)
    }

    /// Queries every `poll_interval` until the order is final or `poll_deadline` has passed
    /// (in clock time), then cancels with `give_up` as the reason — or with NET_BAD_RESPONSE
    /// once an answer claimed a payment it could not show was this order's.
    fn poll(
        &self,
        id: &str,
        transaction_id: Option<String>,
        mut give_up: T,
        cancel: &CancelToken,
    ) -> Result<QrOutcome, QrError> {
        let update = QrOrderUpdate {
            gateway_trade_no: transaction_id,
            ..QrOrderUpdate::default()
        };
        self.record(id, S::Polling, update)?;
        let deadline = self.clock.now() + self.settings.poll_deadline;
        loop {
            if cancel.is_cancelled() {
                return self.close(id, T::OpCancelled);
            }
            let now = self.clock.now();
            let Ok(left) = deadline.duration_since(now) else {
                return self.close(id, give_up);
            };
            if left.is_zero() {
                return self.close(id, give_up);
            }
            self.clock.sleep(left.min(self.settings.poll_interval));
            crashpoint::reached("qr.polling", "query");
            // Another thread (operator cancel) may have ended it meanwhile.
            let order = self.order(id)?;
            if !order.state.is_open() {
                return Ok(QrOutcome::from_order(&order)?);
            }
            match self.gateway.query(id, &uncancellable()) {
                Ok(reply) => match self.settle_from_query(id, &reply)? {
                    Query::Ended(outcome) => return Ok(outcome),
                    Query::Open => {}
                    Query::Unconfirmed => give_up = T::NetBadResponse,
                },
                Err(err) => log::warn!("QR order {id}: query failed, still polling: {err}"),
            }
        }
    }

    /// Records a final state a query reports; `Open` while the order is still open, and
    /// `Unconfirmed` for a payment the answer cannot show is this order's (another order id or
    /// amount): never recorded as paid, asked again later.
    fn settle_from_query(&self, id: &str, reply: &GatewayReply) -> Result<Query, QrError> {
        if reply.verdict != Verdict::Success {
            return Ok(Query::Open);
        }
        let outcome = match reply.trade_state {
            Some(TradeState::Success) => {
                if let Some(why) = mismatch(id, self.order(id)?.amount_fen, reply) {
                    log::warn!("QR order {id}: query answer unconfirmed: {why}");
                    return Ok(Query::Unconfirmed);
                }
                self.record(id, S::Paid, paid_update(reply))?
            }
            Some(TradeState::Refund) => self.record_refunded(id, reply)?,
            Some(TradeState::Revoked) if reply.refund_fee.unwrap_or(0) > 0 => {
                self.record_refunded(id, reply)?
            }
            Some(TradeState::Revoked | TradeState::Closed) => {
                self.record(id, S::Closed, with_code(T::OpQrOrderClosed))?
            }
            Some(TradeState::PayError) => {
                self.record(id, S::Closed, with_code(T::OpQrUserCancelled))?
            }
            _ => return Ok(Query::Open),
        };
        Ok(Query::Ended(outcome))
    }

    fn record_refunded(&self, id: &str, reply: &GatewayReply) -> Result<QrOutcome, QrError> {
        let amount = match reply.refund_fee {
            Some(fen) => fen,
            None => self.order(id)?.amount_fen,
        };
        let update = QrOrderUpdate {
            gateway_trade_no: reply.transaction_id.clone(),
            refunded_fen: Some(amount),
            ..QrOrderUpdate::default()
        };
        self.record(id, S::Refunded, update)
    }

    /// Journals `cancelling` with `reason`, then cancels on the gateway (up to
    /// `cancel_attempts` times). A payment that landed first is reversed by the cancel and
    /// recorded as refunded. If the gateway stays unreachable the order stays `cancelling`.
    fn close(&self, id: &str, reason: T) -> Result<QrOutcome, QrError> {
        self.close_with(id, reason, self.settings.cancel_attempts)
    }

    fn close_with(&self, id: &str, reason: T, attempts: u32) -> Result<QrOutcome, QrError> {
        self.record(id, S::Cancelling, with_code(reason))?;
        crashpoint::reached("qr.cancelling", "cancel");
        for attempt in 0..attempts.max(1) {
            if attempt > 0 {
                self.clock.sleep(self.settings.poll_interval);
            }
            let reply = match self.gateway.cancel_order(id, &uncancellable()) {
                Ok(reply) => reply,
                Err(err) => {
                    log::warn!(
                        "QR order {id}: cancel attempt {} failed: {err}",
                        attempt + 1
                    );
                    continue;
                }
            };
            match reply.verdict {
                // A cancel "succeeding" on an order still shown as paid reversed nothing; the
                // fall-through below queries and tries again.
                Verdict::Success if reply.trade_state != Some(TradeState::Success) => {
                    let paid_back = reply.trade_state == Some(TradeState::Refund)
                        || reply.refund_fee.unwrap_or(0) > 0;
                    return if paid_back {
                        self.record_refunded(id, &reply)
                    } else {
                        self.record(id, S::Closed, with_code(reason))
                    };
                }
                // Never created (the micropay never arrived): nothing to charge or give back.
                Verdict::OrderNotExist => return self.record(id, S::Closed, with_code(reason)),
                // Already closed, or the gateway could not say: its query tells the end.
                _ => {
                    if let Ok(query) = self.gateway.query(id, &uncancellable())
                        && let Query::Ended(outcome) = self.settle_from_query(id, &query)?
                    {
                        // A paid order the cancel did not reverse must still be given back.
                        if matches!(outcome, QrOutcome::Paid { .. }) {
                            self.record(id, S::Cancelling, with_code(reason))?;
                            continue;
                        }
                        return Ok(outcome);
                    }
                }
            }
        }
        Ok(QrOutcome::Unresolved {
            out_trade_no: id.to_owned(),
            termination: Termination::new(T::NetQrUnresolved),
        })
    }

    fn send_refund(&self, id: &str, fen: u64) -> Result<QrOutcome, QrError> {
        let amount = Amount::from_fen(fen).map_err(|_| {
            QrError::Store(StoreError::InvalidValue {
                column: "qr_orders.refund_fen",
                value: fen.to_string(),
            })
        })?;
        let refund_no = format!("{id}-R");
        match self
            .gateway
            .refund(id, &refund_no, amount, &uncancellable())
        {
            Ok(reply) => match reply.verdict {
                Verdict::Success => {
                    let update = QrOrderUpdate {
                        refunded_fen: Some(fen),
                        ..QrOrderUpdate::default()
                    };
                    self.record(id, S::Refunded, update)
                }
                Verdict::Declined(code) => {
                    // Certainly not refunded: the order is paid as before.
                    self.record(id, S::Paid, QrOrderUpdate::default())?;
                    Ok(QrOutcome::Declined {
                        out_trade_no: id.to_owned(),
                        termination: Termination::new(code),
                    })
                }
                _ => Ok(unresolved(id)),
            },
            Err(err) if !err.may_have_reached_gateway() => {
                self.record(id, S::Paid, QrOrderUpdate::default())?;
                Ok(QrOutcome::Declined {
                    out_trade_no: id.to_owned(),
                    termination: Termination::new(err.termination_code()),
                })
            }
            Err(err) => {
                log::warn!("QR order {id}: refund outcome unknown: {err}");
                Ok(unresolved(id))
            }
        }
    }
}

/// A payment refused by a risk rule. Not journaled, like a card payment refused before the
/// card is read: nothing was sent, so there is nothing to recover, no fsync is spent, and the
/// attempt id stays free — a retry is checked again (and passes once a refund or a new day
/// makes room under the cap).
fn risk_declined(id: &str, termination: Termination) -> QrOutcome {
    QrOutcome::Declined {
        out_trade_no: id.to_owned(),
        termination,
    }
}

fn unresolved(id: &str) -> QrOutcome {
    QrOutcome::Unresolved {
        out_trade_no: id.to_owned(),
        termination: Termination::new(T::NetQrUnresolved),
    }
}

/// What a query told about an order.
enum Query {
    Ended(QrOutcome),
    Open,
    Unconfirmed,
}

/// Why an answer claiming success cannot be taken as this order's: it must name this order and
/// this amount. A signed answer proves who wrote it, not what it is about (a proxy mix-up, a
/// replayed answer, a gateway bug), and "paid" for another amount is not this payment.
fn mismatch(id: &str, amount_fen: u64, reply: &GatewayReply) -> Option<String> {
    if reply.out_trade_no.as_deref() != Some(id) {
        return Some(format!(
            "it names order {:?}, not {id:?}",
            reply.out_trade_no.as_deref().unwrap_or("(none)")
        ));
    }
    match reply.total_fee {
        Some(fee) if fee == amount_fen => None,
        Some(fee) => Some(format!("it says {fee} fen, the order is {amount_fen} fen")),
        None => Some(format!("it names no amount, the order is {amount_fen} fen")),
    }
}

fn paid_update(reply: &GatewayReply) -> QrOrderUpdate {
    QrOrderUpdate {
        gateway_trade_no: reply.transaction_id.clone(),
        ..QrOrderUpdate::default()
    }
}

fn not_usable(order: &QrOrder, action: &'static str) -> QrError {
    QrError::NotUsable {
        out_trade_no: order.out_trade_no.clone(),
        state: order.state,
        action,
    }
}
