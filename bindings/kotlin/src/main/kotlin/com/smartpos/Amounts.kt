package com.smartpos

import com.smartpos.core.AmountRecord
import com.smartpos.core.SmartPosException
import com.smartpos.core.formatAmount
import com.smartpos.core.parseAmount

/**
 * Amounts for the shell's keypad and display. All arithmetic stays in fen ([AmountRecord.fen]);
 * the rules (at most 2 decimals, at most 12 digits of fen) live in the Rust core, not here.
 */
object Amounts {
    /** Parses yuan text such as "12.34"; throws [SmartPosException.InvalidAmount] with the reason. */
    @Throws(SmartPosException::class)
    fun parse(text: String): AmountRecord = parseAmount(text)

    /** The amount, or null when [text] is not a valid amount (e.g. to grey out a "Pay" button). */
    fun parseOrNull(text: String): AmountRecord? =
        try {
            parseAmount(text)
        } catch (e: SmartPosException.InvalidAmount) {
            null
        }

    /** Yuan with two decimals, e.g. "0.05" for 5 fen. */
    @Throws(SmartPosException::class)
    fun format(fen: ULong): String = formatAmount(fen)
}
