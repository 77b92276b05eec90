// The SmartPOS Android sample: one app module over the Rust core (built per ABI by cargo-ndk)
// and its UniFFI Kotlin bindings. The shell's Android-free logic lives in shell/src and is
// compiled into the app; the host Maven build (bindings/kotlin) tests it on the JVM.
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "smartpos-android-sample"
include(":app")
