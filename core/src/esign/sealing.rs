//! The signature image at rest: sealed like the PAN (AES-256-GCM under the terminal's storage
//! key, `crypto::seal`), bound to its journal row by the attempt id, because a signature is
//! personal data and an image copied onto another row must not open there.

use zeroize::Zeroizing;

use crate::crypto::{SealError, SecretKey, open, seal};
use crate::store::OpaqueBlob;

fn label(attempt_id: &str) -> Vec<u8> {
    let mut l = b"esign-image:".to_vec();
    l.extend_from_slice(attempt_id.as_bytes());
    l
}

/// Seals the JBIG image of the transaction journaled as `attempt_id`.
pub fn seal_image(
    storage_key: &SecretKey,
    attempt_id: &str,
    jbig: &[u8],
) -> Result<OpaqueBlob, SealError> {
    seal(storage_key, &label(attempt_id), jbig).map(OpaqueBlob::new)
}

/// Opens the image sealed for `attempt_id`; a blob from another row, or tampered, is refused.
pub fn open_image(
    storage_key: &SecretKey,
    attempt_id: &str,
    sealed: &OpaqueBlob,
) -> Result<Zeroizing<Vec<u8>>, SealError> {
    open(storage_key, &label(attempt_id), sealed.as_bytes())
}

fn phone_label(attempt_id: &str) -> Vec<u8> {
    let mut l = b"esign-phone:".to_vec();
    l.extend_from_slice(attempt_id.as_bytes());
    l
}

/// Seals the cardholder's mobile number for the SMS slip of `attempt_id` (personal data, as
/// the image: another row, or another purpose, cannot open it).
pub fn seal_phone(
    storage_key: &SecretKey,
    attempt_id: &str,
    phone: &str,
) -> Result<OpaqueBlob, SealError> {
    seal(storage_key, &phone_label(attempt_id), phone.as_bytes()).map(OpaqueBlob::new)
}

/// Opens the number sealed for `attempt_id`.
pub fn open_phone(
    storage_key: &SecretKey,
    attempt_id: &str,
    sealed: &OpaqueBlob,
) -> Result<Zeroizing<String>, SealError> {
    let bytes = open(storage_key, &phone_label(attempt_id), sealed.as_bytes())?;
    Ok(Zeroizing::new(String::from_utf8_lossy(&bytes).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::KeyAlgorithm;

    fn key(byte: u8) -> SecretKey {
        SecretKey::new(KeyAlgorithm::Aes, &[byte; 32]).expect("AES-256 key")
    }

    #[test]
    fn a_sealed_image_opens_only_on_its_own_row_under_its_key() {
        let jbig = b"\x00\x00\x01\x00signature";
        let sealed = seal_image(&key(7), "attempt-1", jbig).expect("seal");
        assert!(!sealed.as_bytes().windows(9).any(|w| w == b"signature"));
        assert_eq!(
            open_image(&key(7), "attempt-1", &sealed).map(|p| p.to_vec()),
            Ok(jbig.to_vec())
        );
        assert_eq!(
            open_image(&key(7), "attempt-2", &sealed).map(|p| p.to_vec()),
            Err(SealError::Rejected)
        );
        assert_eq!(
            open_image(&key(8), "attempt-1", &sealed).map(|p| p.to_vec()),
            Err(SealError::Rejected)
        );
        assert!(!format!("{sealed:?}").contains("signature"));
    }

    #[test]
    fn a_phone_opens_only_on_its_own_row_and_never_as_an_image() {
        let sealed = seal_phone(&key(7), "attempt-1", "13812345678").expect("seal");
        assert!(
            !sealed.as_bytes().windows(11).any(|w| w == b"13812345678"),
            "sealed, not stored in clear"
        );
        assert_eq!(
            open_phone(&key(7), "attempt-1", &sealed)
                .expect("open")
                .as_str(),
            "13812345678"
        );
        assert!(open_phone(&key(7), "attempt-2", &sealed).is_err());
        assert!(open_phone(&key(8), "attempt-1", &sealed).is_err());
        assert!(open_image(&key(7), "attempt-1", &sealed).is_err());
    }
}
