package com.smartpos

import com.smartpos.core.Audience
import com.smartpos.core.Cause
import com.smartpos.core.Confirmation
import com.smartpos.core.GeoFixRecord
import com.smartpos.core.Location
import com.smartpos.core.NetworkLink
import com.smartpos.core.NetworkMonitor
import com.smartpos.core.NetworkStatusRecord
import com.smartpos.core.Outcome
import com.smartpos.core.PortException
import com.smartpos.core.Prompt
import com.smartpos.core.PromptTextRecord
import com.smartpos.core.RemedyCode
import com.smartpos.core.ReprintOutcome
import com.smartpos.core.Scanner
import com.smartpos.core.SettlementOutcome
import com.smartpos.core.SignOnOutcome
import com.smartpos.core.SmartPosException
import com.smartpos.core.TerminalConfigRecord
import com.smartpos.core.TerminalPorts
import com.smartpos.core.TestAcquirer
import com.smartpos.core.TestAcquirerFault
import com.smartpos.core.TransactionKind
import com.smartpos.core.TransactionState
import com.smartpos.core.demoTerminalConfig
import com.smartpos.core.startTestAcquirer
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.atomic.AtomicInteger
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir

/** Counts every call the core makes into the optional ports. */
class CountingPorts {
    val calls = AtomicInteger()
    val scanner = object : Scanner {
        override fun scan(timeoutMs: ULong): String? = null.also { calls.incrementAndGet() }
    }
    val network = object : NetworkMonitor {
        override fun status() = NetworkStatusRecord(NetworkLink.Wifi, -60, true).also { calls.incrementAndGet() }
    }
    val location = object : Location {
        override fun fix() = GeoFixRecord(31.23, 121.47, 10f, null).also { calls.incrementAndGet() }
    }
    val prompt = object : Prompt {
        override fun show(audience: Audience, text: PromptTextRecord) {
            calls.incrementAndGet()
        }

        override fun confirm(audience: Audience, question: PromptTextRecord, timeoutMs: ULong): Confirmation =
            Confirmation.YES.also { calls.incrementAndGet() }
    }

    fun all() = TerminalPorts(scanner = scanner, network = network, location = location, prompt = prompt)
}

/** History, pending work, reprint, the pre-auth family and storage faults through the bindings. */
class JournalFlowTest {
    @TempDir lateinit var dir: Path
    private lateinit var acquirer: TestAcquirer
    private lateinit var config: TerminalConfigRecord
    private val reader = SwipeReader()
    private val ped = demoPed()
    private val printer = RecordingPrinter()
    private val optional = CountingPorts()
    private lateinit var pos: PaymentTerminal

    @BeforeEach
    fun setUp() {
        acquirer = startTestAcquirer()
        config = demoTerminalConfig(acquirer.address(), dir.resolve("journal.db").toString())
        pos = runBlocking { PaymentTerminal.open(config, reader, ped, printer, optional.all()) }
        assertTrue(runBlocking { pos.signOn() } is SignOnOutcome.SignedOn)
    }

    @AfterEach
    fun tearDown() {
        pos.close()
        acquirer.stop()
    }

    private fun approved(o: Outcome) = (o as? Outcome.Approved)?.approval ?: error("not approved: $o")

    private fun terminated(o: Outcome) = (o as? Outcome.Terminated)?.termination ?: error("not terminated: $o")

    @Test
    fun `a pre-auth is voided by its STAN and the history shows both`() = runBlocking<Unit> {
        val hold = approved(pos.preAuth("hold-1", 50_000UL))
        assertEquals(TransactionKind.PRE_AUTH, hold.kind)
        val void = approved(pos.preAuthVoid("hold-1-void", hold.stan))
        assertEquals(TransactionKind.PRE_AUTH_VOID, void.kind)
        assertEquals(50_000UL, void.amountFen, "a pre-auth void releases the whole hold")
        val history = pos.history().associateBy { it.attemptId }
        assertEquals(TransactionState.VOIDED, history.getValue("hold-1").state)
        assertEquals(TransactionState.APPROVED, history.getValue("hold-1-void").state)
        assertEquals(TransactionKind.PRE_AUTH_VOID, history.getValue("hold-1-void").kind)
        // A second void of the same hold is refused: there is nothing left to release.
        terminated(pos.preAuthVoid("hold-1-void-again", hold.stan))
        assertEquals(0L, acquirer.netFen(), "pre-auths and their voids move no settled money")
    }

