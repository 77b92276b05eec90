//! The kernel's collaborators over the terminal's ports, ready for the engine: cardholder
//! confirmation through `ports::Prompt`, PINs through `ports::PinPad` (online) and the PED's
//! `KeyVault::verify_offline_pin` (offline). The encrypted online PIN block stays here for the
//! engine to put in field 52; the kernel only learns that a PIN was entered.

use std::time::Duration;

use super::cvm::{CvmHandler, OnlinePinEntry};
use super::select::{ApplicationChooser, Candidate};
use crate::card::Pan;
use crate::crypto::{EncryptedPinBlock, KeyVault, OfflinePinRequest, OfflinePinResult};
use crate::ports::{Audience, Confirmation, DeviceFault, PinPad, Prompt, PromptText};

/// Asks the cardholder on the `Prompt` port whether to use an application.
#[allow(missing_debug_implementations)]
pub struct PromptChooser<'a> {
    pub prompt: &'a dyn Prompt,
    pub timeout: Duration,
}

impl ApplicationChooser for PromptChooser<'_> {
    fn confirm(&mut self, c: &Candidate) -> Result<bool, DeviceFault> {
        let q = PromptText::new(format!("使用 {}？", c.label), format!("Use {}?", c.label));
        Ok(self
            .prompt
            .confirm(Audience::Cardholder, &q, self.timeout)?
            == Confirmation::Yes)
    }
}

/// PIN entry through the PIN pad and the PED.
#[allow(missing_debug_implementations)]
pub struct PortsCvm<'a> {
    pub pin_pad: &'a dyn PinPad,
    pub ped: &'a dyn KeyVault,
    /// The online PIN block, once entered.
    pub pin_block: Option<EncryptedPinBlock>,
}

impl CvmHandler for PortsCvm<'_> {
    fn online_pin(&mut self, pan: &Pan, amount_fen: u64) -> Result<OnlinePinEntry, DeviceFault> {
        match self.pin_pad.online_pin(pan, amount_fen)? {
            Some(block) => {
                self.pin_block = Some(block);
                Ok(OnlinePinEntry::Entered)
            }
            None => Ok(OnlinePinEntry::Bypassed),
        }
    }

    fn offline_pin(
        &mut self,
        request: &OfflinePinRequest,
    ) -> Result<OfflinePinResult, DeviceFault> {
        self.ped
            .verify_offline_pin(request)
            .map_err(|e| DeviceFault::PinPadFailure {
                message: e.to_string(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::testing::ScriptedPrompt;

    #[test]
    fn the_cardholder_answers_on_the_prompt_port() {
        let prompt = ScriptedPrompt::new();
        prompt.answer(Confirmation::No).answer(Confirmation::Yes);
        let mut chooser = PromptChooser {
            prompt: &prompt,
            timeout: Duration::from_secs(30),
        };
        let c = Candidate {
            adf: vec![0xA0],
            label: "UnionPay Credit".into(),
            priority: Some(1),
            needs_confirmation: true,
            aid_index: 0,
        };
        assert!(!chooser.confirm(&c).unwrap());
        assert!(chooser.confirm(&c).unwrap());
        // Unscripted: the prompt times out, which is a refusal.
        assert!(!chooser.confirm(&c).unwrap());
        let asked = prompt.asked();
        assert_eq!(asked[0].0, Audience::Cardholder);
        assert_eq!(asked[0].1.en, "Use UnionPay Credit?");
    }
}
