package com.smartpos.sample.ui

import android.os.Bundle
import android.widget.Button
import android.widget.LinearLayout
import android.widget.TextView
import android.widget.Toast
import androidx.activity.ComponentActivity
import androidx.lifecycle.lifecycleScope
import com.smartpos.SmartPos
import com.smartpos.core.HealthStatus
import com.smartpos.core.SmartPosException
import com.smartpos.sample.SmartPosApp
import com.smartpos.sample.shell.HealthInput
import com.smartpos.sample.shell.HealthPresenter
import com.smartpos.sample.shell.Language
import java.util.Locale
import kotlinx.coroutines.launch

/** Terminal health: the core's self-check (host, network, devices, keys, journal, batch), with remedies. */
class HealthActivity : ComponentActivity() {
    private val app get() = application as SmartPosApp
    private val presenter = HealthPresenter(if (Locale.getDefault().language == "zh") Language.ZH else Language.EN)
    private lateinit var rows: LinearLayout

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        rows = LinearLayout(this).apply { orientation = LinearLayout.VERTICAL; setPadding(32, 32, 32, 32) }
        setContentView(rows)
        refresh()
    }

    private fun refresh() {
        lifecycleScope.launch {
            rows.removeAllViews()
            try {
                val pos = app.terminal()
                val fault = pos.storageFault()
                val work = pos.pendingWork()
                // Echoes the host and asks the printer, reader and scanner: off the main thread.
                val report = pos.health()
                rows.addView(TextView(this@HealthActivity).apply { textSize = 22f; text = presenter.headline(report) })
                presenter.present(HealthInput(SmartPos.version(), report, fault, work)).forEach { line ->
                    val mark = when (line.status) {
                        HealthStatus.OK -> "✓ "
                        HealthStatus.WARNING -> "! "
                        HealthStatus.FAILING -> "✗ "
                    }
                    rows.addView(TextView(this@HealthActivity).apply {
                        textSize = 18f
                        text = buildString {
                            append(mark).append(line.label).append(": ").append(line.value)
                            line.remedies.forEach { append("\n   • ").append(it) }
                        }
                    })
                }
                rows.addView(button("刷新 Refresh") { refresh() })
                if (fault != null) {
                    // An unreadable journal is accepted only explicitly, once reconciled with the acquirer.
                    rows.addView(button(presenter.acknowledgeLabel(fault)) {
                        act { pos.acknowledgeStorageFault(acceptUnreadable = presenter.acceptsUnreadable(fault)) }
                    })
                }
                // Parked reversals block settlement until settled with the acquirer and released here.
                work.reversals.filter { it.parked != null }.forEach { r ->
                    rows.addView(button(presenter.releaseLabel(r)) { act { pos.releaseParked(r.transactionId) } })
                }
                work.unprintedReceipts.forEach { r ->
                    rows.addView(button("重打印 Reprint ${r.attemptId.take(8)}") { act { pos.reprint(r.attemptId) } })
                }
            } catch (e: SmartPosException) {
                rows.addView(TextView(this@HealthActivity).apply { text = e.message })
            }
        }
    }

    /** Runs an operator action, shows a refusal (e.g. not parked any more) and refreshes. */
    private fun act(action: suspend () -> Unit) {
        lifecycleScope.launch {
            try {
                action()
            } catch (e: SmartPosException) {
                Toast.makeText(this@HealthActivity, e.message, Toast.LENGTH_LONG).show()
            }
            refresh()
        }
    }

    private fun button(label: String, onClick: () -> Unit) = Button(this).apply {
        text = label
        setOnClickListener { onClick() }
    }
}
