package com.smartpos.sample.shell

import com.smartpos.Amounts
import com.smartpos.core.AmountRecord
import com.smartpos.core.ApprovalRecord
import com.smartpos.core.Cause
import com.smartpos.core.HealthCheckKind
import com.smartpos.core.HealthCheckRecord
import com.smartpos.core.HealthReportRecord
import com.smartpos.core.HealthStatus
import com.smartpos.core.Outcome
import com.smartpos.core.PaymentMethod
import com.smartpos.core.PaymentCodeProblem
import com.smartpos.core.PendingReversalRecord
import com.smartpos.core.PendingWorkRecord
import com.smartpos.core.PortException
import com.smartpos.core.QrOutcomeRecord
import com.smartpos.core.ReceiptRecord
import com.smartpos.core.RemedyCode
import com.smartpos.core.RemedyRecord
import com.smartpos.core.ReprintOutcome
import com.smartpos.core.Scanner
import com.smartpos.core.SmartPosException
import com.smartpos.core.StorageFaultRecord
import com.smartpos.core.TerminationRecord
import com.smartpos.core.TransactionKind
import com.smartpos.core.UnprintedReceiptRecord
import kotlinx.coroutines.runBlocking
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
        val inUse = p.failed(SmartPosException.JournalInUse("/data/journal.db", 4242U))
        assertTrue(inUse.title.startsWith("The journal is in use by another instance"), inUse.title)
        assertEquals("JournalInUse", inUse.code)
    }

    @Test
    fun `a parked reversal and an unreadable journal ask the operator for the right action`() {
        val why = TerminationRecord(
            Cause.NETWORK, "NET_REVERSAL_PARKED", null, "冲正多次未获主机确认：STAN 000017", "Reversal not confirmed: STAN 000017",
            "", "", listOf(RemedyRecord(RemedyCode.RELEASE_PARKED_REVERSAL, "解除挂起", "Release the parked reversal")), false, null,
        )
        fun reversal(parked: TerminationRecord?) = PendingReversalRecord(
            9, "a-9", TransactionKind.SALE, 4_200UL, 17U, 1U, "622202******0015", "98",
            if (parked == null) "pending" else "failed", 3U, "timeout", parked,
        )
        val report = HealthReportRecord(1_700_000_000_000L, HealthStatus.OK, listOf(check(HealthCheckKind.HOST, "acquirer host", HealthStatus.OK)))
        val work = PendingWorkRecord(listOf(reversal(why), reversal(null).copy(transactionId = 10)), emptyList(), emptyList())
        val p = HealthPresenter(Language.EN)
        val lines = p.present(HealthInput("0.1.0", report, null, work))
        val parked = lines.first()
        assertEquals("Parked reversal, voucher 000017", parked.label, "only the parked one, first")
        assertEquals(HealthStatus.FAILING, parked.status)
        assertEquals("Reversal not confirmed: STAN 000017; amount RMB 42.00, card 622202******0015", parked.value)
        assertEquals(listOf("Release the parked reversal"), parked.remedies)
        assertEquals(1, lines.count { it.label.startsWith("Parked") })
        assertEquals("Settled with the acquirer: release reversal 000017", p.releaseLabel(work.reversals.first()))

        val readable = StorageFaultRecord("bad page", listOf("/j.db.corrupt"), 2U, null)
        assertFalse(p.acceptsUnreadable(readable))
        assertEquals("Acknowledge storage fault", p.acknowledgeLabel(readable))
        assertTrue(p.storageFault(readable).contains("2 owed transactions carried over"))
        val unreadable = readable.copy(carried = 0U, unreadable = "file is not a database")
        assertTrue(p.acceptsUnreadable(unreadable))
        assertTrue(p.acknowledgeLabel(unreadable).startsWith("Reconciled with the acquirer"))
        assertTrue(p.storageFault(unreadable).contains("reconcile with the acquirer"), p.storageFault(unreadable))
        assertFalse(p.storageFault(unreadable).contains("carried over"))
    }

    private fun check(kind: HealthCheckKind, en: String, status: HealthStatus, remedy: RemedyRecord? = null) =
        HealthCheckRecord(kind, "中文", en, status, "详情", "$en detail", listOfNotNull(remedy))

    @Test
    fun `health lists what to fix first, with the core's remedies`() {
        val paper = RemedyRecord(RemedyCode.REPLACE_PAPER, "更换打印纸", "Replace the paper roll")
        val report = HealthReportRecord(
            1_700_000_000_000L,
            HealthStatus.FAILING,
            listOf(
                check(HealthCheckKind.HOST, "acquirer host", HealthStatus.OK),
                check(HealthCheckKind.NETWORK, "network", HealthStatus.WARNING),
                check(HealthCheckKind.PRINTER, "printer", HealthStatus.FAILING, paper),
            ),
        )
        val work = PendingWorkRecord(emptyList(), emptyList(), listOf(UnprintedReceiptRecord(9, "a-9")))
        val p = HealthPresenter(Language.EN)
        val lines = p.present(HealthInput("0.1.0", report, null, work))
        assertEquals(listOf("printer", "network", "acquirer host", "Core version"), lines.map { it.label })
        assertEquals(listOf("Replace the paper roll"), lines.first().remedies)
        assertEquals("printer detail", lines.first().value)
        assertFalse(lines.first().ok)
        assertEquals("Terminal has faults: fix them first", p.headline(report))

        val withFault = p.present(HealthInput("0.1.0", report, StorageFaultRecord("bad page", listOf("/j.db.corrupt"), 0U, null), work))
        assertEquals(listOf("Journal", "printer"), withFault.filter { it.status == HealthStatus.FAILING }.map { it.label })
        val zh = HealthPresenter(Language.ZH).present(HealthInput("0.1.0", report, null, work))
        assertEquals("更换打印纸", zh.first().remedies.single())
    }

    @Test
    fun `QR outcomes read like card outcomes`() {
        val p = QrOutcomePresenter(OutcomePresenter(Language.EN))
        val paid = p.present(QrOutcomeRecord.Paid("qr-1", "T42", 1_234UL))
        assertEquals(Tone.SUCCESS, paid.tone)
        assertEquals("QR payment approved RMB 12.34", paid.title)
        assertEquals("Order qr-1, transaction T42", paid.explanation)
        val invalid = TerminationRecord(
            Cause.ACCOUNT, "ACC_QR_CODE_INVALID", null, "付款码无效", "Payment code invalid", "请刷新付款码",
            "Refresh the payment code", listOf(RemedyRecord(RemedyCode.KEY_IN_CODE, "手输付款码", "Key in the code")), true, null,
        )
        val declined = p.present(QrOutcomeRecord.Declined("qr-2", invalid))
        assertEquals(Tone.FAILURE, declined.tone)
        assertEquals("Payment code invalid", declined.title)
        assertEquals("ACC_QR_CODE_INVALID", declined.code)
        assertEquals(listOf("Key in the code"), declined.remedies)
        val unresolved = p.present(QrOutcomeRecord.Unresolved("qr-3", invalid.copy(code = "NET_QR_UNRESOLVED")))
        assertEquals(Tone.ATTENTION, unresolved.tone)
        assertFalse(unresolved.canRetry, "an unsettled order must not be paid again under a new attempt")
        assertEquals(Tone.ATTENTION, p.present(QrOutcomeRecord.Refunded("qr-4", 100UL)).tone)
    }

    private class FixedScanner(private val code: String?, private val fail: Boolean = false) : Scanner {
        override fun scan(timeoutMs: ULong): String? = if (fail) throw PortException.Scanner("camera") else code
    }

    @Test
    fun `QR button scans then pays, and nothing scanned charges nothing`() = runBlocking<Unit> {
        val paidCodes = mutableListOf<String>()
        val pay: suspend (String) -> QrOutcomeRecord = { code ->
            paidCodes += code
            QrOutcomeRecord.Paid("qr1", "T1", 100UL)
        }
        val event = QrCheckout(FixedScanner(" 134567890123456789\n")).scanThenPay(pay)
        assertEquals(listOf("134567890123456789"), paidCodes, "the scanned code, trimmed")
        assertTrue(event is CheckoutEvent.QrFinished)
        assertEquals(CheckoutEvent.NothingScanned, QrCheckout(FixedScanner(null)).scanThenPay(pay))
        assertEquals(CheckoutEvent.NothingScanned, QrCheckout(FixedScanner("  ")).scanThenPay(pay))
        assertEquals(CheckoutEvent.ScannerFailed, QrCheckout(FixedScanner(null, fail = true)).scanThenPay(pay))
        assertEquals(1, paidCodes.size, "no payment without a code")

        val machine = CheckoutMachine(OutcomePresenter(Language.EN), { AmountRecord(100UL, "1.00", "000000000100") }, { "a1" })
        val paying = CheckoutState.Paying(AmountRecord(100UL, "1.00", "000000000100"), PayMethod.QR, "a1")
        val done = machine.reduce(paying, event) as CheckoutState.Done
        assertEquals(Tone.SUCCESS, done.screen.tone)
        val none = machine.reduce(paying, CheckoutEvent.NothingScanned) as CheckoutState.Done
        assertTrue(none.screen.canRetry)
        assertEquals("SAMPLE_NOTHING_SCANNED", none.screen.code)
        val refused = OutcomePresenter(Language.EN).failed(
            SmartPosException.NotAPaymentCode(PaymentCodeProblem.UNKNOWN_PREFIX, null, "no payment scheme uses the prefix 99"),
        )
        assertTrue(refused.title.startsWith("Not a payment code"), refused.title)
        assertTrue(refused.canRetry)
    }
}
