package com.smartpos.sample.shell

import com.smartpos.core.PortException
import com.smartpos.core.QrOutcomeRecord
import com.smartpos.core.Scanner
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.runInterruptible

/**
 * The QR button's flow, free of Android: scan the customer's payment code with the Scanner port,
 * then pay it through the QR session ([pay] is normally `QrPayments::pay` for the attempt).
 * Cancelling the calling coroutine while paying cancels the order (see `QrPayments`).
 */
class QrCheckout(
    private val scanner: Scanner,
    private val scanTimeoutMs: ULong = 60_000UL,
) {
    suspend fun scanThenPay(pay: suspend (code: String) -> QrOutcomeRecord): CheckoutEvent {
        val code = try {
            // The scanner blocks until a code arrives or the timeout passes; a Cancel meanwhile
            // interrupts the wait (no order exists yet, so there is nothing to close).
            runInterruptible(Dispatchers.IO) { scanner.scan(scanTimeoutMs) }
        } catch (e: PortException) {
            return CheckoutEvent.ScannerFailed
        }
        val trimmed = code?.trim()
        if (trimmed.isNullOrEmpty()) return CheckoutEvent.NothingScanned
        return CheckoutEvent.QrFinished(pay(trimmed))
    }
}
