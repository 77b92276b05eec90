//! Binding a signature to its slip: a SHA-256 digest over the transaction's identity and the
//! JBIG image, so an image cannot be moved to another slip (another STAN, another amount, another
//! terminal) without the digest failing. The acquirer's side (the simulator) recomputes it from
//! the upload and the transaction it approved.
//!
//! The digest input is framed (a tag and a length before every field), so no two different
//! field values can produce the same byte string by shifting a boundary.

use std::fmt;

use ring::digest;
use thiserror::Error;

use crate::store::{BatchNo, Stan};

/// Names the scheme inside the hash; a later layout gets a new label.
const DOMAIN: &[u8] = b"smartpos.esign.binding.v1";

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum BindingError {
    #[error("{field}: {reason}")]
    BadField {
        field: &'static str,
        reason: &'static str,
    },
    #[error("the signature's digest does not match this transaction and image")]
    Mismatch,
}

/// The slip a signature belongs to, each field as it travels in the 8583 messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlipIdentity {
    terminal_id: String,
    merchant_id: String,
    batch: BatchNo,
    stan: Stan,
    amount_fen: u64,
    date_time: String,
    rrn: String,
    auth_code: String,
}

/// The fields of a [`SlipIdentity`] before validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlipFields<'a> {
    /// Field 41: 8 characters.
    pub terminal_id: &'a str,
    /// Field 42: 15 characters.
    pub merchant_id: &'a str,
    pub batch: BatchNo,
    pub stan: Stan,
    /// Field 4, in fen: at most 12 digits.
    pub amount_fen: u64,
    /// The transaction's local date and time, `YYYYMMDDhhmmss`.
    pub date_time: &'a str,
    /// Field 37: 12 characters.
    pub rrn: &'a str,
    /// Field 38: 6 characters, or empty where the acquirer gave none.
    pub auth_code: &'a str,
}

fn printable(field: &'static str, value: &str, lens: &[usize]) -> Result<String, BindingError> {
    if !lens.contains(&value.len()) {
        return Err(BindingError::BadField {
            field,
            reason: "wrong length",
        });
    }
    if !value.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
        return Err(BindingError::BadField {
            field,
            reason: "not printable ASCII",
        });
    }
    Ok(value.to_owned())
}

impl SlipIdentity {
    pub fn new(f: &SlipFields<'_>) -> Result<SlipIdentity, BindingError> {
        if f.amount_fen > 999_999_999_999 {
            return Err(BindingError::BadField {
                field: "amount",
                reason: "more than 12 digits",
            });
        }
        if f.date_time.len() != 14 || !f.date_time.bytes().all(|b| b.is_ascii_digit()) {
            return Err(BindingError::BadField {
                field: "date_time",
                reason: "not YYYYMMDDhhmmss",
            });
        }
        Ok(SlipIdentity {
            terminal_id: printable("terminal_id", f.terminal_id, &[8])?,
            merchant_id: printable("merchant_id", f.merchant_id, &[15])?,
            batch: f.batch,
            stan: f.stan,
            amount_fen: f.amount_fen,
            date_time: f.date_time.to_owned(),
            rrn: printable("rrn", f.rrn, &[12])?,
            auth_code: printable("auth_code", f.auth_code, &[0, 6])?,
        })
    }

    pub fn terminal_id(&self) -> &str {
        &self.terminal_id
    }

    pub fn batch(&self) -> BatchNo {
        self.batch
    }

    pub fn stan(&self) -> Stan {
        self.stan
    }

    /// The digest binding `jbig` (the signature image as uploaded) to this slip.
    pub fn digest(&self, jbig: &[u8]) -> SignatureDigest {
        let mut ctx = digest::Context::new(&digest::SHA256);
        let mut field = |tag: u8, value: &[u8]| {
            ctx.update(&[tag]);
            ctx.update(&(value.len() as u64).to_be_bytes());
            ctx.update(value);
        };
        field(0, DOMAIN);
        field(1, self.terminal_id.as_bytes());
        field(2, self.merchant_id.as_bytes());
        field(3, self.batch.to_string().as_bytes());
        field(4, self.stan.to_string().as_bytes());
        field(5, format!("{:012}", self.amount_fen).as_bytes());
        field(6, self.date_time.as_bytes());
        field(7, self.rrn.as_bytes());
        field(8, self.auth_code.as_bytes());
        field(9, jbig);
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.finish().as_ref());
        SignatureDigest(out)
    }

    /// Checks that `digest` binds `jbig` to this slip (constant time in the digest bytes).
    pub fn verify(&self, jbig: &[u8], digest: &SignatureDigest) -> Result<(), BindingError> {
        let expected = self.digest(jbig);
        let diff = expected
            .0
            .iter()
            .zip(digest.0.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        if diff == 0 {
            Ok(())
        } else {
            Err(BindingError::Mismatch)
        }
    }
}

