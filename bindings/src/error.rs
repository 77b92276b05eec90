//! The one error type every export returns, and the guard that keeps panics inside Rust.

use std::panic::{AssertUnwindSafe, catch_unwind};
#[cfg(not(test))]
use std::sync::Once;

use smartpos_core::money::AmountError;

/// What went wrong in a call, as data the Kotlin side can branch on
/// (generated as the sealed class `SmartPosException`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
#[non_exhaustive]
pub enum SmartPosError {
    /// The text or number given is not a valid amount.
    #[error("invalid amount: {detail}")]
    InvalidAmount {
        problem: AmountProblem,
        /// Byte offset of the offending character in the text, where there is one.
        offset: Option<u32>,
        detail: String,
    },
    /// The terminal configuration is unusable (identity, endpoint, key or timeout); the text
    /// names the field.
    #[error("configuration: {detail}")]
    Config { detail: String },
    /// The journal could not be opened or read.
    #[error("journal: {detail}")]
    Journal { detail: String },
    /// Another owner holds the journal file: a live `Terminal` (or `QrSession`) of this or
    /// another process opened it first, and a second owner could run recovery under a payment
    /// still in flight. Shut the other one down first; for QR payments on the terminal's journal
    /// use `Terminal.qr_session`. `holder_pid` is the owner's process id where it could be read
    /// (this process's own id when the other owner is in this process).
    #[error(
        "journal {path} is in use{}; only one owner at a time",
        holder_pid.map(|p| format!(" by process {p}")).unwrap_or_default()
    )]
    JournalInUse {
        path: String,
        holder_pid: Option<u32>,
    },
    /// The key vault refused an operation (e.g. no working keys before sign-on).
    #[error("key vault: {detail}")]
    KeyVault { detail: String },
    /// No transaction with this attempt id is in the journal.
    #[error("no transaction with attempt id {attempt_id:?}")]
    UnknownAttempt { attempt_id: String },
    /// The transaction has no receipt to reprint (it was not approved); `state` says what it is.
    #[error("transaction {attempt_id:?} has no receipt: it is {state}")]
    NoReceipt { attempt_id: String, state: String },
    /// An argument is not acceptable (`what` names it, e.g. "attempt id", "refund amount").
    #[error("invalid {what}: {detail}")]
    InvalidInput { what: String, detail: String },
    /// What was scanned or typed is not a payment code of any scheme the terminal takes; nothing
    /// was journaled or sent. `detail` names the rule broken, never the code itself.
    #[error("not a payment code: {detail}")]
    NotAPaymentCode {
        problem: PaymentCodeProblem,
        /// Byte offset of the offending character, where there is one.
        offset: Option<u32>,
        detail: String,
    },
    /// No QR order with this number (attempt id) is in the QR journal.
    #[error("no QR order {out_trade_no:?}")]
    UnknownOrder { out_trade_no: String },
    /// The QR order is in a state where `action` is not possible (e.g. refund of an unpaid one).
    #[error("QR order {out_trade_no:?} is {state:?}; {action} is not possible")]
    OrderNotUsable {
        out_trade_no: String,
        state: crate::qr_records::QrOrderStateRecord,
        action: String,
    },
    /// A signed rule bundle or hot-list delta was refused and nothing changed: `problem` says
    /// why (a replay, a key the terminal does not trust, a forgery, a missing delta…).
    #[error("risk update refused: {detail}")]
    RiskUpdateRefused {
        problem: crate::risk::RiskUpdateProblem,
        detail: String,
    },
    /// The object was closed; open a new one.
    #[error("{object} is closed")]
    Closed { object: String },
    /// An operating-system resource (socket, thread) was not available.
    #[error("I/O: {detail}")]
    Io { detail: String },
    /// A bug in the core: an exported call panicked. The call had no effect the caller can rely
    /// on; the library stays usable.
    #[error("internal error in {operation}: {detail}")]
    Internal { operation: String, detail: String },
}

/// Why an amount was rejected; mirrors `smartpos_core::money::AmountError` without its payloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
#[non_exhaustive]
pub enum AmountProblem {
    Empty,
    Negative,
    InvalidCharacter,
    TooManyDecimals,
    TooLarge,
    /// A problem this version of the bindings does not know by name yet.
    Other,
}

