package com.smartpos

import com.smartpos.core.AmountProblem
import com.smartpos.core.LogLevel
import com.smartpos.core.SmartPosException
import com.smartpos.core.coreVersion
import com.smartpos.core.debugPanicProbe
import com.smartpos.core.formatAmount
import com.smartpos.core.parseAmount
import java.util.concurrent.Callable
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/** Exercises the Rust library through the generated bindings, as the Android shell will. */
class BindingsTest {
    @Test
    fun `version is the crate version`() {
        val version = coreVersion()
        assertTrue(Regex("""\d+\.\d+\.\d+.*""").matches(version), "version: '$version'")
        assertEquals(version, runBlocking { SmartPos.version() })
    }

    @Test
    fun `amount parse gives fen, yuan and field 4`() {
        val a = parseAmount("12.34")
        assertEquals(1234UL, a.fen)
        assertEquals("12.34", a.yuan)
        assertEquals("000000001234", a.field4)
        assertEquals(5UL, Amounts.parse("0.05").fen)
        assertEquals(1200UL, Amounts.parse("12").fen)
    }

    @Test
    fun `amount format and parse round trip`() {
        for (fen in listOf(0UL, 1UL, 5UL, 10UL, 99UL, 100UL, 1234UL, 100_000UL, 999_999_999_999UL)) {
            val text = formatAmount(fen)
            assertTrue(Regex("""\d+\.\d\d""").matches(text), "format($fen) = '$text'")
            assertEquals(fen, parseAmount(text).fen, "round trip of $fen via '$text'")
        }
        assertEquals("0.05", Amounts.format(5UL))
    }

    @Test
    fun `bad amounts throw the typed exception with its fields`() {
        val badChar = assertThrows<SmartPosException.InvalidAmount> { parseAmount("12a.00") }
        assertEquals(AmountProblem.INVALID_CHARACTER, badChar.problem)
        assertEquals(2U, badChar.offset)
        assertTrue(badChar.detail.isNotEmpty())

        val decimals = assertThrows<SmartPosException.InvalidAmount> { parseAmount("1.234") }
        assertEquals(AmountProblem.TOO_MANY_DECIMALS, decimals.problem)
        assertNull(decimals.offset)

        assertEquals(
            AmountProblem.NEGATIVE,
            assertThrows<SmartPosException.InvalidAmount> { parseAmount("-1") }.problem,
        )
        assertEquals(
            AmountProblem.EMPTY,
            assertThrows<SmartPosException.InvalidAmount> { parseAmount("") }.problem,
        )
        // 13 digits of fen: more than ISO 8583 field 4 (n12) can carry.
        assertEquals(
            AmountProblem.TOO_LARGE,
            assertThrows<SmartPosException.InvalidAmount> { parseAmount("10000000000.00") }.problem,
        )
        assertEquals(
            AmountProblem.TOO_LARGE,
            assertThrows<SmartPosException.InvalidAmount> { formatAmount(1_000_000_000_000UL) }.problem,
        )
        assertNull(Amounts.parseOrNull("abc"))
    }

    @Test
    fun `a panic in Rust becomes the typed Internal exception and the library keeps working`() {
        repeat(3) {
            val e = assertThrows<SmartPosException.Internal> { debugPanicProbe() }
            assertEquals("debug_panic_probe", e.operation)
            assertTrue(e.detail.contains("deliberate panic"), e.detail)
        }
        assertEquals(1234UL, parseAmount("12.34").fen)
        assertTrue(coreVersion().isNotEmpty())
    }

    @Test
    fun `logging can be initialised and changed repeatedly`() {
        SmartPos.initLogging(LogLevel.DEBUG)
        SmartPos.initLogging(LogLevel.WARN)
        assertEquals(100UL, parseAmount("1").fen)
    }

    @Test
    fun `calls from several threads at once`() {
        val threads = 8
        val callsPerThread = 500
        val pool = Executors.newFixedThreadPool(threads)
        try {
            val tasks = (0 until threads).map { t ->
                Callable {
                    for (i in 0 until callsPerThread) {
                        val fen = (t * 1_000_000 + i).toULong()
                        val text = formatAmount(fen)
                        check(parseAmount(text).fen == fen) { "thread $t: $fen -> $text" }
                        if (i % 100 == 0) {
                            try {
                                debugPanicProbe()
                                error("probe did not throw")
                            } catch (e: SmartPosException.Internal) {
                                // expected: panics on one thread must not disturb the others
                            }
                        }
                    }
                    callsPerThread
                }
            }
            val done = pool.invokeAll(tasks, 60, TimeUnit.SECONDS).sumOf { it.get() }
            assertEquals(threads * callsPerThread, done)
        } finally {
            pool.shutdownNow()
        }
    }
}
