//! `Termination`: the explained ending of a transaction that was not approved.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

use super::ResponseCode;
use super::catalog::{self, ActionClass};
use super::local_codes::{self, LocalCodeInfo};
use super::vocabulary::{Cause, PaymentMethod, Remedy};

macro_rules! local_codes {
    ($($variant:ident = $text:literal,)*) => {
        /// A stable reason code decided on the terminal; the string form is what journals,
        /// statistics and the Kotlin shell see, so it never changes once shipped.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum TerminationCode {
            $($variant,)*
            /// A field-39 answer from the host; string form `HOST_DECLINED_xx`.
            HostDeclined(ResponseCode),
        }

        impl TerminationCode {
            /// Every locally decided code (not `HostDeclined`).
            pub const LOCAL: &'static [TerminationCode] = &[$(TerminationCode::$variant,)*];

            fn local_str(&self) -> Option<&'static str> {
                match self {
                    $(TerminationCode::$variant => Some($text),)*
                    TerminationCode::HostDeclined(_) => None,
                }
            }
        }
    };
}

local_codes! {
    NetTimeout = "NET_TIMEOUT",
    NetNoLink = "NET_NO_LINK",
    NetHostUnreachable = "NET_HOST_UNREACHABLE",
    NetTls = "NET_TLS",
    NetBadMac = "NET_BAD_MAC",
    NetBadResponse = "NET_BAD_RESPONSE",
    DevPrinterPaperOut = "DEV_PRINTER_PAPER_OUT",
    DevPrinterOverheated = "DEV_PRINTER_OVERHEATED",
    DevPrinterJammed = "DEV_PRINTER_JAMMED",
    DevPrinter = "DEV_PRINTER",
    DevReader = "DEV_READER",
    DevCardRemoved = "DEV_CARD_REMOVED",
    DevScanner = "DEV_SCANNER",
    DevPinPad = "DEV_PINPAD",
    DevStorage = "DEV_STORAGE",
    DevOther = "DEV_OTHER",
    SwStorageCorrupt = "SW_STORAGE_CORRUPT",
    SwKeysMissing = "SW_KEYS_MISSING",
    SwWeakKeys = "SW_WEAK_KEYS",
    SwConfig = "SW_CONFIG",
    SwInternal = "SW_INTERNAL",
    OpCancelled = "OP_CANCELLED",
    OpPromptTimeout = "OP_PROMPT_TIMEOUT",
    OpPinTimeout = "OP_PIN_TIMEOUT",
    OpNoCard = "OP_NO_CARD",
    OpUseChip = "OP_USE_CHIP",
    OpWrongAmount = "OP_WRONG_AMOUNT",
    OpOriginalNotFound = "OP_ORIGINAL_NOT_FOUND",
    OpOriginalNotUsable = "OP_ORIGINAL_NOT_USABLE",
    OpPinRequired = "OP_PIN_REQUIRED",
    OpEntryNotSupported = "OP_ENTRY_NOT_SUPPORTED",
    OpTapInsertCard = "OP_TAP_INSERT_CARD",
    OpTapAgain = "OP_TAP_AGAIN",
    DevChip = "DEV_CHIP",
    AccChipDeclined = "ACC_CHIP_DECLINED",
    AccCardDeclinedAfterApproval = "ACC_CARD_DECLINED_AFTER_APPROVAL",
    AccChipBlocked = "ACC_CHIP_BLOCKED",
    NetReversalPending = "NET_REVERSAL_PENDING",
    NetReversalParked = "NET_REVERSAL_PARKED",
    SwJournalInUse = "SW_JOURNAL_IN_USE",
    MntReversalBlocksSettlement = "MNT_REVERSAL_BLOCKS_SETTLEMENT",
    MntUploadsBlockSettlement = "MNT_UPLOADS_BLOCK_SETTLEMENT",
    MntEsignBlocksSettlement = "MNT_ESIGN_BLOCKS_SETTLEMENT",
    OpSignatureMissing = "OP_SIGNATURE_MISSING",
    MntHostMaintenance = "MNT_HOST_MAINTENANCE",
    MntCutover = "MNT_CUTOVER",
    MntSignOnRequired = "MNT_SIGN_ON_REQUIRED",
    MntBatchFull = "MNT_BATCH_FULL",
    MntSettlementRequired = "MNT_SETTLEMENT_REQUIRED",
    RiskLocal = "RISK_LOCAL",
    RiskHost = "RISK_HOST",
    RiskLimit = "RISK_LIMIT",
    RiskVelocity = "RISK_VELOCITY",
    RiskCardCheck = "RISK_CARD_CHECK",
    RiskHotCard = "RISK_HOT_CARD",
    RiskChipRequired = "RISK_CHIP_REQUIRED",
    RiskRelocated = "RISK_RELOCATED",
    RiskCashOut = "RISK_CASH_OUT",
    RiskDuplicate = "RISK_DUPLICATE",
    AccCardExpired = "ACC_CARD_EXPIRED",
    AccInvalidCard = "ACC_INVALID_CARD",
    AccCardNotSupported = "ACC_CARD_NOT_SUPPORTED",
    AccServiceNotAllowed = "ACC_SERVICE_NOT_ALLOWED",
    NetQrGatewayUnreachable = "NET_QR_GATEWAY_UNREACHABLE",
    NetQrBadSignature = "NET_QR_BAD_SIGNATURE",
    NetQrGatewayError = "NET_QR_GATEWAY_ERROR",
    NetQrUnresolved = "NET_QR_UNRESOLVED",
    SwQrRequestRejected = "SW_QR_REQUEST_REJECTED",
    OpQrNotPaid = "OP_QR_NOT_PAID",
    OpQrUserCancelled = "OP_QR_USER_CANCELLED",
    OpQrOrderClosed = "OP_QR_ORDER_CLOSED",
    OpQrRefundRefused = "OP_QR_REFUND_REFUSED",
    AccQrCodeInvalid = "ACC_QR_CODE_INVALID",
    AccQrInsufficient = "ACC_QR_INSUFFICIENT",
    AccQrDeclined = "ACC_QR_DECLINED",
}

