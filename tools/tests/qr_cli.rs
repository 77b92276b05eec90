//! The contracts of `smartpos qr parse`, `smartpos qr make` and `smartpos paycode`, checked
//! against the real binary: stdout shape, `--json` documents, exit codes, no leaked codes.

#![allow(clippy::unwrap_used)]

use std::process::Output;

use serde_json::Value;

mod common;
use common::smartpos;

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// EMV QRCPS Merchant-Presented Mode v1.1, Appendix A example payload (CRC A13A).
const EMVCO_APPENDIX: &str = "00020101021229300012D156000000000510A93FO3230Q31280012D15600000001\
    030812345678520441115802CN5914BEST TRANSPORT6007BEIJING64200002ZH0104最佳运输0202北京540523.72\
    53031565502016233030412340603***0708A60086670902ME91320016A0112233449988770708123456786304A13A";

#[test]
fn qr_parse_json_lists_fields_sub_fields_crc_and_warnings() {
    let out = smartpos(&["qr", "parse", EMVCO_APPENDIX, "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["crc"],
        serde_json::json!({"found": "A13A", "computed": "A13A", "valid": true})
    );
    let fields = v["fields"].as_array().unwrap();
    assert_eq!(fields.len(), 15);
    assert_eq!(fields[0]["id"], "00");
    assert_eq!(fields[14]["id"], "63");
    let t64 = fields.iter().find(|f| f["id"] == "64").unwrap();
    assert_eq!(t64["sub_fields"][1]["value"], "最佳运输");
    assert_eq!(t64["sub_fields"][1]["length"], 4);
    assert_eq!(v["amount_fen"], 2372);
    assert_eq!(v["warnings"], serde_json::json!([]));
}

#[test]
fn qr_parse_wrong_crc_prints_fields_and_exits_2() {
    let bad = EMVCO_APPENDIX.replace("6304A13A", "6304FFFF");
    let out = smartpos(&["qr", "parse", &bad]);
    assert_eq!(out.status.code(), Some(2));
    let text = stdout(&out);
    assert!(text.contains("59 merchant name: BEST TRANSPORT"), "{text}");
    assert!(
        text.contains("CRC FFFF: INVALID, content gives A13A"),
        "{text}"
    );
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("CRC mismatch") && err.contains("A13A"),
        "{err}"
    );
}

#[test]
fn qr_parse_lenient_payload_warns_and_succeeds() {
    // PromptPay (dtinth/promptpay-qr reference output) omits the mandatory 52, 59 and 60.
    let out = smartpos(&[
        "qr",
        "parse",
        "00020101021229370016A000000677010111011300660000000005802TH530376454044.226304E469",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let codes: Vec<&str> = v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["code"].as_str().unwrap())
        .collect();
    // And THB (764): a warning too, since this terminal charges in CNY.
    assert_eq!(
        codes,
        [
            "missing_mandatory",
            "missing_mandatory",
            "missing_mandatory",
            "currency_not_cny"
        ]
    );
}

#[test]
fn qr_parse_broken_structure_is_one_line_exit_2() {
    let out = smartpos(&["qr", "parse", "0002015905ABC"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).is_empty());
    let err = stderr(&out);
    assert!(err.contains("ID 59") && err.contains("byte 6"), "{err}");
}

#[test]
fn qr_make_prints_payload_then_drawing_and_parses_back() {
    let out = smartpos(&[
        "qr",
        "make",
        "--amount",
        "12.34",
        "--merchant",
        "BEST NOODLES",
        "--city",
        "HANGZHOU",
        "--mcc",
        "5812",
        "--bill",
        "20260614001",
        "--terminal",
        "T0000001",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let payload = text.lines().next().unwrap();
    assert!(payload.starts_with("000201010212153148020000"), "{payload}");
    assert!(
        payload.contains("540512.34") && payload.contains("5303156") && payload.contains("5802CN")
    );
    assert!(text.contains('█'));

    let parsed = smartpos(&["qr", "parse", payload, "--json"]);
    assert!(parsed.status.success(), "{}", stderr(&parsed));
    let v: Value = serde_json::from_slice(&parsed.stdout).unwrap();
    assert_eq!(v["amount_fen"], 1234);
    assert_eq!(v["dynamic"], true);
    let t62 = v["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "62")
        .unwrap();
    assert_eq!(t62["sub_fields"][0]["value"], "20260614001");
    assert_eq!(t62["sub_fields"][1]["value"], "T0000001");
}

#[test]
fn qr_make_json_has_payload_and_matrix() {
    let out = smartpos(&[
        "qr",
        "make",
        "--amount",
        "0.01",
        "--merchant",
        "X",
        "--account",
        "1234567812345678ABCDEFGHIJKLMNO",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let payload = v["payload"].as_str().unwrap();
    assert!(payload.contains("15311234567812345678ABCDEFGHIJKLMNO"));
    assert_eq!(v["crc"].as_str().unwrap(), &payload[payload.len() - 4..]);
    let size = v["qr"]["size"].as_u64().unwrap() as usize;
    let rows = v["qr"]["rows"].as_array().unwrap();
    assert_eq!(rows.len(), size);
    assert!(rows.iter().all(|r| r.as_str().unwrap().len() == size));
}

#[test]
fn qr_make_bad_amount_is_exit_2() {
    let out = smartpos(&["qr", "make", "--amount", "1.234", "--merchant", "X"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--amount"), "{}", stderr(&out));
}

#[test]
fn paycode_names_the_scheme_and_masks_the_code() {
    let out = smartpos(&["paycode", "134567890123456789"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out).trim(),
        "WeChat Pay (wechat_pay): 1345**********6789"
    );

    let out = smartpos(&["paycode", "0123456789012345678", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["scheme"], "e_cny");
    assert_eq!(v["payment_code"], true);
    assert!(!stdout(&out).contains("0123456789012345678"));
}

#[test]
fn paycode_not_a_code_exits_non_zero_saying_why() {
    let out = smartpos(&["paycode", "6212345678901234"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).is_empty());
    let err = stderr(&out);
    assert!(
        err.contains("not a payment code") && err.contains("UnionPay"),
        "{err}"
    );
    assert!(!err.contains("6212345678901234"), "{err}");

    let out = smartpos(&["paycode", "hello world", "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["payment_code"], false);
    assert!(v["reason"].as_str().unwrap().contains("whitespace"));
}
