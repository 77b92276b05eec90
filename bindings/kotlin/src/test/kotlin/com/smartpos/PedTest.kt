package com.smartpos

import com.smartpos.core.IccPinKeyRecord
import com.smartpos.core.OfflinePinOutcome
import com.smartpos.core.Outcome
import com.smartpos.core.Ped
import com.smartpos.core.PedException
import com.smartpos.core.PedKey
import com.smartpos.core.PedMacAlgorithm
import com.smartpos.core.SignOnOutcome
import com.smartpos.core.SoftwarePed
import com.smartpos.core.WorkingKeysRecord
import com.smartpos.core.demoTerminalConfig
import com.smartpos.core.startTestAcquirer
import java.nio.file.Path
import java.util.concurrent.atomic.AtomicInteger
import javax.crypto.Cipher
import javax.crypto.spec.SecretKeySpec
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir

/** The simulator's TMK (tools/src/demo_setup.rs), injected into the fake as a key loader would. */
const val DEMO_TMK_HEX = "0123456789ABCDEFFEDCBA9876543210"

fun hex(s: String): ByteArray = ByteArray(s.length / 2) { s.substring(2 * it, 2 * it + 2).toInt(16).toByte() }

fun ByteArray.toHex(): String = joinToString("") { "%02X".format(it) }

/**
 * A PED in Kotlin that holds TMK and working keys itself, as a vendor PED's secure processor
 * does: the core sends it enciphered keys, MAC input and PANs, and gets MACs and PIN blocks back.
 * TDES through the JVM's `javax.crypto` (DESede/ECB/NoPadding; a single-length key is K|K|K).
 */
class TdesPed(tmk: ByteArray, @Volatile var pin: String? = DEMO_PIN) : Ped {
    private val tmk = tmk.copyOf()
    @Volatile private var pik: ByteArray? = null
    @Volatile private var mak: ByteArray? = null
    @Volatile private var tdk: ByteArray? = null
    @Volatile var received: WorkingKeysRecord? = null
    val macs = AtomicInteger()
    val pinBlocks = AtomicInteger()
    val dataBlocks = AtomicInteger()

    private fun cipher(mode: Int, key: ByteArray): Cipher {
        val k24 = when (key.size) {
            8 -> key + key + key
            16 -> key + key.copyOfRange(0, 8)
            else -> throw PedException.Device("key of ${key.size} bytes")
        }
        return Cipher.getInstance("DESede/ECB/NoPadding").apply { init(mode, SecretKeySpec(k24, "DESede")) }
    }

    private fun encrypt(key: ByteArray, data: ByteArray) = cipher(Cipher.ENCRYPT_MODE, key).doFinal(data)

    private fun decrypt(key: ByteArray, data: ByteArray) = cipher(Cipher.DECRYPT_MODE, key).doFinal(data)

    /** UnionPay check value: the key enciphers eight zero bytes, the first four are kept. */
    private fun checkValue(key: ByteArray) = encrypt(key, ByteArray(8)).copyOf(4)

    override fun loadWorkingKeys(keys: WorkingKeysRecord) {
        fun unwrap(name: String, ciphertext: ByteArray, check: ByteArray): ByteArray {
            val clear = decrypt(tmk, ciphertext)
            if (!java.security.MessageDigest.isEqual(checkValue(clear), check)) {
                throw PedException.CheckValueMismatch(name)
            }
            return clear
        }
        // All verified before any is installed: a bad TDK leaves the old set in place.
        val newPik = unwrap("PIK", keys.pik.ciphertext, keys.pik.checkValue)
        val newMak = unwrap("MAK", keys.mak.ciphertext, keys.mak.checkValue)
        val newTdk = keys.tdk?.let { unwrap("TDK", it.ciphertext, it.checkValue) }
        pik = newPik; mak = newMak; tdk = newTdk
        received = keys
    }

    override fun hasWorkingKeys(): Boolean = mak != null

    override fun clearWorkingKeys() {
        pik = null; mak = null; tdk = null
    }

