import org.jetbrains.kotlin.gradle.dsl.JvmTarget

plugins {
    alias(libs.plugins.android.application)
    alias(libs.plugins.kotlin.android)
}

/** The Rust workspace this sample lives in. */
val repoRoot: File = rootProject.projectDir.parentFile
val abis = listOf("arm64-v8a", "armeabi-v7a", "x86_64")
val jniLibsDir = layout.projectDirectory.dir("src/main/jniLibs")
val uniffiDir = layout.buildDirectory.dir("generated/uniffi")

/**
 * Which PED the app is built with: "software" (default, the emulator: the library's SoftwarePed
 * stand-in, cargo feature `software-ped`) or "vendor" (a real terminal: VendorPed over the vendor
 * SDK, and the library built with --no-default-features, so it contains no software key custody).
 * -PsmartposPed=vendor; see docs/android.md.
 */
val pedKind: String = (project.findProperty("smartposPed") as String?) ?: "software"
require(pedKind == "software" || pedKind == "vendor") { "smartposPed must be software or vendor, not $pedKind" }

android {
    namespace = "com.smartpos.sample"
    compileSdk = 35

    defaultConfig {
        applicationId = "com.smartpos.sample"
        minSdk = 24
        targetSdk = 35
        versionCode = 1
        versionName = "0.1.0"
        testInstrumentationRunner = "androidx.test.runner.AndroidJUnitRunner"
        // The acquirer simulator on the development machine, as the emulator sees it.
        // Override with -PsimHost=HOST:PORT (see docs/android.md).
        val simHost = (project.findProperty("simHost") as String?) ?: "10.0.2.2:5800"
        buildConfigField("String", "SIM_HOST", "\"$simHost\"")
        // The simulated QR gateway on the device's own loopback, forwarded to the development
        // machine with `adb reverse tcp:5801 tcp:5801`: the core allows http:// to loopback only
        // (a payment code is a bearer credential). -PqrGateway=URL (https:// elsewhere).
        val qrGateway = (project.findProperty("qrGateway") as String?) ?: "http://127.0.0.1:5801"
        buildConfigField("String", "QR_GATEWAY_URL", "\"$qrGateway\"")
        ndk {
            abiFilters += abis
        }
    }

    buildFeatures {
        buildConfig = true
    }

    buildTypes {
        release {
            isMinifyEnabled = true
            proguardFiles(getDefaultProguardFile("proguard-android-optimize.txt"), "proguard-rules.pro")
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    sourceSets {
        getByName("main") {
            // Generated UniFFI bindings, the idiomatic layer (PaymentTerminal, Amounts, SmartPos)
            // shared with the host build, and the Android-free shell logic.
            kotlin.srcDir(uniffiDir)
            kotlin.srcDir(File(repoRoot, "bindings/kotlin/src/main/kotlin"))
            kotlin.srcDir(File(rootProject.projectDir, "shell/src/main/kotlin"))
            // TerminalPed: the software stand-in or the vendor adapter (see pedKind).
            kotlin.srcDir(if (pedKind == "vendor") "src/vendorPed/kotlin" else "src/softwarePed/kotlin")
            jniLibs.srcDir(jniLibsDir)
        }
    }

    packaging {
        jniLibs {
            // Uncompressed and page-aligned in the APK, so the loader maps them in place.
            useLegacyPackaging = false
        }
    }
}

kotlin {
    compilerOptions {
        jvmTarget.set(JvmTarget.JVM_17)
    }
}

/**
 * Builds libsmartpos_ffi.so for each ABI with cargo-ndk (release profile, LTO), aligned for
 * 16 KB pages (Android 15+ devices may use them; Play requires it for new apps). Its own target
 * dir, so the RUSTFLAGS do not invalidate the host build.
 *
 * The workspace's release profile strips symbols, which would also remove the UNIFFI_META_*
 * symbols uniffi-bindgen reads in library mode; here only debug info is stripped, and AGP's
 * packaging (strip{Variant}DebugSymbols) strips the rest from the .so that goes into the APK.
 */
val cargoNdk by tasks.registering(Exec::class) {
    group = "rust"
    description = "cargo ndk build --release -p smartpos-ffi for ${abis.joinToString()}"
    workingDir = repoRoot
    // Packed relocations (Android's APS2 format, read by the loader since API 23; RELR would need
    // minSdk 28) shrink the relocation table of every ABI (issue #17's size budget).
    environment(
        "RUSTFLAGS",
        "-C link-arg=-Wl,-z,max-page-size=16384 -C link-arg=-Wl,--pack-dyn-relocs=android",
    )
    environment("CARGO_PROFILE_RELEASE_STRIP", "debuginfo")
    environment("CARGO_TARGET_DIR", File(repoRoot, "target/android").path)
    commandLine(
        buildList {
            addAll(listOf("cargo", "ndk"))
            abis.forEach { addAll(listOf("-t", it)) }
            addAll(listOf("--platform", "24", "-o", jniLibsDir.asFile.path))
            addAll(listOf("build", "--release", "-p", "smartpos-ffi"))
            // A terminal build leaves the software PED (and with it any in-app TMK) out.
            if (pedKind == "vendor") add("--no-default-features")
        },
    )
    inputs.dir(File(repoRoot, "core/src"))
    inputs.dir(File(repoRoot, "bindings/src"))
    inputs.file(File(repoRoot, "Cargo.lock"))
    inputs.property("pedKind", pedKind)
    outputs.dir(jniLibsDir)
}

/**
 * Generates the Kotlin bindings from the built library (UniFFI library mode) with the
 * workspace's pinned uniffi-bindgen, so bindings and library can never disagree.
 */
val generateUniffiBindings by tasks.registering(Exec::class) {
    group = "rust"
    description = "uniffi-bindgen generate --library (Kotlin) from the arm64-v8a library"
    dependsOn(cargoNdk)
    workingDir = repoRoot
    val library = jniLibsDir.file("arm64-v8a/libsmartpos_ffi.so").asFile
    val out = uniffiDir.get().asFile
    commandLine(
        "cargo", "run", "-q", "-p", "uniffi-bindgen", "--",
        "generate", "--library", library.path, "--language", "kotlin", "--no-format",
        "--out-dir", out.path,
    )
    inputs.file(library)
    outputs.dir(out)
}

tasks.named("preBuild") {
    dependsOn(generateUniffiBindings)
}

dependencies {
    implementation(libs.kotlinx.coroutines.android)
    // The aar, not the jar: it carries libjnidispatch.so for every ABI.
    implementation(libs.jna) {
        artifact {
            type = "aar"
        }
    }
    implementation(libs.androidx.activity.ktx)
    implementation(libs.androidx.lifecycle.runtime.ktx)

    androidTestImplementation(libs.androidx.test.runner)
    androidTestImplementation(libs.androidx.test.ext.junit)
}
