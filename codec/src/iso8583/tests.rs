//! Engine and dialect tests: hand-built UnionPay messages with their expected bytes, every
//! malformed-input error, and property tests.

use proptest::prelude::*;

use super::*;

fn hex(s: &str) -> Vec<u8> {
    hex::decode(s.replace(' ', "")).unwrap()
}

/// 0800 sign-on: 11, 41, 42, 60 (00 + batch 000001 + 004 = double-length TDES keys), 63.
fn sign_on() -> Message {
    let mut m = Message::new("0800");
    m.set_digits(11, "000001");
    m.set_text(41, "10000001");
    m.set_text(42, "898310048140001");
    m.set_digits(60, "00000001004");
    m.set_text(63, "001");
    m
}

/// Expected bytes, field by field:
/// MTI 08 00 | bitmap: bit 11 → byte 2 = 20; bits 41, 42 → byte 6 = C0; bits 60, 63 → byte 8 = 12
/// | 11: 00 00 01 | 41: "10000001" | 42: "898310048140001" | 60: LLL 00 11, 11 digits
/// left-aligned 00 00 00 01 00 40 | 63: LLL 00 03 "001".
const SIGN_ON_HEX: &str = "0800 0020000000C00012 000001 3130303030303031 \
    383938333130303438313430303031 0011 000000010040 0003 303031";

#[test]
fn packs_a_sign_on_byte_for_byte() {
    assert_eq!(CUPS.pack(&sign_on()).unwrap(), hex(SIGN_ON_HEX));
    assert_eq!(CUPS.unpack(&hex(SIGN_ON_HEX)).unwrap(), sign_on());
}

fn sale() -> Message {
    let mut m = Message::new("0200");
    m.set_digits(3, "000000");
    m.set_digits(4, "000000012345");
    m.set_digits(11, "000123");
    m.set_digits(22, "021");
    m.set_digits(25, "00");
    m.set_digits(26, "12");
    m.set_digits(35, "6222021234567890123D25122010000000000");
    m.set_text(41, "10000001");
    m.set_text(42, "898310048140001");
    m.set_text(49, "156");
    m.set_bytes(52, hex("1122334455667788"));
    m.set_digits(53, "1600000000000000");
    m.set_digits(60, "2200000100060");
    m.set_bytes(64, hex("AABBCCDDEEFF0011"));
    m
}

/// bitmap: 3,4 → 30 | 11 → 20 | 22 → 04 | 25,26 → C0 | 35 → 20 | 41,42 → C0 | 49,52,53 → 98 |
/// 60,64 → 11. Field 22 "021" left-aligned = 02 10; field 35 LL = 37 then 19 bytes with the
/// separator as nibble D and a trailing pad nibble; 60 LLL = 00 13 then 7 bytes.
const SALE_HEX: &str = "0200 302004C020C09811 000000 000000012345 000123 0210 00 12 \
    37 62220212345678901 23D2512201000000000 00 \
    3130303030303031 383938333130303438313430303031 313536 1122334455667788 \
    1600000000000000 0013 22000001000600 AABBCCDDEEFF0011";

#[test]
fn packs_a_magstripe_sale_byte_for_byte() {
    let packed = CUPS.pack(&sale()).unwrap();
    assert_eq!(hex::encode_upper(&packed), hex::encode_upper(hex(SALE_HEX)));
    assert_eq!(CUPS.unpack(&packed).unwrap(), sale());
}

#[test]
fn mac_input_stops_before_field_64_with_its_bit_set() {
    let with_mac = CUPS.pack(&sale()).unwrap();
    let input = mac_input(&sale()).unwrap();
    assert_eq!(input, with_mac[..with_mac.len() - 8]);
    let mut unmaced = sale();
    unmaced.remove(64);
    assert_eq!(
        mac_input(&unmaced).unwrap(),
        input,
        "same input before the MAC exists"
    );
}

