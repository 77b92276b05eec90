package com.smartpos.bench

import com.smartpos.ApduChannel
import com.smartpos.core.CancelHandle
import com.smartpos.core.CardPresentationRecord
import com.smartpos.core.CardReader
import com.smartpos.core.FfiBenchRustTerminal
import com.smartpos.core.FfiBenchSale
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
import com.smartpos.core.ffiBenchJniCard
import com.smartpos.core.ffiBenchRustTransceive
import com.smartpos.core.ffiBenchTransceive
import com.smartpos.core.startTestAcquirer
import com.smartpos.core.testChipCard
import com.smartpos.withApduChannel
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.atomic.AtomicLong

/**
 * Issue #17's FFI cost, in one JVM: the same sales against the same in-process simulator, once
 * from Kotlin through the generated bindings (Kotlin ports), once from Rust through the same
 * `Terminal` object (`FfiBenchRustTerminal`, Rust ports doing the same nothing), one sale from
 * each side in turn; and the bare upcall, a reader port call with nothing behind it.
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

/** A reader whose card answers every command with the same bytes: the upcall with nothing behind it. */
private class FixedAnswerReader(private val answer: ByteArray) : CardReader {
    override fun detect(timeoutMs: ULong): CardPresentationRecord = CardPresentationRecord.ContactChip

    override fun transceive(apdu: ByteArray): ByteArray = answer

    override fun removeCard() {}
}

/** The virtual card reached by JNI, as a shell's reader SDK reaches its driver (`ffi_bench.rs`). */
private object BenchCard {
    @JvmStatic
    external fun transceive(card: Long, apdu: ByteArray): ByteArray?
}

/** How the Kotlin side's reader exchanges APDUs. */
private enum class Crossing { JNA, JNI }

/**
 * The Kotlin side's terminal: Kotlin ports, sales timed around the binding's `sale` call. With
 * [Crossing.JNI] the APDUs go through an [ApduChannel] (`withApduChannel`) that reaches the card
 * by JNI; with [Crossing.JNA], through the UniFFI reader callback and a UniFFI call to the card.
 */
private class KotlinSide(acquirer: TestAcquirer, journal: Path, chip: Boolean, crossing: Crossing) : AutoCloseable {
    private val card = if (chip) testChipCard(CHIP_CARD) else null
    private val bench = BenchReader(if (chip) null else TRACK2, card)
    private val reader: CardReader = if (card != null && crossing == Crossing.JNI) {
        val id = ffiBenchJniCard(card)
        bench.withApduChannel { apdu ->
            bench.calls.incrementAndGet()
            BenchCard.transceive(id, apdu) ?: throw PortException.Reader("card")
        }
    } else {
        bench
    }
    private val printer = BenchPrinter()
    private val terminal: Terminal

    init {
        val config = demoTerminalConfig(acquirer.address(), journal.toString()).copy(riskChecks = false)
        terminal = Terminal.open(config, reader, demoSoftwarePed(PIN).asPed(), printer)
        terminal.signOn()
        card?.insert()
        terminal.sale("kotlin-warm-up", 100UL, CancelHandle())
        bench.calls.set(0)
        printer.calls.set(0)
    }

    fun timedSale(id: String): FfiBenchSale {
        card?.insert()
        val started = System.nanoTime()
        val outcome = terminal.sale(id, 100UL, CancelHandle())
        return FfiBenchSale((System.nanoTime() - started).toULong(), outcome is Outcome.Approved)
    }

    fun portCalls(): Long = bench.calls.get() + printer.calls.get()

    override fun close() {
        terminal.shutDown()
        terminal.close()
    }
}

private fun rustSide(acquirer: TestAcquirer, journal: Path, chip: Boolean): FfiBenchRustTerminal {
    val config = demoTerminalConfig(acquirer.address(), journal.toString()).copy(riskChecks = false)
    val card = if (chip) testChipCard(CHIP_CARD) else null
    return FfiBenchRustTerminal.open(config, demoSoftwarePed(PIN).asPed(), if (chip) null else TRACK2, card)
}

private fun List<Double>.median(): Double = sorted().let { it[it.size / 2] }

/**
 * Sales from the two sides in turn (which side goes first alternates), each against its own
 * simulator: every terminal opens a new journal whose STANs start at 1, which one simulator would
 * refuse as duplicates. The overhead is the median of the per-pair differences, so a burst of disk
 * or CPU load hits both sides of a pair instead of one side's whole run.
 */
