use proptest::prelude::*;

use super::*;
use crate::qr::crc::crc16_hex;
use crate::qr::mpm::{AccountTemplate, MerchantQr, UnionPayAccount};

/// EMV QRCPS Merchant-Presented Mode v1.1, Appendix A (example payload). Its CRC A13A is also
/// asserted by mvallim/emv-qrcode and dongri/emv-qrcode; our `crc` module agrees (see crc.rs).
const EMVCO_APPENDIX: &str = "00020101021229300012D156000000000510A93FO3230Q31280012D15600000001\
    030812345678520441115802CN5914BEST TRANSPORT6007BEIJING64200002ZH0104最佳运输0202北京540523.72\
    53031565502016233030412340603***0708A60086670902ME91320016A0112233449988770708123456786304A13A";

/// Thai PromptPay payload with amount 4.22, the reference output of the promptpay-qr library
/// (dtinth/promptpay-qr README), as cross-checked by an independent app's test suite. Real
/// PromptPay payloads omit 52, 59 and 60.
const PROMPTPAY: &str =
    "00020101021229370016A000000677010111011300660000000005802TH530376454044.226304E469";

/// The sample payload of the National Bank of Cambodia KHQR SDK document: UnionPay ID 15,
/// Khmer text in template 64, unreserved template 99. CRC FD7B as published.
const KHQR_SAMPLE: &str = "00020101021215311234567812345678ABCDEFGHIJKLMNO29460015john_smith@devb\
    0111855122334550208Dev Bank52041234530311654031005802KH5910John Smith\
    6010PHNOM PENH62670106#123450211855122334550311Coffee Shop0709Cashier_1\
    0810Buy coffee64290002km0108ចន ស្មីន0207ភ្នំពេញ\
    993400131745915488053011341013543270006304FD7B";

/// A real Korean merchant payload (UnionPay ID 15, Korean names in template 64), published with
/// its CRC 5C76 in a test of an independent EMV MPM CRC implementation (EmvMpmCRC).
const KOREAN_MERCHANT: &str = "0002010102121531260004102600041071195812000000026310014D410000001401\
    0050910000540852047299530341054062569805802KR5910NAISHUSIAT6013SEOUL MAPO-GU6105040866256030910\
    00054080515MQ202200012703306081000445207080000000164240002ko0104나이스샷0206서울 마포구63045C76";

fn with_fixed_crc(body_up_to_6304: &str) -> String {
    format!("{body_up_to_6304}{}", crc16_hex(body_up_to_6304.as_bytes()))
}

#[test]
fn emvco_appendix_example_parses_with_every_sub_field() {
    let p = parse(EMVCO_APPENDIX).unwrap();
    assert!(p.crc.is_valid());
    assert_eq!(p.crc.found, "A13A");
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    let ids: Vec<u8> = p.fields.iter().map(|f| f.id).collect();
    assert_eq!(
        ids,
        [0, 1, 29, 31, 52, 58, 59, 60, 64, 54, 53, 55, 62, 91, 63]
    );
    let t29 = p.field(29).unwrap();
    assert_eq!(t29.sub_field(0).unwrap().value, "D15600000000");
    assert_eq!(t29.sub_field(5).unwrap().value, "A93FO3230Q");
    assert_eq!(p.text(59), Some("BEST TRANSPORT"));
    let t64 = p.field(64).unwrap();
    assert_eq!(t64.sub_field(0).unwrap().value, "ZH");
    assert_eq!(t64.sub_field(1).unwrap().value, "最佳运输");
    assert_eq!(t64.sub_field(2).unwrap().value, "北京");
    assert_eq!(p.amount(), Some(Amount::from_fen(2372).unwrap()));
    let t62 = p.field(62).unwrap();
    let subs: Vec<(u8, &str)> = t62
        .sub_fields
        .as_ref()
        .unwrap()
        .iter()
        .map(|f| (f.id, f.value))
        .collect();
    assert_eq!(subs, [(3, "1234"), (6, "***"), (7, "A6008667"), (9, "ME")]);
    assert_eq!(p.field(91).unwrap().sub_field(7).unwrap().value, "12345678");
    assert!(p.is_dynamic());
    // Offsets are bytes: 64 follows "6007BEIJING" and its value starts 4 bytes later.
    assert_eq!(&EMVCO_APPENDIX[t64.offset..t64.offset + 4], "6420");
}

