package com.smartpos.sample.shell

import com.smartpos.core.CardPresentationRecord
import com.smartpos.core.PortException
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/** The sample's vendor contact-slot adapter: APDUs pass through, vendor failures come back typed. */
class VendorContactReaderTest {
    private class ScriptedSlot : VendorIccSdk {
        var inserted = true
        var failWith: Int? = null
        val sent = mutableListOf<ByteArray>()
        var poweredOff = 0
        override fun detect(slot: Int, timeoutMs: Long) = inserted
        override fun powerOn(slot: Int): ByteArray { failWith?.let { throw VendorIccFailure(it) }; return byteArrayOf(0x3B, 0x00) }
        override fun isoCommand(slot: Int, apdu: ByteArray): ByteArray {
            failWith?.let { throw VendorIccFailure(it) }
            sent += apdu
            return byteArrayOf(0x90.toByte(), 0x00)
        }
        override fun isCardIn(slot: Int) = inserted
        override fun powerOff(slot: Int) { poweredOff++ }
    }

    @Test
    fun `an inserted card is a contact chip whose APDUs pass through`() {
        val slot = ScriptedSlot()
        val reader = VendorContactReader(slot)
        assertEquals(CardPresentationRecord.ContactChip, reader.detect(1_000UL))
        val select = byteArrayOf(0x00, 0xA4.toByte(), 0x04, 0x00)
        assertArrayEquals(byteArrayOf(0x90.toByte(), 0x00), reader.transceive(select))
        assertArrayEquals(select, slot.sent.single())
        reader.removeCard()
        assertEquals(1, slot.poweredOff)
    }

    @Test
    fun `no card, a dead chip and a pulled card are told apart`() {
        val slot = ScriptedSlot()
        val reader = VendorContactReader(slot)
        slot.inserted = false
        assertThrows<PortException.NoCardPresented> { reader.detect(1_000UL) }
        slot.inserted = true
        slot.failWith = -4001
        assertThrows<PortException.Reader> { reader.detect(1_000UL) }
        assertThrows<PortException.Reader> { reader.transceive(byteArrayOf(0)) }
        slot.inserted = false
        assertThrows<PortException.CardRemovedTooEarly> { reader.transceive(byteArrayOf(0)) }
    }
}
