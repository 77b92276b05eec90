//! The `QrSession` object: QR payments through the aggregator gateway, usable without any card
//! configuration (no TMK, no acquirer host). Methods are thin: the core session journals every
//! step before its side effect and closes every order it opens.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use smartpos_core::money::Amount;
use smartpos_core::ports::SystemClock;
use smartpos_core::qr::gateway::SigningKey;
use smartpos_core::qr::paycode::PaycodeError;
use smartpos_core::qr::session::{self, QrError, QrSettings};
use zeroize::{Zeroize, Zeroizing};

use crate::error::{PaymentCodeProblem, SmartPosError, guard};
use crate::qr_records::{PresentedRecord, QrOrderRecord, QrOutcomeRecord};
use crate::terminal::{CancelHandle, Terminal};

/// What a QR session needs. The signing key is wiped from the Rust copy once converted and
/// never printed.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct QrConfigRecord {
    /// `https://…` (or `http://` to a loopback simulator).
    pub gateway_url: String,
    pub merchant_id: String,
    pub terminal_id: String,
    /// The HMAC-SHA256 key the gateway issued to this merchant.
    pub signing_key: Vec<u8>,
    /// The QR journal (SQLite) of `QrSession.open`; its folder must exist. Not the card
    /// terminal's journal, which its terminal owns: for QR on that journal use
    /// `Terminal.qr_session`, which ignores this field.
    pub journal_path: String,
    /// Gap between queries while the customer confirms in the wallet (aggregators advise 5 000).
    pub poll_interval_ms: u64,
    /// How long the session keeps querying before it cancels the order (typically 45 000).
    pub poll_deadline_ms: u64,
    /// PEM CA certificates of a private gateway; null trusts the web PKI roots.
    pub ca_pem: Option<String>,
    /// SHA-256 pins (base64) of the gateway's public key (SubjectPublicKeyInfo), checked after
    /// the CA; empty: none. Several while a key is rolled over.
    #[uniffi(default = [])]
    pub spki_pins: Vec<String>,
}

impl std::fmt::Debug for QrConfigRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QrConfigRecord")
            .field("gateway_url", &self.gateway_url)
            .field("merchant_id", &self.merchant_id)
            .field("terminal_id", &self.terminal_id)
            .field("signing_key", &"[redacted]")
            .field("journal_path", &self.journal_path)
            .finish_non_exhaustive()
    }
}

fn config_error(detail: impl Into<String>) -> SmartPosError {
    SmartPosError::Config {
        detail: detail.into(),
    }
}

fn positive_ms(name: &str, ms: u64) -> Result<Duration, SmartPosError> {
    if ms == 0 {
        return Err(config_error(format!("{name} must be more than 0 ms")));
    }
    Ok(Duration::from_millis(ms))
}

impl QrConfigRecord {
    /// The gateway settings; the journal is the caller's business (`journal_path` for a session
    /// of its own, the terminal's for `Terminal.qr_session`).
    pub(crate) fn to_settings(&self) -> Result<QrSettings, SmartPosError> {
        for (name, value) in [
            ("gateway_url", &self.gateway_url),
            ("merchant_id", &self.merchant_id),
            ("terminal_id", &self.terminal_id),
        ] {
            if value.trim().is_empty() {
                return Err(config_error(format!("{name} is empty")));
            }
        }
        if self.signing_key.is_empty() {
            return Err(config_error("signing_key is empty"));
        }
        let mut settings = QrSettings::new(
            &self.gateway_url,
            &self.merchant_id,
            &self.terminal_id,
            SigningKey::new(&self.signing_key),
        );
        settings.poll_interval = positive_ms("poll_interval_ms", self.poll_interval_ms)?;
        settings.poll_deadline = positive_ms("poll_deadline_ms", self.poll_deadline_ms)?;
        settings.ca_pem = self.ca_pem.as_ref().map(|pem| pem.as_bytes().to_vec());
        settings.spki_pins = self.spki_pins.clone();
        Ok(settings)
    }

    /// The journal a session of its own opens.
    fn own_journal_path(&self) -> Result<&str, SmartPosError> {
        if self.journal_path.trim().is_empty() {
            return Err(config_error("journal_path is empty"));
        }
        Ok(&self.journal_path)
    }