#[test]
fn promptpay_parses_with_warnings_for_its_omissions() {
    let p = parse(PROMPTPAY).unwrap();
    assert_eq!(p.crc.computed, "E469");
    assert_eq!(p.amount(), Some(Amount::from_fen(422).unwrap()));
    let missing: Vec<u8> = p
        .warnings
        .iter()
        .filter_map(|w| match w {
            MpmWarning::MissingMandatory { id } => Some(*id),
            _ => None,
        })
        .collect();
    assert_eq!(missing, [52, 59, 60]);
    assert_eq!(
        p.field(29).unwrap().sub_field(0).unwrap().value,
        "A000000677010111"
    );
}

#[test]
fn khqr_sample_reads_unionpay_account_and_khmer_names() {
    let p = parse(KHQR_SAMPLE).unwrap();
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    let up = p.unionpay_account().unwrap();
    assert_eq!(up.acquirer_iin(), "12345678");
    assert_eq!(up.merchant_id(), "ABCDEFGHIJKLMNO");
    assert_eq!(p.field(64).unwrap().sub_field(1).unwrap().value, "ចន ស្មីន");
    assert_eq!(
        p.field(62).unwrap().sub_field(7).unwrap().value,
        "Cashier_1"
    );
    assert_eq!(p.field(99).unwrap().sub_fields.as_ref().unwrap().len(), 2);
}

#[test]
fn korean_issuer_payload_verifies() {
    let p = parse(KOREAN_MERCHANT).unwrap();
    assert_eq!(p.crc.computed, "5C76");
    assert_eq!(
        p.unionpay_account().unwrap().merchant_id(),
        "711958120000000"
    );
    assert_eq!(
        p.field(64).unwrap().sub_field(2).unwrap().value,
        "서울 마포구"
    );
}

#[test]
fn wrong_crc_is_rejected_with_both_values() {
    let bad = EMVCO_APPENDIX.replace("6304A13A", "6304A13B");
    assert_eq!(
        parse(&bad),
        Err(MpmError::CrcMismatch {
            expected: "A13A".into(),
            found: "A13B".into()
        })
    );
    // A changed amount with the old CRC is the tampering the CRC exists to catch.
    let tampered = EMVCO_APPENDIX.replace("540523.72", "540599.72");
    assert!(matches!(
        parse(&tampered),
        Err(MpmError::CrcMismatch { .. })
    ));
    // The unverified parse still shows the content and the verdict.
    let shown = parse_unverified(&bad).unwrap();
    assert!(!shown.crc.is_valid());
    assert_eq!(shown.text(59), Some("BEST TRANSPORT"));
}

#[test]
fn lower_case_crc_digits_are_accepted() {
    let lower = PROMPTPAY.replace("E469", "e469");
    assert!(parse(&lower).is_ok());
}

#[test]
fn other_format_indicator_and_00_out_of_place_are_warnings_when_crc_is_right() {
    let text =
        with_fixed_crc("0002020102121520123456789012345678905204581253031565802CN5901A6001B6304");
    let p = parse(&text).unwrap();
    assert_eq!(
        p.warnings,
        [MpmWarning::PayloadFormatIndicator { found: "02".into() }]
    );
    let text =
        with_fixed_crc("0102120002011520123456789012345678905204581253031565802CN5901A6001B6304");
    let p = parse(&text).unwrap();
    assert_eq!(
        p.warnings,
        [MpmWarning::PayloadFormatNotFirst { offset: 6 }]
    );
}

