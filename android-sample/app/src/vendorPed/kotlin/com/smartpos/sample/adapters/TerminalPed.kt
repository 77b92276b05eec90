package com.smartpos.sample.adapters

import android.content.Context
import com.smartpos.core.Ped
import com.smartpos.sample.shell.MacMode
import com.smartpos.sample.shell.VendorPed
import com.smartpos.sample.shell.VendorPedFailure
import com.smartpos.sample.shell.VendorPedSdk
import com.smartpos.sample.shell.WorkKeyType

/**
 * Terminal build (`-PsmartposPed=vendor`): the vendor PED. Replace [UnwiredVendorSdk] with the
 * class that implements [VendorPedSdk] over your vendor's SDK (bound to its service here).
 */
object TerminalPed {
    fun create(@Suppress("UNUSED_PARAMETER") context: Context): Ped = VendorPed(UnwiredVendorSdk)
}

/** Until the vendor SDK is wired, every call is a PED fault (DEV_PINPAD), never a silent success. */
private object UnwiredVendorSdk : VendorPedSdk {
    private fun unwired(): Nothing = throw VendorPedFailure(NOT_WIRED)
    override fun loadWorkKey(type: WorkKeyType, tmkIndex: Int, keyIndex: Int, encrypted: ByteArray, checkValue: ByteArray) = unwired()
    override fun hasKey(type: WorkKeyType, keyIndex: Int): Boolean = false
    override fun eraseKey(type: WorkKeyType, keyIndex: Int) = unwired()
    override fun calcMac(keyIndex: Int, mode: MacMode, data: ByteArray): ByteArray = unwired()
    override fun getPinBlock(keyIndex: Int, panDigits: String, pinLengths: IntRange, timeoutMs: Long): ByteArray? = unwired()
    override fun encryptData(keyIndex: Int, data: ByteArray): ByteArray = unwired()
    override fun keyCheckValue(type: WorkKeyType, keyIndex: Int): ByteArray = unwired()
    override fun verifyPlainPin(iccSlot: Int, pinLengths: IntRange, timeoutMs: Long): ByteArray? = unwired()
    override fun verifyCipherPin(
        iccSlot: Int,
        modulus: ByteArray,
        exponent: ByteArray,
        challenge: ByteArray,
        pinLengths: IntRange,
        timeoutMs: Long,
    ): ByteArray? = unwired()

    private const val NOT_WIRED = -100
}
