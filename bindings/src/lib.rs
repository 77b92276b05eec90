//! Thin UniFFI layer over `smartpos-core`: every export is a few lines that convert types and
//! run the core inside [`error::guard`], so no panic crosses into the JVM.

uniffi::setup_scaffolding!();

#[cfg(target_os = "android")]
mod android;
mod error;
mod logging;
mod money;
#[cfg(feature = "test-hooks")]
mod test_hooks;

pub use error::{AmountProblem, SmartPosError};
pub use logging::{LogLevel, init_logging};
pub use money::{AmountRecord, format_amount, parse_amount};
#[cfg(feature = "test-hooks")]
pub use test_hooks::debug_panic_probe;

/// Version of the core library, so the shell can log which core it embeds.
/// Not guarded: it returns a compile-time constant and cannot panic.
#[uniffi::export]
pub fn core_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
