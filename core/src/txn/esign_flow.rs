//! 电签 in the engine: after an approval that `esign::decide` says needs a signature, the
//! cardholder signs on the [`SignaturePad`] port; the strokes are rendered, compressed as JBIG,
//! sealed like the PAN and journaled together with their upload in one commit, and the upload
//! is tried at once. Nothing here can undo the payment: a refusal, a timeout or a pad fault
//! becomes a note telling the merchant to keep a signed paper slip instead.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::calendar::civil_from_days;
use crate::card::emv::{IccCardData, field55};
use crate::card::{EntryMode, Pan};
use crate::diag::{Termination, TerminationCode};
use crate::esign::{
    self, JbigOptions, MissingSignature, SignatureContext, SignaturePolicy, SlipFields,
    SlipIdentity, Strokes,
};
use crate::ports::{PromptText, SignatureCapture, SignaturePad, SignatureRequest};
use crate::store::{NewSignature, OnlineTxn};
use crate::txn::chip_uploads::UPLOAD_LIFETIME_MS;
use crate::txn::esign_upload::SEGMENT_BYTES;
use crate::txn::kind::TxnKind;
use crate::txn::online::Prepared;
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
    matches!(
        kind,
        TxnKind::Sale | TxnKind::OfflineSale | TxnKind::PreAuth | TxnKind::Completion
    )
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

/// The approved transaction as the signature step sees it before asking.
pub(crate) struct Ask<'a> {
    pub kind: TxnKind,
    pub attempt_id: &'a str,
    pub amount_fen: u64,
    pub entry_mode: EntryMode,
    pub pan: &'a Pan,
    /// The chip's card data (AID, label) and field 55 (its CVM result), for a chip or a tap.
    pub chip: Option<(&'a IccCardData, &'a [u8])>,
}

impl<'a> Prepared<'a> {
    /// What the signature step needs to know about this transaction before asking.
    pub(crate) fn signature_ask(&self) -> Ask<'a> {
        Ask {
            kind: self.kind,
            attempt_id: self.attempt_id,
            amount_fen: self.amount_fen,
            entry_mode: self.entry.mode,
            pan: self.pan,
            chip: self
                .icc
                .map(|i| (&i.request.card, i.request.field55.as_slice())),
        }
    }
}

/// An online approval as the signature step sees it: the host's references bind it at once.
pub(crate) struct Signed<'a> {
    pub ask: Ask<'a>,
    pub started: &'a OnlineTxn,
    pub rrn: &'a str,
    pub auth_code: &'a str,
}

/// What the cardholder gave when asked.
pub(crate) enum Captured {
    Strokes(Strokes),
    Missing(MissingSignature),
}

/// The signature image ready to journal: JBIG, its upload segments, sealed for the journal.
pub(crate) struct SealedImage {
    pub jbig: Vec<u8>,
    pub segments: u32,
    pub sealed: crate::store::OpaqueBlob,
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

    /// Decides whether the approval needs a signature and, when it does, asks the pad. `None`
    /// when nothing was asked; otherwise what came back and the slip's date and time.
    pub(crate) fn capture_signature(&self, ask: &Ask<'_>) -> Option<(Captured, String)> {
        let setup = self.signature_setup()?;
        if !signs(ask.kind) {
            return None;
        }
        let chip = ask
            .chip
            .map(|(card, _)| (card.aid.as_slice(), card.label.as_str()));
        let card_kind = esign::card_kind(chip, ask.pan.bin().eight(), &setup.policy.card_kind_bins);
        let decision = esign::decide(
            &setup.policy,
            &SignatureContext {
                entry_mode: ask.entry_mode,
                card_kind,
                amount_fen: ask.amount_fen,
                cvm_results: ask.chip.and_then(|(_, f55)| field55::cvm_results(f55)),
            },
        );
        log::debug!(
            "txn {}: signature {:?} ({:?}, card kind {card_kind:?})",
            ask.attempt_id,
            decision.required,
            decision.reason
        );
        if !decision.required {
            return None;
        }
        let request = SignatureRequest {
            amount_fen: ask.amount_fen,
            prompt: PromptText::new("持卡人签名", "Cardholder signature"),
            timeout: setup.timeout,
        };
        let date_time = slip_date_time(self.ports.clock.now());
        let captured = match setup.pad.capture(&request) {
            Ok(SignatureCapture::Signed(strokes)) => Captured::Strokes(strokes),
            Ok(SignatureCapture::Cancelled) => Captured::Missing(MissingSignature::Cancelled),
            Ok(SignatureCapture::TimedOut) => Captured::Missing(MissingSignature::TimedOut),
            Err(fault) => {
                log::warn!("txn {}: signature pad: {fault}", ask.attempt_id);
                Captured::Missing(MissingSignature::PadFault)
            }
        };
        Some((captured, date_time))
    }

