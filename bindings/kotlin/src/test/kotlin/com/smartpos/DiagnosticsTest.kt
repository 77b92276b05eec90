package com.smartpos

import com.smartpos.core.Cause
import com.smartpos.core.HealthCheckKind
import com.smartpos.core.HealthCheckRecord
import com.smartpos.core.HealthReportRecord
import com.smartpos.core.HealthStatus
import com.smartpos.core.Outcome
import com.smartpos.core.PortException
import com.smartpos.core.RemedyCode
import com.smartpos.core.SignOnOutcome
import com.smartpos.core.StatisticsWindow
import com.smartpos.core.TestAcquirer
import com.smartpos.core.demoTerminalConfig
import com.smartpos.core.startTestAcquirer
import java.nio.file.Path
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir

/** Health self-check and termination statistics through the bindings, against the simulator. */
class DiagnosticsTest {
    @TempDir lateinit var dir: Path
    private lateinit var acquirer: TestAcquirer
    private val reader = SwipeReader()
    private val ped = demoPed()
    private val printer = RecordingPrinter()
    private lateinit var pos: PaymentTerminal

    @BeforeEach
    fun setUp() {
        acquirer = startTestAcquirer()
        val config = demoTerminalConfig(acquirer.address(), dir.resolve("journal.db").toString())
        pos = runBlocking { PaymentTerminal.open(config, reader, ped, printer) }
        assertTrue(runBlocking { pos.signOn() } is SignOnOutcome.SignedOn)
    }

    @AfterEach
    fun tearDown() {
        pos.close()
        acquirer.stop()
    }

    private fun HealthReportRecord.check(kind: HealthCheckKind): HealthCheckRecord =
        checks.single { it.kind == kind }

    /** Every check but [kinds] is ok; storage is judged against the runner's free disk, so left out. */
    private fun assertOkExcept(report: HealthReportRecord, vararg kinds: HealthCheckKind) {
        for (c in report.checks) {
            if (c.kind in kinds || c.kind == HealthCheckKind.STORAGE) continue
            assertEquals(HealthStatus.OK, c.status, "${c.kind}: ${c.detailEn}")
        }
    }

    @Test
    fun `a signed-on terminal with a live host is healthy`() = runBlocking<Unit> {
        val report = pos.health()
        assertOkExcept(report)
        val host = report.check(HealthCheckKind.HOST)
        assertEquals("acquirer host", host.labelEn)
        assertTrue(host.remedies.isEmpty())
        assertTrue(report.atMs > 1_700_000_000_000L, "terminal clock in ms: ${report.atMs}")
        // The test acquirer serves TLS under the test CA, and the terminal checks it.
        val link = report.check(HealthCheckKind.LINK_SECURITY)
        assertTrue(link.detailEn.startsWith("TLS"), link.detailEn)
    }

    @Test
    fun `host down is a failing host check with a remedy`() = runBlocking<Unit> {
        acquirer.stop()
        val report = pos.health()
        val host = report.check(HealthCheckKind.HOST)
        assertEquals(HealthStatus.FAILING, host.status, host.detailEn)
        assertEquals(HealthStatus.FAILING, report.overall)
        assertTrue(host.remedies.isNotEmpty(), "a failing check says what to do")
        assertTrue(host.detailZh.isNotBlank() && host.detailEn.isNotBlank())
        assertOkExcept(report, HealthCheckKind.HOST, HealthCheckKind.CLOCK_DRIFT)
    }

    @Test
    fun `a printer out of paper is reported from its status, without printing`() = runBlocking<Unit> {
        printer.failWith = PortException.PrinterOutOfPaper()
        val report = pos.health()
        val check = report.check(HealthCheckKind.PRINTER)
        assertEquals(HealthStatus.FAILING, check.status, check.detailEn)
        assertTrue(check.remedies.any { it.code == RemedyCode.REPLACE_PAPER }, "${check.remedies}")
        assertEquals(0, printer.printed.size)
        assertOkExcept(report, HealthCheckKind.PRINTER)
    }

    @Test
    fun `report after a sale and a decline shows the approval rate and counts by cause`() = runBlocking<Unit> {
        assertTrue(pos.sale("ok-1", 1_000UL) is Outcome.Approved)
        reader.track2 = LOW_TRACK2
        assertTrue(pos.sale("low-1", 5_000UL) is Outcome.Terminated)
        val today = pos.report().windows.single { it.window == StatisticsWindow.TODAY }
        assertEquals(2UL, today.total)
        assertEquals(1UL, today.approved)
        assertEquals(1UL, today.terminated)
        assertEquals(0.5, today.approvalRate!!, 1e-9)
        assertEquals(1UL, today.byCause.single { it.cause == Cause.ACCOUNT }.count)
        assertEquals(0UL, today.byCause.filter { it.cause != Cause.ACCOUNT }.sumOf { it.count })
        assertEquals(Cause.ACCOUNT, today.topCauses.first().cause)
        assertEquals(1UL, today.byCode.single { it.code == "HOST_DECLINED_51" }.count)
        assertTrue(today.hostLatency.exchanges >= 2UL, "${today.hostLatency}")
        val json = pos.reportJson()
        assertTrue(json.contains("\"approval_rate\":0.5"), json)
        assertTrue(json.contains("HOST_DECLINED_51"), json)
    }
}
