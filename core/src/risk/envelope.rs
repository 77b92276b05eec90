//! The signed envelope shared by rule bundles and hot-list deltas.
//!
//! ```text
//! "SPRK" | kind u8 (1 bundle, 2 hot-list delta) | body length u32 BE | body | Ed25519 signature (64)
//! ```
//! The signature covers every byte before it, so the kind cannot be swapped and nothing can be
//! appended or cut. Verification uses ring; the key is a configuration input, never compiled in.

use ring::signature::{ED25519, Ed25519KeyPair, UnparsedPublicKey};

const MAGIC: &[u8; 4] = b"SPRK";
const HEADER: usize = 9;
const SIGNATURE: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Bundle = 1,
    HotListDelta = 2,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    #[error("truncated at byte {offset}: {what} needs {needed} more byte(s)")]
    Truncated {
        offset: usize,
        what: &'static str,
        needed: usize,
    },
    #[error("not a signed SmartPOS envelope: bad magic at byte 0")]
    BadMagic,
    #[error("envelope kind {found} at byte 4, expected {expected}")]
    WrongKind { found: u8, expected: u8 },
    #[error("unsigned: nothing after the body at byte {offset}")]
    Unsigned { offset: usize },
    #[error("{extra} unexpected byte(s) after the signature at byte {offset}")]
    TrailingBytes { offset: usize, extra: usize },
    #[error("signature does not verify with the trusted key")]
    BadSignature,
    #[error("trusted public key must be 32 bytes, got {0}")]
    BadTrustedKey(usize),
    /// The terminal was configured without a fleet key: only the built-in bundle is trusted.
    #[error(
        "no fleet signing key is configured: only the built-in rules are trusted, so signed \
         updates are refused"
    )]
    NoTrustedKey,
    #[error("not an Ed25519 private key (PKCS#8 document or 32-byte seed expected)")]
    BadPrivateKey,
}

/// Returns the body of a verified envelope of `kind`.
pub fn open<'a>(
    bytes: &'a [u8],
    kind: Kind,
    trusted_key: &[u8],
) -> Result<&'a [u8], EnvelopeError> {
    if trusted_key.len() != 32 {
        return Err(EnvelopeError::BadTrustedKey(trusted_key.len()));
    }
    let Parts {
        signed,
        body,
        signature,
    } = split(bytes, kind)?;
    UnparsedPublicKey::new(&ED25519, trusted_key)
        .verify(signed, signature)
        .map_err(|_| EnvelopeError::BadSignature)?;
    Ok(body)
}

/// Splits without verifying.
struct Parts<'a> {
    signed: &'a [u8],
    body: &'a [u8],
    signature: &'a [u8],
}

fn split(bytes: &[u8], kind: Kind) -> Result<Parts<'_>, EnvelopeError> {
    if bytes.len() < HEADER {
        if bytes.len() >= 4 && &bytes[..4] != MAGIC {
            return Err(EnvelopeError::BadMagic);
        }
        return Err(EnvelopeError::Truncated {
            offset: bytes.len(),
            what: "header",
            needed: HEADER - bytes.len(),
        });
    }
    if &bytes[..4] != MAGIC {
        return Err(EnvelopeError::BadMagic);
    }
    if bytes[4] != kind as u8 {
        return Err(EnvelopeError::WrongKind {
            found: bytes[4],
            expected: kind as u8,
        });
    }
    let len = u32::from_be_bytes([bytes[5], bytes[6], bytes[7], bytes[8]]) as usize;
    let body_end = HEADER.saturating_add(len);
    if bytes.len() < body_end {
        return Err(EnvelopeError::Truncated {
            offset: bytes.len(),
            what: "body",
            needed: body_end - bytes.len(),
        });
    }
    let rest = bytes.len() - body_end;
    if rest == 0 {
        return Err(EnvelopeError::Unsigned { offset: body_end });
    }
    if rest < SIGNATURE {
        return Err(EnvelopeError::Truncated {
            offset: bytes.len(),
            what: "signature",
            needed: SIGNATURE - rest,
        });
    }
    if rest > SIGNATURE {
        return Err(EnvelopeError::TrailingBytes {
            offset: body_end + SIGNATURE,
            extra: rest - SIGNATURE,
        });
    }
    Ok(Parts {
        signed: &bytes[..body_end],
        body: &bytes[HEADER..body_end],
        signature: &bytes[body_end..],
    })
}

/// The signing side (the CLI, the back office, tests); terminals only verify. The private key
/// is held by ring and never exposed.
pub struct Signer {
    key: Ed25519KeyPair,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer([redacted])")
    }
}