    @Test
    fun `a completion is voided and the sale money goes back`() = runBlocking<Unit> {
        val hold = approved(pos.preAuth("hold-2", 9_000UL))
        val done = approved(pos.completion("hold-2-done", 8_000UL, hold.stan))
        assertEquals(8_000L, acquirer.netFen())
        approved(pos.completionVoid("hold-2-done-void", done.stan))
        assertEquals(0L, acquirer.netFen())
        assertEquals(TransactionState.VOIDED, pos.history().first { it.attemptId == "hold-2-done" }.state)
    }

    @Test
    fun `history shows the masked PAN only`() = runBlocking<Unit> {
        approved(pos.sale("h-1", 1_500UL))
        reader.track2 = LOW_TRACK2
        terminated(pos.sale("h-2", 9_999_00UL))
        val history = pos.history()
        val sale = history.first { it.attemptId == "h-1" }
        assertEquals("622202******0015", sale.panMasked)
        assertEquals(TransactionState.APPROVED, sale.state)
        assertEquals(1_500UL, sale.amountFen)
        val decline = history.first { it.attemptId == "h-2" }
        assertEquals(TransactionState.DECLINED, decline.state)
        assertEquals("51", decline.responseCode)
        assertEquals(history.sortedByDescending { it.transactionId }, history, "newest first")
        for (full in listOf("6222020000000015", "6222020000000031")) {
            assertFalse(history.toString().contains(full), "full PAN $full in the history")
        }
    }

    @Test
    fun `a receipt the printer lost is pending work until a reprint prints it`() = runBlocking<Unit> {
        printer.failWith = PortException.PrinterOutOfPaper()
        val a = approved(pos.sale("paper-2", 700UL))
        assertFalse(a.receiptPrinted)
        assertEquals(listOf("paper-2"), pos.pendingWork().unprintedReceipts.map { it.attemptId })

        // Still out of paper: the reprint is explained like any device fault and stays pending.
        val stillOut = pos.reprint("paper-2") as ReprintOutcome.PrinterFailed
        assertEquals("DEV_PRINTER_PAPER_OUT", stillOut.termination.code)
        assertEquals(Cause.DEVICE, stillOut.termination.cause)
        assertEquals(1, pos.pendingWork().unprintedReceipts.size)

        printer.failWith = null
        val printed = pos.reprint("paper-2") as ReprintOutcome.Printed
        assertEquals("622202******0015", printed.receipt.cardMasked)
        assertTrue(printed.receipt.title.contains("DUPLICATE"), printed.receipt.title)
        assertEquals(listOf(printed.receipt), printer.printed.toList())
        assertTrue(pos.pendingWork().unprintedReceipts.isEmpty())
        assertEquals(700L, acquirer.netFen(), "a reprint never goes online")
    }

    @Test
    fun `reprint of an unknown or declined attempt is a typed exception`() = runBlocking<Unit> {
        val unknown = assertThrows<SmartPosException.UnknownAttempt> { runBlocking { pos.reprint("never-ran") } }
        assertEquals("never-ran", unknown.attemptId)
        reader.track2 = LOW_TRACK2
        terminated(pos.sale("low-2", 9_999_00UL))
        val declined = assertThrows<SmartPosException.NoReceipt> { runBlocking { pos.reprint("low-2") } }
        assertEquals("declined", declined.state)
    }

    @Test
    fun `an unreachable host leaves no pending work`() = runBlocking<Unit> {
        acquirer.stop()
        // Nothing listens any more: the sale never reaches a host, so nothing is owed.
        val t = terminated(pos.sale("offline-1", 300UL))
        assertEquals(Cause.NETWORK, t.cause)
        val work = pos.pendingWork()
        assertTrue(work.reversals.isEmpty() && work.advices.isEmpty() && work.unprintedReceipts.isEmpty(), "$work")
        assertEquals(TransactionState.NOT_SENT, pos.history().first { it.attemptId == "offline-1" }.state)
    }

