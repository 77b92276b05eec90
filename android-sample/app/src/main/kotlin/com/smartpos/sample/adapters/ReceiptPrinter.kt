package com.smartpos.sample.adapters

import android.util.Log
import com.smartpos.core.PortException
import com.smartpos.core.Printer
import com.smartpos.core.ReceiptRecord
import com.smartpos.sample.shell.ReceiptLayout

/** What a vendor's printer SDK typically offers; adapt the real one to this. */
interface VendorPrinter {
    /** Printable characters per line at the normal font (58 mm paper: 32). */
    val columns: Int

    /** Prints and feeds; throws [VendorPrinterException] when the printer cannot. */
    fun printLines(lines: List<String>)

    /** Paper, temperature and mechanism now, without printing; throws [VendorPrinterException]. */
    fun checkStatus() {}
}

class VendorPrinterException(val status: Status) : Exception(status.name) {
    enum class Status { OUT_OF_PAPER, OVERHEATED, JAMMED, OTHER }
}

/** The sample's "printer": logcat, tag SmartPOS-Receipt. The receipt holds the masked PAN only. */
class LogcatVendorPrinter(override val columns: Int = 32) : VendorPrinter {
    override fun printLines(lines: List<String>) {
        lines.forEach { Log.i("SmartPOS-Receipt", it) }
    }
}

/** The core's Printer port over a vendor printer: layout in the shell, faults typed for the core. */
class ReceiptPrinter(private val vendor: VendorPrinter) : Printer {
    override fun print(receipt: ReceiptRecord) = typed { vendor.printLines(ReceiptLayout.lines(receipt, vendor.columns)) }

    /** Asked by the health check: the same faults as printing, so the screen names the same remedy. */
    override fun status() = typed { vendor.checkStatus() }

    private fun typed(block: () -> Unit) {
        try {
            block()
        } catch (e: VendorPrinterException) {
            throw when (e.status) {
                VendorPrinterException.Status.OUT_OF_PAPER -> PortException.PrinterOutOfPaper()
                VendorPrinterException.Status.OVERHEATED -> PortException.PrinterOverheated()
                VendorPrinterException.Status.JAMMED -> PortException.PrinterJammed()
                VendorPrinterException.Status.OTHER -> PortException.Printer("printer reported a fault")
            }
        }
    }
}
