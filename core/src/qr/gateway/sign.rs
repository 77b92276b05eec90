//! Canonical signing: HMAC-SHA256 (ring) over the parameters sorted by key, `k=v` joined with
//! `&`, empty values and `sign` itself left out; the tag travels as upper-case hex in `sign`.

use std::collections::BTreeMap;
use std::fmt;

use ring::hmac;
use zeroize::Zeroizing;

/// The parameter that carries the signature; never part of what is signed.
pub const SIGN_FIELD: &str = "sign";

/// The merchant's gateway signing key. Not `Clone`, never printed; the raw bytes are wiped on
/// drop (ring's own key schedule cannot be zeroized, so it is built per call and dropped at once).
pub struct SigningKey(Zeroizing<Vec<u8>>);

impl SigningKey {
    pub fn new(bytes: &[u8]) -> SigningKey {
        SigningKey(Zeroizing::new(bytes.to_vec()))
    }

    fn ring_key(&self) -> hmac::Key {
        hmac::Key::new(hmac::HMAC_SHA256, &self.0)
    }

    /// The `sign` value for `params` (any existing `sign` entry is ignored).
    pub fn sign(&self, params: &BTreeMap<String, String>) -> String {
        let tag = hmac::sign(&self.ring_key(), canonical(params).as_bytes());
        hex::encode_upper(tag.as_ref())
    }

    /// Checks `params[sign]` against the others in constant time (ring's `verify`).
    pub fn verify(&self, params: &BTreeMap<String, String>) -> Result<(), SignatureError> {
        let claimed = params
            .get(SIGN_FIELD)
            .filter(|s| !s.is_empty())
            .ok_or(SignatureError::Missing)?;
        let tag = hex::decode(claimed).map_err(|_| SignatureError::NotHex)?;
        hmac::verify(&self.ring_key(), canonical(params).as_bytes(), &tag)
            .map_err(|_| SignatureError::Mismatch)
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey([redacted])")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    #[error("field sign is missing or empty")]
    Missing,
    #[error("field sign is not hexadecimal")]
    NotHex,
    #[error("field sign does not match the HMAC-SHA256 of the canonical parameters")]
    Mismatch,
}

/// The string that is signed. BTreeMap iteration is already sorted by key (byte order).
pub fn canonical(params: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    for (key, value) in params {
        if value.is_empty() || key == SIGN_FIELD {
            continue;
        }
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(key);
        out.push('=');
        out.push_str(value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector_params() -> BTreeMap<String, String> {
        [
            ("mch_id", "898310048161234"),
            ("terminal_id", "TRM00001"),
            ("out_trade_no", "A-1"),
            ("total_fee", "1234"),
            ("auth_code", "134567890123456789"),
            ("nonce_str", "5K8264ILTKCH16CQ"),
            ("timestamp", "1700000000"),
            ("attach", ""),
            ("sign", "XYZ"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    /// Expected values computed independently with CPython 3 `hmac.new(key, canonical,
    /// hashlib.sha256).hexdigest().upper()`, the canonical string built with
    /// `'&'.join(f'{k}={v}' for k, v in sorted(p.items()) if v != '' and k != 'sign')`.
    #[test]
    fn signature_matches_python_hmac() {
        let params = vector_params();
        assert_eq!(
            canonical(&params),
            "auth_code=134567890123456789&mch_id=898310048161234&nonce_str=5K8264ILTKCH16CQ\
             &out_trade_no=A-1&terminal_id=TRM00001&timestamp=1700000000&total_fee=1234"
        );
        assert_eq!(
            SigningKey::new(KEY).sign(&params),
            "48BFC140C8837AE4E71972C15C91D0B4FD93D097A864D68E62276712391C710F"
        );
    }

    #[test]
    fn verify_accepts_own_signature_and_rejects_tampering() {
        let key = SigningKey::new(KEY);
        let mut params = vector_params();
        let sign = key.sign(&params);
        params.insert(SIGN_FIELD.into(), sign.clone());
        assert_eq!(key.verify(&params), Ok(()));
        // Lower-case hex is the same tag.
        params.insert(SIGN_FIELD.into(), sign.to_lowercase());
        assert_eq!(key.verify(&params), Ok(()));
        params.insert("total_fee".into(), "1235".into());
        assert_eq!(key.verify(&params), Err(SignatureError::Mismatch));
        params.insert("total_fee".into(), "1234".into());
        assert_eq!(
            SigningKey::new(b"another key").verify(&params),
            Err(SignatureError::Mismatch)
        );
        params.insert(SIGN_FIELD.into(), "zz".into());
        assert_eq!(key.verify(&params), Err(SignatureError::NotHex));
        params.remove(SIGN_FIELD);
        assert_eq!(key.verify(&params), Err(SignatureError::Missing));
    }

    #[test]
    fn key_debug_is_redacted() {
        assert_eq!(
            format!("{:?}", SigningKey::new(KEY)),
            "SigningKey([redacted])"
        );
    }
}
