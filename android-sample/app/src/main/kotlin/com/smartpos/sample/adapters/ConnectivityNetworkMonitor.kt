package com.smartpos.sample.adapters

import android.content.Context
import android.net.ConnectivityManager
import android.net.Network
import android.net.NetworkCapabilities
import android.os.Build
import com.smartpos.core.CellularGeneration
import com.smartpos.core.NetworkLink
import com.smartpos.core.NetworkMonitor
import com.smartpos.core.NetworkStatusRecord

/**
 * The NetworkMonitor port over ConnectivityManager. The core reads it on the payment path, so
 * [status] answers from the last callback instead of asking the system.
 */
class ConnectivityNetworkMonitor(context: Context) : NetworkMonitor {
    private val connectivity = context.getSystemService(ConnectivityManager::class.java)

    @Volatile private var last = NetworkStatusRecord(NetworkLink.None, null, false)

    private val callback = object : ConnectivityManager.NetworkCallback() {
        override fun onCapabilitiesChanged(network: Network, caps: NetworkCapabilities) {
            last = statusOf(caps)
        }

        override fun onLost(network: Network) {
            last = NetworkStatusRecord(NetworkLink.None, null, false)
        }
    }

    fun start() {
        connectivity.registerDefaultNetworkCallback(callback)
    }

    fun stop() {
        connectivity.unregisterNetworkCallback(callback)
    }

    override fun status(): NetworkStatusRecord = last

    private fun statusOf(caps: NetworkCapabilities): NetworkStatusRecord {
        val link = when {
            caps.hasTransport(NetworkCapabilities.TRANSPORT_ETHERNET) -> NetworkLink.Ethernet
            caps.hasTransport(NetworkCapabilities.TRANSPORT_WIFI) -> NetworkLink.Wifi
            // The generation needs READ_PHONE_STATE (TelephonyManager.getDataNetworkType); the
            // sample does not ask for it and reports the 4G these terminals are built for.
            caps.hasTransport(NetworkCapabilities.TRANSPORT_CELLULAR) -> NetworkLink.Cellular(CellularGeneration.G4)
            else -> NetworkLink.None
        }
        val signal = if (Build.VERSION.SDK_INT >= 29) {
            caps.signalStrength.takeIf { it != NetworkCapabilities.SIGNAL_STRENGTH_UNSPECIFIED }?.toShort()
        } else {
            null
        }
        return NetworkStatusRecord(link, signal, caps.hasCapability(NetworkCapabilities.NET_CAPABILITY_VALIDATED))
    }
}
