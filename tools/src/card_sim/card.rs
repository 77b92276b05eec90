//! The virtual card as a [`CardReader`]: a reader slot holding one personalised card. Each
//! C-APDU goes to the card's command handlers; the card never panics and answers anything it
//! does not know as a real card would (6D00, 6E00, 6A86, 6700).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use smartpos_core::ports::{CardPresentation, CardReader, DeviceFault};
use zeroize::Zeroizing;

use super::apdu::{self, Command, sw};
use super::dol::DolData;
use super::profile::{Application, CardProfile, Counters};
use super::{cryptogram, issuer_cmds, process, select, verify};

/// What the first GENERATE AC produced, which later commands of the transaction refer to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FirstAc {
    pub cid: u8,
    pub cryptogram: [u8; 8],
    pub atc: u16,
}

/// Issuer authentication in this transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum IssuerAuth {
    #[default]
    NotPerformed,
    Passed,
    Failed,
}

/// Volatile state: lost at power-off (reset, removal), as a card's RAM is.
#[derive(Debug, Default)]
pub(super) struct Session {
    pub pse_selected: bool,
    pub selected: Option<usize>,
    /// The DF name of the last SELECT and the application it found, for "next occurrence".
    pub last_select: Option<(Vec<u8>, usize)>,
    pub gpo_done: bool,
    pub pdol_data: Vec<u8>,
    pub cdol1: Option<DolData>,
    pub cdol1_raw: Vec<u8>,
    pub challenge: Option<[u8; 8]>,
    pub first_ac: Option<FirstAc>,
    pub second_ac_done: bool,
    pub external_auth_tried: bool,
    pub issuer_auth: IssuerAuth,
    /// The three CVR bytes being built (PBOC 3.0 / VIS 1.5 layout).
    pub cvr: [u8; 3],
}

/// The card's whole state: personalisation (with counters that persist, as EEPROM does) and
/// the session.
#[derive(Debug)]
pub(super) struct Chip {
    pub profile: CardProfile,
    pub session: Session,
}

impl Chip {
    pub fn app(&self) -> Option<&Application> {
        self.profile.applications.get(self.session.selected?)
    }

    pub fn app_mut(&mut self) -> Option<&mut Application> {
        let i = self.session.selected?;
        self.profile.applications.get_mut(i)
    }

    /// The selected application, if it may process commands now (selected and not blocked).
    pub fn usable_app(&self) -> Result<&Application, u16> {
        match self.app() {
            Some(a) if !a.behaviour.blocked => Ok(a),
            _ => Err(sw::CONDITIONS_NOT_SATISFIED),
        }
    }

    fn answer(&mut self, raw: &[u8]) -> Vec<u8> {
        let Ok(cmd) = Command::parse(raw) else {
            return apdu::status(sw::WRONG_LENGTH);
        };
        let outcome = match (cmd.cla & 0xF0, cmd.ins) {
            (0x00, 0xA4) => select::select(self, &cmd),
            (0x00, 0xB2) => select::read_record(self, &cmd),
            (0x80, 0xA8) => process::get_processing_options(self, &cmd),
            (0x80, 0xCA) => process::get_data(self, &cmd),
            (0x00, 0x84) => verify::get_challenge(self, &cmd),
            (0x00, 0x20) => verify::verify(self, &cmd),
            (0x00, 0x88) => process::internal_authenticate(self, &cmd),
            (0x80, 0xAE) => cryptogram::generate_ac(self, &cmd),
            (0x00, 0x82) => issuer_cmds::external_authenticate(self, &cmd),
            (0x80, 0x1E) => issuer_cmds::application_block(self, &cmd),
            (0x80, 0x18) => issuer_cmds::application_unblock(self, &cmd),
            (0x00, 0xDA) | (0x80, 0xDA) => issuer_cmds::put_data(self, &cmd),
            (_, 0xA4 | 0xB2 | 0xA8 | 0xCA | 0x84 | 0x20 | 0x88 | 0xAE | 0x82 | 0x1E | 0x18) => {
                Err(sw::CLA_NOT_SUPPORTED)
            }
            _ => Err(sw::INS_NOT_SUPPORTED),
        };
        match outcome {
            Ok((data, status)) => apdu::respond(&data, status),
            Err(status) => apdu::status(status),
        }
    }
}

/// What a command handler returns: data and status word, or a bare status word.
pub(super) type Answer = Result<(Vec<u8>, u16), u16>;

pub(super) fn ok(data: Vec<u8>) -> Answer {
    Ok((data, sw::OK))
}

