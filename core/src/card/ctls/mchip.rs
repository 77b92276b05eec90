//! Kernel C-2 (Mastercard M/Chip contactless) as far as a Chinese acquirer's reader needs it:
//! GPO, records, CDA key recovery, processing restrictions, CVM selection over the card's CVM
//! list (`mchip_cvm`), terminal action analysis, one GENERATE AC with CDA, and the cryptogram recovered from the signature.
//! A CDA that fails never approves and never goes online. Mag-stripe mode (AIP byte 2 bit 8
//! clear) is not supported: the card is told to insert.

use crate::card::emv::action::{self, ActionCodes};
use crate::card::emv::bits::{TsiBit, TvrBit};
use crate::card::emv::channel::Card;
use crate::card::emv::genac::{self, AcResponse};
use crate::card::emv::{
    AcType, OdaError, OdaMethod, OdaResult, OdaVerifier, TerminationReason, restrict,
};

use super::mchip_cvm;
use super::outcome::{CtlsOutcome, InsertReason, UiRequest, UiSink};
use super::tap::{KernelResult, TapState};

/// AIP byte 2 bit 8: EMV mode.
const AIP_EMV_MODE: u8 = 0x80;

pub(super) fn run(
    st: &mut TapState,
    card: &mut Card,
    oda: &dyn OdaVerifier,
    ui: &mut dyn UiSink,
) -> KernelResult {
    mchip_cvm::set_cvm_capability(st);
    st.gpo(card)?;
    let aip = st.aip();
    if aip[1] & AIP_EMV_MODE == 0 {
        return Ok(CtlsOutcome::TryAnotherInterface(
            InsertReason::MagstripeModeOnly,
        ));
    }
    let sd = st.read_records(card)?;
    for tag in [0x5F24, 0x5A, 0x8C] {
        if !st.store.has_card(tag) {
            return Err(TerminationReason::MandatoryDataMissing.into());
        }
    }
    // CDA is the only ODA of C-2: recover the ICC key now, verify at GENERATE AC.
    let mut icc_key = None;
    if aip[0] & 0x01 != 0 && st.terminal.supports_cda() {
        st.oda_method = OdaMethod::Cda;
        let key = if sd.malformed {
            Err(OdaError::Failed)
        } else {
            oda.recover_icc_key(&st.store, &sd.bytes)
        };
        match key {
            Ok(k) => icc_key = Some(k),
            Err(e) => {
                st.tsi.set(TsiBit::OdaPerformed);
                st.oda_result = OdaResult::Failed;
                if e == OdaError::IccDataMissing {
                    st.tvr.set(TvrBit::IccDataMissing);
                }
                st.tvr.set(TvrBit::CdaFailed);
            }
        }
    } else {
        st.tvr.set(TvrBit::OdaNotPerformed);
    }
    restrict::processing_restrictions(&st.store, &st.terminal, &st.txn, &mut st.tvr);
    let cvm = mchip_cvm::select(st);
    if st.ind.floor_limit_exceeded {
        st.tvr.set(TvrBit::FloorLimitExceeded);
    }
    st.tsi.set(TsiBit::TerminalRiskManagementPerformed);
    sync(st);

    let iac = ActionCodes::issuer(&st.store);
    let tac = ActionCodes::terminal(&st.row.contact);
    let online_capable = st.terminal.online_capable();
    let mut requested = action::first_ac(&st.tvr, &iac, &tac, online_capable);
    if requested == AcType::Tc && st.ind.online_required() && online_capable {
        requested = AcType::Arqc;
    }
    let cda = icc_key.is_some() && requested != AcType::Aac;
    let resp = genac::generate_ac(card, &mut st.store, requested, cda, 0x8C)?;
    ui.ui(UiRequest::CardReadOk);
    st.tsi.set(TsiBit::CardRiskManagementPerformed);
    let mut record = resp.record();
    let mut cda_ok = true;
    if cda && resp.kind != AcType::Aac {
        st.tsi.set(TsiBit::OdaPerformed);
        match icc_key.as_ref().map(|k| verify_cda(st, k, &resp, oda)) {
            Some(Ok(ac)) => {
                st.store.set_card(0x9F26, &ac);
                record.cryptogram = ac;
                st.oda_result = OdaResult::Ok;
            }
            _ => {
                st.tvr.set(TvrBit::CdaFailed);
                st.oda_result = OdaResult::Failed;
                cda_ok = false;
            }
        }
    }
    st.acs.push(record);
    sync(st);
    Ok(match (resp.kind, cda_ok) {
        (_, false) => CtlsOutcome::Declined(st.request(cvm)?),
        (AcType::Aac, _) if wants_phone(&resp) => CtlsOutcome::SeePhone,
        (AcType::Aac, _) => CtlsOutcome::Declined(st.request(cvm)?),
        (AcType::Arqc, _) if online_capable => CtlsOutcome::OnlineRequest(st.request(cvm)?),
        (AcType::Arqc, _) => CtlsOutcome::Declined(st.request(cvm)?),
        (AcType::Tc, _) => CtlsOutcome::Approved(st.request(cvm)?),
    })
}

fn sync(st: &mut TapState) {
    st.store.set_terminal(0x95, st.tvr.0);
    st.store.set_terminal(0x9B, st.tsi.0);
    st.store.set_terminal(0x9F34, st.cvm_results);
}

/// Book C-2 §A.1.115: POS cardholder interaction information (DF4B) with an OD-CVM or
/// "see phone" indication next to an AAC means the phone wants its holder first.
fn wants_phone(resp: &AcResponse) -> bool {
    crate::codec::tlv::parse(&resp.template)
        .ok()
        .as_deref()
        .and_then(|objs| crate::codec::tlv::find(objs, 0xDF4B))
        .and_then(crate::codec::tlv::Tlv::bytes)
        .is_some_and(|v| v.get(1).is_some_and(|b| b & 0x07 != 0))
}

/// CDA (Book 2 §6.6.2): the signature over the unpredictable number, the signed CID equal to
/// the one returned, and the transaction data hash over PDOL values, CDOL1 values and the
/// answer's objects other than 9F4B. Returns the cryptogram the signature carries.
fn verify_cda(
    st: &TapState,
    key: &crate::card::emv::IccPublicKey,
    resp: &AcResponse,
    oda: &dyn OdaVerifier,
) -> Result<[u8; 8], OdaError> {
    let sdad = resp.sdad.as_deref().ok_or(OdaError::IccDataMissing)?;
    let input =
        crate::card::oda::cda_transaction_data(&st.pdol_data, &[&resp.cdol_data], &resp.template)
            .map_err(|_| OdaError::Failed)?;
    oda.verify_cda(key, sdad, &st.txn.unpredictable_number, resp.cid, &input)
}
