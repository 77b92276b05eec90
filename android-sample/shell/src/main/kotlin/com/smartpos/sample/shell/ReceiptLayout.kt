package com.smartpos.sample.shell

import com.smartpos.core.ReceiptRecord

/**
 * Lays a receipt out for a thermal printer of [columns] half-width cells. CJK characters take two
 * cells on these printers, so widths are counted in cells, not characters.
 */
object ReceiptLayout {
    fun lines(receipt: ReceiptRecord, columns: Int): List<String> = buildList {
        addAll(wrap(receipt.title, columns))
        add("-".repeat(columns))
        receipt.cardMasked?.let { addAll(pair("卡号 CARD NO", it, columns)) }
        receipt.lines.forEach { addAll(pair(it.label, it.value, columns)) }
        add("-".repeat(columns))
        receipt.footer.forEach { addAll(wrap(it, columns)) }
    }

    /** Label and value on one line, value to the right, or on two lines when they do not fit. */
    private fun pair(label: String, value: String, columns: Int): List<String> {
        val gap = columns - cells(label) - cells(value)
        return if (gap >= 1) listOf(label + " ".repeat(gap) + value) else wrap(label, columns) + wrap(value, columns)
    }

    private fun wrap(text: String, columns: Int): List<String> {
        val out = mutableListOf<String>()
        val line = StringBuilder()
        var used = 0
        for (c in text) {
            val w = cells(c)
            if (used + w > columns && line.isNotEmpty()) {
                out += line.toString()
                line.clear()
                used = 0
            }
            line.append(c)
            used += w
        }
        if (line.isNotEmpty() || out.isEmpty()) out += line.toString()
        return out
    }

    fun cells(text: String): Int = text.sumOf { cells(it) }

    private fun cells(c: Char): Int = if (c.code >= 0x2E80) 2 else 1
}