    @Test
    fun `a corrupt journal is reported across a restart until the operator acknowledges it`() = runBlocking<Unit> {
        val path = dir.resolve("corrupt.db")
        Files.write(path, "this is not a database, just bad flash".toByteArray())
        val c = config.copy(journalPath = path.toString())
        PaymentTerminal.open(c, reader, ped, printer).use { t ->
            val fault = t.storageFault() ?: error("no storage fault reported")
            assertTrue(fault.movedTo.isNotEmpty())
            fault.movedTo.forEach { assertTrue(Files.exists(Path.of(it)), "$it kept") }
            // Not a database at all: what it owed cannot be known, and nothing was carried over.
            assertNotNull(fault.unreadable, "$fault")
            assertEquals(0U, fault.carried)
            val refused = terminated(t.sale("while-corrupt", 100UL))
            assertEquals("SW_STORAGE_CORRUPT", refused.code)
            assertEquals(0L, acquirer.netFen())
        }
        // The fault is journaled: a restart does not clear it.
        PaymentTerminal.open(c, reader, ped, printer).use { t ->
            assertNotNull(t.storageFault(), "the fault survives a restart")
            // Unreadable: a plain acknowledgement (the generated default, and the wrapper's) is refused.
            val refused = assertThrows<SmartPosException.InvalidInput> { t.terminal.acknowledgeStorageFault() }
            assertEquals("storage fault acknowledgement", refused.what)
            assertThrows<SmartPosException.InvalidInput> { runBlocking { t.acknowledgeStorageFault() } }
            assertNotNull(t.storageFault())

            t.acknowledgeStorageFault(acceptUnreadable = true)
            assertNull(t.storageFault())
            approved(t.sale("after-ack", 100UL))
            assertEquals(100L, acquirer.netFen())
        }
        PaymentTerminal.open(c, reader, ped, printer).use { t ->
            assertNull(t.storageFault(), "the acknowledgement survives a restart too")
        }
    }

    @Test
    fun `a reversal the host never confirms is parked in pending work until the operator releases it`() = runBlocking<Unit> {
        // The sale is never answered (nor booked); nor is any of its reversals: the acquirer
        // never acts on them. The terminal tries a reversal at once, then once per recovery pass,
        // and parks it after REVERSAL_ATTEMPTS (3, bindings/src/config.rs) failed attempts.
        acquirer.injectFault("0200", TestAcquirerFault.NoResponse(apply = false))
        repeat(3) { acquirer.injectFault("0400", TestAcquirerFault.NoResponse(apply = false)) }
        val lost = terminated(pos.sale("lost-1", 4_200UL))
        assertEquals(Cause.NETWORK, lost.cause)
        val stan = pos.history().first { it.attemptId == "lost-1" }.stan

        val owed = pos.pendingWork().reversals.single()
        assertEquals("lost-1", owed.attemptId)
        assertEquals(TransactionKind.SALE, owed.kind)
        assertEquals(4_200UL, owed.amountFen)
        assertEquals(stan, owed.stan)
        assertEquals("622202******0015", owed.panMasked)
        assertEquals("98", owed.reasonCode, "no response")
        assertEquals(1U, owed.attempts)
        assertEquals("pending", owed.state)
        assertNotNull(owed.lastError)
        assertNull(owed.parked, "one failed attempt is not parked")

        pos.recover()
        assertNull(pos.pendingWork().reversals.single().parked, "two failed attempts are not parked")
        pos.recover()
        val parked = pos.pendingWork().reversals.single()
        assertEquals(owed.transactionId, parked.transactionId)
        assertEquals(3U, parked.attempts)
        assertEquals("failed", parked.state)
        val why = parked.parked ?: error("not parked after 3 attempts: $parked")
        assertEquals("NET_REVERSAL_PARKED", why.code)
        assertEquals(Cause.NETWORK, why.cause)
        val voucher = stan.toString().padStart(6, '0')
        assertTrue(why.merchantZh.startsWith("冲正") && why.merchantZh.contains(voucher), why.merchantZh)
        assertTrue(why.merchantEn.startsWith("Reversal") && why.merchantEn.contains(voucher), why.merchantEn)
        assertEquals(RemedyCode.RELEASE_PARKED_REVERSAL, why.remedies.first().code)
        assertFalse(pendingWorkText().contains("6222020000000015"), "full PAN in pending work")

        // Parked, it no longer holds up payments, but it blocks settlement.
        approved(pos.sale("after-park", 100UL))
        val blocked = pos.settle() as SettlementOutcome.Terminated
        assertEquals("MNT_REVERSAL_BLOCKS_SETTLEMENT", blocked.termination.code)

        // Only a parked reversal can be released.
        val notParked = assertThrows<SmartPosException.InvalidInput> { runBlocking { pos.releaseParked(parked.transactionId + 1000) } }
        assertEquals("reversal to release", notParked.what)
        pos.releaseParked(parked.transactionId)
        assertTrue(pos.pendingWork().reversals.isEmpty(), "${pos.pendingWork()}")
        assertEquals(0UL, pos.pendingReversalsCount())
        assertThrows<SmartPosException.InvalidInput> { runBlocking { pos.releaseParked(parked.transactionId) } }
        assertTrue(pos.settle() is SettlementOutcome.Settled, "settlement runs once the operator released it")
        assertEquals(100L, acquirer.netFen(), "releasing sends nothing")
    }

