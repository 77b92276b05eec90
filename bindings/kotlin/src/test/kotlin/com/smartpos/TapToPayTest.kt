package com.smartpos

import com.smartpos.core.CardPresentationRecord
import com.smartpos.core.CardReader
import com.smartpos.core.Outcome
import com.smartpos.core.PortException
import com.smartpos.core.SignOnOutcome
import com.smartpos.core.SmartPosException
import com.smartpos.core.TestAcquirer
import com.smartpos.core.TestChipCard
import com.smartpos.core.UiRequestCode
import com.smartpos.core.UiRequestListener
import com.smartpos.core.UiRequestRecord
import com.smartpos.core.demoTerminalConfig
import com.smartpos.core.startTestAcquirer
import com.smartpos.core.testChipCard
import java.nio.file.Path
import java.util.Collections
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.flow.takeWhile
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir

/**
 * An NFC reader shaped like Android's `IsoDep` in reader mode: the card in the field answers each
 * C-APDU (`transceive`); a card gone from the field is `CardRemovedTooEarly`, as the sample maps
 * `TagLostException`. Each exchange is written to [log], so the test sees when the card was used.
 */
class FieldReader(private val card: TestChipCard, private val log: MutableList<String>) : CardReader {
    override fun detect(timeoutMs: ULong): CardPresentationRecord = CardPresentationRecord.Contactless

    override fun transceive(apdu: ByteArray): ByteArray =
        try {
            card.transceive(apdu).also { log += "card" }
        } catch (e: SmartPosException) {
            throw PortException.CardRemovedTooEarly()
        }

    override fun removeCard() {
        log += "card removed"
        card.remove()
    }
}

/** Taps through the real library with the simulator's contactless cards. */
class TapToPayTest {
    @TempDir lateinit var dir: Path
    private val acquirer: TestAcquirer = startTestAcquirer()
    private val printer = RecordingPrinter()

    @AfterEach
    fun tearDown() {
        acquirer.stop()
    }

    private fun terminalWith(card: TestChipCard, log: MutableList<String>): PaymentTerminal {
        val config = demoTerminalConfig(acquirer.address(), dir.resolve("journal.db").toString())
        val pos = runBlocking { PaymentTerminal.open(config, FieldReader(card, log), demoPed(), printer) }
        val signOn = runBlocking { pos.signOn() }
        assertTrue(signOn is SignOnOutcome.SignedOn, "sign-on: $signOn")
        return pos
    }

    @Test
    fun `remove card is asked for before the host answers a QuickPass tap`() = runBlocking<Unit> {
        val log = Collections.synchronizedList(mutableListOf<String>())
        val card = testChipCard("quickpass-debit")
        terminalWith(card, log).use { pos ->
            // The host's side of the order: the acquirer's ledger as each UI request is raised.
            pos.terminal.setUiRequestListener(object : UiRequestListener {
                override fun onUiRequest(request: UiRequestRecord) {
                    log += "${request.code} (ledger ${acquirer.netFen()})"
                }
            })
            val outcome = pos.sale("tap-1", 12_800UL)
            log += "answered (ledger ${acquirer.netFen()})"
            val approval = (outcome as? Outcome.Approved)?.approval ?: error("not approved: $outcome")
            assertEquals("622202******0338", approval.panMasked)
            assertEquals(12_800L, acquirer.netFen())
            val removeCard = log.indexOf("CARD_READ_OK (ledger 0)")
            assertTrue(removeCard >= 0, "$log")
            assertTrue(log.subList(removeCard, log.size).none { it == "card" }, "no card command after: $log")
            assertTrue(log.indexOf("card removed") > removeCard, "$log")
            assertEquals("APPROVED (ledger 12800)", log[log.size - 2], "$log")
            assertTrue("ENTER_PIN (ledger 0)" !in log, "no PIN under RMB 1,000: $log")
        }
    }

    @Test
    fun `the ui requests flow delivers remove card and the ending in order`() = runBlocking<Unit> {
        val card = testChipCard("quickpass-credit")
        terminalWith(card, Collections.synchronizedList(mutableListOf())).use { pos ->
            val seen = mutableListOf<UiRequestRecord>()
            val collecting = launch(Dispatchers.IO, start = CoroutineStart.UNDISPATCHED) {
                pos.uiRequests()
                    .takeWhile { it.code != UiRequestCode.APPROVED && it.code != UiRequestCode.DECLINED }
                    .toList(seen)
            }
            val outcome = pos.sale("tap-2", 150_000UL)
            withTimeout(5_000) { collecting.join() }
            assertTrue(outcome is Outcome.Approved, "$outcome")
            val codes = seen.map { it.code }
            assertEquals(UiRequestCode.PRESENT_CARD, codes.first(), "$codes")
            assertTrue(codes.indexOf(UiRequestCode.CARD_READ_OK) < codes.indexOf(UiRequestCode.ENTER_PIN), "$codes")
            assertTrue(seen.first { it.code == UiRequestCode.CARD_READ_OK }.zh.contains("移开"))
        }
    }
}
