package com.smartpos

import com.smartpos.core.Outcome
import com.smartpos.core.RiskRestoreProblemRecord
import com.smartpos.core.RiskUpdateProblem
import com.smartpos.core.SignOnOutcome
import com.smartpos.core.SmartPosException
import com.smartpos.core.TerminalConfigRecord
import com.smartpos.core.TestAcquirer
import com.smartpos.core.TestRiskSigner
import com.smartpos.core.demoTerminalConfig
import com.smartpos.core.startTestAcquirer
import com.smartpos.core.testRiskSigner
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

/** The fleet's hot-list salt in these tests (the terminal and the back office share it). */
private val SALT = "fleet-7 hot-list salt".toByteArray()

/** The card number of the simulator's "normal" demo card. */
private val NORMAL_PAN = NORMAL_TRACK2.substringBefore('=')

/**
 * Signed risk updates through the bindings: a rule bundle and a hot-list delta stay in force
 * after the terminal is shut down and opened again on the same journal; replays, skipped deltas
 * and unknown keys are refused with typed reasons. The back office is a fresh Ed25519 key from
 * the `testRiskSigner` hook.
 */
class RiskUpdatesTest {
    @TempDir lateinit var dir: Path
    private lateinit var acquirer: TestAcquirer
    private lateinit var signer: TestRiskSigner
    private lateinit var config: TerminalConfigRecord
    private val reader = SwipeReader()
    private val ped = demoPed()
    private val printer = RecordingPrinter()
    private lateinit var pos: PaymentTerminal

    @BeforeEach
    fun setUp() {
        acquirer = startTestAcquirer()
        signer = testRiskSigner("fleet-test")
        config = demoTerminalConfig(acquirer.address(), dir.resolve("journal.db").toString())
            .copy(riskTrustedKeys = listOf(signer.trustedKey()), riskCardHashSalt = SALT)
        open()
        val signOn = runBlocking { pos.signOn() }
        assertTrue(signOn is SignOnOutcome.SignedOn, "sign-on: $signOn")
    }

    @AfterEach
    fun tearDown() {
        pos.close()
        signer.close()
        acquirer.stop()
    }

    /** Opens the terminal on the test's journal (working keys come back from it). */
    private fun open() {
        pos = runBlocking { PaymentTerminal.open(config, reader, ped, printer) }
    }

    /** Shuts the terminal down, as a process that stops, and opens it again on the same journal. */
    private fun restart() {
        pos.close()
        open()
    }

    private fun terminated(o: Outcome) = (o as? Outcome.Terminated)?.termination ?: error("not terminated: $o")

    private fun refused(block: suspend () -> Unit): RiskUpdateProblem =
        assertThrows<SmartPosException.RiskUpdateRefused> { runBlocking { block() } }.problem

    @Test
    fun `a loaded bundle is still active after a restart and an older one is refused`() = runBlocking<Unit> {
        assertEquals(1UL, pos.riskStatus()!!.bundleVersion)
        assertEquals(3UL, pos.loadRiskBundle(signer.signedBundle(3UL, 2_000UL)))

        restart()
        val status = pos.riskStatus()!!
        assertEquals(3UL, status.bundleVersion)
        assertFalse(status.builtIn)
        assertEquals(listOf("fleet-test"), status.trustedKeyIds)
        assertEquals(emptyList<RiskRestoreProblemRecord>(), status.restoreProblems)
        // Version 3's card maximum (20 yuan) still applies, before the card is read.
        assertEquals("RISK_LIMIT", terminated(pos.sale("over", 2_001UL)).code)

        for (old in listOf(2UL, 3UL)) {
            assertEquals(
                RiskUpdateProblem.NotNewer(old, 3UL),
                refused { pos.loadRiskBundle(signer.signedBundle(old, 5_000_000UL)) },
            )
        }
        assertEquals(3UL, pos.riskStatus()!!.bundleVersion)
        assertEquals(4UL, pos.loadRiskBundle(signer.signedBundle(4UL, 5_000_000UL)))
        assertEquals(0L, acquirer.netFen())
    }

    @Test
    fun `a hot-list delta blocks a card and still does after a restart`() = runBlocking<Unit> {
        val listed = signer.signedHotListDelta(1UL, SALT, listOf(NORMAL_PAN))
        assertEquals(1UL, pos.applyHotListDelta(listed))
        assertEquals("RISK_HOT_CARD", terminated(pos.sale("hot-1", 600UL)).code)

        restart()
        val status = pos.riskStatus()!!
        assertEquals(1UL, status.hotListSequence)
        assertEquals(1UL, status.hotListEntries)
        assertEquals("RISK_HOT_CARD", terminated(pos.sale("hot-2", 700UL)).code)

        assertEquals(RiskUpdateProblem.NotNewer(1UL, 1UL), refused { pos.applyHotListDelta(listed) })
        val third = signer.signedHotListDelta(3UL, SALT, listOf(LOW_TRACK2.substringBefore('=')))
        assertEquals(RiskUpdateProblem.SequenceGap(3UL, 2UL), refused { pos.applyHotListDelta(third) })
        assertEquals(0L, acquirer.netFen())
    }

    @Test
    fun `an update signed under a key the terminal does not trust is refused by name`() = runBlocking<Unit> {
        val stranger = testRiskSigner("stranger")
        try {
            assertEquals(
                RiskUpdateProblem.UnknownKeyId("stranger", listOf("fleet-test")),
                refused { pos.loadRiskBundle(stranger.signedBundle(2UL, 1UL)) },
            )
            assertEquals(
                RiskUpdateProblem.UnknownKeyId("stranger", listOf("fleet-test")),
                refused { pos.applyHotListDelta(stranger.signedHotListDelta(1UL, SALT, listOf(NORMAL_PAN))) },
            )
        } finally {
            stranger.close()
        }
        // Bytes that are not a signed update at all.
        assertEquals(RiskUpdateProblem.Malformed, refused { pos.loadRiskBundle("{}".toByteArray()) })
        val status = pos.riskStatus()!!
        assertEquals(1UL, status.bundleVersion)
        assertEquals(0UL, status.hotListSequence)
    }

    @Test
    fun `a trusted key that is not an Ed25519 public key is refused at open`() {
        pos.close()
        val bad = config.copy(
            journalPath = dir.resolve("other.db").toString(),
            riskTrustedKeys = listOf(signer.trustedKey().copy(publicKey = ByteArray(31))),
        )
        val e = assertThrows<SmartPosException.Config> {
            runBlocking { PaymentTerminal.open(bad, reader, ped, printer) }
        }
        assertTrue(e.detail.contains("risk_trusted_keys[0]"), e.detail)
        open()
    }
}
