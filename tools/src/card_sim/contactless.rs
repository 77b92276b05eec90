//! The cards' contactless side: the PPSE `2PAY.SYS.DDF01` with each application's kernel
//! identifier (EMV Contactless Book B §3.3), and the one-tap GET PROCESSING OPTIONS of the quick
//! kernels (UnionPay qPBOC, JR/T 0025.12; Visa qVSDC, VCPS 2.2): card risk management from the
//! TTQ and the amount in the PDOL data, the cryptogram over the PDOL values, the EC balance
//! debited on an offline approval, and the fDDA signature over 9F37 ‖ 9F02 ‖ 5F2A ‖ 9F69. A
//! phone wallet answers 6986 ("see phone") until its holder has verified on the phone.
//! Mastercard C-2 cards answer GPO and GENERATE AC as their contact M/Chip side does.

use smartpos_core::card::oda::issuer_pki;
use smartpos_core::codec::tlv::{self, Tlv};

use super::apdu::sw;
use super::card::{Answer, Chip, ok};
use super::dol::DolData;
use super::oda::IccKey;
use super::process::amount_from_bcd;

pub const PPSE_NAME: &[u8] = b"2PAY.SYS.DDF01";

/// "See phone" (VCPS 2.2 §5.2: GPO status 6986).
const SEE_PHONE: u16 = 0x6986;

/// How the application answers a tap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CtlsMode {
    /// qPBOC / qVSDC: the cryptogram comes with the GPO answer.
    Quick,
    /// M/Chip (C-2): GPO, records, then GENERATE AC with CDA.
    MChip,
}

/// An application's contactless personalisation and the phone's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contactless {
    /// 9F2A in the PPSE directory entry.
    pub kernel_id: u8,
    pub mode: CtlsMode,
    /// Card transaction qualifiers (9F6C) it returns, if any.
    pub ctq: Option<[u8; 2]>,
    /// A phone wallet: a CVM is done on the phone (CDCVM).
    pub phone: bool,
    /// The holder has verified on the phone since the last "see phone" (kept across taps).
    pub holder_verified: bool,
}

/// SELECT of the PPSE: its FCI with one directory entry per contactless application.
pub(super) fn select_ppse(chip: &mut Chip) -> Answer {
    if !chip.profile.ppse {
        return Err(sw::FILE_NOT_FOUND);
    }
    let entries: Vec<Tlv> = chip
        .profile
        .applications
        .iter()
        .filter_map(|a| {
            let c = a.contactless.as_ref()?;
            Some(Tlv::constructed(
                0x61,
                vec![
                    Tlv::primitive(0x4F, a.aid.clone()),
                    Tlv::primitive(0x50, a.label.as_bytes().to_vec()),
                    Tlv::primitive(0x87, vec![a.priority]),
                    Tlv::primitive(0x9F2A, vec![c.kernel_id]),
                ],
            ))
        })
        .collect();
    let fci = Tlv::constructed(
        0x6F,
        vec![
            Tlv::primitive(0x84, PPSE_NAME.to_vec()),
            Tlv::constructed(0xA5, vec![Tlv::constructed(0xBF0C, entries)]),
        ],
    );
    ok(tlv::encode(&[fci]))
}

/// Whether the selected application answers GPO the quick way.
pub(super) fn is_quick(chip: &Chip) -> bool {
    chip.app()
        .and_then(|a| a.contactless.as_ref())
        .is_some_and(|c| c.mode == CtlsMode::Quick)
}

