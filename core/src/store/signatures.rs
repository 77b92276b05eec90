//! The journal's side of e-signatures (schema step 11): the signature and its upload are
//! journaled in one commit, the upload's progress segment by segment, and what settlement needs
//! to know about uploads still owed.
//!
//! The image is stored only as the caller sealed it (`esign::seal_image`, bound to the row's
//! attempt id), like the PAN: a signature is personal data.

use rusqlite::{OptionalExtension, params};

use super::queue::{Advice, AdvicePurpose, advice_from_row, enqueue_upload};
use super::write_txn::WriteTxn;
use super::{Journal, OpaqueBlob, StoreError};

/// A signed row as `insert_signed` writes it: online approvals bind at once, offline ones
/// (`offline_signatures.rs`) once their advice is answered (`digest` None until then).
pub(super) struct SignedRow<'a> {
    pub transaction_id: i64,
    pub image_sealed: &'a OpaqueBlob,
    pub digest: Option<&'a [u8; 32]>,
    pub date_time: &'a str,
    pub jbig_bytes: usize,
    pub segments: u32,
    pub at_ms: i64,
}

/// In the caller's commit: the signature row and its upload queued. Returns the queue row's
/// sequence number.
pub(super) fn insert_signed(
    tx: &WriteTxn<'_>,
    row: &SignedRow<'_>,
    upload_expires_at: i64,
) -> Result<i64, StoreError> {
    if row.segments == 0 {
        return Err(StoreError::InvalidInput {
            what: "signature segments",
            detail: "an upload has at least one segment".into(),
        });
    }
    tx.prepare_cached(
        "INSERT INTO signatures (transaction_id, state, image_sealed, digest, date_time, \
         jbig_bytes, segments, created_at) VALUES (?1, 'signed', ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        row.transaction_id,
        row.image_sealed.as_bytes(),
        row.digest.map(|d| &d[..]),
        row.date_time,
        row.jbig_bytes as i64,
        i64::from(row.segments),
        row.at_ms
    ])?;
    enqueue_upload(
        tx,
        row.transaction_id,
        AdvicePurpose::ESign,
        upload_expires_at,
    )
}

/// A signature captured for an approved transaction, ready to journal.
#[derive(Debug, Clone)]
pub struct NewSignature {
    pub transaction_id: i64,
    /// The JBIG image, sealed by the caller.
    pub image_sealed: OpaqueBlob,
    /// The binding digest (`esign::SlipIdentity::digest`).
    pub digest: [u8; 32],
    /// The slip's local date and time as the digest covers it, `YYYYMMDDhhmmss`.
    pub date_time: String,
    pub jbig_bytes: usize,
    /// How many upload messages the image takes.
    pub segments: u32,
    pub at_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureState {
    /// Signed on the pad; the image is journaled and its upload queued.
    Signed,
    /// Asked for and not given (refused, timed out, pad fault): the merchant keeps paper.
    Missing,
}

impl SignatureState {
    fn as_str(self) -> &'static str {
        match self {
            SignatureState::Signed => "signed",
            SignatureState::Missing => "missing",
        }
    }
    fn parse(text: &str) -> Result<SignatureState, StoreError> {
        match text {
            "signed" => Ok(SignatureState::Signed),
            "missing" => Ok(SignatureState::Missing),
            other => Err(StoreError::InvalidValue {
                column: "signatures.state",
                value: other.to_owned(),
            }),
        }
    }
}

/// One journaled signature, with its upload's queue row when it has one.
#[derive(Debug, Clone)]
pub struct StoredSignature {
    pub transaction_id: i64,
    pub state: SignatureState,
    /// Why a missing signature is missing (`esign::MissingSignature`, snake case).
    pub missing_reason: Option<String>,
    pub image_sealed: Option<OpaqueBlob>,
    pub digest: Option<[u8; 32]>,
    pub date_time: String,
    pub jbig_bytes: usize,
    pub segments: u32,
    /// Segments the host acknowledged, in order: the next to send is `segments_acked + 1`.
    pub segments_acked: u32,
    pub upload: Option<Advice>,
}

const SIGNATURE_COLUMNS: &str = "transaction_id, state, missing_reason, image_sealed, digest, \
     date_time, jbig_bytes, segments, segments_acked";

impl Journal {
    /// Journals a signature and queues its upload (with its own STAN) in one commit. Returns
    /// the queue row's sequence number.
    pub fn record_signature(
        &mut self,
        s: &NewSignature,
        expires_at: i64,
    ) -> Result<i64, StoreError> {
        self.write(|tx| {
            insert_signed(
                tx,
                &SignedRow {
                    transaction_id: s.transaction_id,
                    image_sealed: &s.image_sealed,
                    digest: Some(&s.digest),
                    date_time: &s.date_time,
                    jbig_bytes: s.jbig_bytes,
                    segments: s.segments,
                    at_ms: s.at_ms,
                },
                expires_at,
            )
        })
    }

