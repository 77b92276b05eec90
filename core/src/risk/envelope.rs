//! The signed envelope shared by rule bundles and hot-list deltas.
//!
//! ```text
//! "SPR2" | kind u8 (1 bundle, 2 hot-list delta) | key id length u8 (1..=32) | key id (ASCII)
//!        | body length u32 BE | body | Ed25519 signature (64)
//! ```
//! The signature covers every byte before it, so neither the kind nor the key id can be swapped
//! and nothing can be appended or cut. The key id names which of the terminal's trusted keys
//! verifies it (see `keys`); an id the terminal does not know is refused by name. Verification
//! uses ring; keys are configuration inputs, never compiled in.
//!
//! Format 1 (`"SPRK"`, no key id) is refused with [`EnvelopeError::NoKeyId`]: with several
//! trusted keys it cannot say which one signed it, and a terminal trying each key in turn would
//! accept an update from a key the operator meant to retire in favour of the one it names.

use ring::signature::{ED25519, Ed25519KeyPair, UnparsedPublicKey};

use super::keys::{KeyId, MAX_KEY_ID_LEN, TrustedKeys, is_id_byte};

const MAGIC: &[u8; 4] = b"SPR2";
/// Format 1 magic: recognised only to say what is wrong with it.
const MAGIC_V1: &[u8; 4] = b"SPRK";
/// Magic, kind and key id length.
const PREFIX: usize = 6;
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
    /// A format-1 envelope (`SPRK`), which names no signing key.
    #[error(
        "envelope format 1 names no signing key id: re-sign it with a key id \
         (smartpos risk bundle sign --key-id)"
    )]
    NoKeyId,
    #[error("envelope kind {found} at byte 4, expected {expected}")]
    WrongKind { found: u8, expected: u8 },
    #[error("invalid key id: {reason}")]
    InvalidKeyId { reason: String },
    /// The envelope names a key the terminal does not trust (not configured, or retired).
    #[error(
        "signed with key id {key_id:?}, which is not a trusted key (trusted: {})",
        if trusted.is_empty() { "none".to_owned() } else { trusted.join(", ") }
    )]
    UnknownKeyId {
        key_id: String,
        trusted: Vec<String>,
    },
    #[error("two trusted keys share the id {0:?}")]
    DuplicateKeyId(String),
    #[error("unsigned: nothing after the body at byte {offset}")]
    Unsigned { offset: usize },
    #[error("{extra} unexpected byte(s) after the signature at byte {offset}")]
    TrailingBytes { offset: usize, extra: usize },
    #[error("signature does not verify with the trusted key {key_id:?}")]
    BadSignature { key_id: String },
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

/// A verified envelope: its body and the id of the key that signed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opened<'a> {
    pub body: &'a [u8],
    pub key_id: &'a str,
}

/// Verifies an envelope of `kind` with the trusted key it names and returns its body.
pub fn open<'a>(
    bytes: &'a [u8],
    kind: Kind,
    trusted: &TrustedKeys,
) -> Result<Opened<'a>, EnvelopeError> {
    let parts = split(bytes, kind)?;
    if trusted.is_empty() {
        return Err(EnvelopeError::NoTrustedKey);
    }
    let key = trusted
        .get(parts.key_id)
        .ok_or_else(|| EnvelopeError::UnknownKeyId {
            key_id: parts.key_id.to_owned(),
            trusted: trusted.ids(),
        })?;
    UnparsedPublicKey::new(&ED25519, key.public_key())
        .verify(parts.signed, parts.signature)
        .map_err(|_| EnvelopeError::BadSignature {
            key_id: parts.key_id.to_owned(),
        })?;
    Ok(Opened {
        body: parts.body,
        key_id: parts.key_id,
    })
}

/// The key id an envelope names, read without verifying anything (to say which key an update
/// wants before it is refused, or which key a stored update was signed with).
pub fn key_id_of(bytes: &[u8], kind: Kind) -> Result<&str, EnvelopeError> {
    split(bytes, kind).map(|p| p.key_id)
}

