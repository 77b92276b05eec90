package com.smartpos

import com.smartpos.core.BinRangeRecord
import com.smartpos.core.CardKindRecord
import com.smartpos.core.Outcome
import com.smartpos.core.SettlementOutcome
import com.smartpos.core.SignOnOutcome
import com.smartpos.core.SmartPosException
import com.smartpos.core.SignatureCaptureRecord
import com.smartpos.core.SignatureNoteRecord
import com.smartpos.core.SignaturePad
import com.smartpos.core.SignaturePointRecord
import com.smartpos.core.SignatureEntryMode
import com.smartpos.core.SignaturePolicyRecord
import com.smartpos.core.SignatureRuleRecord
import com.smartpos.core.SignatureRequestRecord
import com.smartpos.core.TerminalConfigRecord
import com.smartpos.core.TestAcquirer
import com.smartpos.core.TestAcquirerFault
import com.smartpos.core.demoTerminalConfig
import com.smartpos.core.startTestAcquirer
import java.io.ByteArrayInputStream
import java.nio.file.Path
import javax.imageio.ImageIO
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir

/** A signing screen that answers from a script: strokes (a zigzag with timestamps) or cancel. */
class ScriptedPad(var cancel: Boolean = false) : SignaturePad {
    val requests = java.util.Collections.synchronizedList(mutableListOf<SignatureRequestRecord>())

    override fun capture(request: SignatureRequestRecord): SignatureCaptureRecord {
        requests += request
        if (cancel) return SignatureCaptureRecord.Cancelled
        val stroke = (0 until 40).map { i ->
            SignaturePointRecord(x = 20.0 + i * 20.0, y = if (i % 2 == 0) 100.0 else 260.0, tMs = (i * 16).toULong())
        }
        return SignatureCaptureRecord.Signed(width = 1000U, height = 400U, strokes = listOf(stroke))
    }
}

/** 电签 through the real library: a signed sale, its upload queued and sent, a pad that cancels. */
class ESignatureTest {
    @TempDir lateinit var dir: Path
    private lateinit var acquirer: TestAcquirer
    private lateinit var config: TerminalConfigRecord
    private val pad = ScriptedPad()
    private lateinit var pos: PaymentTerminal

    @BeforeEach
    fun setUp() {
        acquirer = startTestAcquirer()
        config = demoTerminalConfig(acquirer.address(), dir.resolve("journal.db").toString())
        pos = runBlocking { PaymentTerminal.open(config, SwipeReader(), demoPed(), RecordingPrinter()) }
        assertTrue(runBlocking { pos.signOn() } is SignOnOutcome.SignedOn)
        pos.terminal.fitSignaturePad(
            pad,
            SignaturePolicyRecord(signEverySlip = false, swipedCardsSign = true, noCvmLimitFen = 100_000UL),
        )
    }

    @AfterEach
    fun tearDown() {
        pos.close()
        acquirer.stop()
    }

    private fun approved(o: Outcome) = (o as? Outcome.Approved)?.approval ?: error("not approved: $o")

    @Test
    fun `a signed sale is uploaded and its e-slip shows the signature`() = runBlocking<Unit> {
        val a = approved(pos.sale("signed-1", 8_800UL))
        val note = a.signature as? SignatureNoteRecord.Signed ?: error("not signed: ${a.signature}")
        assertTrue(note.uploaded, "uploaded right after the sale")
        assertTrue(note.jbigBytes in 1UL..1023UL, "a signature under 1 KB: ${note.jbigBytes}")
        assertEquals(8_800UL, pad.requests.single().amountFen)
        val slip = pos.terminal.eSlip(a.stan) ?: error("no e-slip")
        assertEquals("signed", slip.signatureState)
        assertEquals(true, slip.uploadSent)
        val png = slip.signaturePng ?: error("no signature image")
        assertTrue(png.copyOfRange(0, 4).contentEquals(byteArrayOf(0x89.toByte(), 0x50, 0x4E, 0x47)))
        // The raster a shell without the core's PNG draws: the same pixels, 1 for ink.
        val raster = slip.signatureRaster ?: error("no signature raster")
        val image = ImageIO.read(ByteArrayInputStream(png)) ?: error("PNG not readable")
        assertEquals(raster.width.toInt(), image.width)
        assertEquals(raster.height.toInt(), image.height)
        var ink = 0
        for (y in 0 until image.height) {
            for (x in 0 until image.width) {
                val bit = raster.bits[y * raster.stride.toInt() + x / 8].toInt() shr (7 - x % 8) and 1
                val black = image.getRGB(x, y) and 0xFFFFFF == 0
                assertEquals(bit == 1, black, "pixel ($x, $y)")
                ink += bit
            }
        }
        assertTrue(ink > 0, "the signature has ink")
        assertTrue(slip.json.contains("622202******0015"))
        assertFalse(slip.json.contains("6222020000000015"), "no full PAN in the slip")
        // The cardholder's number for an SMS slip: kept sealed, shown masked.
        pos.terminal.setSlipPhone("signed-1", "13812345678")
        val withPhone = pos.terminal.eSlip(a.stan)?.json ?: error("no e-slip")
        assertTrue(withPhone.contains("138****5678"), withPhone)
        assertFalse(withPhone.contains("13812345678"), "no full number in the slip")
        val bad = runCatching { pos.terminal.setSlipPhone("signed-1", "12345") }.exceptionOrNull()
        assertTrue(bad is SmartPosException.InvalidInput, "$bad")
    }

