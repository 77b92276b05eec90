//! What the issuer sends the card through the terminal: EXTERNAL AUTHENTICATE with the ARPC
//! (EMV 4.4 Book 3 §6.5.4, Book 2 §8.2 method 1) and issuer script commands under secure
//! messaging (Book 3 §6.5.1 APPLICATION BLOCK, §6.5.2 APPLICATION UNBLOCK, PUT DATA as PBOC
//! 3.0 part 5 uses it for 9F79 and the offline limits; MAC per Book 2 §9.2, see
//! [`keys::script_mac`]).

use smartpos_core::crypto::arpc_method1;
use smartpos_core::crypto::mac::constant_time_eq;

use super::apdu::{Command, sw};
use super::card::{Answer, Chip, FirstAc, IssuerAuth, ok};
use super::cryptogram::{CID_ARQC, CVR1_ISSUER_AUTH_FAILED};
use super::keys;
use super::process::amount_from_bcd;
use super::profile::Application;

/// Length of the MAC a script command carries at the end of its data.
pub const SCRIPT_MAC_LEN: usize = 4;

/// EXTERNAL AUTHENTICATE: the data is the issuer authentication data (91), ARPC || ARC for
/// method 1. Allowed once, after an ARQC and before the second GENERATE AC; a wrong ARPC
/// answers 6300 and the card remembers the failure in its CVR.
pub(super) fn external_authenticate(chip: &mut Chip, cmd: &Command<'_>) -> Answer {
    if cmd.p1 != 0 || cmd.p2 != 0 {
        return Err(sw::INCORRECT_P1_P2);
    }
    let app = chip.usable_app()?;
    let first = match chip.session.first_ac {
        Some(f) if f.cid == CID_ARQC && !chip.session.second_ac_done => f,
        _ => return Err(sw::CONDITIONS_NOT_SATISFIED),
    };
    if chip.session.external_auth_tried {
        return Err(sw::CONDITIONS_NOT_SATISFIED);
    }
    if !(8..=16).contains(&cmd.data.len()) {
        return Err(sw::WRONG_LENGTH);
    }
    let passed = arpc_matches(app, &first, cmd.data);
    chip.session.external_auth_tried = true;
    if passed {
        chip.session.issuer_auth = IssuerAuth::Passed;
        ok(Vec::new())
    } else {
        chip.session.issuer_auth = IssuerAuth::Failed;
        chip.session.cvr[0] |= CVR1_ISSUER_AUTH_FAILED;
        Err(sw::AUTHENTICATION_FAILED)
    }
}

/// Whether `issuer_data` (ARPC || ARC) is the ARPC of this transaction's ARQC, method 1.
pub(super) fn arpc_matches(app: &Application, first: &FirstAc, issuer_data: &[u8]) -> bool {
    let (Some(arpc), Some(arc)) = (issuer_data.get(..8), issuer_data.get(8..10)) else {
        return false;
    };
    let Ok(sk) = app.keys.ac_session(first.atc) else {
        return false;
    };
    let arc = [arc[0], arc[1]];
    arpc_method1(&sk, &first.cryptogram, &arc)
        .is_ok_and(|expected| constant_time_eq(&expected, arpc))
}

