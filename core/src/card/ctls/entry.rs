//! The entry point (EMV Contactless Book B §3): pre-processing, SELECT of the PPSE
//! `2PAY.SYS.DDF01`, combination selection by AID and kernel identifier (9F2A) ordered by the
//! cards' priorities, final SELECT, kernel activation, and the restarts a kernel asks for
//! (select next). It does no I/O of its own: the card is an `IccChannel`.

use serde::{Deserialize, Serialize};

use crate::card::emv::bits::{Tsi, Tvr};
use crate::card::emv::channel::{Card, IccChannel, cmd};
use crate::card::emv::data::TagStore;
use crate::card::emv::kernel::{KernelSnapshot, Step};
use crate::card::emv::txn_data::put_terminal_data;
use crate::card::emv::{
    OdaMethod, OdaResult, OdaVerifier, TerminalParams, TerminationReason, TransactionData,
};
use crate::codec::tlv::{self, Tlv};

use super::outcome::{CtlsCvm, CtlsOutcome, InsertReason, UiRequest, UiSink};
use super::params::{CtlsAid, KernelId};
use super::preprocess::{self, Indicators};
use super::tap::{Stop, TapState};
use super::{mchip, quick};

const PPSE: &[u8] = b"2PAY.SYS.DDF01";

/// The reader's contactless configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CtlsConfig {
    pub terminal: TerminalParams,
    pub aids: Vec<CtlsAid>,
}

/// The tap's collaborators: the ODA cryptography and where UI requests go.
#[allow(missing_debug_implementations)]
pub struct CtlsPorts<'a> {
    pub oda: &'a dyn OdaVerifier,
    pub ui: &'a mut dyn UiSink,
}

/// One candidate of combination selection (Book B §3.3.2).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Candidate {
    adf: Vec<u8>,
    label: String,
    /// 87 low nibble; 0 (none) sorts last.
    priority: u8,
    row: usize,
    order: usize,
}

/// What is left of a tap after the outcome: the journalable snapshot and the data objects.
#[derive(Debug, Clone)]
pub struct CtlsTap {
    pub kernel: Option<KernelId>,
    /// The TTQ the card was sent (9F66), when a kernel ran.
    pub ttq: Option<[u8; 4]>,
    snapshot: KernelSnapshot,
    store: TagStore,
}

impl CtlsTap {
    /// AID, TVR, TSI, CVM results, ODA method and result, cryptograms: no card data.
    pub fn snapshot(&self) -> &KernelSnapshot {
        &self.snapshot
    }

    /// The data objects of the tap (card values zeroized; Debug shows tags only).
    pub fn data(&self) -> &TagStore {
        &self.store
    }
}

/// Whether the amount can be tapped at all (Book A §3.1.1): the engine asks before it shows
/// "present card"; `Err` means insert instead.
pub fn pre_process(config: &CtlsConfig, amount_fen: u64) -> Result<Vec<Indicators>, InsertReason> {
    let online = config.terminal.online_capable();
    let ind: Vec<Indicators> = config
        .aids
        .iter()
        .map(|a| preprocess::indicators(a, amount_fen, online))
        .collect();
    if ind.iter().all(|i| i.not_allowed) {
        return Err(InsertReason::OverContactlessLimit);
    }
    Ok(ind)
}

/// Before the card is in the field: "present card" when the amount can be tapped, "insert
/// card" (and the reason) when it cannot. The engine calls this, then waits for the tap.
pub fn ready(
    config: &CtlsConfig,
    amount_fen: u64,
    ui: &mut dyn UiSink,
) -> Result<(), InsertReason> {
    match pre_process(config, amount_fen) {
        Ok(_) => {
            ui.ui(UiRequest::PresentCard);
            Ok(())
        }
        Err(r) => {
            ui.ui(UiRequest::InsertCard);
            Err(r)
        }
    }
}

