package com.smartpos.sample.shell

import com.smartpos.core.NetworkLink
import com.smartpos.core.NetworkStatusRecord
import com.smartpos.core.PendingWorkRecord
import com.smartpos.core.StorageFaultRecord

/** One row of the health screen. */
data class HealthLine(val label: String, val value: String, val ok: Boolean)

/** What the health screen is built from; each part comes from the core or a port. */
data class HealthInput(
    val coreVersion: String,
    val storageFault: StorageFaultRecord?,
    val pendingWork: PendingWorkRecord,
    /** Null when the terminal has no network monitor fitted. */
    val network: NetworkStatusRecord?,
)

/** Builds the health screen's rows; the first row that is not ok is what to fix first. */
class HealthPresenter(private val language: Language) {
    private fun t(zh: String, en: String) = if (language == Language.ZH) zh else en

    fun present(input: HealthInput): List<HealthLine> {
        val work = input.pendingWork
        val failedReversals = work.reversals.count { it.state == "failed" }
        return listOf(
            input.storageFault?.let {
                HealthLine(t("存储", "Storage"), t("交易记录损坏，已隔离，待确认", "Journal corrupt, moved aside: acknowledge"), false)
            } ?: HealthLine(t("存储", "Storage"), t("正常", "OK"), true),
            HealthLine(t("网络", "Network"), network(input.network), input.network?.connected ?: true),
            HealthLine(
                t("待冲正", "Reversals owed"),
                if (failedReversals > 0) {
                    t("${work.reversals.size} 笔（${failedReversals} 笔需人工处理）", "${work.reversals.size} ($failedReversals need the operator)")
                } else {
                    work.reversals.size.toString()
                },
                failedReversals == 0,
            ),
            HealthLine(t("待上送通知", "Advices queued"), work.advices.size.toString(), true),
            HealthLine(
                t("未打印签购单", "Receipts to reprint"),
                work.unprintedReceipts.size.toString(),
                work.unprintedReceipts.isEmpty(),
            ),
            HealthLine(t("核心版本", "Core version"), input.coreVersion, true),
        ).sortedBy { it.ok }
    }

    private fun network(status: NetworkStatusRecord?): String {
        if (status == null) return t("未配置", "not fitted")
        val link = when (val l = status.link) {
            NetworkLink.Wifi -> "Wi-Fi"
            NetworkLink.Ethernet -> t("以太网", "Ethernet")
            NetworkLink.None -> t("无连接", "no link")
            is NetworkLink.Cellular -> t("移动网络 ", "cellular ") + l.generation.name.removePrefix("G") + "G"
        }
        val signal = status.signalDbm?.let { " $it dBm" }.orEmpty()
        val state = if (status.connected) "" else t("（不可用）", " (offline)")
        return link + signal + state
    }
}
