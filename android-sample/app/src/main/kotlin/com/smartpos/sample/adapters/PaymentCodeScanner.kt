package com.smartpos.sample.adapters

import android.content.BroadcastReceiver
import android.content.Context
import android.content.Intent
import android.content.IntentFilter
import android.os.Build
import com.smartpos.core.Scanner
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit

/**
 * The customer's payment code, from whichever source the terminal has:
 * - a vendor scan engine that broadcasts each result (action and extra are vendor-specific;
 *   the defaults are placeholders to replace with the vendor's documented names);
 * - a keyboard-wedge scanner, whose key events the activity collects and passes to [offer];
 * - manual entry on the screen (the fallback when the scanner is broken), also through [offer].
 */
class PaymentCodeScanner(
    private val context: Context,
    private val action: String = "com.vendor.scanner.RESULT",
    private val extra: String = "code",
) : Scanner {
    private val codes = LinkedBlockingQueue<String>(1)

    private val receiver = object : BroadcastReceiver() {
        override fun onReceive(context: Context, intent: Intent) {
            intent.getStringExtra(extra)?.let { offer(it) }
        }
    }

    /** A code from the wedge or the manual-entry field. */
    fun offer(code: String) {
        val trimmed = code.trim()
        if (trimmed.isNotEmpty()) {
            codes.clear()
            codes.offer(trimmed)
        }
    }

    override fun scan(timeoutMs: ULong): String? {
        codes.clear()
        val filter = IntentFilter(action)
        if (Build.VERSION.SDK_INT >= 33) {
            context.registerReceiver(receiver, filter, Context.RECEIVER_EXPORTED)
        } else {
            context.registerReceiver(receiver, filter)
        }
        try {
            // Null on timeout: the core explains "nothing scanned" and offers manual entry.
            return codes.poll(timeoutMs.toLong(), TimeUnit.MILLISECONDS)
        } finally {
            context.unregisterReceiver(receiver)
        }
    }
}
