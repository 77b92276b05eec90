package com.smartpos.sample.shell

import com.smartpos.core.IccPinKeyRecord
import com.smartpos.core.OfflinePinOutcome
import com.smartpos.core.Ped
import com.smartpos.core.PedException
import com.smartpos.core.PedKey
import com.smartpos.core.PedMacAlgorithm
import com.smartpos.core.WorkingKeysRecord

/**
 * The PED calls a smart-POS vendor SDK offers (Sunmi `SecurityOptV2`/`PinPadOptV2`, PAX `IPed`,
 * Newland `K21Pininput`/`SecurityModule`, Landi `PinEntryV2`), reduced to what the core needs.
 * The vendor code fills this in; key indexes are the slots the key-injection facility used.
 * Every method reports a vendor failure by throwing [VendorPedFailure] with the vendor's code:
 * never key material, PIN or PAN in it.
 */
interface VendorPedSdk {
    /** "Load working key": [encrypted] under the TMK in [tmkIndex], checked against [checkValue] inside the PED. */
    fun loadWorkKey(type: WorkKeyType, tmkIndex: Int, keyIndex: Int, encrypted: ByteArray, checkValue: ByteArray)

    fun hasKey(type: WorkKeyType, keyIndex: Int): Boolean

    fun eraseKey(type: WorkKeyType, keyIndex: Int)

    /** "Calculate MAC" with the MAK in [keyIndex]; 8 bytes. */
    fun calcMac(keyIndex: Int, mode: MacMode, data: ByteArray): ByteArray

    /**
     * "Get PIN block": the PED shows its own keypad, forms ISO 9564 format 0 with [panDigits] and
     * enciphers it under the PIK in [keyIndex]; null when the cardholder bypasses. Throws
     * [VendorPedFailure] with [VendorPedFailure.CANCELLED] or [VendorPedFailure.TIMEOUT].
     */
    fun getPinBlock(keyIndex: Int, panDigits: String, pinLengths: IntRange, timeoutMs: Long): ByteArray?

    /** "Encrypt data" (TDES ECB) with the TDK in [keyIndex]. */
    fun encryptData(keyIndex: Int, data: ByteArray): ByteArray

    /** "Get KCV": the check value of the key in [keyIndex] (4 or 8 bytes). */
    fun keyCheckValue(type: WorkKeyType, keyIndex: Int): ByteArray

    /** "Offline plain PIN verify" on the card in the PED's ICC slot; returns SW1 SW2, or null on bypass. */
    fun verifyPlainPin(iccSlot: Int, pinLengths: IntRange, timeoutMs: Long): ByteArray?

    /** "Offline cipher PIN verify" under the card's RSA key and challenge; returns SW1 SW2, or null on bypass. */
    fun verifyCipherPin(
        iccSlot: Int,
        modulus: ByteArray,
        exponent: ByteArray,
        challenge: ByteArray,
        pinLengths: IntRange,
        timeoutMs: Long,
    ): ByteArray?
}

enum class WorkKeyType { PIK, MAK, TDK }

enum class MacMode { X919, CUP_ECB }

/** A vendor SDK's failure, with its numeric code (the vendor's manual explains it). */
class VendorPedFailure(val code: Int) : Exception("PED error $code") {
    companion object {
        const val CANCELLED = -1
        const val TIMEOUT = -2
        const val CHECK_VALUE = -3
    }
}

/**
 * The core's [Ped] over a vendor SDK: key custody, PIN entry and offline PIN stay in the vendor's
 * secure processor. Failures come back typed: a check-value mismatch as such (nothing loaded),
 * cancel and timeout as PIN-entry endings, anything else as [PedException.Device] (DEV_PINPAD).
 */