const HOST_PREFIX: &str = "HOST_DECLINED_";

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TerminationCodeError {
    #[error("unknown termination code {0:?}")]
    Unknown(String),
}

impl fmt::Display for TerminationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self, self.local_str()) {
            (_, Some(s)) => f.write_str(s),
            (TerminationCode::HostDeclined(rc), None) => write!(f, "{HOST_PREFIX}{rc}"),
            (_, None) => f.write_str("UNKNOWN"),
        }
    }
}

impl FromStr for TerminationCode {
    type Err = TerminationCodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(rc) = s.strip_prefix(HOST_PREFIX) {
            return rc
                .parse()
                .map(TerminationCode::HostDeclined)
                .map_err(|_| TerminationCodeError::Unknown(s.to_owned()));
        }
        TerminationCode::LOCAL
            .iter()
            .find(|c| c.local_str() == Some(s))
            .copied()
            .ok_or_else(|| TerminationCodeError::Unknown(s.to_owned()))
    }
}

/// Why a transaction ended without approval, explained for merchant and cardholder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Termination {
    pub cause: Cause,
    pub code: TerminationCode,
    pub host_code: Option<ResponseCode>,
    pub merchant_zh: String,
    pub merchant_en: String,
    /// Neutral text for the cardholder display (Chinese).
    pub cardholder: String,
    /// The same cardholder text in English.
    pub cardholder_en: String,
    pub remedies: Vec<Remedy>,
    pub retry_can_help: bool,
    pub alternative: Option<PaymentMethod>,
}

impl Termination {
    /// A termination for any code. Host codes are explained by the field-39 catalog.
    pub fn new(code: TerminationCode) -> Termination {
        match code {
            TerminationCode::HostDeclined(rc) => Termination::from_response(rc),
            local => Termination::from_local(local),
        }
    }

