//! The inserted card: the contact kernel (`card::emv`) run over the shell's ports. The kernel
//! does no I/O; this module gives it the card reader as its channel, the PIN pad and the PED as
//! its CVM handler, the prompt as the cardholder's application choice, the CA key table as its
//! offline data authentication, and the risk hot list as its exception file. What comes back is
//! a fact the engine acts on: go online with field 55, fall back to the swipe (the chip failed
//! on this terminal), or end with an explained termination.

use std::sync::Mutex;
use std::time::Duration;

use crate::card::emv::{
    ApplicationChooser, CaKeyVerifier, Candidate, CompletionReport, ContactKernel, CvmHandler,
    EcBalance, FallbackReason, FirstAcDecision, HostAnswer, IccRequest, KernelConfig, KernelPorts,
    OnlinePinEntry, ReaderChannel, RiskSource, TerminalParams, TerminationReason, TransactionData,
    default_aids, ec_balance,
};
use crate::card::oda::{CaKeyTable, RevocationList};
use crate::card::{EntryConditions, EntryMode, Pan, PinCapability};
use crate::codec::iso8583::Message;
use crate::codec::tlv;
use crate::crypto::{EncryptedPinBlock, OfflinePinRequest, OfflinePinResult};
use crate::diag::Termination;
use crate::ports::{Audience, Confirmation, DeviceFault, PinPad, Prompt, PromptText};
use crate::txn::endings;
use crate::txn::kind::TxnKind;
use crate::txn::terminal::Terminal;

/// How long the cardholder has to confirm an application.
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(30);

/// The chip parameters of a terminal: the kernel's terminal data and AID table, the CA public
/// keys and the revoked issuer certificates. Data the acquirer may update (IC parameter and CA
/// key downloads), so it lives beside the `TerminalConfig` rather than in its literal.
#[derive(Debug, Clone)]
pub struct ChipConfig {
    pub kernel: KernelConfig,
    pub ca_keys: CaKeyTable,
    pub revocations: RevocationList,
}

impl ChipConfig {
    /// UnionPay attended POS parameters, the default AID table and the published production CA
    /// keys of UnionPay, Visa and Mastercard.
    pub fn production() -> ChipConfig {
        ChipConfig {
            kernel: KernelConfig {
                terminal: TerminalParams::unionpay_attended(),
                aids: default_aids(),
            },
            ca_keys: CaKeyTable::production().unwrap_or_else(|e| {
                // The shipped table is checked by a unit test; a checksum failure here means a
                // corrupted build, and ODA then fails closed (CA key missing) rather than trust it.
                log::error!("CA key table: {e}");
                CaKeyTable::new()
            }),
            revocations: RevocationList::new(),
        }
    }
}

/// A card whose first GENERATE AC asked to go online: the kernel waits for the host's answer
/// to finish (issuer authentication, scripts, second GENERATE AC).
pub(crate) struct Inserted {
    /// `None` for a tapped card: it left the field before the host was asked, so the host's
    /// answer completes the transaction without a second GENERATE AC.
    kernel: Option<Mutex<ContactKernel>>,
    pub request: IccRequest,
    pub pin: Option<EncryptedPinBlock>,
    pub entry: EntryConditions,
    /// The card approved offline (TC at the first GENERATE AC, Y1): nothing goes online; the
    /// sale is journaled approved and uploaded as an advice.
    pub approved_offline: bool,
}

impl std::fmt::Debug for Inserted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inserted")
            .field("pan", &self.request.card.pan)
            .field("entry", &self.entry)
            .finish_non_exhaustive()
    }
}

impl Inserted {
    /// A tapped card's request: the kernel is done and the card is gone.
    pub(crate) fn tapped(
        request: IccRequest,
        pin: Option<EncryptedPinBlock>,
        entry: EntryConditions,
        approved_offline: bool,
    ) -> Inserted {
        Inserted {
            kernel: None,
            request,
            pin,
            entry,
            approved_offline,
        }
    }
}

/// How reading the chip ended when it did not ask to go online.
#[derive(Debug)]
pub(crate) enum ChipEnd {
    /// The chip cannot be used on this terminal: a swipe of the same card is a fallback.
    Fallback(FallbackReason),
    Terminated(Termination),
}

