//! Link flags for the shipped library only (the cdylib), not for tests or tools.
//!
//! Packed relocations: most of the library's dynamic relocations are relative (vtables, string
//! tables, the UniFFI metadata), and written as RELR bitmaps instead of 24-byte RELA entries they
//! take a few KB instead of over 200 KB (issue #17's size budget). glibc loads RELR since 2.36 and
//! GNU ld writes it since 2.38; Android's loader reads its packed format (APS2) from API 23, below
//! the sample's minimum of 24.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=SMARTPOS_NO_PACKED_RELOCS");
    if std::env::var_os("SMARTPOS_NO_PACKED_RELOCS").is_some() {
        return;
    }
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    match (os.as_str(), env.as_str()) {
        ("android", _) => println!("cargo:rustc-cdylib-link-arg=-Wl,--pack-dyn-relocs=android"),
        ("linux", "gnu") => println!("cargo:rustc-cdylib-link-arg=-Wl,-z,pack-relative-relocs"),
        _ => {}
    }
}
