package com.smartpos

import com.smartpos.core.Audience
import com.smartpos.core.BridgedPort
import com.smartpos.core.CancelHandle
import com.smartpos.core.CardPresentationRecord
import com.smartpos.core.CardReader
import com.smartpos.core.Confirmation
import com.smartpos.core.CellularGeneration
import com.smartpos.core.GeoFixRecord
import com.smartpos.core.IccPinKeyRecord
import com.smartpos.core.Location
import com.smartpos.core.NetworkLink
import com.smartpos.core.NetworkMonitor
import com.smartpos.core.NetworkStatusRecord
import com.smartpos.core.OfflinePinOutcome
import com.smartpos.core.Outcome
import com.smartpos.core.Ped
import com.smartpos.core.PedException
import com.smartpos.core.PedKey
import com.smartpos.core.PedMacAlgorithm
import com.smartpos.core.PortException
import com.smartpos.core.Printer
import com.smartpos.core.Prompt
import com.smartpos.core.PromptTextRecord
import com.smartpos.core.ReceiptRecord
import com.smartpos.core.Scanner
import com.smartpos.core.SignOnOutcome
import com.smartpos.core.SmartPosException
import com.smartpos.core.TerminalPorts
import com.smartpos.core.TestAcquirer
import com.smartpos.core.WorkingKeysRecord
import com.smartpos.core.Terminal
import com.smartpos.core.demoTerminalConfig
import com.smartpos.core.jniBridgedPort
import com.smartpos.core.startTestAcquirer
import java.nio.file.Path
import java.util.Collections
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir

/** Whether the current call came through JNA's callback machinery (a UniFFI callback). */
private fun calledThroughJna(): Boolean = Thread.currentThread().stackTrace.any { it.className.startsWith("com.sun.jna.") }

/** Records each call with how it arrived; [fail] is thrown by every method when set. */
private class ProbePorts(var track2: String = NORMAL_TRACK2) : CardReader, Printer, Prompt {
    val viaJna = Collections.synchronizedList(mutableListOf<String>())
    val viaJni = Collections.synchronizedList(mutableListOf<String>())
    val printed = Collections.synchronizedList(mutableListOf<ReceiptRecord>())
    val shown = Collections.synchronizedList(mutableListOf<Pair<Audience, PromptTextRecord>>())
    var apdus = mutableListOf<ByteArray>()
    var removed = 0
    var lastTimeout: ULong? = null
    @Volatile var fail: Exception? = null

    private fun arrived(name: String) {
        (if (calledThroughJna()) viaJna else viaJni) += name
        fail?.let { throw it }
    }

    override fun detect(timeoutMs: ULong): CardPresentationRecord {
        arrived("detect")
        lastTimeout = timeoutMs
        return CardPresentationRecord.Magstripe(track2)
    }

    override fun transceive(apdu: ByteArray): ByteArray {
        arrived("transceive")
        apdus.add(apdu)
        return apdu.reversedArray() + byteArrayOf(0x90.toByte(), 0x00)
    }

    override fun removeCard() {
        arrived("removeCard")
        removed++
    }

    override fun print(receipt: ReceiptRecord) {
        arrived("print")
        printed += receipt
    }

    override fun status() = arrived("status")

    override fun show(audience: Audience, text: PromptTextRecord) {
        arrived("show")
        shown += audience to text
    }

    override fun confirm(audience: Audience, question: PromptTextRecord, timeoutMs: ULong): Confirmation {
        arrived("confirm")
        lastTimeout = timeoutMs
        shown += audience to question
        return Confirmation.TIMED_OUT
    }
}

private const val PAN = "6222020000000015"

/** A PED adapter in Kotlin over the software PED, recording how each call arrived. */
private class RecordingPed(private val inner: Ped) : Ped {
    val viaJna = Collections.synchronizedList(mutableListOf<String>())
    val viaJni = Collections.synchronizedList(mutableListOf<String>())
    @Volatile var failPin: PedException? = null

    private fun <T> arrived(name: String, body: () -> T): T {
        (if (calledThroughJna()) viaJna else viaJni) += name
        return body()
    }

