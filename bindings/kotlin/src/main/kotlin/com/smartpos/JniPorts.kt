package com.smartpos

import com.smartpos.core.BridgedPort
import com.smartpos.core.CardReader
import com.smartpos.core.CardReaderImpl
import com.smartpos.core.FfiConverter
import com.smartpos.core.FfiConverterBoolean
import com.smartpos.core.FfiConverterByteArray
import com.smartpos.core.FfiConverterOptionalByteArray
import com.smartpos.core.FfiConverterOptionalString
import com.smartpos.core.FfiConverterOptionalTypeGeoFixRecord
import com.smartpos.core.FfiConverterOptionalUByte
import com.smartpos.core.FfiConverterString
import com.smartpos.core.FfiConverterTypeAudience
import com.smartpos.core.FfiConverterTypeCardPresentationRecord
import com.smartpos.core.FfiConverterTypeConfirmation
import com.smartpos.core.FfiConverterTypeIccPinKeyRecord
import com.smartpos.core.FfiConverterTypeNetworkStatusRecord
import com.smartpos.core.FfiConverterTypeOfflinePinOutcome
import com.smartpos.core.FfiConverterTypePedError
import com.smartpos.core.FfiConverterTypePedKey
import com.smartpos.core.FfiConverterTypePedMacAlgorithm
import com.smartpos.core.FfiConverterTypePortError
import com.smartpos.core.FfiConverterTypePromptTextRecord
import com.smartpos.core.FfiConverterTypeReceiptRecord
import com.smartpos.core.FfiConverterTypeWorkingKeysRecord
import com.smartpos.core.FfiConverterULong
import com.smartpos.core.Location
import com.smartpos.core.LocationImpl
import com.smartpos.core.NetworkMonitor
import com.smartpos.core.NetworkMonitorImpl
import com.smartpos.core.Ped
import com.smartpos.core.PedException
import com.smartpos.core.PedImpl
import com.smartpos.core.PortException
import com.smartpos.core.Printer
import com.smartpos.core.PrinterImpl
import com.smartpos.core.Prompt
import com.smartpos.core.PromptImpl
import com.smartpos.core.Scanner
import com.smartpos.core.ScannerImpl
import com.smartpos.core.TerminalPorts
import com.smartpos.core.jniBridgedPort
import com.sun.jna.NativeLibrary
import java.nio.ByteBuffer

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
 * This reader with its APDUs sent to [channel]; detecting and removing the card stay with this
 * reader, and its own `transceive` is no longer called. Every call goes over JNI ([overJni]).
 */
fun CardReader.withApduChannel(channel: ApduChannel): CardReader =
    (JniPorts.bridged(ReaderBridge(this, channel), JniPorts.READER) as BridgedPort.Reader).port

/**
 * This reader as the core calls it best: by plain JNI rather than a UniFFI callback. A UniFFI
 * callback goes through JNA's proxy callbacks, tens of microseconds each on the host JVM, and a
 * chip sale makes 15 to 20 reader calls; a JNI call costs about one. Same behaviour either way:
 * exceptions keep their meaning (see `PortException`). [PaymentTerminal.open] does this itself; a
 * reader implemented in Rust (a test card, [withApduChannel]'s) is returned as it is.
 */
fun CardReader.overJni(): CardReader =
    if (this is CardReaderImpl) this else (JniPorts.bridged(ReaderBridge(this, null), JniPorts.READER) as BridgedPort.Reader).port

/** This printer called by JNI (see [CardReader.overJni]). */
fun Printer.overJni(): Printer =
    if (this is PrinterImpl) this else (JniPorts.bridged(PrinterBridge(this), JniPorts.PRINTER) as BridgedPort.Printer).port

/** This prompt called by JNI (see [CardReader.overJni]); a sale shows several prompts. */
fun Prompt.overJni(): Prompt =
    if (this is PromptImpl) this else (JniPorts.bridged(PromptBridge(this), JniPorts.PROMPT) as BridgedPort.Prompt).port

/**
 * This PED called by JNI (see [CardReader.overJni]): an online sale asks it for two MACs and
 * often a PIN block. Arguments and answers cross in the same typed form; the core zeroes its JNI
 * copies of the PAN and the PIN block once used.
 */
fun Ped.overJni(): Ped =
    if (this is PedImpl) this else (JniPorts.bridged(PedBridge(this), JniPorts.PED) as BridgedPort.Ped).port