#[test]
fn frames_carry_tpdu_and_header() {
    let frame = Frame {
        tpdu: Tpdu::new(0x0001, 0x0000),
        header: [0x60, 0x22, 0, 0, 0, 0],
        message: sign_on(),
    };
    let wire = frame.encode().unwrap();
    let body_len = wire.len() - 2;
    assert_eq!(&wire[..2], &(body_len as u16).to_be_bytes());
    assert_eq!(&wire[2..7], &[0x60, 0x00, 0x01, 0x00, 0x00]);
    assert_eq!(&wire[7..13], &[0x60, 0x22, 0, 0, 0, 0]);
    assert_eq!(Frame::decode(&wire).unwrap(), frame);
    assert_eq!(
        frame.tpdu.swapped().to_bytes(),
        [0x60, 0x00, 0x00, 0x00, 0x01]
    );
    let mut longer = wire.clone();
    longer.push(0);
    assert!(matches!(
        Frame::decode(&longer).unwrap_err().kind,
        UnpackErrorKind::FrameLength { .. }
    ));
}

fn unpack_err(bytes: &[u8]) -> UnpackError {
    CUPS.unpack(bytes).unwrap_err()
}

#[test]
fn short_buffer_names_the_field_and_offset() {
    let b = hex(SIGN_ON_HEX);
    let e = unpack_err(&b[..15]);
    assert_eq!(e.field, Some(41));
    assert_eq!(e.offset, 10 + 3);
    assert!(matches!(
        e.kind,
        UnpackErrorKind::Truncated { needed: 8, .. }
    ));
    assert!(
        e.to_string()
            .contains("field 41 (card acceptor terminal identification)")
    );
    assert_eq!(unpack_err(&b[..5]).name, "primary bitmap");
}

#[test]
fn length_beyond_the_maximum_is_refused() {
    // Field 2 declaring 21 digits (max 19).
    let e = unpack_err(&hex("0200 4000000000000000 21 1234567890123456789012"));
    assert_eq!((e.field, e.offset), (Some(2), 10));
    assert_eq!(e.kind, UnpackErrorKind::LengthOverMax { len: 21, max: 19 });
}

#[test]
fn bad_nibbles_point_at_their_byte() {
    let e = unpack_err(&hex("0200 2000000000000000 00A000"));
    assert_eq!((e.field, e.offset), (Some(3), 11));
    assert_eq!(e.kind, UnpackErrorKind::BadNibble { nibble: 0xA });
    let e = unpack_err(&hex("02A0 0000000000000000"));
    assert_eq!(e.kind, UnpackErrorKind::BadMti);
}

#[test]
fn bitmap_naming_an_undefined_field_is_refused() {
    // Bit 5 (field 5) is not in the UnionPay table.
    let e = unpack_err(&hex("0200 0800000000000000 000000000001"));
    assert_eq!((e.field, e.offset), (Some(5), 10));
    assert_eq!(e.kind, UnpackErrorKind::UndefinedField);
}

#[test]
fn length_prefix_disagreeing_with_the_bytes_is_refused() {
    // Field 63 says 5 characters, 3 follow.
    let e = unpack_err(&hex("0800 0000000000000002 0005 303031"));
    assert_eq!(e.field, Some(63));
    assert_eq!(
        e.kind,
        UnpackErrorKind::Truncated {
            needed: 5,
            available: 3
        }
    );
    let e = unpack_err(&hex("0800 0000000000000002 0A05 303031"));
    assert_eq!(e.kind, UnpackErrorKind::BadLengthPrefix);
}

#[test]
fn trailing_bytes_are_refused() {
    let mut b = hex(SIGN_ON_HEX);
    b.extend([0, 0]);
    let e = unpack_err(&b);
    assert_eq!(e.kind, UnpackErrorKind::TrailingBytes { count: 2 });
    assert_eq!(e.offset, b.len() - 2);
}

