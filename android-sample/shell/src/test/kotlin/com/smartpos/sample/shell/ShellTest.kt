package com.smartpos.sample.shell

import com.smartpos.Amounts
import com.smartpos.core.ApprovalRecord
import com.smartpos.core.Cause
import com.smartpos.core.CellularGeneration
import com.smartpos.core.NetworkLink
import com.smartpos.core.NetworkStatusRecord
import com.smartpos.core.Outcome
import com.smartpos.core.PaymentMethod
import com.smartpos.core.PendingReversalRecord
import com.smartpos.core.PendingWorkRecord
import com.smartpos.core.ReceiptRecord
import com.smartpos.core.RemedyCode
import com.smartpos.core.RemedyRecord
import com.smartpos.core.ReprintOutcome
import com.smartpos.core.SmartPosException
import com.smartpos.core.StorageFaultRecord
import com.smartpos.core.TerminationRecord
import com.smartpos.core.TransactionKind
import com.smartpos.core.UnprintedReceiptRecord
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/** The sample app's Android-free logic, on the host JVM with the real core for amount rules. */
class ShellTest {
    private fun keys(text: String) = text.fold(AmountKeypad()) { k, c -> k.press(c) }

    private val approval = ApprovalRecord(
        kind = TransactionKind.SALE, attemptId = "a-1", amountFen = 1_234UL, stan = 42U, batchNo = 1U,
        rrn = "000000000042", authCode = "123456", panMasked = "622202******0015", balanceFen = null,
        receipt = ReceiptRecord("POS", "622202******0015", emptyList(), emptyList()), receiptPrinted = true,
    )

    private val decline = TerminationRecord(
        cause = Cause.NETWORK, code = "NET_TIMEOUT", hostCode = null,
        merchantZh = "主机无应答", merchantEn = "No answer from the host",
        cardholderZh = "交易未完成", cardholderEn = "Payment not completed",
        remedies = listOf(RemedyRecord(RemedyCode.CHECK_NETWORK, "检查网络", "Check the network")),
        retryCanHelp = true, alternative = PaymentMethod.QR_CUSTOMER_PRESENTED,
    )

    @Test
    fun `the keypad refuses keys that can never make an amount`() {
        assertEquals("12.34", keys("12.345").text, "a third decimal")
        assertEquals("1.5", keys("1..5").text, "a second point")
        assertEquals("0.5", keys(".5").text, "a leading point gets its zero")
        assertEquals("7", keys("07").text, "a leading zero is replaced")
        assertEquals("1234567890", keys("12345678901").text, "at most 10 digits of yuan (field 4 is n12)")
        assertEquals("12.3", keys("12.34").press(AmountKeypad.BACKSPACE).text)
        assertEquals("", AmountKeypad().press(AmountKeypad.BACKSPACE).text)
        assertEquals("12", keys("1x2").text)
        // Whatever the keypad lets through, the core accepts as an amount.
        for (text in listOf("1234567890.99", "0.01", "7")) assertNotNull(Amounts.parseOrNull(keys(text).text), text)
    }

    private fun machine(ids: Iterator<String> = generateSequence(1) { it + 1 }.map { "attempt-$it" }.iterator()) =
        CheckoutMachine(OutcomePresenter(Language.EN), Amounts::parseOrNull) { ids.next() }

    @Test
    fun `checkout goes amount, method, paying, result, and a retry is a new attempt`() {
        val m = machine()
        var s: CheckoutState = CheckoutState.EnteringAmount()
        for (c in "12.34") s = m.reduce(s, CheckoutEvent.Key(c))
        s = m.reduce(s, CheckoutEvent.ConfirmAmount)
        assertEquals(1_234UL, (s as CheckoutState.ChoosingMethod).amount.fen)
        s = m.reduce(s, CheckoutEvent.Choose(PayMethod.TAP))
        val paying = s as CheckoutState.Paying
        assertEquals("attempt-1", paying.attemptId)
        assertEquals(paying, m.reduce(paying, CheckoutEvent.Key('9')), "keys cannot disturb a payment")
        s = m.reduce(s, CheckoutEvent.Finished(Outcome.Terminated(decline)))
        val done = s as CheckoutState.Done
        assertEquals(Tone.FAILURE, done.screen.tone)
        assertEquals(done, m.reduce(done, CheckoutEvent.Reprinted(ReprintOutcome.Printed(approval.receipt))), "no receipt to reprint")
        s = m.reduce(s, CheckoutEvent.Retry)
        s = m.reduce(s, CheckoutEvent.Choose(PayMethod.QR))
        assertEquals("attempt-2", (s as CheckoutState.Paying).attemptId, "a retry never reuses the attempt id")
        s = m.reduce(s, CheckoutEvent.Finished(Outcome.Approved(approval)))
        s = m.reduce(s, CheckoutEvent.Retry)
        assertTrue(s is CheckoutState.Done, "an approval is not retried")
        s = m.reduce(s, CheckoutEvent.Reprinted(ReprintOutcome.Printed(approval.receipt)))
        assertEquals("Receipt reprinted", (s as CheckoutState.Done).reprintStatus)
        assertEquals(CheckoutState.EnteringAmount(), m.reduce(s, CheckoutEvent.NewSale))

        val cancelled = m.reduce(CheckoutState.Paying(paying.amount, PayMethod.CARD, "attempt-c"), CheckoutEvent.Cancelled)
        assertEquals("Payment cancelled", (cancelled as CheckoutState.Done).screen.title)
        assertTrue(cancelled.screen.canRetry && !cancelled.screen.canReprint)
    }

