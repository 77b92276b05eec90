package com.smartpos.sample.shell

import com.smartpos.core.ReceiptLineRecord
import com.smartpos.core.ReceiptRecord
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

class ReceiptLayoutTest {
    private val receipt = ReceiptRecord(
        title = "POS签购单 / POS SALES SLIP",
        cardMasked = "622202******0015",
        lines = listOf(
            ReceiptLineRecord("凭证号 VOUCHER NO", "000042"),
            ReceiptLineRecord("商户名称 MERCHANT", "SmartPOS 演示商户 DEMO SHOP"),
        ),
        footer = listOf("I ACKNOWLEDGE SATISFACTORY RECEIPT OF RELATIVE GOODS/SERVICES"),
    )

    @Test
    fun `no line is wider than the paper, counting CJK as two cells`() {
        val lines = ReceiptLayout.lines(receipt, 32)
        for (line in lines) assertTrue(ReceiptLayout.cells(line) <= 32, "too wide: '$line'")
        // "POS签购单" is 3 + 3 * 2 = 9 cells.
        assertEquals(9, ReceiptLayout.cells("POS签购单"))
    }

    @Test
    fun `a pair that fits shares a line with the value at the right edge`() {
        val lines = ReceiptLayout.lines(receipt, 32)
        val voucher = lines.single { it.startsWith("凭证号") }
        assertTrue(voucher.endsWith("000042"))
        assertEquals(32, ReceiptLayout.cells(voucher))
        assertTrue(lines.any { it.endsWith("622202******0015") }, "$lines")
        // The merchant name does not fit beside its label: label, then value.
        val at = lines.indexOf("商户名称 MERCHANT")
        assertTrue(at >= 0 && lines[at + 1].startsWith("SmartPOS"), "$lines")
    }

    @Test
    fun `the footer wraps without losing characters`() {
        val lines = ReceiptLayout.lines(receipt, 32)
        val footer = lines.takeLastWhile { !it.startsWith("-") }
        assertEquals(receipt.footer.single(), footer.joinToString(""))
    }
}
