//! `smartpos crypto arqc` against pyemv: the contract of issue #14 (ICC master key option A,
//! EMV common session key, ARQC, ARPC method 1), and bad input naming its flag with exit 2.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use std::io::Write;
use std::process::{Command, Stdio};

mod common;
use common::smartpos;

const IMK: &str = "0123456789ABCDEFFEDCBA9876543210";
const PAN: &str = "6212345678901234567";
const DATA: &str = "000000010000000000000000015600000080000156261203003804823E7C000001";

fn args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "crypto", "arqc", "--pan", PAN, "--psn", "01", "--atc", "001C", "--data", DATA,
    ];
    v.extend_from_slice(extra);
    v
}

#[test]
fn arqc_and_arpc_match_pyemv() {
    // Computed with pyemv 1.5.0:
    //   mk = kd.derive_icc_mk_a(IMK, "6212345678901234567", "01")
    //   sk = kd.derive_common_sk(mk, bytes.fromhex("001C") + bytes(6))
    //   arqc = ac.generate_ac(sk, DATA); ac.generate_arpc_1(sk, arqc, b"00")
    let out = smartpos(&args(&["--imk", IMK, "--arc", "00", "--json"]));
    let doc = common::ok_json(&out);
    assert_eq!(doc["icc_master_key"], "73AD54688CEF2934B0979857E3C719F1");
    assert_eq!(doc["session_key"], "0E5E20CE8961E58658806DD3917FCD73");
    assert_eq!(doc["arqc"], "10D352760B9BD4AC");
    assert_eq!(doc["arc"], "3030");
    assert_eq!(doc["arpc"], "DFB723DA738ACDEE");

    let text = smartpos(&args(&["--imk", IMK, "--arc", "3030"]));
    assert!(text.status.success());
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("ICC master key (option A): 73AD54688CEF2934B0979857E3C719F1"));
    assert!(text.contains("ARQC: 10D352760B9BD4AC"));
    assert!(text.contains("ARPC (method 1, ARC 3030): DFB723DA738ACDEE"));
}

#[test]
fn imk_from_stdin_gives_what_the_flag_gives() {
    let by_flag = smartpos(&args(&["--imk", IMK]));
    assert!(by_flag.status.success());
    let mut child = Command::new(env!("CARGO_BIN_EXE_smartpos"))
        .args(args(&["--imk-file", "-"]))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(IMK.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout, by_flag.stdout);
    // Without --arc there is no ARPC line.
    assert!(!String::from_utf8_lossy(&out.stdout).contains("ARPC"));
}

#[test]
fn bad_input_exits_2_naming_the_flag() {
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "crypto", "arqc", "--imk", "0123", "--pan", PAN, "--atc", "0001", "--data", "00",
            ],
            "--imk",
        ),
        (
            &[
                "crypto", "arqc", "--imk", IMK, "--pan", "62x1", "--atc", "0001", "--data", "00",
            ],
            "--pan",
        ),
        (
            &[
                "crypto", "arqc", "--imk", IMK, "--pan", PAN, "--psn", "1", "--atc", "0001",
                "--data", "00",
            ],
            "--psn",
        ),
        (
            &[
                "crypto", "arqc", "--imk", IMK, "--pan", PAN, "--atc", "01", "--data", "00",
            ],
            "--atc",
        ),
        (
            &[
                "crypto", "arqc", "--imk", IMK, "--pan", PAN, "--atc", "0001", "--data", "0G",
            ],
            "--data",
        ),
        (
            &[
                "crypto", "arqc", "--imk", IMK, "--pan", PAN, "--atc", "0001", "--data", "00",
                "--arc", "1",
            ],
            "--arc",
        ),
    ];
    for (argv, flag) in cases {
        let out = smartpos(argv);
        assert_eq!(out.status.code(), Some(2), "{argv:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(flag), "{argv:?}: {err}");
    }
}
