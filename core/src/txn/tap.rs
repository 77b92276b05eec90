//! The tapped card: the contactless kernels (`card::ctls`) run over the shell's ports, and what
//! makes a tap a payment. Pre-processing runs before the reader is asked to detect (so the
//! screen says "present card" only when the amount can be tapped); the kernel talks to the card
//! over the reader's APDU channel; its UI requests go to the `Prompt` port (and to a
//! [`UiListener`]) as they happen, "card read OK — remove card" before the host is contacted.
//!
//! What the tap leaves is the same [`Inserted`] the contact path hands to the online and
//! offline code, without a kernel: the card is gone, so the host's answer completes the
//! transaction with no second GENERATE AC. An online PIN, when the kernel's CVM asks for one
//! (over the CVM required limit; under it 小额免密免签: no PIN, no signature), is entered on the
//! PIN pad after the card is removed.

use std::sync::{Arc, Mutex, PoisonError};

use crate::card::ctls::{
    self, CtlsAid, CtlsConfig, CtlsCvm, CtlsOutcome, CtlsPorts, InsertReason, UiRequest, UiSink,
    default_ctls_aids,
};
use crate::card::emv::{ReaderChannel, field55};
use crate::card::{EntryConditions, EntryMode, PinCapability, ReadCapability};
use crate::diag::{Termination, TerminationCode as Code};
use crate::ports::{Audience, CardPresentation};
use crate::txn::chip::{Inserted, chip_termination, oda_verifier};
use crate::txn::endings;
use crate::txn::kind::TxnKind;
use crate::txn::outcome::Outcome;
use crate::txn::terminal::Terminal;

/// Taps one phone may ask for: the first says "see phone", the second carries the phone's
/// own verification (CDCVM). A third "see phone" ends the attempt.
const TAPS_PER_ATTEMPT: usize = 2;

/// Sees every contactless UI request as the kernel raises it, in order (the bindings expose
/// them to Kotlin as a Flow). Called on the transaction's thread: keep it short.
pub trait UiListener: Send + Sync {
    fn ui_request(&self, request: UiRequest);
}

/// The reader's contactless table and who listens to its UI requests.
pub(crate) struct TapSettings {
    aids: Mutex<Vec<CtlsAid>>,
    listener: Mutex<Option<Arc<dyn UiListener>>>,
}

impl Default for TapSettings {
    fn default() -> TapSettings {
        TapSettings {
            aids: Mutex::new(default_ctls_aids()),
            listener: Mutex::new(None),
        }
    }
}

/// Forwards the kernel's UI requests to the prompt port and the listener.
struct PromptSink<'a> {
    terminal: &'a Terminal,
}

impl UiSink for PromptSink<'_> {
    fn ui(&mut self, request: UiRequest) {
        self.terminal.tap_ui(request);
    }
}

