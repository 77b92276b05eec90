//! The engine's situations mapped to the termination vocabulary of `diag`. Texts, remedies and
//! alternatives live in diag's tables; this file only chooses the code.

use crate::diag::{ResponseCode, Termination, TerminationCode as Code};
use crate::host::TransportError;
use crate::host::acquirer::ExchangeError;
use crate::ports::DeviceFault;

/// The host's field 39. An unreadable code is a malformed response.
pub(crate) fn from_response(code: &str) -> Termination {
    match code.parse::<ResponseCode>() {
        Ok(rc) => Termination::from_response(rc),
        Err(_) => Termination::new(Code::NetBadResponse).with_detail(&format!("39 = {code:?}")),
    }
}

pub(crate) fn from_exchange(e: &ExchangeError) -> Termination {
    let code = match e {
        ExchangeError::Vault(crate::crypto::VaultError::Device { .. }) => Code::DevPinPad,
        ExchangeError::Vault(_) => Code::SwKeysMissing,
        ExchangeError::Build(_) => Code::SwInternal,
        ExchangeError::BadMac => Code::NetBadMac,
        ExchangeError::MacMissing { claimed } => {
            return Termination::new(Code::NetBadMac).with_detail(&format!(
                "应答无MAC / answer without MAC (39 = {})",
                claimed.as_deref().unwrap_or("none")
            ));
        }
        ExchangeError::Malformed(_) | ExchangeError::Mismatch { .. } => Code::NetBadResponse,
        // Its own ending: a certificate problem is fixed by configuration, not by waiting for
        // the network, and nothing was sent.
        ExchangeError::Transport(TransportError::Tls { attempts }) => {
            let detail = attempts
                .iter()
                .filter(|a| a.kind.is_tls())
                .map(|a| format!("{}: {}", a.endpoint, a.detail))
                .collect::<Vec<_>>()
                .join("; ");
            return Termination::new(Code::NetTls).with_detail(&detail);
        }
        ExchangeError::Transport(t) if t.may_have_reached_host() => Code::NetTimeout,
        ExchangeError::Transport(_) => Code::NetHostUnreachable,
    };
    Termination::new(code)
}

pub(crate) fn from_device(f: &DeviceFault) -> Termination {
    f.termination()
}

pub(crate) fn storage(disk_full: bool) -> Termination {
    if disk_full {
        Termination::new(Code::DevStorage).with_detail("disk full / 存储空间已满")
    } else {
        Termination::new(Code::SwStorageCorrupt)
    }
}

/// The PED (the key custody) failed: a device termination, as a PIN pad fault is.
pub(crate) fn ped_fault() -> Termination {
    Termination::new(Code::DevPinPad)
}

pub(crate) fn keys() -> Termination {
    Termination::new(Code::SwKeysMissing)
}

/// The host's working keys failed the strength and separation checks.
pub(crate) fn weak_keys(why: &crate::crypto::KeyStrengthError) -> Termination {
    Termination::new(Code::SwWeakKeys).with_detail(&why.to_string())
}

pub(crate) fn sign_on_required() -> Termination {
    Termination::new(Code::MntSignOnRequired)
}

pub(crate) fn wrong_amount() -> Termination {
    Termination::new(Code::OpWrongAmount)
}

pub(crate) fn original_not_found() -> Termination {
    Termination::new(Code::OpOriginalNotFound)
}

pub(crate) fn original_not_usable() -> Termination {
    Termination::new(Code::OpOriginalNotUsable)
}

pub(crate) fn entry_not_supported() -> Termination {
    Termination::new(Code::OpEntryNotSupported)
}

pub(crate) fn chip_error() -> Termination {
    Termination::new(Code::DevChip)
}

pub(crate) fn chip_declined() -> Termination {
    Termination::new(Code::AccChipDeclined)
}

pub(crate) fn chip_blocked() -> Termination {
    Termination::new(Code::AccChipBlocked)
}

pub(crate) fn declined_after_approval() -> Termination {
    Termination::new(Code::AccCardDeclinedAfterApproval)
}

pub(crate) fn card_removed() -> Termination {
    Termination::new(Code::DevCardRemoved)
}

