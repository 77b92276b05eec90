package com.smartpos.sample.adapters

import android.annotation.SuppressLint
import android.content.Context
import android.graphics.Canvas
import android.graphics.Color
import android.graphics.Paint
import android.graphics.Path
import android.os.SystemClock
import android.view.MotionEvent
import android.view.View
import com.smartpos.core.SignatureCaptureRecord
import com.smartpos.core.SignaturePad
import com.smartpos.core.SignaturePointRecord
import com.smartpos.core.SignatureRequestRecord
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit

/**
 * The cardholder's signing box (电签): a plain View that draws the pen and records every sample
 * as (x, y, ms since the first touch) in view pixels, which is what the core renders to the
 * acquirer's 1-bit raster and compresses as JBIG. Drop it into any layout; the host screen wires
 * a Confirm button to [confirm], Clear to [clear] and Cancel to [cancel].
 */
class SignatureView(context: Context) : View(context) {
    private val strokes = mutableListOf<MutableList<SignaturePointRecord>>()
    private val path = Path()
    private val pen = Paint(Paint.ANTI_ALIAS_FLAG).apply {
        color = Color.BLACK
        style = Paint.Style.STROKE
        strokeWidth = 6f
        strokeCap = Paint.Cap.ROUND
        strokeJoin = Paint.Join.ROUND
    }
    private var firstTouchMs = -1L

    /** Called with the answer when the cardholder confirms or cancels. */
    var onAnswer: ((SignatureCaptureRecord) -> Unit)? = null

    @SuppressLint("ClickableViewAccessibility")
    override fun onTouchEvent(event: MotionEvent): Boolean {
        val now = SystemClock.uptimeMillis()
        if (firstTouchMs < 0) firstTouchMs = now
        // The hardware gives several samples per frame: keep them all, the timing is evidence.
        fun sample(x: Float, y: Float, at: Long) = SignaturePointRecord(
            x = x.coerceIn(0f, (width - 1).toFloat()).toDouble(),
            y = y.coerceIn(0f, (height - 1).toFloat()).toDouble(),
            tMs = (at - firstTouchMs).coerceAtLeast(0).toULong(),
        )
        when (event.actionMasked) {
            MotionEvent.ACTION_DOWN -> {
                strokes += mutableListOf(sample(event.x, event.y, now))
                path.moveTo(event.x, event.y)
            }
            MotionEvent.ACTION_MOVE -> {
                val stroke = strokes.lastOrNull() ?: return true
                for (h in 0 until event.historySize) {
                    stroke += sample(event.getHistoricalX(h), event.getHistoricalY(h), event.getHistoricalEventTime(h))
                    path.lineTo(event.getHistoricalX(h), event.getHistoricalY(h))
                }
                stroke += sample(event.x, event.y, now)
                path.lineTo(event.x, event.y)
            }
            else -> return true
        }
        invalidate()
        return true
    }

    override fun onDraw(canvas: Canvas) {
        canvas.drawColor(Color.WHITE)
        canvas.drawPath(path, pen)
    }

    fun clear() {
        strokes.clear()
        path.reset()
        firstTouchMs = -1L
        invalidate()
    }

    /** The cardholder confirms; an empty box is not a signature (ask again rather than send it). */
    fun confirm(): Boolean {
        if (strokes.isEmpty()) return false
        onAnswer?.invoke(
            SignatureCaptureRecord.Signed(
                width = width.toUInt(),
                height = height.toUInt(),
                strokes = strokes.map { it.toList() },
            ),
        )
        return true
    }

    fun cancel() {
        onAnswer?.invoke(SignatureCaptureRecord.Cancelled)
    }
}

/**
 * The core's `SignaturePad` port over a signing screen. The core calls [capture] on its worker
 * thread and blocks; [show] must put a [SignatureView] in front of the cardholder on the main
 * thread (with the amount and prompt of the request) and [hide] take it away. The answer comes
 * back through a one-slot queue, and no answer within the request's timeout is `TimedOut`: the
 * payment stands either way, the merchant keeps a paper slip.
 */
class ScreenSignaturePad(
    private val show: (SignatureRequestRecord, SignatureView.() -> Unit) -> Unit,
    private val hide: () -> Unit,
) : SignaturePad {
    override fun capture(request: SignatureRequestRecord): SignatureCaptureRecord {
        val answer = LinkedBlockingQueue<SignatureCaptureRecord>(1)
        show(request) {
            clear()
            onAnswer = { answer.offer(it) }
        }
        try {
            return answer.poll(request.timeoutMs.toLong(), TimeUnit.MILLISECONDS)
                ?: SignatureCaptureRecord.TimedOut
        } finally {
            hide()
        }
    }
}