/// Splits without verifying.
struct Parts<'a> {
    signed: &'a [u8],
    key_id: &'a str,
    body: &'a [u8],
    signature: &'a [u8],
}

fn truncated(bytes: &[u8], what: &'static str, end: usize) -> EnvelopeError {
    EnvelopeError::Truncated {
        offset: bytes.len(),
        what,
        needed: end - bytes.len(),
    }
}

fn split(bytes: &[u8], kind: Kind) -> Result<Parts<'_>, EnvelopeError> {
    if bytes.len() >= 4 && &bytes[..4] == MAGIC_V1 {
        return Err(EnvelopeError::NoKeyId);
    }
    if bytes.len() >= 4 && &bytes[..4] != MAGIC {
        return Err(EnvelopeError::BadMagic);
    }
    if bytes.len() < PREFIX {
        return Err(truncated(bytes, "header", PREFIX));
    }
    if bytes[4] != kind as u8 {
        return Err(EnvelopeError::WrongKind {
            found: bytes[4],
            expected: kind as u8,
        });
    }
    let id_len = usize::from(bytes[5]);
    if id_len == 0 || id_len > MAX_KEY_ID_LEN {
        return Err(EnvelopeError::InvalidKeyId {
            reason: format!("length {id_len} at byte 5, expected 1 to {MAX_KEY_ID_LEN}"),
        });
    }
    let id_end = PREFIX + id_len;
    let len_end = id_end + 4;
    if bytes.len() < len_end {
        return Err(truncated(bytes, "key id and body length", len_end));
    }
    let id_bytes = &bytes[PREFIX..id_end];
    if let Some(bad) = id_bytes.iter().position(|b| !is_id_byte(*b)) {
        return Err(EnvelopeError::InvalidKeyId {
            reason: format!(
                "byte {} is 0x{:02x}, not one of A-Z a-z 0-9 . _ -",
                PREFIX + bad,
                id_bytes[bad]
            ),
        });
    }
    // Only ASCII passed the check above.
    let key_id = std::str::from_utf8(id_bytes).map_err(|_| EnvelopeError::InvalidKeyId {
        reason: "not ASCII".into(),
    })?;
    let len = u32::from_be_bytes([
        bytes[id_end],
        bytes[id_end + 1],
        bytes[id_end + 2],
        bytes[id_end + 3],
    ]) as usize;
    let body_end = len_end.saturating_add(len);
    if bytes.len() < body_end {
        return Err(truncated(bytes, "body", body_end));
    }
    let rest = bytes.len() - body_end;
    if rest == 0 {
        return Err(EnvelopeError::Unsigned { offset: body_end });
    }
    if rest < SIGNATURE {
        return Err(truncated(bytes, "signature", body_end + SIGNATURE));
    }
    if rest > SIGNATURE {
        return Err(EnvelopeError::TrailingBytes {
            offset: body_end + SIGNATURE,
            extra: rest - SIGNATURE,
        });
    }
    Ok(Parts {
        signed: &bytes[..body_end],
        key_id,
        body: &bytes[len_end..body_end],
        signature: &bytes[body_end..],
    })
}

/// The signing side (the CLI, the back office, tests); terminals only verify. The private key
/// is held by ring and never exposed. Without [`Signer::with_key_id`] it signs under the key's
/// fingerprint id ([`KeyId::fingerprint`]).
pub struct Signer {
    key: Ed25519KeyPair,
    key_id: KeyId,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("key_id", &self.key_id)
            .field("key", &"[redacted]")
            .finish()
    }
}

impl Signer {
    fn from_pair(key: Ed25519KeyPair) -> Signer {
        use ring::signature::KeyPair;
        let key_id = KeyId::fingerprint(key.public_key().as_ref());
        Signer { key, key_id }
    }

    /// From a PKCS#8 v1 or v2 Ed25519 private key document (DER).
    pub fn from_pkcs8(der: &[u8]) -> Result<Signer, EnvelopeError> {
        Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
            .map(Signer::from_pair)
            .map_err(|_| EnvelopeError::BadPrivateKey)
    }