impl Signer {
    /// From a PKCS#8 v1 or v2 Ed25519 private key document (DER).
    pub fn from_pkcs8(der: &[u8]) -> Result<Signer, EnvelopeError> {
        Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
            .map(|key| Signer { key })
            .map_err(|_| EnvelopeError::BadPrivateKey)
    }

    /// From a 32-byte RFC 8032 seed.
    pub fn from_seed(seed: &[u8]) -> Result<Signer, EnvelopeError> {
        Ed25519KeyPair::from_seed_unchecked(seed)
            .map(|key| Signer { key })
            .map_err(|_| EnvelopeError::BadPrivateKey)
    }

    /// A fresh PKCS#8 v2 document from the system RNG.
    pub fn generate_pkcs8() -> Result<Vec<u8>, EnvelopeError> {
        let rng = ring::rand::SystemRandom::new();
        Ed25519KeyPair::generate_pkcs8(&rng)
            .map(|doc| doc.as_ref().to_vec())
            .map_err(|_| EnvelopeError::BadPrivateKey)
    }

    pub fn public_key(&self) -> Vec<u8> {
        use ring::signature::KeyPair;
        self.key.public_key().as_ref().to_vec()
    }

    pub fn seal(&self, kind: Kind, body: &[u8]) -> Vec<u8> {
        seal(kind, body, &self.key)
    }
}

/// Wraps `body` and signs it (the CLI and tests; terminals only verify).
pub fn seal(kind: Kind, body: &[u8], key: &Ed25519KeyPair) -> Vec<u8> {
    let mut out = unsigned(kind, body);
    let sig = key.sign(&out);
    out.extend_from_slice(sig.as_ref());
    out
}

/// The envelope without its signature (what an attacker without the key can produce).
pub fn unsigned(kind: Kind, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + body.len() + SIGNATURE);
    out.extend_from_slice(MAGIC);
    out.push(kind as u8);
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(body);
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use ring::signature::KeyPair;

    /// A fixed test key (RFC 8032 §7.1 TEST 1 secret key) so failures reproduce.
    pub(crate) fn test_key() -> Ed25519KeyPair {
        let seed = hex::decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
            .unwrap();
        Ed25519KeyPair::from_seed_unchecked(&seed).unwrap()
    }

    pub(crate) fn other_key() -> Ed25519KeyPair {
        // RFC 8032 §7.1 TEST 2 secret key.
        let seed = hex::decode("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb")
            .unwrap();
        Ed25519KeyPair::from_seed_unchecked(&seed).unwrap()
    }

    #[test]
    fn rfc8032_public_key_matches() {
        // RFC 8032 §7.1 TEST 1 public key: proves the seed is used as the standard says.
        assert_eq!(
            hex::encode(test_key().public_key().as_ref()),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
    }

    #[test]
    fn each_defect_has_its_own_error() {
        let k = test_key();
        let pk = k.public_key().as_ref().to_vec();
        let good = seal(Kind::Bundle, b"{}", &k);
        assert_eq!(open(&good, Kind::Bundle, &pk).unwrap(), b"{}");

        let mut tampered = good.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert_eq!(
            open(&tampered, Kind::Bundle, &pk),
            Err(EnvelopeError::BadSignature)
        );

        let mut body_flip = good.clone();
        body_flip[HEADER] ^= 1;
        assert_eq!(
            open(&body_flip, Kind::Bundle, &pk),
            Err(EnvelopeError::BadSignature)
        );

        let other = other_key();
        assert_eq!(
            open(&good, Kind::Bundle, other.public_key().as_ref()),
            Err(EnvelopeError::BadSignature)
        );
        assert_eq!(
            open(&unsigned(Kind::Bundle, b"{}"), Kind::Bundle, &pk),
            Err(EnvelopeError::Unsigned { offset: 11 })
        );
        assert!(matches!(
            open(&good[..good.len() - 1], Kind::Bundle, &pk),
            Err(EnvelopeError::Truncated {
                what: "signature",
                needed: 1,
                ..
            })
        ));
        assert!(matches!(
            open(&good[..5], Kind::Bundle, &pk),
            Err(EnvelopeError::Truncated { what: "header", .. })
        ));
        assert_eq!(
            open(&good, Kind::HotListDelta, &pk),
            Err(EnvelopeError::WrongKind {
                found: 1,
                expected: 2
            })
        );
        let mut long = good.clone();
        long.push(0);
        assert!(matches!(
            open(&long, Kind::Bundle, &pk),
            Err(EnvelopeError::TrailingBytes { extra: 1, .. })
        ));
        assert_eq!(
            open(&good, Kind::Bundle, &pk[..31]),
            Err(EnvelopeError::BadTrustedKey(31))
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let _ = open(&bytes, Kind::Bundle, &[0u8; 32]);
        }
    }
}