    private suspend fun pendingWorkText() = pos.pendingWork().toString()

    @Test
    fun `extreme inputs at the payment entry points come back as outcomes or typed exceptions`() = runBlocking<Unit> {
        // Values at the edges of every parameter type: none may crash the JVM or leak an
        // untyped exception; each is a termination or a SmartPosException.
        val attempts = listOf("", "x".repeat(10_000), "nul\u0000byte", "引号\"'")
        val calls: List<suspend () -> Any> = attempts.map { id -> suspend { pos.sale(id, ULong.MAX_VALUE) } } +
            listOf(
                suspend { pos.sale("zero", 0UL) },
                suspend { pos.refund("r-max", ULong.MAX_VALUE, UInt.MAX_VALUE) },
                suspend { pos.void("v-max", UInt.MAX_VALUE) },
                suspend { pos.void("v-zero", 0U) },
                suspend { pos.completion("c-max", ULong.MAX_VALUE, UInt.MAX_VALUE) },
                suspend { pos.preAuthVoid("pv-max", UInt.MAX_VALUE) },
                suspend { pos.completionVoid("cv-max", UInt.MAX_VALUE) },
                suspend { pos.preAuth("pa-max", ULong.MAX_VALUE) },
                suspend { pos.reprint("") },
            )
        for ((i, call) in calls.withIndex()) {
            try {
                val result = call()
                assertTrue(result !is Outcome.Approved, "call $i was approved: $result")
            } catch (e: SmartPosException) {
                assertFalse(e is SmartPosException.Internal, "call $i panicked in the core: $e")
            }
        }
        assertEquals(0L, acquirer.netFen())
        approved(pos.sale("after-extremes", 100UL))
    }

    @Test
    fun `a PIN bypass with the demo card is approved, as the emulator test of the sample expects`() = runBlocking<Unit> {
        val bypass = demoPed(pin = null)
        val c = config.copy(journalPath = dir.resolve("bypass.db").toString())
        PaymentTerminal.open(c, reader, bypass, printer).use { t ->
            assertTrue(t.signOn() is SignOnOutcome.SignedOn)
            assertEquals("622202******0015", approved(t.sale("bypass-1", 100UL)).panMasked)
        }
    }

    @Test
    fun `the optional ports can be fitted and the terminal works with them`() = runBlocking<Unit> {
        approved(pos.sale("with-ports", 200UL))
        // The core of this version reads these ports only for diagnostics; whatever it calls must
        // come back through the callbacks without disturbing the payment.
        System.err.println("optional port calls during a sale: ${optional.calls.get()}")
        val bare = PaymentTerminal.open(config.copy(journalPath = dir.resolve("bare.db").toString()), reader, ped, printer)
        bare.close()
    }
}