impl Terminal {
    /// The chip parameters in force.
    pub fn chip_config(&self) -> ChipConfig {
        self.chip
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Replaces the chip parameters (an IC parameter or CA key download, or a test acquirer's
    /// CA key); the next inserted card uses them.
    pub fn configure_chip(&self, config: ChipConfig) {
        *self
            .chip
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = config;
    }

    /// The electronic cash (EC) balance of the inserted card, read from the chip (GET DATA 9F79
    /// after SELECT): offline, nothing journaled, nothing sent. A swiped card, or a chip with no
    /// EC application, ends with an explained termination.
    pub fn ec_balance(&self) -> Result<EcBalance, Termination> {
        let _one = self.exclusive();
        let presented = self
            .ports
            .card_reader
            .detect(self.config.card_timeout)
            .map_err(|f| endings::from_device(&f))?;
        if presented != crate::ports::CardPresentation::ContactChip {
            return Err(endings::entry_not_supported());
        }
        let mut config = self.chip_config().kernel;
        self.fill_terminal_params(&mut config.terminal);
        let mut chooser = PromptChooser {
            prompt: self.ports.prompt.as_deref(),
        };
        let mut channel = ReaderChannel(&*self.ports.card_reader);
        let read = ec_balance(&config, &mut channel, &mut chooser);
        if let Err(f) = self.ports.card_reader.remove_card() {
            log::warn!("card reader: card not released: {f}");
        }
        read.map_err(chip_termination)
    }

    /// Runs the kernel on the inserted card up to its first GENERATE AC.
    pub(crate) fn read_inserted(
        &self,
        kind: TxnKind,
        amount_fen: u64,
    ) -> Result<Inserted, ChipEnd> {
        let chip = self.chip_config();
        let mut config = chip.kernel.clone();
        self.fill_terminal_params(&mut config.terminal);
        // Only a sale may be approved offline (its upload is an offline-sale advice); every
        // other kind goes online whatever the AID's floor limit says.
        if kind != TxnKind::Sale {
            for aid in &mut config.aids {
                aid.floor_limit_fen = 0;
            }
        }
        let txn = self.chip_transaction(kind, amount_fen);
        let oda = oda_verifier(&chip);
        let mut cvm = PinPadCvm {
            pin_pad: &*self.ports.pin_pad,
            vault: &*self.ports.vault,
            block: None,
        };
        let mut chooser = PromptChooser {
            prompt: self.ports.prompt.as_deref(),
        };
        let mut risk = TerminalRisk { terminal: self };
        let mut channel = ReaderChannel(&*self.ports.card_reader);
        let (kernel, decision) = ContactKernel::start(
            &config,
            txn,
            &mut channel,
            KernelPorts {
                chooser: &mut chooser,
                cvm: &mut cvm,
                oda: &oda,
                risk: &mut risk,
            },
        );
        let snapshot = kernel.snapshot();
        log::info!(
            "chip: AID {} ODA {} ({:?}) TVR {} CVM {}",
            hex::encode_upper(&snapshot.aid),
            snapshot.oda_method.name(),
            snapshot.oda_result,
            hex::encode_upper(snapshot.tvr.0),
            hex::encode_upper(snapshot.cvm_results),
        );
        let entry = EntryConditions::new(
            EntryMode::ContactChip,
            PinCapability::CanAcceptPin,
            self.config.read_capability,
        );
        match decision {
            FirstAcDecision::Online(request) => Ok(Inserted {
                kernel: Some(Mutex::new(kernel)),
                request,
                pin: cvm.block.take(),
                entry,
                approved_offline: false,
            }),
            FirstAcDecision::ApprovedOffline(request) if kind == TxnKind::Sale => Ok(Inserted {
                kernel: Some(Mutex::new(kernel)),
                request,
                pin: cvm.block.take(),
                entry,
                approved_offline: true,
            }),
            FirstAcDecision::FallbackToMagstripe(reason) => Err(ChipEnd::Fallback(reason)),
            FirstAcDecision::DeclinedOffline(_) => {
                Err(ChipEnd::Terminated(endings::chip_declined()))
            }
            // Other kinds run with a zero floor limit, so the kernel does not ask for a TC; a
            // card that approves offline anyway is not charged for it (nothing is uploaded),
            // and the merchant is told to take the payment again.
            FirstAcDecision::ApprovedOffline(_) => {
                log::warn!("chip: offline approval of a {} not taken", kind.name());
                Err(ChipEnd::Terminated(endings::chip_error()))
            }
            FirstAcDecision::TryAnotherInterface => {
                Err(ChipEnd::Terminated(endings::entry_not_supported()))
            }
            FirstAcDecision::Terminated(reason) => {
                Err(ChipEnd::Terminated(chip_termination(reason)))
            }
        }
    }

    /// Finishes the card after the host: `None` when no answer came (the kernel then decides
    /// by default action analysis, ARC Z3). The report carries the card's final data (the TC
    /// for its upload) and the results of the issuer scripts it ran. A tapped card has no
    /// completion (`None`): the host's answer is the end of it.
    pub(crate) fn complete_inserted(
        &self,
        inserted: &Inserted,
        response: Option<&Message>,
    ) -> Option<CompletionReport> {
        let kernel = inserted.kernel.as_ref()?;
        let host = match response {
            Some(r) => host_answer(r),
            None => HostAnswer::default(),
        };
        let oda = oda_verifier(&self.chip_config());
        let mut channel = ReaderChannel(&*self.ports.card_reader);
        let mut kernel = kernel
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let report = kernel.complete(&host, &mut channel, &oda);
        log::info!(
            "chip: completion {:?}, {} script result byte(s)",
            report.completion,
            report.script_results.len()
        );
        Some(report)
    }

    pub(crate) fn fill_terminal_params(&self, t: &mut TerminalParams) {
        copy_ascii(&mut t.terminal_id, &self.config.terminal_id);
        copy_ascii(&mut t.merchant_id, &self.config.merchant_id);
        t.supports_cardholder_confirmation = self.ports.prompt.is_some();
    }

    pub(crate) fn chip_transaction(&self, kind: TxnKind, amount_fen: u64) -> TransactionData {
        let now = self.ports.clock.now();
        let (time, _) = crate::txn::local_time_fields(now);
        let date = crate::txn::health::local_date_yymmdd(now);
        let mut unpredictable_number = [0u8; 4];
        crate::crypto::RandomSource::fill(
            &crate::crypto::SystemRandomSource::new(),
            &mut unpredictable_number,
        )
        .unwrap_or_else(|_| {
            // Without randomness the cryptogram would be replayable; the clock's
            // milliseconds are a poor but varying stand-in, and the log says so.
            log::error!("chip: no random unpredictable number; using the clock");
            unpredictable_number = (self.now_ms() as u32).to_be_bytes();
        });
        TransactionData {
            amount_fen,
            other_amount_fen: 0,
            transaction_type: transaction_type(kind),
            date: bcd6(&date),
            time: bcd6(&time),
            unpredictable_number,
            sequence_counter: (self.now_ms() / 1000 % 100_000_000) as u32,
            merchant_forced_online: false,
        }
    }
}

/// Field 39 and field 55's 91, 71 and 72 as the kernel wants them.
fn host_answer(response: &Message) -> HostAnswer {
    let code = response.field_text(39).unwrap_or_default();
    let mut answer = HostAnswer {
        response_code: code.as_bytes().try_into().ok(),
        ..HostAnswer::default()
    };
    let Some(objects) = response.bytes(55).and_then(|b| tlv::parse(b).ok()) else {
        return answer;
    };
    for object in &objects {
        match object.tag {
            0x91 => answer.issuer_authentication_data = object.bytes().map(<[u8]>::to_vec),
            0x71 | 0x72 => answer
                .issuer_scripts
                .extend(tlv::encode(std::slice::from_ref(object))),
            _ => {}
        }
    }
    answer
}

pub(crate) fn chip_termination(reason: TerminationReason) -> Termination {
    match reason {
        TerminationReason::CardBlocked | TerminationReason::NoApplicationAccepted => {
            endings::chip_blocked()
        }
        TerminationReason::CardholderDeclinedApplication => endings::cancelled(),
        TerminationReason::CardRemoved => endings::card_removed(),
        // The reader's own failure asks for a different remedy than a card pulled out early.
        TerminationReason::ReaderFault => endings::reader_failed(),
        TerminationReason::NotSupported => endings::entry_not_supported(),
        _ => endings::chip_error(),
    }
}

/// 9C: the first two digits of the processing code (EMV 4.4 Book 3 Annex A, PBOC 3.0).
fn transaction_type(kind: TxnKind) -> u8 {
    match kind {
        TxnKind::Balance => 0x31,
        TxnKind::PreAuth => 0x03,
        TxnKind::Refund => 0x20,
        _ => 0x00,
    }
}

fn copy_ascii<const N: usize>(to: &mut [u8; N], from: &str) {
    for (slot, b) in to
        .iter_mut()
        .zip(from.bytes().chain(std::iter::repeat(b' ')))
    {
        *slot = b;
    }
}

/// Six digits ("HHMMSS", "YYMMDD") as three BCD bytes.
fn bcd6(digits: &str) -> [u8; 3] {
    let mut out = [0u8; 3];
    for (i, pair) in digits.as_bytes().chunks(2).take(3).enumerate() {
        let hi = pair.first().map_or(0, |d| d.wrapping_sub(b'0') & 0x0F);
        let lo = pair.get(1).map_or(0, |d| d.wrapping_sub(b'0') & 0x0F);
        out[i] = hi << 4 | lo;
    }
    out
}

/// The PIN pad for online PIN (the block is kept here, never given to the kernel) and the PED
/// for offline PIN, which talks to the card itself.
struct PinPadCvm<'a> {
    pin_pad: &'a dyn PinPad,
    vault: &'a dyn crate::crypto::KeyVault,
    block: Option<EncryptedPinBlock>,
}

impl CvmHandler for PinPadCvm<'_> {
    fn online_pin(&mut self, pan: &Pan, amount_fen: u64) -> Result<OnlinePinEntry, DeviceFault> {
        match self.pin_pad.online_pin(pan, amount_fen)? {
            Some(block) => {
                self.block = Some(block);
                Ok(OnlinePinEntry::Entered)
            }
            None => Ok(OnlinePinEntry::Bypassed),
        }
    }

