//! Keys and PINs stay out of process lists: every `smartpos crypto` secret can come from a file
//! or standard input, with the same result as the flag; a risk signing key is written for its
//! owner only and never overwritten.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use std::io::Write;
use std::process::{Command, Stdio};

mod common;
use common::smartpos;

const TMK: &str = "0123456789ABCDEFFEDCBA9876543210";

fn stdout(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[test]
fn keys_and_pins_from_a_file_or_stdin_give_what_the_flags_give() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("tmk.hex");
    std::fs::write(&key_file, format!("{TMK}\n")).unwrap();
    let key_path = key_file.to_str().unwrap();
    let by_flag = stdout(&smartpos(&["crypto", "kcv", "--key", TMK]));
    // ANSI X9.24 test key: KCV 08D7B4 (cross-checked with psec, see core crypto::kcv tests).
    assert!(by_flag.contains("08D7B4"));
    assert_eq!(
        stdout(&smartpos(&["crypto", "kcv", "--key-file", key_path])),
        by_flag
    );

    let mut child = Command::new(env!("CARGO_BIN_EXE_smartpos"))
        .args(["crypto", "kcv", "--key-file", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(TMK.as_bytes())
        .unwrap();
    assert_eq!(stdout(&child.wait_with_output().unwrap()), by_flag);

    let pin_file = dir.path().join("pin");
    std::fs::write(&pin_file, "1234").unwrap();
    let pan = "4012345678909";
    let encode = |pin: &[&str]| {
        let mut args = vec![
            "crypto", "pinblock", "encode", "--format", "0", "--pan", pan,
        ];
        args.extend_from_slice(pin);
        args.extend_from_slice(&["--key-file", key_path]);
        stdout(&smartpos(&args))
    };
    assert_eq!(
        encode(&["--pin-file", pin_file.to_str().unwrap()]),
        encode(&["--pin", "1234"])
    );
    // Both at once is refused, as is neither.
    assert_eq!(
        smartpos(&["crypto", "kcv", "--key", TMK, "--key-file", key_path])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(smartpos(&["crypto", "kcv"]).status.code(), Some(2));
}

#[test]
fn a_signing_key_is_private_and_never_overwritten() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("fleet.pk8");
    let out = key.to_str().unwrap();
    assert!(
        smartpos(&["risk", "bundle", "keygen", "--out", out])
            .status
            .success()
    );
    let first = std::fs::read(&key).unwrap();
    let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let again = smartpos(&["risk", "bundle", "keygen", "--out", out]);
    assert_eq!(again.status.code(), Some(2));
    assert_eq!(
        std::fs::read(&key).unwrap(),
        first,
        "the first key is untouched"
    );
}