    @Test
    fun `an upload the acquirer fails stays queued and goes before settlement`() = runBlocking<Unit> {
        acquirer.injectFault("0820", TestAcquirerFault.Decline("96"))
        val a = approved(pos.sale("signed-2", 4_200UL))
        val note = a.signature as? SignatureNoteRecord.Signed ?: error("not signed: ${a.signature}")
        assertFalse(note.uploaded)
        assertEquals(false, pos.terminal.eSlip(a.stan)?.uploadSent, "queued")
        val settled = pos.settle() as? SettlementOutcome.Settled ?: error("not settled")
        assertTrue(settled.report.paperSlips.isEmpty())
        assertEquals(true, pos.terminal.eSlip(a.stan)?.uploadSent, "sent before the batch closed")
    }

    @Test
    fun `a pad that cancels keeps the payment and asks for a paper slip`() = runBlocking<Unit> {
        pad.cancel = true
        val a = approved(pos.sale("unsigned-1", 3_000UL))
        val note = a.signature as? SignatureNoteRecord.Missing ?: error("not missing: ${a.signature}")
        assertEquals("OP_SIGNATURE_MISSING", note.note.code)
        assertTrue(note.note.merchantZh.contains("纸质签购单"))
        assertEquals(3_000L, acquirer.netFen(), "the payment stands")
        assertEquals("missing", pos.terminal.eSlip(a.stan)?.signatureState)
    }

    @Test
    fun `the acquirer's BIN ranges give a swiped card its kind for a credit-only rule`() = runBlocking<Unit> {
        val creditOnly = { kind: CardKindRecord, low: String, high: String ->
            SignaturePolicyRecord(
                signEverySlip = false,
                swipedCardsSign = false,
                noCvmLimitFen = 100_000UL,
                signingCardKinds = listOf(CardKindRecord.CREDIT),
                cardKindBins = listOf(BinRangeRecord(low = low, high = high, kind = kind)),
            )
        }
        // The demo card (622202...) is in the acquirer's debit range: not asked.
        pos.terminal.fitSignaturePad(pad, creditOnly(CardKindRecord.DEBIT, "622202", "622202"))
        assertNull(approved(pos.sale("kind-1", 1_100UL)).signature)
        assertTrue(pad.requests.isEmpty())
        // In a credit range it signs.
        pos.terminal.fitSignaturePad(pad, creditOnly(CardKindRecord.CREDIT, "62220000", "62229999"))
        val note = approved(pos.sale("kind-2", 1_200UL)).signature
        assertTrue(note is SignatureNoteRecord.Signed, "$note")
        assertEquals(1, pad.requests.size)
        // Bounds of different lengths are refused, and the rules in force stay.
        val bad = runCatching { pos.terminal.fitSignaturePad(pad, creditOnly(CardKindRecord.DEBIT, "62", "6")) }
            .exceptionOrNull()
        assertTrue(bad is SmartPosException.InvalidInput, "$bad")
    }

    @Test
    fun `the acquirer's own rows combine entry mode and card kind and come first`() = runBlocking<Unit> {
        // Swiped cards sign (the shorthand), except swiped debit cards (the acquirer's row first).
        val rules = SignaturePolicyRecord(
            signEverySlip = false,
            swipedCardsSign = true,
            noCvmLimitFen = 100_000UL,
            cardKindBins = listOf(BinRangeRecord(low = "622202", high = "622202", kind = CardKindRecord.DEBIT)),
            acquirerRules = listOf(
                SignatureRuleRecord(SignatureEntryMode.MAGSTRIPE, CardKindRecord.DEBIT, signature = false),
            ),
        )
        pos.terminal.fitSignaturePad(pad, rules)
        assertNull(approved(pos.sale("row-1", 1_300UL)).signature)
        assertTrue(pad.requests.isEmpty())
        // The same row for chip cards only: the swipe falls through to "swiped cards sign".
        pos.terminal.fitSignaturePad(
            pad,
            rules.copy(acquirerRules = listOf(SignatureRuleRecord(SignatureEntryMode.CONTACT_CHIP, CardKindRecord.DEBIT, false))),
        )
        assertTrue(approved(pos.sale("row-2", 1_400UL)).signature is SignatureNoteRecord.Signed)
        assertEquals(1, pad.requests.size)
    }
}
