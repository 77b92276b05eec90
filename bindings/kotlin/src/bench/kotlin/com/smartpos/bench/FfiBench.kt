package com.smartpos.bench

import com.smartpos.JniPorts
import com.smartpos.core.CancelHandle
import com.smartpos.core.CardPresentationRecord
import com.smartpos.core.CardReader
import com.smartpos.core.FfiBenchRustTerminal
import com.smartpos.core.FfiBenchSale
import com.smartpos.core.IccPinKeyRecord
import com.smartpos.core.OfflinePinOutcome
import com.smartpos.core.Outcome
import com.smartpos.core.Ped
import com.smartpos.core.PedException
import com.smartpos.core.PedKey
import com.smartpos.core.PedMacAlgorithm
import com.smartpos.core.PortException
import com.smartpos.core.Printer
import com.smartpos.core.ReceiptRecord
import com.smartpos.core.TestAcquirer
import com.smartpos.core.Terminal
import com.smartpos.core.WorkingKeysRecord
import com.smartpos.core.demoSoftwarePed
import com.smartpos.core.demoTerminalConfig
import com.smartpos.core.ffiBenchJniCard
import com.smartpos.core.ffiBenchMac
import com.smartpos.core.ffiBenchRustTransceive
import com.smartpos.core.ffiBenchTransceive
import com.smartpos.core.startTestAcquirer
import com.smartpos.core.testChipCard
import com.smartpos.overJni
import java.lang.management.ManagementFactory
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

/**
 * A swipe reader, or a vendor-style contact reader in front of the virtual card `card` (an index
 * for [BenchCard]); counts calls. The card is reached by JNI, as a shell's reader SDK reaches its
 * driver, whichever way the core reaches this reader: a UniFFI call to the card here would add a
 * crossing per APDU that neither a real shell nor the Rust side makes.
 */
private class BenchReader(private val track2: String?, private val card: Long?) : CardReader {
    val calls = AtomicLong()

    override fun detect(timeoutMs: ULong): CardPresentationRecord {
        calls.incrementAndGet()
        return if (track2 != null) CardPresentationRecord.Magstripe(track2) else CardPresentationRecord.ContactChip
    }

    override fun transceive(apdu: ByteArray): ByteArray {
        calls.incrementAndGet()
        val c = card ?: throw PortException.Reader("no chip in a swipe run")
        return BenchCard.transceive(c, apdu) ?: throw PortException.Reader("card")
    }

