package com.smartpos

import com.smartpos.core.CardPresentationRecord
import com.smartpos.core.CardReader
import com.smartpos.core.Cause
import com.smartpos.core.CancelHandle
import com.smartpos.core.Outcome
import com.smartpos.core.Ped
import com.smartpos.core.PortException
import com.smartpos.core.Printer
import com.smartpos.core.ReceiptRecord
import com.smartpos.core.SignOnOutcome
import com.smartpos.core.SmartPosException
import com.smartpos.core.SoftwarePed
import com.smartpos.core.Terminal
import com.smartpos.core.TerminalConfigRecord
import com.smartpos.core.TestAcquirer
import com.smartpos.core.TestAcquirerFault
import com.smartpos.core.TransactionKind
import com.smartpos.core.TransactionState
import com.smartpos.core.demoSoftwarePed
import com.smartpos.core.demoTerminalConfig
import com.smartpos.core.startTestAcquirer
import java.nio.file.Path
import java.util.concurrent.CountDownLatch
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir

/** Demo cards of the simulator's ledger (tools/src/sim/ledger/mod.rs, DEMO_CARDS; PIN 123456). */
const val NORMAL_TRACK2 = "6222020000000015=30121010000000000"
const val LOW_TRACK2 = "6222020000000031=30121010000000000"
const val DEMO_PIN = "123456"

/** A swipe reader. With a [gate] set, `detect` waits for it, as a reader waits for a card. */
class SwipeReader(var track2: String = NORMAL_TRACK2) : CardReader {
    val detecting = CountDownLatch(1)
    @Volatile var gate: CountDownLatch? = null

    override fun detect(timeoutMs: ULong): CardPresentationRecord {
        detecting.countDown()
        gate?.await(10, TimeUnit.SECONDS)
        return CardPresentationRecord.Magstripe(track2)
    }

    override fun transceive(apdu: ByteArray): ByteArray = throw PortException.Reader("no chip in a swipe test")

    override fun removeCard() {}
}

/**
 * The software stand-in PED with the demo TMK (the simulator's), where a vendor adapter would
 * go; [pin] is what the cardholder "types" on it, null to bypass.
 */
fun demoPed(pin: String? = DEMO_PIN): Ped = demoSoftwarePed(pin).asPed()

class RecordingPrinter : Printer {
    val printed = java.util.Collections.synchronizedList(mutableListOf<ReceiptRecord>())
    @Volatile var failWith: PortException? = null

    override fun print(receipt: ReceiptRecord) {
        failWith?.let { throw it }
        printed += receipt
    }

    override fun status() {
        failWith?.let { throw it }
    }
}

/** Whole flows through the bindings against the tools crate's acquirer simulator. */
class TerminalFlowTest {
    @TempDir lateinit var dir: Path
    private lateinit var acquirer: TestAcquirer
    private lateinit var config: TerminalConfigRecord
    private val reader = SwipeReader()
    private val ped = demoPed()
    private val printer = RecordingPrinter()
    private lateinit var pos: PaymentTerminal

    @BeforeEach
    fun setUp() {
        acquirer = startTestAcquirer()
        config = demoTerminalConfig(acquirer.address(), dir.resolve("journal.db").toString())
        pos = runBlocking { PaymentTerminal.open(config, reader, ped, printer) }
        val signOn = runBlocking { pos.signOn() }
        assertTrue(signOn is SignOnOutcome.SignedOn, "sign-on: $signOn")
    }

    @AfterEach
    fun tearDown() {
        pos.close()
        acquirer.stop()
    }

    private fun approved(o: Outcome) = (o as? Outcome.Approved)?.approval ?: error("not approved: $o")

    private fun terminated(o: Outcome) = (o as? Outcome.Terminated)?.termination ?: error("not terminated: $o")

