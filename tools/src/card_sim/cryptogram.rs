//! GENERATE AC (EMV 4.4 Book 3 §6.5.5, card action analysis §9.3 and Book 2 §8.1): the first
//! with the CDOL1 data, the second with the CDOL2 data, each answering a cryptogram under the
//! card's AC session key, never a stronger one than the terminal asked for.

use smartpos_core::crypto::application_cryptogram;

use super::apdu::{Command, sw};
use super::card::{Answer, Chip, FirstAc, IssuerAuth, ok};
use super::dol::DolData;
use super::keys;
use super::profile::{Application, IadFormat};

/// Cryptogram information data (9F27) bits 8-7 (Book 3 §6.5.5.4, table 15).
pub const CID_AAC: u8 = 0x00;
pub const CID_TC: u8 = 0x40;
pub const CID_ARQC: u8 = 0x80;

/// GENERATE AC P1 bit 5: a CDA signature is requested.
const P1_CDA: u8 = 0x10;

/// CVR byte 1 bits 8-7 (second GENERATE AC) and 6-5 (first), PBOC 3.0 / VIS 1.5 layout.
const CVR1_SECOND_NOT_REQUESTED: u8 = 0x80;
const CVR1_SECOND_TC: u8 = 0x40;
const CVR1_FIRST_TC: u8 = 0x10;
const CVR1_FIRST_ARQC: u8 = 0x20;
/// CVR byte 1 bit 4: issuer authentication performed and failed.
pub(super) const CVR1_ISSUER_AUTH_FAILED: u8 = 0x08;
/// CVR byte 2: exceeded velocity checking counters; issuer authentication failed on the last
/// online transaction.
const CVR2_VELOCITY_EXCEEDED: u8 = 0x20;
const CVR2_LAST_ISSUER_AUTH_FAILED: u8 = 0x08;
/// CVR byte 3 bit 4: issuer script processing failed (last online transaction).
const CVR3_SCRIPT_FAILED: u8 = 0x08;

pub(super) fn generate_ac(chip: &mut Chip, cmd: &Command<'_>) -> Answer {
    if cmd.p2 != 0 || cmd.p1 & !(0xC0 | P1_CDA) != 0 || cmd.p1 & 0xC0 == 0xC0 {
        return Err(sw::INCORRECT_P1_P2);
    }
    if chip.app().is_none() || !chip.session.gpo_done || chip.session.second_ac_done {
        return Err(sw::CONDITIONS_NOT_SATISFIED);
    }
    let requested = cmd.p1 & 0xC0;
    let cda = cmd.p1 & P1_CDA != 0;
    match chip.session.first_ac {
        None => first(chip, cmd.data, requested, cda),
        Some(first) if first.cid == CID_ARQC => second(chip, cmd.data, requested, first, cda),
        Some(_) => Err(sw::CONDITIONS_NOT_SATISFIED),
    }
}

fn first(chip: &mut Chip, data: &[u8], requested: u8, cda: bool) -> Answer {
    let app = chip.app().ok_or(sw::CONDITIONS_NOT_SATISFIED)?;
    let cdol1 = DolData::split(&app.cdol1, data).ok_or(sw::WRONG_LENGTH)?;
    let c = &app.counters;
    let offline_count = c.atc.saturating_sub(c.last_online_atc);
    let cid = if app.behaviour.blocked {
        CID_AAC
    } else {
        match requested {
            CID_AAC => CID_AAC,
            CID_TC if app.behaviour.approve_offline && offline_count <= u16::from(c.lcol) => CID_TC,
            _ => CID_ARQC,
        }
    };
    let mut cvr = chip.session.cvr;
    cvr[0] |= CVR1_SECOND_NOT_REQUESTED
        | match cid {
            CID_TC => CVR1_FIRST_TC,
            CID_ARQC => CVR1_FIRST_ARQC,
            _ => 0,
        };
    if offline_count > u16::from(c.lcol) {
        cvr[1] |= CVR2_VELOCITY_EXCEEDED;
    }
    if c.last_issuer_auth_failed {
        cvr[1] |= CVR2_LAST_ISSUER_AUTH_FAILED;
    }
    cvr[2] = (c.scripts_processed & 0x0F) << 4;
    if c.last_script_failed {
        cvr[2] |= CVR3_SCRIPT_FAILED;
    }
    let atc = c.atc;
    let iad = iad(app, cvr);
    let cryptogram = compute(app, atc, &iad, |tag| cdol1.get(tag))?;
    chip.session.cvr = cvr;
    chip.session.cdol1 = Some(cdol1);
    chip.session.cdol1_raw = data.to_vec();
    chip.session.first_ac = Some(FirstAc {
        cid,
        cryptogram,
        atc,
    });
    let cdol1_raw = chip.session.cdol1_raw.clone();
    let un = chip
        .session
        .cdol1
        .as_ref()
        .and_then(|d| d.get(0x9F37))
        .unwrap_or_default()
        .to_vec();
    respond(chip, (cid, atc, cryptogram), iad, cda, &[&cdol1_raw], &un)
}