/// Why a payment code was refused; mirrors `smartpos_core::qr::paycode::PaycodeError`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
#[non_exhaustive]
pub enum PaymentCodeProblem {
    Empty,
    InnerWhitespace,
    /// The prefix names a scheme whose codes have another length.
    WrongLength,
    /// No scheme uses the leading digits.
    UnknownPrefix,
    NotDigits,
    /// Has letters, and is not an EMVCo consumer-presented payload either.
    NotEmvPayload,
    Other,
}

impl From<AmountError> for SmartPosError {
    fn from(e: AmountError) -> Self {
        let (problem, offset) = match &e {
            AmountError::Empty => (AmountProblem::Empty, None),
            AmountError::Negative => (AmountProblem::Negative, Some(0)),
            AmountError::InvalidCharacter { offset, .. } => {
                (AmountProblem::InvalidCharacter, u32::try_from(*offset).ok())
            }
            AmountError::TooManyDecimals { .. } => (AmountProblem::TooManyDecimals, None),
            AmountError::TooLarge { .. } => (AmountProblem::TooLarge, None),
            _ => (AmountProblem::Other, None),
        };
        SmartPosError::InvalidAmount {
            problem,
            offset,
            detail: e.to_string(),
        }
    }
}

impl From<smartpos_core::txn::OpenError> for SmartPosError {
    fn from(e: smartpos_core::txn::OpenError) -> Self {
        use smartpos_core::txn::OpenError;
        match e {
            OpenError::Config(detail) => SmartPosError::Config { detail },
            OpenError::Journal(e) => e.into(),
            other => SmartPosError::Config {
                detail: other.to_string(),
            },
        }
    }
}

impl From<smartpos_core::store::StoreError> for SmartPosError {
    fn from(e: smartpos_core::store::StoreError) -> Self {
        use smartpos_core::store::StoreError;
        match e {
            StoreError::InUse { path, holder_pid } => SmartPosError::JournalInUse {
                path: path.to_string_lossy().into_owned(),
                holder_pid,
            },
            // A caller's value the journal refused (e.g. releasing a reversal that is not parked,
            // acknowledging an unreadable storage fault without accepting it).
            StoreError::InvalidInput { what, detail } => SmartPosError::InvalidInput {
                what: what.to_owned(),
                detail,
            },
            other => SmartPosError::Journal {
                detail: other.to_string(),
            },
        }
    }
}

impl From<smartpos_core::txn::ReprintError> for SmartPosError {
    fn from(e: smartpos_core::txn::ReprintError) -> Self {
        use smartpos_core::txn::ReprintError;
        match e {
            ReprintError::UnknownAttempt { attempt_id } => {
                SmartPosError::UnknownAttempt { attempt_id }
            }
            ReprintError::NoReceipt { attempt_id, state } => SmartPosError::NoReceipt {
                attempt_id,
                state: state.to_string(),
            },
            ReprintError::Journal(e) => e.into(),
            // A printer fault is an outcome, handled by the caller; anything newer is a journal
            // problem as far as this version knows.
            other => SmartPosError::Journal {
                detail: other.to_string(),
            },
        }
    }
}

impl From<smartpos_core::crypto::VaultError> for SmartPosError {
    fn from(e: smartpos_core::crypto::VaultError) -> Self {
        SmartPosError::KeyVault {
            detail: e.to_string(),
        }
    }
}

/// Runs an export's body so that a panic becomes `SmartPosError::Internal` instead of unwinding
/// into UniFFI's generic handler (which Kotlin would only see as an untyped `InternalException`).
///
/// `AssertUnwindSafe` is sound here because a panicking body leaves nothing half-updated that a
/// later call could observe: the core keeps its state in the journal, not in memory, and any
/// shared object will guard its state with a `Mutex`, whose poisoning is reported, not hidden.
pub(crate) fn guard<T>(
    operation: &'static str,
    body: impl FnOnce() -> Result<T, SmartPosError>,
) -> Result<T, SmartPosError> {
    // Not in this crate's own unit tests: their failure messages come through the default hook.
    #[cfg(not(test))]
    QUIET_PANIC_HOOK.call_once(install_quiet_panic_hook);
    GUARDED.with(|depth| depth.set(depth.get() + 1));
    let caught = catch_unwind(AssertUnwindSafe(body));
    GUARDED.with(|depth| depth.set(depth.get().saturating_sub(1)));
    match caught {
        Ok(result) => result,
        Err(payload) => {
            let detail = panic_detail(payload.as_ref());
            log::error!("{operation} panicked: {detail}");
            Err(SmartPosError::Internal {
                operation: operation.to_string(),
                detail,
            })
        }
    }
}

#[cfg(not(test))]
static QUIET_PANIC_HOOK: Once = Once::new();

