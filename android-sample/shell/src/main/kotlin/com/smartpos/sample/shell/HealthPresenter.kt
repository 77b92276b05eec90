package com.smartpos.sample.shell

import com.smartpos.core.HealthReportRecord
import com.smartpos.core.HealthStatus
import com.smartpos.core.PendingWorkRecord
import com.smartpos.core.StorageFaultRecord

/** One row of the health screen: a core check (or the storage-fault notice), and what to do. */
data class HealthLine(
    val label: String,
    val value: String,
    val status: HealthStatus,
    /** The core's remedies, most useful first; empty when ok. */
    val remedies: List<String> = emptyList(),
) {
    val ok: Boolean get() = status == HealthStatus.OK
}

/** What the health screen is built from: the core's self-check and the journal's open work. */
data class HealthInput(
    val coreVersion: String,
    val report: HealthReportRecord,
    val storageFault: StorageFaultRecord?,
    /** Drives the reprint buttons; the counts themselves are checks in [report]. */
    val pendingWork: PendingWorkRecord,
)

/** Builds the health screen's rows: failing checks first, then warnings, then the rest. */
class HealthPresenter(private val language: Language) {
    private fun t(zh: String, en: String) = if (language == Language.ZH) zh else en

    /** The headline: the worst status of any check. */
    fun headline(report: HealthReportRecord): String = when (report.overall) {
        HealthStatus.OK -> t("终端状态正常", "Terminal healthy")
        HealthStatus.WARNING -> t("终端可用，有需要注意的事项", "Terminal usable, with warnings")
        HealthStatus.FAILING -> t("终端有故障，请先处理", "Terminal has faults: fix them first")
    }

    fun present(input: HealthInput): List<HealthLine> {
        val checks = input.report.checks.map { c ->
            HealthLine(t(c.labelZh, c.labelEn), t(c.detailZh, c.detailEn), c.status, c.remedies.map { t(it.zh, it.en) })
        }
        // The core refuses payments until the operator acknowledges a moved-aside journal; the
        // journal check says so, this row carries the acknowledge action's explanation.
        val fault = input.storageFault?.let {
            HealthLine(
                t("交易记录", "Journal"),
                t("交易记录损坏，已隔离，确认后恢复交易", "Journal corrupt, moved aside: acknowledge to resume payments"),
                HealthStatus.FAILING,
            )
        }
        val version = HealthLine(t("核心版本", "Core version"), input.coreVersion, HealthStatus.OK)
        // sortedByDescending is stable: within a status the core's fixed order stays.
        return (listOfNotNull(fault) + checks + version).sortedByDescending { it.status.ordinal }
    }
}
