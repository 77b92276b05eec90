//! The quick kernels: UnionPay qPBOC / QuickPass (JR/T 0025.12, kernel 7) and Visa qVSDC
//! (VCPS 2.2, kernel C-3), which share their design. One GET PROCESSING OPTIONS with the TTQ
//! in the PDOL answers the cryptogram (9F26, 9F27, 9F36, 9F10) and the AFL; the records follow;
//! then the card is released and the reader decides alone: online with the ARQC, or an offline
//! approval only after fDDA (9F4B over 9F37, 9F02, 5F2A and 9F69) and the reader's own checks
//! of the limits and the available offline spending amount (9F79 / 9F5D).

use crate::card::emv::bits::{TsiBit, TvrBit};
use crate::card::emv::channel::Card;
use crate::card::emv::records::StaticData;
use crate::card::emv::{AcRecord, AcType, OdaError, OdaMethod, OdaResult, OdaVerifier};
use crate::card::emv::{TerminationReason, data::bcd_u64};

use super::outcome::{CtlsCvm, CtlsOutcome, InsertReason, UiRequest, UiSink};
use super::preprocess::{TTQ_CDCVM, TTQ_ODA_FOR_ONLINE, TTQ_ONLINE_PIN, TTQ_SIGNATURE};
use super::tap::{GpoAnswer, KernelResult, TapState};

/// Card transaction qualifiers (9F6C) byte 1: online PIN required, signature required, go
/// online if ODA fails, switch interface if ODA fails; byte 2: consumer device CVM performed.
const CTQ_ONLINE_PIN: u8 = 0x80;
const CTQ_SIGNATURE: u8 = 0x40;
const CTQ_ONLINE_IF_ODA_FAILS: u8 = 0x20;
const CTQ_SWITCH_IF_ODA_FAILS: u8 = 0x10;
const CTQ_CDCVM_PERFORMED: u8 = 0x80;

pub(super) fn run(
    st: &mut TapState,
    card: &mut Card,
    oda: &dyn OdaVerifier,
    ui: &mut dyn UiSink,
) -> KernelResult {
    let answer = st.gpo(card)?;
    // Format 1, or no cryptogram in the answer: the card chose magnetic-stripe mode (MSD),
    // which this reader does not support.
    if matches!(answer, GpoAnswer::Format1) || !st.store.has_card(0x9F26) {
        return Ok(CtlsOutcome::TryAnotherInterface(
            InsertReason::MagstripeModeOnly,
        ));
    }
    let sd = st.read_records(card)?;
    ui.ui(UiRequest::CardReadOk);
    decide(st, &sd, oda)
}

/// The cryptogram type: 9F27 when the card sent it, else the IAD's CVR (VIS format: byte 5
/// bits 6-5, 00 AAC, 01 TC, 10 ARQC).
fn cid(st: &TapState) -> Option<u8> {
    if let Some([cid]) = st.store.card(0x9F27) {
        return Some(*cid);
    }
    let iad = st.store.card(0x9F10)?;
    let bits = (iad.get(4)? >> 4) & 0x03;
    Some(match bits {
        0 => 0x00,
        1 => 0x40,
        2 => 0x80,
        _ => return None,
    })
}