    override fun loadWorkingKeys(keys: WorkingKeysRecord) = arrived("loadWorkingKeys") { inner.loadWorkingKeys(keys) }
    override fun hasWorkingKeys() = arrived("hasWorkingKeys") { inner.hasWorkingKeys() }
    override fun clearWorkingKeys() = arrived("clearWorkingKeys") { inner.clearWorkingKeys() }
    override fun calculateMac(algorithm: PedMacAlgorithm, data: ByteArray) =
        arrived("calculateMac") { inner.calculateMac(algorithm, data) }
    override fun onlinePinBlock(panDigits: String, amountFen: ULong) = arrived("onlinePinBlock") {
        failPin?.let { throw it }
        inner.onlinePinBlock(panDigits, amountFen)
    }
    override fun encryptDataBlock(block: ByteArray) = arrived("encryptDataBlock") { inner.encryptDataBlock(block) }
    override fun keyCheckValue(key: PedKey) = arrived("keyCheckValue") { inner.keyCheckValue(key) }
    override fun verifyPlaintextPin(triesLeft: UByte?, amountFen: ULong, timeoutMs: ULong): OfflinePinOutcome =
        arrived("verifyPlaintextPin") { inner.verifyPlaintextPin(triesLeft, amountFen, timeoutMs) }
    override fun verifyEncipheredPin(key: IccPinKeyRecord, triesLeft: UByte?, amountFen: ULong, timeoutMs: ULong): OfflinePinOutcome =
        arrived("verifyEncipheredPin") { inner.verifyEncipheredPin(key, triesLeft, amountFen, timeoutMs) }
}

/** The ports called by plain JNI (`JniPorts.kt`, `bindings/src/jni_ports.rs`), through the real library. */
class JniPortsTest {
    @TempDir lateinit var dir: Path
    private val acquirer: TestAcquirer = startTestAcquirer()

    @AfterEach
    fun tearDown() {
        acquirer.stop()
    }

    @Test
    fun `every call reaches the Kotlin port by JNI with its arguments and answer intact`() {
        val probe = ProbePorts()
        val reader = (probe as CardReader).overJni()
        val printer = (probe as Printer).overJni()
        val prompt = (probe as Prompt).overJni()

        assertEquals(CardPresentationRecord.Magstripe(NORMAL_TRACK2), reader.detect(30_000UL))
        assertEquals(30_000UL, probe.lastTimeout)
        val select = byteArrayOf(0x00, 0xA4.toByte(), 0x04, 0x00, 0x07) + ByteArray(7) { (0xA0 + it).toByte() }
        assertArrayEquals(select.reversedArray() + byteArrayOf(0x90.toByte(), 0x00), reader.transceive(select))
        assertArrayEquals(select, probe.apdus.single())
        reader.removeCard()
        assertEquals(1, probe.removed)
        printer.status()
        val text = PromptTextRecord("请刷卡或插卡", "Swipe or insert the card")
        prompt.show(Audience.CARDHOLDER, text)
        assertEquals(listOf(Audience.CARDHOLDER to text), probe.shown)
        assertEquals(Confirmation.TIMED_OUT, prompt.confirm(Audience.MERCHANT, text, 12_345UL))
        assertEquals(12_345UL, probe.lastTimeout)
        assertEquals(Audience.MERCHANT to text, probe.shown.last())

        assertEquals(listOf("detect", "transceive", "removeCard", "status", "show", "confirm"), probe.viaJni)
        assertEquals(emptyList<String>(), probe.viaJna)
    }

    @Test
    fun `a port exception keeps its meaning, and any other is the generic failure without its text`() {
        val probe = ProbePorts()
        val reader = (probe as CardReader).overJni()
        val printer = (probe as Printer).overJni()
        val faults = listOf(
            PortException.PrinterOutOfPaper(), PortException.PrinterOverheated(), PortException.PrinterJammed(),
            PortException.Printer("head up"), PortException.Reader("contact fault"), PortException.CardRemovedTooEarly(),
            PortException.NoCardPresented(), PortException.PinPad("pad"), PortException.PinEntryCancelled(),
            PortException.PinEntryTimeout(), PortException.Scanner("lens"), PortException.Display("screen"),
            PortException.Unexpected(),
        )
        for (fault in faults) {
            probe.fail = fault
            for (thrown in listOf(assertThrows<PortException> { reader.detect(1UL) }, assertThrows<PortException> { printer.status() })) {
                assertEquals(fault::class, thrown::class)
                assertEquals(fault.message, thrown.message)
            }
        }
        // An exception, and an Error the bridge does not catch (left pending in the JVM, which
        // the core must clear or every later JNI call fails): both the generic failure.
        for (thrown in listOf(IllegalStateException("track 6222020000000015=3012"), AssertionError("6222020000000015"))) {
            probe.fail = null
            val failing = object : CardReader by probe {
                override fun transceive(apdu: ByteArray): ByteArray = throw thrown
            }.overJni()
            val hidden = assertThrows<PortException> { failing.transceive(byteArrayOf(0x00, 0xB2.toByte())) }
            assertTrue(hidden is PortException.Unexpected, "$hidden")
            assertFalse(hidden.toString().contains("6222020000000015"), "$hidden")
            // The next call goes through.
            assertEquals(CardPresentationRecord.Magstripe(NORMAL_TRACK2), failing.detect(1UL))
        }
    }