    /// The host answered with `code`; 00 should be treated as an approval by the caller and
    /// never reach here, but it still yields a well-formed value.
    pub fn from_response(code: ResponseCode) -> Termination {
        let info = catalog::lookup(code);
        Termination {
            cause: info.cause,
            code: TerminationCode::HostDeclined(code),
            host_code: Some(code),
            merchant_zh: format!("{}（应答码 {code}）", info.merchant_zh),
            merchant_en: format!("{} (response code {code})", info.merchant_en),
            cardholder: info.cardholder.zh().to_owned(),
            cardholder_en: info.cardholder.en().to_owned(),
            remedies: info.remedies.to_vec(),
            // "Operator action" codes (wrong PIN, sign on again, use the chip) succeed once the
            // remedy is done, like a device fault does on the terminal's side.
            retry_can_help: matches!(
                info.action,
                ActionClass::Retry | ActionClass::OperatorAction
            ),
            alternative: info.alternative,
        }
    }

    fn from_local(code: TerminationCode) -> Termination {
        let info = code
            .local_str()
            .and_then(local_codes::find)
            .unwrap_or(&FALLBACK);
        Termination {
            cause: info.cause,
            code,
            host_code: None,
            merchant_zh: info.merchant_zh.to_owned(),
            merchant_en: info.merchant_en.to_owned(),
            cardholder: info.cardholder.zh().to_owned(),
            cardholder_en: info.cardholder.en().to_owned(),
            remedies: info.remedies.to_vec(),
            retry_can_help: info.retry_can_help,
            alternative: info.alternative,
        }
    }

    /// Adds a detail to the merchant texts only (e.g. the device's own message); the cardholder
    /// text stays neutral. Callers must not pass card data.
    pub fn with_detail(mut self, detail: &str) -> Termination {
        if !detail.is_empty() {
            self.merchant_zh = format!("{}：{detail}", self.merchant_zh);
            self.merchant_en = format!("{}: {detail}", self.merchant_en);
        }
        self
    }
}

