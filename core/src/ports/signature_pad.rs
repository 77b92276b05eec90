//! The signature pad: the cardholder signs on the screen (电签), or does not.

use std::sync::Mutex;
use std::time::Duration;

use super::{DeviceFault, PromptText};
use crate::esign::Strokes;

/// What the pad is asked to collect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureRequest {
    /// The amount the cardholder confirms by signing, shown on the pad.
    pub amount_fen: u64,
    /// The line above the signing box (e.g. 持卡人签名 / Cardholder signature).
    pub prompt: PromptText,
    /// How long the pad waits for the cardholder to confirm before giving up.
    pub timeout: Duration,
}

/// How the pad ended. Refusal and timeout are answers, not faults: the payment stands and the
/// merchant keeps a paper slip signed instead.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SignatureCapture {
    /// The cardholder signed and confirmed; strokes with their timestamps.
    Signed(Strokes),
    /// The cardholder (or the merchant for them) cancelled.
    Cancelled,
    /// Nobody confirmed within the timeout.
    TimedOut,
}

pub trait SignaturePad: Send + Sync {
    /// Shows the signing box and blocks until the cardholder confirms, cancels or the timeout.
    fn capture(&self, request: &SignatureRequest) -> Result<SignatureCapture, DeviceFault>;
    /// Whether the touch screen can take a signature now (no prompt shown).
    fn status(&self) -> Result<(), DeviceFault> {
        Ok(())
    }
}

/// A pad for tests, the demo and `smartpos pay --signature`: answers from a script, in order,
/// then repeats its last answer; records every request.
#[derive(Debug)]
pub struct ScriptedSignaturePad {
    answers: Mutex<Vec<Result<SignatureCapture, DeviceFault>>>,
    requests: Mutex<Vec<SignatureRequest>>,
}

impl ScriptedSignaturePad {
    pub fn new(answers: Vec<Result<SignatureCapture, DeviceFault>>) -> ScriptedSignaturePad {
        ScriptedSignaturePad {
            answers: Mutex::new(answers),
            requests: Mutex::new(Vec::new()),
        }
    }

    /// A cardholder who always signs `strokes`.
    pub fn signing(strokes: Strokes) -> ScriptedSignaturePad {
        ScriptedSignaturePad::new(vec![Ok(SignatureCapture::Signed(strokes))])
    }

    pub fn requests(&self) -> Vec<SignatureRequest> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

impl SignaturePad for ScriptedSignaturePad {
    fn capture(&self, request: &SignatureRequest) -> Result<SignatureCapture, DeviceFault> {
        if let Ok(mut r) = self.requests.lock() {
            r.push(request.clone());
        }
        let mut answers = self.answers.lock().map_err(|_| DeviceFault::Other {
            message: "signature pad script poisoned".to_owned(),
        })?;
        match answers.len() {
            0 => Ok(SignatureCapture::TimedOut),
            1 => answers[0].clone(),
            _ => answers.remove(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::esign::Point;

    fn request() -> SignatureRequest {
        SignatureRequest {
            amount_fen: 100,
            prompt: PromptText::new("持卡人签名", "Cardholder signature"),
            timeout: Duration::from_secs(60),
        }
    }

    #[test]
    fn the_scripted_pad_answers_in_order_then_repeats() {
        let strokes = Strokes::new(
            10,
            10,
            vec![vec![Point {
                x: 1.0,
                y: 1.0,
                t_ms: 0,
            }]],
        )
        .expect("strokes");
        let pad = ScriptedSignaturePad::new(vec![
            Ok(SignatureCapture::Cancelled),
            Ok(SignatureCapture::Signed(strokes.clone())),
        ]);
        assert_eq!(pad.capture(&request()), Ok(SignatureCapture::Cancelled));
        assert_eq!(
            pad.capture(&request()),
            Ok(SignatureCapture::Signed(strokes.clone()))
        );
        assert_eq!(
            pad.capture(&request()),
            Ok(SignatureCapture::Signed(strokes))
        );
        assert_eq!(pad.requests().len(), 3);
        let silent = ScriptedSignaturePad::new(Vec::new());
        assert_eq!(silent.capture(&request()), Ok(SignatureCapture::TimedOut));
    }
}