fn second(chip: &mut Chip, data: &[u8], requested: u8, first: FirstAc, cda: bool) -> Answer {
    if requested == CID_ARQC {
        return Err(sw::INCORRECT_P1_P2);
    }
    let app = chip.app().ok_or(sw::CONDITIONS_NOT_SATISFIED)?;
    let cdol2 = DolData::split(&app.cdol2, data).ok_or(sw::WRONG_LENGTH)?;
    // Issuer authentication data may come in CDOL2 instead of EXTERNAL AUTHENTICATE.
    if let Some(iad91) = cdol2.get(0x91).filter(|v| v.iter().any(|&b| b != 0))
        && chip.session.issuer_auth == IssuerAuth::NotPerformed
    {
        let passed = super::issuer_cmds::arpc_matches(app, &first, iad91);
        chip.session.issuer_auth = if passed {
            IssuerAuth::Passed
        } else {
            IssuerAuth::Failed
        };
        if !passed {
            chip.session.cvr[0] |= CVR1_ISSUER_AUTH_FAILED;
        }
    }
    let app = chip.app().ok_or(sw::CONDITIONS_NOT_SATISFIED)?;
    let auth = chip.session.issuer_auth;
    let approve = requested == CID_TC
        && !app.behaviour.decline_second_ac
        && !app.behaviour.blocked
        && auth != IssuerAuth::Failed;
    let cid = if approve { CID_TC } else { CID_AAC };
    let mut cvr = chip.session.cvr;
    cvr[0] &= !(CVR1_SECOND_NOT_REQUESTED | CVR1_SECOND_TC);
    if approve {
        cvr[0] |= CVR1_SECOND_TC;
    }
    let iad = iad(app, cvr);
    let cdol1 = chip.session.cdol1.clone().unwrap_or_default();
    let cryptogram = compute(app, first.atc, &iad, |tag| {
        cdol2.get(tag).or_else(|| cdol1.get(tag))
    })?;
    chip.session.cvr = cvr;
    chip.session.second_ac_done = true;
    let app = chip.app_mut().ok_or(sw::CONDITIONS_NOT_SATISFIED)?;
    app.counters.last_issuer_auth_failed = auth == IssuerAuth::Failed;
    if auth == IssuerAuth::Passed {
        app.counters.last_online_atc = first.atc;
    }
    let un = cdol2
        .get(0x9F37)
        .or_else(|| cdol1.get(0x9F37))
        .unwrap_or_default()
        .to_vec();
    let cdol1_raw = chip.session.cdol1_raw.clone();
    respond(
        chip,
        (cid, first.atc, cryptogram),
        iad,
        cda,
        &[&cdol1_raw, data],
        &un,
    )
}

pub(super) fn compute<'a>(
    app: &Application,
    atc: u16,
    iad: &[u8],
    terminal: impl Fn(u32) -> Option<&'a [u8]>,
) -> Result<[u8; 8], u16> {
    let input = keys::ac_input(terminal, app.aip, atc, iad).ok_or(sw::NO_PRECISE_DIAGNOSIS)?;
    let sk = app
        .keys
        .ac_session(atc)
        .map_err(|_| sw::NO_PRECISE_DIAGNOSIS)?;
    application_cryptogram(&sk, &input).map_err(|_| sw::NO_PRECISE_DIAGNOSIS)
}

/// The issuer application data (9F10) in the application's format with this CVR.
pub(super) fn iad(app: &Application, cvr: [u8; 3]) -> Vec<u8> {
    match app.iad {
        IadFormat::Pboc { cvn, algorithm } => {
            let mut v = vec![0x07, app.dki, cvn, 0x03, cvr[0], cvr[1], cvr[2], algorithm];
            // Issuer discretionary data: length 0A, identifier 01, nine bytes the issuer fills.
            v.extend_from_slice(&[0x0A, 0x01]);
            v.extend_from_slice(&[0; 9]);
            v
        }
        IadFormat::Visa { cvn } => vec![0x06, app.dki, cvn, 0x03, cvr[0], cvr[1], cvr[2]],
    }
}

/// Format 1 (template 80: CID, ATC, AC, IAD), or format 2 with the CDA signature when the
/// terminal asked for one, the card does CDA and the cryptogram is not an AAC (§6.6.1).
fn respond(
    chip: &Chip,
    (cid, atc, ac): (u8, u16, [u8; 8]),
    iad: Vec<u8>,
    cda: bool,
    cdol_values: &[&[u8]],
    unpredictable_number: &[u8],
) -> Answer {
    let can_sign = chip.app().is_some_and(Application::supports_cda);
    if cda
        && cid != CID_AAC
        && can_sign
        && let Some(answer) =
            super::oda::cda_response(chip, cid, atc, ac, &iad, cdol_values, unpredictable_number)
    {
        return answer;
    }
    let mut body = vec![cid];
    body.extend_from_slice(&atc.to_be_bytes());
    body.extend_from_slice(&ac);
    body.extend_from_slice(&iad);
    let mut out = vec![0x80];
    out.push(u8::try_from(body.len()).map_err(|_| sw::NO_PRECISE_DIAGNOSIS)?);
    out.extend_from_slice(&body);
    ok(out)
}