    @Test
    fun `the ports a PaymentTerminal opens with are called by JNI, those of the generated binding through JNA`() = runBlocking<Unit> {
        val probe = ProbePorts()
        val config = demoTerminalConfig(acquirer.address(), dir.resolve("journal.db").toString())
        PaymentTerminal.open(config, probe, demoPed(), probe).use { pos ->
            assertTrue(pos.signOn() is SignOnOutcome.SignedOn)
            val approved = pos.sale("jni-ports-1", 1_234UL) as? Outcome.Approved ?: error("not approved")
            assertTrue(approved.approval.receiptPrinted)
        }
        assertEquals(listOf("detect", "print"), probe.viaJni)
        assertEquals(emptyList<String>(), probe.viaJna)
        // The receipt crossed whole: the masked card and the amount line as the core wrote them.
        val receipt = probe.printed.single()
        assertEquals("622202******0015", receipt.cardMasked)
        assertTrue(receipt.lines.any { it.value.contains("12.34") }, "${receipt.lines}")
        assertEquals(1_234L, acquirer.netFen())

        // The same sale through the generated binding's own callbacks: the probe can tell. Its
        // own simulator, as its new journal's STANs start at 1 again.
        val raw = ProbePorts()
        val second = startTestAcquirer()
        try {
            Terminal.open(demoTerminalConfig(second.address(), dir.resolve("raw.db").toString()), raw, demoPed(), raw).use { t ->
                assertTrue(t.signOn() is SignOnOutcome.SignedOn)
                val outcome = t.sale("jna-ports-1", 1_000UL, CancelHandle())
                assertTrue(outcome is Outcome.Approved, "$outcome")
                t.shutDown()
            }
        } finally {
            second.stop()
        }
        assertEquals(listOf("detect", "print"), raw.viaJna)
        assertEquals(emptyList<String>(), raw.viaJni)
    }

    @Test
    fun `a printer out of paper over JNI still keeps the payment`() = runBlocking<Unit> {
        val probe = ProbePorts()
        val printer = object : Printer by probe {
            override fun print(receipt: ReceiptRecord) = throw PortException.PrinterOutOfPaper()
        }
        val config = demoTerminalConfig(acquirer.address(), dir.resolve("journal.db").toString())
        PaymentTerminal.open(config, probe, demoPed(), printer).use { pos ->
            assertTrue(pos.signOn() is SignOnOutcome.SignedOn)
            val approved = pos.sale("no-paper-1", 900UL) as? Outcome.Approved ?: error("not approved")
            assertFalse(approved.approval.receiptPrinted)
        }
        assertEquals(900L, acquirer.netFen())
    }

    @Test
    fun `a Kotlin PED is called by JNI for the keys, the PIN block and the MACs, and the host accepts them`() = runBlocking<Unit> {
        val ped = RecordingPed(demoPed())
        val config = demoTerminalConfig(acquirer.address(), dir.resolve("journal.db").toString())
        PaymentTerminal.open(config, SwipeReader(), ped, RecordingPrinter()).use { pos ->
            assertTrue(pos.signOn() is SignOnOutcome.SignedOn)
            // The simulator checks the request's MAC and the PIN block under the keys it sent.
            val outcome = pos.sale("ped-1", 2_000UL)
            assertTrue(outcome is Outcome.Approved, "$outcome")
            ped.failPin = PedException.PinEntryTimeout()
            val end = (pos.sale("ped-2", 3_100UL) as? Outcome.Terminated)?.termination ?: error("not terminated")
            assertEquals("OP_PIN_TIMEOUT", end.code)
        }
        assertEquals(2_000L, acquirer.netFen())
        assertEquals(emptyList<String>(), ped.viaJna)
        for (call in listOf("loadWorkingKeys", "onlinePinBlock", "calculateMac")) {
            assertTrue(call in ped.viaJni, "$call not called: ${ped.viaJni}")
        }
    }

