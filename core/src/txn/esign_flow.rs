//! 电签 in the engine: after an approval that `esign::decide` says needs a signature, the
//! cardholder signs on the [`SignaturePad`] port; the strokes are rendered, compressed as JBIG,
//! sealed like the PAN and journaled together with their upload in one commit, and the upload
//! is tried at once. Nothing here can undo the payment: a refusal, a timeout or a pad fault
//! becomes a note telling the merchant to keep a signed paper slip instead.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::calendar::civil_from_days;
use crate::card::EntryMode;
use crate::codec::tlv;
use crate::diag::{Termination, TerminationCode};
use crate::esign::{
    self, CardKind, JbigOptions, MissingSignature, SignatureContext, SignaturePolicy, SlipFields,
    SlipIdentity, Strokes,
};
use crate::ports::{PromptText, SignatureCapture, SignaturePad, SignatureRequest};
use crate::store::{NewSignature, OnlineTxn};
use crate::txn::chip_uploads::UPLOAD_LIFETIME_MS;
use crate::txn::esign_upload::SEGMENT_BYTES;
use crate::txn::kind::TxnKind;
use crate::txn::terminal::Terminal;

/// How long the pad waits for the cardholder before the slip goes on paper.
pub const DEFAULT_SIGNING_TIMEOUT: Duration = Duration::from_secs(90);

/// A fitted signature pad and the rules deciding when it is used.
#[derive(Clone)]
pub struct SignatureSetup {
    pub pad: Arc<dyn SignaturePad>,
    pub policy: SignaturePolicy,
    pub timeout: Duration,
    /// The merchant is paperless: a slip signed on the screen is not printed (the e-slip is the
    /// proof). A slip without an e-signature still prints, for the cardholder to sign.
    pub paperless: bool,
}

impl std::fmt::Debug for SignatureSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignatureSetup")
            .field("policy", &self.policy)
            .field("timeout", &self.timeout)
            .field("paperless", &self.paperless)
            .finish_non_exhaustive()
    }
}

/// What became of the signature an approval asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureNote {
    /// Signed and journaled; `uploaded` once the host acknowledged every segment.
    Signed {
        jbig_bytes: usize,
        segments: u32,
        uploaded: bool,
    },
    /// Not given: the payment stands, and `note` (OP_SIGNATURE_MISSING) tells the merchant to
    /// keep a paper slip signed.
    Missing {
        why: MissingSignature,
        note: Termination,
    },
}

/// The kinds whose slip the cardholder signs: those that take money from the card.
fn signs(kind: TxnKind) -> bool {
    matches!(kind, TxnKind::Sale | TxnKind::PreAuth | TxnKind::Completion)
}

/// 9F34 in the chip's data, if the card sent one.
fn cvm_results(field55: &[u8]) -> Option<[u8; 3]> {
    let objects = tlv::parse(field55).ok()?;
    let value = tlv::find(&objects, 0x9F34).and_then(tlv::Tlv::bytes)?;
    <[u8; 3]>::try_from(value).ok()
}

