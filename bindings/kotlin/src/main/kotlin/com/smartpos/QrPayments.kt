package com.smartpos

import com.smartpos.core.PresentedRecord
import com.smartpos.core.QrConfigRecord
import com.smartpos.core.QrOrderRecord
import com.smartpos.core.QrOutcomeRecord
import com.smartpos.core.QrSession
import com.smartpos.core.SmartPosException
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext

/**
 * QR payments for coroutine code. Every call runs the blocking core on [Dispatchers.IO]. Either
 * on a journal of its own, without any card configuration ([open]), or on the card terminal's
 * journal ([PaymentTerminal.qrPayments]).
 *
 * Payment calls return a [QrOutcomeRecord]: `Paid`, `Declined`, `Closed`, `Cancelled`,
 * `Refunded` or `Unresolved` (hand over nothing; [recover] finishes it). Exceptions
 * ([SmartPosException]) mean a bad argument (`InvalidInput`, `InvalidAmount`), an unknown or
 * unusable order (`UnknownOrder`, `OrderNotUsable`), the journal, or a closed session.
 *
 * Cancelling the calling coroutine of [pay] or [poll] cancels the order through a cancel
 * handle: the core stops polling, closes the order on the gateway (giving back a payment that
 * landed in between), journals it, and only then does the coroutine finish with
 * [CancellationException].
 */
class QrPayments(
    /** The generated binding, for calls this wrapper does not cover. */
    val session: QrSession,
) : AutoCloseable {
    companion object {
        /**
         * Opens the QR journal at `config.journalPath`, owning it; sends nothing. The core wipes
         * its copy of the signing key once converted. A journal a live terminal owns throws
         * [SmartPosException.JournalInUse]: for QR on the terminal's journal use
         * [PaymentTerminal.qrPayments].
         */
        suspend fun open(config: QrConfigRecord): QrPayments = withContext(Dispatchers.IO) {
            QrPayments(QrSession.open(config))
        }
    }

    /** Charges a customer's payment code (scanned or keyed in); [attemptId] is the order number. */
    suspend fun pay(attemptId: String, amountFen: ULong, code: String): QrOutcomeRecord =
        cancellable { session.pay(attemptId, amountFen, code, it) }

    /** Creates a merchant-presented order: show `Ready.codeUrl`, then [poll]. */
    suspend fun present(attemptId: String, amountFen: ULong, description: String): PresentedRecord =
        cancellable { session.present(attemptId, amountFen, description, it) }

    /** Waits for a presented order to be paid, up to the configured deadline; then cancels it. */
    suspend fun poll(attemptId: String): QrOutcomeRecord = cancellable { session.poll(attemptId, it) }

    /** Operator cancel: closes an open order; a paid one is given back in full. */
    suspend fun cancel(attemptId: String): QrOutcomeRecord = withContext(Dispatchers.IO) { session.cancel(attemptId) }

    suspend fun refund(attemptId: String, amountFen: ULong): QrOutcomeRecord =
        withContext(Dispatchers.IO) { session.refund(attemptId, amountFen) }

    /** Finishes orders a crash or an unreachable gateway left open; call once the network is up. */
    suspend fun recover(): List<QrOutcomeRecord> = withContext(Dispatchers.IO) { session.recover() }

    /** Every journaled order, oldest first; payment codes masked (first 6, last 4). */
    suspend fun orders(): List<QrOrderRecord> = withContext(Dispatchers.IO) { session.orders() }

    /** Releases the journal; later calls throw [SmartPosException.Closed]. */
    override fun close() = session.shutDown()
}