/// Runs one tap with the card in the field, from the PPSE to the kernel's outcome. UI requests
/// go to `ports.ui` as they happen; "card read OK" comes the moment the card is no longer
/// needed, before any host exchange.
pub fn start(
    config: &CtlsConfig,
    txn: TransactionData,
    channel: &mut dyn IccChannel,
    ports: CtlsPorts,
) -> (CtlsTap, CtlsOutcome) {
    let mut tap = CtlsTap {
        kernel: None,
        ttq: None,
        snapshot: KernelSnapshot {
            step: Step::Selecting,
            aid: Vec::new(),
            tvr: Tvr::default(),
            tsi: Tsi::default(),
            cvm_results: [0x3F, 0, 0],
            oda_method: OdaMethod::None,
            oda_result: OdaResult::NotPerformed,
            acs: Vec::new(),
        },
        store: TagStore::default(),
    };
    let outcome = match pre_process(config, txn.amount_fen) {
        Err(r) => CtlsOutcome::TryAnotherInterface(r),
        Ok(ind) => {
            ports.ui.ui(UiRequest::Processing);
            let mut card = Card::new(channel);
            run(config, &txn, &ind, &mut card, ports.oda, ports.ui, &mut tap)
        }
    };
    tap.snapshot.step = match outcome {
        CtlsOutcome::OnlineRequest(_) => Step::AwaitingHost,
        _ => Step::Ended,
    };
    ports.ui.ui(match &outcome {
        CtlsOutcome::OnlineRequest(r) if r.cvm == CtlsCvm::OnlinePin => UiRequest::EnterPin,
        CtlsOutcome::OnlineRequest(_) => UiRequest::Processing,
        CtlsOutcome::Approved(_) => UiRequest::Approved,
        CtlsOutcome::Declined(_) => UiRequest::Declined,
        CtlsOutcome::TryAgain => UiRequest::TryAgain,
        CtlsOutcome::SeePhone => UiRequest::SeePhone,
        CtlsOutcome::TryAnotherInterface(_) | CtlsOutcome::EndApplication(_) => {
            UiRequest::InsertCard
        }
    });
    (tap, outcome)
}

#[allow(clippy::too_many_arguments)]
fn run(
    config: &CtlsConfig,
    txn: &TransactionData,
    ind: &[Indicators],
    card: &mut Card,
    oda: &dyn OdaVerifier,
    ui: &mut dyn UiSink,
    tap: &mut CtlsTap,
) -> CtlsOutcome {
    let mut list = match candidates(card, config, ind) {
        Ok(l) => l,
        Err(stop) => return stop_outcome(stop),
    };
    while !list.is_empty() {
        let cand = list.remove(0);
        let Some(row) = config.aids.get(cand.row) else {
            continue;
        };
        let r = match card.send(&cmd::select(&cand.adf, false)) {
            Ok(r) => r,
            Err(e) => return stop_outcome(Stop::from(e)),
        };
        let Some(fci) = r
            .ok()
            .then(|| tlv::parse(&r.data).ok())
            .flatten()
            .filter(|f| f.iter().any(|o| o.tag == 0x6F))
        else {
            continue;
        };
        let ind = ind.get(cand.row).copied().unwrap_or_else(|| {
            preprocess::indicators(row, txn.amount_fen, config.terminal.online_capable())
        });
        let mut st = TapState {
            terminal: config.terminal.clone(),
            txn: txn.clone(),
            row: row.clone(),
            ind,
            store: TagStore::default(),
            tvr: Tvr::default(),
            tsi: Tsi::default(),
            cvm_results: [0x3F, 0, 0],
            oda_method: OdaMethod::None,
            oda_result: OdaResult::NotPerformed,
            acs: Vec::new(),
            aid: cand.adf.clone(),
            label: cand.label.clone(),
            pdol_data: Vec::new(),
        };
        if st.store.add_card_objects(&fci).is_err() {
            return CtlsOutcome::EndApplication(TerminationReason::DuplicateData);
        }
        put_terminal_data(&mut st.store, &st.terminal, &row.contact, txn);
        let floor = u32::try_from(row.floor_limit_fen).unwrap_or(u32::MAX);
        st.store.set_terminal(0x9F1B, floor.to_be_bytes());
        st.store.set_terminal(0x9F66, ind.ttq);
        st.store.set_terminal(0x95, [0u8; 5]);
        st.store.set_terminal(0x9F34, st.cvm_results);
        if let Some(df) = tlv::find(&fci, 0x84).and_then(Tlv::bytes) {
            st.store.set_card(0x84, df);
        }
        tap.kernel = Some(row.kernel);
        tap.ttq = Some(ind.ttq);
        let result = match row.kernel {
            KernelId::UnionPay | KernelId::Visa => quick::run(&mut st, card, oda, ui),
            KernelId::Mastercard => mchip::run(&mut st, card, oda, ui),
        };
        tap.snapshot.aid = st.aid.clone();
        tap.snapshot.tvr = st.tvr;
        tap.snapshot.tsi = st.tsi;
        tap.snapshot.cvm_results = st.cvm_results;
        tap.snapshot.oda_method = st.oda_method;
        tap.snapshot.oda_result = st.oda_result;
        tap.snapshot.acs = st.acs.clone();
        tap.store = st.store;
        match result {
            Ok(outcome) => return outcome,
            Err(Stop::SelectNext) => continue,
            Err(stop) => return stop_outcome(stop),
        }
    }
    CtlsOutcome::TryAnotherInterface(InsertReason::NoMutualApplication)
}