    @Test
    fun `every PED call crosses with its arguments and answer intact`() = runBlocking<Unit> {
        val inner = demoPed()
        val config = demoTerminalConfig(acquirer.address(), dir.resolve("journal.db").toString())
        PaymentTerminal.open(config, SwipeReader(), inner, RecordingPrinter()).use { pos ->
            assertTrue(pos.signOn() is SignOnOutcome.SignedOn, "working keys for the PED")
        }
        val recording = RecordingPed(inner)
        val ped = recording.overJni()
        assertTrue(ped.hasWorkingKeys())
        val data = ByteArray(37) { it.toByte() }
        for (algorithm in PedMacAlgorithm.entries) {
            val bridged = runCatching { ped.calculateMac(algorithm, data) }
            val direct = runCatching { inner.calculateMac(algorithm, data) }
            assertEquals(direct.getOrNull()?.toList(), bridged.getOrNull()?.toList(), "$algorithm")
            assertEquals(direct.exceptionOrNull()?.let { it::class }, bridged.exceptionOrNull()?.let { it::class }, "$algorithm")
        }
        assertEquals(8, ped.calculateMac(PedMacAlgorithm.X919, data).size, "the demo keys make X9.19 MACs")
        assertArrayEquals(inner.keyCheckValue(PedKey.MAK), ped.keyCheckValue(PedKey.MAK))
        assertArrayEquals(inner.onlinePinBlock(PAN, 100UL), ped.onlinePinBlock(PAN, 100UL))
        // The rest answer alike both ways, whether with a value or an exception.
        fun <T> same(name: String, call: (Ped) -> T, compare: (T) -> Any? = { it }) {
            val direct = runCatching { call(inner) }
            val bridged = runCatching { call(ped) }
            assertEquals(direct.getOrNull()?.let(compare), bridged.getOrNull()?.let(compare), name)
            assertEquals(direct.exceptionOrNull()?.let { it::class }, bridged.exceptionOrNull()?.let { it::class }, name)
        }
        val block = ByteArray(8) { (0x30 + it).toByte() }
        same("encryptDataBlock", { it.encryptDataBlock(block) }) { it.toList() }
        same("verifyPlaintextPin", { it.verifyPlaintextPin(3u, 100UL, 1_000UL) })
        val iccKey = IccPinKeyRecord(ByteArray(128) { 0x11 }, byteArrayOf(0x03), ByteArray(8) { 0x22 })
        same("verifyEncipheredPin", { it.verifyEncipheredPin(iccKey, null, 100UL, 1_000UL) })
        ped.clearWorkingKeys()
        assertFalse(inner.hasWorkingKeys(), "the bridged clear reached the PED")
        // Each call reached the method it names: the two sides number the methods alike.
        assertEquals(
            listOf("hasWorkingKeys") + PedMacAlgorithm.entries.map { "calculateMac" } +
                listOf("calculateMac", "keyCheckValue", "onlinePinBlock", "encryptDataBlock", "verifyPlaintextPin", "verifyEncipheredPin", "clearWorkingKeys"),
            recording.viaJni,
        )
        val unexpected = object : Ped by inner {
            override fun keyCheckValue(key: PedKey): ByteArray = throw IllegalStateException("PAN $PAN")
        }.overJni()
        val thrown = assertThrows<PedException> { unexpected.keyCheckValue(PedKey.MAK) }
        assertTrue(thrown is PedException.Unexpected, "$thrown")
        assertFalse(thrown.toString().contains(PAN))
    }