/// Only reachable if a code were added without a table row, which a test forbids.
const FALLBACK: LocalCodeInfo = LocalCodeInfo {
    code: "SW_INTERNAL",
    cause: Cause::Software,
    retry_can_help: true,
    cardholder: super::CardholderNotice::NotCompleted,
    remedies: &[Remedy::ContactSupport],
    alternative: None,
    merchant_zh: "终端程序内部错误",
    merchant_en: "Internal terminal software error",
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::catalog::lookup;

    /// Words that would hint at a risk rule or a fraud suspicion on the cardholder display.
    const FORBIDDEN: [&str; 14] = [
        "risk", "fraud", "suspect", "stolen", "lost", "capture", "pick up", "security", "风险",
        "欺诈", "可疑", "作弊", "没收", "挂失",
    ];

    fn all_terminations() -> Vec<Termination> {
        let host = ResponseCode::catalogued().map(Termination::from_response);
        let local = TerminationCode::LOCAL.iter().map(|c| Termination::new(*c));
        host.chain(local).collect()
    }

    #[test]
    fn cardholder_text_is_neutral_everywhere() {
        for t in all_terminations() {
            let text = format!("{} {}", t.cardholder, t.cardholder_en).to_lowercase();
            for word in FORBIDDEN {
                assert!(!text.contains(word), "{}: {text:?} contains {word}", t.code);
            }
        }
    }

    #[test]
    fn every_termination_is_complete() {
        for t in all_terminations() {
            assert!(
                !t.merchant_zh.is_empty() && !t.merchant_en.is_empty(),
                "{}",
                t.code
            );
            assert!(
                !t.cardholder.is_empty() && !t.cardholder_en.is_empty(),
                "{}",
                t.code
            );
            if t.code != TerminationCode::HostDeclined(ResponseCode::APPROVED) {
                assert!(!t.remedies.is_empty(), "{} has no remedy", t.code);
            }
        }
    }

    #[test]
    fn every_local_code_has_exactly_one_row() {
        for code in TerminationCode::LOCAL {
            let s = code.to_string();
            assert!(local_codes::find(&s).is_some(), "{s} has no row");
            assert_eq!(s.parse::<TerminationCode>().unwrap(), *code);
        }
        for row in local_codes::LOCAL_CODES {
            assert!(row.code.parse::<TerminationCode>().is_ok(), "{}", row.code);
        }
        assert_eq!(local_codes::LOCAL_CODES.len(), TerminationCode::LOCAL.len());
    }

    /// The flag and the advice must agree: a termination that says retrying cannot help must not
    /// tell the merchant to retry, and a host code classed "retry" must say when.
    #[test]
    fn retry_advice_agrees_with_retry_can_help() {
        let advises_retry = |r: &[Remedy]| {
            r.iter()
                .any(|r| matches!(r, Remedy::Retry | Remedy::RetryLater))
        };
        let disagree: Vec<String> = all_terminations()
            .into_iter()
            .filter(|t| !t.retry_can_help && advises_retry(&t.remedies))
            .map(|t| t.code.to_string())
            .collect();
        assert!(disagree.is_empty(), "say retry but cannot: {disagree:?}");
        for code in ResponseCode::catalogued() {
            let info = lookup(code);
            if info.action == ActionClass::Retry {
                assert!(
                    advises_retry(info.remedies),
                    "{code} says not when to retry"
                );
            }
        }
    }

    /// Host codes that demand a new sign-on say so to the merchant.
    #[test]
    fn sign_on_reactions_are_advised() {
        for code in ResponseCode::catalogued() {
            let info = lookup(code);
            if info.reaction == crate::diag::TerminalReaction::SignOn {
                assert!(info.remedies.contains(&Remedy::SignOnAgain), "{code}");
            }
        }
    }

    #[test]
    fn code_prefix_matches_cause() {
        for code in TerminationCode::LOCAL {
            let t = Termination::new(*code);
            let prefix = code.to_string();
            let expected = match prefix.split('_').next() {
                Some("NET") => Cause::Network,
                Some("DEV") => Cause::Device,
                Some("SW") => Cause::Software,
                Some("OP") => Cause::Operator,
                Some("MNT") => Cause::Maintenance,
                Some("RISK") => Cause::Risk,
                Some("ACC") => Cause::Account,
                other => panic!("unexpected prefix {other:?}"),
            };
            assert_eq!(t.cause, expected, "{prefix}");
        }
    }

    #[test]
    fn host_codes_round_trip_and_explain() {
        let rc: ResponseCode = "51".parse().unwrap();
        let t = Termination::from_response(rc);
        assert_eq!(t.code.to_string(), "HOST_DECLINED_51");
        assert_eq!(
            "HOST_DECLINED_51".parse::<TerminationCode>().unwrap(),
            t.code
        );
        assert_eq!(t.host_code, Some(rc));
        assert_eq!(t.cause, lookup(rc).cause);
        assert!(t.merchant_en.contains("51"));
        assert!(!t.retry_can_help);
        assert!("HOST_DECLINED_5".parse::<TerminationCode>().is_err());
        assert!("NET_NOPE".parse::<TerminationCode>().is_err());
        let busy = Termination::from_response("91".parse().unwrap());
        assert!(busy.retry_can_help);
        assert_eq!(busy.alternative, Some(PaymentMethod::QrCustomerPresented));
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,30}") {
            if let Ok(code) = s.parse::<TerminationCode>() {
                proptest::prop_assert_eq!(code.to_string(), s);
            }
        }
    }

    #[test]
    fn local_constructor_and_detail() {
        let t = Termination::new(TerminationCode::DevScanner).with_detail("camera busy");
        assert_eq!(t.cause, Cause::Device);
        assert_eq!(t.alternative, Some(PaymentMethod::Contactless));
        assert!(t.remedies.contains(&Remedy::KeyInCode));
        assert!(t.merchant_en.ends_with("camera busy"));
        assert!(!t.cardholder_en.contains("camera"));
        assert_eq!(t.host_code, None);
    }
}