/** This scanner called by JNI (see [CardReader.overJni]). */
fun Scanner.overJni(): Scanner =
    if (this is ScannerImpl) this else (JniPorts.bridged(ScannerBridge(this), JniPorts.SCANNER) as BridgedPort.Scanner).port

/**
 * This network monitor called by JNI (see [CardReader.overJni]); a sale's risk check reads it. It
 * cannot fail: an exception is logged and read as no report (the sale then tries the network).
 */
fun NetworkMonitor.overJni(): NetworkMonitor =
    if (this is NetworkMonitorImpl) this else (JniPorts.bridged(NetworkBridge(this), JniPorts.NETWORK) as BridgedPort.Network).port

/** This location called by JNI (see [NetworkMonitor.overJni]); an exception reads as no fix. */
fun Location.overJni(): Location =
    if (this is LocationImpl) this else (JniPorts.bridged(LocationBridge(this), JniPorts.LOCATION) as BridgedPort.Location).port

/** These optional ports called by JNI: a sale reads the network, the location and the prompt. */
fun TerminalPorts.overJni(): TerminalPorts = copy(
    scanner = scanner?.overJni(),
    network = network?.overJni(),
    location = location?.overJni(),
    prompt = prompt?.overJni(),
)

/**
 * Registers bridges with the core (`bindings/src/jni_ports.rs`). The JNI method lives in the same
 * library JNA loaded; the JVM only binds native methods of libraries loaded through
 * System.load/loadLibrary. Android apps already call System.loadLibrary("smartpos_ffi")
 * (docs/android.md); on the host the library is found where JNA found it.
 */
object JniPorts {
    internal const val READER = 1
    internal const val PRINTER = 2
    internal const val PROMPT = 3
    internal const val PED = 4
    internal const val SCANNER = 5
    internal const val NETWORK = 6
    internal const val LOCATION = 7

    init {
        try {
            System.loadLibrary("smartpos_ffi")
        } catch (e: UnsatisfiedLinkError) {
            System.load(NativeLibrary.getInstance("smartpos_ffi").file.absolutePath)
        }
    }

    /** Keeps [bridge] for the core and returns the id [jniBridgedPort] takes it by, once. */
    @JvmStatic
    external fun register(bridge: PortBridge, kind: Int): Long

    /** [bridge] registered and taken back as the core's port of [kind]. */
    internal fun bridged(bridge: PortBridge, kind: Int): BridgedPort = jniBridgedPort(register(bridge, kind))
}

/**
 * One port as the core calls it by JNI: [call] runs method [method] on arguments written by the
 * generated converters and answers a frame, a tag byte and then the value ([OK]), the port's own
 * exception ([PORT_ERROR]: `PortException`, `PedException`) or nothing ([OTHER]: any other
 * exception, whose text may quote card data and is never passed on). Called only by the core;
 * kept by name for JNI.
 */
abstract class PortBridge internal constructor() {
    fun call(method: Int, args: ByteArray): ByteArray = try {
        dispatch(method, ByteBuffer.wrap(args))
    } catch (e: Exception) {
        ownError(e) ?: byteArrayOf(OTHER)
    }

    internal abstract fun dispatch(method: Int, args: ByteBuffer): ByteArray

    /** [e] framed when it is this port's own exception. */
    internal open fun ownError(e: Exception): ByteArray? =
        (e as? PortException)?.let { frame(FfiConverterTypePortError, it, PORT_ERROR) }

    internal companion object {
        const val OK: Byte = 0
        const val PORT_ERROR: Byte = 1
        const val OTHER: Byte = 2

        fun <T> frame(converter: FfiConverter<T, *>, value: T, tag: Byte = OK): ByteArray {
            val buf = ByteBuffer.allocate(1 + converter.allocationSize(value).toInt())
            buf.put(tag)
            converter.write(value, buf)
            // Strings are sized at their worst case (3 bytes a character): cut to what was written.
            return if (buf.position() == buf.capacity()) buf.array() else buf.array().copyOf(buf.position())
        }

        fun bytes(value: ByteArray): ByteArray = ByteArray(1 + value.size).also { value.copyInto(it, 1) }

        /** A fresh array each time: the core zeroes what a reader answered once it has read it. */
        fun done(): ByteArray = byteArrayOf(OK)

        fun unknown(method: Int): Nothing = throw IllegalArgumentException("no port method $method")
    }
}

