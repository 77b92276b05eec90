//! How a tap ends (EMV Contactless Book A §6.2 outcomes) and what the reader asks the screen to
//! show on the way (Book A §6.3 user interface requests), as values: the engine forwards the
//! UI requests to the `Prompt` port and maps the outcome to a sale, an insert, or a re-tap.

use serde::{Deserialize, Serialize};

use crate::card::emv::{IccRequest, TerminationReason};
use crate::ports::PromptText;

/// A user interface request (Book A §6.3, the messages of Table 9-3 that a smart POS shows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum UiRequest {
    /// "Present card": the reader is waiting for a tap.
    PresentCard,
    /// "Processing": keep the card still.
    Processing,
    /// "Card read OK — remove card": the card is no longer needed.
    CardReadOk,
    /// "Approved".
    Approved,
    /// "Declined".
    Declined,
    /// "See phone for instructions": a mobile wallet wants its own verification (CDCVM).
    SeePhone,
    /// "Please insert card": the tap cannot complete this transaction.
    InsertCard,
    /// "Present card again": the card left the field too early.
    TryAgain,
    /// "Enter PIN": online PIN on the PIN pad (after the card was removed).
    EnterPin,
}

impl UiRequest {
    pub fn code(self) -> &'static str {
        match self {
            UiRequest::PresentCard => "present_card",
            UiRequest::Processing => "processing",
            UiRequest::CardReadOk => "card_read_ok",
            UiRequest::Approved => "approved",
            UiRequest::Declined => "declined",
            UiRequest::SeePhone => "see_phone",
            UiRequest::InsertCard => "insert_card",
            UiRequest::TryAgain => "try_again",
            UiRequest::EnterPin => "enter_pin",
        }
    }

    /// The cardholder's message in both languages, for `Prompt::show`.
    pub fn text(self) -> PromptText {
        let (zh, en) = match self {
            UiRequest::PresentCard => ("请挥卡或贴卡", "Present card"),
            UiRequest::Processing => ("处理中，请勿移开卡片", "Processing, keep the card still"),
            UiRequest::CardReadOk => ("读卡成功，请移开卡片", "Card read OK, remove card"),
            UiRequest::Approved => ("交易成功", "Approved"),
            UiRequest::Declined => ("交易拒绝", "Declined"),
            UiRequest::SeePhone => ("请查看手机并按提示操作", "See phone for instructions"),
            UiRequest::InsertCard => ("请插卡", "Please insert card"),
            UiRequest::TryAgain => ("请重新挥卡", "Present card again"),
            UiRequest::EnterPin => ("请输入密码", "Enter PIN"),
        };
        PromptText::new(zh, en)
    }
}

/// Where the kernel's UI requests go as they happen (the engine forwards them to `Prompt`).
pub trait UiSink {
    fn ui(&mut self, request: UiRequest);
}

impl UiSink for Vec<UiRequest> {
    fn ui(&mut self, request: UiRequest) {
        self.push(request);
    }
}

/// Why the tap cannot complete the transaction and the card should be inserted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum InsertReason {
    /// The amount is at or over every combination's contactless transaction limit, or the
    /// amount is zero where no combination allows it.
    OverContactlessLimit,
    /// No contactless application on the card that the reader supports (or no PPSE).
    NoMutualApplication,
    /// The card offers only magnetic-stripe mode (MSD, PayPass mag stripe): not supported.
    MagstripeModeOnly,
    /// The card asked for another interface (GPO 6984, or its qualifiers on a failure).
    CardRequested,
    /// A CVM is required and neither card nor reader can perform one on this interface.
    CvmNotPossible,
}

/// The cardholder verification a tap ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CtlsCvm {
    /// Under the CVM required limit: no PIN, no signature (9F34 1F0002).
    NoCvm,
    /// The engine collects an online PIN on the PIN pad now that the card is gone.
    OnlinePin,
    /// A signature line on the receipt.
    Signature,
    /// The phone verified its holder (consumer device CVM).
    ConsumerDevice,
}

/// What the tap produced for the engine: the request (field 55, card data) and the CVM.
#[derive(Debug, Clone)]
pub struct CtlsResult {
    pub request: IccRequest,
    pub cvm: CtlsCvm,
}

/// The end of one tap (Book A §6.2).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum CtlsOutcome {
    /// ARQC: send the authorisation; the card is already gone (no second GENERATE AC).
    OnlineRequest(Box<CtlsResult>),
    /// TC and every offline check passed: approved offline (goes to the advice queue).
    Approved(Box<CtlsResult>),
    /// AAC, or the reader refused the card's offline approval (ODA failed, limits).
    Declined(Box<CtlsResult>),
    /// The card left the field before the kernel was done: present it again.
    TryAgain,
    /// Insert (or swipe) instead.
    TryAnotherInterface(InsertReason),
    /// The phone wants its holder to verify on the phone, then tap again.
    SeePhone,
    /// The card broke the protocol or every application failed.
    EndApplication(TerminationReason),
}

impl CtlsOutcome {
    pub fn code(&self) -> &'static str {
        match self {
            CtlsOutcome::OnlineRequest(_) => "online_request",
            CtlsOutcome::Approved(_) => "approved",
            CtlsOutcome::Declined(_) => "declined",
            CtlsOutcome::TryAgain => "try_again",
            CtlsOutcome::TryAnotherInterface(_) => "try_another_interface",
            CtlsOutcome::SeePhone => "see_phone",
            CtlsOutcome::EndApplication(_) => "end_application",
        }
    }
}
