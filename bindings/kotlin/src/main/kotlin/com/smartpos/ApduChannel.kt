package com.smartpos

import com.smartpos.core.CardReader
import com.smartpos.core.jniCardReader
import com.sun.jna.NativeLibrary

/**
 * The card's APDU exchange as the reader SDK offers it (`IsoDep.transceive`, a vendor's contact
 * reader): one command in, the card's answer with SW1 SW2 out. Throw
 * `PortException.CardRemovedTooEarly` when the card left the field or the slot, or
 * `PortException.Reader` for a reader fault; anything else is reported as the reader's generic
 * failure, without its text.
 */
fun interface ApduChannel {
    fun transceive(apdu: ByteArray): ByteArray
}

/**
 * Gives the core a direct JNI path to an [ApduChannel]. A chip or contactless sale exchanges 15 to
 * 20 APDUs, and each through a UniFFI callback costs more than the exchange (JNA builds and frees
 * native structures per crossing); through here it is a plain JNI call.
 */
object ApduChannels {
    init {
        // The JNI methods below live in the same library JNA loaded; the JVM only binds native
        // methods of libraries loaded through System.load/loadLibrary. Android apps already call
        // System.loadLibrary("smartpos_ffi") (docs/android.md); on the host the library is found
        // where JNA found it.
        try {
            System.loadLibrary("smartpos_ffi")
        } catch (e: UnsatisfiedLinkError) {
            System.load(NativeLibrary.getInstance("smartpos_ffi").file.absolutePath)
        }
    }

    /** Keeps [channel] for [withApduChannel]; the id is taken once. */
    @JvmStatic
    external fun register(channel: ApduChannel): Long
}

/**
 * This reader with its APDUs sent through [channel] by JNI. Detecting and removing the card stay
 * with this reader (once per sale each); its own `transceive` is no longer called.
 */
fun CardReader.withApduChannel(channel: ApduChannel): CardReader =
    jniCardReader(ApduChannels.register(channel), this)