    /// Wipes the key from this record's buffer (see `TerminalConfigRecord::wipe_secrets`).
    pub(crate) fn wipe_secrets(&mut self) {
        self.signing_key.zeroize();
    }
}

/// Why a scanned or typed text is not a payment code; the detail names the rule, never the code.
fn not_a_payment_code(e: &PaycodeError) -> SmartPosError {
    let (problem, offset) = match e {
        PaycodeError::Empty => (PaymentCodeProblem::Empty, None),
        PaycodeError::InnerWhitespace { offset } => (
            PaymentCodeProblem::InnerWhitespace,
            u32::try_from(*offset).ok(),
        ),
        PaycodeError::WrongLength { .. } => (PaymentCodeProblem::WrongLength, None),
        PaycodeError::UnknownPrefix { .. } => (PaymentCodeProblem::UnknownPrefix, None),
        PaycodeError::NotDigits { offset } => {
            (PaymentCodeProblem::NotDigits, u32::try_from(*offset).ok())
        }
        PaycodeError::Cpm(_) => (PaymentCodeProblem::NotEmvPayload, None),
        _ => (PaymentCodeProblem::Other, None),
    };
    SmartPosError::NotAPaymentCode {
        problem,
        offset,
        detail: e.to_string(),
    }
}

impl From<QrError> for SmartPosError {
    fn from(e: QrError) -> Self {
        match e {
            QrError::Store(e) => e.into(),
            QrError::Settings(e) => config_error(e.to_string()),
            QrError::NotAPaymentCode(e) => not_a_payment_code(&e),
            QrError::InvalidInput { what, detail } => SmartPosError::InvalidInput {
                what: what.to_owned(),
                detail,
            },
            QrError::UnknownOrder { out_trade_no } => SmartPosError::UnknownOrder { out_trade_no },
            QrError::NotUsable {
                out_trade_no,
                state,
                action,
            } => SmartPosError::OrderNotUsable {
                out_trade_no,
                state: state.into(),
                action: action.to_owned(),
            },
            other => SmartPosError::Journal {
                detail: other.to_string(),
            },
        }
    }
}

#[uniffi::export]
impl Terminal {
    /// A QR session on this terminal's journal: card and QR payments in one file with one owner,
    /// so nothing opens the journal a second time. `config.journal_path` is ignored (the
    /// terminal's journal is used); the rest is read as by `QrSession.open`. Sends nothing: call
    /// `recover()` on it once the network is up. The session keeps the journal after the
    /// terminal's `shut_down` until it is shut down itself.
    pub fn qr_session(&self, config: QrConfigRecord) -> Result<Arc<QrSession>, SmartPosError> {
        let mut config = config;
        guard("Terminal.qr_session", move || {
            let settings = config.to_settings();
            config.wipe_secrets();
            let core = self.core()?.qr_session(settings?, Arc::new(SystemClock))?;
            Ok(QrSession::wrap(core))
        })
    }
}

/// QR payments: scan a customer's payment code (`pay`) or show a merchant code (`present`,
/// then `poll`). Calls block (run them off the main thread). Payment endings are
/// `QrOutcomeRecord`s; exceptions are for bad arguments, the journal and a closed session.
#[derive(uniffi::Object)]
pub struct QrSession {
    /// `None` once shut down; each call clones the `Arc`, as `Terminal` does.
    inner: Mutex<Option<Arc<session::QrSession>>>,
}

impl std::fmt::Debug for QrSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QrSession").finish_non_exhaustive()
    }
}

impl QrSession {
    fn wrap(core: session::QrSession) -> Arc<Self> {
        Arc::new(QrSession {
            inner: Mutex::new(Some(Arc::new(core))),
        })
    }

    fn core(&self) -> Result<Arc<session::QrSession>, SmartPosError> {
        let slot = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        slot.clone().ok_or_else(|| SmartPosError::Closed {
            object: "QrSession".into(),
        })
    }
}

fn amount(fen: u64) -> Result<Amount, SmartPosError> {
    Ok(Amount::from_fen(fen)?)
}

