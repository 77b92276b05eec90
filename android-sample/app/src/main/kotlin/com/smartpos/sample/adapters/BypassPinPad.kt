package com.smartpos.sample.adapters

import com.smartpos.core.PinPad

/**
 * The sample has no secure PIN pad: it reports a PIN bypass (null), which the simulator accepts
 * for its demo cards. A real terminal adapts its vendor's PIN pad SDK here: the SDK forms the
 * ISO 9564 format-0 block from the PIN and [panDigits] inside the secure element and returns it
 * encrypted under the PIK; the PAN digits must not leave this class (no logs, no UI).
 */
class BypassPinPad : PinPad {
    override fun onlinePin(panDigits: String, amountFen: ULong): ByteArray? = null
}
