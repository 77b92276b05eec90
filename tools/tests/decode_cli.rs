//! `smartpos decode` as an engineer uses it all day: input from a file or standard input, the
//! bitmap and each field's bytes, meanings of coded values, field 48 read by its message type,
//! the MAC checked with a given MAK, and a frame one byte long or short named as such.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;
use smartpos_core::codec::iso8583::Message;
use smartpos_core::codec::iso8583::cups::{Frame, Tpdu, mac_input};
use smartpos_core::crypto::{KeyAlgorithm, MacAlgorithm, SecretKey, compute_mac};

mod common;
use common::{json_with_exit, smartpos};

/// A test MAK (not a real key).
const MAK: &str = "1C2D3E4F5A6B7C8D8D7C6B5A4F3E2D1C";

fn frame(mut m: Message, mak: Option<&str>) -> Vec<u8> {
    if let Some(k) = mak {
        let key = SecretKey::from_hex(KeyAlgorithm::Tdes, k).unwrap();
        let tag = compute_mac(MacAlgorithm::X919, &key, &mac_input(&m).unwrap()).unwrap();
        m.set_bytes(64, tag.to_vec());
    }
    Frame {
        tpdu: Tpdu::new(0x0001, 0x0000),
        header: [0x60, 0x22, 0, 0, 0, 0],
        message: m,
    }
    .encode()
    .unwrap()
}

fn sale() -> Message {
    let mut m = Message::new("0200");
    m.set_digits(3, "000000");
    m.set_digits(4, "000000000333");
    m.set_digits(11, "000002");
    m.set_digits(22, "021");
    m.set_digits(25, "00");
    m.set_digits(26, "12");
    m.set_text(41, "10000001");
    m.set_text(42, "898310048140001");
    m.set_text(49, "156");
    m.set_digits(60, "2200000100060");
    m
}

fn text(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_file_and_standard_input_decode_like_the_argument() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = frame(sale(), Some(MAK));
    let hex_text = hex::encode_upper(&bytes);
    let from_arg = text(&smartpos(&["decode", &hex_text]));
    assert!(from_arg.contains("bitmap  "), "{from_arg}");
    // A raw capture and a hex file.
    let raw = dir.path().join("frame.bin");
    std::fs::write(&raw, &bytes).unwrap();
    assert_eq!(
        text(&smartpos(&["decode", "--file", raw.to_str().unwrap()])),
        from_arg
    );
    let hexfile = dir.path().join("frame.hex");
    std::fs::write(&hexfile, format!("{hex_text}\n")).unwrap();
    assert_eq!(
        text(&smartpos(&["decode", "--file", hexfile.to_str().unwrap()])),
        from_arg
    );
    // Standard input.
    let mut child = Command::new(env!("CARGO_BIN_EXE_smartpos"))
        .args(["decode", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(hex_text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(text(&out), from_arg);
    // Neither: bad input naming what is missing.
    let none = smartpos(&["decode"]);
    assert_eq!(none.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&none.stderr).contains("HEX"));
}

#[test]
fn bitmap_wire_bytes_and_meanings_are_shown_in_text_and_json() {
    let hex_text = hex::encode_upper(frame(sale(), Some(MAK)));
    let out = text(&smartpos(&["decode", &hex_text]));
    for want in [
        "bitmap  ",
        "fields 3 4 11 22 25 26 41 42 49 60 64",
        "  3  processing code: 000000 — goods and services (sale, completion)",
        " 22  point of service entry mode: 021 — magnetic stripe; terminal can take a PIN",
        " 25  point of service condition code: 00 — normal presentment",
        // 2 length + 5 TPDU + 6 header + 2 MTI + 8 bitmap: field 3 starts at byte 23.
        "       wire: at byte 23, 3 bytes: 000000",
        "length prefix 13 (2 bytes), 7 bytes: 22000001000600",
        "60.1 transaction type: 22 (sale)",
    ] {
        assert!(out.contains(want), "{want}: {out}");
    }
    let json: Value =
        serde_json::from_str(&text(&smartpos(&["decode", &hex_text, "--json"]))).unwrap();
    assert_eq!(json["bitmap"].as_str().unwrap().len(), 16);
    let f60 = json["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == 60)
        .unwrap();
    assert_eq!(f60["wire"]["length_prefix"]["declares"], 13);
    assert_eq!(f60["wire"]["length_prefix"]["bytes"], 2);
    assert_eq!(f60["wire"]["raw"], "22000001000600");
    let f3 = &json["fields"][0];
    assert!(
        f3["meaning"]
            .as_str()
            .unwrap()
            .starts_with("goods and services")
    );
}

#[test]
fn the_mac_is_checked_with_a_given_mak_from_the_flag_or_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let hex_text = hex::encode_upper(frame(sale(), Some(MAK)));
    let ok = smartpos(&["decode", &hex_text, "--mak", MAK, "--mac", "x919"]);
    assert_eq!(ok.status.code(), Some(0));
    assert!(
        text(&ok).contains("MAC check (x919): verified"),
        "{}",
        text(&ok)
    );
    let key_file = dir.path().join("mak.hex");
    std::fs::write(&key_file, format!("{MAK}\n")).unwrap();
    let json = json_with_exit(
        &smartpos(&[
            "decode",
            &hex_text,
            "--mak-file",
            key_file.to_str().unwrap(),
            "--json",
        ]),
        0,
    );
    assert_eq!(json["mac_check"]["verified"], true);
    // Another key: the dump still prints, the check says no, exit 1 (it ran, it failed).
    let wrong = smartpos(&["decode", &hex_text, "--mak", &"11".repeat(16)]);
    assert_eq!(wrong.status.code(), Some(1));
    assert!(text(&wrong).contains("does NOT verify"), "{}", text(&wrong));
}

#[test]
fn field_48_is_read_by_the_message_it_is_in() {
    // A batch upload line: type 22 (sale), STAN 000002, 3.33 yuan.
    let mut upload = Message::new("0320");
    upload.set_digits(11, "000033");
    upload.set_text(41, "10000001");
    upload.set_digits(48, "0122000002000000000333");
    upload.set_digits(60, "00000001201");
    let out = text(&smartpos(&["decode", &hex::encode(frame(upload, None))]));
    assert!(out.contains("48 batch upload lines: 1"), "{out}");
    assert!(
        out.contains("48.1 line: type 22 (sale), STAN 000002, amount 3.33 yuan"),
        "{out}"
    );
    assert!(!out.contains("48.domestic"), "{out}");
    let mut totals = Message::new("0500");
    totals.set_digits(
        48,
        &format!("{}{}", "0020000000030000010000000005000", "0".repeat(31)),
    );
    let out = text(&smartpos(&["decode", &hex::encode(frame(totals, None))]));
    assert!(out.contains("48.domestic debit count: 2"), "{out}");
}

#[test]
fn a_frame_one_byte_short_or_long_is_named_as_such() {
    let mut bytes = frame(sale(), Some(MAK));
    bytes.pop();
    let short = smartpos(&["decode", &hex::encode(&bytes)]);
    assert_eq!(short.status.code(), Some(2));
    let err = String::from_utf8_lossy(&short.stderr);
    assert!(err.contains("the frame is 1 byte short"), "{err}");
    let mut bytes = frame(sale(), Some(MAK));
    bytes.push(0);
    let long = smartpos(&["decode", &hex::encode(&bytes)]);
    let err = String::from_utf8_lossy(&long.stderr);
    assert!(err.contains("the frame is 1 byte long"), "{err}");
}
