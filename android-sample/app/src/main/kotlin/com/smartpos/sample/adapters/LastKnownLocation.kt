package com.smartpos.sample.adapters

import android.Manifest
import android.content.Context
import android.content.pm.PackageManager
import android.location.LocationManager
import com.smartpos.core.GeoFixRecord
import com.smartpos.core.Location

/**
 * The Location port: the freshest last-known fix of the network and GPS providers. It never
 * waits for a new fix (the core reads it on the payment path); no permission means no fix.
 */
class LastKnownLocation(private val context: Context) : Location {
    private val manager = context.getSystemService(LocationManager::class.java)

    override fun fix(): GeoFixRecord? {
        val granted = context.checkSelfPermission(Manifest.permission.ACCESS_COARSE_LOCATION) ==
            PackageManager.PERMISSION_GRANTED
        if (!granted) return null
        val best = try {
            listOf(LocationManager.NETWORK_PROVIDER, LocationManager.GPS_PROVIDER)
                .filter { manager.isProviderEnabled(it) }
                .mapNotNull { manager.getLastKnownLocation(it) }
                .maxByOrNull { it.time }
        } catch (e: SecurityException) {
            null
        } ?: return null
        return GeoFixRecord(best.latitude, best.longitude, best.accuracy, null)
    }
}
