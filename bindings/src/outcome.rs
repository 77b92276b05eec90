//! How a request ends, mirrored for Kotlin: an approval or an explained termination. Every field
//! is already safe to show: the PAN is masked and termination texts never carry card data.

use smartpos_core::diag::{self, Termination};
use smartpos_core::ports::Receipt;
use smartpos_core::txn::{self, Approval, RecoveryReport, SettlementReport, SignOnResult, TxnKind};

/// The seven ways a transaction can end without approval (`diag::Cause`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Cause {
    Network,
    Device,
    Software,
    Operator,
    Maintenance,
    Risk,
    Account,
}

impl From<diag::Cause> for Cause {
    fn from(c: diag::Cause) -> Self {
        match c {
            diag::Cause::Network => Cause::Network,
            diag::Cause::Device => Cause::Device,
            diag::Cause::Software => Cause::Software,
            diag::Cause::Operator => Cause::Operator,
            diag::Cause::Maintenance => Cause::Maintenance,
            diag::Cause::Risk => Cause::Risk,
            diag::Cause::Account => Cause::Account,
        }
    }
}

/// Another way the customer could pay (`diag::PaymentMethod`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PaymentMethod {
    CardChip,
    Contactless,
    Magstripe,
    QrCustomerPresented,
    QrMerchantPresented,
    Cash,
}

impl From<diag::PaymentMethod> for PaymentMethod {
    fn from(m: diag::PaymentMethod) -> Self {
        match m {
            diag::PaymentMethod::CardChip => PaymentMethod::CardChip,
            diag::PaymentMethod::Contactless => PaymentMethod::Contactless,
            diag::PaymentMethod::Magstripe => PaymentMethod::Magstripe,
            diag::PaymentMethod::QrCustomerPresented => PaymentMethod::QrCustomerPresented,
            diag::PaymentMethod::QrMerchantPresented => PaymentMethod::QrMerchantPresented,
            diag::PaymentMethod::Cash => PaymentMethod::Cash,
        }
    }
}

/// A concrete next step for the merchant (`diag::Remedy`), so the shell can offer a button.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
#[non_exhaustive]
pub enum RemedyCode {
    Retry,
    RetryLater,
    CheckNetwork,
    InsertCard,
    TapCard,
    PresentCardAgain,
    KeepCardInserted,
    UseAnotherCard,
    UseQr,
    KeyInCode,
    ReEnterPin,
    CheckAmount,
    SignOnAgain,
    SettleNow,
    BatchUpload,
    CallIssuer,
    Reprint,
    ReplacePaper,
    LetPrinterCool,
    ClearPaperJam,
    RestartTerminal,
    CheckConfiguration,
    ContactSupport,
    CheckOriginalTransaction,
    ReleaseParkedReversal,
    AcknowledgeStorageFault,
    CloseOtherInstance,
    /// A remedy this version of the bindings does not know by name; its texts still explain it.
    Other,
}

