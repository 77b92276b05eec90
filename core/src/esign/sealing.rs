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
}