/// `YYYYMMDDhhmmss` in China local time (UTC+8), as the slip shows it.
pub(crate) fn slip_date_time(at: SystemTime) -> String {
    const DAY_MS: i64 = 86_400_000;
    let ms = at
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
        + 8 * 3_600_000;
    let (y, m, d) = civil_from_days(ms.div_euclid(DAY_MS));
    let secs = ms.rem_euclid(DAY_MS) / 1000;
    format!(
        "{y:04}{m:02}{d:02}{:02}{:02}{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// The approved transaction as the signature step sees it.
pub(crate) struct Signed<'a> {
    pub kind: TxnKind,
    pub attempt_id: &'a str,
    pub started: &'a OnlineTxn,
    pub amount_fen: u64,
    pub entry_mode: EntryMode,
    pub field55: Option<&'a [u8]>,
    pub rrn: &'a str,
    pub auth_code: &'a str,
}

impl Terminal {
    /// Fits a signature pad (电签): approvals that need a signature ask it from now on. Without
    /// one the terminal prints paper slips as before.
    pub fn fit_signature_pad(&self, setup: SignatureSetup) {
        *self.esign.lock().unwrap_or_else(|p| p.into_inner()) = Some(setup);
    }

    fn signature_setup(&self) -> Option<SignatureSetup> {
        self.esign.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Whether this approval's paper slip is left unprinted: a paperless merchant, and the
    /// cardholder signed on the screen (a missing signature still needs the paper copy).
    pub(crate) fn paperless_slip(&self, note: Option<&SignatureNote>) -> bool {
        matches!(note, Some(SignatureNote::Signed { .. }))
            && self.signature_setup().is_some_and(|s| s.paperless)
    }

    /// After an approval is journaled: asks for the signature when one is needed, journals it
    /// with its upload, and tries the upload. `None` when no signature was asked for.
    pub(crate) fn sign_approval(&self, s: &Signed<'_>) -> Option<SignatureNote> {
        let setup = self.signature_setup()?;
        if !signs(s.kind) {
            return None;
        }
        let decision = esign::decide(
            &setup.policy,
            &SignatureContext {
                entry_mode: s.entry_mode,
                card_kind: CardKind::Unknown,
                amount_fen: s.amount_fen,
                cvm_results: s.field55.and_then(cvm_results),
            },
        );
        if !decision.required {
            return None;
        }
        let request = SignatureRequest {
            amount_fen: s.amount_fen,
            prompt: PromptText::new("持卡人签名", "Cardholder signature"),
            timeout: setup.timeout,
        };
        let date_time = slip_date_time(self.ports.clock.now());
        let strokes = match setup.pad.capture(&request) {
            Ok(SignatureCapture::Signed(strokes)) => strokes,
            Ok(SignatureCapture::Cancelled) => {
                return Some(self.signature_missing(s, MissingSignature::Cancelled, &date_time));
            }
            Ok(SignatureCapture::TimedOut) => {
                return Some(self.signature_missing(s, MissingSignature::TimedOut, &date_time));
            }
            Err(fault) => {
                log::warn!("txn {}: signature pad: {fault}", s.attempt_id);
                return Some(self.signature_missing(s, MissingSignature::PadFault, &date_time));
            }
        };
        match self.journal_signature(s, &strokes, &date_time) {
            Ok((jbig_bytes, segments)) => {
                crate::crashpoint::reached("esign.journaled", s.kind.name());
                // The upload's failure is not the sale's: it stays queued and goes again after
                // later sales and before settlement.
                self.forward_advices_locked();
                let uploaded = self
                    .journal()
                    .signature(s.started.id)
                    .ok()
                    .flatten()
                    .and_then(|sig| sig.upload)
                    .is_some_and(|u| u.state == crate::store::AdviceState::Sent);
                Some(SignatureNote::Signed {
                    jbig_bytes,
                    segments,
                    uploaded,
                })
            }
            Err(why) => {
                log::error!("txn {}: signature not journaled: {why}", s.attempt_id);
                Some(self.signature_missing(s, MissingSignature::PadFault, &date_time))
            }
        }
    }

    /// Strokes to JBIG, bound to the slip, sealed, and journaled with the upload (one commit).
    fn journal_signature(
        &self,
        s: &Signed<'_>,
        strokes: &Strokes,
        date_time: &str,
    ) -> Result<(usize, u32), String> {
        let raster = esign::render(
            strokes,
            esign::DEFAULT_WIDTH,
            esign::DEFAULT_HEIGHT,
            esign::DEFAULT_PEN,
        )
        .map_err(|e| e.to_string())?;
        let jbig = esign::encode_jbig(&raster, &JbigOptions::default());
        let segments = esign::split(&jbig, SEGMENT_BYTES).map_err(|e| e.to_string())?;
        let slip = SlipIdentity::new(&SlipFields {
            terminal_id: &self.config.terminal_id,
            merchant_id: &self.config.merchant_id,
            batch: s.started.batch_no,
            stan: s.started.stan,
            amount_fen: s.amount_fen,
            date_time,
            rrn: s.rrn,
            auth_code: s.auth_code,
        })
        .map_err(|e| e.to_string())?;
        let digest = slip.digest(&jbig);
        let sealed = esign::seal_image(&self.config.storage_key, s.attempt_id, &jbig)
            .map_err(|e| e.to_string())?;
        let segment_count = u32::try_from(segments.len()).unwrap_or(u32::MAX);
        let at_ms = self.now_ms();
        self.journal()
            .record_signature(
                &NewSignature {
                    transaction_id: s.started.id,
                    image_sealed: sealed,
                    digest: *digest.as_bytes(),
                    date_time: date_time.to_owned(),
                    jbig_bytes: jbig.len(),
                    segments: segment_count,
                    at_ms,
                },
                at_ms + UPLOAD_LIFETIME_MS,
            )
            .map_err(|e| e.to_string())?;
        log::info!(
            "txn {}: signed ({} bytes JBIG, {segment_count} segment(s)), upload queued",
            s.attempt_id,
            jbig.len()
        );
        Ok((jbig.len(), segment_count))
    }

    /// The note of a journaled signature, for a replayed attempt.
    pub(crate) fn recorded_signature(&self, transaction_id: i64) -> Option<SignatureNote> {
        let stored = self.journal().signature(transaction_id).ok()??;
        Some(match stored.state {
            crate::store::SignatureState::Signed => SignatureNote::Signed {
                jbig_bytes: stored.jbig_bytes,
                segments: stored.segments,
                uploaded: stored
                    .upload
                    .is_some_and(|u| u.state == crate::store::AdviceState::Sent),
            },
            _ => {
                let why = match stored.missing_reason.as_deref() {
                    Some("cancelled") => MissingSignature::Cancelled,
                    Some("timed_out") => MissingSignature::TimedOut,
                    _ => MissingSignature::PadFault,
                };
                SignatureNote::Missing {
                    why,
                    note: missing_note(why),
                }
            }
        })
    }

    fn signature_missing(
        &self,
        s: &Signed<'_>,
        why: MissingSignature,
        date_time: &str,
    ) -> SignatureNote {
        let reason = match why {
            MissingSignature::Cancelled => "cancelled",
            MissingSignature::TimedOut => "timed_out",
            _ => "pad_fault",
        };
        if let Err(e) =
            self.journal()
                .record_missing_signature(s.started.id, reason, date_time, self.now_ms())
        {
            log::error!("txn {}: missing signature not journaled: {e}", s.attempt_id);
        }
        log::warn!(
            "txn {}: no signature ({reason}); paper slip needed",
            s.attempt_id
        );
        SignatureNote::Missing {
            why,
            note: missing_note(why),
        }
    }
}

/// OP_SIGNATURE_MISSING with why, in a few words (the code's text says what to do).
fn missing_note(why: MissingSignature) -> Termination {
    let (zh, en) = match why {
        MissingSignature::Cancelled => ("持卡人未签名", "the cardholder did not sign"),
        MissingSignature::TimedOut => ("签名超时", "signing timed out"),
        _ => ("签名板故障", "the signature pad failed"),
    };
    let mut note = Termination::new(TerminationCode::OpSignatureMissing);
    note.merchant_zh = format!("{}（{zh}）", note.merchant_zh);
    note.merchant_en = format!("{} ({en})", note.merchant_en);
    note
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slip_time_is_china_local() {
        // 2026-12-04T02:15:00Z is 10:15 in Beijing (UTC+8).
        let at = UNIX_EPOCH + Duration::from_secs(1_796_350_500);
        assert_eq!(slip_date_time(at), "20261204101500");
    }

    #[test]
    fn the_cvm_result_is_read_from_the_chip_data() {
        let f55 = hex::decode("9F2701409F34031E0300").expect("hex");
        assert_eq!(cvm_results(&f55), Some([0x1E, 0x03, 0x00]));
        assert_eq!(cvm_results(&[0x9F, 0x27, 0x01, 0x40]), None);
    }
}
