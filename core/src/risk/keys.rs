//! The fleet's signing keys as a terminal trusts them: a small set of Ed25519 public keys, each
//! under an id that the signed envelope names.
//!
//! Why ids: with one key, rotating it means every terminal must switch at the very moment the
//! back office does. With a set, the new key is added to the terminals first, bundles and deltas
//! move to it, and the old key is removed later; the envelope's id says which key to verify with,
//! so a terminal never tries keys one after another, and an update signed by a key it does not
//! know is refused by name ([`EnvelopeError::UnknownKeyId`]).

use super::envelope::EnvelopeError;

/// Longest key id an envelope can carry (its length is one byte; 32 is plenty for a name).
pub const MAX_KEY_ID_LEN: usize = 32;

/// The name of a signing key: 1–32 characters of `A-Z a-z 0-9 . _ -`. Printable and short, so
/// it can be logged and shown to an operator as it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(String);

impl KeyId {
    pub fn new(id: &str) -> Result<KeyId, EnvelopeError> {
        if id.is_empty() || id.len() > MAX_KEY_ID_LEN {
            return Err(EnvelopeError::InvalidKeyId {
                reason: format!("{} characters, expected 1 to {MAX_KEY_ID_LEN}", id.len()),
            });
        }
        if let Some(bad) = id.bytes().position(|b| !is_id_byte(b)) {
            return Err(EnvelopeError::InvalidKeyId {
                reason: format!(
                    "character {bad} is not one of A-Z a-z 0-9 . _ - (got {:?})",
                    id.escape_default().to_string()
                ),
            });
        }
        Ok(KeyId(id.to_owned()))
    }

    /// The id a key has when nobody named it: the first 8 bytes of SHA-256 over the public key,
    /// in hex. The CLI signs under it without `--key-id`, and a terminal configured with a single
    /// bare key ([`TrustedKeys::single`]) trusts the key under it, so the two meet without
    /// anyone choosing a name.
    pub fn fingerprint(public_key: &[u8]) -> KeyId {
        let digest = ring::digest::digest(&ring::digest::SHA256, public_key);
        KeyId(hex::encode(&digest.as_ref()[..8]))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub(crate) fn is_id_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')
}

/// One trusted Ed25519 public key and its id. Public keys are not secret: `Debug` prints them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedKey {
    id: KeyId,
    public_key: [u8; 32],
}

impl TrustedKey {
    pub fn new(id: KeyId, public_key: &[u8]) -> Result<TrustedKey, EnvelopeError> {
        let public_key: [u8; 32] = public_key
            .try_into()
            .map_err(|_| EnvelopeError::BadTrustedKey(public_key.len()))?;
        Ok(TrustedKey { id, public_key })
    }

    pub fn id(&self) -> &KeyId {
        &self.id
    }

    pub fn public_key(&self) -> &[u8; 32] {
        &self.public_key
    }
}

/// The keys a terminal accepts signed bundles and hot-list deltas from. Empty: only the built-in
/// bundle is trusted and every run-time update is refused ([`EnvelopeError::NoTrustedKey`]).
/// A fleet holds a handful of keys at most, so lookups are a linear scan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedKeys {
    keys: Vec<TrustedKey>,
}

impl TrustedKeys {
    /// No key: only the built-in bundle.
    pub fn none() -> TrustedKeys {
        TrustedKeys::default()
    }

    /// One key under its fingerprint id ([`KeyId::fingerprint`]): what a terminal configured
    /// with a single bare key (before key ids existed) trusts.
    pub fn single(public_key: &[u8]) -> Result<TrustedKeys, EnvelopeError> {
        let id = KeyId::fingerprint(public_key);
        TrustedKeys::new([TrustedKey::new(id, public_key)?])
    }

    /// A set of keys; two keys under one id are refused (which one would verify?).
    pub fn new(keys: impl IntoIterator<Item = TrustedKey>) -> Result<TrustedKeys, EnvelopeError> {
        let mut set = TrustedKeys::default();
        for key in keys {
            set.insert(key)?;
        }
        Ok(set)
    }

    pub fn insert(&mut self, key: TrustedKey) -> Result<(), EnvelopeError> {
        if self.get(key.id.as_str()).is_some() {
            return Err(EnvelopeError::DuplicateKeyId(key.id.to_string()));
        }
        self.keys.push(key);
        Ok(())
    }

    pub fn get(&self, id: &str) -> Option<&TrustedKey> {
        self.keys.iter().find(|k| k.id.as_str() == id)
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &TrustedKey> {
        self.keys.iter()
    }

    /// The ids, in the order the keys were given (for error messages and status screens).
    pub fn ids(&self) -> Vec<String> {
        self.keys.iter().map(|k| k.id.to_string()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_short_and_printable() {
        assert_eq!(
            KeyId::new("fleet-2026.a_1").unwrap().as_str(),
            "fleet-2026.a_1"
        );
        for bad in ["", "has space", "ключ", "a/b", &"x".repeat(33)] {
            assert!(
                matches!(KeyId::new(bad), Err(EnvelopeError::InvalidKeyId { .. })),
                "{bad:?}"
            );
        }
        assert!(KeyId::new(&"x".repeat(32)).is_ok());
    }

    #[test]
    fn the_fingerprint_id_is_the_start_of_the_keys_sha256() {
        // SHA-256 of the RFC 8032 §7.1 TEST 1 public key d75a9801…511a, first 8 bytes; computed
        // independently with `xxd -r -p | sha256sum`.
        let pk = hex::decode("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
            .unwrap();
        // SHA-256 = 21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa58877ef47f9721b9.
        let id = KeyId::fingerprint(&pk);
        assert_eq!(id.as_str(), "21fe31dfa154a261");
        assert!(
            KeyId::new(id.as_str()).is_ok(),
            "a fingerprint is a valid id"
        );
    }

    #[test]
    fn a_set_refuses_bad_keys_and_duplicate_ids() {
        let id = |s: &str| KeyId::new(s).unwrap();
        assert_eq!(
            TrustedKey::new(id("a"), &[1; 31]),
            Err(EnvelopeError::BadTrustedKey(31))
        );
        let a = TrustedKey::new(id("a"), &[1; 32]).unwrap();
        let a2 = TrustedKey::new(id("a"), &[2; 32]).unwrap();
        let b = TrustedKey::new(id("b"), &[2; 32]).unwrap();
        assert_eq!(
            TrustedKeys::new([a.clone(), a2]),
            Err(EnvelopeError::DuplicateKeyId("a".into()))
        );
        let set = TrustedKeys::new([a, b]).unwrap();
        assert_eq!(set.ids(), vec!["a".to_owned(), "b".to_owned()]);
        assert_eq!(set.get("b").unwrap().public_key(), &[2; 32]);
        assert!(set.get("c").is_none());
        let single = TrustedKeys::single(&[3; 32]).unwrap();
        assert_eq!(single.ids(), vec![KeyId::fingerprint(&[3; 32]).to_string()]);
    }
}