/// The quick GPO answer, after `process` has checked the command and moved the ATC.
pub(super) fn quick_gpo(chip: &mut Chip) -> Answer {
    let app = chip.app().ok_or(sw::CONDITIONS_NOT_SATISFIED)?;
    let ctls = app
        .contactless
        .clone()
        .ok_or(sw::CONDITIONS_NOT_SATISFIED)?;
    let pdol = DolData::split(&app.pdol, &chip.session.pdol_data).ok_or(sw::WRONG_LENGTH)?;
    let ttq: [u8; 4] = pdol
        .get(0x9F66)
        .and_then(|v| v.try_into().ok())
        .unwrap_or_default();
    let amount = pdol.get(0x9F02).and_then(amount_from_bcd).unwrap_or(0);
    let online_required = ttq[1] & 0x80 != 0;
    let cvm_required = ttq[1] & 0x40 != 0;
    let offline_only = ttq[0] & 0x08 != 0;
    if ctls.phone && cvm_required && !ctls.holder_verified {
        // The holder unlocks the phone and taps again.
        if let Some(c) = chip.app_mut().and_then(|a| a.contactless.as_mut()) {
            c.holder_verified = true;
        }
        return Err(SEE_PHONE);
    }
    let mut ctq = ctls.ctq.unwrap_or_default();
    if ctls.phone && ctls.holder_verified {
        ctq[1] |= 0x80;
    }
    let app = chip.app().ok_or(sw::CONDITIONS_NOT_SATISFIED)?;
    let c = &app.counters;
    let offline_count = c.atc.saturating_sub(c.last_online_atc);
    let cid = if app.behaviour.blocked {
        super::CID_AAC
    } else if !online_required
        && !cvm_required
        && app.behaviour.approve_offline
        && amount <= c.ec_balance_fen
        && offline_count <= u16::from(c.lcol)
    {
        super::CID_TC
    } else if offline_only {
        super::CID_AAC
    } else {
        super::CID_ARQC
    };
    let atc = c.atc;
    // CVR byte 1: second GENERATE AC not requested, first answered TC (0x10) or ARQC (0x20).
    let cvr = [
        0x80 | match cid {
            super::CID_TC => 0x10,
            super::CID_ARQC => 0x20,
            _ => 0,
        },
        0,
        0,
    ];
    let iad = super::cryptogram::iad(app, cvr);
    let ac = super::cryptogram::compute(app, atc, &iad, |t| pdol.get(t))?;
    let unionpay = app.aid.starts_with(&[0xA0, 0x00, 0x00, 0x03, 0x33]);
    let mut objects = vec![
        Tlv::primitive(0x82, app.aip.to_vec()),
        Tlv::primitive(0x94, app.afl()),
        Tlv::primitive(0x9F36, atc.to_be_bytes().to_vec()),
        Tlv::primitive(0x9F26, ac.to_vec()),
        Tlv::primitive(0x9F27, vec![cid]),
        Tlv::primitive(0x9F10, iad),
    ];
    if ctls.ctq.is_some() || ctls.phone {
        objects.push(Tlv::primitive(0x9F6C, ctq.to_vec()));
    }
    if cid == super::CID_TC && app.supports_dda() {
        objects.extend(fdda(app, atc, ctq, &pdol)?);
    }
    let balance_after = if cid == super::CID_TC {
        c.ec_balance_fen.saturating_sub(amount)
    } else {
        c.ec_balance_fen
    };
    // 9F79 (UnionPay EC balance) or 9F5D (Visa available offline spending amount) as the card
    // decided on, before this transaction's debit: the reader checks the amount against it.
    let balance_tag = if unionpay { 0x9F79 } else { 0x9F5D };
    objects.push(Tlv::primitive(
        balance_tag,
        super::bcd_amount(c.ec_balance_fen).to_vec(),
    ));
    if let Some(a) = chip.app_mut() {
        a.counters.ec_balance_fen = balance_after;
    }
    chip.session.first_ac = Some(super::card::FirstAc {
        cid,
        cryptogram: ac,
        atc,
    });
    chip.session.second_ac_done = true;
    ok(tlv::encode(&[Tlv::constructed(0x77, objects)]))
}

/// 9F69 (version 01, the card's unpredictable number, the CTQ) and the fDDA signature 9F4B over
/// 9F37 ‖ 9F02 ‖ 5F2A ‖ 9F69.
fn fdda(
    app: &super::profile::Application,
    atc: u16,
    ctq: [u8; 2],
    pdol: &DolData,
) -> Result<Vec<Tlv>, u16> {
    let Some(IccKey::Rsa(key)) = &app.icc_key else {
        return Ok(Vec::new());
    };
    let number = super::oda::dynamic_number(atc)?;
    let mut auth = vec![0x01];
    auth.extend_from_slice(&number[2..6]);
    auth.extend_from_slice(&ctq);
    let mut terminal = Vec::new();
    for tag in [0x9F37, 0x9F02, 0x5F2A] {
        terminal.extend_from_slice(pdol.get(tag).ok_or(sw::WRONG_DATA)?);
    }
    terminal.extend_from_slice(&auth);
    let sdad =
        issuer_pki::signed_dynamic_data(key, &issuer_pki::dda_dynamic_data(&number), &terminal)
            .map_err(|_| sw::NO_PRECISE_DIAGNOSIS)?;
    Ok(vec![
        Tlv::primitive(0x9F69, auth),
        Tlv::primitive(0x9F4B, sdad),
    ])
}
