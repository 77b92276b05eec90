//! Cardholder verification (EMV 4.4 Book 3 §10.5, CVM codes and conditions in Annex C3):
//! walk the CVM list, perform the first rule that applies, record 9F34 and the TVR bits.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::bits::{Tsi, TsiBit, Tvr, TvrBit};
use super::channel::{Card, ChannelError, cmd};
use super::data::{TagStore, be_u64};
use super::params::TerminalParams;
use super::txn_data::TransactionData;
use crate::card::Pan;
use crate::crypto::{IccPinKey, OfflinePinMode, OfflinePinRequest, OfflinePinResult};
use crate::ports::DeviceFault;

/// What the cardholder did at the online PIN prompt. The encrypted block stays with the
/// handler (the engine's PIN pad adapter), never in the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnlinePinEntry {
    Entered,
    Bypassed,
}

/// The PIN pad / PED as the CVM step needs it. Errors mean the PIN pad is absent or broken.
pub trait CvmHandler {
    fn online_pin(&mut self, pan: &Pan, amount_fen: u64) -> Result<OnlinePinEntry, DeviceFault>;
    /// The PED prompts, sends VERIFY over its ICC slot and reports the card's status word.
    fn offline_pin(&mut self, request: &OfflinePinRequest)
    -> Result<OfflinePinResult, DeviceFault>;
}

/// A terminal with no PIN pad.
#[derive(Debug)]
pub struct NoPinPad;

impl CvmHandler for NoPinPad {
    fn online_pin(&mut self, _: &Pan, _: u64) -> Result<OnlinePinEntry, DeviceFault> {
        Err(DeviceFault::PinPadFailure {
            message: "no PIN pad".into(),
        })
    }
    fn offline_pin(&mut self, _: &OfflinePinRequest) -> Result<OfflinePinResult, DeviceFault> {
        Err(DeviceFault::PinPadFailure {
            message: "no PIN pad".into(),
        })
    }
}

/// The result of cardholder verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CvmOutcome {
    /// 9F34.
    pub results: [u8; 3],
    pub signature_required: bool,
    pub online_pin: bool,
}

pub(crate) const RESULT_UNKNOWN: u8 = 0x00;
pub(crate) const RESULT_FAILED: u8 = 0x01;
pub(crate) const RESULT_SUCCESSFUL: u8 = 0x02;
pub(crate) const NO_CVM_PERFORMED: u8 = 0x3F;
const MAX_PIN_TRIES: usize = 10;

/// Inputs the CVM step reads.
#[derive(Debug)]
pub struct CvmContext<'a> {
    pub store: &'a TagStore,
    pub terminal: &'a TerminalParams,
    pub txn: &'a TransactionData,
    pub pan: Option<&'a Pan>,
    /// The card's key for enciphered PIN, recovered by offline data authentication.
    pub pin_key: Option<(Vec<u8>, Vec<u8>)>,
}

pub(crate) fn supported(code: u8, caps: &[u8; 3]) -> Option<bool> {
    let c = caps[1];
    Some(match code {
        0x00 => true,
        0x01 => c & 0x80 != 0,
        0x02 => c & 0x40 != 0,
        0x03 => c & 0x80 != 0 && c & 0x20 != 0,
        0x04 => c & 0x10 != 0,
        0x05 => c & 0x10 != 0 && c & 0x20 != 0,
        0x1E => c & 0x20 != 0,
        0x1F => c & 0x08 != 0,
        _ => return None,
    })
}

/// Annex C3 conditions; `None` for a condition code the terminal does not understand.
pub(crate) fn condition(cond: u8, code: u8, x: u64, y: u64, ctx: &CvmContext) -> Option<bool> {
    let unattended = matches!(ctx.terminal.terminal_type & 0x0F, 4..=6);
    let cash = ctx.txn.is_cash();
    let cashback = ctx.txn.is_cashback();
    let amount = ctx.txn.amount_fen;
    let same_currency = ctx.store.card(0x9F42) == Some(&ctx.terminal.currency_code[..]);
    Some(match cond {
        0x00 => true,
        0x01 => unattended && cash,
        0x02 => !(cash || cashback),
        0x03 => supported(code, &ctx.terminal.capabilities) == Some(true),
        0x04 => !unattended && cash,
        0x05 => cashback,
        0x06 => same_currency && amount < x,
        0x07 => same_currency && amount > x,
        0x08 => same_currency && amount < y,
        0x09 => same_currency && amount > y,
        _ => return None,
    })
}

enum Performed {
    Success(u8),
    Failed,
}

