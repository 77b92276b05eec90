//! The e-slip (电子签购单) of a journaled transaction: what `smartpos slip`, a reprint and the
//! shell show instead of paper. Built from the journal only (masked PAN, references, the
//! signature's state) plus, when the caller holds the storage key, the signature image.

use zeroize::Zeroizing;

use crate::crypto::SecretKey;
use crate::esign::{
    ESlip, SignatureDigest, SlipSignature, is_mainland_mobile, mask_phone, open_image, open_phone,
    seal_phone,
};
use crate::store::{Journal, SignatureState, StoreError, TransactionRecord};
use crate::txn::esign_flow::slip_date_time;

/// Who the slip is from: merchant name, merchant id (42), terminal id (41).
#[derive(Debug, Clone, Copy)]
pub struct SlipHeader<'a> {
    pub merchant_name: &'a str,
    pub merchant_id: &'a str,
    pub terminal_id: &'a str,
}

/// An e-slip and, when it was signed and the key opens it, the JBIG signature.
#[derive(Debug, Clone)]
pub struct SlipWithImage {
    pub slip: ESlip,
    pub jbig: Option<Zeroizing<Vec<u8>>>,
    /// For a signed slip: whether the acquirer has acknowledged the signature's upload
    /// (`false` while it is queued, or after it was given up).
    pub upload_sent: Option<bool>,
}

/// The slip of the newest transaction journaled with `stan` (any batch), `None` when there is
/// none. The image is opened only with `storage_key`.
pub fn e_slip(
    journal: &Journal,
    header: SlipHeader<'_>,
    stan: u32,
    storage_key: Option<&SecretKey>,
) -> Result<Option<SlipWithImage>, StoreError> {
    let Some(record) = journal
        .list(u32::MAX, 0)?
        .into_iter()
        .find(|r| r.stan.value() == stan)
    else {
        return Ok(None);
    };
    let signature = journal.signature(record.id)?;
    let upload_sent = signature
        .as_ref()
        .and_then(|s| s.upload.as_ref())
        .map(|u| u.state == crate::store::AdviceState::Sent);
    let mut jbig = None;
    let (state, date_time, cvm) = match &signature {
        None => (
            SlipSignature::NotRequired {
                reason: "no signature asked for".into(),
            },
            created_at(&record),
            "no signature",
        ),
        Some(s) if s.state == SignatureState::Signed => {
            if let (Some(key), Some(sealed)) = (storage_key, &s.image_sealed) {
                jbig = open_image(key, &record.attempt_id, sealed).ok();
            }
            // An offline approval's signature has no digest until its advice is answered.
            let digest = s
                .digest
                .map(|d| SignatureDigest::from_bytes(d).to_hex())
                .unwrap_or_default();
            (
                SlipSignature::Signed {
                    jbig_bytes: s.jbig_bytes,
                    digest,
                },
                s.date_time.clone(),
                "signature (e-signed)",
            )
        }
        Some(s) => (
            SlipSignature::Missing {
                why: match s.missing_reason.as_deref() {
                    Some("cancelled") => crate::esign::MissingSignature::Cancelled,
                    Some("timed_out") => crate::esign::MissingSignature::TimedOut,
                    _ => crate::esign::MissingSignature::PadFault,
                },
            },
            s.date_time.clone(),
            "signature on paper",
        ),
    };
    let phone = match (storage_key, journal.slip_phone(record.id)?) {
        (Some(key), Some(sealed)) => open_phone(key, &record.attempt_id, &sealed)
            .ok()
            .map(|p| mask_phone(&p)),
        _ => None,
    };
    Ok(Some(SlipWithImage {
        slip: ESlip {
            merchant_name: header.merchant_name.to_owned(),
            merchant_id: header.merchant_id.to_owned(),
            terminal_id: header.terminal_id.to_owned(),
            masked_pan: record.pan_masked.clone().unwrap_or_default(),
            entry_mode: record.entry_mode.as_str().to_owned(),
            amount_fen: record.amount_fen,
            date_time,
            batch_no: record.batch_no.value(),
            stan: record.stan.value(),
            rrn: record.rrn.clone().unwrap_or_default(),
            auth_code: record.auth_code.clone().unwrap_or_default(),
            cvm: cvm.to_owned(),
            signature: state,
            phone,
        },
        jbig,
        upload_sent,
    }))
}

fn created_at(record: &TransactionRecord) -> String {
    slip_date_time(record.created())
}

/// Why a number could not be kept for an SMS slip.
#[derive(Debug, thiserror::Error)]
pub enum SlipPhoneError {
    #[error("not a mainland mobile number (11 digits starting with 1)")]
    NotAMobileNumber,
    #[error("no transaction journaled as attempt {attempt_id:?}")]
    NoSuchTransaction { attempt_id: String },
    #[error("the number could not be sealed: {0}")]
    Seal(#[from] crate::crypto::SealError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl crate::txn::Terminal {
    /// Keeps the cardholder's mobile number for the SMS e-slip of `attempt_id`, sealed under the
    /// storage key; slips show it masked (138****5678). Replaces a number given before.
    pub fn set_slip_phone(&self, attempt_id: &str, phone: &str) -> Result<(), SlipPhoneError> {
        if !is_mainland_mobile(phone) {
            return Err(SlipPhoneError::NotAMobileNumber);
        }
        let journal = self.journal();
        let record = journal.by_attempt_id(attempt_id)?.ok_or_else(|| {
            SlipPhoneError::NoSuchTransaction {
                attempt_id: attempt_id.to_owned(),
            }
        })?;
        let sealed = seal_phone(&self.config.storage_key, attempt_id, phone)?;
        journal.set_slip_phone(record.id, &sealed, self.now_ms())?;
        Ok(())
    }

    /// The e-slip of the transaction journaled with `stan`, with its signature image.
    pub fn e_slip(&self, stan: u32) -> Result<Option<SlipWithImage>, StoreError> {
        let header = SlipHeader {
            merchant_name: &self.config.merchant_name,
            merchant_id: &self.config.merchant_id,
            terminal_id: &self.config.terminal_id,
        };
        e_slip(
            &self.journal(),
            header,
            stan,
            Some(&self.config.storage_key),
        )
    }
}
