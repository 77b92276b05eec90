package com.smartpos.bench

import com.smartpos.core.CancelHandle
import com.smartpos.core.CardPresentationRecord
import com.smartpos.core.CardReader
import com.smartpos.core.FfiBenchReport
import com.smartpos.core.Outcome
import com.smartpos.core.PortException
import com.smartpos.core.Printer
import com.smartpos.core.ReceiptRecord
import com.smartpos.core.SmartPosException
import com.smartpos.core.TestAcquirer
import com.smartpos.core.TestChipCard
import com.smartpos.core.Terminal
import com.smartpos.core.demoSoftwarePed
import com.smartpos.core.demoTerminalConfig
import com.smartpos.core.ffiBenchRustSales
import com.smartpos.core.startTestAcquirer
import com.smartpos.core.testChipCard
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.atomic.AtomicLong

/**
 * Issue #17's FFI cost, in one JVM: the same sales against the same in-process simulator, once
 * from Kotlin through the generated bindings (Kotlin ports), once from Rust through the same
 * `Terminal` object (`ffiBenchRustSales`, Rust ports doing the same nothing). Runs alternate
 * Kotlin and Rust so load drift on a shared machine hits both.
 *
 *   mvn -B -q -f bindings/kotlin/pom.xml -Pffi-bench package   (or scripts/bench-ffi)
 *   -Dsmartpos.sales=N sales per run (default 200), -Dsmartpos.rounds=R rounds (default 3)
 */
private const val TRACK2 = "6222020000000015=30121010000000000"
private const val PIN = "123456"
private const val CHIP_CARD = "unionpay-debit-sda"

/** A swipe reader or a vendor-style contact reader in front of the virtual card; counts calls. */
private class BenchReader(private val track2: String?, private val card: TestChipCard?) : CardReader {
    val calls = AtomicLong()

    override fun detect(timeoutMs: ULong): CardPresentationRecord {
        calls.incrementAndGet()
        return if (track2 != null) CardPresentationRecord.Magstripe(track2) else CardPresentationRecord.ContactChip
    }

    override fun transceive(apdu: ByteArray): ByteArray {
        calls.incrementAndGet()
        val c = card ?: throw PortException.Reader("no chip in a swipe run")
        return try {
            c.transceive(apdu)
        } catch (e: SmartPosException) {
            throw PortException.Reader("card")
        }
    }

    override fun removeCard() {
        calls.incrementAndGet()
        card?.remove()
    }
}

private class BenchPrinter : Printer {
    val calls = AtomicLong()

    override fun print(receipt: ReceiptRecord) {
        calls.incrementAndGet()
    }

    override fun status() {
        calls.incrementAndGet()
    }
}

/**
 * Each run gets its own simulator (same code, same process, fresh ledger): every run opens a new
 * journal whose STANs start again at 1, which one simulator would refuse as duplicates.
 */
private fun <T> withAcquirer(run: (TestAcquirer) -> T): T {
    val acquirer = startTestAcquirer()
    try {
        return run(acquirer)
    } finally {
        acquirer.stop()
    }
}

private fun kotlinSales(acquirer: TestAcquirer, journal: Path, chip: Boolean, count: Int): FfiBenchReport {
    val card = if (chip) testChipCard(CHIP_CARD) else null
    val reader = BenchReader(if (chip) null else TRACK2, card)
    val printer = BenchPrinter()
    val config = demoTerminalConfig(acquirer.address(), journal.toString()).copy(riskChecks = false)
    val nanos = ArrayList<ULong>(count)
    var approved = 0u
    Terminal.open(config, reader, demoSoftwarePed(PIN).asPed(), printer).use { terminal ->
        terminal.signOn()
        card?.insert()
        terminal.sale("kotlin-warm-up", 100UL, CancelHandle())
        reader.calls.set(0)
        printer.calls.set(0)
        for (i in 0 until count) {
            card?.insert()
            val started = System.nanoTime()
            val outcome = terminal.sale("kotlin-$i", 100UL, CancelHandle())
            nanos += (System.nanoTime() - started).toULong()
            if (outcome is Outcome.Approved) approved++
        }
        terminal.shutDown()
    }
    return FfiBenchReport(nanos, approved, reader.calls.get().toULong(), printer.calls.get().toULong())
}

private fun rustSales(acquirer: TestAcquirer, journal: Path, chip: Boolean, count: Int): FfiBenchReport {
    val card = if (chip) testChipCard(CHIP_CARD) else null
    val config = demoTerminalConfig(acquirer.address(), journal.toString()).copy(riskChecks = false)
    return ffiBenchRustSales(config, demoSoftwarePed(PIN).asPed(), if (chip) null else TRACK2, card, count.toUInt(), 100UL)
}

private fun median(r: FfiBenchReport): Double = r.saleNanos.map { it.toDouble() }.sorted().let { it[it.size / 2] }

private fun mean(r: FfiBenchReport): Double = r.saleNanos.map { it.toDouble() }.average()

fun main() {
    val count = System.getProperty("smartpos.sales")?.toIntOrNull() ?: 200
    val rounds = System.getProperty("smartpos.rounds")?.toIntOrNull() ?: 3
    val dir = Files.createTempDirectory("smartpos-ffi-bench")
    try {
        println("FFI cost: $count sales per run, $rounds rounds, load ${loadAverage()}")
        println("| sale | side | median µs | mean µs | reader calls/sale | printer calls/sale | approved |")
        println("|---|---|---|---|---|---|---|")
        for (chip in listOf(false, true)) {
            val kind = if (chip) "chip" else "swipe"
            val kotlinMedians = ArrayList<Double>()
            val rustMedians = ArrayList<Double>()
            var callbacks = 0.0
            for (round in 0 until rounds) {
                val k = withAcquirer { kotlinSales(it, dir.resolve("k-$kind-$round.db"), chip, count) }
                val r = withAcquirer { rustSales(it, dir.resolve("r-$kind-$round.db"), chip, count) }
                for ((side, rep) in listOf("kotlin" to k, "rust" to r)) {
                    println(
                        "| $kind | $side | %.0f | %.0f | %.1f | %.1f | %d/%d |".format(
                            median(rep) / 1e3, mean(rep) / 1e3, rep.readerCalls.toDouble() / count,
                            rep.printerCalls.toDouble() / count, rep.approved.toInt(), count,
                        ),
                    )
                }
                if (k.approved.toInt() != count || r.approved.toInt() != count) {
                    println("warning: not every $kind sale was approved; this round compares unlike sales")
                }
                kotlinMedians += median(k)
                rustMedians += median(r)
                callbacks = (k.readerCalls + k.printerCalls).toDouble() / count
            }
            val k = kotlinMedians.sorted()[rounds / 2]
            val r = rustMedians.sorted()[rounds / 2]
            val overhead = k - r
            println(
                "ffi $kind kotlin_median_ns=%.0f rust_median_ns=%.0f overhead_ns=%.0f overhead_pct=%.2f callbacks_per_sale=%.1f overhead_per_callback_ns=%.0f"
                    .format(k, r, overhead, 100 * overhead / r, callbacks, if (callbacks > 0) overhead / callbacks else 0.0),
            )
        }
        println("load after: ${loadAverage()}")
    } finally {
        dir.toFile().deleteRecursively()
    }
}

private fun loadAverage(): String =
    runCatching { Files.readString(Path.of("/proc/loadavg")).trim() }.getOrDefault("unknown")
