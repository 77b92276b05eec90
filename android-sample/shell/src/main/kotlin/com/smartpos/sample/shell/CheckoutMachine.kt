package com.smartpos.sample.shell

import com.smartpos.core.AmountRecord
import com.smartpos.core.Outcome
import com.smartpos.core.QrOutcomeRecord
import com.smartpos.core.ReprintOutcome
import com.smartpos.core.SmartPosException

/** How the customer pays. */
enum class PayMethod {
    /** Swipe or insert, on the terminal's own reader. */
    CARD,

    /** Contactless, through NFC. */
    TAP,

    /** The customer's payment code, scanned or keyed in. */
    QR,
}

sealed interface CheckoutState {
    data class EnteringAmount(val keypad: AmountKeypad = AmountKeypad(), val error: String? = null) : CheckoutState

    data class ChoosingMethod(val amount: AmountRecord) : CheckoutState

    /**
     * A payment is running under [attemptId]. If the app dies here, the same id is submitted
     * again on restart: the core's journal answers it without charging twice.
     */
    data class Paying(val amount: AmountRecord, val method: PayMethod, val attemptId: String) : CheckoutState

    data class Done(
        val amount: AmountRecord,
        val method: PayMethod,
        val attemptId: String,
        val screen: ResultScreen,
        /** The last reprint's one-line status, if the merchant asked for one. */
        val reprintStatus: String? = null,
    ) : CheckoutState
}

sealed interface CheckoutEvent {
    data class Key(val key: Char) : CheckoutEvent

    data object ConfirmAmount : CheckoutEvent

    data class Choose(val method: PayMethod) : CheckoutEvent

    data class Finished(val outcome: Outcome) : CheckoutEvent

    /** A QR payment ended (paid, declined, closed, cancelled, refunded or unresolved). */
    data class QrFinished(val outcome: QrOutcomeRecord) : CheckoutEvent

    /** The scanner returned nothing in time: no order was created. */
    data object NothingScanned : CheckoutEvent

    /** The scanner port failed: no order was created; manual entry still works. */
    data object ScannerFailed : CheckoutEvent

    data class Failed(val error: SmartPosException) : CheckoutEvent

    data class Reprinted(val outcome: ReprintOutcome) : CheckoutEvent

    /** The merchant cancelled the running payment (its coroutine ended with a cancellation). */
    data object Cancelled : CheckoutEvent

    /** Try again after a termination the core says a retry can help: a new attempt. */
    data object Retry : CheckoutEvent

    /** Back to the keypad (from choosing a method, or after a result). */
    data object NewSale : CheckoutEvent
}

/**
 * The checkout screen's logic, free of Android: `(state, event) -> state`. The activity renders
 * the state and runs the payment whenever the state becomes [CheckoutState.Paying].
 *
 * @param parseAmount the core's amount rules (normally [com.smartpos.Amounts.parseOrNull]).
 * @param newAttemptId a fresh, unique id per payment attempt: at most 32 of A-Z a-z 0-9 _ - | *,
 *   because a QR attempt id is the gateway's order number (a UUID without its dashes fits).
 */
class CheckoutMachine(
    private val presenter: OutcomePresenter,
    private val parseAmount: (String) -> AmountRecord?,
    private val newAttemptId: () -> String,
) {
    private val qr = QrOutcomePresenter(presenter)

    fun reduce(state: CheckoutState, event: CheckoutEvent): CheckoutState = when (state) {
        is CheckoutState.EnteringAmount -> entering(state, event)
        is CheckoutState.ChoosingMethod -> when (event) {
            is CheckoutEvent.Choose -> CheckoutState.Paying(state.amount, event.method, newAttemptId())
            CheckoutEvent.NewSale -> CheckoutState.EnteringAmount(AmountKeypad(state.amount.yuan))
            else -> state
        }
        is CheckoutState.Paying -> when (event) {
            is CheckoutEvent.Finished ->
                CheckoutState.Done(state.amount, state.method, state.attemptId, presenter.present(event.outcome))
            is CheckoutEvent.QrFinished ->
                CheckoutState.Done(state.amount, state.method, state.attemptId, qr.present(event.outcome))
            CheckoutEvent.NothingScanned ->
                CheckoutState.Done(state.amount, state.method, state.attemptId, qr.nothingScanned())
            CheckoutEvent.ScannerFailed ->
                CheckoutState.Done(state.amount, state.method, state.attemptId, qr.scannerFailed())
            is CheckoutEvent.Failed ->
                CheckoutState.Done(state.amount, state.method, state.attemptId, presenter.failed(event.error))
            CheckoutEvent.Cancelled ->
                CheckoutState.Done(state.amount, state.method, state.attemptId, presenter.cancelled())
            // Keys, choices and reprints cannot interrupt a running payment; cancel goes through
            // the coroutine, which reports Cancelled once the core has stopped.
            else -> state
        }
        is CheckoutState.Done -> when (event) {
            CheckoutEvent.NewSale -> CheckoutState.EnteringAmount()
            CheckoutEvent.Retry ->
                if (state.screen.canRetry) CheckoutState.ChoosingMethod(state.amount) else state
            is CheckoutEvent.Reprinted ->
                if (state.screen.canReprint) state.copy(reprintStatus = presenter.reprinted(event.outcome)) else state
            else -> state
        }
    }

    private fun entering(state: CheckoutState.EnteringAmount, event: CheckoutEvent): CheckoutState = when (event) {
        is CheckoutEvent.Key -> CheckoutState.EnteringAmount(state.keypad.press(event.key))
        CheckoutEvent.ConfirmAmount -> {
            val amount = parseAmount(state.keypad.text)
            when {
                amount == null -> state.copy(error = presenter.invalidAmount())
                amount.fen == 0UL -> state.copy(error = presenter.zeroAmount())
                else -> CheckoutState.ChoosingMethod(amount)
            }
        }
        else -> state
    }
}

private fun OutcomePresenter.invalidAmount() = text("金额无效", "Not a valid amount")

private fun OutcomePresenter.zeroAmount() = text("金额不能为零", "The amount cannot be zero")