fn decide(st: &mut TapState, sd: &StaticData, oda: &dyn OdaVerifier) -> KernelResult {
    let cid = cid(st).ok_or(TerminationReason::CardProtocolError)?;
    let kind = AcType::from_cid(cid).ok_or(TerminationReason::CardProtocolError)?;
    let cryptogram = st
        .store
        .card(0x9F26)
        .and_then(|v| <[u8; 8]>::try_from(v).ok())
        .ok_or(TerminationReason::CardProtocolError)?;
    let atc = st
        .store
        .card(0x9F36)
        .and_then(|v| <[u8; 2]>::try_from(v).ok())
        .ok_or(TerminationReason::CardProtocolError)?;
    if !st.store.has_card(0x9F27) {
        st.store.set_card(0x9F27, &[cid]);
    }
    st.tsi.set(TsiBit::CardRiskManagementPerformed);
    st.acs.push(AcRecord {
        requested: if st.ind.online_required() {
            AcType::Arqc
        } else {
            AcType::Tc
        },
        cid,
        cryptogram,
        atc,
    });
    if st.pan().is_none() {
        return Err(TerminationReason::MandatoryDataMissing.into());
    }
    st.oda_method = OdaMethod::None;
    st.oda_result = OdaResult::NotPerformed;
    match kind {
        AcType::Aac => {
            let cvm = cvm(st, kind).unwrap_or(CtlsCvm::NoCvm);
            Ok(CtlsOutcome::Declined(st.result(cvm)?))
        }
        AcType::Arqc => online(st, sd, oda),
        AcType::Tc => offline(st, sd, oda),
    }
}

/// An ARQC goes online. When the reader supports ODA for online authorisations (TTQ byte 1
/// bit 1) and the card signed its answer, fDDA is verified first (VCPS 2.2 §5.3.2); a failure
/// follows the card's qualifiers: online anyway only if the CTQ says so.
fn online(st: &mut TapState, sd: &StaticData, oda: &dyn OdaVerifier) -> KernelResult {
    if !st.terminal.online_capable() {
        return Ok(CtlsOutcome::Declined(st.result(CtlsCvm::NoCvm)?));
    }
    let cvm = match cvm(st, AcType::Arqc) {
        Ok(c) => c,
        Err(r) => return Ok(CtlsOutcome::TryAnotherInterface(r)),
    };
    if st.ind.ttq[0] & TTQ_ODA_FOR_ONLINE != 0
        && st.store.has_card(0x9F4B)
        && fdda(st, sd, oda).is_err()
    {
        return oda_failed(st, cvm);
    }
    Ok(CtlsOutcome::OnlineRequest(st.result(cvm)?))
}

/// fDDA failed: online if the card allows it and the reader can, insert if the card asks for
/// that, else declined (VCPS 2.2 §5.3.3, CTQ byte 1 bits 6-5).
fn oda_failed(st: &mut TapState, cvm: CtlsCvm) -> KernelResult {
    let ctq = ctq(st);
    if ctq[0] & CTQ_ONLINE_IF_ODA_FAILS != 0 && st.terminal.online_capable() {
        Ok(CtlsOutcome::OnlineRequest(st.result(cvm)?))
    } else if ctq[0] & CTQ_SWITCH_IF_ODA_FAILS != 0 {
        Ok(CtlsOutcome::TryAnotherInterface(
            InsertReason::CardRequested,
        ))
    } else {
        Ok(CtlsOutcome::Declined(st.result(cvm)?))
    }
}

/// A TC: the reader approves only if nothing it knows contradicts the card (VCPS 2.2 §5.3,
/// JR/T 0025.12 §7.8): the amount within the floor limit and the offline spending amount, the
/// application not expired, and fDDA verified.
fn offline(st: &mut TapState, sd: &StaticData, oda: &dyn OdaVerifier) -> KernelResult {
    let amount = st.txn.amount_fen;
    let balance = st
        .store
        .card(0x9F79)
        .or_else(|| st.store.card(0x9F5D))
        .and_then(bcd_u64);
    if st.expired() {
        st.tvr.set(TvrBit::ExpiredApplication);
    }
    if st.ind.floor_limit_exceeded {
        st.tvr.set(TvrBit::FloorLimitExceeded);
    }
    let refused = st.ind.online_required() || st.expired() || balance.is_some_and(|b| amount > b);
    let cvm = match cvm(st, AcType::Tc) {
        Ok(c) => c,
        Err(r) => return Ok(CtlsOutcome::TryAnotherInterface(r)),
    };
    if refused {
        return Ok(CtlsOutcome::Declined(st.result(cvm)?));
    }
    match fdda(st, sd, oda) {
        Ok(()) => Ok(CtlsOutcome::Approved(st.result(cvm)?)),
        Err(_) => oda_failed(st, cvm),
    }
}