    /// Journals that the signature asked for did not come (`reason` names why). One commit.
    pub fn record_missing_signature(
        &mut self,
        transaction_id: i64,
        reason: &str,
        date_time: &str,
        at_ms: i64,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.prepare_cached(
                "INSERT INTO signatures (transaction_id, state, missing_reason, date_time, \
                 created_at) VALUES (?1, 'missing', ?2, ?3, ?4)",
            )?
            .execute(params![transaction_id, reason, date_time, at_ms])?;
            Ok(())
        })
    }

    /// The signature journaled for a transaction, if one was asked for.
    pub fn signature(&self, transaction_id: i64) -> Result<Option<StoredSignature>, StoreError> {
        let row = self
            .conn
            .prepare_cached(&format!(
                "SELECT {SIGNATURE_COLUMNS} FROM signatures WHERE transaction_id = ?1"
            ))?
            .query_row([transaction_id], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, Option<String>>(2)?,
                    row.get::<_, Option<Vec<u8>>>(3)?,
                    row.get::<_, Option<Vec<u8>>>(4)?,
                    row.get::<_, String>(5)?,
                    row.get::<_, i64>(6)?,
                    row.get::<_, i64>(7)?,
                    row.get::<_, i64>(8)?,
                ))
            })
            .optional()?;
        let Some((id, state, missing_reason, image, digest, date_time, bytes, segments, acked)) =
            row
        else {
            return Ok(None);
        };
        let digest =
            match digest {
                None => None,
                Some(d) => Some(<[u8; 32]>::try_from(d.as_slice()).map_err(|_| {
                    StoreError::InvalidValue {
                        column: "signatures.digest",
                        value: format!("{} bytes", d.len()),
                    }
                })?),
            };
        let upload = self.esign_upload_of(id)?;
        Ok(Some(StoredSignature {
            transaction_id: id,
            state: SignatureState::parse(&state)?,
            missing_reason,
            image_sealed: image.map(OpaqueBlob::new),
            digest,
            date_time,
            jbig_bytes: usize::try_from(bytes).unwrap_or(0),
            segments: u32::try_from(segments).unwrap_or(0),
            segments_acked: u32::try_from(acked).unwrap_or(0),
            upload,
        }))
    }

    /// The host acknowledged segment `index` (1-based). Progress only moves forward, so a
    /// segment acknowledged again after a crash changes nothing. One commit.
    pub fn signature_segment_acked(
        &mut self,
        transaction_id: i64,
        index: u32,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            let changed = tx
                .prepare_cached(
                    "UPDATE signatures SET segments_acked = max(segments_acked, ?2) \
                     WHERE transaction_id = ?1 AND state = 'signed' AND ?2 <= segments",
                )?
                .execute(params![transaction_id, i64::from(index)])?;
            if changed == 0 {
                return Err(StoreError::NotFound { id: transaction_id });
            }
            Ok(())
        })
    }

    /// The terminal stops trying an e-signature upload (attempts used up, or the host refused
    /// it): the row becomes `expired`, kept and listed, and the slip needs a paper copy.
    pub fn esign_given_up(&mut self, seq: i64, why: &str) -> Result<(), StoreError> {
        self.write(|tx| {
            let changed = tx
                .prepare_cached(
                    "UPDATE saf_queue SET state = 'expired', attempts = attempts + 1, \
                     last_error = ?2 WHERE seq = ?1 AND purpose = 'esign'",
                )?
                .execute(params![seq, why])?;
            if changed == 0 {
                return Err(StoreError::NotFound { id: seq });
            }
            Ok(())
        })
    }

    /// The e-signature uploads of the transactions in `batch`, in queue order, whatever their
    /// state, each with its transaction's STAN.
    pub fn esign_uploads_in_batch(
        &self,
        batch: super::BatchNo,
    ) -> Result<Vec<(super::Stan, Advice)>, StoreError> {
        let mut out = Vec::new();
        for (advice, stan) in self.esign_rows(
            "SELECT q.seq, q.transaction_id, q.state, q.attempts, q.expires_at, q.last_error, \
             q.purpose, q.stan, t.stan FROM saf_queue q \
             JOIN transactions t ON t.id = q.transaction_id \
             WHERE q.purpose = 'esign' AND t.batch_no = ?1 ORDER BY q.seq",
            i64::from(batch.value()),
        )? {
            out.push((super::journal::stan_from_db(stan)?, advice));
        }
        Ok(out)
    }

    fn esign_upload_of(&self, transaction_id: i64) -> Result<Option<Advice>, StoreError> {
        Ok(self
            .esign_rows(
                "SELECT seq, transaction_id, state, attempts, expires_at, last_error, purpose, \
                 stan, 0 \
                 FROM saf_queue WHERE purpose = 'esign' AND transaction_id = ?1 ORDER BY seq",
                transaction_id,
            )?
            .pop()
            .map(|(advice, _)| advice))
    }

    /// E-sign queue rows, each with the STAN of the transaction it signs (the query's ninth
    /// column, after the columns `advice_from_row` reads).
    fn esign_rows(&self, sql: &str, key: i64) -> Result<Vec<(Advice, i64)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let mut rows = stmt.query([key])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push((advice_from_row(row)?, row.get(8)?));
        }
        Ok(out)
    }
}

impl SignatureState {
    /// The text the journal keeps (for reports).
    pub fn name(self) -> &'static str {
        self.as_str()
    }
}