#[uniffi::export]
impl QrSession {
    /// Opens (or creates) the QR journal at `config.journal_path`, owning it, and prepares the
    /// gateway client. Sends nothing: call `recover()` once the network is up. A journal another
    /// owner holds (a live `Terminal` on the same file) is `JournalInUse`: use
    /// `Terminal.qr_session` for QR payments on the terminal's journal.
    #[uniffi::constructor]
    pub fn open(config: QrConfigRecord) -> Result<Arc<Self>, SmartPosError> {
        let mut config = config;
        guard("QrSession.open", move || {
            let settings = config.to_settings();
            config.wipe_secrets();
            let settings = settings?;
            let core = session::QrSession::open(
                settings,
                config.own_journal_path()?,
                Arc::new(SystemClock),
            )?;
            Ok(QrSession::wrap(core))
        })
    }

    /// Charges the customer's payment code `code` (scanned or keyed in). `attempt_id` (1–32 of
    /// A-Z a-z 0-9 _ - | *) is the order number: the same id again returns the recorded outcome,
    /// never a second charge. Polls while the customer confirms, up to the configured deadline,
    /// then cancels the order.
    pub fn pay(
        &self,
        attempt_id: String,
        amount_fen: u64,
        code: String,
        cancel: Arc<CancelHandle>,
    ) -> Result<QrOutcomeRecord, SmartPosError> {
        let code = Zeroizing::new(code);
        guard("QrSession.pay", || {
            let outcome =
                self.core()?
                    .pay_code(&attempt_id, amount(amount_fen)?, &code, &cancel.inner)?;
            Ok(outcome.into())
        })
    }

    /// Creates a merchant-presented order: show `Ready.codeUrl` as a QR code, then `poll`.
    pub fn present(
        &self,
        attempt_id: String,
        amount_fen: u64,
        description: String,
        cancel: Arc<CancelHandle>,
    ) -> Result<PresentedRecord, SmartPosError> {
        guard("QrSession.present", || {
            let presented = self.core()?.precreate(
                &attempt_id,
                amount(amount_fen)?,
                &description,
                &cancel.inner,
            )?;
            Ok(presented.into())
        })
    }

    /// Waits for a presented order to be paid, up to the deadline; then cancels it.
    pub fn poll(
        &self,
        attempt_id: String,
        cancel: Arc<CancelHandle>,
    ) -> Result<QrOutcomeRecord, SmartPosError> {
        guard("QrSession.poll", || {
            Ok(self
                .core()?
                .poll_presented(&attempt_id, &cancel.inner)?
                .into())
        })
    }

    /// Operator cancel: closes an open order; a paid one is given back in full.
    pub fn cancel(&self, attempt_id: String) -> Result<QrOutcomeRecord, SmartPosError> {
        guard("QrSession.cancel", || {
            Ok(self.core()?.cancel(&attempt_id)?.into())
        })
    }

    /// Refunds `amount_fen` of a paid order (one refund per order).
    pub fn refund(
        &self,
        attempt_id: String,
        amount_fen: u64,
    ) -> Result<QrOutcomeRecord, SmartPosError> {
        guard("QrSession.refund", || {
            Ok(self
                .core()?
                .refund(&attempt_id, amount(amount_fen)?)?
                .into())
        })
    }

    /// Finishes every order a crash or an unreachable gateway left open; returns the outcome
    /// of each (still unreachable ones come back `Unresolved` and stay open).
    pub fn recover(&self) -> Result<Vec<QrOutcomeRecord>, SmartPosError> {
        guard("QrSession.recover", || {
            let outcomes = self.core()?.recover()?;
            Ok(outcomes.into_iter().map(Into::into).collect())
        })
    }

    /// Every journaled order, oldest first; payment codes masked (first 6, last 4).
    pub fn orders(&self) -> Result<Vec<QrOrderRecord>, SmartPosError> {
        guard("QrSession.orders", || {
            let orders = self.core()?.orders()?;
            Ok(orders.into_iter().map(Into::into).collect())
        })
    }

