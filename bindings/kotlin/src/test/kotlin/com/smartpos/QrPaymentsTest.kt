package com.smartpos

import com.smartpos.core.Cause
import com.smartpos.core.PaymentCodeProblem
import com.smartpos.core.PresentedRecord
import com.smartpos.core.QrModeRecord
import com.smartpos.core.QrOrderStateRecord
import com.smartpos.core.QrOutcomeRecord
import com.smartpos.core.SmartPosException
import com.smartpos.core.TestQrBehaviour
import com.smartpos.core.TestQrGateway
import com.smartpos.core.demoQrConfig
import com.smartpos.core.startTestQrGateway
import java.nio.file.Path
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir

/** A customer payment code of the kind the simulated gateway accepts (16–24 digits). */
const val PAY_CODE = "134567890123456789"

/**
 * QR payments through the bindings against the tools crate's simulated QR gateway, in real time:
 * polling every 50 ms with a 1 s deadline keeps each flow well under two seconds.
 */
class QrPaymentsTest {
    @TempDir lateinit var dir: Path
    private lateinit var gateway: TestQrGateway
    private lateinit var qr: QrPayments

    @BeforeEach
    fun setUp() {
        gateway = startTestQrGateway()
        val config = demoQrConfig(gateway.url(), dir.resolve("qr.db").toString(), 50UL, 1_000UL)
        qr = runBlocking { QrPayments.open(config) }
    }

    @AfterEach
    fun tearDown() {
        qr.close()
        gateway.stop()
    }

    @Test
    fun `paid at once, journaled with the code masked`() = runBlocking<Unit> {
        val paid = qr.pay("qr-now", 1_234UL, PAY_CODE) as QrOutcomeRecord.Paid
        assertEquals("qr-now", paid.outTradeNo)
        assertEquals(1_234UL, paid.amountFen)
        assertTrue(!paid.transactionId.isNullOrBlank())
        assertEquals(1_234UL, gateway.chargedFen("qr-now"))
        val order = qr.orders().single()
        assertEquals(QrOrderStateRecord.PAID, order.state)
        assertEquals(QrModeRecord.CUSTOMER_PRESENTED, order.mode)
        assertEquals("134567********6789", order.codeMasked)
        assertFalse(order.toString().contains(PAY_CODE))
        // The same attempt id answers from the journal: no second charge.
        assertEquals(paid, qr.pay("qr-now", 1_234UL, PAY_CODE))
        assertEquals(1_234UL, gateway.chargedFen("qr-now"))
    }

    @Test
    fun `user paying, then paid while polling`() = runBlocking<Unit> {
        gateway.script("qr-later", TestQrBehaviour.PayAfterMs(200UL))
        val paid = qr.pay("qr-later", 500UL, PAY_CODE)
        assertTrue(paid is QrOutcomeRecord.Paid, "$paid")
        assertEquals(500UL, gateway.chargedFen("qr-later"))
    }

    @Test
    fun `never paid is closed at the deadline`() = runBlocking<Unit> {
        gateway.script("qr-never", TestQrBehaviour.NeverPay)
        val started = System.nanoTime()
        val closed = qr.pay("qr-never", 500UL, PAY_CODE) as QrOutcomeRecord.Closed
        val ms = (System.nanoTime() - started) / 1_000_000
        assertTrue(ms in 900..5_000, "closed after $ms ms, deadline 1 000 ms")
        assertEquals("OP_QR_NOT_PAID", closed.termination.code)
        assertTrue(closed.termination.remedies.isNotEmpty())
        assertEquals(0UL, gateway.chargedFen("qr-never"))
        assertEquals(QrOrderStateRecord.CLOSED, qr.orders().single().state)
    }

    @Test
    fun `an invalid code and bad arguments are typed errors, a wallet decline is explained`() = runBlocking<Unit> {
        // Prefix 99 belongs to no scheme (core qr::paycode: WeChat Pay 10-15, Alipay 25-30, UnionPay 62, e-CNY 01).
        val notACode = assertThrows<SmartPosException.NotAPaymentCode> { qr.pay("qr-nocode", 500UL, "994567890123456789") }
        assertEquals(PaymentCodeProblem.UNKNOWN_PREFIX, notACode.problem)
        assertFalse(notACode.detail.contains("994567890123456789"), "the code never appears in an error")
        assertFalse(gateway.knows("qr-nocode"))

        gateway.script("qr-bad", TestQrBehaviour.DeclineNotEnough)
        val declined = qr.pay("qr-bad", 500UL, PAY_CODE) as QrOutcomeRecord.Declined
        assertEquals("ACC_QR_INSUFFICIENT", declined.termination.code)
        assertEquals(Cause.ACCOUNT, declined.termination.cause)
        assertTrue(declined.termination.remedies.isNotEmpty())
        assertEquals(0UL, gateway.chargedFen("qr-bad"))

        val e = assertThrows<SmartPosException.InvalidInput> { qr.pay("has space", 500UL, PAY_CODE) }
        assertEquals("attempt id", e.what)
        val zero = assertThrows<SmartPosException.InvalidInput> { qr.pay("qr-zero", 0UL, PAY_CODE) }
        assertEquals("amount", zero.what)
        assertFalse(gateway.knows("qr-zero"))
        assertEquals(listOf("qr-bad"), qr.orders().map { it.outTradeNo }, "nothing journaled for refused input")
        val unusable = assertThrows<SmartPosException.OrderNotUsable> { qr.refund("qr-bad", 100UL) }
        assertEquals(QrOrderStateRecord.DECLINED, unusable.state)
        assertThrows<SmartPosException.UnknownOrder> { qr.cancel("nobody") }
    }

