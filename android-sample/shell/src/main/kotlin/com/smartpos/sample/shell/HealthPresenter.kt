package com.smartpos.sample.shell

import com.smartpos.Amounts
import com.smartpos.core.HealthReportRecord
import com.smartpos.core.HealthStatus
import com.smartpos.core.PendingReversalRecord
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
    /**
     * Drives the reprint and release buttons and lists parked reversals; the counts themselves
     * are checks in [report].
     */
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
        val fault = input.storageFault?.let { HealthLine(t("交易记录", "Journal"), storageFault(it), HealthStatus.FAILING) }
        // A parked reversal blocks settlement until the operator settles it with the acquirer
        // and releases it: one row each, with what to quote on the phone.
        val parked = input.pendingWork.reversals.mapNotNull { r ->
            r.parked?.let { why ->
                HealthLine(
                    t("冲正挂起 凭证号 ", "Parked reversal, voucher ") + voucher(r),
                    t(why.merchantZh, why.merchantEn) + t("；金额 ¥", "; amount RMB ") + Amounts.format(r.amountFen) +
                        (r.panMasked?.let { t("，卡号 ", ", card ") + it } ?: ""),
                    HealthStatus.FAILING,
                    why.remedies.map { t(it.zh, it.en) },
                )
            }
        }
        val version = HealthLine(t("核心版本", "Core version"), input.coreVersion, HealthStatus.OK)
        // sortedByDescending is stable: within a status the core's fixed order stays.
        return (listOfNotNull(fault) + parked + checks + version).sortedByDescending { it.status.ordinal }
    }

    /** What the journal row says: moved aside, what was carried over, and whether it could be read. */
    fun storageFault(f: StorageFaultRecord): String = buildString {
        append(t("交易记录损坏，已隔离，确认后恢复交易", "Journal corrupt, moved aside: acknowledge to resume payments"))
        if (f.carried > 0U) append(t("；已转入 ${f.carried} 笔未完成交易", "; ${f.carried} owed transactions carried over"))
        if (f.unreadable != null) {
            append(
                t(
                    "；损坏的记录无法读取，欠收单机构的交易未知：请先与收单机构对账再确认",
                    "; the corrupt copy could not be read, so what it owed is unknown: reconcile with the acquirer before accepting",
                ),
            )
        }
    }

    /**
     * The acknowledge button. An unreadable journal needs the operator's explicit acceptance
     * (`acknowledgeStorageFault(acceptUnreadable = true)`); [acceptsUnreadable] says which call.
     */
    fun acknowledgeLabel(f: StorageFaultRecord): String = if (acceptsUnreadable(f)) {
        t("已与收单机构对账，确认存储故障", "Reconciled with the acquirer: accept the storage fault")
    } else {
        t("确认存储故障", "Acknowledge storage fault")
    }

    fun acceptsUnreadable(f: StorageFaultRecord): Boolean = f.unreadable != null

    /** The release button of a parked reversal (`releaseParked(transactionId)`). */
    fun releaseLabel(r: PendingReversalRecord): String =
        t("已与收单机构处理，解除冲正挂起 ", "Settled with the acquirer: release reversal ") + voucher(r)

    private fun voucher(r: PendingReversalRecord) = r.stan.toString().padStart(6, '0')
}
