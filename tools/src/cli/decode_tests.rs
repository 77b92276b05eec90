//! `decode`'s unit tests (kept apart: the module itself is long enough).
use super::*;

const PAN: &str = "6222021234567890123";

/// 9F26 cryptogram, 9F36 ATC, 95 TVR, 5A PAN (card data, must be redacted).
const ICC: &str = "9F2608A1B2C3D4E5F607089F360200019505008004E0005A0A6222021234567890123F";

/// A UnionPay IC sale as the terminal sends it (fields as in the core's sale tests).
fn ic_sale() -> Frame {
    let mut m = Message::new("0200");
    m.set_digits(2, PAN);
    m.set_digits(3, "000000");
    m.set_digits(4, "000000012345");
    m.set_digits(11, "000123");
    m.set_digits(22, "051");
    m.set_digits(23, "001");
    m.set_digits(25, "00");
    m.set_digits(26, "12");
    m.set_digits(35, "6222021234567890123D25122010000000000");
    m.set_text(41, "10000001");
    m.set_text(42, "898310048140001");
    m.set_text(49, "156");
    m.set_bytes(52, hex::decode("1122334455667788").unwrap());
    m.set_digits(53, "2600000000000000");
    m.set_bytes(55, hex::decode(ICC).unwrap());
    m.set_digits(60, "2200000100050");
    m.set_bytes(64, hex::decode("AABBCCDDEEFF0011").unwrap());
    Frame {
        tpdu: Tpdu::new(0x0003, 0x0000),
        header: [0x60, 0x31, 0x00, 0x31, 0x10, 0x00],
        message: m,
    }
}

fn assert_no_card_data(out: &str) {
    assert!(!out.contains(PAN), "{out}");
    assert!(!out.contains("D2512201"), "track 2 leaked: {out}");
    assert!(!out.contains("1122334455667788"), "PIN block leaked: {out}");
    assert!(!out.contains("6222021234567890"), "tag 5A leaked: {out}");
}

