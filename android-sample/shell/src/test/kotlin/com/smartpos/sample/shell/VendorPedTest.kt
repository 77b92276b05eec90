package com.smartpos.sample.shell

import com.smartpos.core.EncryptedKeyRecord
import com.smartpos.core.IccPinKeyRecord
import com.smartpos.core.OfflinePinOutcome
import com.smartpos.core.PedException
import com.smartpos.core.PedMacAlgorithm
import com.smartpos.core.WorkingKeysRecord
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/** The sample's vendor PED adapter: vendor failures come back typed, VERIFY answers parsed. */
class VendorPedTest {
    /** A vendor SDK that fails every call with [code] (or answers VERIFY with [sw]). */
    private class ScriptedSdk(var code: Int? = null, var sw: ByteArray? = byteArrayOf(0x90.toByte(), 0x00)) : VendorPedSdk {
        val loaded = mutableListOf<WorkKeyType>()
        private fun failIfScripted() { code?.let { throw VendorPedFailure(it) } }
        override fun loadWorkKey(type: WorkKeyType, tmkIndex: Int, keyIndex: Int, encrypted: ByteArray, checkValue: ByteArray) {
            failIfScripted(); loaded += type
        }
        override fun hasKey(type: WorkKeyType, keyIndex: Int) = type in loaded
        override fun eraseKey(type: WorkKeyType, keyIndex: Int) { loaded.remove(type) }
        override fun calcMac(keyIndex: Int, mode: MacMode, data: ByteArray): ByteArray { failIfScripted(); return ByteArray(8) }
        override fun getPinBlock(keyIndex: Int, panDigits: String, pinLengths: IntRange, timeoutMs: Long): ByteArray? {
            failIfScripted(); return ByteArray(8)
        }
        override fun encryptData(keyIndex: Int, data: ByteArray) = data
        override fun keyCheckValue(type: WorkKeyType, keyIndex: Int) = ByteArray(4)
        override fun verifyPlainPin(iccSlot: Int, pinLengths: IntRange, timeoutMs: Long): ByteArray? { failIfScripted(); return sw }
        override fun verifyCipherPin(iccSlot: Int, modulus: ByteArray, exponent: ByteArray, challenge: ByteArray, pinLengths: IntRange, timeoutMs: Long): ByteArray? {
            failIfScripted(); return sw
        }
    }

    private val key = EncryptedKeyRecord(ByteArray(16), ByteArray(4))

    @Test
    fun `vendor failures become typed PED exceptions`() {
        val sdk = ScriptedSdk()
        val ped = VendorPed(sdk)
        ped.loadWorkingKeys(WorkingKeysRecord(key, key, null))
        assertTrue(ped.hasWorkingKeys())

        sdk.code = VendorPedFailure.CHECK_VALUE
        assertEquals("PIK", assertThrows<PedException.CheckValueMismatch> { ped.loadWorkingKeys(WorkingKeysRecord(key, key, null)) }.key)
        sdk.code = VendorPedFailure.CANCELLED
        assertThrows<PedException.PinEntryCancelled> { ped.onlinePinBlock("6222020000000015", 1UL) }
        sdk.code = VendorPedFailure.TIMEOUT
        assertThrows<PedException.PinEntryTimeout> { ped.onlinePinBlock("6222020000000015", 1UL) }
        sdk.code = 0x3F
        val fault = assertThrows<PedException.Device> { ped.calculateMac(PedMacAlgorithm.X919, ByteArray(8)) }
        assertTrue(fault.detail.contains("63"), fault.detail)
        assertThrows<PedException.NotOffered> { ped.calculateMac(PedMacAlgorithm.SM4_CBC, ByteArray(8)) }
    }

    @Test
    fun `offline VERIFY answers are status words, null is bypass`() {
        val sdk = ScriptedSdk(sw = byteArrayOf(0x63, 0xC2.toByte()))
        val ped = VendorPed(sdk)
        assertEquals(OfflinePinOutcome.CardAnswered(0x63C2u), ped.verifyPlaintextPin(3u, 100UL, 30_000UL))
        sdk.sw = null
        val icc = IccPinKeyRecord(ByteArray(128), byteArrayOf(3), ByteArray(8))
        assertEquals(OfflinePinOutcome.Bypassed, ped.verifyEncipheredPin(icc, null, 100UL, 30_000UL))
        sdk.sw = byteArrayOf(0x90.toByte())
        assertThrows<PedException.Device> { ped.verifyPlaintextPin(null, 100UL, 30_000UL) }
    }
}
