//! Terminations decided on the terminal (not by a field-39 answer), as one data table.

use super::vocabulary::{CardholderNotice as N, Cause, PaymentMethod, Remedy};

/// One row: everything needed to explain a locally decided termination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalCodeInfo {
    pub code: &'static str,
    pub cause: Cause,
    pub retry_can_help: bool,
    pub cardholder: N,
    pub remedies: &'static [Remedy],
    pub alternative: Option<PaymentMethod>,
    pub merchant_zh: &'static str,
    pub merchant_en: &'static str,
}

const QR: Option<PaymentMethod> = Some(PaymentMethod::QrCustomerPresented);
const CHIP: Option<PaymentMethod> = Some(PaymentMethod::CardChip);
const CARD: Option<PaymentMethod> = Some(PaymentMethod::Contactless);
const CASH: Option<PaymentMethod> = Some(PaymentMethod::Cash);
const NONE: Option<PaymentMethod> = None;

macro_rules! local_codes {
    ($($code:literal $cause:ident $retry:literal $notice:ident [$($remedy:ident),*] $alt:ident
       $zh:literal $en:literal;)*) => {
        &[$(LocalCodeInfo {
            code: $code,
            cause: Cause::$cause,
            retry_can_help: $retry,
            cardholder: N::$notice,
            remedies: &[$(Remedy::$remedy),*],
            alternative: $alt,
            merchant_zh: $zh,
            merchant_en: $en,
        }),*]
    };
}

