//! Data at rest sealed with AES-256-GCM (ring): the journal's PANs and the vault's working keys.
//! Blob layout: version (1) ‖ nonce (12) ‖ ciphertext ‖ tag (16); the label is the associated
//! data, so a blob moved to another column or purpose fails to open.

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use thiserror::Error;
use zeroize::Zeroizing;

use super::random::RandomSource;
use super::secret::{KeyAlgorithm, SecretKey};

const BLOB_VERSION: u8 = 1;
const TAG_LEN: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SealError {
    #[error("storage key must be a 32-byte AES key")]
    StorageKey,
    #[error("sealed blob is malformed: {reason}")]
    Malformed { reason: &'static str },
    #[error("sealed blob failed authentication (tampered, wrong key or wrong label)")]
    Rejected,
    #[error("no randomness for the nonce")]
    Random,
}

fn aead_key(key: &SecretKey) -> Result<LessSafeKey, SealError> {
    if key.algorithm() != KeyAlgorithm::Aes || key.len() != 32 {
        return Err(SealError::StorageKey);
    }
    let unbound =
        UnboundKey::new(&AES_256_GCM, key.expose_secret()).map_err(|_| SealError::StorageKey)?;
    Ok(LessSafeKey::new(unbound))
}

/// Seals `plain` under `key` with a fresh random nonce.
pub(crate) fn seal_with(
    key: &SecretKey,
    label: &[u8],
    plain: &[u8],
    random: &dyn RandomSource,
) -> Result<Vec<u8>, SealError> {
    let sealing = aead_key(key)?;
    let mut nonce = [0u8; NONCE_LEN];
    random.fill(&mut nonce).map_err(|_| SealError::Random)?;
    let mut body = plain.to_vec();
    let tag = sealing
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(label),
            &mut body,
        )
        .map_err(|_| SealError::Rejected)?;
    let mut blob = Vec::with_capacity(1 + NONCE_LEN + body.len() + TAG_LEN);
    blob.push(BLOB_VERSION);
    blob.extend_from_slice(&nonce);
    blob.extend_from_slice(&body);
    blob.extend_from_slice(tag.as_ref());
    Ok(blob)
}

/// Seals with the system random generator.
pub fn seal(key: &SecretKey, label: &[u8], plain: &[u8]) -> Result<Vec<u8>, SealError> {
    seal_with(key, label, plain, &super::random::SystemRandomSource::new())
}

/// Opens a blob made by `seal`; the plaintext is zeroized when dropped.
pub fn open(key: &SecretKey, label: &[u8], blob: &[u8]) -> Result<Zeroizing<Vec<u8>>, SealError> {
    let opening = aead_key(key)?;
    let (&version, rest) = blob.split_first().ok_or(SealError::Malformed {
        reason: "empty blob",
    })?;
    if version != BLOB_VERSION {
        return Err(SealError::Malformed {
            reason: "unknown version",
        });
    }
    if rest.len() < NONCE_LEN + TAG_LEN {
        return Err(SealError::Malformed {
            reason: "shorter than nonce and tag",
        });
    }
    let (nonce, sealed) = rest.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::Malformed {
        reason: "bad nonce",
    })?;
    let mut buf = Zeroizing::new(sealed.to_vec());
    let len = opening
        .open_in_place(nonce, Aad::from(label), &mut buf)
        .map_err(|_| SealError::Rejected)?
        .len();
    buf.truncate(len);
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> SecretKey {
        SecretKey::new(KeyAlgorithm::Aes, &[byte; 32]).unwrap()
    }

    #[test]
    fn round_trip_and_every_tamper_is_rejected() {
        let blob = seal(&key(1), b"pan", b"6222021234567890123").unwrap();
        assert_eq!(
            &*open(&key(1), b"pan", &blob).unwrap(),
            b"6222021234567890123"
        );
        assert!(
            !blob.windows(6).any(|w| w == b"622202"),
            "no plaintext in the blob"
        );
        assert_eq!(open(&key(2), b"pan", &blob), Err(SealError::Rejected));
        assert_eq!(open(&key(1), b"keys", &blob), Err(SealError::Rejected));
        for i in 1..blob.len() {
            let mut bad = blob.clone();
            bad[i] ^= 0x01;
            assert_eq!(
                open(&key(1), b"pan", &bad),
                Err(SealError::Rejected),
                "byte {i}"
            );
        }
        assert!(matches!(
            open(&key(1), b"pan", &blob[..20]),
            Err(SealError::Malformed { .. })
        ));
        assert!(matches!(
            open(&key(1), b"pan", &[]),
            Err(SealError::Malformed { .. })
        ));
    }

    #[test]
    fn nonces_differ_between_seals() {
        let a = seal(&key(1), b"pan", b"x").unwrap();
        let b = seal(&key(1), b"pan", b"x").unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn only_aes_256_keys_seal() {
        let tdes = SecretKey::new(KeyAlgorithm::Tdes, &[3; 16]).unwrap();
        assert_eq!(seal(&tdes, b"pan", b"x"), Err(SealError::StorageKey));
    }
}