/// Checks the secure-messaging MAC of a script command and returns its plain data.
fn unwrap_script<'c>(chip: &mut Chip, cmd: &Command<'c>) -> Result<&'c [u8], u16> {
    if !cmd.secure_messaging() {
        return Err(sw::SECURITY_STATUS_NOT_SATISFIED);
    }
    let app = chip.app().ok_or(sw::CONDITIONS_NOT_SATISFIED)?;
    if !app.behaviour.accepts_scripts {
        return Err(sw::CONDITIONS_NOT_SATISFIED);
    }
    let first = chip.session.first_ac.ok_or(sw::CONDITIONS_NOT_SATISFIED)?;
    let split = cmd
        .data
        .len()
        .checked_sub(SCRIPT_MAC_LEN)
        .ok_or(sw::WRONG_LENGTH)?;
    let (plain, mac) = cmd.data.split_at(split);
    let lc = u8::try_from(cmd.data.len()).map_err(|_| sw::WRONG_LENGTH)?;
    let expected = app
        .keys
        .smi_session(first.atc, &first.cryptogram)
        .and_then(|sk| {
            keys::script_mac(
                &sk,
                [cmd.cla, cmd.ins, cmd.p1, cmd.p2],
                lc,
                first.atc,
                &first.cryptogram,
                plain,
            )
        })
        .map_err(|_| sw::NO_PRECISE_DIAGNOSIS)?;
    if !constant_time_eq(&expected, mac) {
        if let Some(app) = chip.app_mut() {
            app.counters.last_script_failed = true;
        }
        return Err(sw::SM_DATA_INCORRECT);
    }
    Ok(plain)
}

fn script_done(chip: &mut Chip) -> Answer {
    if let Some(app) = chip.app_mut() {
        app.counters.scripts_processed = (app.counters.scripts_processed + 1) & 0x0F;
    }
    ok(Vec::new())
}

/// APPLICATION BLOCK: the application answers 6283 to SELECT from now on, and AAC to a
/// GENERATE AC still to come in this transaction.
pub(super) fn application_block(chip: &mut Chip, cmd: &Command<'_>) -> Answer {
    if cmd.p1 != 0 || cmd.p2 != 0 {
        return Err(sw::INCORRECT_P1_P2);
    }
    let plain = unwrap_script(chip, cmd)?;
    if !plain.is_empty() {
        return Err(sw::WRONG_LENGTH);
    }
    if let Some(app) = chip.app_mut() {
        app.behaviour.blocked = true;
    }
    script_done(chip)
}

/// APPLICATION UNBLOCK.
pub(super) fn application_unblock(chip: &mut Chip, cmd: &Command<'_>) -> Answer {
    if cmd.p1 != 0 || cmd.p2 != 0 {
        return Err(sw::INCORRECT_P1_P2);
    }
    let plain = unwrap_script(chip, cmd)?;
    if !plain.is_empty() {
        return Err(sw::WRONG_LENGTH);
    }
    if let Some(app) = chip.app_mut() {
        app.behaviour.blocked = false;
    }
    script_done(chip)
}

/// PUT DATA of one updatable object: P1 P2 the tag, the data its new value. The card takes the
/// EC balance 9F79 and the EC balance limit 9F77 (n12), and LCOL 9F14 / UCOL 9F23 (b1).
pub(super) fn put_data(chip: &mut Chip, cmd: &Command<'_>) -> Answer {
    let tag = u32::from(u16::from_be_bytes([cmd.p1, cmd.p2]));
    if !matches!(tag, 0x9F79 | 0x9F77 | 0x9F14 | 0x9F23) {
        return Err(sw::REFERENCED_DATA_NOT_FOUND);
    }
    let plain = unwrap_script(chip, cmd)?.to_vec();
    let app = chip.app_mut().ok_or(sw::CONDITIONS_NOT_SATISFIED)?;
    match (tag, plain.as_slice()) {
        (0x9F79, v) if v.len() == 6 => {
            app.counters.ec_balance_fen = amount_from_bcd(v).ok_or(sw::WRONG_DATA)?;
        }
        (0x9F77, v) if v.len() == 6 => {
            amount_from_bcd(v).ok_or(sw::WRONG_DATA)?;
            app.get_data.retain(|t| t.tag != 0x9F77);
            app.get_data.push(smartpos_core::codec::tlv::Tlv::primitive(
                0x9F77,
                v.to_vec(),
            ));
        }
        (0x9F14, [v]) => app.counters.lcol = *v,
        (0x9F23, [v]) => app.counters.ucol = *v,
        _ => return Err(sw::WRONG_LENGTH),
    }
    script_done(chip)
}