    /// From a 32-byte RFC 8032 seed.
    pub fn from_seed(seed: &[u8]) -> Result<Signer, EnvelopeError> {
        Ed25519KeyPair::from_seed_unchecked(seed)
            .map(Signer::from_pair)
            .map_err(|_| EnvelopeError::BadPrivateKey)
    }

    /// A fresh PKCS#8 v2 document from the system RNG.
    pub fn generate_pkcs8() -> Result<Vec<u8>, EnvelopeError> {
        let rng = ring::rand::SystemRandom::new();
        Ed25519KeyPair::generate_pkcs8(&rng)
            .map(|doc| doc.as_ref().to_vec())
            .map_err(|_| EnvelopeError::BadPrivateKey)
    }

    /// Signs under `key_id` instead of the fingerprint id.
    pub fn with_key_id(mut self, key_id: KeyId) -> Signer {
        self.key_id = key_id;
        self
    }

    pub fn key_id(&self) -> &KeyId {
        &self.key_id
    }

    pub fn public_key(&self) -> Vec<u8> {
        use ring::signature::KeyPair;
        self.key.public_key().as_ref().to_vec()
    }

    pub fn seal(&self, kind: Kind, body: &[u8]) -> Vec<u8> {
        seal(kind, &self.key_id, body, &self.key)
    }
}

/// Wraps `body` and signs it (the CLI and tests; terminals only verify).
pub fn seal(kind: Kind, key_id: &KeyId, body: &[u8], key: &Ed25519KeyPair) -> Vec<u8> {
    let mut out = unsigned(kind, key_id, body);
    let sig = key.sign(&out);
    out.extend_from_slice(sig.as_ref());
    out
}

