//! The contact kernel: the steps of EMV 4.4 Book 3 §10 in order, up to the first GENERATE AC
//! ([`ContactKernel::start`]) and, after the host, completion ([`ContactKernel::complete`]).

use serde::{Deserialize, Serialize};

use super::action::{self, ActionCodes};
use super::bits::{Tsi, TsiBit, Tvr, TvrBit};
use super::channel::{Card, ChannelError, IccChannel};
use super::cvm::{self, CvmContext, CvmHandler, CvmOutcome};
use super::data::{TagStore, bcd_u64};
use super::field55;
use super::genac::{self, AcResponse};
use super::oda::{self, OdaMethod, OdaResult, OdaState, OdaVerifier};
use super::outcome::{
    AcRecord, AcType, FallbackReason, FirstAcDecision, IccCardData, IccRequest, TerminationReason,
};
use super::params::{AidParams, TerminalParams};
use super::records::{self, GpoEnd, channel_reason};
use super::restrict;
use super::risk::{self, RiskInputs};
use super::select::{self, ApplicationChooser, SelectionEnd};
use super::txn_data::{TransactionData, put_terminal_data};
use crate::card::{Pan, Track2};
use crate::codec::tlv;

/// Terminal parameters and the AID table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KernelConfig {
    pub terminal: TerminalParams,
    pub aids: Vec<AidParams>,
}

/// What terminal risk management asks of the terminal.
pub trait RiskSource {
    /// A random number 1..=99 for §10.6.2.
    fn random_percent(&mut self) -> u8;
    /// Whether the PAN is on the exception file (the risk hot list).
    fn on_exception_file(&self, pan: &Pan) -> bool;
    /// Approved offline amounts in the terminal's log for this PAN (§10.6.1).
    fn same_card_log_fen(&self, _pan: &Pan) -> u64 {
        0
    }
}

/// The kernel's collaborators, all adapters the engine provides.
#[allow(missing_debug_implementations)]
pub struct KernelPorts<'a> {
    pub chooser: &'a mut dyn ApplicationChooser,
    pub cvm: &'a mut dyn CvmHandler,
    pub oda: &'a dyn OdaVerifier,
    pub risk: &'a mut dyn RiskSource,
}

/// Where the transaction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Selecting,
    ReadingRecords,
    AwaitingHost,
    Completed,
    Ended,
}

/// The journalable part of the kernel's state: no card data beyond the AID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KernelSnapshot {
    pub step: Step,
    #[serde(with = "hex_vec")]
    pub aid: Vec<u8>,
    pub tvr: Tvr,
    pub tsi: Tsi,
    pub cvm_results: [u8; 3],
    pub oda_method: OdaMethod,
    pub oda_result: OdaResult,
    pub acs: Vec<AcRecord>,
}

