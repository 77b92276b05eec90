//! 电签 for offline approvals (chip Y1 and Y3, contactless electronic cash): the card is in
//! front of the cardholder now, so the signature is asked for now, before the approval's commit,
//! and journaled sealed in that same commit — a crash leaves either neither or both. The image
//! cannot be bound yet: the binding digest covers the RRN, which only the acquirer's answer to
//! the offline advice brings. So its upload is queued behind the advice and binds when it
//! reaches the front of the queue (`esign_upload`), after the advice was answered.

use crate::esign::{MissingSignature, SignatureDigest, SlipFields, SlipIdentity};
use crate::store::{AdviceStanding, StoreError, TransactionRecord, TxnState, UnboundSignature};
use crate::txn::esign_flow::{Ask, Captured, SignatureNote};
use crate::txn::terminal::Terminal;

/// What the cardholder gave for an offline approval, before it is journaled.
pub(crate) enum OfflineSigning {
    /// No signature was needed (or no pad is fitted).
    NotAsked,
    /// Asked for and not given: journaled after the approval, the paper slip is signed.
    Missing {
        why: MissingSignature,
        date_time: String,
    },
    /// Signed: journaled with the approval, unbound until the advice is answered.
    Signed(UnboundSignature),
}

impl OfflineSigning {
    /// The signature to journal in the approval's commit, if one was given.
    pub(crate) fn unbound(&self) -> Option<&UnboundSignature> {
        match self {
            OfflineSigning::Signed(s) => Some(s),
            _ => None,
        }
    }
}

impl Terminal {
    /// Before an offline approval is journaled: asks for the signature when one is needed and
    /// seals what was signed.
    pub(crate) fn sign_offline(&self, ask: &Ask<'_>) -> OfflineSigning {
        let Some((captured, date_time)) = self.capture_signature(ask) else {
            return OfflineSigning::NotAsked;
        };
        let strokes = match captured {
            Captured::Strokes(strokes) => strokes,
            Captured::Missing(why) => return OfflineSigning::Missing { why, date_time },
        };
        match self.seal_strokes(ask.attempt_id, &strokes) {
            Ok(image) => OfflineSigning::Signed(UnboundSignature {
                image_sealed: image.sealed,
                date_time,
                jbig_bytes: image.jbig.len(),
                segments: image.segments,
                at_ms: self.now_ms(),
            }),
            Err(why) => {
                log::error!("txn {}: signature not sealed: {why}", ask.attempt_id);
                OfflineSigning::Missing {
                    why: MissingSignature::PadFault,
                    date_time,
                }
            }
        }
    }

    /// After the offline approval's commit: the note for the approval (a missing signature is
    /// journaled now, in a commit of its own, as for an online approval).
    pub(crate) fn offline_signature_note(
        &self,
        signing: &OfflineSigning,
        attempt_id: &str,
        transaction_id: i64,
    ) -> Option<SignatureNote> {
        match signing {
            OfflineSigning::NotAsked => None,
            OfflineSigning::Missing { why, date_time } => {
                Some(self.signature_missing(attempt_id, transaction_id, *why, date_time))
            }
            OfflineSigning::Signed(s) => {
                log::info!(
                    "txn {attempt_id}: signed offline ({} bytes JBIG, {} segment(s)); the \
                     upload waits for the advice",
                    s.jbig_bytes,
                    s.segments
                );
                Some(SignatureNote::Signed {
                    jbig_bytes: s.jbig_bytes,
                    segments: s.segments,
                    uploaded: false,
                })
            }
        }
    }
}

/// Whether an unbound signature can go now.
pub(crate) enum Binding {
    /// Bound (and journaled so): upload it with this digest.
    Bound(SignatureDigest),
    /// Its advice is still queued: the signature waits behind it (no attempt used).
    Wait,
    /// It can never bind (the advice was never answered, or the acquirer declined the sale):
    /// the upload is given up and the slip needs a signed paper copy.
    Never(String),
}

impl Terminal {
    /// Binds an offline approval's signature to its slip once the advice's answer has given
    /// the transaction its RRN and auth code (journaled in one commit before any segment goes).
    pub(crate) fn bind_offline_signature(
        &self,
        record: &TransactionRecord,
        date_time: &str,
        image: &[u8],
    ) -> Result<Binding, StoreError> {
        match self.journal().advice_standing(record.id)? {
            AdviceStanding::Pending => return Ok(Binding::Wait),
            AdviceStanding::Unanswered => {
                return Ok(Binding::Never(
                    "its offline advice was never answered".into(),
                ));
            }
            _ => {}
        }
        if !matches!(record.state, TxnState::Approved | TxnState::Voided) {
            return Ok(Binding::Never(format!(
                "the sale ended {} at its advice",
                record.state
            )));
        }
        let slip = SlipIdentity::new(&SlipFields {
            terminal_id: &self.config.terminal_id,
            merchant_id: &self.config.merchant_id,
            batch: record.batch_no,
            stan: record.stan,
            amount_fen: record.amount_fen,
            date_time,
            rrn: record.rrn.as_deref().unwrap_or_default(),
            auth_code: record.auth_code.as_deref().unwrap_or_default(),
        });
        let slip = match slip {
            Ok(slip) => slip,
            Err(e) => {
                return Ok(Binding::Never(format!(
                    "the advice's answer does not complete the slip: {e}"
                )));
            }
        };
        let digest = slip.digest(image);
        self.journal()
            .bind_signature(record.id, digest.as_bytes())?;
        crate::crashpoint::reached("esign.bound", record.kind.as_str());
        log::info!(
            "txn {}: signature bound to its slip after the advice",
            record.attempt_id
        );
        Ok(Binding::Bound(digest))
    }
}