#[test]
fn structure_errors_are_typed_and_placed() {
    assert_eq!(parse(""), Err(MpmError::Empty));
    assert_eq!(parse("  \r\n"), Err(MpmError::Empty));
    assert_eq!(
        parse("000201"),
        Err(MpmError::CrcMissing),
        "a payload without 63"
    );
    assert_eq!(
        parse(&format!("{}5802CN", &with_fixed_crc("0002016304"))),
        Err(MpmError::CrcNotLast { offset: 6 })
    );
    assert_eq!(
        parse("0002016304XYZW"),
        Err(MpmError::CrcMalformed {
            offset: 6,
            found: "XYZW".into()
        })
    );
    assert_eq!(
        parse("0102126304A"),
        Err(MpmError::Format(
            crate::qr::emv_tlv::EmvTlvError::Truncated {
                id: 63,
                offset: 6,
                declared: 4,
                available: 1
            }
        ))
    );
    assert_eq!(
        parse(&with_fixed_crc("0102126304")),
        Err(MpmError::NoPayloadFormatIndicator)
    );
    assert_eq!(
        parse_bytes(b"0002\xff1"),
        Err(MpmError::NotUtf8 { offset: 4 })
    );
}

#[test]
fn a_template_that_does_not_hold_objects_is_kept_as_text_with_a_warning() {
    let text = with_fixed_crc("0002012604ABCD6304");
    let p = parse(&text).unwrap();
    assert_eq!(p.field(26).unwrap().sub_fields, None);
    assert_eq!(p.field(26).unwrap().value, "ABCD");
    assert!(p.warnings.iter().any(|w| w.code() == "template_not_parsed"));
}

#[test]
fn scanner_line_endings_are_ignored() {
    assert!(parse(&format!("{PROMPTPAY}\r\n")).is_ok());
}

fn name_strategy(max: usize) -> impl Strategy<Value = String> {
    // Printable ASCII and CJK: both occur in real merchant names.
    proptest::collection::vec(
        prop_oneof![
            (0x20u8..0x7F).prop_map(char::from),
            (0x4E00u32..0x9FA5).prop_map(|c| char::from_u32(c).unwrap_or('中')),
        ],
        1..=max,
    )
    .prop_map(|v| v.into_iter().collect())
}

proptest! {
    #[test]
    fn make_then_parse_round_trips(
        fen in 1u64..=crate::money::MAX_FEN,
        mcc in "[0-9]{4}",
        name in name_strategy(25),
        city in name_strategy(15),
        bill in proptest::option::of("[A-Za-z0-9]{1,25}"),
        terminal in proptest::option::of("[A-Z0-9]{1,25}"),
        mid in "[A-Z0-9]{15}",
        with_other in any::<bool>(),
    ) {
        let account = UnionPayAccount::new("48020000", "48020000", &mid).unwrap();
        let amount = Amount::from_fen(fen).unwrap();
        let mut qr = MerchantQr::new(account.clone(), &mcc, amount, &name, &city);
        qr.bill_number = bill.clone();
        qr.terminal_label = terminal.clone();
        if with_other {
            qr.other_accounts.push(AccountTemplate { id: 26, sub_fields: vec![(0, "A000000333010101".into())] });
        }
        let text = qr.make().unwrap();
        let p = parse(&text).unwrap();
        prop_assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        prop_assert_eq!(p.amount(), Some(amount));
        prop_assert_eq!(p.text(52), Some(mcc.as_str()));
        prop_assert_eq!(p.text(59), Some(name.as_str()));
        prop_assert_eq!(p.text(60), Some(city.as_str()));
        prop_assert_eq!(p.text(53), Some("156"));
        prop_assert_eq!(p.unionpay_account(), Some(account));
        let t62 = p.field(62);
        prop_assert_eq!(t62.and_then(|t| t.sub_field(1)).map(|f| f.value), bill.as_deref());
        prop_assert_eq!(t62.and_then(|t| t.sub_field(7)).map(|f| f.value), terminal.as_deref());
        prop_assert_eq!(p.field(26).is_some(), with_other);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = parse_bytes(&bytes);
    }

    #[test]
    fn arbitrary_digit_text_never_panics(text in "[0-9A-F]{0,200}") {
        let _ = parse_unverified(&text);
    }
}
