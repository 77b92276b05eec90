package com.smartpos

import com.smartpos.core.ChipDownloadProblem
import com.smartpos.core.ChipTable
import com.smartpos.core.ChipUpdateOutcome
import com.smartpos.core.Outcome
import com.smartpos.core.TestAcquirer
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

/** The acquirer's IC parameter and CA key downloads through the real library. */
class ChipConfigTest {
    @TempDir lateinit var dir: Path
    private val acquirer: TestAcquirer = startTestAcquirer()

    @AfterEach
    fun tearDown() {
        acquirer.stop()
    }

    private fun open(): PaymentTerminal {
        val config = demoTerminalConfig(acquirer.address(), dir.resolve("journal.db").toString())
        val card = testChipCard("unionpay-debit-dda")
        return runBlocking { PaymentTerminal.open(config, VendorContactReader(card), demoPed(), RecordingPrinter()) }
    }

    @Test
    fun `downloaded tables are in force and survive a restart`() = runBlocking<Unit> {
        open().use { pos ->
            val before = pos.chipConfig()
            assertTrue(before.caKeys.none { it.source == "acquirer download" })
            val outcome = pos.updateChipConfig()
            val downloads = (outcome as? ChipUpdateOutcome.Updated)?.downloads ?: error("not updated: $outcome")
            assertEquals(listOf(ChipTable.IC_PARAMETERS, ChipTable.CA_KEYS), downloads.map { it.table })
            assertEquals(4u, downloads[1].entries)
            val sale = pos.sale("chip-dl-1", 1_234UL)
            assertTrue(sale is Outcome.Approved, "sale: $sale")
        }
        open().use { pos ->
            val keys = pos.chipConfig().caKeys
            assertEquals(4, keys.size)
            assertTrue(keys.all { it.source == "acquirer download" })
            assertTrue(keys.any { it.algorithm == "sm2" && it.rid == "A000000333" })
        }
    }

    @Test
    fun `a key with a bad checksum is refused and the keys in force stay`() = runBlocking<Unit> {
        acquirer.corruptCaKeyChecksum("A000000333", 0xF9.toUByte())
        open().use { pos ->
            val before = pos.chipConfig()
            val outcome = pos.updateChipConfig()
            val refused = outcome as? ChipUpdateOutcome.Refused ?: error("not refused: $outcome")
            assertEquals(ChipTable.CA_KEYS, refused.table)
            assertEquals(ChipDownloadProblem.BAD_RECORD, refused.problem)
            assertTrue(refused.detail.contains("checksum"), refused.detail)
            assertEquals(listOf(ChipTable.IC_PARAMETERS), refused.done.map { it.table })
            assertEquals(before.caKeys, pos.chipConfig().caKeys)
        }
    }
}