pub(crate) fn reader_failed() -> Termination {
    Termination::new(Code::DevReader)
}

pub(crate) fn use_chip() -> Termination {
    Termination::new(Code::OpUseChip)
}

pub(crate) fn pin_required() -> Termination {
    Termination::new(Code::OpPinRequired)
}

pub(crate) fn cancelled() -> Termination {
    Termination::new(Code::OpCancelled)
}

pub(crate) fn batch_full(count: usize) -> Termination {
    Termination::new(Code::MntBatchFull)
        .with_detail(&format!("{count} transactions in the open batch"))
}

pub(crate) fn reversal_pending() -> Termination {
    Termination::new(Code::NetReversalPending)
}

/// Settlement refused while reversals are unresolved: how many are still being retried, how many
/// are parked, their STANs, and what clears each kind.
pub(crate) fn reversal_blocks_settlement(
    owed: &[crate::txn::reversal::OwedReversal],
) -> Termination {
    let stans = |parked: bool| {
        owed.iter()
            .filter(|r| r.parked.is_some() == parked)
            .map(|r| format!("{:06}", r.stan))
            .collect::<Vec<_>>()
    };
    let (retrying, parked) = (stans(false), stans(true));
    let mut zh = Vec::new();
    let mut en = Vec::new();
    if !retrying.is_empty() {
        zh.push(format!(
            "待冲正 {} 笔（流水号 {}），主机可达后自动重发",
            retrying.len(),
            retrying.join(",")
        ));
        en.push(format!(
            "{} pending (STAN {}), sent again automatically once the host answers",
            retrying.len(),
            retrying.join(",")
        ));
    }
    if !parked.is_empty() {
        zh.push(format!(
            "已挂起 {} 笔（流水号 {}），与收单机构核实后用 smartpos reversal release 释放",
            parked.len(),
            parked.join(",")
        ));
        en.push(format!(
            "{} parked (STAN {}): confirm with the acquirer, then release with smartpos reversal \
             release",
            parked.len(),
            parked.join(",")
        ));
    }
    Termination::new(Code::MntReversalBlocksSettlement).with_detail(&format!(
        "{} / {}",
        zh.join("；"),
        en.join("; ")
    ))
}

/// Settlement waits for chip uploads and advices (offline sales, unanswered refunds) the host has
/// not taken: the STANs of the transactions.
pub(crate) fn uploads_block_settlement(stans: &[u32]) -> Termination {
    let list = stans
        .iter()
        .map(|s| format!("{s:06}"))
        .collect::<Vec<_>>()
        .join(",");
    Termination::new(Code::MntUploadsBlockSettlement).with_detail(&format!(
        "待上送 {} 笔（流水号 {list}），主机可达后自动上送再结算 / {} pending (STAN {list}), \
         uploaded automatically once the host answers; settle again then",
        stans.len(),
        stans.len()
    ))
}

/// Settlement waits for e-signature uploads that still have attempts left.
pub(crate) fn esign_blocks_settlement(stans: &[u32]) -> Termination {
    let list = stans
        .iter()
        .map(|s| format!("{s:06}"))
        .collect::<Vec<_>>()
        .join(",");
    Termination::new(Code::MntEsignBlocksSettlement).with_detail(&format!(
        "电子签名待上送 {} 笔（流水号 {list}），请稍后再结算 / {} e-signature(s) pending \
         (STAN {list}); settle again once they are uploaded",
        stans.len(),
        stans.len()
    ))
}

/// A journaled termination code rebuilt into its full explanation.
pub(crate) fn recorded(code: Option<&str>) -> Termination {
    code.and_then(|c| c.parse::<Code>().ok())
        .map(Termination::new)
        .unwrap_or_else(|| Termination::new(Code::NetTimeout))
}

/// Payments refused while a corrupt journal waits for the operator.
pub(crate) fn storage_corrupt(fault: &crate::txn::terminal::StorageFault) -> Termination {
    let moved = fault
        .moved_to
        .first()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    Termination::new(Code::SwStorageCorrupt).with_detail(&format!(
        "已移至 / moved to {moved}; 请操作员确认 / operator must acknowledge"
    ))
}
