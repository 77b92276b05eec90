package com.smartpos

import com.smartpos.core.LogLevel
import com.smartpos.core.coreVersion
import com.smartpos.core.initLogging
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext

/**
 * Idiomatic entry points over the generated `com.smartpos.core` bindings. Core calls block, so
 * the suspend functions here move them to [Dispatchers.IO]; never call the core on the main thread.
 */
object SmartPos {
    /** Routes core logs to logcat (Android) or stderr (host). Safe to call again to change the level. */
    fun initLogging(level: LogLevel = LogLevel.INFO) = com.smartpos.core.initLogging(level)

    /** The embedded core's version, for the shell's about screen and its own logs. */
    suspend fun version(): String = withContext(Dispatchers.IO) { coreVersion() }
}