    fn offline_pin(
        &mut self,
        request: &OfflinePinRequest,
    ) -> Result<OfflinePinResult, DeviceFault> {
        self.vault
            .verify_offline_pin(request)
            .map_err(|e| DeviceFault::PinPadFailure {
                message: e.to_string(),
            })
    }
}

/// The cardholder confirms an application on the prompt port; no answer is a no.
struct PromptChooser<'a> {
    prompt: Option<&'a dyn Prompt>,
}

impl ApplicationChooser for PromptChooser<'_> {
    fn confirm(&mut self, candidate: &Candidate) -> Result<bool, DeviceFault> {
        let Some(prompt) = self.prompt else {
            return Ok(true);
        };
        let question = PromptText::new(
            format!("使用 {} 支付？", candidate.label),
            format!("Pay with {}?", candidate.label),
        );
        Ok(prompt.confirm(Audience::Cardholder, &question, CONFIRM_TIMEOUT)? == Confirmation::Yes)
    }
}

/// Terminal risk management's inputs: randomness and the exception file (the risk hot list).
struct TerminalRisk<'a> {
    terminal: &'a Terminal,
}

impl RiskSource for TerminalRisk<'_> {
    fn random_percent(&mut self) -> u8 {
        crate::txn::risk_check::random_1_99()
    }

    fn on_exception_file(&self, pan: &Pan) -> bool {
        self.terminal.on_hot_list(pan)
    }
}