impl From<diag::Remedy> for RemedyCode {
    fn from(r: diag::Remedy) -> Self {
        use diag::Remedy as R;
        match r {
            R::Retry => RemedyCode::Retry,
            R::RetryLater => RemedyCode::RetryLater,
            R::CheckNetwork => RemedyCode::CheckNetwork,
            R::InsertCard => RemedyCode::InsertCard,
            R::TapCard => RemedyCode::TapCard,
            R::PresentCardAgain => RemedyCode::PresentCardAgain,
            R::KeepCardInserted => RemedyCode::KeepCardInserted,
            R::UseAnotherCard => RemedyCode::UseAnotherCard,
            R::UseQr => RemedyCode::UseQr,
            R::KeyInCode => RemedyCode::KeyInCode,
            R::ReEnterPin => RemedyCode::ReEnterPin,
            R::CheckAmount => RemedyCode::CheckAmount,
            R::SignOnAgain => RemedyCode::SignOnAgain,
            R::SettleNow => RemedyCode::SettleNow,
            R::BatchUpload => RemedyCode::BatchUpload,
            R::CallIssuer => RemedyCode::CallIssuer,
            R::Reprint => RemedyCode::Reprint,
            R::ReplacePaper => RemedyCode::ReplacePaper,
            R::LetPrinterCool => RemedyCode::LetPrinterCool,
            R::ClearPaperJam => RemedyCode::ClearPaperJam,
            R::RestartTerminal => RemedyCode::RestartTerminal,
            R::CheckConfiguration => RemedyCode::CheckConfiguration,
            R::ContactSupport => RemedyCode::ContactSupport,
            R::CheckOriginalTransaction => RemedyCode::CheckOriginalTransaction,
            R::ReleaseParkedReversal => RemedyCode::ReleaseParkedReversal,
            R::AcknowledgeStorageFault => RemedyCode::AcknowledgeStorageFault,
            R::CloseOtherInstance => RemedyCode::CloseOtherInstance,
            _ => RemedyCode::Other,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RemedyRecord {
    pub code: RemedyCode,
    pub zh: String,
    pub en: String,
}

impl From<diag::Remedy> for RemedyRecord {
    fn from(r: diag::Remedy) -> Self {
        RemedyRecord {
            code: r.into(),
            zh: r.zh().to_string(),
            en: r.en().to_string(),
        }
    }
}

/// Why a transaction ended without approval, explained for merchant and cardholder.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TerminationRecord {
    pub cause: Cause,
    /// Stable code, e.g. "OP_CANCELLED" or "HOST_DECLINED_51"; never changes once shipped.
    pub code: String,
    /// Field 39 when the host answered, e.g. "51".
    pub host_code: Option<String>,
    pub merchant_zh: String,
    pub merchant_en: String,
    pub cardholder_zh: String,
    pub cardholder_en: String,
    pub remedies: Vec<RemedyRecord>,
    pub retry_can_help: bool,
    pub alternative: Option<PaymentMethod>,
}

impl From<Termination> for TerminationRecord {
    fn from(t: Termination) -> Self {
        TerminationRecord {
            cause: t.cause.into(),
            code: t.code.to_string(),
            host_code: t.host_code.map(|c| c.as_str().to_string()),
            merchant_zh: t.merchant_zh,
            merchant_en: t.merchant_en,
            cardholder_zh: t.cardholder,
            cardholder_en: t.cardholder_en,
            remedies: t.remedies.iter().map(|r| (*r).into()).collect(),
            retry_can_help: t.retry_can_help,
            alternative: t.alternative.map(PaymentMethod::from),
        }
    }
}

/// The transaction kind (`txn::TxnKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
#[non_exhaustive]
pub enum TransactionKind {
    Balance,
    Sale,
    Void,
    Refund,
    PreAuth,
    PreAuthVoid,
    Completion,
    CompletionVoid,
    /// A chip sale the card approved offline; its upload to the acquirer is queued.
    OfflineSale,
    /// A kind this version of the bindings does not know by name.
    Other,
}

impl From<TxnKind> for TransactionKind {
    fn from(k: TxnKind) -> Self {
        match k {
            TxnKind::Balance => TransactionKind::Balance,
            TxnKind::Sale => TransactionKind::Sale,
            TxnKind::Void => TransactionKind::Void,
            TxnKind::Refund => TransactionKind::Refund,
            TxnKind::PreAuth => TransactionKind::PreAuth,
            TxnKind::PreAuthVoid => TransactionKind::PreAuthVoid,
            TxnKind::Completion => TransactionKind::Completion,
            TxnKind::CompletionVoid => TransactionKind::CompletionVoid,
            TxnKind::OfflineSale => TransactionKind::OfflineSale,
            _ => TransactionKind::Other,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ReceiptLineRecord {
    pub label: String,
    pub value: String,
}

/// A receipt as the printer gets it; the card number is already masked (first 6, last 4).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ReceiptRecord {
    pub title: String,
    pub card_masked: Option<String>,
    pub lines: Vec<ReceiptLineRecord>,
    pub footer: Vec<String>,
}

impl From<&Receipt> for ReceiptRecord {
    fn from(r: &Receipt) -> Self {
        ReceiptRecord {
            title: r.title().to_string(),
            card_masked: r.card().map(|c| c.as_str().to_string()),
            lines: r
                .lines()
                .iter()
                .map(|l| ReceiptLineRecord {
                    label: l.label.clone(),
                    value: l.value.clone(),
                })
                .collect(),
            footer: r.footer_lines().to_vec(),
        }
    }
}

/// An approved transaction; nothing in it is secret.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ApprovalRecord {
    pub kind: TransactionKind,
    pub attempt_id: String,
    pub amount_fen: u64,
    pub stan: u32,
    pub batch_no: u32,
    pub rrn: String,
    pub auth_code: String,
    pub pan_masked: String,
    /// Balance inquiry only, in fen.
    pub balance_fen: Option<i64>,
    pub receipt: ReceiptRecord,
    /// False when nothing was printed: the printer failed (the payment stands, the receipt waits
    /// for a reprint), or the slip went paperless (`paperless`).
    pub receipt_printed: bool,
    /// Signed on the screen at a paperless merchant: no paper slip on purpose.
    #[uniffi(default = false)]
    pub paperless: bool,
    /// The e-signature the approval asked for (null when none was asked).
    #[uniffi(default = None)]
    pub signature: Option<crate::esign::SignatureNoteRecord>,
}

impl From<Approval> for ApprovalRecord {
    fn from(a: Approval) -> Self {
        ApprovalRecord {
            kind: a.kind.into(),
            receipt: (&a.receipt).into(),
            attempt_id: a.attempt_id,
            amount_fen: a.amount_fen,
            stan: a.stan,
            batch_no: a.batch_no,
            rrn: a.rrn,
            auth_code: a.auth_code,
            pan_masked: a.pan_masked,
            balance_fen: a.balance_fen,
            receipt_printed: a.receipt_printed,
            paperless: a.paperless,
            signature: a.signature.map(Into::into),
        }
    }
}

/// How a payment request ended. A decline is an outcome, never an exception.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
// Crosses the FFI by value once per request; boxing would buy nothing (as `txn::Outcome`).
#[allow(clippy::large_enum_variant)]
pub enum Outcome {
    Approved { approval: ApprovalRecord },
    Terminated { termination: TerminationRecord },
}

impl From<txn::Outcome> for Outcome {
    fn from(o: txn::Outcome) -> Self {
        match o {
            txn::Outcome::Approved(a) => Outcome::Approved { approval: a.into() },
            txn::Outcome::Terminated(t) => Outcome::Terminated {
                termination: t.into(),
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SignOnRecord {
    pub batch_no: u32,
    pub data_key: bool,
}

/// How a sign-on ended.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum SignOnOutcome {
    SignedOn { result: SignOnRecord },
    Terminated { termination: TerminationRecord },
}

impl From<Result<SignOnResult, Termination>> for SignOnOutcome {
    fn from(r: Result<SignOnResult, Termination>) -> Self {
        match r {
            Ok(s) => SignOnOutcome::SignedOn {
                result: SignOnRecord {
                    batch_no: s.batch_no,
                    data_key: s.data_key,
                },
            },
            Err(t) => SignOnOutcome::Terminated {
                termination: t.into(),
            },
        }
    }
}

/// The electronic cash balance a chip card holds (PBOC 3.0 EC, read offline from the chip).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EcBalanceRecord {
    /// The application read, hex.
    pub aid: String,
    pub balance_fen: u64,
    /// The card's EC reset threshold (9F6D), where it has one.
    pub reset_threshold_fen: Option<u64>,
}

/// How an EC balance inquiry ended.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum EcBalanceOutcome {
    Read { balance: EcBalanceRecord },
    Terminated { termination: TerminationRecord },
}

impl From<Result<smartpos_core::card::emv::EcBalance, Termination>> for EcBalanceOutcome {
    fn from(r: Result<smartpos_core::card::emv::EcBalance, Termination>) -> Self {
        match r {
            Ok(b) => EcBalanceOutcome::Read {
                balance: EcBalanceRecord {
                    aid: b.aid.iter().map(|x| format!("{x:02X}")).collect(),
                    balance_fen: b.balance_fen,
                    reset_threshold_fen: b.reset_threshold_fen,
                },
            },
            Err(t) => EcBalanceOutcome::Terminated {
                termination: t.into(),
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SettlementRecord {
    pub batch_no: u32,
    pub debit_count: u64,
    pub debit_fen: u64,
    pub credit_count: u64,
    pub credit_fen: u64,
    pub balanced: bool,
    pub uploaded: u64,
    pub next_batch_no: u32,
    /// STANs of signed slips whose e-signature upload was given up: keep them on paper, signed.
    #[uniffi(default = [])]
    pub paper_slips: Vec<u32>,
}

/// How a settlement ended.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum SettlementOutcome {
    Settled { report: SettlementRecord },
    Terminated { termination: TerminationRecord },
}

impl From<Result<SettlementReport, Termination>> for SettlementOutcome {
    fn from(r: Result<SettlementReport, Termination>) -> Self {
        match r {
            Ok(s) => SettlementOutcome::Settled {
                report: SettlementRecord {
                    batch_no: s.batch_no,
                    debit_count: s.debit_count,
                    debit_fen: s.debit_fen,
                    credit_count: s.credit_count,
                    credit_fen: s.credit_fen,
                    balanced: s.balanced,
                    uploaded: s.uploaded as u64,
                    next_batch_no: s.next_batch_no,
                    paper_slips: s.paper_slips,
                },
            },
            Err(t) => SettlementOutcome::Terminated {
                termination: t.into(),
            },
        }
    }
}

/// How a reprint ended. A printer fault is explained like any device fault; the receipt stays
/// waiting for the next reprint.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum ReprintOutcome {
    Printed { receipt: ReceiptRecord },
    PrinterFailed { termination: TerminationRecord },
}

/// What a recovery pass found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct RecoveryRecord {
    pub in_flight: u64,
    pub reversals_sent: u64,
    pub reversals_pending: u64,
    pub advices_pending: u64,
    pub receipts_unprinted: u64,
}

impl From<RecoveryReport> for RecoveryRecord {
    fn from(r: RecoveryReport) -> Self {
        RecoveryRecord {
            in_flight: r.in_flight as u64,
            reversals_sent: r.reversals_sent as u64,
            reversals_pending: r.reversals_pending as u64,
            advices_pending: r.advices_pending as u64,
            receipts_unprinted: r.receipts_unprinted as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use smartpos_core::diag::{ResponseCode, TerminationCode};

    #[test]
    fn a_host_decline_keeps_its_code_cause_and_texts() {
        let rc = ResponseCode::from_bytes(b"51").unwrap();
        let r = TerminationRecord::from(Termination::from_response(rc));
        assert_eq!(r.code, "HOST_DECLINED_51");
        assert_eq!(r.host_code.as_deref(), Some("51"));
        assert_eq!(r.cause, Cause::Account);
        assert!(!r.merchant_zh.is_empty() && !r.merchant_en.is_empty());
        assert!(!r.cardholder_zh.is_empty() && !r.cardholder_en.is_empty());
    }

    #[test]
    fn remedies_keep_their_code_and_both_texts() {
        let t = Termination::new(TerminationCode::DevPrinterPaperOut);
        let r = TerminationRecord::from(t.clone());
        assert_eq!(r.cause, Cause::Device);
        assert_eq!(r.remedies.len(), t.remedies.len());
        let paper = r
            .remedies
            .iter()
            .find(|x| x.code == RemedyCode::ReplacePaper)
            .expect("paper-out suggests replacing paper");
        assert_eq!(paper.zh, diag::Remedy::ReplacePaper.zh());
        assert_eq!(paper.en, diag::Remedy::ReplacePaper.en());
    }

    /// Every remedy the core names, in a local termination or for any host response code, has
    /// a name of its own in Kotlin, so a shell can put a button on it; none falls to `Other`.
    #[test]
    fn every_remedy_the_core_names_has_a_kotlin_name() {
        const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        let local = TerminationCode::LOCAL.iter().map(|c| Termination::new(*c));
        let host = DIGITS.iter().flat_map(|a| {
            DIGITS.iter().filter_map(move |b| {
                ResponseCode::from_bytes(&[*a, *b])
                    .ok()
                    .map(Termination::from_response)
            })
        });
        let mut seen = std::collections::HashSet::new();
        for t in local.chain(host) {
            for r in &t.remedies {
                assert_ne!(
                    RemedyCode::from(*r),
                    RemedyCode::Other,
                    "{r:?} in {}",
                    t.code
                );
                seen.insert(RemedyCode::from(*r));
            }
        }
        for named in [
            RemedyCode::ReleaseParkedReversal,
            RemedyCode::AcknowledgeStorageFault,
            RemedyCode::CloseOtherInstance,
        ] {
            assert!(seen.contains(&named), "{named:?} is never suggested");
        }
    }

    #[test]
    fn a_journal_in_use_and_a_parked_reversal_point_to_their_operator_actions() {
        let in_use = TerminationRecord::from(Termination::new(TerminationCode::SwJournalInUse));
        assert_eq!(in_use.code, "SW_JOURNAL_IN_USE");
        assert_eq!(in_use.remedies[0].code, RemedyCode::CloseOtherInstance);
        let parked = TerminationRecord::from(Termination::new(TerminationCode::NetReversalParked));
        assert_eq!(parked.cause, Cause::Network);
        assert_eq!(parked.remedies[0].code, RemedyCode::ReleaseParkedReversal);
    }
}