/// The envelope without its signature (what an attacker without the key can produce).
pub fn unsigned(kind: Kind, key_id: &KeyId, body: &[u8]) -> Vec<u8> {
    let id = key_id.as_str().as_bytes();
    let mut out = Vec::with_capacity(PREFIX + id.len() + 4 + body.len() + SIGNATURE);
    out.extend_from_slice(MAGIC);
    out.push(kind as u8);
    // KeyId guarantees 1..=32 bytes.
    out.push(id.len() as u8);
    out.extend_from_slice(id);
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(body);
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::risk::keys::TrustedKey;
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

    pub(crate) fn id(s: &str) -> KeyId {
        KeyId::new(s).unwrap()
    }

    /// `key` trusted under `key_id`.
    pub(crate) fn trust(key_id: &str, key: &Ed25519KeyPair) -> TrustedKeys {
        TrustedKeys::new([TrustedKey::new(id(key_id), key.public_key().as_ref()).unwrap()]).unwrap()
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
        let trusted = trust("fleet-1", &k);
        let good = seal(Kind::Bundle, &id("fleet-1"), b"{}", &k);
        let opened = open(&good, Kind::Bundle, &trusted).unwrap();
        assert_eq!((opened.body, opened.key_id), (&b"{}"[..], "fleet-1"));
        // Magic 4 + kind 1 + id length 1 + "fleet-1" 7 + body length 4.
        let body_at = 17;
        assert_eq!(&good[body_at..body_at + 2], b"{}");

        let bad_sig = |key_id: &str| EnvelopeError::BadSignature {
            key_id: key_id.into(),
        };
        let mut tampered = good.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert_eq!(
            open(&tampered, Kind::Bundle, &trusted),
            Err(bad_sig("fleet-1"))
        );

        let mut body_flip = good.clone();
        body_flip[body_at] ^= 1;
        assert_eq!(
            open(&body_flip, Kind::Bundle, &trusted),
            Err(bad_sig("fleet-1"))
        );

        // The right id on another key: the signature, not the label, decides.
        assert_eq!(
            open(&good, Kind::Bundle, &trust("fleet-1", &other_key())),
            Err(bad_sig("fleet-1"))
        );
        assert_eq!(
            open(
                &unsigned(Kind::Bundle, &id("fleet-1"), b"{}"),
                Kind::Bundle,
                &trusted
            ),
            Err(EnvelopeError::Unsigned { offset: 19 })
        );
        assert!(matches!(
            open(&good[..good.len() - 1], Kind::Bundle, &trusted),
            Err(EnvelopeError::Truncated {
                what: "signature",
                needed: 1,
                ..
            })
        ));
        assert!(matches!(
            open(&good[..5], Kind::Bundle, &trusted),
            Err(EnvelopeError::Truncated { what: "header", .. })
        ));
        assert!(matches!(
            open(&good[..10], Kind::Bundle, &trusted),
            Err(EnvelopeError::Truncated {
                what: "key id and body length",
                ..
            })
        ));
        assert_eq!(
            open(&good, Kind::HotListDelta, &trusted),
            Err(EnvelopeError::WrongKind {
                found: 1,
                expected: 2
            })
        );
        let mut long = good.clone();
        long.push(0);
        assert!(matches!(
            open(&long, Kind::Bundle, &trusted),
            Err(EnvelopeError::TrailingBytes { extra: 1, .. })
        ));
        assert_eq!(
            open(&good, Kind::Bundle, &TrustedKeys::none()),
            Err(EnvelopeError::NoTrustedKey)
        );
        let mut bad_id = good.clone();
        bad_id[7] = b' ';
        assert!(matches!(
            open(&bad_id, Kind::Bundle, &trusted),
            Err(EnvelopeError::InvalidKeyId { .. })
        ));
        let mut zero_id = good.clone();
        zero_id[5] = 0;
        assert!(matches!(
            open(&zero_id, Kind::Bundle, &trusted),
            Err(EnvelopeError::InvalidKeyId { .. })
        ));
    }

    #[test]
    fn an_unknown_key_id_is_refused_by_name() {
        let k = test_key();
        let signed = seal(Kind::HotListDelta, &id("fleet-2"), b"x", &k);
        let err = open(&signed, Kind::HotListDelta, &trust("fleet-1", &k)).unwrap_err();
        assert_eq!(
            err,
            EnvelopeError::UnknownKeyId {
                key_id: "fleet-2".into(),
                trusted: vec!["fleet-1".into()],
            }
        );
        assert_eq!(
            err.to_string(),
            "signed with key id \"fleet-2\", which is not a trusted key (trusted: fleet-1)"
        );
        assert_eq!(key_id_of(&signed, Kind::HotListDelta), Ok("fleet-2"));
    }

    #[test]
    fn a_format_1_envelope_is_refused_with_the_reason() {
        // Format 1: "SPRK" | kind | body length u32 | body | signature, as older CLIs wrote it.
        let mut v1 = b"SPRK\x01\x00\x00\x00\x02{}".to_vec();
        v1.extend_from_slice(&[0u8; 64]);
        let err = open(&v1, Kind::Bundle, &trust("fleet-1", &test_key())).unwrap_err();
        assert_eq!(err, EnvelopeError::NoKeyId);
        assert!(err.to_string().contains("--key-id"), "{err}");
    }

    #[test]
    fn a_signer_signs_under_its_fingerprint_unless_named() {
        let signer = Signer::from_seed(
            &hex::decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
                .unwrap(),
        )
        .unwrap();
        let pk = signer.public_key();
        let single = TrustedKeys::single(&pk).unwrap();
        let sealed = signer.seal(Kind::Bundle, b"{}");
        assert_eq!(
            open(&sealed, Kind::Bundle, &single).unwrap().key_id,
            KeyId::fingerprint(&pk).as_str()
        );
        let named = signer.with_key_id(id("fleet-9"));
        assert!(format!("{named:?}").contains("[redacted]"));
        assert!(matches!(
            open(&named.seal(Kind::Bundle, b"{}"), Kind::Bundle, &single),
            Err(EnvelopeError::UnknownKeyId { .. })
        ));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let trusted = TrustedKeys::single(&[0u8; 32]).unwrap();
            let _ = open(&bytes, Kind::Bundle, &trusted);
        }

        #[test]
        fn never_panics_past_a_valid_prefix(tail in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..120)) {
            let mut bytes = b"SPR2\x01\x01a".to_vec();
            bytes.extend_from_slice(&tail);
            let _ = open(&bytes, Kind::Bundle, &trust("a", &test_key()));
        }
    }
}
