package com.smartpos.sample.shell

import com.smartpos.Amounts
import com.smartpos.core.ApprovalRecord
import com.smartpos.core.Outcome
import com.smartpos.core.PaymentMethod
import com.smartpos.core.ReprintOutcome
import com.smartpos.core.SmartPosException
import com.smartpos.core.TerminationRecord

enum class Language { ZH, EN }

enum class Tone {
    /** Paid, receipt printed. */
    SUCCESS,

    /** Paid, but something needs the merchant (the receipt did not print). */
    ATTENTION,

    /** Not paid. */
    FAILURE,
}

/** What the result screen shows; every text is ready to display and safe (PAN masked). */
data class ResultScreen(
    val tone: Tone,
    val title: String,
    val explanation: String,
    /** One line per remedy, in the core's order (most useful first). */
    val remedies: List<String>,
    /** "Ask for another way to pay: …", when the core names one. */
    val alternative: String?,
    /** The stable code to quote to support, e.g. "HOST_DECLINED_51 (51)". */
    val code: String?,
    val canRetry: Boolean,
    val canReprint: Boolean,
)

/** Turns what the core returned into the merchant's result screen. */
class OutcomePresenter(private val language: Language) {
    /** The text in the presenter's language. */
    fun text(zh: String, en: String) = if (language == Language.ZH) zh else en

    private fun t(zh: String, en: String) = text(zh, en)

    fun present(outcome: Outcome): ResultScreen = when (outcome) {
        is Outcome.Approved -> approved(outcome.approval)
        is Outcome.Terminated -> terminated(outcome.termination)
    }

    fun approved(a: ApprovalRecord): ResultScreen {
        val voucher = a.stan.toString().padStart(6, '0')
        val remedies = if (a.receiptPrinted) {
            emptyList()
        } else {
            listOf(t("签购单未打印：请处理打印机后重打印", "Receipt not printed: fix the printer, then reprint"))
        }
        return ResultScreen(
            tone = if (a.receiptPrinted) Tone.SUCCESS else Tone.ATTENTION,
            title = t("交易成功 ¥", "Approved RMB ") + Amounts.format(a.amountFen),
            explanation = t("卡号 ${a.panMasked} 凭证号 $voucher", "Card ${a.panMasked}, voucher $voucher"),
            remedies = remedies,
            alternative = null,
            code = null,
            canRetry = false,
            canReprint = true,
        )
    }

    fun terminated(end: TerminationRecord): ResultScreen = ResultScreen(
        tone = Tone.FAILURE,
        title = t(end.merchantZh, end.merchantEn),
        explanation = t(end.cardholderZh, end.cardholderEn),
        remedies = end.remedies.map { t(it.zh, it.en) },
        alternative = end.alternative?.let { t("可改用：", "Ask for another way to pay: ") + method(it) },
        code = end.hostCode?.let { "${end.code} ($it)" } ?: end.code,
        canRetry = end.retryCanHelp,
        canReprint = false,
    )

    /** An exception is not a decline: it means the app or the terminal needs attention. */
    fun failed(e: SmartPosException): ResultScreen {
        val (zh, en) = when (e) {
            is SmartPosException.Closed -> "终端已关闭，请重启应用" to "The terminal is closed: restart the app"
            is SmartPosException.Journal -> "交易记录存储故障，请联系技术支持" to "Journal storage failed: contact support"
            // One owner per journal: another terminal object or QR session still holds the file.
            is SmartPosException.JournalInUse ->
                "交易记录正被另一实例使用，请关闭它或重启应用" to "The journal is in use by another instance: close it or restart the app"
            is SmartPosException.Config -> "终端参数错误，请联系技术支持" to "Terminal configuration is wrong: contact support"
            // Nothing was sent: the customer refreshes the code in the wallet, or it is typed in.
            is SmartPosException.NotAPaymentCode ->
                "不是有效的付款码，请顾客刷新付款码或手工输入" to "Not a payment code: ask the customer to refresh it, or type it in"
            else -> "系统错误，请重试或联系技术支持" to "Internal error: retry or contact support"
        }
        return ResultScreen(
            tone = Tone.FAILURE,
            title = t(zh, en),
            explanation = e.message.orEmpty(),
            remedies = emptyList(),
            alternative = null,
            code = e::class.simpleName,
            canRetry = e !is SmartPosException.Closed,
            canReprint = false,
        )
    }

    /**
     * The merchant cancelled. The core has journaled how the payment ended and reverses it if
     * the host may have seen it, so nothing is charged.
     */
    fun cancelled(): ResultScreen = ResultScreen(
        tone = Tone.FAILURE,
        title = t("交易已取消", "Payment cancelled"),
        explanation = t("未扣款", "The customer was not charged"),
        remedies = emptyList(),
        alternative = null,
        code = null,
        canRetry = true,
        canReprint = false,
    )

    /** A one-line status after a reprint. */
    fun reprinted(r: ReprintOutcome): String = when (r) {
        is ReprintOutcome.Printed -> t("已重打印", "Receipt reprinted")
        is ReprintOutcome.PrinterFailed -> t(r.termination.merchantZh, r.termination.merchantEn)
    }

    fun method(m: PaymentMethod): String = when (m) {
        PaymentMethod.CARD_CHIP -> t("插卡", "insert the card")
        PaymentMethod.CONTACTLESS -> t("挥卡/闪付", "tap the card")
        PaymentMethod.MAGSTRIPE -> t("刷卡", "swipe the card")
        PaymentMethod.QR_CUSTOMER_PRESENTED -> t("扫顾客付款码", "scan the customer's payment code")
        PaymentMethod.QR_MERCHANT_PRESENTED -> t("顾客扫商户码", "customer scans the shop's QR code")
        PaymentMethod.CASH -> t("现金", "cash")
    }
}
