package com.smartpos.sample

import android.app.Application
import com.smartpos.PaymentTerminal
import com.smartpos.QrPayments
import com.smartpos.SmartPos
import com.smartpos.core.LogLevel
import com.smartpos.core.QrConfigRecord
import com.smartpos.core.TerminalConfigRecord
import com.smartpos.core.TerminalPorts
import com.smartpos.sample.adapters.ConnectivityNetworkMonitor
import com.smartpos.sample.adapters.LastKnownLocation
import com.smartpos.sample.adapters.LogcatVendorPrinter
import com.smartpos.sample.adapters.PaymentCodeScanner
import com.smartpos.sample.adapters.ReceiptPrinter
import com.smartpos.sample.adapters.RoutingCardReader
import com.smartpos.sample.adapters.StorageKeyStore
import com.smartpos.sample.adapters.TerminalPed
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.withLock

/**
 * Process-wide wiring: loads the core, routes its logs to logcat and owns the one terminal.
 * A terminal is a process singleton: one journal, one acquirer session, one call at a time.
 */
class SmartPosApp : Application() {
    lateinit var cardReader: RoutingCardReader
        private set
    lateinit var scanner: PaymentCodeScanner
        private set
    lateinit var network: ConnectivityNetworkMonitor
        private set
    private val opening = Mutex()
    private var terminal: PaymentTerminal? = null
    private val openingQr = Mutex()
    private var qr: QrPayments? = null

    override fun onCreate() {
        super.onCreate()
        // Before any binding call: runs JNI_OnLoad, which JNA's own loading would skip.
        System.loadLibrary("smartpos_ffi")
        SmartPos.initLogging(if (BuildConfig.DEBUG) LogLevel.DEBUG else LogLevel.INFO)
        cardReader = RoutingCardReader(this)
        scanner = PaymentCodeScanner(this)
        network = ConnectivityNetworkMonitor(this).also { it.start() }
    }

    /** The terminal, opened on first use (opening runs recovery, so it may go online). */
    suspend fun terminal(): PaymentTerminal = opening.withLock {
        terminal ?: PaymentTerminal.open(
            config = config(),
            // PaymentTerminal.open has the core call every port by JNI: a
            // chip or tap sale makes 15 to 20 reader calls, each cheaper than a UniFFI callback by
            // an order of magnitude (issue #17, scripts/bench-ffi).
            cardReader = cardReader,
            ped = TerminalPed.create(this),
            printer = ReceiptPrinter(LogcatVendorPrinter()),
            optional = TerminalPorts(
                scanner = scanner,
                network = network,
                location = LastKnownLocation(this),
                prompt = null,
            ),
        ).also { terminal = it }
    }

    /**
     * The QR session, opened on first use. It needs no card configuration and has its own
     * journal; orders a crash left open are finished here, before the first payment.
     */
    suspend fun qr(): QrPayments = openingQr.withLock {
        qr ?: QrPayments.open(qrConfig()).also {
            qr = it
            it.recover()
        }
    }

    /**
     * The simulated QR gateway's demo merchant and key (tools/src/sim/gateway: DEMO_SIGNING_KEY).
     * A real deployment receives its gateway key at provisioning and keeps it wrapped by the
     * Android Keystore, like the storage key; never in source code.
     */
    private fun qrConfig() = QrConfigRecord(
        gatewayUrl = BuildConfig.QR_GATEWAY_URL,
        merchantId = "898310048140001",
        terminalId = "10000001",
        signingKey = "smartpos-demo-qr-gateway-key-000".toByteArray(),
        journalPath = getDatabasePath("qr.db").also { it.parentFile?.mkdirs() }.path,
        pollIntervalMs = 5_000UL,
        pollDeadlineMs = 45_000UL,
        caPem = null,
    )

    /**
     * The demo terminal of the simulator (`smartpos sim`: tools/src/demo_setup.rs). A real
     * deployment gets its identity from the acquirer's parameter download; keys are not part of
     * the configuration at all (the TMK is injected into the PED, see [TerminalPed]).
     */
    private fun config() = TerminalConfigRecord(
        terminalId = "10000001",
        merchantId = "898310048140001",
        merchantName = "SmartPOS 演示商户 DEMO SHOP",
        endpoints = listOf(BuildConfig.SIM_HOST),
        connectTimeoutMs = 5_000UL,
        responseTimeoutMs = 30_000UL,
        cardTimeoutMs = 60_000UL,
        journalPath = getDatabasePath("journal.db").also { it.parentFile?.mkdirs() }.path,
        storageKey = StorageKeyStore(this).storageKey(),
    )
}
