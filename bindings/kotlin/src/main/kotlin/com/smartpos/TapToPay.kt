package com.smartpos

import com.smartpos.core.UiRequestListener
import com.smartpos.core.UiRequestRecord
import kotlinx.coroutines.channels.BufferOverflow
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.flow

/**
 * The contactless UI requests of this terminal as they happen ("present card", "card read OK —
 * remove card" before the host is asked, "enter PIN", approved/declined…), for the checkout
 * screen to collect. One collector at a time: collecting installs the terminal's listener and
 * cancelling the collection removes it. The core calls the listener on the payment's thread and
 * never waits for the screen: requests are buffered, and an overwhelmed collector loses the
 * oldest first (the newest request is what the screen must show).
 *
 * The listener is installed when collection starts, in the collector's own coroutine (a cold
 * flow, not a producer launched elsewhere). To see the very first request of a sale, start the
 * collector with `CoroutineStart.UNDISPATCHED` before calling `sale`: the listener is then in
 * place when `launch` returns.
 */
fun PaymentTerminal.uiRequests(): Flow<UiRequestRecord> = flow {
    val requests = Channel<UiRequestRecord>(capacity = 64, onBufferOverflow = BufferOverflow.DROP_OLDEST)
    terminal.setUiRequestListener(object : UiRequestListener {
        override fun onUiRequest(request: UiRequestRecord) {
            requests.trySend(request)
        }
    })
    try {
        for (request in requests) emit(request)
    } finally {
        terminal.setUiRequestListener(null)
        requests.close()
    }
}