/// Regression (found while writing the iso8583_decode round trip, before the fuzzer ran): the unpacker took any ASCII as text, so an `an` field
/// with punctuation or an `ans` field with control characters decoded but could not be packed.
#[test]
fn unpacked_text_is_what_pack_accepts() {
    // 0210 with field 39 (an 2) = "0!" at byte 10.
    let e = unpack_err(&hex("0210 0000000002000000 3021"));
    assert_eq!((e.field, e.offset), (Some(39), 10));
    assert_eq!(e.kind, UnpackErrorKind::BadText);
    // Field 63 (ans LLL) = "A" BEL "B": kept as bytes, and it packs back to the same message.
    let input = hex("0210 0000000000000002 0003 410742");
    let m = CUPS.unpack(&input).unwrap();
    assert_eq!(m.bytes(63), Some(&[0x41, 0x07, 0x42][..]));
    assert_eq!(CUPS.pack(&m).unwrap(), input);
}

#[test]
fn pack_validates_values() {
    let mut m = Message::new("0200");
    m.set_digits(4, "12345");
    let e = CUPS.pack(&m).unwrap_err();
    assert_eq!(
        (e.field, e.kind),
        (
            4,
            PackErrorKind::WrongLength {
                len: 5,
                expected: 12
            }
        )
    );
    let mut m = Message::new("0200");
    m.set_digits(3, "00A000");
    assert!(matches!(
        CUPS.pack(&m).unwrap_err().kind,
        PackErrorKind::BadCharacter {
            index: 2,
            found: 'A'
        }
    ));
    let mut m = Message::new("0200");
    m.set_digits(2, "12345678901234567890");
    assert!(matches!(
        CUPS.pack(&m).unwrap_err().kind,
        PackErrorKind::TooLong { .. }
    ));
    let mut m = Message::new("0200");
    m.set_text(5, "x");
    assert_eq!(CUPS.pack(&m).unwrap_err().kind, PackErrorKind::Undefined);
    assert!(matches!(
        CUPS.pack(&Message::new("20")).unwrap_err().kind,
        PackErrorKind::BadMti(_)
    ));
}

/// A random valid value for a field of the dialect.
fn value_for(spec: &FieldSpec) -> BoxedStrategy<Value> {
    let (min, max) = match spec.length {
        Length::Fixed(n) => (n, n),
        Length::LlVar(m) | Length::LllVar(m) => (0, m),
    };
    match spec.kind {
        Kind::N => proptest::string::string_regex(&format!("[0-9]{{{min},{max}}}"))
            .unwrap()
            .prop_map(Value::Text)
            .boxed(),
        Kind::Z => proptest::string::string_regex(&format!("[0-9D]{{{min},{max}}}"))
            .unwrap()
            .prop_map(Value::Text)
            .boxed(),
        Kind::An => proptest::string::string_regex(&format!("[A-Z0-9 ]{{{min},{max}}}"))
            .unwrap()
            .prop_map(Value::Text)
            .boxed(),
        Kind::Ans => proptest::string::string_regex(&format!("[ -~]{{{min},{max}}}"))
            .unwrap()
            .prop_map(Value::Text)
            .boxed(),
        Kind::B => proptest::collection::vec(any::<u8>(), min..=max)
            .prop_map(Value::Binary)
            .boxed(),
    }
}

pub(super) fn arb_message() -> impl Strategy<Value = Message> {
    let defined: Vec<u8> = (2..=128u8)
        .filter(|&n| CUPS.field(n.into()).is_some())
        .collect();
    let fields: Vec<_> = defined
        .iter()
        .map(|&n| {
            let spec = CUPS.field(n.into()).copied().unwrap();
            proptest::option::of(value_for(&spec)).prop_map(move |v| (n, v))
        })
        .collect();
    (proptest::string::string_regex("[0-9]{4}").unwrap(), fields).prop_map(|(mti, fields)| {
        let mut m = Message::new(&mti);
        for (n, v) in fields {
            if let Some(v) = v {
                m.set(n, v);
            }
        }
        m
    })
}