private fun interleavedSales(dir: Path, chip: Boolean, crossing: Crossing, count: Int, round: Int) {
    val kind = if (chip) "chip ${crossing.name}" else "swipe"
    val kAcquirer = startTestAcquirer()
    val rAcquirer = startTestAcquirer()
    try {
        KotlinSide(kAcquirer, dir.resolve("k-$kind-$round.db"), chip, crossing).use { k ->
            rustSide(rAcquirer, dir.resolve("r-$kind-$round.db"), chip).use { r ->
                val kotlin = ArrayList<Double>(count)
                val rust = ArrayList<Double>(count)
                var approved = 0
                for (i in 0 until count) {
                    val pair = if (i % 2 == 0) {
                        k.timedSale("kotlin-$i") to r.timedSale("rust-$i", 100UL)
                    } else {
                        r.timedSale("rust-$i", 100UL).let { rs -> k.timedSale("kotlin-$i") to rs }
                    }
                    kotlin += pair.first.nanos.toDouble()
                    rust += pair.second.nanos.toDouble()
                    if (pair.first.approved && pair.second.approved) approved++
                }
                r.shutDown()
                val overhead = kotlin.zip(rust) { a, b -> a - b }.median()
                val rm = rust.median()
                val callbacks = k.portCalls().toDouble() / count
                check(r.portCalls().toLong() == k.portCalls()) {
                    "the two sides made different port calls: kotlin ${k.portCalls()}, rust ${r.portCalls()}"
                }
                println(
                    "| $kind | $round | %.0f | %.0f | %.0f | %.1f%% | %.1f | %.0f | %d/%d |".format(
                        kotlin.median() / 1e3, rm / 1e3, overhead / 1e3, 100 * overhead / rm, callbacks,
                        if (callbacks > 0) overhead / callbacks / 1e3 else 0.0, approved, count,
                    ),
                )
            }
        }
    } finally {
        kAcquirer.stop()
        rAcquirer.stop()
    }
}

/** The upcall alone: `count` transceives of a READ RECORD-sized exchange through the port. */
private fun upcalls(count: Int) {
    val apdu = byteArrayOf(0x00, 0xB2.toByte(), 0x01, 0x0C, 0x00)
    val answer = ByteArray(64) { it.toByte() } + byteArrayOf(0x90.toByte(), 0x00)
    val reader = FixedAnswerReader(answer)
    repeat(3) {
        ffiBenchTransceive(reader, apdu, count.toUInt())
        ffiBenchRustTransceive(answer, apdu, count.toUInt())
    }
    val jni = reader.withApduChannel { _ -> answer }
    repeat(3) { ffiBenchTransceive(jni, apdu, count.toUInt()) }
    val kotlin = (0 until 5).map { ffiBenchTransceive(reader, apdu, count.toUInt()).toDouble() / count }
    val viaJni = (0 until 5).map { ffiBenchTransceive(jni, apdu, count.toUInt()).toDouble() / count }
    val rust = (0 until 5).map { ffiBenchRustTransceive(answer, apdu, count.toUInt()).toDouble() / count }
    println(
        "ffi upcall transceive jna_ns=%.0f jni_ns=%.0f rust_ns=%.0f (median of 5 × %d calls)"
            .format(kotlin.median(), viaJni.median(), rust.median(), count),
    )
}

fun main() {
    val count = System.getProperty("smartpos.sales")?.toIntOrNull() ?: 200
    val rounds = System.getProperty("smartpos.rounds")?.toIntOrNull() ?: 3
    val dir = Files.createTempDirectory("smartpos-ffi-bench")
    try {
        println("FFI cost: $count sales per side and round, $rounds rounds, load ${loadAverage()}")
        println("| sale | round | kotlin median µs | rust median µs | overhead µs (median of pairs) | overhead | port calls/sale | µs per call | both approved |")
        println("|---|---|---|---|---|---|---|---|---|")
        for (chip in listOf(false, true)) {
            for (crossing in if (chip) listOf(Crossing.JNA, Crossing.JNI) else listOf(Crossing.JNA)) {
                for (round in 0 until rounds) interleavedSales(dir, chip, crossing, count, round)
            }
        }
        // Last: a JNA upcall leaves native structures for the cleaner and the GC, which would
        // weigh on the sales measured after it.
        upcalls(System.getProperty("smartpos.upcalls")?.toIntOrNull() ?: 20_000)
        println("load after: ${loadAverage()}")
    } finally {
        dir.toFile().deleteRecursively()
    }
}

private fun loadAverage(): String =
    runCatching { Files.readString(Path.of("/proc/loadavg")).trim() }.getOrDefault("unknown")
