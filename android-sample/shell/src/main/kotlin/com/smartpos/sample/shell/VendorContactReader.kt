package com.smartpos.sample.shell

import com.smartpos.core.CardPresentationRecord
import com.smartpos.core.CardReader
import com.smartpos.core.PortException

/**
 * The contact (IC) slot calls a smart-POS vendor SDK offers (PAX `IIcc.init/isoCommand/close`,
 * Sunmi `ReadCardOptV2.checkCard` + `smartCardExchange`, Newland `ICCardModule`, Landi
 * `InsertCardReader`), reduced to what the core's chip kernel needs: it only ever exchanges
 * APDUs, and the kernel (in the core) does the EMV processing. Every method reports a vendor
 * failure by throwing [VendorIccFailure] with the vendor's code; never card data in it.
 */
interface VendorIccSdk {
    /** "Check card": waits up to [timeoutMs] for a card in [slot]; true when one is inserted. */
    fun detect(slot: Int, timeoutMs: Long): Boolean

    /** Cold reset; returns the ATR. */
    fun powerOn(slot: Int): ByteArray

    /** "ISO command": one C-APDU out, the R-APDU (data + SW1 SW2) back. */
    fun isoCommand(slot: Int, apdu: ByteArray): ByteArray

    /** Whether a card is still in [slot]. */
    fun isCardIn(slot: Int): Boolean

    fun powerOff(slot: Int)
}

/** A vendor SDK's failure, with its numeric code (the vendor's manual explains it). */
class VendorIccFailure(val code: Int) : Exception("vendor IC reader error $code")

/**
 * The core's `CardReader` over a vendor contact slot: `detect` powers the card on and reports a
 * contact chip, `transceive` is one APDU, `removeCard` powers off. A card pulled out mid-command
 * is [PortException.CardRemovedTooEarly], which the core turns into a reversal when the host had
 * already approved.
 */
class VendorContactReader(private val sdk: VendorIccSdk, private val slot: Int = 0) : CardReader {
    override fun detect(timeoutMs: ULong): CardPresentationRecord {
        val inserted = try {
            sdk.detect(slot, timeoutMs.toLong())
        } catch (e: VendorIccFailure) {
            throw PortException.Reader("IC slot: vendor code ${e.code}")
        }
        if (!inserted) throw PortException.NoCardPresented()
        try {
            sdk.powerOn(slot)
        } catch (e: VendorIccFailure) {
            // No answer to reset: the kernel never starts, the merchant is told to try again.
            throw PortException.Reader("IC power-on: vendor code ${e.code}")
        }
        return CardPresentationRecord.ContactChip
    }

    override fun transceive(apdu: ByteArray): ByteArray =
        try {
            sdk.isoCommand(slot, apdu)
        } catch (e: VendorIccFailure) {
            if (!sdk.isCardIn(slot)) throw PortException.CardRemovedTooEarly()
            throw PortException.Reader("IC command: vendor code ${e.code}")
        }

    override fun removeCard() {
        try {
            sdk.powerOff(slot)
        } catch (e: VendorIccFailure) {
            throw PortException.Reader("IC power-off: vendor code ${e.code}")
        }
    }
}