/// SHA-256 over a slip's identity and its signature image.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SignatureDigest([u8; 32]);

impl SignatureDigest {
    pub fn from_bytes(bytes: [u8; 32]) -> SignatureDigest {
        SignatureDigest(bytes)
    }

    /// From 64 hex digits (how the journal and the e-slip JSON carry it).
    pub fn from_hex(text: &str) -> Option<SignatureDigest> {
        let bytes = hex::decode(text).ok()?;
        Some(SignatureDigest(bytes.try_into().ok()?))
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub fn to_hex(&self) -> String {
        hex::encode_upper(self.0)
    }
}

impl fmt::Debug for SignatureDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SignatureDigest({})", self.to_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> SlipFields<'static> {
        SlipFields {
            terminal_id: "10000001",
            merchant_id: "898110048990001",
            batch: BatchNo::new(1).expect("batch"),
            stan: Stan::new(42).expect("stan"),
            amount_fen: 12_345,
            date_time: "20261204101500",
            rrn: "120410150042",
            auth_code: "A1B2C3",
        }
    }

    const IMAGE: &[u8] = b"\x00\x00\x01\x00jbig";

    fn slip(f: &SlipFields<'_>) -> SlipIdentity {
        SlipIdentity::new(f).expect("valid fields")
    }

    #[test]
    fn the_signed_slip_verifies() {
        let s = slip(&fields());
        let d = s.digest(IMAGE);
        assert_eq!(s.verify(IMAGE, &d), Ok(()));
        assert_eq!(SignatureDigest::from_hex(&d.to_hex()), Some(d));
    }

    /// Each way of moving a signature to another slip, refused one by one.
    #[test]
    fn a_signature_moved_to_another_slip_is_refused() {
        let signed = slip(&fields()).digest(IMAGE);
        let others: Vec<(&str, SlipFields<'static>)> = vec![
            (
                "stan",
                SlipFields {
                    stan: Stan::new(43).expect("stan"),
                    ..fields()
                },
            ),
            (
                "batch",
                SlipFields {
                    batch: BatchNo::new(2).expect("batch"),
                    ..fields()
                },
            ),
            (
                "terminal",
                SlipFields {
                    terminal_id: "10000002",
                    ..fields()
                },
            ),
            (
                "merchant",
                SlipFields {
                    merchant_id: "898110048990002",
                    ..fields()
                },
            ),
            (
                "amount",
                SlipFields {
                    amount_fen: 12_346,
                    ..fields()
                },
            ),
            (
                "date",
                SlipFields {
                    date_time: "20261204101501",
                    ..fields()
                },
            ),
            (
                "rrn",
                SlipFields {
                    rrn: "120410150043",
                    ..fields()
                },
            ),
            (
                "auth code",
                SlipFields {
                    auth_code: "A1B2C4",
                    ..fields()
                },
            ),
            (
                "no auth code",
                SlipFields {
                    auth_code: "",
                    ..fields()
                },
            ),
        ];
        for (what, f) in others {
            assert_eq!(
                slip(&f).verify(IMAGE, &signed),
                Err(BindingError::Mismatch),
                "{what}"
            );
        }
        assert_eq!(
            slip(&fields()).verify(b"\x00\x00\x01\x00jbiG", &signed),
            Err(BindingError::Mismatch),
            "another image"
        );
    }

    #[test]
    fn malformed_fields_are_named() {
        let cases: Vec<(&str, SlipFields<'static>)> = vec![
            (
                "terminal_id",
                SlipFields {
                    terminal_id: "1234567",
                    ..fields()
                },
            ),
            (
                "merchant_id",
                SlipFields {
                    merchant_id: "89811004899000\u{7f}",
                    ..fields()
                },
            ),
            (
                "amount",
                SlipFields {
                    amount_fen: 1_000_000_000_000,
                    ..fields()
                },
            ),
            (
                "date_time",
                SlipFields {
                    date_time: "2026-12-04 10:15",
                    ..fields()
                },
            ),
            (
                "rrn",
                SlipFields {
                    rrn: "1",
                    ..fields()
                },
            ),
            (
                "auth_code",
                SlipFields {
                    auth_code: "12345",
                    ..fields()
                },
            ),
        ];
        for (name, f) in cases {
            assert!(
                matches!(SlipIdentity::new(&f), Err(BindingError::BadField { field, .. }) if field == name),
                "{name}"
            );
        }
    }
}
