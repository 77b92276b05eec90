package com.smartpos.sample.shell

/**
 * The amount keypad's text as the merchant types it ("12.3"). It only refuses keys that could
 * never lead to a valid amount (a second point, a third decimal, a 13th digit); whether the text
 * is an amount is decided by the core ([com.smartpos.Amounts]) when the merchant confirms.
 */
data class AmountKeypad(val text: String = "") {
    /** Applies one key: '0'..'9', '.', or [BACKSPACE]. Other keys leave the text as it is. */
    fun press(key: Char): AmountKeypad = when {
        key == BACKSPACE -> AmountKeypad(text.dropLast(1))
        key == '.' -> when {
            '.' in text -> this
            text.isEmpty() -> AmountKeypad("0.")
            else -> AmountKeypad("$text.")
        }
        key in '0'..'9' -> typed(key)
        else -> this
    }

    private fun typed(digit: Char): AmountKeypad {
        val point = text.indexOf('.')
        if (point >= 0 && text.length - point > DECIMALS) return this
        val integerDigits = if (point >= 0) point else text.length
        if (point < 0 && integerDigits >= MAX_YUAN_DIGITS) return this
        // "0" followed by a digit replaces the zero: nobody means "07" yuan.
        if (text == "0") return AmountKeypad(digit.toString())
        return AmountKeypad(text + digit)
    }

    companion object {
        const val BACKSPACE = '\b'
        private const val DECIMALS = 2

        /** Field 4 carries 12 digits of fen: 10 digits of yuan plus 2 decimals. */
        private const val MAX_YUAN_DIGITS = 10
    }
}
