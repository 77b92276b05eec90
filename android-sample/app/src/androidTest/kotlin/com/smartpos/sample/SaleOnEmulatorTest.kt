package com.smartpos.sample

import androidx.test.ext.junit.runners.AndroidJUnit4
import androidx.test.platform.app.InstrumentationRegistry
import com.smartpos.PaymentTerminal
import com.smartpos.core.Outcome
import com.smartpos.core.SignOnOutcome
import com.smartpos.core.TerminalConfigRecord
import com.smartpos.core.TransactionKind
import com.smartpos.sample.adapters.TerminalPed
import com.smartpos.sample.adapters.DemoSwipeReader
import com.smartpos.sample.adapters.LogcatVendorPrinter
import com.smartpos.sample.adapters.ReceiptPrinter
import java.io.File
import java.security.SecureRandom
import java.util.UUID
import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith

/**
 * A whole sale on the emulator, through the ABI's .so and the generated bindings, against the
 * acquirer simulator on the development machine:
 *
 *     cargo run --bin smartpos -- sim --listen 0.0.0.0:5800      # on the development machine
 *     ./gradlew :app:connectedDebugAndroidTest                     # 10.0.2.2 is the host to the emulator
 *
 * Another address: -PsimHost=HOST:PORT (BuildConfig.SIM_HOST).
 */
@RunWith(AndroidJUnit4::class)
class SaleOnEmulatorTest {
    private val context = InstrumentationRegistry.getInstrumentation().targetContext

    private fun config(journal: File) = TerminalConfigRecord(
        terminalId = "10000001",
        merchantId = "898310048140001",
        merchantName = "SmartPOS 演示商户 DEMO SHOP",
        endpoints = listOf(BuildConfig.SIM_HOST),
        connectTimeoutMs = 5_000UL,
        responseTimeoutMs = 10_000UL,
        cardTimeoutMs = 10_000UL,
        journalPath = journal.path,
        storageKey = ByteArray(32).also { SecureRandom().nextBytes(it) },
    )

    @Test
    fun saleIsApprovedBySimulator() = runBlocking {
        // The app's Application already loaded the library (System.loadLibrary → JNI_OnLoad).
        val journal = File(context.cacheDir, "sale-test-${UUID.randomUUID()}.db")
        PaymentTerminal.open(config(journal), DemoSwipeReader(), TerminalPed.create(context), ReceiptPrinter(LogcatVendorPrinter())).use { pos ->
            assertTrue(pos.signOn() is SignOnOutcome.SignedOn)
            val outcome = pos.sale("emulator-${UUID.randomUUID()}", 1_00UL)
            val approval = (outcome as? Outcome.Approved)?.approval ?: error("not approved: $outcome")
            assertEquals(TransactionKind.SALE, approval.kind)
            assertEquals("622202******0015", approval.panMasked)
            assertTrue(approval.receiptPrinted)
            assertEquals(approval.attemptId, pos.history().first().attemptId)
        }
        journal.delete()
        Unit
    }
}