mod hex_vec {
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode_upper(v))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        hex::decode(String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// One contact transaction.
#[derive(Debug, Clone)]
pub struct ContactKernel {
    pub(super) terminal: TerminalParams,
    pub(super) aid_params: Option<AidParams>,
    pub(super) txn: TransactionData,
    pub(super) store: TagStore,
    pub(super) tvr: Tvr,
    pub(super) tsi: Tsi,
    pub(super) aid: Vec<u8>,
    pub(super) label: String,
    pub(super) oda: OdaState,
    pub(super) cvm: CvmOutcome,
    pub(super) acs: Vec<AcRecord>,
    pub(super) pdol_data: Vec<u8>,
    /// CDOL1 values of the first GENERATE AC, for the CDA hash of the second.
    pub(super) cdol1_data: Option<Vec<u8>>,
    pub(super) step: Step,
}

enum Stop {
    Terminate(TerminationReason),
    Fallback(FallbackReason),
}

impl From<TerminationReason> for Stop {
    fn from(r: TerminationReason) -> Self {
        Stop::Terminate(r)
    }
}

impl From<ChannelError> for Stop {
    fn from(e: ChannelError) -> Self {
        Stop::Terminate(channel_reason(e))
    }
}

impl ContactKernel {
    fn new(config: &KernelConfig, txn: TransactionData) -> ContactKernel {
        ContactKernel {
            terminal: config.terminal.clone(),
            aid_params: None,
            txn,
            store: TagStore::default(),
            tvr: Tvr::default(),
            tsi: Tsi::default(),
            aid: Vec::new(),
            label: String::new(),
            oda: OdaState {
                method: OdaMethod::None,
                result: OdaResult::NotPerformed,
                icc_key: None,
                cda_pending: false,
            },
            cvm: CvmOutcome {
                results: [0x3F, 0, 0],
                signature_required: false,
                online_pin: false,
            },
            acs: Vec::new(),
            pdol_data: Vec::new(),
            cdol1_data: None,
            step: Step::Selecting,
        }
    }

    /// Runs the transaction from application selection to the first GENERATE AC.
    pub fn start(
        config: &KernelConfig,
        txn: TransactionData,
        channel: &mut dyn IccChannel,
        ports: KernelPorts,
    ) -> (ContactKernel, FirstAcDecision) {
        let mut k = ContactKernel::new(config, txn);
        let mut card = Card::new(channel);
        let decision = match k.run_first(config, &mut card, ports) {
            Ok(d) => d,
            Err(Stop::Terminate(r)) => FirstAcDecision::Terminated(r),
            Err(Stop::Fallback(r)) => FirstAcDecision::FallbackToMagstripe(r),
        };
        k.step = match decision {
            FirstAcDecision::Online(_) => Step::AwaitingHost,
            _ => Step::Ended,
        };
        (k, decision)
    }

    pub fn snapshot(&self) -> KernelSnapshot {
        KernelSnapshot {
            step: self.step,
            aid: self.aid.clone(),
            tvr: self.tvr,
            tsi: self.tsi,
            cvm_results: self.cvm.results,
            oda_method: self.oda.method,
            oda_result: self.oda.result,
            acs: self.acs.clone(),
        }
    }

    /// The data objects of the transaction (card values are `Zeroizing`; Debug shows tags only).
    pub fn data(&self) -> &TagStore {
        &self.store
    }

    fn select_and_initiate(
        &mut self,
        config: &KernelConfig,
        card: &mut Card,
        chooser: &mut dyn ApplicationChooser,
    ) -> Result<records::Gpo, Stop> {
        let can_confirm = config.terminal.supports_cardholder_confirmation;
        let mut list = match select::candidates(card, &config.aids, can_confirm) {
            Ok(l) => l,
            Err(e) => return Err(selection_stop(e)),
        };
        loop {
            if list.is_empty() {
                return Err(Stop::Terminate(TerminationReason::NoApplicationAccepted));
            }
            let cand = select::choose(&mut list, chooser, can_confirm).map_err(|e| match e {
                SelectionEnd::CardholderDeclined => {
                    Stop::Terminate(TerminationReason::CardholderDeclinedApplication)
                }
                other => selection_stop(other),
            })?;
            let Some(fci) = select::final_select(card, &cand)? else {
                continue;
            };
            self.store.clear_card();
            self.tvr = Tvr::default();
            self.tsi = Tsi::default();
            self.store
                .add_card_objects(&fci)
                .map_err(|_| TerminationReason::DuplicateData)?;
            let params = config
                .aids
                .get(cand.aid_index)
                .cloned()
                .ok_or(TerminationReason::NoApplicationAccepted)?;
            put_terminal_data(&mut self.store, &config.terminal, &params, &self.txn);
            self.sync_terminal_tags();
            if let Some(df) = tlv::find(&fci, 0x84).and_then(tlv::Tlv::bytes) {
                self.store.set_card(0x84, df);
            }
            self.pdol_data = self.pdol_data_now();
            match records::get_processing_options(card, &mut self.store) {
                Ok(gpo) => {
                    self.aid = cand.adf.clone();
                    self.label = cand.label.clone();
                    self.aid_params = Some(params);
                    return Ok(gpo);
                }
                Err(GpoEnd::ConditionsNotSatisfied) => continue,
                Err(GpoEnd::Terminate(r)) => return Err(r.into()),
                Err(GpoEnd::Channel(e)) => return Err(e.into()),
            }
        }
    }

    fn pdol_data_now(&self) -> Vec<u8> {
        self.store
            .card(0x9F38)
            .and_then(|p| super::dol::parse(p).ok())
            .map(|d| super::dol::build(&d, |t| self.store.get(t)))
            .unwrap_or_default()
    }

    pub(super) fn sync_terminal_tags(&mut self) {
        self.store.set_terminal(0x95, self.tvr.0);
        self.store.set_terminal(0x9B, self.tsi.0);
        self.store.set_terminal(0x9F34, self.cvm.results);
    }

    fn run_first(
        &mut self,
        config: &KernelConfig,
        card: &mut Card,
        ports: KernelPorts,
    ) -> Result<FirstAcDecision, Stop> {
        let gpo = self.select_and_initiate(config, card, ports.chooser)?;
        self.step = Step::ReadingRecords;
        let mut sd = records::read_records(card, &mut self.store, &gpo.afl)?;
        records::add_tag_list(&self.store, &mut sd);
        records::check_mandatory(&self.store)?;
        let pan = pan_of(&self.store).ok_or(TerminationReason::CardProtocolError)?;
        let aid = self
            .aid_params
            .clone()
            .ok_or(TerminationReason::NoApplicationAccepted)?;

        self.oda = oda::authenticate(
            card,
            &self.store,
            &self.terminal,
            &aid,
            &sd.bytes,
            sd.malformed,
            ports.oda,
            &mut self.tvr,
            &mut self.tsi,
        )?;
        restrict::processing_restrictions(&self.store, &self.terminal, &self.txn, &mut self.tvr);
        let ctx = CvmContext {
            store: &self.store,
            terminal: &self.terminal,
            txn: &self.txn,
            pan: Some(&pan),
            // Book 2 §7.1: the separate PIN key when the card has one, else the ICC key.
            pin_key: ports
                .oda
                .recover_pin_key(&self.store)
                .or_else(|| self.oda.icc_key.clone())
                .map(|k| (k.modulus, k.exponent)),
        };
        self.cvm = cvm::perform(card, &ctx, ports.cvm, &mut self.tvr, &mut self.tsi)?;
        if gpo.aip[0] & 0x08 != 0 {
            let inputs = RiskInputs {
                random: ports.risk.random_percent().clamp(1, 99),
                on_exception_file: ports.risk.on_exception_file(&pan),
                same_card_log_fen: ports.risk.same_card_log_fen(&pan),
            };
            risk::terminal_risk_management(
                card,
                &self.store,
                &aid,
                self.txn.amount_fen,
                inputs,
                &mut self.tvr,
                &mut self.tsi,
            )?;
        }
        if self.txn.merchant_forced_online {
            self.tvr.set(TvrBit::MerchantForcedOnline);
        }

        let iac = ActionCodes::issuer(&self.store);
        let tac = ActionCodes::terminal(&aid);
        let requested = action::first_ac(&self.tvr, &iac, &tac, self.terminal.online_capable());
        let cda = self.oda.cda_pending && requested != AcType::Aac;
        self.sync_terminal_tags();
        let resp = genac::generate_ac(card, &mut self.store, requested, cda, 0x8C)?;
        self.tsi.set(TsiBit::CardRiskManagementPerformed);
        let (cda_ok, recovered) = self.finish_cda(&resp, cda, ports.oda);
        self.cdol1_data = Some(resp.cdol_data.clone());
        let mut record = resp.record();
        if let Some(ac) = recovered {
            record.cryptogram = ac;
        }
        self.acs.push(record);
        self.sync_terminal_tags();
        let request = self.icc_request(pan);
        Ok(match (resp.kind, cda_ok) {
            (_, false) | (AcType::Aac, _) => FirstAcDecision::DeclinedOffline(request),
            (AcType::Arqc, true) => FirstAcDecision::Online(request),
            (AcType::Tc, true) => FirstAcDecision::ApprovedOffline(request),
        })
    }

    /// Verifies a CDA signature on a TC or ARQC: `false` when CDA failed (the transaction is
    /// then declined, Book 3 §10.8), and the cryptogram the signature carried.
    pub(super) fn finish_cda(
        &mut self,
        resp: &AcResponse,
        requested_cda: bool,
        verifier: &dyn OdaVerifier,
    ) -> (bool, Option<[u8; 8]>) {
        if !requested_cda || resp.kind == AcType::Aac {
            return (true, None);
        }
        self.tsi.set(TsiBit::OdaPerformed);
        let verdict = match (&self.oda.icc_key, &resp.sdad) {
            (Some(key), Some(sdad)) => {
                // Book 2 §6.6.1: PDOL values, CDOL1 values (and CDOL2 values at the second
                // GENERATE AC), then the answer's objects as received except 9F4B.
                let mut cdols: Vec<&[u8]> = Vec::new();
                if let Some(first) = &self.cdol1_data {
                    cdols.push(first);
                }
                cdols.push(&resp.cdol_data);
                crate::card::oda::cda_transaction_data(&self.pdol_data, &cdols, &resp.template)
                    .map_err(|_| oda::OdaError::Failed)
                    .and_then(|input| {
                        verifier.verify_cda(
                            key,
                            sdad,
                            &self.txn.unpredictable_number,
                            resp.cid,
                            &input,
                        )
                    })
            }
            _ => Err(oda::OdaError::IccDataMissing),
        };
        match verdict {
            Ok(ac) => {
                self.store.set_card(0x9F26, &ac);
                self.oda.result = OdaResult::Ok;
                (true, Some(ac))
            }
            Err(_) => {
                self.tvr.set(TvrBit::CdaFailed);
                self.oda.result = OdaResult::Failed;
                (false, None)
            }
        }
    }

    pub(super) fn icc_request(&self, pan: Pan) -> IccRequest {
        let s = &self.store;
        let expiry = s
            .card(0x5F24)
            .and_then(|v| <[u8; 3]>::try_from(v).ok())
            .unwrap_or_default();
        IccRequest {
            card: IccCardData {
                pan,
                pan_sequence: s
                    .card(0x5F34)
                    .and_then(bcd_u64)
                    .and_then(|n| u8::try_from(n).ok()),
                track2: s.card(0x57).and_then(|v| Track2::from_nibbles(v).ok()),
                expiry,
                aid: self.aid.clone(),
                label: self.label.clone(),
            },
            field55: field55::build(s),
            signature_required: self.cvm.signature_required,
            online_pin: self.cvm.online_pin,
        }
    }
}

/// A chip that gives no status word to the first SELECTs is not an EMV chip a terminal can
/// use: a swipe is the way on.
fn selection_stop(e: SelectionEnd) -> Stop {
    match e {
        SelectionEnd::CardBlocked => Stop::Terminate(TerminationReason::CardBlocked),
        SelectionEnd::NoCandidates => Stop::Fallback(FallbackReason::NoMutualApplication),
        SelectionEnd::CardholderDeclined => {
            Stop::Terminate(TerminationReason::CardholderDeclinedApplication)
        }
        SelectionEnd::NoneAccepted => Stop::Terminate(TerminationReason::NoApplicationAccepted),
        SelectionEnd::Channel(ChannelError::NoStatusWord) => {
            Stop::Fallback(FallbackReason::ChipNotResponding)
        }
        SelectionEnd::Channel(e) => Stop::Terminate(channel_reason(e)),
    }
}

/// The PAN from 5A (compressed numeric, F-padded).
pub(super) fn pan_of(store: &TagStore) -> Option<Pan> {
    let digits = zeroize::Zeroizing::new(hex::encode_upper(store.card(0x5A)?));
    Pan::parse(digits.trim_end_matches('F')).ok()
}