    @Test
    fun `a bad or zero amount stays on the keypad with the reason`() {
        val m = machine()
        val zero = m.reduce(CheckoutState.EnteringAmount(keys("0.00")), CheckoutEvent.ConfirmAmount)
        assertEquals("The amount cannot be zero", (zero as CheckoutState.EnteringAmount).error)
        val empty = m.reduce(CheckoutState.EnteringAmount(), CheckoutEvent.ConfirmAmount)
        assertEquals("Not a valid amount", (empty as CheckoutState.EnteringAmount).error)
    }

    @Test
    fun `a termination shows merchant text, cardholder text, remedies and the other way to pay`() {
        val en = OutcomePresenter(Language.EN).present(Outcome.Terminated(decline))
        assertEquals("No answer from the host", en.title)
        assertEquals("Payment not completed", en.explanation)
        assertEquals(listOf("Check the network"), en.remedies)
        assertEquals("Ask for another way to pay: scan the customer's payment code", en.alternative)
        assertEquals("NET_TIMEOUT", en.code)
        assertTrue(en.canRetry)
        val zh = OutcomePresenter(Language.ZH).terminated(decline.copy(hostCode = "51", code = "HOST_DECLINED_51", alternative = null))
        assertEquals("主机无应答", zh.title)
        assertEquals("HOST_DECLINED_51 (51)", zh.code)
        assertNull(zh.alternative)
    }

    @Test
    fun `an approval without a printed receipt asks for a reprint`() {
        val p = OutcomePresenter(Language.EN)
        val printed = p.present(Outcome.Approved(approval))
        assertEquals(Tone.SUCCESS, printed.tone)
        assertEquals("Approved RMB 12.34", printed.title)
        assertEquals("Card 622202******0015, voucher 000042", printed.explanation)
        val lost = p.approved(approval.copy(receiptPrinted = false))
        assertEquals(Tone.ATTENTION, lost.tone)
        assertTrue(lost.canReprint && lost.remedies.single().contains("reprint"))
        val closed = p.failed(SmartPosException.Closed("Terminal"))
        assertFalse(closed.canRetry)
        assertEquals("Closed", closed.code)
    }

    @Test
    fun `health lists what to fix first`() {
        val work = PendingWorkRecord(
            reversals = listOf(PendingReversalRecord(7, "98", "failed", 3U)),
            advices = emptyList(),
            unprintedReceipts = listOf(UnprintedReceiptRecord(9, "a-9")),
        )
        val lines = HealthPresenter(Language.EN).present(
            HealthInput("0.1.0", StorageFaultRecord("bad page", listOf("/j.db.corrupt")), work,
                NetworkStatusRecord(NetworkLink.Cellular(CellularGeneration.G4), -97, false)),
        )
        assertEquals(listOf("Storage", "Network", "Reversals owed", "Receipts to reprint"), lines.filter { !it.ok }.map { it.label })
        assertEquals(lines.filter { !it.ok }, lines.take(4), "problems first")
        assertEquals("cellular 4G -97 dBm (offline)", lines.first { it.label == "Network" }.value)
        assertEquals("1 (1 need the operator)", lines.first { it.label == "Reversals owed" }.value)
        val healthy = HealthPresenter(Language.EN).present(HealthInput("0.1.0", null, PendingWorkRecord(emptyList(), emptyList(), emptyList()), null))
        assertTrue(healthy.all { it.ok }, "$healthy")
        assertEquals("not fitted", healthy.first { it.label == "Network" }.value)
    }
}
