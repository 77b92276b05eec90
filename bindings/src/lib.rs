//! Thin UniFFI layer over `smartpos-core`.

uniffi::setup_scaffolding!();

/// Version of the core library, so the shell can log which core it embeds.
#[uniffi::export]
pub fn core_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