struct Slot {
    chip: Chip,
    present: bool,
    /// The card has been reset (answer to reset) since it was inserted.
    powered: bool,
    torn: bool,
    seen: HashMap<u8, u32>,
    instructions: Vec<u8>,
}

/// A reader slot with a virtual contact card in it. Starts inserted.
#[derive(Debug)]
pub struct VirtualCard {
    slot: Mutex<Slot>,
}

impl std::fmt::Debug for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slot")
            .field("card", &self.chip.profile.name)
            .field("present", &self.present)
            .field("torn", &self.torn)
            .finish_non_exhaustive()
    }
}

impl VirtualCard {
    pub fn new(profile: CardProfile) -> VirtualCard {
        VirtualCard {
            slot: Mutex::new(Slot {
                chip: Chip {
                    profile,
                    session: Session::default(),
                },
                present: true,
                powered: false,
                torn: false,
                seen: HashMap::new(),
                instructions: Vec::new(),
            }),
        }
    }

    /// A fresh card personalised as the catalogue's `name`, inserted.
    pub fn named(name: &str) -> Result<VirtualCard, super::CatalogueError> {
        Ok(VirtualCard::new(super::catalogue::card(name)?))
    }

    fn slot(&self) -> MutexGuard<'_, Slot> {
        self.slot.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Puts the card (back) in the slot: powered anew, session state cleared. A card that was
    /// torn out comes back with whatever its counters reached; the tear does not repeat.
    pub fn insert(&self) {
        let mut slot = self.slot();
        slot.present = true;
        slot.powered = false;
        slot.torn = false;
        slot.chip.profile.tear = None;
        slot.chip.session = Session::default();
    }

    /// The card's name in the catalogue.
    pub fn name(&self) -> String {
        self.slot().chip.profile.name.clone()
    }

    /// The persistent counters of application `index` (0 = the first on the card).
    pub fn counters(&self, index: usize) -> Option<Counters> {
        let slot = self.slot();
        slot.chip
            .profile
            .applications
            .get(index)
            .map(|a| a.counters.clone())
    }

    /// Whether application `index` has been blocked (personalised so, or by a script).
    pub fn is_blocked(&self, index: usize) -> bool {
        let slot = self.slot();
        slot.chip
            .profile
            .applications
            .get(index)
            .is_some_and(|a| a.behaviour.blocked)
    }

    /// The instruction bytes the card received, in order (no data: VERIFY carries a PIN).
    pub fn instructions(&self) -> Vec<u8> {
        self.slot().instructions.clone()
    }

    /// Answers one C-APDU as the chip does, whatever the slot's state: for tests of the card's
    /// own behaviour.
    pub fn exchange(&self, apdu: &[u8]) -> Vec<u8> {
        self.slot().chip.answer(apdu)
    }
}

impl CardReader for VirtualCard {
    fn detect(&self, _timeout: Duration) -> Result<CardPresentation, DeviceFault> {
        let mut slot = self.slot();
        if !slot.present || slot.torn {
            return Err(DeviceFault::NoCardPresented);
        }
        // The first detection powers the card up (answer to reset): its RAM starts empty. A
        // later one only reports the card still there.
        if !slot.powered {
            slot.chip.session = Session::default();
            slot.powered = true;
        }
        Ok(if slot.chip.profile.ppse {
            CardPresentation::Contactless
        } else {
            CardPresentation::ContactChip
        })
    }

    fn transceive(&self, apdu: &[u8]) -> Result<Zeroizing<Vec<u8>>, DeviceFault> {
        let mut slot = self.slot();
        if slot.torn {
            return Err(DeviceFault::CardRemovedTooEarly);
        }
        if !slot.present {
            return Err(DeviceFault::NoCardPresented);
        }
        let ins = apdu.get(1).copied().unwrap_or(0);
        slot.instructions.push(ins);
        let count = {
            let n = slot.seen.entry(ins).or_insert(0);
            *n += 1;
            *n
        };
        let tear = slot
            .chip
            .profile
            .tear
            .filter(|t| t.ins == ins && t.occurrence == count);
        if let Some(tear) = tear {
            if tear.after_processing {
                let _lost = slot.chip.answer(apdu);
            }
            slot.torn = true;
            slot.present = false;
            slot.powered = false;
            slot.chip.session = Session::default();
            return Err(DeviceFault::CardRemovedTooEarly);
        }
        Ok(Zeroizing::new(slot.chip.answer(apdu)))
    }

    fn remove_card(&self) -> Result<(), DeviceFault> {
        let mut slot = self.slot();
        slot.present = false;
        slot.powered = false;
        slot.chip.session = Session::default();
        Ok(())
    }
}
