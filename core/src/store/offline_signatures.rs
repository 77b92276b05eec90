//! Signatures of offline approvals (chip Y1/Y3, contactless electronic cash): the cardholder
//! signs at the card and the sealed image is journaled in the approval's own commit, but it
//! cannot be bound yet — the binding digest covers the RRN, which only the answer to the
//! offline advice brings. So the signature row starts without a digest, its upload is queued
//! behind the advice, and it is bound (one commit) only once the advice is answered.

use rusqlite::{OptionalExtension, params};

use super::signatures::{SignedRow, insert_signed};
use super::write_txn::WriteTxn;
use super::{Journal, OpaqueBlob, StoreError};

/// A signature captured at the card for an approval that has no host references yet.
#[derive(Debug, Clone)]
pub struct UnboundSignature {
    /// The JBIG image, sealed by the caller.
    pub image_sealed: OpaqueBlob,
    /// The slip's local date and time, `YYYYMMDDhhmmss`; the digest will cover it.
    pub date_time: String,
    pub jbig_bytes: usize,
    pub segments: u32,
    pub at_ms: i64,
}

/// Where the offline advice ahead of an unbound signature stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AdviceStanding {
    /// The transaction has no offline advice (an online approval): nothing to wait for.
    None,
    /// Queued and not answered yet: the signature waits.
    Pending,
    /// The host answered it: the transaction holds the host's references.
    Answered,
    /// Given up (expired) unanswered: the acquirer does not know the sale.
    Unanswered,
}

/// Inside the approval's commit: the signature without its digest, and its upload queued
/// (after the advice the same commit queued, so the queue sends the advice first).
pub(super) fn insert_unbound_signature(
    tx: &WriteTxn<'_>,
    transaction_id: i64,
    s: &UnboundSignature,
    upload_expires_at: i64,
) -> Result<(), StoreError> {
    insert_signed(
        tx,
        &SignedRow {
            transaction_id,
            image_sealed: &s.image_sealed,
            digest: None,
            date_time: &s.date_time,
            jbig_bytes: s.jbig_bytes,
            segments: s.segments,
            at_ms: s.at_ms,
        },
        upload_expires_at,
    )?;
    Ok(())
}

impl Journal {
    /// Where the offline advice of `transaction_id` stands (the signature upload behind it
    /// binds only once it is `Answered`).
    pub fn advice_standing(&self, transaction_id: i64) -> Result<AdviceStanding, StoreError> {
        let state: Option<String> = self
            .conn
            .prepare_cached(
                "SELECT state FROM saf_queue WHERE transaction_id = ?1 AND purpose = 'advice' \
                 ORDER BY seq DESC LIMIT 1",
            )?
            .query_row([transaction_id], |row| row.get(0))
            .optional()?;
        Ok(match state.as_deref() {
            None => AdviceStanding::None,
            Some("pending") => AdviceStanding::Pending,
            Some("sent") => AdviceStanding::Answered,
            Some(_) => AdviceStanding::Unanswered,
        })
    }

    /// Binds an offline approval's signature once its advice is answered: the digest over the
    /// slip (with the RRN the answer brought) and the image. One commit; refused while the
    /// advice is unanswered, and a signature already bound keeps its digest.
    pub fn bind_signature(
        &mut self,
        transaction_id: i64,
        digest: &[u8; 32],
    ) -> Result<(), StoreError> {
        if self.advice_standing(transaction_id)? != AdviceStanding::Answered {
            return Err(StoreError::InvalidInput {
                what: "signature binding",
                detail: "the offline advice has not been answered".into(),
            });
        }
        self.write(|tx| {
            let changed = tx
                .prepare_cached(
                    "UPDATE signatures SET digest = ?2 WHERE transaction_id = ?1 \
                     AND state = 'signed' AND digest IS NULL",
                )?
                .execute(params![transaction_id, &digest[..]])?;
            let bound: bool = tx
                .prepare_cached(
                    "SELECT digest IS NOT NULL FROM signatures WHERE transaction_id = ?1 \
                     AND state = 'signed'",
                )?
                .query_row([transaction_id], |row| row.get(0))
                .optional()?
                .unwrap_or(false);
            if changed == 0 && !bound {
                return Err(StoreError::NotFound { id: transaction_id });
            }
            Ok(())
        })
    }
}