impl Terminal {
    /// The contactless AID–kernel combinations in force (limits per AID).
    pub fn contactless_aids(&self) -> Vec<CtlsAid> {
        self.tap
            .aids
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the contactless table (an acquirer's parameters, a test's limits).
    pub fn configure_contactless(&self, aids: Vec<CtlsAid>) {
        *self.tap.aids.lock().unwrap_or_else(PoisonError::into_inner) = aids;
    }

    /// Who sees the contactless UI requests besides the prompt port; `None` removes it.
    pub fn set_ui_listener(&self, listener: Option<Arc<dyn UiListener>>) {
        *self
            .tap
            .listener
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = listener;
    }

    pub(crate) fn tap_ui(&self, request: UiRequest) {
        log::debug!("contactless: ui {}", request.code());
        self.show(Audience::Cardholder, &request.text());
        let listener = self
            .tap
            .listener
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(l) = listener {
            l.ui_request(request);
        }
    }

    fn ctls_config(&self, kind: TxnKind) -> CtlsConfig {
        let mut terminal = self.chip_config().kernel.terminal;
        self.fill_terminal_params(&mut terminal);
        let mut aids = self.contactless_aids();
        // Only a sale may be approved offline (its upload is an offline-sale advice).
        if kind != TxnKind::Sale {
            for aid in &mut aids {
                aid.floor_limit_fen = 0;
            }
        }
        CtlsConfig { terminal, aids }
    }

    /// Pre-processing before the reader waits for a card: "present card" when the amount can
    /// be tapped, "insert card" and the reason when it cannot. `None` on a reader without a
    /// contactless interface.
    pub(crate) fn tap_ready(&self, kind: TxnKind, amount_fen: u64) -> Option<InsertReason> {
        if self.config.read_capability != ReadCapability::ContactAndContactless {
            return None;
        }
        let config = self.ctls_config(kind);
        ctls::ready(&config, amount_fen, &mut PromptSink { terminal: self }).err()
    }

    /// The card in the field: the kernel from the PPSE to its outcome, the card released, the
    /// online PIN if the kernel's CVM wants one. `refused` is what pre-processing said.
    pub(crate) fn read_tapped(
        &self,
        kind: TxnKind,
        amount_fen: u64,
        refused: Option<InsertReason>,
    ) -> Result<Inserted, Termination> {
        if let Some(reason) = refused {
            self.release_card();
            return Err(tap_insert(reason));
        }
        let config = self.ctls_config(kind);
        let oda = oda_verifier(&self.chip_config());
        for tap_no in 1..=TAPS_PER_ATTEMPT {
            let txn = self.chip_transaction(kind, amount_fen);
            let mut channel = ReaderChannel(&*self.ports.card_reader);
            let (tap, outcome) = ctls::start(
                &config,
                txn,
                &mut channel,
                CtlsPorts {
                    oda: &oda,
                    ui: &mut PromptSink { terminal: self },
                },
            );
            let snapshot = tap.snapshot();
            log::info!(
                "contactless: tap {tap_no} kernel {} AID {} ODA {} ({:?}) outcome {}",
                tap.kernel.map_or("none", |k| k.name()),
                hex::encode_upper(&snapshot.aid),
                snapshot.oda_method.name(),
                snapshot.oda_result,
                outcome.code()
            );
            let result = match outcome {
                CtlsOutcome::SeePhone if tap_no < TAPS_PER_ATTEMPT => {
                    // The holder verifies on the phone, then taps again: the same attempt.
                    self.tap_ui(UiRequest::PresentCard);
                    match self.detect_card()? {
                        CardPresentation::Contactless => continue,
                        _ => Err(endings::entry_not_supported()),
                    }
                }
                CtlsOutcome::SeePhone | CtlsOutcome::TryAgain => Err(tap_again()),
                CtlsOutcome::OnlineRequest(r) => {
                    self.release_card();
                    return self.tapped_online(r.request, r.cvm, amount_fen);
                }
                CtlsOutcome::Approved(r) if kind == TxnKind::Sale => Ok(Inserted::tapped(
                    r.request,
                    None,
                    entry(PinCapability::CannotAcceptPin, self.config.read_capability),
                    true,
                )),
                CtlsOutcome::Approved(_) => {
                    // Only sales run with a floor limit; a card approving anything else offline
                    // is not charged for it.
                    log::warn!(
                        "contactless: offline approval of a {} not taken",
                        kind.name()
                    );
                    Err(endings::chip_error())
                }
                CtlsOutcome::Declined(_) => Err(endings::chip_declined()),
                CtlsOutcome::TryAnotherInterface(reason) => Err(tap_insert(reason)),
                CtlsOutcome::EndApplication(reason) => Err(chip_termination(reason)),
            };
            self.release_card();
            return result;
        }
        self.release_card();
        Err(tap_again())
    }

    /// The card is gone; the PIN pad takes the online PIN when the kernel's CVM says so.
    fn tapped_online(
        &self,
        request: crate::card::emv::IccRequest,
        cvm: CtlsCvm,
        amount_fen: u64,
    ) -> Result<Inserted, Termination> {
        let pin = if cvm == CtlsCvm::OnlinePin {
            let block = self
                .ports
                .pin_pad
                .online_pin(&request.card.pan, amount_fen)
                .map_err(|f| endings::from_device(&f))?;
            // Over the CVM limit the PIN is the tap's verification: no bypass.
            Some(block.ok_or_else(endings::pin_required)?)
        } else {
            None
        };
        let capability = if pin.is_some() {
            PinCapability::CanAcceptPin
        } else {
            PinCapability::CannotAcceptPin
        };
        Ok(Inserted::tapped(
            request,
            pin,
            entry(capability, self.config.read_capability),
            false,
        ))
    }

    /// After the host (or the offline decision): "approved" or "declined" on the screen.
    pub(crate) fn tap_finished(&self, outcome: &Outcome) {
        self.tap_ui(match outcome {
            Outcome::Approved(_) => UiRequest::Approved,
            _ => UiRequest::Declined,
        });
    }
}

/// Field 22 = 07x: 071 when a PIN was entered, 072 when none was (小额免密, CDCVM, signature).
fn entry(pin: PinCapability, read: ReadCapability) -> EntryConditions {
    EntryConditions::new(EntryMode::Contactless, pin, read)
}

/// Field 22's PIN digit for a journaled tap rebuilt for its reversal or upload, from the CVM
/// results (9F34) its field 55 kept: online PIN (CVM code 02, EMV Book 3 Annex C3) gave 071,
/// anything else 072.
pub(crate) fn rebuilt_pin_capability(icc_data: Option<&[u8]>) -> PinCapability {
    let online_pin = icc_data
        .and_then(field55::cvm_results)
        .is_some_and(|[method, ..]| method & 0x3F == 0x02);
    if online_pin {
        PinCapability::CanAcceptPin
    } else {
        PinCapability::CannotAcceptPin
    }
}

fn tap_insert(reason: InsertReason) -> Termination {
    let why = match reason {
        InsertReason::OverContactlessLimit => "金额超过非接交易限额 / over the contactless limit",
        InsertReason::MagstripeModeOnly => {
            "卡片仅支持磁条模式(MSD)，不受理 / magnetic-stripe mode (MSD) not supported"
        }
        InsertReason::CvmNotPossible => "无法完成持卡人验证 / no cardholder verification possible",
        InsertReason::CardRequested => {
            "卡片要求使用其他界面 / the card asked for another interface"
        }
        _ => "卡片无本终端受理的非接应用 / no contactless application this terminal accepts",
    };
    Termination::new(Code::OpTapInsertCard).with_detail(why)
}

fn tap_again() -> Termination {
    Termination::new(Code::OpTapAgain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tapped_entry_modes_are_071_with_pin_and_072_without() {
        let read = ReadCapability::ContactAndContactless;
        assert_eq!(entry(PinCapability::CanAcceptPin, read).field22(), "071");
        assert_eq!(entry(PinCapability::CannotAcceptPin, read).field22(), "072");
        assert_eq!(entry(PinCapability::CannotAcceptPin, read).field60_4(), '6');
    }

    #[test]
    fn a_rebuilt_tap_says_071_only_when_its_cvm_was_online_pin() {
        // 9F34 as the kernels set it: 020000 online PIN, 1F0002 no CVM.
        let pin = hex::decode("9F3403020000").unwrap();
        let none = hex::decode("9F34031F0002").unwrap();
        assert_eq!(
            rebuilt_pin_capability(Some(&pin)),
            PinCapability::CanAcceptPin
        );
        assert_eq!(
            rebuilt_pin_capability(Some(&none)),
            PinCapability::CannotAcceptPin
        );
        assert_eq!(rebuilt_pin_capability(None), PinCapability::CannotAcceptPin);
        assert_eq!(
            rebuilt_pin_capability(Some(&[0xFF])),
            PinCapability::CannotAcceptPin
        );
    }

    #[test]
    fn tap_endings_are_explained_in_both_languages() {
        let t = tap_insert(InsertReason::OverContactlessLimit);
        assert_eq!(t.code.to_string(), "OP_TAP_INSERT_CARD");
        assert!(t.merchant_zh.contains("插卡"), "{}", t.merchant_zh);
        assert!(t.merchant_en.contains("insert"), "{}", t.merchant_en);
        let t = tap_again();
        assert_eq!(t.code.to_string(), "OP_TAP_AGAIN");
        assert!(t.merchant_en.contains("tap it again"));
        assert!(t.retry_can_help);
    }
}
