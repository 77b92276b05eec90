//! Causes, remedies, payment methods and the neutral cardholder notices, each with zh/en text.

use std::fmt;

/// The seven ways a transaction can end without approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    Network,
    Device,
    Software,
    Operator,
    Maintenance,
    Risk,
    Account,
}

impl Cause {
    pub const ALL: [Cause; 7] = [
        Cause::Network,
        Cause::Device,
        Cause::Software,
        Cause::Operator,
        Cause::Maintenance,
        Cause::Risk,
        Cause::Account,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Cause::Network => "network",
            Cause::Device => "device",
            Cause::Software => "software",
            Cause::Operator => "operator",
            Cause::Maintenance => "maintenance",
            Cause::Risk => "risk",
            Cause::Account => "account",
        }
    }
}

impl Cause {
    /// The cause named by [`Cause::as_str`].
    pub fn from_name(name: &str) -> Option<Cause> {
        Cause::ALL.iter().copied().find(|c| c.as_str() == name)
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    CardChip,
    Contactless,
    Magstripe,
    QrCustomerPresented,
    QrMerchantPresented,
    Cash,
}

impl PaymentMethod {
    fn text(&self) -> (&'static str, &'static str) {
        match self {
            PaymentMethod::CardChip => ("插卡（芯片）", "insert the card (chip)"),
            PaymentMethod::Contactless => ("挥卡（闪付）", "tap the card (contactless)"),
            PaymentMethod::Magstripe => ("刷卡（磁条）", "swipe the card (magnetic stripe)"),
            PaymentMethod::QrCustomerPresented => {
                ("扫顾客付款码", "scan the customer's payment code")
            }
            PaymentMethod::QrMerchantPresented => {
                ("顾客扫商户收款码", "customer scans the merchant QR code")
            }
            PaymentMethod::Cash => ("现金", "cash"),
        }
    }

    pub fn zh(&self) -> &'static str {
        self.text().0
    }

    pub fn en(&self) -> &'static str {
        self.text().1
    }
}

/// A concrete next step for the merchant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Remedy {
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
    /// A reversal parked after its attempts: confirm with the acquirer, then release it.
    ReleaseParkedReversal,
    /// A corrupt journal was moved aside: the operator acknowledges before payments resume.
    AcknowledgeStorageFault,
    /// Another process (or a second terminal object) holds the journal.
    CloseOtherInstance,
}

const REMEDY_TEXT: &[(Remedy, &str, &str)] = &[
    (Remedy::Retry, "重试交易", "Retry the transaction"),
    (Remedy::RetryLater, "稍后重试", "Try again in a few minutes"),
    (
        Remedy::CheckNetwork,
        "检查网络连接（Wi-Fi/4G）",
        "Check the network connection (Wi-Fi/4G)",
    ),
    (
        Remedy::InsertCard,
        "请持卡人插卡（芯片）",
        "Ask the cardholder to insert the card (chip)",
    ),
    (
        Remedy::TapCard,
        "请持卡人挥卡",
        "Ask the cardholder to tap the card",
    ),
    (
        Remedy::PresentCardAgain,
        "请重新刷卡/插卡/挥卡",
        "Present the card again",
    ),
    (
        Remedy::KeepCardInserted,
        "交易完成前请勿拔卡",
        "Keep the card inserted until the transaction ends",
    ),
    (
        Remedy::UseAnotherCard,
        "请更换其他银行卡",
        "Use another card",
    ),
    (Remedy::UseQr, "改用扫码支付", "Pay by QR code instead"),
    (
        Remedy::KeyInCode,
        "手工输入付款码",
        "Key in the payment code by hand",
    ),
    (
        Remedy::ReEnterPin,
        "请持卡人重新输入密码",
        "Ask the cardholder to re-enter the PIN",
    ),
    (Remedy::CheckAmount, "核对交易金额", "Check the amount"),
    (Remedy::SignOnAgain, "重新签到", "Sign on again"),
    (Remedy::SettleNow, "立即结算", "Settle now"),
    (
        Remedy::BatchUpload,
        "执行批上送后再结算",
        "Upload the batch, then settle",
    ),
    (
        Remedy::CallIssuer,
        "请持卡人联系发卡银行",
        "Ask the cardholder to call the card issuer",
    ),
    (Remedy::Reprint, "重打印小票", "Reprint the receipt"),
    (Remedy::ReplacePaper, "更换打印纸", "Load a new paper roll"),
    (
        Remedy::LetPrinterCool,
        "等待打印机冷却",
        "Let the printer cool down",
    ),
    (Remedy::ClearPaperJam, "清除卡纸", "Clear the paper jam"),
    (Remedy::RestartTerminal, "重启终端", "Restart the terminal"),
    (
        Remedy::CheckConfiguration,
        "检查终端参数配置",
        "Check the terminal configuration",
    ),
    (
        Remedy::ContactSupport,
        "联系收单机构客服",
        "Contact acquirer support",
    ),
    (
        Remedy::CheckOriginalTransaction,
        "核对原交易信息",
        "Check the original transaction details",
    ),
    (
        Remedy::ReleaseParkedReversal,
        "与收单机构核实该笔冲正后，由操作员释放（smartpos reversal release）",
        "Confirm the reversal with the acquirer, then release it (smartpos reversal release)",
    ),
    (
        Remedy::AcknowledgeStorageFault,
        "操作员确认存储故障后方可继续交易（smartpos journal ack）",
        "Operator: acknowledge the storage fault before payments resume (smartpos journal ack)",
    ),
    (
        Remedy::CloseOtherInstance,
        "关闭正在使用该交易流水库的其他程序后重试",
        "Close the other program using this journal, then retry",
    ),
];

