package com.smartpos

import com.smartpos.core.Outcome
import com.smartpos.core.QrOrderStateRecord
import com.smartpos.core.QrOutcomeRecord
import com.smartpos.core.QrSession
import com.smartpos.core.SignOnOutcome
import com.smartpos.core.SmartPosException
import com.smartpos.core.TerminalConfigRecord
import com.smartpos.core.TestAcquirer
import com.smartpos.core.TestQrGateway
import com.smartpos.core.demoQrConfig
import com.smartpos.core.demoTerminalConfig
import com.smartpos.core.startTestAcquirer
import com.smartpos.core.startTestQrGateway
import java.nio.file.Files
import java.nio.file.Path
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir

/**
 * One owner per journal file: a second terminal, or a QR session of its own, on a journal a live
 * terminal holds is refused with [SmartPosException.JournalInUse]; QR payments on the terminal's
 * journal go through the terminal's own QR session.
 */
class JournalOwnerTest {
    @TempDir lateinit var dir: Path
    private lateinit var acquirer: TestAcquirer
    private lateinit var gateway: TestQrGateway
    private lateinit var config: TerminalConfigRecord
    private val reader = SwipeReader()
    private val ped = demoPed()
    private val printer = RecordingPrinter()
    private lateinit var pos: PaymentTerminal
    private val pid = ProcessHandle.current().pid()

    @BeforeEach
    fun setUp() {
        acquirer = startTestAcquirer()
        gateway = startTestQrGateway()
        config = demoTerminalConfig(acquirer.address(), dir.resolve("journal.db").toString())
        pos = runBlocking { PaymentTerminal.open(config, reader, ped, printer) }
        assertTrue(runBlocking { pos.signOn() } is SignOnOutcome.SignedOn)
    }

    @AfterEach
    fun tearDown() {
        pos.close()
        gateway.stop()
        acquirer.stop()
    }

    private fun approved(o: Outcome) = (o as? Outcome.Approved)?.approval ?: error("not approved: $o")

    private fun openSecond() = runBlocking { PaymentTerminal.open(config, reader, ped, printer) }

    /** The terminal's journal path, for a QR config; polling 50 ms with a 1 s deadline. */
    private fun qrConfig(journalPath: String = config.journalPath) = demoQrConfig(gateway.url(), journalPath, 50UL, 1_000UL)

    @Test
    fun `a second terminal on the same journal is refused with the holder's pid until the first shuts down`() = runBlocking<Unit> {
        val refused = assertThrows<SmartPosException.JournalInUse> { openSecond() }
        assertEquals(config.journalPath, refused.path)
        assertEquals(pid, refused.holderPid?.toLong())
        // The refused opener changed nothing: the first terminal carries on.
        approved(pos.sale("first-owner", 300UL))

        pos.close()
        openSecond().use { second ->
            assertEquals(listOf("first-owner"), second.history().map { it.attemptId }, "the same journal")
            approved(second.sale("second-owner", 200UL))
        }
        assertEquals(500L, acquirer.netFen())
    }

    @Test
    fun `the terminal's QR session pays into the terminal's journal, and a QR session of its own is refused`() = runBlocking<Unit> {
        val own = assertThrows<SmartPosException.JournalInUse> { QrSession.open(qrConfig()) }
        assertEquals(config.journalPath, own.path)
        assertEquals(pid, own.holderPid?.toLong())
        assertThrows<SmartPosException.JournalInUse> { runBlocking { QrPayments.open(qrConfig()) } }

        // The record's journal path is ignored: the session uses the terminal's journal.
        val elsewhere = dir.resolve("never-created.db")
        pos.qrPayments(qrConfig(elsewhere.toString())).use { qr ->
            approved(pos.sale("card-1", 1_000UL))
            val paid = qr.pay("qr1", 2_000UL, PAY_CODE) as QrOutcomeRecord.Paid
            assertEquals("qr1", paid.outTradeNo)
            assertEquals(2_000UL, gateway.chargedFen("qr1"))
            approved(pos.sale("card-2", 500UL))
            assertEquals(1_500L, acquirer.netFen())
            assertEquals(listOf("qr1"), qr.orders().map { it.outTradeNo })
            assertTrue(qr.recover().isEmpty())
        }
        assertFalse(Files.exists(elsewhere), "nothing opened at the record's journal path")

        // Both owners gone, the file is free: it holds the card sales and the QR order.
        pos.close()
        QrPayments.open(qrConfig()).use { alone ->
            assertEquals(QrOrderStateRecord.PAID, alone.orders().single { it.outTradeNo == "qr1" }.state)
        }
        openSecond().use { second ->
            assertEquals(setOf("card-1", "card-2"), second.history().map { it.attemptId }.toSet())
        }
    }

    @Test
    fun `the terminal's QR session keeps the journal until it is closed too`() = runBlocking<Unit> {
        val qr = pos.qrPayments(qrConfig())
        pos.close()
        assertThrows<SmartPosException.Closed> { runBlocking { pos.qrPayments(qrConfig()) } }
        assertTrue(qr.orders().isEmpty(), "the session still works on the journal")
        assertThrows<SmartPosException.JournalInUse> { openSecond() }
        qr.close()
        openSecond().close()
    }
}
