package com.smartpos.sample.shell

import com.smartpos.Amounts
import com.smartpos.core.QrOutcomeRecord

/** Turns a QR payment's ending into the same result screen a card payment gets. */
class QrOutcomePresenter(private val card: OutcomePresenter) {

    private fun t(zh: String, en: String) = card.text(zh, en)

    fun present(outcome: QrOutcomeRecord): ResultScreen = when (outcome) {
        is QrOutcomeRecord.Paid -> ResultScreen(
            tone = Tone.SUCCESS,
            title = t("扫码支付成功 ¥", "QR payment approved RMB ") + Amounts.format(outcome.amountFen),
            explanation = t("订单号 ", "Order ") + outcome.outTradeNo +
                (outcome.transactionId?.let { t("，交易号 ", ", transaction ") + it }.orEmpty()),
            remedies = emptyList(),
            alternative = null,
            code = null,
            canRetry = false,
            canReprint = false,
        )
        is QrOutcomeRecord.Refunded -> ResultScreen(
            tone = Tone.ATTENTION,
            title = t("已退款 ¥", "Refunded RMB ") + Amounts.format(outcome.amountFen),
            explanation = t("款项已退回顾客，请勿交付商品", "The money went back to the customer: do not hand over the goods"),
            remedies = emptyList(),
            alternative = null,
            code = null,
            canRetry = true,
            canReprint = false,
        )
        is QrOutcomeRecord.Closed -> card.terminated(outcome.termination)
        is QrOutcomeRecord.Cancelled -> card.terminated(outcome.termination)
        is QrOutcomeRecord.Declined -> card.terminated(outcome.termination)
        // Not settled: the core finishes it at the next recover(); never hand over goods on it.
        is QrOutcomeRecord.Unresolved -> card.terminated(outcome.termination).copy(
            tone = Tone.ATTENTION,
            canRetry = false,
        )
    }

    /** The scanner gave nothing within its timeout: nothing was sent, nothing charged. */
    fun nothingScanned(): ResultScreen = notPaid(
        t("未扫到付款码", "No payment code scanned"),
        t("请顾客出示付款码，或手工输入后重试", "Ask the customer to show the code, or type it in, and retry"),
        "SAMPLE_NOTHING_SCANNED",
    )

    /** The scanner port failed; manual entry still works. */
    fun scannerFailed(): ResultScreen = notPaid(
        t("扫码器故障", "Scanner failed"),
        t("请手工输入付款码后重试", "Type the payment code in, then retry"),
        "SAMPLE_SCANNER_FAILED",
    )

    private fun notPaid(title: String, remedy: String, code: String) = ResultScreen(
        tone = Tone.FAILURE,
        title = title,
        explanation = t("未扣款", "Nothing was charged"),
        remedies = listOf(remedy),
        alternative = null,
        code = code,
        canRetry = true,
        canReprint = false,
    )
}
