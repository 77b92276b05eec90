//! What the CLI contract tests share: running the `smartpos` binary and reading its answer.
// Each test binary compiles this module and uses only some of it.
#![allow(dead_code)]

use std::process::{Command, Output};

use serde_json::Value;

pub fn smartpos(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_smartpos"))
        .args(args)
        .output()
        .expect("the smartpos binary runs")
}

/// The command succeeded and printed one JSON document.
pub fn ok_json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "exit {:?}, stderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is one JSON document")
}