    @Test
    fun `card sale with PIN is approved and moves the ledger`() = runBlocking<Unit> {
        assertEquals(0L, acquirer.netFen())
        val a = approved(pos.sale("sale-1", 12_345UL))
        assertEquals(TransactionKind.SALE, a.kind)
        assertEquals("sale-1", a.attemptId)
        assertEquals(12_345UL, a.amountFen)
        assertEquals("622202******0015", a.panMasked)
        assertTrue(a.receiptPrinted)
        assertEquals(12_345L, acquirer.netFen())
        assertEquals(1, printer.printed.size)
        assertEquals("622202******0015", printer.printed[0].cardMasked)
        // The same attempt id replays the recorded outcome instead of charging again.
        val replay = approved(pos.sale("sale-1", 12_345UL))
        assertEquals(a.stan, replay.stan)
        assertEquals(a.rrn, replay.rrn)
        assertEquals(12_345L, acquirer.netFen())
        // A warm sale end to end (PIN callback, two fsyncs, loopback host), for the report only.
        val started = System.nanoTime()
        approved(pos.sale("sale-2", 100UL))
        System.err.println("one warm sale through the bindings: ${(System.nanoTime() - started) / 1_000} µs")
    }

    @Test
    fun `a decline explains itself`() = runBlocking<Unit> {
        reader.track2 = LOW_TRACK2
        val t = terminated(pos.sale("low-1", 5_000UL))
        assertEquals("HOST_DECLINED_51", t.code)
        assertEquals("51", t.hostCode)
        assertEquals(Cause.ACCOUNT, t.cause)
        for (text in listOf(t.merchantZh, t.merchantEn, t.cardholderZh, t.cardholderEn)) {
            assertTrue(text.isNotBlank(), "empty text in $t")
        }
        assertFalse(t.cardholderEn.contains("6222020000000031"))
        assertEquals(0L, acquirer.netFen())
    }

    @Test
    fun `a dropped response is reversed and the ledger returns to zero`() = runBlocking<Unit> {
        acquirer.injectNoResponse("0200")
        val t = terminated(pos.sale("drop-1", 4_200UL))
        assertEquals(Cause.NETWORK, t.cause)
        assertEquals(0L, acquirer.netFen(), "charged, then reversed")
        assertEquals(0UL, pos.pendingReversalsCount())
    }

    @Test
    fun `an answer whose MAC does not verify is no approval, and the sale is reversed`() = runBlocking<Unit> {
        // The acquirer books the sale and answers "00" under the wrong key: only a MAC-verified
        // answer changes what is owed, so the terminal treats it as unknown and reverses it.
        acquirer.injectFault("0200", TestAcquirerFault.WrongMac)
        val t = terminated(pos.sale("bad-mac-1", 2_500UL))
        assertEquals(Cause.NETWORK, t.cause)
        assertTrue(printer.printed.isEmpty(), "no receipt for an unauthenticated answer")
        assertEquals(0L, acquirer.netFen(), "booked by the acquirer, then reversed")
        assertEquals(TransactionState.REVERSED, pos.history().first { it.attemptId == "bad-mac-1" }.state)
        assertTrue(pos.pendingWork().reversals.isEmpty())
    }

    @Test
    fun `a printer fault after approval keeps the payment`() = runBlocking<Unit> {
        printer.failWith = PortException.PrinterOutOfPaper()
        val a = approved(pos.sale("paper-1", 800UL))
        assertFalse(a.receiptPrinted)
        assertEquals(800L, acquirer.netFen())
        assertTrue(printer.printed.isEmpty())
    }

    @Test
    fun `cancel from another thread before the card is read ends OP_CANCELLED`() {
        val gate = CountDownLatch(1)
        reader.gate = gate
        val handle = CancelHandle()
        val worker = Executors.newSingleThreadExecutor()
        try {
            val outcome = worker.submit<Outcome> { pos.terminal.sale("cancel-1", 1_000UL, handle) }
            assertTrue(reader.detecting.await(10, TimeUnit.SECONDS), "reader never asked for a card")
            handle.cancel()
            gate.countDown()
            val t = terminated(outcome.get(10, TimeUnit.SECONDS))
            assertEquals("OP_CANCELLED", t.code)
            assertEquals(Cause.OPERATOR, t.cause)
            assertEquals(0L, acquirer.netFen())
        } finally {
            worker.shutdownNow()
            handle.close()
        }
    }