impl Remedy {
    fn text(&self) -> (&'static str, &'static str) {
        REMEDY_TEXT
            .iter()
            .find(|(r, _, _)| r == self)
            .map_or(("联系客服", "Contact support"), |(_, zh, en)| {
                (*zh, *en)
            })
    }

    pub fn zh(&self) -> &'static str {
        self.text().0
    }

    pub fn en(&self) -> &'static str {
        self.text().1
    }
}

/// What the cardholder is told. Deliberately neutral: never names a risk rule, a suspicion, a
/// lost/stolen status or a card capture, so the display cannot tip off or embarrass anyone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CardholderNotice {
    Approved,
    ContactIssuer,
    UseOtherPayment,
    WrongPin,
    PinTriesExceeded,
    CardExpired,
    InsufficientFunds,
    OverLimit,
    TryAgainLater,
    TerminalUnavailable,
    NotCompleted,
    InsertChip,
    Cancelled,
    NoCardPresented,
    CardRemoved,
    ReceiptDelayed,
    /// A tapped card left the field before the reader was done.
    TapAgain,
}

const NOTICE_TEXT: &[(CardholderNotice, &str, &str)] = &[
    (CardholderNotice::Approved, "交易成功", "Approved"),
    (
        CardholderNotice::ContactIssuer,
        "交易未成功，请联系发卡银行",
        "Not approved. Please contact your card issuer.",
    ),
    (
        CardholderNotice::UseOtherPayment,
        "交易未成功，请更换其他卡或支付方式",
        "Not approved. Please use another card or payment method.",
    ),
    (
        CardholderNotice::WrongPin,
        "密码错误，请重新输入",
        "Incorrect PIN. Please try again.",
    ),
    (
        CardholderNotice::PinTriesExceeded,
        "密码错误次数超限，请联系发卡银行",
        "Too many PIN attempts. Please contact your card issuer.",
    ),
    (
        CardholderNotice::CardExpired,
        "卡片已过期，请更换其他卡",
        "Card expired. Please use another card.",
    ),
    (
        CardholderNotice::InsufficientFunds,
        "余额不足，请更换其他卡或支付方式",
        "Insufficient funds. Please use another card or payment method.",
    ),
    (
        CardholderNotice::OverLimit,
        "超出卡片限额，请更换其他卡或支付方式",
        "Over the card limit. Please use another card or payment method.",
    ),
    (
        CardholderNotice::TryAgainLater,
        "系统繁忙，请稍后再试",
        "System busy. Please try again shortly.",
    ),
    (
        CardholderNotice::TerminalUnavailable,
        "终端暂时无法交易，请稍候",
        "This terminal cannot take payments right now. Please wait.",
    ),
    (
        CardholderNotice::NotCompleted,
        "交易未完成",
        "Transaction not completed.",
    ),
    (
        CardholderNotice::InsertChip,
        "请插入芯片卡",
        "Please insert your card.",
    ),
    (
        CardholderNotice::Cancelled,
        "交易已取消",
        "Transaction cancelled.",
    ),
    (
        CardholderNotice::NoCardPresented,
        "未检测到卡片",
        "No card detected.",
    ),
    (
        CardholderNotice::ReceiptDelayed,
        "小票稍后打印",
        "Your receipt will be printed shortly.",
    ),
    (
        CardholderNotice::CardRemoved,
        "卡片过早拔出，请重新插卡",
        "Card removed too early. Please insert it again.",
    ),
    (
        CardholderNotice::TapAgain,
        "卡片过早离开感应区，请重新挥卡",
        "Card moved away too early. Please tap it again.",
    ),
];

impl CardholderNotice {
    fn text(&self) -> (&'static str, &'static str) {
        NOTICE_TEXT.iter().find(|(n, _, _)| n == self).map_or(
            ("交易未完成", "Transaction not completed."),
            |(_, zh, en)| (*zh, *en),
        )
    }

    pub fn zh(&self) -> &'static str {
        self.text().0
    }

    pub fn en(&self) -> &'static str {
        self.text().1
    }
}