fn stop_outcome(stop: Stop) -> CtlsOutcome {
    match stop {
        Stop::Outcome(o) => o,
        Stop::Terminate(r) => CtlsOutcome::EndApplication(r),
        Stop::SelectNext => CtlsOutcome::TryAnotherInterface(InsertReason::NoMutualApplication),
    }
}

/// Book B §3.3.2: the PPSE's directory entries (61 in BF0C) matched against the allowed
/// combinations by AID (exact, or partial where the row allows) and kernel identifier (9F2A;
/// absent: the row's kernel), then ordered by priority, directory order breaking ties.
fn candidates(
    card: &mut Card,
    config: &CtlsConfig,
    ind: &[Indicators],
) -> Result<Vec<Candidate>, Stop> {
    let r = card.send(&cmd::select(PPSE, false))?;
    if r.sw == 0x6A81 {
        return Err(Stop::Terminate(TerminationReason::CardBlocked));
    }
    let no_app = || {
        Stop::Outcome(CtlsOutcome::TryAnotherInterface(
            InsertReason::NoMutualApplication,
        ))
    };
    if !r.ok() {
        return Err(no_app());
    }
    let fci = tlv::parse(&r.data).map_err(|_| no_app())?;
    let entries = tlv::find(&fci, 0xBF0C)
        .map(|d| {
            d.children()
                .iter()
                .filter(|o| o.tag == 0x61)
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let mut out = Vec::new();
    for (order, entry) in entries.iter().enumerate() {
        let objs = entry.children();
        let Some(adf) = tlv::find(objs, 0x4F).and_then(Tlv::bytes) else {
            continue;
        };
        let kernel = tlv::find(objs, 0x9F2A)
            .and_then(Tlv::bytes)
            .and_then(|v| v.first().copied());
        let label = tlv::find(objs, 0x50)
            .and_then(Tlv::bytes)
            .map(|v| {
                v.iter()
                    .filter(|b| b.is_ascii_graphic() || **b == b' ')
                    .map(|&b| char::from(b))
                    .collect::<String>()
            })
            .unwrap_or_default();
        let priority = tlv::find(objs, 0x87)
            .and_then(Tlv::bytes)
            .and_then(|v| v.first())
            .map_or(0, |p| p & 0x0F);
        for (i, row) in config.aids.iter().enumerate() {
            let aid = &row.contact.aid;
            let aid_ok = adf == aid.as_slice()
                || (row.contact.partial_selection && adf.len() > aid.len() && adf.starts_with(aid));
            let kernel_ok = kernel.is_none_or(|k| k == row.kernel.code());
            let allowed = ind.get(i).is_some_and(|x| !x.not_allowed);
            if aid_ok && kernel_ok && allowed {
                out.push(Candidate {
                    adf: adf.to_vec(),
                    label: label.clone(),
                    priority,
                    row: i,
                    order,
                });
                break;
            }
        }
    }
    if out.is_empty() {
        // A card with no combination left for this amount: was any AID over its limit?
        let over = entries.iter().any(|e| {
            tlv::find(e.children(), 0x4F)
                .and_then(Tlv::bytes)
                .is_some_and(|adf| {
                    config
                        .aids
                        .iter()
                        .zip(ind)
                        .any(|(row, x)| x.not_allowed && adf.starts_with(&row.contact.aid))
                })
        });
        return Err(Stop::Outcome(CtlsOutcome::TryAnotherInterface(if over {
            InsertReason::OverContactlessLimit
        } else {
            InsertReason::NoMutualApplication
        })));
    }
    out.sort_by_key(|c| (if c.priority == 0 { 16 } else { c.priority }, c.order));
    Ok(out)
}