thread_local! {
    /// How many guards this thread is inside: a panic there is reported by the guard itself.
    static GUARDED: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Replaces the default hook (message, thread name and a backtrace hint on stderr): a panic inside
/// a guard is logged by the guard and returned as `SmartPosError::Internal`, so the hook stays
/// silent; any other prints one line naming where it happened. The message is left out: it may
/// interpolate runtime data.
#[cfg(not(test))]
fn install_quiet_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        use std::io::Write;
        if GUARDED.with(|depth| depth.get() > 0) {
            return;
        }
        let at = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_else(|| "an unknown place".into());
        // A closed stderr must not turn the report of a panic into a second one.
        let _ = writeln!(std::io::stderr().lock(), "smartpos-ffi: panic at {at}");
    }));
}

/// Only a literal panic message (a `&'static str` written by a programmer) is passed on.
/// A formatted message can interpolate runtime values, card data included, so it is withheld.
fn panic_detail(payload: &(dyn std::any::Any + Send)) -> String {
    match payload.downcast_ref::<&'static str>() {
        Some(msg) => (*msg).to_string(),
        None => "panic with a formatted message (withheld: it may hold runtime data)".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_passes_results_through() {
        assert_eq!(guard("ok", || Ok(7)), Ok(7));
        let err = SmartPosError::Internal {
            operation: "x".into(),
            detail: "y".into(),
        };
        assert_eq!(guard("err", || Err::<u8, _>(err.clone())), Err(err));
    }

    #[test]
    fn guard_turns_a_literal_panic_into_internal() {
        let r: Result<(), _> = guard("probe", || panic!("boom"));
        assert_eq!(
            r,
            Err(SmartPosError::Internal {
                operation: "probe".into(),
                detail: "boom".into()
            })
        );
    }

    #[test]
    fn guard_withholds_formatted_panic_messages() {
        let pan = String::from("6222020000000000018");
        let r: Result<(), _> = guard("probe", || panic!("card {pan}"));
        match r {
            Err(SmartPosError::Internal { detail, .. }) => {
                assert!(!detail.contains("622202"), "{detail}");
                assert!(detail.contains("withheld"));
            }
            other => panic!("expected Internal, got {other:?}"),
        }
    }

    #[test]
    fn a_journal_in_use_stays_typed_through_every_error_that_wraps_it() {
        use smartpos_core::qr::session::QrError;
        use smartpos_core::store::StoreError;
        use smartpos_core::txn::{OpenError, ReprintError};
        let in_use = || StoreError::InUse {
            path: "/data/journal.db".into(),
            holder_pid: Some(4242),
        };
        let expected = SmartPosError::JournalInUse {
            path: "/data/journal.db".into(),
            holder_pid: Some(4242),
        };
        assert_eq!(SmartPosError::from(in_use()), expected);
        assert_eq!(SmartPosError::from(OpenError::Journal(in_use())), expected);
        assert_eq!(SmartPosError::from(QrError::Store(in_use())), expected);
        assert_eq!(
            SmartPosError::from(ReprintError::Journal(in_use())),
            expected
        );
        let unknown_holder = SmartPosError::from(StoreError::InUse {
            path: "j.db".into(),
            holder_pid: None,
        });
        assert_eq!(
            unknown_holder,
            SmartPosError::JournalInUse {
                path: "j.db".into(),
                holder_pid: None
            }
        );
        assert_eq!(
            expected.to_string(),
            "journal /data/journal.db is in use by process 4242; only one owner at a time"
        );
    }

    #[test]
    fn a_value_the_journal_refuses_is_invalid_input_and_the_rest_stays_journal() {
        use smartpos_core::store::StoreError;
        let e = SmartPosError::from(StoreError::InvalidInput {
            what: "reversal to release",
            detail: "transaction 7 has no parked reversal".into(),
        });
        assert!(
            matches!(&e, SmartPosError::InvalidInput { what, .. } if what == "reversal to release"),
            "{e:?}"
        );
        assert!(matches!(
            SmartPosError::from(StoreError::DiskFull),
            SmartPosError::Journal { .. }
        ));
    }

    #[test]
    fn amount_errors_keep_their_kind_and_offset() {
        let e = SmartPosError::from(AmountError::InvalidCharacter {
            found: 'x',
            offset: 3,
        });
        assert!(matches!(
            e,
            SmartPosError::InvalidAmount {
                problem: AmountProblem::InvalidCharacter,
                offset: Some(3),
                ..
            }
        ));
    }
}