    @Test
    fun `cancelling the coroutine cancels the payment`() = runBlocking<Unit> {
        val gate = CountDownLatch(1)
        reader.gate = gate
        val job = launch(Dispatchers.Default) { pos.sale("cancel-2", 1_000UL) }
        withContext(Dispatchers.IO) { assertTrue(reader.detecting.await(10, TimeUnit.SECONDS)) }
        job.cancel()
        gate.countDown()
        job.join()
        assertTrue(job.isCancelled)
        assertEquals(0L, acquirer.netFen(), "a cancelled sale must not charge")
        // The terminal is free again: the next sale goes through.
        reader.gate = null
        approved(pos.sale("after-cancel", 1_000UL))
        assertEquals(1_000L, acquirer.netFen())
    }

    @Test
    fun `bad input at every entry point is a typed exception and the JVM survives`() {
        fun openWith(c: TerminalConfigRecord) = Terminal.open(c, reader, ped, printer)
        val other = dir.resolve("other.db").toString()
        val shortId = assertThrows<SmartPosException.Config> { openWith(config.copy(terminalId = "123", journalPath = other)) }
        assertTrue(shortId.detail.contains("terminal id"), shortId.detail)
        val badEndpoint = assertThrows<SmartPosException.Config> {
            openWith(config.copy(endpoints = listOf("no port here"), journalPath = other))
        }
        assertTrue(badEndpoint.detail.contains("endpoints[0]"), badEndpoint.detail)
        val noEndpoint = assertThrows<SmartPosException.Config> { openWith(config.copy(endpoints = emptyList(), journalPath = other)) }
        assertTrue(noEndpoint.detail.contains("endpoints"), noEndpoint.detail)
        val shortKey = assertThrows<SmartPosException.Config> {
            openWith(config.copy(storageKey = ByteArray(16), journalPath = other))
        }
        assertTrue(shortKey.detail.contains("storage_key"), shortKey.detail)
        val badTmk = assertThrows<SmartPosException.Config> { SoftwarePed.withTmk("XYZ") }
        assertTrue(badTmk.detail.contains("tmk_hex"), badTmk.detail)
        assertThrows<SmartPosException.Journal> {
            openWith(config.copy(journalPath = dir.resolve("missing/dir/j.db").toString()))
        }
        // A wrong PIN block length from the PED is a device fault, not a crash.
        val shortBlockPad = object : Ped by ped {
            override fun onlinePinBlock(panDigits: String, amountFen: ULong): ByteArray? = ByteArray(3)
        }
        val other2 = config.copy(journalPath = dir.resolve("third.db").toString())
        Terminal.open(other2, reader, shortBlockPad, printer).use { t ->
            val end = terminated(t.sale("short-pin", 100UL, CancelHandle()))
            assertEquals("DEV_PINPAD", end.code)
            t.shutDown()
        }
        // The JVM and the library are still fine: a sale goes through (after signing on again,
        // because the other terminals opened above signed on with the same terminal id).
        assertTrue(runBlocking { pos.signOn() } is SignOnOutcome.SignedOn)
        approved(runBlocking { pos.sale("after-bad-input", 100UL) })
        pos.close()
        assertThrows<SmartPosException.Closed> { runBlocking { pos.sale("after-close", 100UL) } }
    }

    @Test
    fun `an unexpected exception in a port is a device fault with its text withheld`() {
        val throwing = object : CardReader {
            override fun detect(timeoutMs: ULong): CardPresentationRecord =
                throw IllegalStateException("card 6222020000000015 jammed")
            override fun transceive(apdu: ByteArray): ByteArray = ByteArray(0)
            override fun removeCard() {}
        }
        val c = config.copy(journalPath = dir.resolve("throwing.db").toString())
        Terminal.open(c, throwing, ped, printer).use { t ->
            val end = terminated(t.sale("throw-1", 100UL, CancelHandle()))
            assertEquals("DEV_READER", end.code)
            assertFalse(end.merchantEn.contains("6222020000000015"), end.merchantEn)
            t.shutDown()
        }
        assertNotNull(acquirer.address())
    }
}