    @Test
    fun `cancelling the paying coroutine closes the order before it returns`() = runBlocking<Unit> {
        gateway.script("qr-job", TestQrBehaviour.NeverPay)
        val paying = async(Dispatchers.Default) { qr.pay("qr-job", 700UL, PAY_CODE) }
        withTimeout(5_000) { while (!gateway.knows("qr-job")) delay(10) }
        paying.cancel()
        assertThrows<CancellationException> { runBlocking { paying.await() } }
        val order = qr.orders().single()
        assertEquals(QrOrderStateRecord.CLOSED, order.state)
        assertEquals("OP_CANCELLED", order.terminationCode)
        assertEquals(0UL, gateway.chargedFen("qr-job"))
    }

    @Test
    fun `an operator cancel from another coroutine ends the payment as cancelled`() = runBlocking<Unit> {
        gateway.script("qr-op", TestQrBehaviour.NeverPay)
        val paying = async(Dispatchers.Default) { qr.pay("qr-op", 700UL, PAY_CODE) }
        withTimeout(5_000) { while (!gateway.knows("qr-op")) delay(10) }
        val cancelled = qr.cancel("qr-op")
        assertTrue(cancelled is QrOutcomeRecord.Cancelled, "$cancelled")
        val outcome = paying.await()
        assertTrue(outcome is QrOutcomeRecord.Cancelled, "$outcome")
        assertEquals(Cause.OPERATOR, (outcome as QrOutcomeRecord.Cancelled).termination.cause)
    }

    @Test
    fun `a payment landing on the cancel is given back`() = runBlocking<Unit> {
        gateway.script("qr-race", TestQrBehaviour.PayOnCancel)
        val outcome = qr.pay("qr-race", 900UL, PAY_CODE)
        assertTrue(outcome is QrOutcomeRecord.Refunded, "$outcome")
        assertEquals(900UL, gateway.refundedFen("qr-race"))
    }

    @Test
    fun `merchant-presented order shown, polled, paid and refunded`() = runBlocking<Unit> {
        gateway.script("qr-mpm", TestQrBehaviour.PayAfterMs(150UL))
        val ready = qr.present("qr-mpm", 2_000UL, "coffee") as PresentedRecord.Ready
        assertTrue(ready.codeUrl.isNotBlank())
        assertTrue(qr.poll("qr-mpm") is QrOutcomeRecord.Paid)
        val refunded = qr.refund("qr-mpm", 500UL) as QrOutcomeRecord.Refunded
        assertEquals(500UL, refunded.amountFen)
        assertEquals(500UL, gateway.refundedFen("qr-mpm"))
        assertEquals(QrModeRecord.MERCHANT_PRESENTED, qr.orders().single().mode)
    }

    @Test
    fun `an order the gateway could not close is unresolved, and recover closes it once the gateway is back`() = runBlocking<Unit> {
        gateway.script("qr-down", TestQrBehaviour.NeverPay)
        val paying = async(Dispatchers.Default) { qr.pay("qr-down", 800UL, PAY_CODE) }
        withTimeout(5_000) { while (!gateway.knows("qr-down")) delay(10) }
        gateway.setDown(true)
        val unresolved = paying.await() as QrOutcomeRecord.Unresolved
        assertEquals("NET_QR_UNRESOLVED", unresolved.termination.code)
        assertEquals(Cause.NETWORK, unresolved.termination.cause)
        assertTrue(qr.orders().single().state in setOf(QrOrderStateRecord.POLLING, QrOrderStateRecord.CANCELLING))
        gateway.setDown(false)
        val recovered = qr.recover().single()
        assertTrue(recovered is QrOutcomeRecord.Closed || recovered is QrOutcomeRecord.Cancelled, "$recovered")
        assertEquals(QrOrderStateRecord.CLOSED, qr.orders().single().state)
        assertEquals(0UL, gateway.chargedFen("qr-down"))
        assertTrue(qr.recover().isEmpty(), "nothing left open")
    }

    @Test
    fun `recover has nothing to do on a clean journal, and a closed session is typed`() = runBlocking<Unit> {
        assertTrue(qr.recover().isEmpty())
        qr.close()
        assertThrows<SmartPosException.Closed> { qr.orders() }
    }
}
