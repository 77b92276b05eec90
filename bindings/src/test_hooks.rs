//! Exports that exist only to test the FFI boundary. Compiled only with the `test-hooks`
//! feature, which the host Maven build enables and release/Android builds never do.

use crate::error::{SmartPosError, guard};

/// Panics inside the guard, to prove a panic reaches Kotlin as `SmartPosException.Internal`.
#[uniffi::export]
pub fn debug_panic_probe() -> Result<(), SmartPosError> {
    guard("debug_panic_probe", || {
        panic!("debug_panic_probe: deliberate panic to test the FFI guard")
    })
}
