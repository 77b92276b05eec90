package com.smartpos.sample.adapters

import com.smartpos.core.CardPresentationRecord
import com.smartpos.core.CardReader
import com.smartpos.core.PortException

/**
 * Stands in for the vendor's magstripe reader on an emulator: "swipes" a demo card of the
 * simulator's ledger (tools/src/sim/ledger: "normal", PAN 6222020000000015). Replace it with an
 * adapter over the vendor SDK's reader; never ship it.
 */
class DemoSwipeReader(private val track2: String = "6222020000000015=30121010000000000") : CardReader {
    override fun detect(timeoutMs: ULong): CardPresentationRecord = CardPresentationRecord.Magstripe(track2)

    override fun transceive(apdu: ByteArray): ByteArray = throw PortException.Reader("the demo reader has no chip")

    override fun removeCard() {}
}