    override fun removeCard() {
        calls.incrementAndGet()
        card?.let { BenchCard.remove(it) }
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

/** A PED whose MAC is always the same 8 bytes: the PED upcall with nothing behind it. */
private class FixedMacPed : Ped {
    private val mac = ByteArray(8) { it.toByte() }
    override fun calculateMac(algorithm: PedMacAlgorithm, data: ByteArray): ByteArray = mac
    override fun loadWorkingKeys(keys: WorkingKeysRecord) = unused()
    override fun hasWorkingKeys(): Boolean = true
    override fun clearWorkingKeys() = unused()
    override fun onlinePinBlock(panDigits: String, amountFen: ULong): ByteArray? = unused()
    override fun encryptDataBlock(block: ByteArray): ByteArray = unused()
    override fun keyCheckValue(key: PedKey): ByteArray = unused()
    override fun verifyPlaintextPin(triesLeft: UByte?, amountFen: ULong, timeoutMs: ULong): OfflinePinOutcome = unused()
    override fun verifyEncipheredPin(key: IccPinKeyRecord, triesLeft: UByte?, amountFen: ULong, timeoutMs: ULong): OfflinePinOutcome =
        unused()

    private fun unused(): Nothing = throw PedException.NotOffered("not in the bench")
}

/** The virtual card reached by JNI, as a shell's reader SDK reaches its driver (`ffi_bench.rs`). */
private object BenchCard {
    init {
        // The JVM binds these natives only in a library it loaded itself; JniPorts loads ours.
        JniPorts.hashCode()
    }

    @JvmStatic
    external fun transceive(card: Long, apdu: ByteArray): ByteArray?

    @JvmStatic
    external fun remove(card: Long)
}

/**
 * How the core calls the Kotlin side's ports: through the generated binding's UniFFI callbacks
 * (JNA), or by plain JNI (`overJni`, what `PaymentTerminal.open` does).
 */
private enum class Crossing { JNA, JNI }

/**
 * The Kotlin side's terminal: Kotlin ports, sales timed around the binding's `sale` call, the
 * ports called as [crossing] says. Either way the reader reaches the card by JNI.
 */
private class KotlinSide(acquirer: TestAcquirer, journal: Path, chip: Boolean, crossing: Crossing) : AutoCloseable {
    private val card = if (chip) testChipCard(CHIP_CARD) else null
    private val cardId = card?.let { ffiBenchJniCard(it) }
    private val bench = BenchReader(if (chip) null else TRACK2, cardId)
    private val printer = BenchPrinter()
    private val terminal: Terminal

    init {
        val config = demoTerminalConfig(acquirer.address(), journal.toString()).copy(riskChecks = false)
        terminal = when (crossing) {
            Crossing.JNA -> Terminal.open(config, bench, demoSoftwarePed(PIN).asPed(), printer)
            Crossing.JNI -> Terminal.open(config, bench.overJni(), demoSoftwarePed(PIN).asPed(), printer.overJni())
        }
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
private fun interleavedSales(dir: Path, chip: Boolean, crossing: Crossing, count: Int, warmUp: Int, round: Int) {
    val kind = "${if (chip) "chip" else "swipe"} ${crossing.name}"
    // The JIT compiles the Kotlin side's lifting and lowering only after thousands of calls; the
    // Rust side is compiled ahead of time. Untimed pairs first, as many for both sides, so that
    // the figure is the steady state and not HotSpot's warm-up. On throw-away terminals: a batch
    // holds 500 sales (then MNT_BATCH_FULL), and the JIT's work serves any terminal.
    var warmed = 0
    while (warmed < warmUp) {
        val n = minOf(BATCH_ROOM, warmUp - warmed)
        withSides(dir, chip, crossing, "$kind-$round-warm-$warmed") { k, r ->
            for (i in 0 until n) {
                k.timedSale("kotlin-warm-$i")
                r.timedSale("rust-warm-$i", 100UL)
            }
        }
        warmed += n
    }
    withSides(dir, chip, crossing, "$kind-$round") { k, r ->
        settle()
        val jvm = JvmActivity.start()
        val kotlin = ArrayList<Double>(count)
        val rust = ArrayList<Double>(count)
        // CPU time of the calling thread, which runs the whole sale on both sides: the FFI's work
        // without the journal's fsyncs and the simulator's answer, whose waits make wall-clock
        // differences noisy. The Rust side's figure includes its own small timing downcall.
        val kotlinCpu = ArrayList<Double>(count)
        val rustCpu = ArrayList<Double>(count)
        val threads = ManagementFactory.getThreadMXBean()
        fun <T> onCpu(into: MutableList<Double>, body: () -> T): T {
            val before = threads.currentThreadCpuTime
            return body().also { into += (threads.currentThreadCpuTime - before).toDouble() }
        }
        var approved = 0
        for (i in 0 until count) {
            val kotlinSale = { onCpu(kotlinCpu) { k.timedSale("kotlin-$i") } }
            val rustSale = { onCpu(rustCpu) { r.timedSale("rust-$i", 100UL) } }
            val pair = if (i % 2 == 0) {
                kotlinSale() to rustSale()
            } else {
                rustSale().let { rs -> kotlinSale() to rs }
            }
            kotlin += pair.first.nanos.toDouble()
            rust += pair.second.nanos.toDouble()
            if (pair.first.approved && pair.second.approved) approved++
        }
        val activity = jvm.stop()
        val overhead = kotlin.zip(rust) { a, b -> a - b }.median()
        val cpuOverhead = kotlinCpu.zip(rustCpu) { a, b -> a - b }.median()
        val rm = rust.median()
        val kCalls = k.portCalls()
        val rCalls = r.portCalls().toLong()
        val callbacks = kCalls.toDouble() / count
        check(rCalls == kCalls) { "the two sides made different port calls: kotlin $kCalls, rust $rCalls" }
        // A sale that ended early (a full batch, a refused card) times something else.
        check(approved == count) { "$kind round $round: only $approved of $count pairs were both approved" }
        println(
            "| $kind | $round | %.0f | %.0f | %.0f | %.1f%% | %.1f%% | %.0f | %.0f | %.0f | %.1f%% | %.1f | %.1f | %d/%d | %s |".format(
                kotlin.median() / 1e3, rm / 1e3, overhead / 1e3, 100 * overhead / rm, 100 * (kotlin.median() - rm) / rm,
                kotlinCpu.median() / 1e3, rustCpu.median() / 1e3, cpuOverhead / 1e3, 100 * cpuOverhead / rm,
                callbacks, if (callbacks > 0) cpuOverhead / callbacks / 1e3 else 0.0, approved, count,
                activity.per(2 * count, "sale"),
            ),
        )
    }
}

/** Sales a fresh terminal can make before its batch (500, one warm-up sale included) is full. */
private const val BATCH_ROOM = 450

/** A Kotlin side and a Rust side, each on a fresh journal against its own simulator. */
private fun withSides(
    dir: Path,
    chip: Boolean,
    crossing: Crossing,
    tag: String,
    body: (KotlinSide, FfiBenchRustTerminal) -> Unit,
) {
    val kAcquirer = startTestAcquirer()
    val rAcquirer = startTestAcquirer()
    try {
        KotlinSide(kAcquirer, dir.resolve("k-$tag.db"), chip, crossing).use { k ->
            rustSide(rAcquirer, dir.resolve("r-$tag.db"), chip).use { r ->
                body(k, r)
                r.shutDown()
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
    val jni = reader.overJni()
    repeat(3) {
        ffiBenchTransceive(reader, apdu, count.toUInt())
        ffiBenchRustTransceive(answer, apdu, count.toUInt())
        ffiBenchTransceive(jni, apdu, count.toUInt())
    }
    settle()
    val threads = ManagementFactory.getThreadMXBean()
    val startedBefore = threads.totalStartedThreadCount
    val jvm = JvmActivity.start()
    val kotlin = (0 until 5).map { ffiBenchTransceive(reader, apdu, count.toUInt()).toDouble() / count }
    val activity = jvm.stop()
    // A callback on a thread the JVM does not know attaches it (a new java.lang.Thread each time,
    // unless kept attached); none should start: the loop calls back on the calling Java thread.
    val started = threads.totalStartedThreadCount - startedBefore
    settle()
    val viaJni = (0 until 5).map { ffiBenchTransceive(jni, apdu, count.toUInt()).toDouble() / count }
    val rust = (0 until 5).map { ffiBenchRustTransceive(answer, apdu, count.toUInt()).toDouble() / count }
    println(
        "ffi upcall transceive, back to back: jna_ns=%.0f jni_ns=%.0f rust_ns=%.0f (median of 5 × %d calls)"
            .format(kotlin.median(), viaJni.median(), rust.median(), count),
    )
    println("  jna back to back: ${activity.per(5 * count, "call")}, threads started $started")
    settle()
    // At a sale's pace: a chip sale's 17 calls, then the rest of a sale's time for the JVM's
    // other threads (JNA's cleaner frees the native memory of the last burst, the collector runs).
    // Back to back, the JNA upcalls outrun the one cleaner thread and the backlog of native blocks
    // and their references, all live, makes every collection slower: not what a terminal sees.
    val bursts = maxOf(1, count / 10)
    val pacedJvm = JvmActivity.start()
    val paced = pacedPerCall(bursts) { ffiBenchTransceive(reader, apdu, SALE_CALLS.toUInt()) }
    val pacedActivity = pacedJvm.stop()
    val pacedJni = pacedPerCall(bursts) { ffiBenchTransceive(jni, apdu, SALE_CALLS.toUInt()) }
    val pacedRust = pacedPerCall(bursts) { ffiBenchRustTransceive(answer, apdu, SALE_CALLS.toUInt()) }
    println(
        "ffi upcall transceive, at a sale's pace: jna_ns=%.0f jni_ns=%.0f rust_ns=%.0f (median of %d bursts of %d calls, %d ms apart)"
            .format(paced, pacedJni, pacedRust, bursts, SALE_CALLS, PACE_MS),
    )
    println("  jna at a sale's pace: ${pacedActivity.per(bursts * SALE_CALLS, "call")}")
    // The PED's MAC, asked twice by every online sale: the same crossing with a record-free
    // signature (an enum and bytes in, bytes out).
    val macData = ByteArray(272) { it.toByte() }
    val jnaPed = FixedMacPed()
    val jniPed = FixedMacPed().overJni()
    repeat(3) {
        ffiBenchMac(jnaPed, macData, count.toUInt())
        ffiBenchMac(jniPed, macData, count.toUInt())
    }
    settle()
    val pacedMac = pacedPerCall(bursts) { ffiBenchMac(jnaPed, macData, SALE_CALLS.toUInt()) }
    val pacedMacJni = pacedPerCall(bursts) { ffiBenchMac(jniPed, macData, SALE_CALLS.toUInt()) }
    println(
        "ffi upcall calculateMac (272 bytes), at a sale's pace: jna_ns=%.0f jni_ns=%.0f (median of %d bursts of %d calls, %d ms apart)"
            .format(pacedMac, pacedMacJni, bursts, SALE_CALLS, PACE_MS),
    )
}

/** Port calls of a chip sale with the bench's card, and a pause about a sale's remaining time. */
private const val SALE_CALLS = 17
private const val PACE_MS = 3L

/** Median nanoseconds per call over `bursts` bursts; `burst` returns the nanoseconds it took. */
private fun pacedPerCall(bursts: Int, burst: () -> ULong): Double = (0 until bursts).map {
    Thread.sleep(PACE_MS)
    burst().toDouble() / SALE_CALLS
}.median()

/**
 * What the JVM did besides running the calls while a configuration was timed: collections (count
 * and pause time), JIT compilation, Java heap allocated by the timing thread, and CPU used by the
 * whole process (collector, JNA's cleaner and compiler threads included) against wall time.
 */
private class JvmActivity private constructor(
    private val gcCount: Long,
    private val gcMillis: Long,
    private val jitMillis: Long,
    private val allocated: Long,
    private val cpuNanos: Long,
    private val wallNanos: Long,
) {
    fun stop(): JvmActivity = snapshot().let {
        JvmActivity(
            it.gcCount - gcCount, it.gcMillis - gcMillis, it.jitMillis - jitMillis,
            it.allocated - allocated, it.cpuNanos - cpuNanos, it.wallNanos - wallNanos,
        )
    }

    /** Activity spread over `n` calls (sales of either side, or upcalls) named `unit`. */
    fun per(n: Int, unit: String): String = "gc %d (%d ms), jit %d ms, %.0f B/%s, process cpu/wall %.2f".format(
        gcCount, gcMillis, jitMillis, allocated.toDouble() / n, unit, cpuNanos.toDouble() / wallNanos,
    )

    companion object {
        fun start(): JvmActivity = snapshot()

        private fun snapshot(): JvmActivity {
            val gcs = ManagementFactory.getGarbageCollectorMXBeans()
            val threads = ManagementFactory.getThreadMXBean() as com.sun.management.ThreadMXBean
            val os = ManagementFactory.getOperatingSystemMXBean() as com.sun.management.OperatingSystemMXBean
            return JvmActivity(
                gcs.sumOf { it.collectionCount.coerceAtLeast(0) },
                gcs.sumOf { it.collectionTime.coerceAtLeast(0) },
                ManagementFactory.getCompilationMXBean().totalCompilationTime,
                threads.currentThreadAllocatedBytes,
                os.processCpuTime,
                System.nanoTime(),
            )
        }
    }
}

/**
 * Starts a configuration from the same state as the one before: the previous one's garbage
 * collected, and JNA's cleaner given time to free the native memory behind it.
 */
private fun settle() {
    System.gc()
    Thread.sleep(200)
}

/** The collector, heap limit and processors the JVM chose (or was given): they decide GC costs. */
private fun jvmDescription(): String {
    val runtime = ManagementFactory.getRuntimeMXBean()
    val gcs = ManagementFactory.getGarbageCollectorMXBeans().joinToString("+") { it.name }
    val flags = runtime.inputArguments.filter { it.startsWith("-X") }
    return "${runtime.vmName} ${runtime.vmVersion}, $gcs, max heap ${Runtime.getRuntime().maxMemory() shr 20} MB, " +
        "${Runtime.getRuntime().availableProcessors()} CPUs, flags $flags"
}

fun main() {
    val count = System.getProperty("smartpos.sales")?.toIntOrNull() ?: 200
    val rounds = System.getProperty("smartpos.rounds")?.toIntOrNull() ?: 3
    val warmUp = System.getProperty("smartpos.warmup")?.toIntOrNull() ?: 1_000
    // Which parts run: swipe and swipe-jni, jna and jni (chip sales), each with the ports called
    // by UniFFI callback or by JNI; upcall.
    val only = System.getProperty("smartpos.only")?.split(',')?.map { it.trim() }?.filter { it.isNotEmpty() }
        ?.toSet()?.takeIf { it.isNotEmpty() } ?: setOf("swipe", "swipe-jni", "jna", "jni", "upcall")
    val dir = Files.createTempDirectory("smartpos-ffi-bench")
    try {
        println("FFI cost: $count sales per side and round after $warmUp untimed pairs, $rounds rounds, load ${loadAverage()}")
        println("JVM: ${jvmDescription()}")
        println(
            "| sale | round | kotlin median µs | rust median µs | overhead µs (median of pairs) | overhead | " +
                "difference of medians | " +
                "kotlin thread CPU µs | rust thread CPU µs | CPU overhead µs (median of pairs) | CPU overhead / rust sale | " +
                "port calls/sale | CPU µs per call | both approved | JVM while timed |",
        )
        println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        val configs = listOf(
            Triple("swipe", false, Crossing.JNA),
            Triple("swipe-jni", false, Crossing.JNI),
            Triple("jna", true, Crossing.JNA),
            Triple("jni", true, Crossing.JNI),
        ).filter { it.first in only }
        for ((_, chip, crossing) in configs) {
            for (round in 0 until rounds) interleavedSales(dir, chip, crossing, count, warmUp, round)
        }
        // Last: a JNA upcall leaves native structures for the cleaner and the GC, which would
        // weigh on the sales measured after it.
        if ("upcall" in only) upcalls(System.getProperty("smartpos.upcalls")?.toIntOrNull() ?: 20_000)
        println("load after: ${loadAverage()}")
    } finally {
        dir.toFile().deleteRecursively()
    }
}

private fun loadAverage(): String =
    runCatching { Files.readString(Path.of("/proc/loadavg")).trim() }.getOrDefault("unknown")