proptest! {
    #[test]
    fn unpack_reverses_pack(m in arb_message()) {
        let bytes = CUPS.pack(&m).unwrap();
        prop_assert_eq!(CUPS.unpack(&bytes).unwrap(), m);
    }

    #[test]
    fn unpack_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = CUPS.unpack(&bytes);
        let _ = Frame::decode(&bytes);
        let _ = Frame::decode_body(&bytes);
    }

    #[test]
    fn unpack_of_mutated_messages_never_panics(m in arb_message(), at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut bytes = CUPS.pack(&m).unwrap();
        let i = at.index(bytes.len());
        bytes[i] = byte;
        let _ = CUPS.unpack(&bytes);
    }

    /// A frame fed in random pieces reports Partial with the right count until it is whole
    /// (after h2's hpack fuzz test, which splits input at random points).
    #[test]
    fn frame_status_over_random_splits(m in arb_message(), cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6)) {
        let frame = Frame { tpdu: Tpdu::new(1, 0), header: [0x60, 0x22, 0, 0, 0, 0], message: m };
        let wire = frame.encode().unwrap();
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(wire.len())).collect();
        points.sort_unstable();
        for p in points {
            match frame_status(&wire[..p]) {
                FrameStatus::Partial(need) => prop_assert!(need > 0 && p + need <= wire.len() || p < 2),
                FrameStatus::Complete(_) => prop_assert!(false, "complete at {}", p),
            }
        }
        prop_assert_eq!(frame_status(&wire), FrameStatus::Complete(wire.len()));
        prop_assert_eq!(Frame::decode(&wire).unwrap(), frame);
    }
}

#[test]
fn response_mti_adds_ten() {
    assert_eq!(response_mti("0200").as_deref(), Some("0210"));
    assert_eq!(response_mti("0800").as_deref(), Some("0810"));
    assert_eq!(response_mti("0400").as_deref(), Some("0410"));
    assert_eq!(response_mti("02x0"), None);
    assert_eq!(response_mti("200"), None);
}

#[test]
fn a_view_reads_fields_in_place() {
    let packed = CUPS.pack(&sale()).unwrap();
    let view = CUPS.view(&packed).unwrap();
    assert_eq!(view.mti(), "0200");
    assert_eq!(view.text(22).as_deref(), Some("021"));
    assert_eq!(
        view.text(35).as_deref(),
        Some("6222021234567890123D25122010000000000")
    );
    assert!(matches!(
        view.text(41),
        Some(std::borrow::Cow::Borrowed("10000001"))
    ));
    assert_eq!(view.bytes(52), Some(&hex("1122334455667788")[..]));
    assert_eq!(view.raw(22), Some(&[0x02, 0x10][..]));
    assert!(view.text_is(4, "000000012345") && !view.text_is(4, "000000012346"));
    assert!(view.text_is(41, "10000001") && !view.text_is(41, "1000000"));
    assert!(!view.text_is(52, "") && !view.text_is(2, ""));
    assert_eq!((view.text(2), view.bytes(41)), (None, None));
    assert!(view == sale());
    let debug = format!("{view:?}");
    assert!(!debug.contains("62220212345"), "{debug}");
    assert!(debug.contains("[redacted"), "{debug}");
}

/// The view's MAC scope is the received bytes up to field 64 and the tag, found in the same pass
/// that located the fields; none without field 64 or with a secondary bitmap.
#[test]
fn the_view_gives_the_mac_scope_as_received() {
    let packed = CUPS.pack(&sale()).unwrap();
    let (input, tag) = CUPS.view(&packed).unwrap().mac_scope().unwrap();
    assert_eq!(tag, hex("AABBCCDDEEFF0011"));
    assert_eq!(input, &packed[..packed.len() - 8]);
    assert_eq!(input, mac_input(&sale()).unwrap());
    let mut unmaced = sale();
    unmaced.remove(64);
    let packed = CUPS.pack(&unmaced).unwrap();
    assert!(CUPS.view(&packed).unwrap().mac_scope().is_none());
    let mut secondary = sale();
    secondary.set_text(70, "x");
    assert!(CUPS.pack(&secondary).is_err(), "no field 70 in the table");
}