#[test]
fn an_enciphered_track_is_shown_as_such_and_still_redacted() {
    let mut frame = ic_sale();
    frame.message.set_digits(53, "1610000000000000");
    frame
        .message
        .set_digits(35, "6222021234567890123D3A7F09C1B2E4D5F60");
    let hex = hex::encode_upper(frame.encode().unwrap());
    let out = format_decode(&hex, false, false).unwrap();
    assert!(
        out.contains(" 35  track 2 data: enciphered under the TDK (53.3 = 1) [redacted"),
        "{out}"
    );
    assert!(!out.contains("3A7F09C1"), "{out}");
    let json: Json = serde_json::from_str(&format_decode(&hex, true, false).unwrap()).unwrap();
    let f35 = json["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == 35)
        .unwrap();
    assert_eq!(f35["enciphered"], true);
}

#[test]
fn framed_sale_decodes_with_card_data_masked() {
    let hex = hex::encode_upper(ic_sale().encode().unwrap());
    let out = format_decode(&hex, false, false).unwrap();
    assert!(
        out.contains("TPDU    id 60, destination 0003, source 0000"),
        "{out}"
    );
    assert!(out.contains("header  603100311000"), "{out}");
    assert!(out.contains("MTI     0200"), "{out}");
    assert!(
        out.contains("  2  primary account number: 622202*********0123"),
        "{out}"
    );
    assert!(out.contains(" 35  track 2 data: [redacted"), "{out}");
    assert!(out.contains(" 52  PIN data: [redacted 8 bytes]"), "{out}");
    assert!(out.contains("60.2 batch number: 000001"), "{out}");
    assert!(out.contains("60.4 terminal read capability: 5"), "{out}");
    assert!(out.contains("9F26 application cryptogram (8 bytes): A1B2C3D4E5F60708"));
    assert!(out.contains("5A application PAN (10 bytes): [redacted 10 bytes]"));
    assert_no_card_data(&out);
}

#[test]
fn body_and_bare_forms_are_detected() {
    let frame = ic_sale();
    let body = hex::encode(frame.encode_body().unwrap());
    let framed = format_decode(&hex::encode(frame.encode().unwrap()), false, false).unwrap();
    let from_body = format_decode(&body, false, false).unwrap();
    // The same dump; only the offsets differ, by the 2-byte length prefix.
    assert!(framed.contains("  2  primary account number"), "{framed}");
    assert!(framed.contains("wire: at byte 23, length prefix 19 (1 byte)"));
    assert!(from_body.contains("wire: at byte 21, length prefix 19 (1 byte)"));
    let without_wire = |t: &str| {
        t.lines()
            .filter(|l| !l.contains("wire: at byte"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(without_wire(&from_body), without_wire(&framed));
    let framed = from_body;
    // Spaces between bytes are allowed.
    let spaced: Vec<String> = body
        .as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    assert_eq!(
        format_decode(&spaced.join(" "), false, false).unwrap(),
        framed
    );
    let bare = hex::encode(CUPS.pack(&frame.message).unwrap());
    let out = format_decode(&bare, false, true).unwrap();
    assert!(out.starts_with("MTI     0200"), "{out}");
    assert!(!out.contains("TPDU"));
}

#[test]
fn json_parses_and_has_the_fields() {
    let hex = hex::encode(ic_sale().encode().unwrap());
    let out = format_decode(&hex, true, false).unwrap();
    let v: Json = serde_json::from_str(&out).unwrap();
    assert_eq!(v["mti"], "0200");
    assert_eq!(v["header"], "603100311000");
    assert_eq!(v["tpdu"]["destination"], "0003");
    let fields = v["fields"].as_array().unwrap();
    let numbers: Vec<u64> = fields
        .iter()
        .map(|f| f["field"].as_u64().unwrap())
        .collect();
    assert_eq!(
        numbers,
        [
            2, 3, 4, 11, 22, 23, 25, 26, 35, 41, 42, 49, 52, 53, 55, 60, 64
        ]
    );
    assert_eq!(fields[0]["name"], "primary account number");
    assert_eq!(fields[0]["value"], "622202*********0123");
    assert_eq!(
        fields[15]["subfields"]["60.1 transaction type"],
        "22 (sale)"
    );
    assert_eq!(fields[14]["tlv"][0]["tag"], "9F26");
    assert_eq!(fields[14]["tlv"][3]["value"], "[redacted 10 bytes]");
    assert_no_card_data(&out);
}

#[test]
fn bad_hex_and_truncated_messages_are_errors() {
    let e = format_decode("0200 30G0", false, true)
        .unwrap_err()
        .to_string();
    assert!(e.contains("not valid hex"), "{e}");
    let mut body = ic_sale().encode_body().unwrap();
    body.truncate(body.len() - 3);
    let e = format_decode(&hex::encode(&body), false, false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("field 64 (message authentication code)"), "{e}");
    // The MAC starts 8 bytes before the end of the whole body.
    let at = body.len() + 3 - 8;
    assert!(e.contains(&format!("at byte {at}")), "{e}");
    let e = format_decode("02", false, true).unwrap_err().to_string();
    assert!(e.contains("MTI"), "{e}");
}

#[test]
fn sign_on_response_shows_keys_and_organisation() {
    let mut m = Message::new("0810");
    m.set_digits(11, "000001");
    m.set_text(39, "00");
    m.set_text(41, "10000001");
    m.set_text(42, "898310048140001");
    m.set_digits(60, "00000001004");
    let mut keys = vec![0x11; 16];
    keys.extend([0xA1, 0xA2, 0xA3, 0xA4]);
    keys.extend([0x22; 16]);
    keys.extend([0xB1, 0xB2, 0xB3, 0xB4]);
    m.set_bytes(62, keys);
    m.set_text(63, "CUP");
    let out = format_decode(&hex::encode(CUPS.pack(&m).unwrap()), false, true).unwrap();
    assert!(
        out.contains(&format!(
            "62 PIK: encrypted {} check value A1A2A3A4",
            "11".repeat(16)
        )),
        "{out}"
    );
    assert!(out.contains("check value B1B2B3B4"), "{out}");
    assert!(!out.contains("62 TDK"), "{out}");
    assert!(
        out.contains("63.1 international organisation: CUP"),
        "{out}"
    );
    assert!(out.contains("60.3 network management code: 004"), "{out}");
}

#[test]
fn settlement_totals_split_into_sides() {
    let mut m = Message::new("0500");
    m.set_digits(
        48,
        "0020000000030000010000000005000\
         0000000000000000000000000000000",
    );
    let out = format_decode(&hex::encode(CUPS.pack(&m).unwrap()), false, true).unwrap();
    assert!(out.contains("48.domestic debit count: 2"), "{out}");
    assert!(out.contains("48.domestic debit amount: 3000"), "{out}");
    assert!(out.contains("48.domestic credit amount: 500"), "{out}");
    assert!(out.contains("48.foreign credit count: 0"), "{out}");
}
