//! GET PROCESSING OPTIONS, GET DATA and INTERNAL AUTHENTICATE (EMV 4.4 Book 3 §6.5.8, §6.5.7,
//! §6.5.9).

use smartpos_core::codec::tlv::{self, Tlv};

use super::apdu::{Command, sw};
use super::card::{Answer, Chip, ok};
use super::dol;

/// GET PROCESSING OPTIONS (§6.5.8): the data field is the command template 83 holding the
/// PDOL-related data (empty without a PDOL). The card starts the transaction: the ATC moves
/// here, as VIS and PBOC cards do (Book 3 leaves the moment to the card, as long as each
/// cryptogram carries a fresh ATC), and answers in format 2: template 77 with AIP and AFL.
pub(super) fn get_processing_options(chip: &mut Chip, cmd: &Command<'_>) -> Answer {
    if cmd.p1 != 0 || cmd.p2 != 0 {
        return Err(sw::INCORRECT_P1_P2);
    }
    let app = chip.usable_app()?;
    if chip.session.gpo_done {
        return Err(sw::CONDITIONS_NOT_SATISFIED);
    }
    let expected = dol::data_len(&app.pdol).ok_or(sw::NO_PRECISE_DIAGNOSIS)?;
    let pdol_data = match cmd.data {
        [0x83, len, rest @ ..] if usize::from(*len) == rest.len() && rest.len() == expected => {
            rest.to_vec()
        }
        [0x83, ..] => return Err(sw::WRONG_LENGTH),
        _ => return Err(sw::WRONG_DATA),
    };
    if app.behaviour.refuse_gpo {
        return Err(sw::CONDITIONS_NOT_SATISFIED);
    }
    let answer = tlv::encode(&[Tlv::constructed(
        0x77,
        vec![
            Tlv::primitive(0x82, app.aip.to_vec()),
            Tlv::primitive(0x94, app.afl()),
        ],
    )]);
    let app = chip.app_mut().ok_or(sw::CONDITIONS_NOT_SATISFIED)?;
    // An exhausted ATC blocks the application for good (Book 3 §7.5: the ATC never wraps).
    let Some(next) = app.counters.atc.checked_add(1) else {
        app.behaviour.blocked = true;
        return Err(sw::CONDITIONS_NOT_SATISFIED);
    };
    app.counters.atc = next;
    chip.session.gpo_done = true;
    chip.session.pdol_data = pdol_data;
    if super::contactless::is_quick(chip) {
        return super::contactless::quick_gpo(chip);
    }
    ok(answer)
}

/// GET DATA (§6.5.7): P1 P2 is the tag. The counters come from the card's state; other tags
/// from the application's GET DATA objects.
pub(super) fn get_data(chip: &mut Chip, cmd: &Command<'_>) -> Answer {
    if !cmd.data.is_empty() {
        return Err(sw::WRONG_LENGTH);
    }
    let app = chip.usable_app()?;
    let tag = u32::from(u16::from_be_bytes([cmd.p1, cmd.p2]));
    let c = &app.counters;
    let value = match tag {
        0x9F36 => c.atc.to_be_bytes().to_vec(),
        0x9F13 => c.last_online_atc.to_be_bytes().to_vec(),
        0x9F17 if app.pin.is_some() => vec![c.pin_tries],
        0x9F79 => bcd_amount(c.ec_balance_fen).to_vec(),
        0x9F14 => vec![c.lcol],
        0x9F23 => vec![c.ucol],
        _ => tlv::find(&app.get_data, tag)
            .and_then(Tlv::bytes)
            .ok_or(sw::REFERENCED_DATA_NOT_FOUND)?
            .to_vec(),
    };
    ok(tlv::encode(&[Tlv::primitive(tag, value)]))
}

/// INTERNAL AUTHENTICATE (§6.5.9): dynamic data authentication, for cards with an ICC key.
pub(super) fn internal_authenticate(chip: &mut Chip, cmd: &Command<'_>) -> Answer {
    if cmd.p1 != 0 || cmd.p2 != 0 {
        return Err(sw::INCORRECT_P1_P2);
    }
    let app = chip.usable_app()?;
    if !app.supports_dda() {
        return Err(sw::INS_NOT_SUPPORTED);
    }
    super::oda::sign_dynamic_data(chip, cmd.data)
}

/// An amount in fen as n12 (6 BCD bytes), as 9F02 and 9F79 carry it. Amounts over 12 digits
/// are capped: no card balance comes near.
pub fn bcd_amount(fen: u64) -> [u8; 6] {
    let digits = format!("{:012}", fen.min(999_999_999_999));
    let mut out = [0u8; 6];
    for (i, pair) in digits.as_bytes().chunks(2).enumerate() {
        out[i] = ((pair[0] - b'0') << 4) | (pair[1] - b'0');
    }
    out
}

/// The value of an n12 amount, or `None` if a nibble is not a decimal digit.
pub fn amount_from_bcd(bytes: &[u8]) -> Option<u64> {
    let mut v: u64 = 0;
    for b in bytes {
        for nibble in [b >> 4, b & 0x0F] {
            if nibble > 9 {
                return None;
            }
            v = v.checked_mul(10)?.checked_add(u64::from(nibble))?;
        }
    }
    Some(v)
}