    /// Releases the journal; a running call finishes first. Later calls fail with `Closed`.
    pub fn shut_down(&self) -> Result<(), SmartPosError> {
        guard("QrSession.shut_down", || {
            let taken = self.inner.lock().unwrap_or_else(|p| p.into_inner()).take();
            drop(taken);
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> QrConfigRecord {
        QrConfigRecord {
            gateway_url: "http://127.0.0.1:9".into(),
            merchant_id: "M1".into(),
            terminal_id: "T1".into(),
            signing_key: b"secret-key".to_vec(),
            journal_path: "qr.db".into(),
            poll_interval_ms: 50,
            poll_deadline_ms: 1_000,
            ca_pem: None,
            spki_pins: Vec::new(),
        }
    }

    #[test]
    fn spki_pins_reach_the_session_settings() {
        let r = QrConfigRecord {
            spki_pins: vec!["pin-a".into(), "pin-b".into()],
            ..record()
        };
        assert_eq!(r.to_settings().unwrap().spki_pins, ["pin-a", "pin-b"]);
    }

    fn config_detail(r: QrConfigRecord) -> String {
        match r.to_settings() {
            Err(SmartPosError::Config { detail }) => detail,
            other => panic!("expected a config error, got {:?}", other.map(|_| ())),
        }
    }

    #[test]
    fn polling_comes_from_the_record() {
        let s = record().to_settings().unwrap();
        assert_eq!(s.poll_interval, Duration::from_millis(50));
        assert_eq!(s.poll_deadline, Duration::from_secs(1));
    }

    #[test]
    fn each_bad_field_is_named() {
        let mut r = record();
        r.poll_interval_ms = 0;
        assert!(config_detail(r).contains("poll_interval_ms"));
        let mut r = record();
        r.signing_key.clear();
        assert!(config_detail(r).contains("signing_key"));
        let mut r = record();
        r.journal_path = " ".into();
        match QrSession::open(r) {
            Err(SmartPosError::Config { detail }) => assert!(detail.contains("journal_path")),
            other => panic!("expected a config error, got {:?}", other.map(|_| ())),
        }
    }

    #[test]
    fn the_key_is_wiped_and_never_printed() {
        let mut r = record();
        assert!(!format!("{r:?}").contains("secret-key"));
        r.wipe_secrets();
        assert!(r.signing_key.is_empty());
    }

    /// A session on a fresh journal in `dir`, against the record's (unreachable) gateway.
    fn open_in(dir: &tempfile::TempDir) -> Arc<QrSession> {
        let mut r = record();
        r.journal_path = dir.path().join("qr.db").to_string_lossy().into_owned();
        QrSession::open(r).unwrap()
    }

    /// The error a payment that must be refused before anything is sent comes back with.
    fn refused(session: &QrSession, attempt_id: &str, fen: u64, code: &str) -> SmartPosError {
        session
            .pay(attempt_id.into(), fen, code.into(), CancelHandle::new())
            .unwrap_err()
    }

    #[test]
    fn a_bad_attempt_id_is_a_typed_error_before_anything_is_sent() {
        let dir = tempfile::tempdir().unwrap();
        let session = open_in(&dir);
        let e = refused(&session, "has space", 100, "134567890123456789");
        assert!(
            matches!(&e, SmartPosError::InvalidInput { what, .. } if what == "attempt id"),
            "{e:?}"
        );
        let e = refused(&session, "zero", 0, "134567890123456789");
        assert!(
            matches!(&e, SmartPosError::InvalidInput { what, .. } if what == "amount"),
            "{e:?}"
        );
        assert!(session.orders().unwrap().is_empty());
    }

    #[test]
    fn a_code_of_no_scheme_is_refused_with_its_reason_and_nothing_journaled() {
        let dir = tempfile::tempdir().unwrap();
        let session = open_in(&dir);
        // Prefix 99 belongs to no scheme (WeChat Pay 10-15, Alipay 25-30, UnionPay 62, e-CNY 01,
        // as qr::paycode lists them).
        let e = refused(&session, "a1", 100, "994567890123456789");
        match e {
            SmartPosError::NotAPaymentCode {
                problem, detail, ..
            } => {
                assert_eq!(problem, PaymentCodeProblem::UnknownPrefix);
                assert!(!detail.contains("994567890123456789"), "{detail}");
            }
            other => panic!("expected NotAPaymentCode, got {other:?}"),
        }
        let e = session
            .pay(
                "a2".into(),
                100,
                "1345 67890123456789".into(),
                CancelHandle::new(),
            )
            .unwrap_err();
        assert!(
            matches!(
                e,
                SmartPosError::NotAPaymentCode {
                    problem: PaymentCodeProblem::InnerWhitespace,
                    offset: Some(4),
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(session.orders().unwrap().is_empty());
    }
}
