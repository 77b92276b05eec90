package com.smartpos.sample.adapters

import android.content.Context
import com.smartpos.core.Ped
import com.smartpos.core.SoftwarePed

/**
 * Emulator build (`-PsmartposPed=software`, the default): the library's software stand-in with
 * the simulator's demo TMK (tools/src/demo_setup.rs). It has no keypad, so the cardholder
 * bypasses PIN (the simulator accepts that for its demo cards). Never in a release build for a
 * real terminal: there the TMK was injected into the vendor PED and the library is built without
 * the `software-ped` feature.
 */
object TerminalPed {
    fun create(@Suppress("UNUSED_PARAMETER") context: Context): Ped =
        SoftwarePed.withTmk("0123456789ABCDEFFEDCBA9876543210").also { it.setPin(null) }.asPed()
}