internal class ReaderBridge(private val reader: CardReader, private val channel: ApduChannel?) : PortBridge() {
    override fun dispatch(method: Int, args: ByteBuffer): ByteArray = when (method) {
        0 -> frame(FfiConverterTypeCardPresentationRecord, reader.detect(FfiConverterULong.read(args)))
        1 -> {
            val apdu = ByteArray(args.remaining()).also { args.get(it) }
            bytes(channel?.transceive(apdu) ?: reader.transceive(apdu))
        }
        2 -> done().also { reader.removeCard() }
        else -> unknown(method)
    }
}

internal class PrinterBridge(private val printer: Printer) : PortBridge() {
    override fun dispatch(method: Int, args: ByteBuffer): ByteArray = when (method) {
        0 -> done().also { printer.print(FfiConverterTypeReceiptRecord.read(args)) }
        1 -> done().also { printer.status() }
        else -> unknown(method)
    }
}

internal class PromptBridge(private val prompt: Prompt) : PortBridge() {
    override fun dispatch(method: Int, args: ByteBuffer): ByteArray = when (method) {
        0 -> done().also { prompt.show(FfiConverterTypeAudience.read(args), FfiConverterTypePromptTextRecord.read(args)) }
        1 -> frame(
            FfiConverterTypeConfirmation,
            prompt.confirm(FfiConverterTypeAudience.read(args), FfiConverterTypePromptTextRecord.read(args), FfiConverterULong.read(args)),
        )
        else -> unknown(method)
    }
}

internal class PedBridge(private val ped: Ped) : PortBridge() {
    override fun dispatch(method: Int, args: ByteBuffer): ByteArray = when (method) {
        0 -> done().also { ped.loadWorkingKeys(FfiConverterTypeWorkingKeysRecord.read(args)) }
        1 -> frame(FfiConverterBoolean, ped.hasWorkingKeys())
        2 -> done().also { ped.clearWorkingKeys() }
        3 -> bytes(ped.calculateMac(FfiConverterTypePedMacAlgorithm.read(args), FfiConverterByteArray.read(args)))
        4 -> frame(FfiConverterOptionalByteArray, ped.onlinePinBlock(FfiConverterString.read(args), FfiConverterULong.read(args)))
        5 -> bytes(ped.encryptDataBlock(FfiConverterByteArray.read(args)))
        6 -> bytes(ped.keyCheckValue(FfiConverterTypePedKey.read(args)))
        7 -> frame(
            FfiConverterTypeOfflinePinOutcome,
            ped.verifyPlaintextPin(FfiConverterOptionalUByte.read(args), FfiConverterULong.read(args), FfiConverterULong.read(args)),
        )
        8 -> frame(
            FfiConverterTypeOfflinePinOutcome,
            ped.verifyEncipheredPin(
                FfiConverterTypeIccPinKeyRecord.read(args),
                FfiConverterOptionalUByte.read(args),
                FfiConverterULong.read(args),
                FfiConverterULong.read(args),
            ),
        )
        else -> unknown(method)
    }

    override fun ownError(e: Exception): ByteArray? =
        (e as? PedException)?.let { frame(FfiConverterTypePedError, it, PORT_ERROR) }
}

internal class ScannerBridge(private val scanner: Scanner) : PortBridge() {
    override fun dispatch(method: Int, args: ByteBuffer): ByteArray = when (method) {
        0 -> frame(FfiConverterOptionalString, scanner.scan(FfiConverterULong.read(args)))
        else -> unknown(method)
    }
}

/** No exception is the port's own: the core reads any as no report. */
internal class NetworkBridge(private val monitor: NetworkMonitor) : PortBridge() {
    override fun dispatch(method: Int, args: ByteBuffer): ByteArray = when (method) {
        0 -> frame(FfiConverterTypeNetworkStatusRecord, monitor.status())
        else -> unknown(method)
    }

    override fun ownError(e: Exception): ByteArray? = null
}

internal class LocationBridge(private val location: Location) : PortBridge() {
    override fun dispatch(method: Int, args: ByteBuffer): ByteArray = when (method) {
        0 -> frame(FfiConverterOptionalTypeGeoFixRecord, location.fix())
        else -> unknown(method)
    }

    override fun ownError(e: Exception): ByteArray? = null
}
