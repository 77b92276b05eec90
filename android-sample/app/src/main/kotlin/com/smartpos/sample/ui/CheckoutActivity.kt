package com.smartpos.sample.ui

import android.content.Intent
import android.os.Bundle
import android.view.KeyEvent
import android.widget.Button
import android.widget.EditText
import android.widget.GridLayout
import android.widget.LinearLayout
import android.widget.TextView
import androidx.activity.ComponentActivity
import androidx.lifecycle.lifecycleScope
import com.smartpos.Amounts
import com.smartpos.uiRequests
import com.smartpos.core.SmartPosException
import com.smartpos.sample.SmartPosApp
import com.smartpos.sample.shell.AmountKeypad
import com.smartpos.sample.shell.CheckoutEvent
import com.smartpos.sample.shell.CheckoutMachine
import com.smartpos.sample.shell.CheckoutState
import com.smartpos.sample.shell.Language
import com.smartpos.sample.shell.OutcomePresenter
import com.smartpos.sample.shell.PayMethod
import com.smartpos.sample.shell.QrCheckout
import java.util.Locale
import java.util.UUID
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Job
import kotlinx.coroutines.launch

/**
 * Checkout: amount keypad, pay by card / tap / QR, the result with its explanation, remedies and
 * another way to pay, and reprint. All decisions are in [CheckoutMachine]; this class only
 * renders states and runs the payment a [CheckoutState.Paying] state asks for.
 */
class CheckoutActivity : ComponentActivity() {
    private val app get() = application as SmartPosApp
    private val language = if (Locale.getDefault().language == "zh") Language.ZH else Language.EN
    private val presenter = OutcomePresenter(language)
    // Dashes dropped: a QR attempt id is the gateway's order number, at most 32 characters.
    private val machine = CheckoutMachine(presenter, Amounts::parseOrNull) { UUID.randomUUID().toString().replace("-", "") }
    private var state: CheckoutState = CheckoutState.EnteringAmount()
    private var payment: Job? = null
    private val wedge = StringBuilder()