fn ctq(st: &TapState) -> [u8; 2] {
    st.store
        .card(0x9F6C)
        .and_then(|v| <[u8; 2]>::try_from(v).ok())
        .unwrap_or_default()
}

/// fDDA (VCPS 2.2 Annex, JR/T 0025.12 §7.9): the ICC key from the certificates over the
/// static data, then the GPO's or a record's 9F4B over the terminal dynamic data — 9F37 alone
/// for version 00, 9F37 ‖ 9F02 ‖ 5F2A ‖ 9F69 for version 01 (the first byte of 9F69).
fn fdda(st: &mut TapState, sd: &StaticData, oda: &dyn OdaVerifier) -> Result<(), OdaError> {
    st.tsi.set(TsiBit::OdaPerformed);
    st.oda_method = OdaMethod::Dda;
    st.oda_result = OdaResult::Failed;
    let r = fdda_verify(st, sd, oda);
    match r {
        Ok(()) => st.oda_result = OdaResult::Ok,
        Err(e) => {
            if e == OdaError::IccDataMissing {
                st.tvr.set(TvrBit::IccDataMissing);
            }
            st.tvr.set(TvrBit::DdaFailed);
        }
    }
    r
}

fn fdda_verify(st: &TapState, sd: &StaticData, oda: &dyn OdaVerifier) -> Result<(), OdaError> {
    if st.aip()[0] & 0x20 == 0 || sd.malformed {
        return Err(OdaError::Failed);
    }
    let key = oda.recover_icc_key(&st.store, &sd.bytes)?;
    let sdad = st.store.card(0x9F4B).ok_or(OdaError::IccDataMissing)?;
    let get = |t| st.store.get(t).ok_or(OdaError::IccDataMissing);
    let mut data = get(0x9F37)?.to_vec();
    if let Some(auth) = st.store.card(0x9F69)
        && auth.first() == Some(&0x01)
    {
        data.extend_from_slice(get(0x9F02)?);
        data.extend_from_slice(get(0x5F2A)?);
        data.extend_from_slice(auth);
    }
    oda.verify_fdda(&key, sdad, &data)
}

/// The CVM (VCPS 2.2 §5.4, JR/T 0025.12 §7.7). Under the CVM required limit none (QuickPass
/// 小额免密免签). Above it: the phone's own verification when the card says it was done; else
/// online PIN for an online transaction (UnionPay's rule over the limit, and Visa's CTQ online
/// PIN); else a signature when card and reader agree; else the tap cannot verify the holder.
fn cvm(st: &mut TapState, kind: AcType) -> Result<CtlsCvm, InsertReason> {
    if !st.ind.cvm_required() {
        return Ok(CtlsCvm::NoCvm);
    }
    st.tsi.set(TsiBit::CardholderVerificationPerformed);
    let ttq = st.ind.ttq;
    let ctq = st
        .store
        .card(0x9F6C)
        .and_then(|v| <[u8; 2]>::try_from(v).ok());
    let signature_wanted = ctq.is_some_and(|c| c[0] & CTQ_SIGNATURE != 0);
    let pin_wanted = ctq.is_none_or(|c| c[0] & CTQ_ONLINE_PIN != 0 || !signature_wanted);
    if ctq.is_some_and(|c| c[1] & CTQ_CDCVM_PERFORMED != 0) && ttq[2] & TTQ_CDCVM != 0 {
        return Ok(CtlsCvm::ConsumerDevice);
    }
    if kind == AcType::Arqc && ttq[0] & TTQ_ONLINE_PIN != 0 && pin_wanted {
        st.tvr.set(TvrBit::OnlinePinEntered);
        return Ok(CtlsCvm::OnlinePin);
    }
    if signature_wanted && ttq[0] & TTQ_SIGNATURE != 0 {
        return Ok(CtlsCvm::Signature);
    }
    Err(InsertReason::CvmNotPossible)
}