#[rustfmt::skip]
pub(super) const LOCAL_CODES: &[LocalCodeInfo] = local_codes! {
    "NET_TIMEOUT" Network true TryAgainLater [Retry, CheckNetwork, UseQr] QR "主机应答超时（如已扣款将自动冲正）" "Host did not answer in time (any charge will be reversed automatically)";
    "NET_NO_LINK" Network true TerminalUnavailable [CheckNetwork, Retry] CASH "无网络连接" "No network connection";
    "NET_HOST_UNREACHABLE" Network true TryAgainLater [CheckNetwork, RetryLater, UseQr] QR "无法连接收单主机" "Cannot reach the acquirer host";
    "NET_TLS" Network false TerminalUnavailable [CheckConfiguration, ContactSupport] QR "安全连接建立失败" "Secure connection (TLS) failed";
    "NET_BAD_MAC" Network false TerminalUnavailable [SignOnAgain, ContactSupport] NONE "应答未通过MAC认证（缺失或错误），结果按未知处理：已冲正并重新签到" "Answer not authenticated (MAC missing or wrong): treated as unknown, reversed, and the terminal signs on again";
    "NET_BAD_RESPONSE" Network true TryAgainLater [Retry, ContactSupport] QR "应答报文无法解析，交易已冲正" "Response could not be decoded; transaction reversed";
    "DEV_PRINTER_PAPER_OUT" Device true ReceiptDelayed [ReplacePaper, Reprint] NONE "打印机缺纸" "Printer out of paper";
    "DEV_PRINTER_OVERHEATED" Device true ReceiptDelayed [LetPrinterCool, Reprint] NONE "打印机过热" "Printer overheated";
    "DEV_PRINTER_JAMMED" Device true ReceiptDelayed [ClearPaperJam, Reprint] NONE "打印机卡纸" "Printer paper jam";
    "DEV_PRINTER" Device true ReceiptDelayed [Reprint, RestartTerminal, ContactSupport] NONE "打印机故障" "Printer fault";
    "DEV_READER" Device true NotCompleted [PresentCardAgain, RestartTerminal, UseQr] QR "读卡器故障" "Card reader fault";
    "DEV_CARD_REMOVED" Device true CardRemoved [KeepCardInserted, InsertCard] CHIP "卡片过早拔出" "Card removed too early";
    "DEV_SCANNER" Device true NotCompleted [KeyInCode, RestartTerminal] CARD "扫码器故障" "Scanner fault";
    "DEV_PINPAD" Device true NotCompleted [RestartTerminal, ContactSupport] QR "密码键盘故障" "PIN pad fault";
    "DEV_STORAGE" Device false TerminalUnavailable [RestartTerminal, ContactSupport] CASH "终端存储故障" "Terminal storage fault";
    "DEV_OTHER" Device true NotCompleted [RestartTerminal, ContactSupport] QR "终端设备故障" "Terminal device fault";
    "SW_STORAGE_CORRUPT" Software false TerminalUnavailable [AcknowledgeStorageFault, ContactSupport] CASH "交易流水库损坏，已另存；操作员确认前暂停交易" "Transaction journal is corrupt and was moved aside; payments wait for the operator's acknowledgement";
    "SW_JOURNAL_IN_USE" Software true TerminalUnavailable [CloseOtherInstance, RestartTerminal] NONE "交易流水库正被另一进程使用，本进程不能交易" "The transaction journal is in use by another process; this one cannot transact";
    "SW_KEYS_MISSING" Software false TerminalUnavailable [SignOnAgain, ContactSupport] CASH "终端密钥缺失，请重新签到或灌装密钥" "Terminal keys missing; sign on or load keys";
    "SW_WEAK_KEYS" Software false TerminalUnavailable [ContactSupport, SignOnAgain] NONE "主机下发的工作密钥不安全（单倍长、两半相同、弱密钥或一钥多用），已拒绝，原密钥不变" "The host's working keys are unsafe (single-length, equal halves, weak, or one key for two purposes): refused, the keys in use are unchanged";
    "SW_CONFIG" Software false TerminalUnavailable [CheckConfiguration, ContactSupport] CASH "终端参数配置错误" "Terminal configuration error";
    "SW_INTERNAL" Software true NotCompleted [Retry, RestartTerminal, ContactSupport] QR "终端程序内部错误" "Internal terminal software error";
    "OP_CANCELLED" Operator true Cancelled [Retry] NONE "交易已取消" "Transaction cancelled";
    "OP_PROMPT_TIMEOUT" Operator true NotCompleted [Retry] NONE "操作超时" "No answer in time";
    "OP_PIN_TIMEOUT" Operator true NotCompleted [Retry] NONE "密码输入超时" "PIN entry timed out";
    "OP_NO_CARD" Operator true NoCardPresented [PresentCardAgain, UseQr] QR "未检测到卡片" "No card presented in time";
    "OP_USE_CHIP" Operator true InsertChip [InsertCard] CHIP "芯片卡请插卡交易" "Chip card: insert it instead of swiping";
    "OP_WRONG_AMOUNT" Operator true NotCompleted [CheckAmount] NONE "金额不符合本交易要求" "Amount not valid for this transaction";
    "OP_ORIGINAL_NOT_FOUND" Operator false NotCompleted [CheckOriginalTransaction] NONE "本批次中找不到原交易" "Original transaction not found in this batch";
    "OP_ORIGINAL_NOT_USABLE" Operator false NotCompleted [CheckOriginalTransaction] NONE "原交易已撤销、已冲正或未成功，不能再操作" "Original transaction was voided, reversed or not approved";
    "OP_PIN_REQUIRED" Operator true NotCompleted [ReEnterPin] NONE "此交易必须输入密码" "This transaction requires the PIN";
    "OP_ENTRY_NOT_SUPPORTED" Operator true NotCompleted [PresentCardAgain, UseQr] QR "暂不支持此读卡方式，请刷卡" "This card entry is not supported yet; swipe the card";
    "OP_TAP_INSERT_CARD" Operator true InsertChip [InsertCard] CHIP "此卡不能挥卡完成本交易（超过非接限额或卡片不支持），请插卡（未扣款）" "This tap cannot complete the payment (over the contactless limit, or the card cannot): insert the card (nothing charged)";
    "OP_TAP_AGAIN" Operator true TapAgain [PresentCardAgain, InsertCard] CHIP "卡片过早离开感应区，请重新挥卡（未扣款）" "The card left the reader too early: tap it again and hold it still (nothing charged)";
    "DEV_CHIP" Device true NotCompleted [InsertCard, UseQr] QR "芯片卡应答异常，交易终止（未扣款）" "The chip answered out of the rules; the transaction ended (nothing charged)";
    "ACC_CHIP_DECLINED" Account false UseOtherPayment [UseAnotherCard, UseQr] QR "卡片芯片拒绝交易" "Declined by the card's chip";
    "ACC_CARD_DECLINED_AFTER_APPROVAL" Account false UseOtherPayment [UseAnotherCard, UseQr] QR "主机已批准但卡片拒绝，交易已自动冲正（原因码96）" "The host approved but the card declined; the payment is reversed automatically (reason 96)";
    "ACC_CHIP_BLOCKED" Account false UseOtherPayment [UseAnotherCard, CallIssuer] QR "卡片已锁定或无本终端受理的应用" "Card blocked, or no application on it that this terminal accepts";
    "NET_REVERSAL_PENDING" Network true TryAgainLater [RetryLater, CheckNetwork, UseQr] QR "上笔交易冲正未完成，暂不能交易" "An earlier reversal has not reached the host; try again when it is reachable";
    "MNT_REVERSAL_BLOCKS_SETTLEMENT" Maintenance false TerminalUnavailable [CheckNetwork, ReleaseParkedReversal, ContactSupport] NONE "有冲正未被主机确认，暂不能结算" "Settlement blocked: a reversal is not yet confirmed by the host";
    "MNT_UPLOADS_BLOCK_SETTLEMENT" Maintenance true TerminalUnavailable [CheckNetwork, RetryLater, ContactSupport] NONE "有脱机交易或IC卡交易证书（TC）未上送，暂不能结算" "Settlement waits: offline chip sales or TCs not yet uploaded to the host";
    "MNT_ESIGN_BLOCKS_SETTLEMENT" Maintenance true TerminalUnavailable [CheckNetwork, RetryLater, ContactSupport] NONE "有电子签名未上送，暂不能结算（多次失败后将列出需留存纸质签购单的交易）" "Settlement waits: e-signatures not yet uploaded (after their attempts, the slips that need a signed paper copy are listed)";
    "OP_SIGNATURE_MISSING" Operator false NotCompleted [Reprint] NONE "持卡人未完成电子签名，交易已成功：请打印纸质签购单，由持卡人签字后留存" "No e-signature; the payment is approved: print the paper slip, have the cardholder sign it and keep it";
    "NET_REVERSAL_PARKED" Network false TerminalUnavailable [ReleaseParkedReversal, ContactSupport] NONE "冲正多次未获主机确认，已挂起待操作员处理（阻止结算）" "Reversal not confirmed after its attempts; parked for the operator (blocks settlement)";
    "MNT_HOST_MAINTENANCE" Maintenance true TryAgainLater [RetryLater, UseQr] QR "收单主机维护中" "Acquirer host under maintenance";
    "MNT_CUTOVER" Maintenance true TryAgainLater [RetryLater, UseQr] QR "日切处理中" "Cutover in progress";
    "MNT_SIGN_ON_REQUIRED" Maintenance true TerminalUnavailable [SignOnAgain] NONE "终端需要签到" "Terminal must sign on";
    "MNT_BATCH_FULL" Maintenance true TerminalUnavailable [SettleNow] NONE "交易批次已满，请先结算" "Batch is full; settle first";
    "MNT_SETTLEMENT_REQUIRED" Maintenance true TerminalUnavailable [SettleNow] NONE "需要先结算" "Settlement required first";
    "RISK_LOCAL" Risk false UseOtherPayment [UseAnotherCard, UseQr] QR "终端风控规则拒绝" "Declined by a terminal risk rule";
    "RISK_HOST" Risk false UseOtherPayment [UseAnotherCard, UseQr] QR "后台风控拒绝" "Declined by host risk control";
    "RISK_LIMIT" Risk false UseOtherPayment [CheckAmount, UseQr] QR "超过终端风控金额限额" "Declined by a terminal amount limit";
    "RISK_VELOCITY" Risk true TryAgainLater [RetryLater, UseQr] QR "交易频次超过终端风控限制" "Declined by a terminal velocity limit";
    "RISK_CARD_CHECK" Risk false UseOtherPayment [UseAnotherCard, UseQr] QR "卡片未通过终端校验（卡号或有效期）" "Card failed a terminal check (number or expiry)";
    "RISK_HOT_CARD" Risk false UseOtherPayment [UseAnotherCard, CallIssuer] QR "卡片在黑名单中" "Card is on the hot-card list";
    "RISK_CHIP_REQUIRED" Risk true InsertChip [InsertCard] CHIP "芯片卡必须插卡交易，不允许降级" "Chip card must use the chip; fallback not allowed";
    "RISK_RELOCATED" Risk false TerminalUnavailable [ContactSupport] QR "终端位置异常，需重新登记后方可受理银行卡" "Terminal away from its registered address; card payments blocked until re-registration";
    "RISK_CASH_OUT" Risk false UseOtherPayment [UseAnotherCard, UseQr] QR "交易模式疑似套现，终端风控拒绝" "Declined: transaction pattern matches a cash-out rule";
    "RISK_DUPLICATE" Risk true NotCompleted [CheckAmount, Retry] NONE "疑似重复交易，需操作员确认" "Possible duplicate: operator confirmation needed";
    "ACC_CARD_EXPIRED" Account false CardExpired [UseAnotherCard, UseQr] QR "卡片已过期" "Card expired";
    "ACC_INVALID_CARD" Account false UseOtherPayment [UseAnotherCard, UseQr] QR "卡号无效" "Invalid card number";
    "ACC_CARD_NOT_SUPPORTED" Account false UseOtherPayment [UseAnotherCard, UseQr] QR "不支持此卡" "Card not supported";
    "ACC_SERVICE_NOT_ALLOWED" Account false UseOtherPayment [UseAnotherCard, UseQr] QR "此卡不允许该交易" "Card does not allow this service";
    "NET_QR_GATEWAY_UNREACHABLE" Network true TryAgainLater [CheckNetwork, RetryLater] CARD "无法连接扫码支付网关" "Cannot reach the QR payment gateway";
    "NET_QR_BAD_SIGNATURE" Network true TryAgainLater [RetryLater, ContactSupport] CARD "支付网关应答签名校验失败，订单将查询确认" "QR gateway response signature did not verify; the order will be queried";
    "NET_QR_GATEWAY_ERROR" Network true TryAgainLater [Retry, RetryLater] CARD "扫码支付网关系统繁忙" "QR payment gateway reported a system error";
    "NET_QR_UNRESOLVED" Network true TryAgainLater [CheckNetwork, RetryLater] CARD "订单结果未确认，网关恢复后将自动撤销（如已扣款将退回）" "Order outcome not confirmed; it is cancelled automatically (any charge returned) once the gateway is reachable";
    "SW_QR_REQUEST_REJECTED" Software false TerminalUnavailable [CheckConfiguration, ContactSupport] CARD "支付网关拒绝请求（签名或参数错误）" "QR gateway rejected the request (signature or parameters)";
    "OP_QR_NOT_PAID" Operator true NotCompleted [Retry] CARD "顾客未在规定时间内完成支付，订单已撤销" "Customer did not pay in time; the order was cancelled";
    "OP_QR_USER_CANCELLED" Operator true Cancelled [Retry] CARD "顾客已取消支付" "Customer cancelled the payment";
    "OP_QR_ORDER_CLOSED" Operator false NotCompleted [CheckOriginalTransaction] NONE "订单已关闭或已撤销" "Order already closed or cancelled";
    "OP_QR_REFUND_REFUSED" Operator false NotCompleted [CheckOriginalTransaction, ContactSupport] NONE "支付网关拒绝退款" "Refund refused by the QR gateway";
    "ACC_QR_CODE_INVALID" Account true UseOtherPayment [Retry, KeyInCode] CARD "付款码无效或已过期，请顾客刷新付款码" "Payment code invalid or expired; ask the customer to refresh it";
    "ACC_QR_INSUFFICIENT" Account false InsufficientFunds [UseAnotherCard] CARD "顾客账户余额不足" "Customer's wallet balance is insufficient";
    "ACC_QR_DECLINED" Account false UseOtherPayment [UseAnotherCard, ContactSupport] CARD "支付机构拒绝交易" "Payment declined by the wallet provider";
};

pub(super) fn find(code: &str) -> Option<&'static LocalCodeInfo> {
    LOCAL_CODES.iter().find(|i| i.code == code)
}
