//! Kernel C-2 cardholder verification (EMV Contactless Book C-2, the "CVM Selection"
//! procedure): the phone's own verification when card and reader both support it, else the
//! card's CVM list (8E) walked against the CVM capability that applies to the amount, with the
//! contact kernel's condition and support tables (Book 3 Annex C3). Unlike the contact kernel
//! nothing is performed here: the card is gone before an online PIN or a signature is taken,
//! so a selected CVM is recorded (9F34, TVR) and handed to the engine.

use crate::card::emv::bits::{TsiBit, TvrBit};
use crate::card::emv::cvm::{
    CvmContext, NO_CVM_PERFORMED, RESULT_FAILED as FAILED, RESULT_SUCCESSFUL as SUCCESSFUL,
    RESULT_UNKNOWN as UNKNOWN, condition, supported,
};
use crate::card::emv::data::be_u64;

use super::outcome::CtlsCvm;
use super::preprocess::TTQ_CDCVM;
use super::tap::TapState;

/// AIP byte 1: on-device cardholder verification supported (bit 2), cardholder verification
/// supported (bit 5).
const AIP_ON_DEVICE_CVM: u8 = 0x02;
const AIP_CVM_SUPPORTED: u8 = 0x10;
/// Terminal Capabilities byte 2: plaintext (bit 8) and enciphered (bit 5) offline PIN. C-2 has
/// no VERIFY, so a tap never offers them whatever the reader's contact capabilities say.
const OFFLINE_PIN: u8 = 0x80 | 0x10;
/// CVM codes (Book 3 Annex C3) a tap can select.
const FAIL_CVM: u8 = 0x00;
const ONLINE_PIN: u8 = 0x02;
const SIGNATURE: u8 = 0x1E;
const NO_CVM: u8 = 0x1F;
/// Bit 7 of a CV rule's method: apply the next rule if this one fails.
const APPLY_NEXT: u8 = 0x40;

/// Book C-2 A.1.37/A.1.38: a CVM is required when the amount is greater than the reader's
/// CVM required limit (not "at or over", as Book A's entry point indicator is).
pub(super) fn cvm_required(st: &TapState) -> bool {
    st.txn.amount_fen > st.row.cvm_required_limit_fen
}

/// The kernel's first step: byte 2 of Terminal Capabilities (9F33) becomes "CVM Capability –
/// CVM Required" or "– No CVM Required" for the amount, before any DOL can ask for 9F33.
pub(super) fn set_cvm_capability(st: &mut TapState) {
    let cap = if cvm_required(st) {
        st.row.cvm_capability_cvm_required
    } else {
        st.row.cvm_capability_no_cvm_required
    };
    st.terminal.capabilities[1] = cap & !OFFLINE_PIN;
    st.store.set_terminal(0x9F33, st.terminal.capabilities);
}

/// CVM Selection: the CVM the engine performs, with 9F34 and the TVR bits set as Book C-2
/// says.
pub(super) fn select(st: &mut TapState) -> CtlsCvm {
    let (cvm, results) = walk(st);
    st.cvm_results = results;
    st.store.set_terminal(0x9F34, results);
    cvm
}

fn walk(st: &mut TapState) -> (CtlsCvm, [u8; 3]) {
    let aip = st.aip();
    // On-device CVM: the reader's support is TTQ byte 3 bit 7, as for the quick kernels.
    if aip[0] & AIP_ON_DEVICE_CVM != 0 && st.ind.ttq[2] & TTQ_CDCVM != 0 {
        return if cvm_required(st) {
            st.tsi.set(TsiBit::CardholderVerificationPerformed);
            (CtlsCvm::ConsumerDevice, [0x01, 0x00, SUCCESSFUL])
        } else {
            (CtlsCvm::NoCvm, [NO_CVM_PERFORMED, 0x00, SUCCESSFUL])
        };
    }
    if aip[0] & AIP_CVM_SUPPORTED == 0 {
        return (CtlsCvm::NoCvm, [NO_CVM_PERFORMED, 0x00, UNKNOWN]);
    }
    let list = st.store.card(0x8E).unwrap_or_default();
    if list.len() < 8 || !list.len().is_multiple_of(2) {
        st.tvr.set(TvrBit::IccDataMissing);
        return (CtlsCvm::NoCvm, [NO_CVM_PERFORMED, 0x00, UNKNOWN]);
    }
    st.tsi.set(TsiBit::CardholderVerificationPerformed);
    let ctx = CvmContext {
        store: &st.store,
        terminal: &st.terminal,
        txn: &st.txn,
        pan: None,
        pin_key: None,
    };
    let (x, y) = (be_u64(&list[0..4]), be_u64(&list[4..8]));
    for rule in list[8..].chunks_exact(2) {
        let (method, cond) = (rule[0], rule[1]);
        let code = method & 0x3F;
        // A condition not understood, or not met: the next rule, whatever bit 7 says.
        if condition(cond, code, x, y, &ctx) != Some(true) {
            continue;
        }
        let chosen = match supported(code, &st.terminal.capabilities) {
            None => {
                st.tvr.set(TvrBit::UnrecognisedCvm);
                None
            }
            Some(false) => None,
            Some(true) => match code {
                ONLINE_PIN => Some((CtlsCvm::OnlinePin, UNKNOWN)),
                SIGNATURE => Some((CtlsCvm::Signature, UNKNOWN)),
                NO_CVM => Some((CtlsCvm::NoCvm, SUCCESSFUL)),
                // "Fail CVM processing", and offline PINs (never offered, see OFFLINE_PIN).
                _ => None,
            },
        };
        if let Some((cvm, result)) = chosen {
            if cvm == CtlsCvm::OnlinePin {
                st.tvr.set(TvrBit::OnlinePinEntered);
            }
            return (cvm, [method, cond, result]);
        }
        if method & APPLY_NEXT != 0 {
            continue;
        }
        st.tvr.set(TvrBit::CardholderVerificationFailed);
        // C-2 names the failing rule only when it is "Fail CVM processing".
        return if code == FAIL_CVM {
            (CtlsCvm::NoCvm, [method, cond, FAILED])
        } else {
            (CtlsCvm::NoCvm, [NO_CVM_PERFORMED, 0x00, FAILED])
        };
    }
    st.tvr.set(TvrBit::CardholderVerificationFailed);
    (CtlsCvm::NoCvm, [NO_CVM_PERFORMED, 0x00, FAILED])
}
