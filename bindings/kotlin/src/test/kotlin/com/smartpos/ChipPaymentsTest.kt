package com.smartpos

import com.smartpos.core.CardPresentationRecord
import com.smartpos.core.CardReader
import com.smartpos.core.EcBalanceOutcome
import com.smartpos.core.Outcome
import com.smartpos.core.PortException
import com.smartpos.core.SignOnOutcome
import com.smartpos.core.SmartPosException
import com.smartpos.core.TestAcquirer
import com.smartpos.core.TestChipCard
import com.smartpos.core.demoTerminalConfig
import com.smartpos.core.startTestAcquirer
import com.smartpos.core.testChipCard
import java.nio.file.Path
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir

/**
 * A contact reader shaped like the vendor SDKs' APDU calls (PAX `IIcc.isoCommand`, Sunmi
 * `ReadCardOptV2.smartCardExchange`): the card in the slot answers each C-APDU the core's
 * kernel sends. Here the "card" is the simulator's virtual chip card with real keys.
 */
class VendorContactReader(private val card: TestChipCard) : CardReader {
    override fun detect(timeoutMs: ULong): CardPresentationRecord = CardPresentationRecord.ContactChip

    override fun transceive(apdu: ByteArray): ByteArray =
        try {
            card.transceive(apdu)
        } catch (e: SmartPosException) {
            throw PortException.Reader("card: ${e.message}")
        }

    override fun removeCard() = card.remove()
}

/** Inserted chip cards through the real library, against the simulator playing issuer. */
class ChipPaymentsTest {
    @TempDir lateinit var dir: Path
    private val acquirer: TestAcquirer = startTestAcquirer()
    private val printer = RecordingPrinter()

    @AfterEach
    fun tearDown() {
        acquirer.stop()
    }

    private fun terminalWith(card: TestChipCard): PaymentTerminal {
        val config = demoTerminalConfig(acquirer.address(), dir.resolve("journal.db").toString())
        val pos = runBlocking { PaymentTerminal.open(config, VendorContactReader(card), demoPed(), printer) }
        val signOn = runBlocking { pos.signOn() }
        assertTrue(signOn is SignOnOutcome.SignedOn, "sign-on: $signOn")
        return pos
    }

    @Test
    fun `an inserted UnionPay chip card is approved online`() = runBlocking<Unit> {
        val card = testChipCard("unionpay-debit-sda")
        terminalWith(card).use { pos ->
            val outcome = pos.sale("chip-1", 4_321UL)
            val approval = (outcome as? Outcome.Approved)?.approval ?: error("not approved: $outcome")
            assertEquals("622202******0205", approval.panMasked)
            assertEquals(4_321L, acquirer.netFen())
        }
    }

    @Test
    fun `a card that declines after the host approved is reversed and nothing is charged`() = runBlocking<Unit> {
        val card = testChipCard("unionpay-declines-second-ac")
        terminalWith(card).use { pos ->
            val outcome = pos.sale("chip-2", 5_000UL)
            val end = (outcome as? Outcome.Terminated)?.termination ?: error("not terminated: $outcome")
            assertEquals("ACC_CARD_DECLINED_AFTER_APPROVAL", end.code)
            assertEquals(0L, acquirer.netFen())
        }
    }

    @Test
    fun `the electronic cash balance is read from the chip`() = runBlocking<Unit> {
        val card = testChipCard("unionpay-debit-dda")
        terminalWith(card).use { pos ->
            card.insert()
            val read = pos.ecBalance() as? EcBalanceOutcome.Read ?: error("not read")
            assertEquals(50_000UL, read.balance.balanceFen)
            assertEquals("A000000333010101", read.balance.aid)
            assertEquals(0L, acquirer.netFen())
        }
    }
}
