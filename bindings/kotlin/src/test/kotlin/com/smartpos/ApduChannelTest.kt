package com.smartpos

import com.smartpos.core.CardPresentationRecord
import com.smartpos.core.CardReader
import com.smartpos.core.Outcome
import com.smartpos.core.PortException
import com.smartpos.core.SignOnOutcome
import com.smartpos.core.TestAcquirer
import com.smartpos.core.TestChipCard
import com.smartpos.core.demoTerminalConfig
import com.smartpos.core.startTestAcquirer
import com.smartpos.core.testChipCard
import java.nio.file.Path
import java.util.concurrent.atomic.AtomicInteger
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir

/** Detects and removes the card; its own `transceive` must never be used once a channel is set. */
private class SlotOnlyReader(private val card: TestChipCard) : CardReader {
    val transceives = AtomicInteger()

    override fun detect(timeoutMs: ULong): CardPresentationRecord = CardPresentationRecord.ContactChip

    override fun transceive(apdu: ByteArray): ByteArray {
        transceives.incrementAndGet()
        return card.transceive(apdu)
    }

    override fun removeCard() = card.remove()
}

/** The chip card's APDUs over the JNI channel (`withApduChannel`), through the real library. */
class ApduChannelTest {
    @TempDir lateinit var dir: Path
    private val acquirer: TestAcquirer = startTestAcquirer()

    @AfterEach
    fun tearDown() {
        acquirer.stop()
    }

    private fun terminal(reader: CardReader): PaymentTerminal {
        val config = demoTerminalConfig(acquirer.address(), dir.resolve("journal.db").toString())
        val pos = runBlocking { PaymentTerminal.open(config, reader, demoPed(), RecordingPrinter()) }
        assertTrue(runBlocking { pos.signOn() } is SignOnOutcome.SignedOn)
        return pos
    }

    @Test
    fun `a chip sale exchanges every APDU over the channel`() = runBlocking<Unit> {
        val card = testChipCard("unionpay-debit-sda")
        val slot = SlotOnlyReader(card)
        val commands = ArrayList<ByteArray>()
        val reader = slot.withApduChannel { apdu ->
            commands += apdu
            card.transceive(apdu)
        }
        terminal(reader).use { pos ->
            val outcome = pos.sale("jni-1", 2_468UL)
            assertTrue(outcome is Outcome.Approved, "$outcome")
            assertEquals(2_468L, acquirer.netFen())
        }
        assertEquals(0, slot.transceives.get(), "the UniFFI reader's transceive was called")
        // SELECT first (00 A4), a GENERATE AC (80 AE) among them: the kernel's whole dialogue.
        assertEquals(listOf<Byte>(0x00, 0xA4.toByte()), commands.first().take(2))
        assertTrue(commands.any { it[0] == 0x80.toByte() && it[1] == 0xAE.toByte() })
    }

    @Test
    fun `a card pulled out mid-dialogue ends as card removed and nothing is charged`() = runBlocking<Unit> {
        val card = testChipCard("unionpay-debit-sda")
        val count = AtomicInteger()
        val reader = SlotOnlyReader(card).withApduChannel { apdu ->
            if (count.incrementAndGet() == 4) throw PortException.CardRemovedTooEarly()
            card.transceive(apdu)
        }
        terminal(reader).use { pos ->
            val end = (pos.sale("jni-2", 1_000UL) as? Outcome.Terminated)?.termination ?: error("not terminated")
            assertEquals("DEV_CARD_REMOVED", end.code)
            assertEquals(0L, acquirer.netFen())
        }
    }

    @Test
    fun `any other exception ends the dialogue without its text being passed on`() = runBlocking<Unit> {
        val card = testChipCard("unionpay-debit-sda")
        val reader = SlotOnlyReader(card).withApduChannel { _ ->
            throw IllegalStateException("track 6222020000000015=3012")
        }
        terminal(reader).use { pos ->
            val outcome = pos.sale("jni-3", 1_000UL)
            val end = (outcome as? Outcome.Terminated)?.termination ?: error("not terminated: $outcome")
            // The reader's generic failure: not a card that left the slot, which asks for another
            // remedy (reinsert against repair or another terminal).
            assertEquals("DEV_READER", end.code)
            assertFalse(outcome.toString().contains("6222020000000015"), "$outcome")
            assertEquals(0L, acquirer.netFen())
        }
    }
}
