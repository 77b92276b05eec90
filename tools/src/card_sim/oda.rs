//! Offline data authentication on the card side: the dynamic signature of INTERNAL
//! AUTHENTICATE (DDA) and of GENERATE AC (CDA). Cards are built without ODA data until the
//! certificate tooling of `card::oda` is available; until then a DDA request is refused as a
//! card without DDA refuses it.

use super::apdu::sw;
use super::card::{Answer, Chip};

pub(super) fn sign_dynamic_data(_chip: &mut Chip, _ddol_data: &[u8]) -> Answer {
    Err(sw::INS_NOT_SUPPORTED)
}

pub(super) fn cda_response(
    _chip: &mut Chip,
    _cid: u8,
    _atc: u16,
    _ac: [u8; 8],
    _iad: &[u8],
) -> Option<Answer> {
    None
}
