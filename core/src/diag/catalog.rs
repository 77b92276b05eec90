//! The field-39 response-code catalog as one data table.
//!
//! Meanings and recommended terminal wording follow Q/CUP 006.6-2014 (中国银联银行卡联网联合
//! 技术规范 V2.1 第6部分 附录, Annex A.2 应答码). The POS-only codes 77 (batch out of step, sign
//! on), 78 (parameter download) and 79 (offline upload out of balance) come from the UnionPay POS
//! terminal message specification; remaining numeric codes keep their ISO 8583:1987 meaning. The terminal completes a sale only on 00: approval-like codes (08, 10, 11, 16, A2,
//! A4–A6) are reversed, so a customer is never charged for a sale the terminal reports as failed.

use super::ResponseCode;
use super::vocabulary::{CardholderNotice as N, Cause, PaymentMethod, Remedy};

/// How the merchant should treat the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActionClass {
    Approved,
    Retry,
    DoNotRetry,
    OperatorAction,
    SystemFault,
}

/// What the terminal does on its own after receiving the code on a financial request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TerminalReaction {
    None,
    /// Keys or session are out of step: sign on again before the next transaction.
    SignOn,
    /// Undo a possible charge the terminal will not complete.
    Reverse,
    /// Reconciliation failed: upload the batch before settling again.
    BatchUpload,
    /// The host has new parameters for this terminal: download them (through sign-on).
    DownloadParameters,
}

/// One row of the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseCodeInfo {
    pub code: &'static str,
    pub cause: Cause,
    pub action: ActionClass,
    pub reaction: TerminalReaction,
    pub cardholder: N,
    pub remedies: &'static [Remedy],
    pub alternative: Option<PaymentMethod>,
    pub merchant_zh: &'static str,
    pub merchant_en: &'static str,
}

impl ResponseCodeInfo {
    /// Whether the same payment may succeed if tried again once the remedies are done.
    pub fn retry_can_help(&self) -> bool {
        matches!(
            self.action,
            ActionClass::Retry | ActionClass::OperatorAction
        )
    }
}

const QR: Option<PaymentMethod> = Some(PaymentMethod::QrCustomerPresented);
const CHIP: Option<PaymentMethod> = Some(PaymentMethod::CardChip);
const NONE: Option<PaymentMethod> = None;

macro_rules! catalog {
    ($($code:literal $cause:ident $action:ident $reaction:ident $notice:ident
       [$($remedy:ident),*] $alt:ident $zh:literal $en:literal;)*) => {
        &[$(ResponseCodeInfo {
            code: $code,
            cause: Cause::$cause,
            action: ActionClass::$action,
            reaction: TerminalReaction::$reaction,
            cardholder: N::$notice,
            remedies: &[$(Remedy::$remedy),*],
            alternative: $alt,
            merchant_zh: $zh,
            merchant_en: $en,
        }),*]
    };
}