    @Test
    fun `the optional ports cross with their values, and a monitor or location that throws reads as no report`() = runBlocking<Unit> {
        val arrivals = Collections.synchronizedList(mutableListOf<Pair<String, Boolean>>())
        val status = NetworkStatusRecord(NetworkLink.Cellular(CellularGeneration.G4), -85, true)
        val fix = GeoFixRecord(31.2304, 121.4737, 12.5f, "460-00-1234-5678")
        val scanner = object : Scanner {
            override fun scan(timeoutMs: ULong): String? = "134567890123456789".takeIf { timeoutMs == 9_000UL }
                .also { arrivals += "scan" to calledThroughJna() }
        }
        val network = object : NetworkMonitor {
            override fun status() = status.also { arrivals += "status" to calledThroughJna() }
        }
        val location = object : Location {
            override fun fix() = fix.also { arrivals += "fix" to calledThroughJna() }
        }
        assertEquals("134567890123456789", scanner.overJni().scan(9_000UL))
        assertEquals(null, scanner.overJni().scan(1UL))
        assertEquals(status, network.overJni().status())
        assertEquals(fix, location.overJni().fix())
        assertTrue(arrivals.none { it.second }, "$arrivals")

        val failingNetwork = object : NetworkMonitor {
            override fun status(): NetworkStatusRecord = throw IllegalStateException("no binder")
        }.overJni()
        assertEquals(NetworkStatusRecord(NetworkLink.None, null, true), failingNetwork.status())
        val failingLocation = object : Location {
            override fun fix(): GeoFixRecord? = throw SecurityException("no permission")
        }.overJni()
        assertEquals(null, failingLocation.fix())

        // A sale with them: the risk check reads the network and the location by JNI.
        arrivals.clear()
        val config = demoTerminalConfig(acquirer.address(), dir.resolve("journal.db").toString())
        val probe = ProbePorts()
        PaymentTerminal.open(config, probe, demoPed(), probe, TerminalPorts(network = network, location = location, prompt = probe)).use { pos ->
            assertTrue(pos.signOn() is SignOnOutcome.SignedOn)
            assertTrue(pos.sale("optional-1", 1_500UL) is Outcome.Approved)
        }
        assertTrue(arrivals.map { it.first }.containsAll(listOf("status", "fix")), "$arrivals")
        assertTrue(arrivals.none { it.second }, "$arrivals")
        assertTrue(probe.viaJni.contains("show"), "${probe.viaJni}")
        assertEquals(emptyList<String>(), probe.viaJna)
    }

    @Test
    fun `terminals on several threads each reach their own ports by JNI`() {
        val acquirers = List(3) { startTestAcquirer() }
        val pool = java.util.concurrent.Executors.newFixedThreadPool(3)
        try {
            val runs = acquirers.mapIndexed { i, acq ->
                pool.submit<ProbePorts> {
                    val probe = ProbePorts()
                    val config = demoTerminalConfig(acq.address(), dir.resolve("t$i.db").toString())
                    runBlocking {
                        PaymentTerminal.open(config, probe, demoPed(), probe).use { pos ->
                            assertTrue(pos.signOn() is SignOnOutcome.SignedOn)
                            repeat(5) { n ->
                                val outcome = pos.sale("t$i-$n", 100UL + n.toULong())
                                assertTrue(outcome is Outcome.Approved, "terminal $i sale $n: $outcome")
                            }
                        }
                    }
                    probe
                }
            }
            for ((i, run) in runs.withIndex()) {
                val probe = run.get(60, java.util.concurrent.TimeUnit.SECONDS)
                assertEquals(List(5) { listOf("detect", "print") }.flatten(), probe.viaJni, "terminal $i")
                assertEquals(510L, acquirers[i].netFen(), "terminal $i")
            }
        } finally {
            pool.shutdownNow()
            acquirers.forEach { it.stop() }
        }
    }

    @Test
    fun `a registration is taken once, as the port it was registered for`() {
        val id = JniPorts.register(PrinterBridge(ProbePorts()), JniPorts.PRINTER)
        assertTrue(jniBridgedPort(id) is BridgedPort.Printer)
        val again = assertThrows<SmartPosException.InvalidInput> { jniBridgedPort(id) }
        assertTrue(again.detail.contains("taken once"), again.detail)
        val unknown = JniPorts.register(PrinterBridge(ProbePorts()), 99)
        val kind = assertThrows<SmartPosException.InvalidInput> { jniBridgedPort(unknown) }
        assertTrue(kind.detail.contains("no port kind"), kind.detail)
    }
}