#[test]
fn a_frame_view_reads_what_frame_decodes() {
    let frame = Frame {
        tpdu: Tpdu::new(0x0001, 0x0000),
        header: [0x60, 0x22, 0, 0, 0, 0],
        message: sale(),
    };
    let wire = frame.encode().unwrap();
    let view = FrameView::decode_body(&wire[2..]).unwrap();
    assert_eq!((view.tpdu, view.header), (frame.tpdu, frame.header));
    assert!(view.message == sale());
    let e = FrameView::decode_body(&wire[2..30]).unwrap_err();
    assert_eq!(e, Frame::decode_body(&wire[2..30]).unwrap_err());
    assert_eq!(
        (e.field, e.offset),
        (Some(4), 24),
        "field 4 starts at body byte 24"
    );
    assert_eq!(
        FrameView::decode_body(&wire[2..9]).unwrap_err(),
        Frame::decode_body(&wire[2..9]).unwrap_err()
    );
}

fn assert_view_matches(view: &MessageView<'_>, m: &Message) {
    assert_eq!(view.mti(), m.mti());
    assert!(view.field_numbers().eq(m.field_numbers()));
    for n in 2..=128u8 {
        assert_eq!(view.has(n), m.has(n), "field {n}");
        assert_eq!(view.text(n).as_deref(), m.text(n), "field {n}");
        assert_eq!(view.bytes(n), m.bytes(n), "field {n}");
        if let Some(t) = m.text(n) {
            assert!(view.text_is(n, t), "field {n}");
        }
    }
    assert_eq!(&view.to_message(), m);
}

proptest! {
    /// View ⇔ owned: every accessor of the view answers what the owned message holds.
    #[test]
    fn a_view_of_a_packed_message_reads_what_was_packed(m in arb_message()) {
        let bytes = CUPS.pack(&m).unwrap();
        assert_view_matches(&CUPS.view(&bytes).unwrap(), &m);
    }

    /// On any bytes (mutations of valid messages), the view and the owned unpacker agree: the
    /// same error, or the same message.
    #[test]
    fn view_and_owned_unpack_agree_on_mutated_bytes(m in arb_message(), at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut bytes = CUPS.pack(&m).unwrap();
        let i = at.index(bytes.len());
        bytes[i] = byte;
        match (CUPS.view_at(&bytes, 11), CUPS.unpack_at(&bytes, 11)) {
            (Ok(view), Ok(owned)) => assert_view_matches(&view, &owned),
            (Err(a), Err(b)) => prop_assert_eq!(a, b),
            (a, b) => prop_assert!(false, "view {:?}, owned {:?}", a.err(), b.err()),
        }
    }
}

/// A dialect with fields past 64, which UnionPay POS has none of: the secondary bitmap both ways.
static WIDE: Dialect = Dialect::new(
    "wide",
    Framing::LenTpduHeader,
    &[
        (2, FieldSpec::new("PAN", Kind::N, Length::LlVar(19))),
        (
            65,
            FieldSpec::new("first of the secondary", Kind::B, Length::Fixed(1)),
        ),
        (
            70,
            FieldSpec::new("network code", Kind::N, Length::Fixed(3)),
        ),
        (128, FieldSpec::new("MAC 2", Kind::B, Length::Fixed(8))),
    ],
);

#[test]
fn fields_past_64_go_in_a_secondary_bitmap_and_are_read_back() {
    let mut m = Message::new("0800");
    m.set_digits(2, "6222021234567890123");
    m.set_bytes(65, vec![0xAB]);
    m.set_digits(70, "301");
    m.set_bytes(128, vec![0x11; 8]);
    let packed = WIDE.pack(&m).unwrap();
    let mut checked = Vec::new();
    WIDE.pack_checked(&m, false, &mut checked).unwrap();
    assert_eq!(
        packed, checked,
        "the straight packer and the checked one agree"
    );
    // Primary: field 1 (a secondary follows) and field 2; secondary: 65, 70 and 128.
    assert_eq!(packed[2..10], hex("C000000000000000"));
    assert_eq!(packed[10..18], hex("8400000000000001"));
    let view = WIDE.view(&packed).unwrap();
    assert_eq!(view.field_numbers().collect::<Vec<_>>(), [2, 65, 70, 128]);
    assert_eq!(view.text(70).as_deref(), Some("301"));
    assert_eq!(view.bytes(128), Some(&[0x11; 8][..]));
    assert!(view == m);
    assert!(
        view.mac_scope().is_none(),
        "field 128, not 64, is the MAC here"
    );
}
