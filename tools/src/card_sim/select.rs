//! SELECT and READ RECORD (EMV 4.4 Book 1 §11.3 and §11.2; application selection §12): the
//! payment system environment `1PAY.SYS.DDF01` and its directory, selection of an application
//! by full or partial DF name with first / next occurrence, and the records of the AFL.

use smartpos_core::codec::tlv::{self, Tlv};

use super::apdu::{Command, sw};
use super::card::{Answer, Chip, Session, ok};

pub const PSE_NAME: &[u8] = b"1PAY.SYS.DDF01";
/// SFI of the PSE's directory file (FCI tag 88).
const DIRECTORY_SFI: u8 = 1;

/// SELECT by DF name (P1 = 04). P2 = 00 asks for the first or only occurrence, P2 = 02 for the
/// next one matching the same (partial) name (Book 1 §11.3.2, table 41). A blocked application
/// still answers its FCI, with 6283 (§11.3.4; the terminal then skips it, §12.3.3).
pub(super) fn select(chip: &mut Chip, cmd: &Command<'_>) -> Answer {
    if cmd.p1 != 0x04 || !matches!(cmd.p2, 0x00 | 0x02) {
        return Err(sw::INCORRECT_P1_P2);
    }
    let name = cmd.data;
    if !(1..=16).contains(&name.len()) {
        return Err(sw::WRONG_LENGTH);
    }
    // Any SELECT ends the current application's transaction (Book 1 §11.3.1).
    let last = chip.session.last_select.take();
    chip.session = Session::default();
    if name == super::contactless::PPSE_NAME && cmd.p2 == 0x00 {
        return super::contactless::select_ppse(chip);
    }
    if name == PSE_NAME {
        if !chip.profile.pse || cmd.p2 != 0x00 {
            return Err(sw::FILE_NOT_FOUND);
        }
        chip.session.pse_selected = true;
        let fci = Tlv::constructed(
            0x6F,
            vec![
                Tlv::primitive(0x84, PSE_NAME.to_vec()),
                Tlv::constructed(
                    0xA5,
                    vec![
                        Tlv::primitive(0x88, vec![DIRECTORY_SFI]),
                        Tlv::primitive(0x5F2D, b"zhen".to_vec()),
                    ],
                ),
            ],
        );
        return ok(tlv::encode(&[fci]));
    }
    // "Next occurrence" continues after the application the same name found last time.
    let start = match (cmd.p2, &last) {
        (0x02, Some((prev, index))) if prev.as_slice() == name => index + 1,
        _ => 0,
    };
    let found = chip
        .profile
        .applications
        .iter()
        .enumerate()
        .skip(start)
        .find(|(_, a)| a.aid.starts_with(name))
        .map(|(i, _)| i);
    let Some(index) = found else {
        return Err(sw::FILE_NOT_FOUND);
    };
    chip.session.last_select = Some((name.to_vec(), index));
    let app = &chip.profile.applications[index];
    let mut proprietary = vec![
        Tlv::primitive(0x50, app.label.as_bytes().to_vec()),
        Tlv::primitive(0x87, vec![app.priority]),
    ];
    if !app.pdol.is_empty() {
        proprietary.push(Tlv::primitive(0x9F38, app.pdol.clone()));
    }
    proprietary.push(Tlv::primitive(0x5F2D, b"zhen".to_vec()));
    let fci = tlv::encode(&[Tlv::constructed(
        0x6F,
        vec![
            Tlv::primitive(0x84, app.aid.clone()),
            Tlv::constructed(0xA5, proprietary),
        ],
    )]);
    if app.behaviour.blocked {
        return Ok((fci, sw::SELECTED_FILE_INVALIDATED));
    }
    chip.session.selected = Some(index);
    ok(fci)
}

/// READ RECORD (Book 3 §6.5.11): P1 the record number, P2 = SFI << 3 | 100b.
pub(super) fn read_record(chip: &mut Chip, cmd: &Command<'_>) -> Answer {
    if cmd.p2 & 0x07 != 0x04 || cmd.p1 == 0 {
        return Err(sw::INCORRECT_P1_P2);
    }
    if !cmd.data.is_empty() {
        return Err(sw::WRONG_LENGTH);
    }
    let sfi = cmd.p2 >> 3;
    if chip.session.pse_selected {
        if sfi != DIRECTORY_SFI {
            return Err(sw::FILE_NOT_FOUND);
        }
        if cmd.p1 != 1 {
            return Err(sw::RECORD_NOT_FOUND);
        }
        // One directory record: an application template 61 per application (§12.2.3).
        let entries = chip
            .profile
            .applications
            .iter()
            .map(|a| {
                Tlv::constructed(
                    0x61,
                    vec![
                        Tlv::primitive(0x4F, a.aid.clone()),
                        Tlv::primitive(0x50, a.label.as_bytes().to_vec()),
                        Tlv::primitive(0x87, vec![a.priority]),
                    ],
                )
            })
            .collect();
        return ok(tlv::encode(&[Tlv::constructed(0x70, entries)]));
    }
    let app = chip.usable_app()?;
    if !app.files.iter().any(|f| f.sfi == sfi) {
        return Err(sw::FILE_NOT_FOUND);
    }
    app.record(sfi, cmd.p1)
        .map(|r| (r, sw::OK))
        .ok_or(sw::RECORD_NOT_FOUND)
}