/// The ODA verifier over this terminal's CA keys (the transaction date comes from 9A).
pub(crate) fn oda_verifier(chip: &ChipConfig) -> CaKeyVerifier {
    CaKeyVerifier {
        ca_keys: chip.ca_keys.clone(),
        revocations: chip.revocations.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_card_pulled_out_and_a_failing_reader_end_with_their_own_codes() {
        assert_eq!(
            chip_termination(TerminationReason::CardRemoved).code,
            crate::diag::TerminationCode::DevCardRemoved
        );
        assert_eq!(
            chip_termination(TerminationReason::ReaderFault).code,
            crate::diag::TerminationCode::DevReader
        );
    }

    #[test]
    fn dates_and_times_pack_as_bcd() {
        assert_eq!(bcd6("235959"), [0x23, 0x59, 0x59]);
        assert_eq!(bcd6("261204"), [0x26, 0x12, 0x04]);
    }

    #[test]
    fn terminal_ids_are_padded_with_spaces() {
        let mut tid = [0u8; 8];
        copy_ascii(&mut tid, "1234");
        assert_eq!(&tid, b"1234    ");
    }

    #[test]
    fn host_answer_takes_arc_and_field55_objects() {
        let mut m = Message::new("0210");
        m.set_text(39, "00");
        m.set_bytes(
            55,
            hex::decode("910A11223344556677883030720A9F180400000001860100").unwrap(),
        );
        let a = host_answer(&m);
        assert_eq!(a.response_code, Some(*b"00"));
        assert_eq!(
            a.issuer_authentication_data.as_deref(),
            Some(&hex::decode("11223344556677883030").unwrap()[..])
        );
        assert_eq!(a.issuer_scripts[0], 0x72);
    }
}