    override fun calculateMac(algorithm: PedMacAlgorithm, data: ByteArray): ByteArray {
        val key = mak ?: throw PedException.NoWorkingKeys()
        if (algorithm != PedMacAlgorithm.X919) throw PedException.NotOffered("$algorithm")
        macs.incrementAndGet()
        return x919(key, data)
    }

    override fun onlinePinBlock(panDigits: String, amountFen: ULong): ByteArray? {
        val key = pik ?: throw PedException.NoWorkingKeys()
        val p = pin ?: return null
        pinBlocks.incrementAndGet()
        return encrypt(key, iso0(p, panDigits))
    }

    override fun encryptDataBlock(block: ByteArray): ByteArray {
        val key = tdk ?: throw PedException.NoDataKey()
        dataBlocks.incrementAndGet()
        return encrypt(key, block)
    }

    override fun keyCheckValue(key: PedKey): ByteArray {
        val k = when (key) {
            PedKey.PIK -> pik
            PedKey.MAK -> mak
            PedKey.TDK -> tdk
        } ?: throw PedException.NoWorkingKeys()
        return checkValue(k)
    }

    override fun verifyPlaintextPin(triesLeft: UByte?, amountFen: ULong, timeoutMs: ULong): OfflinePinOutcome =
        throw PedException.NotOffered("offline plaintext PIN")

    override fun verifyEncipheredPin(key: IccPinKeyRecord, triesLeft: UByte?, amountFen: ULong, timeoutMs: ULong): OfflinePinOutcome =
        throw PedException.NotOffered("offline enciphered PIN")

    companion object {
        /**
         * ANSI X9.19 (ISO 9797-1 MAC algorithm 3): single-DES CBC with the left half over the data
         * padded with zeros (method 1), then the last block deciphered with the right half and
         * enciphered with the left.
         */
        fun x919(key: ByteArray, data: ByteArray): ByteArray {
            val left = key.copyOfRange(0, 8)
            val right = key.copyOfRange(8, 16)
            val padded = if (data.isEmpty()) ByteArray(8) else data.copyOf((data.size + 7) / 8 * 8)
            val enc = Cipher.getInstance("DESede/ECB/NoPadding")
                .apply { init(Cipher.ENCRYPT_MODE, SecretKeySpec(left + left + left, "DESede")) }
            var chain = ByteArray(8)
            for (i in padded.indices step 8) {
                chain = enc.doFinal(ByteArray(8) { (chain[it].toInt() xor padded[i + it].toInt()).toByte() })
            }
            val dec = Cipher.getInstance("DESede/ECB/NoPadding")
                .apply { init(Cipher.DECRYPT_MODE, SecretKeySpec(right + right + right, "DESede")) }
            return enc.doFinal(dec.doFinal(chain))
        }

        /** ISO 9564-1 format 0: 0N + PIN + F fill, XOR 0000 + the PAN's 12 rightmost digits before the check digit. */
        fun iso0(pin: String, pan: String): ByteArray {
            val pinField = hex(("0" + pin.length.toString(16) + pin).padEnd(16, 'F'))
            val panField = hex("0000" + pan.substring(pan.length - 13, pan.length - 1))
            return ByteArray(8) { (pinField[it].toInt() xor panField[it].toInt()).toByte() }
        }
    }
}

/** Issue #13, key custody as a port: the keys live in a Kotlin PED the core only talks to. */
class PedTest {
    @TempDir lateinit var dir: Path

    @Test
    fun `the fake's X9_19 MAC matches the published ISO 9797-1 vector`() {
        val key = hex(DEMO_TMK_HEX)
        assertEquals("A1C72E74EA3FA9B6", TdesPed.x919(key, "Now is the time for all ".toByteArray()).toHex())
        assertEquals("2E2B1428CC78254F", TdesPed.x919(key, "Now is the time for it".toByteArray()).toHex())
    }