/// Book 3 §10.5. Device faults of the PIN pad are CVM facts, not errors; only the card
/// channel can fail the step.
pub fn perform(
    card: &mut Card,
    ctx: &CvmContext,
    handler: &mut dyn CvmHandler,
    tvr: &mut Tvr,
    tsi: &mut Tsi,
) -> Result<CvmOutcome, ChannelError> {
    let mut out = CvmOutcome {
        results: [NO_CVM_PERFORMED, 0x00, RESULT_UNKNOWN],
        signature_required: false,
        online_pin: false,
    };
    let aip = ctx.store.card(0x82).unwrap_or_default();
    if aip.first().is_none_or(|b| b & 0x10 == 0) {
        return Ok(out);
    }
    let list = ctx.store.card(0x8E).unwrap_or_default();
    if list.len() < 10 || !list.len().is_multiple_of(2) {
        tvr.set(TvrBit::IccDataMissing);
        return Ok(out);
    }
    tsi.set(TsiBit::CardholderVerificationPerformed);
    let x = be_u64(&list[0..4]);
    let y = be_u64(&list[4..8]);
    let mut last_failed: Option<[u8; 2]> = None;
    for rule in list[8..].chunks_exact(2) {
        let (method, cond) = (rule[0], rule[1]);
        let code = method & 0x3F;
        let apply_next = method & 0x40 != 0;
        match condition(cond, code, x, y, ctx) {
            Some(true) => {}
            _ => continue,
        }
        let result = match supported(code, &ctx.terminal.capabilities) {
            None => {
                tvr.set(TvrBit::UnrecognisedCvm);
                Performed::Failed
            }
            Some(false) => {
                if matches!(code, 0x01..=0x05) {
                    tvr.set(TvrBit::PinPadNotWorking);
                }
                Performed::Failed
            }
            Some(true) => run(card, ctx, handler, code, tvr, &mut out)?,
        };
        match result {
            Performed::Success(r) => {
                out.results = [method, cond, r];
                return Ok(out);
            }
            Performed::Failed => {
                last_failed = Some([method, cond]);
                if !apply_next {
                    break;
                }
            }
        }
    }
    tvr.set(TvrBit::CardholderVerificationFailed);
    out.signature_required = false;
    out.results = match last_failed {
        Some([m, c]) => [m, c, RESULT_FAILED],
        None => [NO_CVM_PERFORMED, 0x00, RESULT_FAILED],
    };
    Ok(out)
}

fn run(
    card: &mut Card,
    ctx: &CvmContext,
    handler: &mut dyn CvmHandler,
    code: u8,
    tvr: &mut Tvr,
    out: &mut CvmOutcome,
) -> Result<Performed, ChannelError> {
    Ok(match code {
        0x1F => Performed::Success(RESULT_SUCCESSFUL),
        0x1E => {
            out.signature_required = true;
            Performed::Success(RESULT_UNKNOWN)
        }
        0x02 => {
            let Some(pan) = ctx.pan else {
                return Ok(Performed::Failed);
            };
            match handler.online_pin(pan, ctx.txn.amount_fen) {
                Ok(OnlinePinEntry::Entered) => {
                    tvr.set(TvrBit::OnlinePinEntered);
                    out.online_pin = true;
                    Performed::Success(RESULT_UNKNOWN)
                }
                Ok(OnlinePinEntry::Bypassed) => {
                    tvr.set(TvrBit::PinNotEntered);
                    Performed::Failed
                }
                Err(_) => {
                    tvr.set(TvrBit::PinPadNotWorking);
                    Performed::Failed
                }
            }
        }
        0x01 | 0x03 | 0x04 | 0x05 => {
            let enciphered = matches!(code, 0x04 | 0x05);
            if !offline_pin(card, ctx, handler, enciphered, tvr)? {
                return Ok(Performed::Failed);
            }
            if matches!(code, 0x03 | 0x05) {
                out.signature_required = true;
                Performed::Success(RESULT_UNKNOWN)
            } else {
                Performed::Success(RESULT_SUCCESSFUL)
            }
        }
        _ => Performed::Failed,
    })
}

/// Offline PIN through the PED: PIN try counter first (GET DATA 9F17), GET CHALLENGE for the
/// enciphered form, then VERIFY until success, a blocked PIN or a bypass.
fn offline_pin(
    card: &mut Card,
    ctx: &CvmContext,
    handler: &mut dyn CvmHandler,
    enciphered: bool,
    tvr: &mut Tvr,
) -> Result<bool, ChannelError> {
    let r = card.send(&cmd::get_data(0x9F17))?;
    let mut tries_left = None;
    if r.ok()
        && let Some(count) = crate::codec::tlv::parse(&r.data).ok().and_then(|o| {
            crate::codec::tlv::find(&o, 0x9F17)
                .and_then(|t| t.bytes())
                .map(be_u64)
        })
    {
        if count == 0 {
            tvr.set(TvrBit::PinTryLimitExceeded);
            return Ok(false);
        }
        tries_left = Some(u8::try_from(count).unwrap_or(u8::MAX));
    }
    for _ in 0..MAX_PIN_TRIES {
        let mode = if enciphered {
            let Some((modulus, exponent)) = ctx.pin_key.clone() else {
                return Ok(false);
            };
            let r = card.send(&cmd::get_challenge())?;
            let Ok(challenge) = <[u8; 8]>::try_from(r.data.as_slice()) else {
                return Ok(false);
            };
            if !r.ok() {
                return Ok(false);
            }
            OfflinePinMode::Enciphered(IccPinKey {
                modulus,
                exponent,
                challenge,
            })
        } else {
            OfflinePinMode::Plaintext
        };
        let request = OfflinePinRequest {
            mode,
            tries_left,
            amount_fen: ctx.txn.amount_fen,
            timeout: Duration::from_secs(60),
        };
        match handler.offline_pin(&request) {
            Ok(OfflinePinResult::CardAnswered {
                status_word: 0x9000,
            }) => return Ok(true),
            Ok(OfflinePinResult::CardAnswered { status_word: sw }) if sw & 0xFFF0 == 0x63C0 => {
                let left = (sw & 0x0F) as u8;
                if left == 0 {
                    tvr.set(TvrBit::PinTryLimitExceeded);
                    return Ok(false);
                }
                tries_left = Some(left);
            }
            Ok(OfflinePinResult::CardAnswered {
                status_word: 0x6983 | 0x6984,
            }) => {
                tvr.set(TvrBit::PinTryLimitExceeded);
                return Ok(false);
            }
            Ok(OfflinePinResult::CardAnswered { .. }) => return Ok(false),
            Ok(OfflinePinResult::Bypassed) => {
                tvr.set(TvrBit::PinNotEntered);
                return Ok(false);
            }
            Err(_) => {
                tvr.set(TvrBit::PinPadNotWorking);
                return Ok(false);
            }
        }
    }
    Ok(false)
}