    /// After an approval is journaled: asks for the signature when one is needed, journals it
    /// with its upload, and tries the upload. `None` when no signature was asked for.
    pub(crate) fn sign_approval(&self, s: &Signed<'_>) -> Option<SignatureNote> {
        let (captured, date_time) = self.capture_signature(&s.ask)?;
        let strokes = match captured {
            Captured::Strokes(strokes) => strokes,
            Captured::Missing(why) => {
                return Some(self.signature_missing(
                    s.ask.attempt_id,
                    s.started.id,
                    why,
                    &date_time,
                ));
            }
        };
        match self.journal_signature(s, &strokes, &date_time) {
            Ok((jbig_bytes, segments)) => {
                crate::crashpoint::reached("esign.journaled", s.ask.kind.name());
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
                log::error!("txn {}: signature not journaled: {why}", s.ask.attempt_id);
                Some(self.signature_missing(
                    s.ask.attempt_id,
                    s.started.id,
                    MissingSignature::PadFault,
                    &date_time,
                ))
            }
        }
    }

    /// Strokes to JBIG in upload segments, sealed for the journal under the attempt id.
    pub(crate) fn seal_strokes(
        &self,
        attempt_id: &str,
        strokes: &Strokes,
    ) -> Result<SealedImage, String> {
        let raster = esign::render(
            strokes,
            esign::DEFAULT_WIDTH,
            esign::DEFAULT_HEIGHT,
            esign::DEFAULT_PEN,
        )
        .map_err(|e| e.to_string())?;
        let jbig = esign::encode_jbig(&raster, &JbigOptions::default());
        let segments = esign::split(&jbig, SEGMENT_BYTES).map_err(|e| e.to_string())?;
        let sealed = esign::seal_image(&self.config.storage_key, attempt_id, &jbig)
            .map_err(|e| e.to_string())?;
        Ok(SealedImage {
            jbig,
            segments: u32::try_from(segments.len()).unwrap_or(u32::MAX),
            sealed,
        })
    }

    /// Strokes to JBIG, bound to the slip, sealed, and journaled with the upload (one commit).
    fn journal_signature(
        &self,
        s: &Signed<'_>,
        strokes: &Strokes,
        date_time: &str,
    ) -> Result<(usize, u32), String> {
        let image = self.seal_strokes(s.ask.attempt_id, strokes)?;
        let slip = SlipIdentity::new(&SlipFields {
            terminal_id: &self.config.terminal_id,
            merchant_id: &self.config.merchant_id,
            batch: s.started.batch_no,
            stan: s.started.stan,
            amount_fen: s.ask.amount_fen,
            date_time,
            rrn: s.rrn,
            auth_code: s.auth_code,
        })
        .map_err(|e| e.to_string())?;
        let digest = slip.digest(&image.jbig);
        let at_ms = self.now_ms();
        self.journal()
            .record_signature(
                &NewSignature {
                    transaction_id: s.started.id,
                    image_sealed: image.sealed,
                    digest: *digest.as_bytes(),
                    date_time: date_time.to_owned(),
                    jbig_bytes: image.jbig.len(),
                    segments: image.segments,
                    at_ms,
                },
                at_ms + UPLOAD_LIFETIME_MS,
            )
            .map_err(|e| e.to_string())?;
        log::info!(
            "txn {}: signed ({} bytes JBIG, {} segment(s)), upload queued",
            s.ask.attempt_id,
            image.jbig.len(),
            image.segments
        );
        Ok((image.jbig.len(), image.segments))
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

    /// Journals (its own commit, after the approval's) that the signature asked for did not
    /// come, and tells the merchant to keep a signed paper slip.
    pub(crate) fn signature_missing(
        &self,
        attempt_id: &str,
        transaction_id: i64,
        why: MissingSignature,
        date_time: &str,
    ) -> SignatureNote {
        let reason = match why {
            MissingSignature::Cancelled => "cancelled",
            MissingSignature::TimedOut => "timed_out",
            _ => "pad_fault",
        };
        if let Err(e) = self.journal().record_missing_signature(
            transaction_id,
            reason,
            date_time,
            self.now_ms(),
        ) {
            log::error!("txn {attempt_id}: missing signature not journaled: {e}");
        }
        log::warn!("txn {attempt_id}: no signature ({reason}); paper slip needed");
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
}