class VendorPed(
    private val sdk: VendorPedSdk,
    private val tmkIndex: Int = 0,
    private val keyIndex: Int = 1,
    private val iccSlot: Int = 0,
    private val pinLengths: IntRange = 4..12,
) : Ped {
    private inline fun <T> vendor(call: () -> T): T = try {
        call()
    } catch (e: VendorPedFailure) {
        throw when (e.code) {
            VendorPedFailure.CANCELLED -> PedException.PinEntryCancelled()
            VendorPedFailure.TIMEOUT -> PedException.PinEntryTimeout()
            else -> PedException.Device("vendor code ${e.code}")
        }
    }

    override fun loadWorkingKeys(keys: WorkingKeysRecord) {
        fun load(type: WorkKeyType, encrypted: ByteArray, check: ByteArray) = try {
            sdk.loadWorkKey(type, tmkIndex, keyIndex, encrypted, check)
        } catch (e: VendorPedFailure) {
            if (e.code == VendorPedFailure.CHECK_VALUE) throw PedException.CheckValueMismatch(type.name)
            throw PedException.Device("load ${type.name}: vendor code ${e.code}")
        }
        load(WorkKeyType.PIK, keys.pik.ciphertext, keys.pik.checkValue)
        load(WorkKeyType.MAK, keys.mak.ciphertext, keys.mak.checkValue)
        val tdk = keys.tdk
        if (tdk != null) load(WorkKeyType.TDK, tdk.ciphertext, tdk.checkValue) else vendor { sdk.eraseKey(WorkKeyType.TDK, keyIndex) }
    }

    override fun hasWorkingKeys(): Boolean = vendor {
        sdk.hasKey(WorkKeyType.PIK, keyIndex) && sdk.hasKey(WorkKeyType.MAK, keyIndex)
    }

    override fun clearWorkingKeys() = vendor {
        WorkKeyType.entries.forEach { sdk.eraseKey(it, keyIndex) }
    }

    override fun calculateMac(algorithm: PedMacAlgorithm, data: ByteArray): ByteArray {
        val mode = when (algorithm) {
            PedMacAlgorithm.X919 -> MacMode.X919
            PedMacAlgorithm.CUP_ECB -> MacMode.CUP_ECB
            PedMacAlgorithm.SM4_CBC -> throw PedException.NotOffered("SM4 MAC")
        }
        return vendor { sdk.calcMac(keyIndex, mode, data) }
    }

    override fun onlinePinBlock(panDigits: String, amountFen: ULong): ByteArray? =
        vendor { sdk.getPinBlock(keyIndex, panDigits, pinLengths, PIN_TIMEOUT_MS) }

    override fun encryptDataBlock(block: ByteArray): ByteArray = vendor { sdk.encryptData(keyIndex, block) }

    override fun keyCheckValue(key: PedKey): ByteArray {
        val type = when (key) {
            PedKey.PIK -> WorkKeyType.PIK
            PedKey.MAK -> WorkKeyType.MAK
            PedKey.TDK -> WorkKeyType.TDK
        }
        return vendor { sdk.keyCheckValue(type, keyIndex) }
    }

    override fun verifyPlaintextPin(triesLeft: UByte?, amountFen: ULong, timeoutMs: ULong): OfflinePinOutcome =
        outcome(vendor { sdk.verifyPlainPin(iccSlot, pinLengths, timeoutMs.toLong()) })

    override fun verifyEncipheredPin(key: IccPinKeyRecord, triesLeft: UByte?, amountFen: ULong, timeoutMs: ULong): OfflinePinOutcome =
        outcome(vendor { sdk.verifyCipherPin(iccSlot, key.modulus, key.exponent, key.challenge, pinLengths, timeoutMs.toLong()) })

    private fun outcome(sw: ByteArray?): OfflinePinOutcome {
        if (sw == null) return OfflinePinOutcome.Bypassed
        if (sw.size != 2) throw PedException.Device("VERIFY answer of ${sw.size} bytes")
        val word = ((sw[0].toInt() and 0xFF) shl 8) or (sw[1].toInt() and 0xFF)
        return OfflinePinOutcome.CardAnswered(word.toUShort())
    }

    private companion object {
        const val PIN_TIMEOUT_MS = 60_000L
    }
}
