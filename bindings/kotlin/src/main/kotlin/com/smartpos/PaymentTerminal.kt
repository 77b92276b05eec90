package com.smartpos

import com.smartpos.core.CancelHandle
import com.smartpos.core.CardReader
import com.smartpos.core.ChipConfigRecord
import com.smartpos.core.ChipUpdateOutcome
import com.smartpos.core.EcBalanceOutcome
import com.smartpos.core.HealthReportRecord
import com.smartpos.core.Outcome
import com.smartpos.core.PendingWorkRecord
import com.smartpos.core.Ped
import com.smartpos.core.Printer
import com.smartpos.core.QrConfigRecord
import com.smartpos.core.RecoveryRecord
import com.smartpos.core.ReprintOutcome
import com.smartpos.core.RiskStatusRecord
import com.smartpos.core.SettlementOutcome
import com.smartpos.core.SignOnOutcome
import com.smartpos.core.SmartPosException
import com.smartpos.core.StatisticsRecord
import com.smartpos.core.StorageFaultRecord
import com.smartpos.core.Terminal
import com.smartpos.core.TerminalConfigRecord
import com.smartpos.core.TerminalPorts
import com.smartpos.core.TransactionSummaryRecord
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.Deferred
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.suspendCancellableCoroutine
import kotlin.coroutines.resume
import kotlinx.coroutines.withContext

/**
 * The payment terminal for coroutine code. Every call runs the blocking core on [Dispatchers.IO].
 *
 * Payment calls return an [Outcome]: a decline is [Outcome.Terminated], never an exception.
 * Exceptions ([SmartPosException]) mean a bad argument, a closed terminal or a journal failure.
 *
 * Cancelling the calling coroutine cancels the running payment through a [CancelHandle]: the core
 * stops at its next check (between steps, or while waiting for the host) and journals how the
 * transaction ended, so the caller gets a [CancellationException] and the record stays consistent.
 */
