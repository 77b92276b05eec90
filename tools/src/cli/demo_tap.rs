//! The demo's taps: virtual contactless cards with real keys in the scripted reader's field, the
//! contactless kernels against them, the simulator as issuer. What each line says about the
//! tap (the screen's requests, whether a PIN was asked for) is read from what the engine
//! actually raised, through a `UiListener`, never written beside it.

use std::sync::{Arc, Mutex};

use smartpos_core::card::ctls::DEFAULT_CONTACTLESS_LIMIT_FEN;
use smartpos_core::card::ctls::UiRequest;
use smartpos_core::host::CancelToken;
use smartpos_core::ports::testing::{ScriptedCardReader, SoftwarePinPad};
use smartpos_core::ports::{CardPresentation, CardReader};
use smartpos_core::txn::{Outcome, SaleRequest, Terminal, UiListener};

use super::CliError;
use crate::card_sim::{Tear, VirtualCard, catalogue};

/// One tap of the section: its label, its ending and what the screen was asked to show.
#[derive(Debug)]
pub(super) struct TapStep {
    pub step: &'static str,
    pub outcome: Outcome,
    pub notes: Vec<String>,
}

#[derive(Default)]
struct Screen(Mutex<Vec<UiRequest>>);

impl UiListener for Screen {
    fn ui_request(&self, request: UiRequest) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(request);
    }
}

impl Screen {
    fn take(&self) -> Vec<UiRequest> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// Puts `card` in the reader's field.
fn present(reader: &ScriptedCardReader, card: VirtualCard) {
    reader.withdraw();
    reader.present(CardPresentation::Contactless);
    reader.set_responder(move |apdu| card.transceive(apdu).map(|r| r.to_vec()));
}

fn named(name: &str) -> Result<VirtualCard, CliError> {
    VirtualCard::named(name).map_err(|e| CliError::new(format!("contactless card: {e}")))
}

/// The four taps: under the no-CVM limit, over the CVM limit, over the contactless limit, and
/// a card pulled away during GET PROCESSING OPTIONS.
pub(super) fn taps(
    terminal: &Terminal,
    reader: &ScriptedCardReader,
    pin_pad: &SoftwarePinPad,
    cancel: &CancelToken,
) -> Result<Vec<TapStep>, CliError> {
    let mut aids = terminal.contactless_aids();
    for a in &mut aids {
        a.contactless_limit_fen = Some(DEFAULT_CONTACTLESS_LIMIT_FEN);
    }
    terminal.configure_contactless(aids);
    let screen = Arc::new(Screen::default());
    terminal.set_ui_listener(Some(screen.clone()));
    pin_pad.set_pin(Some(catalogue::TEST_PIN));
    let torn = catalogue::card("quickpass-debit")
        .map_err(|e| CliError::new(format!("contactless card: {e}")))?
        .with_tear(Tear {
            ins: 0xA8,
            occurrence: 1,
            after_processing: false,
        });
    let plan: [(&'static str, VirtualCard, &str, u64); 4] = [
        (
            "QuickPass tap under RMB 1,000",
            named("quickpass-debit")?,
            "demo-tap-1",
            12_800,
        ),
        (
            "QuickPass tap over the RMB 1,000 CVM limit",
            named("quickpass-credit")?,
            "demo-tap-2",
            150_000,
        ),
        (
            "tap over the RMB 5,000 contactless limit",
            named("quickpass-debit")?,
            "demo-tap-3",
            600_000,
        ),
        (
            "tap of a card pulled away too early",
            VirtualCard::new(torn),
            "demo-tap-4",
            3_000,
        ),
    ];
    let mut steps = Vec::new();
    for (step, card, attempt, fen) in plan {
        present(reader, card);
        let outcome = terminal.sale(
            &SaleRequest {
                attempt_id: attempt.into(),
                amount_fen: fen,
            },
            cancel,
        );
        let ui = screen.take();
        steps.push(TapStep {
            step,
            notes: notes(&ui),
            outcome,
        });
    }
    terminal.set_ui_listener(None);
    Ok(steps)
}

fn notes(ui: &[UiRequest]) -> Vec<String> {
    let shown: Vec<&str> = ui.iter().map(|r| r.code()).collect();
    let pin = if ui.contains(&UiRequest::EnterPin) {
        "PIN asked for on the PIN pad after the card was removed"
    } else {
        "no PIN asked for"
    };
    vec![format!("screen: {}", shown.join(" → ")), pin.to_string()]
}
