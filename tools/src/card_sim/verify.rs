//! GET CHALLENGE and VERIFY (EMV 4.4 Book 3 §6.5.6 and §6.5.12): offline PIN against the
//! card's reference PIN with its try counter.

use smartpos_core::crypto::RandomSource;
use smartpos_core::crypto::SystemRandomSource;
use smartpos_core::crypto::mac::constant_time_eq;
use zeroize::Zeroizing;

use super::apdu::{Command, sw};
use super::card::{Answer, Chip, ok};

/// CVR byte 1: offline PIN verification performed / failed (PBOC 3.0 and VIS 1.5 CVR).
pub(super) const CVR1_OFFLINE_PIN_PERFORMED: u8 = 0x04;
pub(super) const CVR1_OFFLINE_PIN_FAILED: u8 = 0x02;
/// CVR byte 2: PIN try limit exceeded.
pub(super) const CVR2_PIN_TRY_LIMIT_EXCEEDED: u8 = 0x40;

/// GET CHALLENGE (§6.5.6): an 8-byte unpredictable number, kept for an enciphered VERIFY.
pub(super) fn get_challenge(chip: &mut Chip, cmd: &Command<'_>) -> Answer {
    if cmd.p1 != 0 || cmd.p2 != 0 {
        return Err(sw::INCORRECT_P1_P2);
    }
    if !cmd.data.is_empty() {
        return Err(sw::WRONG_LENGTH);
    }
    let mut challenge = [0u8; 8];
    SystemRandomSource::new()
        .fill(&mut challenge)
        .map_err(|_| sw::NO_PRECISE_DIAGNOSIS)?;
    chip.session.challenge = Some(challenge);
    ok(challenge.to_vec())
}

/// VERIFY (§6.5.12). P2 = 80: the plaintext PIN block (ISO 9564 format 2: control 2, length
/// nibble, PIN digits, F filler). A wrong PIN decrements the try counter and answers 63Cx with
/// the tries left; a counter at zero answers 6983 without comparing (§6.5.12.4). P2 = 88
/// (enciphered PIN) needs the ICC PIN key, which these cards do not hold: 6A86.
pub(super) fn verify(chip: &mut Chip, cmd: &Command<'_>) -> Answer {
    if cmd.p1 != 0 {
        return Err(sw::INCORRECT_P1_P2);
    }
    if cmd.p2 != 0x80 {
        return Err(sw::INCORRECT_P1_P2);
    }
    if cmd.data.len() != 8 {
        return Err(sw::WRONG_LENGTH);
    }
    chip.usable_app()?;
    let index = chip.session.selected.ok_or(sw::CONDITIONS_NOT_SATISFIED)?;
    let session = &mut chip.session;
    let app = chip
        .profile
        .applications
        .get_mut(index)
        .ok_or(sw::CONDITIONS_NOT_SATISFIED)?;
    let Some(pin) = app.pin.as_ref() else {
        return Err(sw::FUNCTION_NOT_SUPPORTED);
    };
    if app.counters.pin_tries == 0 {
        session.cvr[1] |= CVR2_PIN_TRY_LIMIT_EXCEEDED;
        return Err(sw::AUTH_METHOD_BLOCKED);
    }
    let reference = format2_block(pin);
    let matches = reference
        .as_ref()
        .is_some_and(|r| constant_time_eq(r.as_slice(), cmd.data));
    session.cvr[0] |= CVR1_OFFLINE_PIN_PERFORMED;
    if matches {
        app.counters.pin_tries = app.counters.pin_try_limit;
        session.cvr[0] &= !CVR1_OFFLINE_PIN_FAILED;
        return ok(Vec::new());
    }
    app.counters.pin_tries -= 1;
    session.cvr[0] |= CVR1_OFFLINE_PIN_FAILED;
    if app.counters.pin_tries == 0 {
        session.cvr[1] |= CVR2_PIN_TRY_LIMIT_EXCEEDED;
    }
    Err(sw::verify_failed(app.counters.pin_tries))
}

/// The format-2 plaintext PIN block of `pin` (EMV Book 3 §6.5.12.2); `None` for a PIN that is
/// not 4 to 12 digits.
pub fn format2_block(pin: &str) -> Option<Zeroizing<[u8; 8]>> {
    let digits = pin.as_bytes();
    if !(4..=12).contains(&digits.len()) || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut nibbles = Zeroizing::new([0x0Fu8; 16]);
    nibbles[0] = 0x2;
    nibbles[1] = u8::try_from(digits.len()).ok()?;
    for (slot, d) in nibbles[2..].iter_mut().zip(digits) {
        *slot = d - b'0';
    }
    let mut block = Zeroizing::new([0u8; 8]);
    for (out, pair) in block.iter_mut().zip(nibbles.chunks(2)) {
        *out = (pair[0] << 4) | pair[1];
    }
    Some(block)
}