class PaymentTerminal(
    /** The generated binding, for calls this wrapper does not cover (and the test hooks). */
    val terminal: Terminal,
) : AutoCloseable {
    companion object {
        /**
         * Opens the journal and runs recovery; throws [SmartPosException.Config] for a bad config
         * and [SmartPosException.JournalInUse] when another terminal or QR session (in this
         * process or another) owns the journal file: one owner per journal.
         * [ped] holds the keys and takes the PIN: the vendor PED adapter, or
         * `SoftwarePed.withTmk(hex).asPed()` on the host and the emulator.
         * [optional] names the scanner, network monitor, location and prompt ports the terminal
         * has; leave a field null when it has none.
         * Every port is called by JNI ([CardReader.overJni]) rather than through UniFFI
         * callbacks, which cost tens of microseconds each (a sale calls the reader, the PED, the
         * printer and the optional ports); they behave the same either way.
         */
        suspend fun open(
            config: TerminalConfigRecord,
            cardReader: CardReader,
            ped: Ped,
            printer: Printer,
            optional: TerminalPorts = TerminalPorts(),
        ): PaymentTerminal = withContext(Dispatchers.IO) {
            PaymentTerminal(
                Terminal.openWithPorts(config, cardReader.overJni(), ped.overJni(), printer.overJni(), optional.overJni()),
            )
        }
    }

    suspend fun signOn(): SignOnOutcome = withContext(Dispatchers.IO) { terminal.signOn() }

    /** The electronic cash (EC) balance of the inserted chip card, read offline from the chip. */
    suspend fun ecBalance(): EcBalanceOutcome = withContext(Dispatchers.IO) { terminal.ecBalance() }

    suspend fun sale(attemptId: String, amountFen: ULong): Outcome =
        cancellable { terminal.sale(attemptId, amountFen, it) }

    suspend fun void(attemptId: String, originalStan: UInt): Outcome =
        cancellable { terminal.void(attemptId, originalStan, it) }

    suspend fun refund(attemptId: String, amountFen: ULong, originalStan: UInt): Outcome =
        cancellable { terminal.refund(attemptId, amountFen, originalStan, it) }

    suspend fun balance(attemptId: String): Outcome =
        cancellable { terminal.balance(attemptId, it) }

    suspend fun preAuth(attemptId: String, amountFen: ULong): Outcome =
        cancellable { terminal.preAuth(attemptId, amountFen, it) }

    suspend fun completion(attemptId: String, amountFen: ULong, originalStan: UInt): Outcome =
        cancellable { terminal.completion(attemptId, amountFen, originalStan, it) }

    /** Releases a pre-authorisation hold, named by the pre-auth's STAN (voucher number). */
    suspend fun preAuthVoid(attemptId: String, originalStan: UInt): Outcome =
        cancellable { terminal.preAuthVoid(attemptId, originalStan, it) }

    suspend fun completionVoid(attemptId: String, originalStan: UInt): Outcome =
        cancellable { terminal.completionVoid(attemptId, originalStan, it) }

    /** The journal's transactions, newest first; card numbers masked (first 6, last 4). */
    suspend fun history(): List<TransactionSummaryRecord> = withContext(Dispatchers.IO) { terminal.history() }

    /**
     * Reversals and advices the host has not confirmed, and receipts waiting for a reprint. A
     * reversal with `parked` set used its attempts: it blocks settlement until the operator has
     * settled it with the acquirer and calls [releaseParked].
     */
    suspend fun pendingWork(): PendingWorkRecord = withContext(Dispatchers.IO) { terminal.pendingWork() }

    /**
     * The operator settled the parked reversal of [transactionId] with the acquirer by other
     * means (a call, the portal): it stops blocking settlement and stays journaled as released.
     * Sends nothing. Anything but a parked reversal throws [SmartPosException.InvalidInput].
     */
    suspend fun releaseParked(transactionId: Long) = withContext(Dispatchers.IO) { terminal.releaseParked(transactionId) }

    /**
     * Prints the duplicate receipt of an approved transaction again. A printer fault is
     * [ReprintOutcome.PrinterFailed]; an unknown or unapproved attempt id throws
     * [SmartPosException.UnknownAttempt] / [SmartPosException.NoReceipt].
     */
    suspend fun reprint(attemptId: String): ReprintOutcome = withContext(Dispatchers.IO) { terminal.reprint(attemptId) }

    /**
     * The corrupt journal found at open, until acknowledged (also after a restart: the fault is
     * journaled); payments are refused meanwhile.
     */
    suspend fun storageFault(): StorageFaultRecord? = withContext(Dispatchers.IO) { terminal.storageFault() }

    /**
     * The operator has seen the storage fault: payments resume. When the corrupt copy could not
     * be read (`StorageFaultRecord.unreadable`), what it owed is unknown and this throws
     * [SmartPosException.InvalidInput] unless [acceptUnreadable] (after reconciling with the acquirer).
     */
    suspend fun acknowledgeStorageFault(acceptUnreadable: Boolean = false) =
        withContext(Dispatchers.IO) { terminal.acknowledgeStorageFault(acceptUnreadable) }

    /**
     * QR payments on this terminal's journal (card and QR in one file, one owner). The
     * [config]'s `journalPath` is ignored. The session keeps the journal after [close] until it
     * is closed too. Sends nothing: call [QrPayments.recover] once the network is up.
     */
    suspend fun qrPayments(config: QrConfigRecord): QrPayments =
        withContext(Dispatchers.IO) { QrPayments(terminal.qrSession(config)) }

    /**
     * Verifies a signed rule bundle from the fleet with the trusted key its envelope names
     * (`TerminalConfigRecord.riskTrustedKeys`) and, once the journal has kept it, makes it
     * active; returns its version. It stays active across restarts. A refusal changes nothing
     * and throws [SmartPosException.RiskUpdateRefused], whose `problem` says why: `NotNewer` for
     * an older or equal version (a replay or rollback), `UnknownKeyId` for a key the terminal
     * does not trust, `BadSignature` for altered bytes.
     */
    suspend fun loadRiskBundle(bytes: ByteArray): ULong =
        withContext(Dispatchers.IO) { terminal.loadRiskBundle(bytes) }

    /**
     * Verifies a signed hot-list delta and, once the journal has kept it, applies it; returns
     * its sequence. Only the delta right after the last one applied is accepted, across
     * restarts too: [SmartPosException.RiskUpdateRefused] with `NotNewer` for one already
     * applied, `SequenceGap` when one is missing (send the missing ones first).
     */
    suspend fun applyHotListDelta(bytes: ByteArray): ULong =
        withContext(Dispatchers.IO) { terminal.applyHotListDelta(bytes) }

    /**
     * The rule bundle version and hot list the risk pre-check runs on, and what the journal kept
     * that did not verify at open (`restoreProblems`: the built-in rules or an older hot list
     * run instead, and say so); null while risk checks are off.
     */
    suspend fun riskStatus(): RiskStatusRecord? = withContext(Dispatchers.IO) { terminal.riskStatus() }

    /**
     * Downloads the acquirer's IC parameters, then its CA public keys (UnionPay network
     * management), each checked whole, journaled and put in force; they stay in force across
     * restarts. A key with a bad checksum or an expired one is [ChipUpdateOutcome.Refused]
     * and a host that cannot be reached [ChipUpdateOutcome.Terminated]: the table concerned
     * stays as it was.
     */
    suspend fun updateChipConfig(): ChipUpdateOutcome = withContext(Dispatchers.IO) { terminal.updateChipConfig() }

    /** The AIDs and CA public keys the chip kernel uses now. */
    suspend fun chipConfig(): ChipConfigRecord = withContext(Dispatchers.IO) { terminal.chipConfig() }

    suspend fun settle(): SettlementOutcome = withContext(Dispatchers.IO) { terminal.settle() }

    suspend fun recover(): RecoveryRecord = withContext(Dispatchers.IO) { terminal.recover() }

    /**
     * Runs every self-check: echoes the host, asks the printer, reader and scanner for their
     * status, reads the journal. Waits for a payment in progress. A check that cannot be
     * measured is reported failing, never skipped.
     */
    suspend fun health(): HealthReportRecord = withContext(Dispatchers.IO) { terminal.health() }

    /** Termination statistics for today and the last 7 days, from the journal. */
    suspend fun report(): StatisticsRecord = withContext(Dispatchers.IO) { terminal.report() }

    /** The same statistics as JSON (the `smartpos report --json` shape), for fleet tools. */
    suspend fun reportJson(): String = withContext(Dispatchers.IO) { terminal.reportJson() }

    suspend fun pendingReversalsCount(): ULong = withContext(Dispatchers.IO) { terminal.pendingReversalsCount() }

    /**
     * Releases the core terminal (journal, ports). Later calls throw [SmartPosException.Closed].
     * The journal is free for another owner once QR sessions from [qrPayments] are closed too.
     * The generated handle itself is freed by its cleaner when this object is collected.
     */
    override fun close() = terminal.shutDown()
}

/**
 * Runs [block] on [Dispatchers.IO] with a fresh [CancelHandle] that is cancelled when the calling
 * coroutine is. The cancel hook is installed before [block] starts and runs synchronously in the
 * thread that cancels, so the core sees the flag at its very next check. The blocking call cannot
 * be interrupted: on cancellation the structured scope waits for the core to return (it journals
 * how the transaction ended) before rethrowing, and the handle is freed only after that.
 */
internal suspend fun <T> cancellable(block: (CancelHandle) -> T): T {
    val handle = CancelHandle()
    try {
        return coroutineScope {
            lateinit var work: Deferred<T>
            suspendCancellableCoroutine { cont ->
                cont.invokeOnCancellation { handle.cancel() }
                work = async(Dispatchers.IO) { block(handle) }
                work.invokeOnCompletion { cont.resume(Unit) }
            }
            work.await()
        }
    } finally {
        handle.close()
    }
}