    private lateinit var amount: TextView
    private lateinit var status: TextView
    private lateinit var details: TextView
    private lateinit var manualCode: EditText
    private lateinit var actions: LinearLayout

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        val root = LinearLayout(this).apply { orientation = LinearLayout.VERTICAL; setPadding(32, 32, 32, 32) }
        amount = TextView(this).apply { textSize = 40f }
        status = TextView(this).apply { textSize = 20f }
        details = TextView(this).apply { textSize = 16f }
        manualCode = EditText(this).apply { hint = "付款码 / payment code (manual entry)" }
        val keypad = GridLayout(this).apply { columnCount = 3 }
        "789456123.0".forEach { c -> keypad.addView(button(c.toString()) { on(CheckoutEvent.Key(c)) }) }
        keypad.addView(button("⌫") { on(CheckoutEvent.Key(AmountKeypad.BACKSPACE)) })
        actions = LinearLayout(this).apply { orientation = LinearLayout.VERTICAL }
        listOf(amount, status, details, keypad, manualCode, actions).forEach(root::addView)
        setContentView(root)
        render()
    }

    override fun onResume() {
        super.onResume()
        app.cardReader.contactless.attach(this)
    }

    override fun onPause() {
        app.cardReader.contactless.detach(this)
        super.onPause()
    }

    /** A keyboard-wedge scanner types the code and ENTER: collect it for the Scanner port. */
    override fun dispatchKeyEvent(event: KeyEvent): Boolean {
        if (state is CheckoutState.Paying && event.action == KeyEvent.ACTION_DOWN) {
            if (event.keyCode == KeyEvent.KEYCODE_ENTER) {
                app.scanner.offer(wedge.toString())
                wedge.clear()
                return true
            }
            val c = event.unicodeChar
            if (c > 0) {
                wedge.append(c.toChar())
                return true
            }
        }
        return super.dispatchKeyEvent(event)
    }

    private fun on(event: CheckoutEvent) {
        val before = state
        state = machine.reduce(state, event)
        render()
        val now = state
        if (now is CheckoutState.Paying && before !is CheckoutState.Paying) pay(now)
    }

    private fun pay(p: CheckoutState.Paying) {
        app.cardReader.method = p.method
        payment = lifecycleScope.launch {
            val event = try {
                when (p.method) {
                    PayMethod.CARD, PayMethod.TAP -> {
                        val terminal = app.terminal()
                        // The core's contactless requests as they come: "remove card" the moment
                        // the card is read (before the host is asked), "enter PIN", "see phone".
                        // UNDISPATCHED: the listener is in place before the sale raises "present card".
                        val screen = launch(start = CoroutineStart.UNDISPATCHED) {
                            terminal.uiRequests().collect { status.text = presenter.text(it.zh, it.en) }
                        }
                        try {
                            CheckoutEvent.Finished(terminal.sale(p.attemptId, p.amount.fen))
                        } finally {
                            screen.cancel()
                        }
                    }
                    PayMethod.QR -> {
                        val qr = app.qr()
                        QrCheckout(app.scanner).scanThenPay { code -> qr.pay(p.attemptId, p.amount.fen, code) }
                    }
                }
            } catch (e: SmartPosException) {
                CheckoutEvent.Failed(e)
            } catch (e: CancellationException) {
                // The core has stopped and journaled the ending; show it, unless the activity
                // itself is going away (then the scope is cancelled and nothing is rendered).
                if (!isFinishing && !isDestroyed) on(CheckoutEvent.Cancelled)
                throw e
            }
            on(event)
        }
    }

    private fun render() {
        actions.removeAllViews()
        when (val s = state) {
            is CheckoutState.EnteringAmount -> {
                amount.text = "¥ " + s.keypad.text.ifEmpty { "0" }
                status.text = s.error.orEmpty()
                details.text = ""
                actions.addView(button(presenter.text("确认金额", "Confirm amount")) { on(CheckoutEvent.ConfirmAmount) })
                actions.addView(button(presenter.text("终端状态", "Terminal health")) {
                    startActivity(Intent(this, HealthActivity::class.java))
                })
            }
            is CheckoutState.ChoosingMethod -> {
                amount.text = "¥ " + s.amount.yuan
                status.text = presenter.text("请选择支付方式", "Choose how to pay")
                actions.addView(button(presenter.text("刷卡/插卡", "Card")) { on(CheckoutEvent.Choose(PayMethod.CARD)) })
                actions.addView(button(presenter.text("挥卡", "Tap")) { on(CheckoutEvent.Choose(PayMethod.TAP)) })
                actions.addView(button(presenter.text("扫码", "QR")) { on(CheckoutEvent.Choose(PayMethod.QR)) })
                actions.addView(button(presenter.text("返回", "Back")) { on(CheckoutEvent.NewSale) })
            }
            is CheckoutState.Paying -> {
                status.text = presenter.text("处理中…", "Processing…")
                actions.addView(button(presenter.text("使用输入的付款码", "Use the typed code")) {
                    app.scanner.offer(manualCode.text.toString())
                })
                // Cancelling the coroutine cancels the core's call; the outcome still arrives.
                actions.addView(button(presenter.text("取消", "Cancel")) { payment?.cancel() })
            }
            is CheckoutState.Done -> {
                val r = s.screen
                status.text = r.title
                details.text = buildString {
                    appendLine(r.explanation)
                    r.remedies.forEach { appendLine("• $it") }
                    r.alternative?.let { appendLine(it) }
                    r.code?.let { appendLine(it) }
                    s.reprintStatus?.let { appendLine(it) }
                }
                if (r.canReprint) {
                    actions.addView(button(presenter.text("重打印", "Reprint")) { reprint(s.attemptId) })
                }
                if (r.canRetry) actions.addView(button(presenter.text("重试", "Retry")) { on(CheckoutEvent.Retry) })
                actions.addView(button(presenter.text("新交易", "New sale")) { on(CheckoutEvent.NewSale) })
            }
        }
    }

    private fun reprint(attemptId: String) {
        lifecycleScope.launch {
            try {
                on(CheckoutEvent.Reprinted(app.terminal().reprint(attemptId)))
            } catch (e: SmartPosException) {
                status.text = presenter.failed(e).title
            }
        }
    }

    private fun button(label: String, onClick: () -> Unit) = Button(this).apply {
        text = label
        setOnClickListener { onClick() }
    }
}