#[rustfmt::skip]
const CATALOG: &[ResponseCodeInfo] = catalog! {
    "00" Account Approved None Approved [] NONE "承兑或交易成功" "Approved";
    "01" Account OperatorAction None ContactIssuer [CallIssuer, UseAnotherCard] QR "请持卡人与发卡行联系" "Refer to card issuer";
    "02" Account OperatorAction None ContactIssuer [CallIssuer, UseAnotherCard] QR "请持卡人与发卡行联系（特殊条件）" "Refer to card issuer, special condition";
    "03" Maintenance OperatorAction None TerminalUnavailable [CheckConfiguration, ContactSupport] QR "无效商户" "Invalid merchant";
    "04" Account DoNotRetry None ContactIssuer [CallIssuer, UseAnotherCard] QR "此卡被没收（请按收单行规定处理）" "Pick up card";
    "05" Account DoNotRetry None UseOtherPayment [UseAnotherCard, UseQr] QR "身份认证失败（持卡人认证失败）" "Cardholder authentication failed (do not honour)";
    "06" Software Retry None TryAgainLater [Retry, ContactSupport] QR "发卡行处理出错" "Error at issuer";
    "07" Account DoNotRetry None ContactIssuer [CallIssuer, UseAnotherCard] QR "特殊条件下没收卡" "Pick up card, special condition";
    "08" Account DoNotRetry Reverse NotCompleted [UseAnotherCard, UseQr] QR "需核实身份后承兑（本终端不支持，已冲正）" "Honour with identification (not supported here; reversed)";
    "09" Network Retry None TryAgainLater [RetryLater] QR "请求正在处理中" "Request in progress";
    "10" Account DoNotRetry Reverse NotCompleted [UseAnotherCard, UseQr] QR "部分金额承兑（本终端不支持，已冲正）" "Approved for partial amount (not supported here; reversed)";
    "11" Account DoNotRetry Reverse NotCompleted [UseAnotherCard, UseQr] QR "重要客户批准（本终端不支持，已冲正）" "Approved (VIP) (not supported here; reversed)";
    "12" Software DoNotRetry None NotCompleted [CheckOriginalTransaction, ContactSupport] QR "无效的关联交易" "Invalid transaction (no approved original for this related transaction)";
    "13" Software OperatorAction None NotCompleted [CheckAmount, Retry] NONE "无效金额" "Invalid amount";
    "14" Account DoNotRetry None UseOtherPayment [UseAnotherCard, UseQr] QR "无效卡号（无此账号）" "Invalid card number";
    "15" Account DoNotRetry None UseOtherPayment [UseAnotherCard, UseQr] QR "无此发卡方" "No such issuer";
    "16" Account DoNotRetry Reverse NotCompleted [UseAnotherCard, UseQr] QR "批准并更新第三磁道（本终端不支持，已冲正）" "Approved, update track 3 (not supported here; reversed)";
    "17" Operator OperatorAction None Cancelled [Retry] NONE "持卡人取消" "Customer cancellation";
    "18" Account DoNotRetry None ContactIssuer [CallIssuer] QR "持卡人争议" "Customer dispute";
    "19" Network Retry None TryAgainLater [Retry] NONE "请重新发起交易" "Re-enter transaction";
    "20" Software Retry None TryAgainLater [Retry, ContactSupport] NONE "无效应答" "Invalid response";
    "21" Account DoNotRetry None ContactIssuer [CallIssuer, UseAnotherCard] QR "卡未初始化或睡眠卡" "Card not activated or dormant";
    "22" Software DoNotRetry None NotCompleted [CheckOriginalTransaction, ContactSupport] NONE "关联交易错误：操作有误，或超出交易允许天数" "Suspected malfunction: related transaction out of sequence or too late";
    "23" Software DoNotRetry None NotCompleted [ContactSupport] QR "不可接受的交易费" "Unacceptable transaction fee";
    "24" Software DoNotRetry None NotCompleted [ContactSupport] NONE "不支持的文件更新操作" "File update not supported by receiver";
    "25" Software DoNotRetry None NotCompleted [CheckOriginalTransaction, ContactSupport] NONE "找不到原始交易" "Unable to locate original transaction";
    "26" Software DoNotRetry None NotCompleted [ContactSupport] NONE "重复的文件更新记录" "Duplicate file update record";
    "27" Software DoNotRetry None NotCompleted [ContactSupport] NONE "文件更新字段错误" "File update field edit error";
    "28" Network Retry None TryAgainLater [RetryLater] QR "文件暂时不可用" "File temporarily not available";
    "29" Software DoNotRetry None NotCompleted [ContactSupport] NONE "文件更新不成功" "File update not successful";
    "30" Software Retry None TryAgainLater [Retry, ContactSupport] QR "报文格式错误" "Format error";
    "31" Account DoNotRetry None UseOtherPayment [UseAnotherCard, UseQr] QR "此卡不被银联网络支持" "Bank not supported by switch";
    "32" Software DoNotRetry None NotCompleted [ContactSupport] NONE "部分完成" "Completed partially";
    "33" Account DoNotRetry None CardExpired [UseAnotherCard, UseQr] QR "过期卡（没收）" "Expired card, pick up";
    "34" Risk DoNotRetry None ContactIssuer [UseAnotherCard, UseQr] QR "有作弊嫌疑（没收）" "Suspected fraud, pick up";
    "35" Risk DoNotRetry None ContactIssuer [ContactSupport, UseAnotherCard] QR "受卡方请与收单行安全部门联系（没收）" "Card acceptor contact acquirer, pick up";
    "36" Account DoNotRetry None UseOtherPayment [UseAnotherCard, UseQr] QR "受限制的卡（没收）" "Restricted card, pick up";
    "37" Risk DoNotRetry None ContactIssuer [ContactSupport, UseAnotherCard] QR "受卡方请致电收单行安全部门（没收）" "Card acceptor call acquirer security, pick up";
    "38" Account DoNotRetry None PinTriesExceeded [CallIssuer, UseAnotherCard] QR "超过允许的PIN试输入次数（账户已锁定）" "Allowable PIN tries exceeded, account locked";
    "39" Account DoNotRetry None UseOtherPayment [UseAnotherCard, UseQr] QR "无此信用卡账户" "No credit account";
    "40" Software DoNotRetry None UseOtherPayment [UseQr, ContactSupport] QR "请求的功能尚不支持" "Requested function not supported";
    "41" Account DoNotRetry None ContactIssuer [CallIssuer, UseAnotherCard] QR "挂失卡（没收）" "Lost card, pick up";
    "42" Account DoNotRetry None UseOtherPayment [UseAnotherCard, UseQr] QR "无此账户" "No universal account";
    "43" Account DoNotRetry None ContactIssuer [CallIssuer, UseAnotherCard] QR "被窃卡（没收）" "Stolen card, pick up";
    "44" Account DoNotRetry None UseOtherPayment [UseAnotherCard, UseQr] QR "无此投资账户" "No investment account";
    "45" Account OperatorAction None InsertChip [InsertCard, UseQr] CHIP "不允许降级交易，请使用芯片" "Fallback not allowed, use the chip";
    "51" Account DoNotRetry None InsufficientFunds [UseAnotherCard, UseQr] QR "资金不足（可用余额不足）" "Insufficient funds";
    "52" Account DoNotRetry None UseOtherPayment [UseAnotherCard, UseQr] QR "无此支票账户" "No cheque account";
    "53" Account DoNotRetry None UseOtherPayment [UseAnotherCard, UseQr] QR "无此储蓄卡账户" "No savings account";
    "54" Account DoNotRetry None CardExpired [UseAnotherCard, UseQr] QR "过期的卡" "Expired card";
    "55" Account OperatorAction None WrongPin [ReEnterPin] NONE "密码错误（不正确的PIN）" "Incorrect PIN";
    "56" Account DoNotRetry None UseOtherPayment [UseAnotherCard, UseQr] QR "无此卡记录" "No card record";
    "57" Account DoNotRetry None UseOtherPayment [UseAnotherCard, UseQr] QR "不允许持卡人进行的交易" "Transaction not permitted to cardholder";
    "58" Software DoNotRetry None UseOtherPayment [CheckConfiguration, ContactSupport] QR "不允许终端进行的交易" "Transaction not permitted to terminal";
    "59" Risk DoNotRetry None ContactIssuer [UseAnotherCard, UseQr] QR "有作弊嫌疑（卡片校验错，CVN验证失败）" "Suspected fraud (card verification value failed)";
    "60" Risk DoNotRetry None ContactIssuer [ContactSupport] QR "受卡方请与收单行联系" "Card acceptor contact acquirer";
    "61" Account DoNotRetry None OverLimit [UseAnotherCard, UseQr] QR "超出金额限制" "Exceeds amount limit";
    "62" Account DoNotRetry None UseOtherPayment [UseAnotherCard, UseQr] QR "受限制的卡" "Restricted card";
    "63" Risk DoNotRetry None UseOtherPayment [ContactSupport] QR "违反安全保密规定" "Security violation";
    "64" Software DoNotRetry None NotCompleted [CheckOriginalTransaction, CheckAmount] NONE "原始金额不正确" "Original amount incorrect";
    "65" Account DoNotRetry None OverLimit [UseAnotherCard, UseQr] QR "超出交易次数限制" "Exceeds frequency limit";
    "66" Risk DoNotRetry None ContactIssuer [ContactSupport] QR "受卡方请致电收单行安全部门" "Card acceptor call acquirer security";
    "67" Account DoNotRetry None ContactIssuer [CallIssuer, UseAnotherCard] QR "捕获（没收卡）" "Hard capture, pick up";
    "68" Network Retry Reverse TryAgainLater [RetryLater, CheckNetwork] QR "交易超时（应答太迟），已冲正" "Response received too late; reversed";
    "75" Account DoNotRetry None PinTriesExceeded [CallIssuer, UseAnotherCard] QR "密码输入次数超限" "Allowable PIN tries exceeded";
    "77" Maintenance OperatorAction SignOn TerminalUnavailable [SignOnAgain, Retry] NONE "POS批次与网络中心不一致，请重新签到" "Batch out of step with the host; sign on again";
    "78" Maintenance OperatorAction DownloadParameters TerminalUnavailable [SignOnAgain, Retry] NONE "网络中心需要向POS终端下载数据" "Host requires a parameter download to this terminal";
    "79" Maintenance OperatorAction BatchUpload TerminalUnavailable [BatchUpload, SettleNow] NONE "脱机交易对账不平，请批上送" "Offline transactions out of balance; upload the batch";
    "90" Maintenance Retry None TryAgainLater [RetryLater, UseQr] QR "正在日终处理（系统日切），请稍后重试" "Cutover in progress";
    "91" Network Retry None TryAgainLater [RetryLater, UseQr] QR "发卡方或交换中心不能操作" "Issuer or switch inoperative";
    "92" Network Retry None TryAgainLater [RetryLater, UseQr] QR "金融机构或中间网络设施找不到或无法达到（发卡方线路异常）" "Financial institution or intermediate network unreachable";
    "93" Account DoNotRetry None UseOtherPayment [UseAnotherCard, UseQr] QR "交易违法，不能完成" "Transaction cannot be completed, violation of law";
    "94" Software DoNotRetry None NotCompleted [CheckOriginalTransaction, ContactSupport] NONE "重复交易" "Duplicate transmission";
    "95" Maintenance OperatorAction BatchUpload TerminalUnavailable [BatchUpload, SettleNow] NONE "对账不平（调节控制错）" "Reconcile error";
    "96" Software Retry None TryAgainLater [RetryLater, UseQr] QR "系统异常、失效" "System malfunction";
    "97" Maintenance OperatorAction None TerminalUnavailable [CheckConfiguration, ContactSupport] QR "POS终端号找不到（终端未登记）" "Terminal not registered";
    "98" Network Retry Reverse TryAgainLater [RetryLater, UseQr] QR "银联收不到发卡方应答，已冲正" "Issuer response timed out; reversed";
    "99" Maintenance OperatorAction SignOn TerminalUnavailable [SignOnAgain, Retry] NONE "PIN格式错，请重新签到" "PIN format error; sign on again";
    "A0" Maintenance OperatorAction SignOn TerminalUnavailable [SignOnAgain, Retry] NONE "MAC校验错，请重新签到" "MAC verification failed; sign on again";
    "A1" Software DoNotRetry None UseOtherPayment [ContactSupport] QR "转账货币不一致" "Currency mismatch";
    "A2" Account DoNotRetry Reverse NotCompleted [CheckOriginalTransaction, ContactSupport] NONE "有缺陷的成功（本终端不接受，已冲正）" "Approved with defect (not accepted here; reversed)";
    "A3" Account DoNotRetry None UseOtherPayment [UseAnotherCard] QR "资金到账行无此账户" "Account not found at receiving bank";
    "A4" Account DoNotRetry Reverse NotCompleted [CheckOriginalTransaction, ContactSupport] NONE "有缺陷的成功（本终端不接受，已冲正）" "Approved with defect (not accepted here; reversed)";
    "A5" Account DoNotRetry Reverse NotCompleted [CheckOriginalTransaction, ContactSupport] NONE "有缺陷的成功（本终端不接受，已冲正）" "Approved with defect (not accepted here; reversed)";
    "A6" Account DoNotRetry Reverse NotCompleted [CheckOriginalTransaction, ContactSupport] NONE "有缺陷的成功（本终端不接受，已冲正）" "Approved with defect (not accepted here; reversed)";
    "A7" Maintenance OperatorAction SignOn TerminalUnavailable [SignOnAgain, ContactSupport] NONE "安全处理失败，请重新签到" "Security processing failed; sign on again";
};

