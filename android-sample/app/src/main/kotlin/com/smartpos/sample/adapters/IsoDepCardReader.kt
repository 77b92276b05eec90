package com.smartpos.sample.adapters

import android.app.Activity
import android.nfc.NfcAdapter
import android.nfc.Tag
import android.nfc.TagLostException
import android.nfc.tech.IsoDep
import com.smartpos.core.CardPresentationRecord
import com.smartpos.core.CardReader
import com.smartpos.core.PortException
import java.io.IOException
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit

/**
 * Contactless cards through the phone-style NFC controller: reader mode delivers each tag, the
 * core's contactless kernel then talks APDUs to it. Runs on the core's worker thread; NFC calls
 * block, which is what the port expects.
 */
class IsoDepCardReader(private val nfc: NfcAdapter?) : CardReader {
    private val tags = LinkedBlockingQueue<IsoDep>(1)

    @Volatile private var current: IsoDep? = null

    /** Call from Activity.onResume: only a foreground activity may own the NFC reader. */
    fun attach(activity: Activity) {
        nfc?.enableReaderMode(
            activity,
            { tag: Tag -> IsoDep.get(tag)?.let { tags.offer(it) } },
            NfcAdapter.FLAG_READER_NFC_A or NfcAdapter.FLAG_READER_NFC_B or NfcAdapter.FLAG_READER_SKIP_NDEF_CHECK,
            null,
        )
    }

    /** Call from Activity.onPause. */
    fun detach(activity: Activity) {
        nfc?.disableReaderMode(activity)
    }

    override fun detect(timeoutMs: ULong): CardPresentationRecord {
        if (nfc == null || !nfc.isEnabled) throw PortException.Reader("NFC is off or absent")
        // A phone that said "see phone" is tapped again: the earlier tag is gone.
        removeCard()
        tags.clear()
        val dep = tags.poll(timeoutMs.toLong(), TimeUnit.MILLISECONDS) ?: throw PortException.NoCardPresented()
        try {
            dep.connect()
            dep.timeout = APDU_TIMEOUT_MS
        } catch (e: IOException) {
            throw PortException.CardRemovedTooEarly()
        }
        current = dep
        return CardPresentationRecord.Contactless
    }

    override fun transceive(apdu: ByteArray): ByteArray {
        val dep = current ?: throw PortException.Reader("no card in the field")
        return try {
            dep.transceive(apdu)
        } catch (e: TagLostException) {
            // The card left the field: the core tells the cardholder to tap again.
            throw PortException.CardRemovedTooEarly()
        } catch (e: IOException) {
            // A timeout (IsoDep.timeout) is an IOException too: the core ends the tap the same way.
            // The exception's text is not passed on: it could quote APDU data.
            throw PortException.Reader("contactless communication failed")
        }
    }

    override fun removeCard() {
        current?.let { runCatching { it.close() } }
        current = null
    }

    private companion object {
        const val APDU_TIMEOUT_MS = 2_000
    }
}