    @Test
    fun `a sale through a Kotlin PED that holds the keys is approved by the simulator`() = runBlocking<Unit> {
        val acquirer = startTestAcquirer()
        val ped = TdesPed(hex(DEMO_TMK_HEX))
        val config = demoTerminalConfig(acquirer.address(), dir.resolve("ped.db").toString())
        try {
            PaymentTerminal.open(config, SwipeReader(), ped, RecordingPrinter()).use { pos ->
                assertTrue(pos.signOn() is SignOnOutcome.SignedOn)
                val sale = pos.sale("ped-sale-1", 8_800UL)
                assertTrue(sale is Outcome.Approved, "sale: $sale")
                assertEquals(8_800L, acquirer.netFen())
                // The PIN block and the MACs came from the fake: the simulator checked both.
                assertEquals(1, ped.pinBlocks.get())
                assertTrue(ped.macs.get() >= 2, "the sale and its answer are MACed: ${ped.macs.get()}")

                // Cross-check with the core's own crypto: the software PED loads the same
                // enciphered keys the host sent and must agree on MAC, PIN block and check values.
                val core = SoftwarePed.withTmk(DEMO_TMK_HEX)
                core.setPin(DEMO_PIN)
                val corePed = core.asPed()
                corePed.loadWorkingKeys(ped.received ?: error("no keys reached the fake"))
                val data = "0200 field data the core MACs, not block aligned".toByteArray()
                assertArrayEquals(corePed.calculateMac(PedMacAlgorithm.X919, data), ped.calculateMac(PedMacAlgorithm.X919, data))
                assertArrayEquals(
                    corePed.onlinePinBlock("6222020000000015", 1UL),
                    ped.onlinePinBlock("6222020000000015", 1UL),
                )
                for (k in listOf(PedKey.PIK, PedKey.MAK)) {
                    assertArrayEquals(corePed.keyCheckValue(k), ped.keyCheckValue(k), "$k")
                }
            }
            // The PED kept its keys: a restarted terminal pays without signing on again.
            val macsBefore = ped.macs.get()
            PaymentTerminal.open(config, SwipeReader(), ped, RecordingPrinter()).use { pos ->
                val again = pos.sale("ped-sale-2", 100UL)
                assertTrue(again is Outcome.Approved, "after restart: $again")
                assertTrue(ped.macs.get() > macsBefore)
            }
        } finally {
            acquirer.stop()
        }
    }

    @Test
    fun `a PED fault ends the sale as DEV_PINPAD and a wrong TMK never loads keys`() = runBlocking<Unit> {
        val acquirer = startTestAcquirer()
        try {
            val faulty = object : Ped by TdesPed(hex(DEMO_TMK_HEX)) {
                override fun calculateMac(algorithm: PedMacAlgorithm, data: ByteArray): ByteArray =
                    throw PedException.Device("secure processor 0x3F")
            }
            val config = demoTerminalConfig(acquirer.address(), dir.resolve("fault.db").toString())
            PaymentTerminal.open(config, SwipeReader(), faulty, RecordingPrinter()).use { pos ->
                assertTrue(pos.signOn() is SignOnOutcome.SignedOn)
                val end = (pos.sale("ped-fault", 100UL) as Outcome.Terminated).termination
                assertEquals("DEV_PINPAD", end.code)
            }
            assertEquals(0L, acquirer.netFen())

            val wrongTmk = TdesPed(hex("00112233445566778899AABBCCDDEEFF"))
            val other = demoTerminalConfig(acquirer.address(), dir.resolve("wrong.db").toString())
            PaymentTerminal.open(other, SwipeReader(), wrongTmk, RecordingPrinter()).use { pos ->
                assertTrue(pos.signOn() is SignOnOutcome.Terminated)
                assertTrue(!wrongTmk.hasWorkingKeys())
            }
            assertThrows<PedException.NoWorkingKeys> { wrongTmk.calculateMac(PedMacAlgorithm.X919, ByteArray(8)) }
        } finally {
            acquirer.stop()
        }
    }
}