/// Unassigned numeric codes still come from the issuer side: treat them as a decline.
const UNKNOWN_NUMERIC: ResponseCodeInfo = ResponseCodeInfo {
    code: "??",
    cause: Cause::Account,
    action: ActionClass::DoNotRetry,
    reaction: TerminalReaction::None,
    cardholder: N::UseOtherPayment,
    remedies: &[
        Remedy::UseAnotherCard,
        Remedy::UseQr,
        Remedy::ContactSupport,
    ],
    alternative: QR,
    merchant_zh: "交易被拒绝（未知应答码），请改用其他支付方式或联系收单机构",
    merchant_en: "Declined with an unknown response code; use another payment method or contact the acquirer",
};

/// Letters outside A0–A7 are acquirer-private: the terminal does not know what went wrong.
const UNKNOWN_PRIVATE: ResponseCodeInfo = ResponseCodeInfo {
    code: "??",
    cause: Cause::Software,
    action: ActionClass::SystemFault,
    reaction: TerminalReaction::None,
    cardholder: N::NotCompleted,
    remedies: &[Remedy::ContactSupport, Remedy::UseQr],
    alternative: QR,
    merchant_zh: "收单机构返回未知应答码，交易未成功，请联系收单机构",
    merchant_en: "The acquirer sent an unknown response code; not approved; contact the acquirer",
};

