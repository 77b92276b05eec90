package com.smartpos

import com.smartpos.core.UiRequestListener
import com.smartpos.core.UiRequestRecord
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.buffer
import kotlinx.coroutines.flow.callbackFlow
import kotlinx.coroutines.channels.BufferOverflow

/**
 * The contactless UI requests of this terminal as they happen ("present card", "card read OK —
 * remove card" before the host is asked, "enter PIN", approved/declined…), for the checkout
 * screen to collect. One collector at a time: collecting installs the terminal's listener and
 * cancelling the collection removes it. The core calls the listener on the payment's thread and
 * never waits for the screen: requests are buffered, and an overwhelmed collector loses the
 * oldest first (the newest request is what the screen must show).
 */
fun PaymentTerminal.uiRequests(): Flow<UiRequestRecord> = callbackFlow {
    terminal.setUiRequestListener(object : UiRequestListener {
        override fun onUiRequest(request: UiRequestRecord) {
            trySend(request)
        }
    })
    awaitClose { terminal.setUiRequestListener(null) }
}.buffer(capacity = 64, onBufferOverflow = BufferOverflow.DROP_OLDEST)
