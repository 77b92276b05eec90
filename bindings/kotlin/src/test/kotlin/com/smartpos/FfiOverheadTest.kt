package com.smartpos

import com.smartpos.core.Outcome
import com.smartpos.core.SignOnOutcome
import com.smartpos.core.demoTerminalConfig
import com.smartpos.core.startTestAcquirer
import java.nio.file.Path
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir

/**
 * A loop of whole sales through the bindings, for the FFI-overhead figure in the notes (compare
 * with `cargo bench -p smartpos-e2e --bench online_sale`). Timing is printed, never asserted:
 * the machine is shared. Size with -Dsmartpos.sales=N (default 50).
 */
class FfiOverheadTest {
    @TempDir lateinit var dir: Path

    @Test
    fun `a loop of sales through the bindings`() = runBlocking<Unit> {
        val count = System.getProperty("smartpos.sales")?.toIntOrNull() ?: 50
        val acquirer = startTestAcquirer()
        val reader = SwipeReader()
        val ped = demoPed()
        val printer = RecordingPrinter()
        // Risk checks off: the loop repeats the same card far beyond the velocity rule on purpose.
        val config = demoTerminalConfig(acquirer.address(), dir.resolve("loop.db").toString())
            .copy(riskChecks = false)
        PaymentTerminal.open(config, reader, ped, printer).use { pos ->
            assertTrue(pos.signOn() is SignOnOutcome.SignedOn)
            pos.sale("warm-up", 100UL)
            val nanos = LongArray(count)
            for (i in 0 until count) {
                val started = System.nanoTime()
                val o = pos.sale("loop-$i", 100UL)
                nanos[i] = System.nanoTime() - started
                assertTrue(o is Outcome.Approved, "sale $i: $o")
            }
            nanos.sort()
            val p50 = nanos[count / 2] / 1_000
            val p99 = nanos[(count * 99 / 100).coerceAtMost(count - 1)] / 1_000
            System.err.println("FFI sale loop: $count sales, p50 $p50 µs, p99 $p99 µs, mean ${nanos.average().toLong() / 1_000} µs")
            assertEquals(100L * (count + 1), acquirer.netFen())
        }
        acquirer.stop()
    }
}