/// The catalog row for `code`, or the generic row for codes the specification leaves unassigned.
pub fn lookup(code: ResponseCode) -> ResponseCodeInfo {
    if let Some(info) = CATALOG.iter().find(|i| i.code == code.as_str()) {
        return *info;
    }
    // Generic rows carry code "??": the caller still holds the real code.
    if code.as_str().bytes().all(|b| b.is_ascii_digit()) {
        UNKNOWN_NUMERIC
    } else {
        UNKNOWN_PRIVATE
    }
}

/// Answers to a reversal request that mean the reversal is done: approved, or the host has
/// nothing to reverse (12 invalid transaction, 25 original not found), so stop resending it.
const REVERSAL_CLEARING: [&str; 3] = ["00", "12", "25"];

pub fn clears_reversal(code: ResponseCode) -> bool {
    REVERSAL_CLEARING.contains(&code.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rc(s: &str) -> ResponseCode {
        s.parse().unwrap()
    }

    #[test]
    fn every_catalogued_code_is_explained() {
        for code in ResponseCode::catalogued() {
            let info = lookup(code);
            assert!(!info.merchant_zh.is_empty(), "{code}");
            assert!(!info.merchant_en.is_empty(), "{code}");
            assert!(!info.cardholder.zh().is_empty(), "{code}");
            assert!(!info.cardholder.en().is_empty(), "{code}");
            if !code.is_approved() {
                assert!(!info.remedies.is_empty(), "{code} has no remedy");
            }
        }
    }

    #[test]
    fn table_rows_are_unique_and_valid() {
        for (i, row) in CATALOG.iter().enumerate() {
            assert!(row.code.parse::<ResponseCode>().is_ok(), "{}", row.code);
            assert!(
                CATALOG[i + 1..].iter().all(|r| r.code != row.code),
                "duplicate {}",
                row.code
            );
        }
    }

    #[test]
    fn only_00_is_an_approval() {
        let approvals: Vec<_> = ResponseCode::catalogued()
            .filter(|c| lookup(*c).action == ActionClass::Approved)
            .collect();
        assert_eq!(approvals, vec![rc("00")]);
        // Approval-like codes are reversed so the customer is not charged for a failed sale.
        for c in ["08", "10", "11", "16", "A2", "A4", "A5", "A6"] {
            assert_eq!(lookup(rc(c)).reaction, TerminalReaction::Reverse, "{c}");
        }
    }

    #[test]
    fn sign_on_codes() {
        // UnionPay: A0 MAC error, 99 PIN format error, 77 sign on again all demand a new sign-on.
        for c in ["A0", "99", "77"] {
            assert_eq!(lookup(rc(c)).reaction, TerminalReaction::SignOn, "{c}");
        }
        assert_eq!(lookup(rc("05")).reaction, TerminalReaction::None);
    }

    #[test]
    fn known_meanings_and_causes() {
        assert_eq!(lookup(rc("51")).merchant_en, "Insufficient funds");
        assert_eq!(lookup(rc("51")).cause, Cause::Account);
        assert_eq!(lookup(rc("55")).cardholder, N::WrongPin);
        assert_eq!(lookup(rc("59")).cause, Cause::Risk);
        assert_eq!(lookup(rc("34")).cause, Cause::Risk);
        assert_eq!(lookup(rc("91")).cause, Cause::Network);
        assert!(lookup(rc("91")).retry_can_help());
        assert!(!lookup(rc("05")).retry_can_help());
        assert_eq!(lookup(rc("90")).cause, Cause::Maintenance);
        assert_eq!(lookup(rc("45")).alternative, CHIP);
    }

    #[test]
    fn meanings_match_qcup_006_6_annex_a2() {
        // Q/CUP 006.6-2014 Annex A.2: meaning column (含义) for a sample of codes.
        for (code, zh) in [
            ("00", "承兑或交易成功"),
            ("21", "卡未初始化"),
            ("25", "找不到原始交易"),
            ("45", "不允许降级交易"),
            ("51", "资金不足"),
            ("55", "密码错误"),
            ("90", "日切"),
            ("97", "终端未登记"),
            ("A0", "MAC校验错"),
            ("A7", "安全处理失败"),
        ] {
            assert!(lookup(rc(code)).merchant_zh.contains(zh), "{code}");
        }
        // Its terminal wording asks for a later retry on 68, 90, 91, 92, 96.
        for code in ["68", "90", "91", "92", "96"] {
            assert!(lookup(rc(code)).retry_can_help(), "{code}");
        }
        assert_eq!(
            lookup(rc("78")).reaction,
            TerminalReaction::DownloadParameters
        );
    }

    #[test]
    fn unknown_codes_fall_back() {
        let u = lookup(rc("83"));
        assert_eq!(
            (u.cause, u.action),
            (Cause::Account, ActionClass::DoNotRetry)
        );
        let p = lookup(rc("B7"));
        assert_eq!(
            (p.cause, p.action),
            (Cause::Software, ActionClass::SystemFault)
        );
        assert!(p.merchant_en.contains("unknown"));
    }

    #[test]
    fn reversal_clearing() {
        for c in ["00", "12", "25"] {
            assert!(clears_reversal(rc(c)), "{c}");
        }
        for c in ["05", "96", "A0", "68"] {
            assert!(!clears_reversal(rc(c)), "{c}");
        }
    }
}
