//! Android-only process hooks. Compiled only for `target_os = "android"`.

use std::ffi::c_void;
use std::sync::OnceLock;

use jni::JavaVM;
use jni::sys::{JNI_ERR, JNI_VERSION_1_6, jint};

/// The VM that loaded the library, kept for later platform services (e.g. calling into Android
/// APIs from Rust threads).
static JAVA_VM: OnceLock<JavaVM> = OnceLock::new();

#[allow(dead_code)] // used by the platform services of later rounds
pub(crate) fn java_vm() -> Option<&'static JavaVM> {
    JAVA_VM.get()
}

/// Called by the VM when `System.loadLibrary("smartpos_ffi")` loads this library.
/// JNA's own `dlopen` does not call it, so the shell must call `System.loadLibrary` first.
#[unsafe(no_mangle)]
pub extern "system" fn JNI_OnLoad(vm: *mut jni::sys::JavaVM, _reserved: *mut c_void) -> jint {
    // SAFETY: `vm` comes from the VM itself and stays valid for the life of the process.
    match unsafe { JavaVM::from_raw(vm) } {
        Ok(vm) => {
            let _ = JAVA_VM.set(vm);
            JNI_VERSION_1_6
        }
        Err(_) => JNI_ERR,
    }
}
