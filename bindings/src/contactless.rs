//! Tap to pay across the FFI: the contactless kernels' user-interface requests as they happen
//! ("present card", "card read OK — remove card", "enter PIN", …), for a Kotlin listener the
//! `PaymentTerminal` wrapper turns into a `Flow` the checkout screen collects.

use std::sync::Arc;

use smartpos_core::card::ctls::UiRequest;

use crate::error::{SmartPosError, guard};
use crate::terminal::Terminal;

/// A contactless user-interface request (EMV Contactless Book A §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum UiRequestCode {
    /// Waiting for a tap.
    PresentCard,
    /// Keep the card still.
    Processing,
    /// The card is no longer needed: remove it (comes before the host is asked).
    CardReadOk,
    Approved,
    Declined,
    /// A phone wallet wants its holder to verify on the phone, then tap again.
    SeePhone,
    /// The tap cannot complete this payment: insert the card.
    InsertCard,
    /// The card left the field too early: tap again.
    TryAgain,
    /// Online PIN on the PIN pad (the card has been removed).
    EnterPin,
    /// A request this build of the bindings does not name yet.
    Other,
}

/// A request with the cardholder's text in both languages.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct UiRequestRecord {
    pub code: UiRequestCode,
    pub zh: String,
    pub en: String,
}

impl From<UiRequest> for UiRequestRecord {
    fn from(r: UiRequest) -> Self {
        let code = match r {
            UiRequest::PresentCard => UiRequestCode::PresentCard,
            UiRequest::Processing => UiRequestCode::Processing,
            UiRequest::CardReadOk => UiRequestCode::CardReadOk,
            UiRequest::Approved => UiRequestCode::Approved,
            UiRequest::Declined => UiRequestCode::Declined,
            UiRequest::SeePhone => UiRequestCode::SeePhone,
            UiRequest::InsertCard => UiRequestCode::InsertCard,
            UiRequest::TryAgain => UiRequestCode::TryAgain,
            UiRequest::EnterPin => UiRequestCode::EnterPin,
            _ => UiRequestCode::Other,
        };
        let text = r.text();
        UiRequestRecord {
            code,
            zh: text.zh,
            en: text.en,
        }
    }
}

/// Receives each UI request on the payment's thread, in order; return quickly (post to the
/// main thread or a channel).
#[uniffi::export(with_foreign)]
pub trait UiRequestListener: Send + Sync {
    fn on_ui_request(&self, request: UiRequestRecord);
}

struct ListenerAdapter(Arc<dyn UiRequestListener>);

impl smartpos_core::txn::UiListener for ListenerAdapter {
    fn ui_request(&self, request: UiRequest) {
        self.0.on_ui_request(request.into());
    }
}

#[uniffi::export]
impl Terminal {
    /// Who sees the contactless UI requests; `null` removes the listener.
    pub fn set_ui_request_listener(
        &self,
        listener: Option<Arc<dyn UiRequestListener>>,
    ) -> Result<(), SmartPosError> {
        guard("Terminal.set_ui_request_listener", || {
            let core = self.core()?;
            core.set_ui_listener(
                listener.map(|l| {
                    Arc::new(ListenerAdapter(l)) as Arc<dyn smartpos_core::txn::UiListener>
                }),
            );
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remove_card_crosses_with_its_code_and_both_texts() {
        let r = UiRequestRecord::from(UiRequest::CardReadOk);
        assert_eq!(r.code, UiRequestCode::CardReadOk);
        assert!(r.zh.contains("移开"), "{}", r.zh);
        assert!(r.en.contains("remove card"), "{}", r.en);
    }
}
