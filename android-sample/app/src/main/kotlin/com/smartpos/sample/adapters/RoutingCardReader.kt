package com.smartpos.sample.adapters

import android.content.Context
import android.nfc.NfcAdapter
import com.smartpos.core.CardPresentationRecord
import com.smartpos.core.CardReader
import com.smartpos.sample.shell.PayMethod

/**
 * The one CardReader the terminal is opened with: the checkout screen says which hardware the
 * next payment uses (NFC for "tap", the vendor's swipe/chip reader for "card").
 */
class RoutingCardReader(context: Context) : CardReader {
    val contactless = IsoDepCardReader(NfcAdapter.getDefaultAdapter(context))

    /** The vendor's magstripe/contact reader; the demo reader stands in on an emulator. */
    @Volatile var contact: CardReader = DemoSwipeReader()

    @Volatile var method: PayMethod = PayMethod.CARD

    private fun active(): CardReader = if (method == PayMethod.TAP) contactless else contact

    override fun detect(timeoutMs: ULong): CardPresentationRecord = active().detect(timeoutMs)

    override fun transceive(apdu: ByteArray): ByteArray = active().transceive(apdu)

    override fun removeCard() = active().removeCard()
}
