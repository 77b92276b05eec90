//! The issuer's side of ODA, for tests, the card simulator and the demo only (feature
//! `issuer-pki`): certificates and signed data made under a test CA so that simulated cards
//! pass the terminal's verification. Built from the layouts the verifier checks (EMV 4.4
//! Book 2 5.3, 5.4, 6.3–6.6; PBOC 3.0 SM2 formats in `sm2.rs`), with the raw RSA private
//! operation of the RustCrypto `rsa` crate and SM2 signing of the `sm2` crate.
//!
//! Fixed test keys live in `tools/testdata/emv_pki/` (generated once: RSA key generation is
//! slow in debug builds); [`test_keys`] includes them.

mod fixture;

pub use fixture::{RsaTestPki, TEST_RID, TestCardDates};

use rsa::pkcs8::DecodePrivateKey;
use rsa::rand_core::{TryCryptoRng, TryRng};
use rsa::traits::PublicKeyParts;
use rsa::{BoxedUint, PrivateKey};
use sm2::dsa::SigningKey;
use sm2::dsa::signature::Signer;

use super::ca_keys::{CaKeyAlgorithm, CaPublicKey, Rid, sha1};
use super::sm2::{DEFAULT_USER_ID, SM2_ALGORITHM};

/// The fixed RSA test keys (PKCS#8 PEM, public exponent 3). Test data, never production.
pub mod test_keys {
    /// A 1984-bit test CA.
    pub const CA_1984: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tools/testdata/emv_pki/ca_1984.pem"
    ));
    /// A 1984-bit issuer key (longer than a 1984-bit CA certificate holds: exercises 92).
    pub const ISSUER_1984: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tools/testdata/emv_pki/issuer_1984.pem"
    ));
    /// A 1408-bit ICC key (fits in a 1984-bit issuer's certificate).
    pub const ICC_1408: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tools/testdata/emv_pki/icc_1408.pem"
    ));
    /// A 1152-bit issuer key.
    pub const ISSUER_1152: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tools/testdata/emv_pki/issuer_1152.pem"
    ));
    /// A 1024-bit ICC key (longer than a 1152-bit issuer's certificate holds: exercises 9F48).
    pub const ICC_1024: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tools/testdata/emv_pki/icc_1024.pem"
    ));
}

/// Why a certificate could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PkiError {
    #[error("RSA test key: {0}")]
    Key(String),
    #[error("the {what} ({len} bytes) does not fit a {space}-byte block")]
    DoesNotFit {
        what: &'static str,
        len: usize,
        space: usize,
    },
    #[error("the RSA private operation failed")]
    Rsa,
    #[error("SM2 key or signature: {0}")]
    Sm2(String),
}

/// Randomness for RSA blinding, from ring's system generator.
struct RingRng(ring::rand::SystemRandom);

#[derive(Debug, thiserror::Error)]
#[error("the system random generator failed")]
struct RandomFailure;

impl TryRng for RingRng {
    type Error = RandomFailure;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        ring::rand::SecureRandom::fill(&self.0, dst).map_err(|_| RandomFailure)
    }
}

impl TryCryptoRng for RingRng {}

/// An RSA private key that signs with message recovery (the raw private operation).
#[derive(Debug, Clone)]
pub struct RsaSigner {
    key: PrivateKey,
}

impl RsaSigner {
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, PkiError> {
        let key = PrivateKey::from_pkcs8_pem(pem).map_err(|e| PkiError::Key(e.to_string()))?;
        Ok(Self { key })
    }

    pub fn modulus(&self) -> Vec<u8> {
        self.key.n_bytes().to_vec()
    }

    pub fn exponent(&self) -> Vec<u8> {
        self.key.e_bytes().to_vec()
    }

    pub fn modulus_len(&self) -> usize {
        self.key.size()
    }

    /// The public half as a CA table entry (for a test CA), checksum filled in.
    pub fn ca_public_key(&self, rid: Rid, index: u8) -> CaPublicKey {
        CaPublicKey::with_computed_checksum(
            rid,
            index,
            CaKeyAlgorithm::Rsa,
            self.modulus(),
            self.exponent(),
            "test CA (issuer_pki)",
        )
    }

    /// `block^d mod n` for a block as long as the modulus (its first byte 6A keeps it below n).
    pub fn sign_raw(&self, block: &[u8]) -> Result<Vec<u8>, PkiError> {
        let n_len = self.modulus_len();
        if block.len() != n_len {
            return Err(PkiError::DoesNotFit {
                what: "block",
                len: block.len(),
                space: n_len,
            });
        }
        let precision = self.key.n().as_ref().bits_precision();
        let c = BoxedUint::from_be_slice(block, precision).map_err(|_| PkiError::Rsa)?;
        let mut rng = RingRng(ring::rand::SystemRandom::new());
        let m = rsa::hazmat::rsa_decrypt_and_check(&self.key, Some(&mut rng), &c)
            .map_err(|_| PkiError::Rsa)?;
        let bytes = m.to_be_bytes();
        let start = bytes.len().saturating_sub(n_len);
        Ok(bytes[start..].to_vec())
    }

    /// Frames `fields` (format byte onwards) as 6A || fields || BB padding || SHA-1 || BC, the
    /// hash over the framed fields and `hashed_extra`, and signs it.
    fn sign_framed(&self, fields: &[u8], hashed_extra: &[u8]) -> Result<Vec<u8>, PkiError> {
        let n = self.modulus_len();
        let space = n.saturating_sub(22);
        if fields.len() > space {
            return Err(PkiError::DoesNotFit {
                what: "signed fields",
                len: fields.len(),
                space,
            });
        }
        let mut body = fields.to_vec();
        body.resize(space, 0xBB);
        let mut hashed = body.clone();
        hashed.extend_from_slice(hashed_extra);
        let mut block = Vec::with_capacity(n);
        block.push(0x6A);
        block.extend_from_slice(&body);
        block.extend_from_slice(&sha1(&hashed));
        block.push(0xBC);
        self.sign_raw(&block)
    }
}

/// A public key certificate with the data objects that go with it on the card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyCertificate {
    /// 90 (issuer) or 9F46 (ICC) or 9F2D (ICC PIN).
    pub certificate: Vec<u8>,
    /// 92 / 9F48 / 9F2F: empty when the key fits in the certificate.
    pub remainder: Vec<u8>,
    /// 9F32 / 9F47 / 9F2E.
    pub exponent: Vec<u8>,
}

/// The 4-byte issuer identifier: the leftmost `digits` (3 to 8) of the PAN, F padded.
pub fn issuer_identifier(pan_5a: &[u8], digits: usize) -> [u8; 4] {
    let mut out = [0xFF; 4];
    let nibbles = pan_5a.iter().flat_map(|b| [b >> 4, b & 0x0F]);
    for (i, d) in nibbles.take(digits.min(8)).enumerate() {
        let byte = &mut out[i / 2];
        *byte = if i % 2 == 0 {
            (d << 4) | 0x0F
        } else {
            (*byte & 0xF0) | d
        };
    }
    out
}

/// The PAN as an ICC certificate carries it: 10 bytes, F padded.
fn certificate_pan(pan_5a: &[u8]) -> [u8; 10] {
    let mut out = [0xFF; 10];
    let n = pan_5a.len().min(10);
    out[..n].copy_from_slice(&pan_5a[..n]);
    out
}

fn split_key(modulus: &[u8], room: usize) -> (Vec<u8>, Vec<u8>) {
    if modulus.len() <= room {
        (modulus.to_vec(), Vec::new())
    } else {
        (modulus[..room].to_vec(), modulus[room..].to_vec())
    }
}

fn key_len_byte(what: &'static str, len: usize) -> Result<u8, PkiError> {
    u8::try_from(len).map_err(|_| PkiError::DoesNotFit {
        what,
        len,
        space: 255,
    })
}

/// The issuer public key certificate (format 02) signed by `ca`.
pub fn issuer_certificate(
    ca: &RsaSigner,
    issuer_modulus: &[u8],
    issuer_exponent: &[u8],
    issuer_identifier: [u8; 4],
    expiry_mmyy: [u8; 2],
    serial: [u8; 3],
) -> Result<KeyCertificate, PkiError> {
    let room = ca.modulus_len().saturating_sub(36);
    let (in_cert, remainder) = split_key(issuer_modulus, room);
    let mut fields = vec![0x02];
    fields.extend_from_slice(&issuer_identifier);
    fields.extend_from_slice(&expiry_mmyy);
    fields.extend_from_slice(&serial);
    fields.extend_from_slice(&[0x01, 0x01]);
    fields.push(key_len_byte("issuer key", issuer_modulus.len())?);
    fields.push(key_len_byte("issuer exponent", issuer_exponent.len())?);
    fields.extend_from_slice(&in_cert);
    let extra = [remainder.as_slice(), issuer_exponent].concat();
    Ok(KeyCertificate {
        certificate: ca.sign_framed(&fields, &extra)?,
        remainder,
        exponent: issuer_exponent.to_vec(),
    })
}

/// The ICC public key certificate (format 04) signed by `issuer`; the hash covers
/// `static_data` (pass `&[]` for an ICC PIN encipherment key certificate).
pub fn icc_certificate(
    issuer: &RsaSigner,
    icc_modulus: &[u8],
    icc_exponent: &[u8],
    pan_5a: &[u8],
    expiry_mmyy: [u8; 2],
    serial: [u8; 3],
    static_data: &[u8],
) -> Result<KeyCertificate, PkiError> {
    let room = issuer.modulus_len().saturating_sub(42);
    let (in_cert, remainder) = split_key(icc_modulus, room);
    let mut fields = vec![0x04];
    fields.extend_from_slice(&certificate_pan(pan_5a));
    fields.extend_from_slice(&expiry_mmyy);
    fields.extend_from_slice(&serial);
    fields.extend_from_slice(&[0x01, 0x01]);
    fields.push(key_len_byte("ICC key", icc_modulus.len())?);
    fields.push(key_len_byte("ICC exponent", icc_exponent.len())?);
    fields.extend_from_slice(&in_cert);
    let extra = [remainder.as_slice(), icc_exponent, static_data].concat();
    Ok(KeyCertificate {
        certificate: issuer.sign_framed(&fields, &extra)?,
        remainder,
        exponent: icc_exponent.to_vec(),
    })
}

/// Signed static application data (93, format 03) over the static data to authenticate.
pub fn signed_static_data(
    issuer: &RsaSigner,
    data_authentication_code: [u8; 2],
    static_data: &[u8],
) -> Result<Vec<u8>, PkiError> {
    let fields = [
        0x03,
        0x01,
        data_authentication_code[0],
        data_authentication_code[1],
    ];
    issuer.sign_framed(&fields, static_data)
}

/// ICC dynamic data for DDA: the ICC dynamic number with its length byte.
pub fn dda_dynamic_data(icc_dynamic_number: &[u8]) -> Vec<u8> {
    let mut out = vec![u8::try_from(icc_dynamic_number.len()).unwrap_or(u8::MAX)];
    out.extend_from_slice(icc_dynamic_number);
    out
}

/// ICC dynamic data for CDA (Book 2 table 19): dynamic number, CID, cryptogram and the
/// SHA-1 transaction data hash code over `transaction_data`.
pub fn cda_dynamic_data(
    icc_dynamic_number: &[u8],
    cid: u8,
    cryptogram: [u8; 8],
    transaction_data: &[u8],
) -> Vec<u8> {
    let mut out = dda_dynamic_data(icc_dynamic_number);
    out.push(cid);
    out.extend_from_slice(&cryptogram);
    out.extend_from_slice(&sha1(transaction_data));
    out
}

/// Signed dynamic application data (9F4B, format 05) over the terminal's dynamic data (the
/// DDOL values for DDA, the unpredictable number for CDA).
pub fn signed_dynamic_data(
    icc: &RsaSigner,
    icc_dynamic_data: &[u8],
    terminal_data: &[u8],
) -> Result<Vec<u8>, PkiError> {
    let mut fields = vec![0x05, 0x01];
    fields.push(key_len_byte("ICC dynamic data", icc_dynamic_data.len())?);
    fields.extend_from_slice(icc_dynamic_data);
    icc.sign_framed(&fields, terminal_data)
}

/// An SM2 private key for the PBOC SM formats.
#[derive(Debug, Clone)]
pub struct Sm2Signer {
    key: SigningKey,
}

impl Sm2Signer {
    /// From a 32-byte private scalar (fixed in tests so certificates are reproducible).
    pub fn from_scalar(scalar: &[u8; 32]) -> Result<Self, PkiError> {
        let key = SigningKey::from_slice(DEFAULT_USER_ID, scalar)
            .map_err(|e| PkiError::Sm2(e.to_string()))?;
        Ok(Self { key })
    }

    /// The public point x || y.
    pub fn point(&self) -> Vec<u8> {
        let sec1 = self.key.verifying_key().to_sec1_bytes();
        sec1.get(1..).unwrap_or_default().to_vec()
    }

    /// An SM2 signature (r || s) over `parts` joined, with Z for the default user id.
    pub fn sign(&self, parts: &[&[u8]]) -> Result<Vec<u8>, PkiError> {
        let message = parts.concat();
        let sig: sm2::dsa::Signature = self
            .key
            .try_sign(&message)
            .map_err(|e| PkiError::Sm2(e.to_string()))?;
        Ok(sig.to_bytes().to_vec())
    }

    pub fn ca_public_key(&self, rid: Rid, index: u8) -> CaPublicKey {
        CaPublicKey::with_computed_checksum(
            rid,
            index,
            CaKeyAlgorithm::Sm2,
            self.point(),
            Vec::new(),
            "test SM2 CA (issuer_pki)",
        )
    }
}

fn sm2_signed(signer: &Sm2Signer, fields: Vec<u8>, extra: &[u8]) -> Result<Vec<u8>, PkiError> {
    let signature = signer.sign(&[&fields, extra])?;
    Ok([fields, signature].concat())
}

/// PBOC SM2 issuer certificate (90, format 12) signed by `ca`.
pub fn sm2_issuer_certificate(
    ca: &Sm2Signer,
    issuer_point: &[u8],
    issuer_identifier: [u8; 4],
    expiry_mmyy: [u8; 2],
    serial: [u8; 3],
) -> Result<Vec<u8>, PkiError> {
    let mut fields = vec![0x12];
    fields.extend_from_slice(&issuer_identifier);
    fields.extend_from_slice(&expiry_mmyy);
    fields.extend_from_slice(&serial);
    fields.extend_from_slice(&[SM2_ALGORITHM, 0x00]);
    fields.push(key_len_byte("SM2 key", issuer_point.len())?);
    fields.extend_from_slice(issuer_point);
    sm2_signed(ca, fields, &[])
}

/// PBOC SM2 ICC certificate (9F46, format 14) signed by `issuer` over the fields and the
/// static data to authenticate.
pub fn sm2_icc_certificate(
    issuer: &Sm2Signer,
    icc_point: &[u8],
    pan_5a: &[u8],
    expiry_mmyy: [u8; 2],
    serial: [u8; 3],
    static_data: &[u8],
) -> Result<Vec<u8>, PkiError> {
    let mut fields = vec![0x14];
    fields.extend_from_slice(&certificate_pan(pan_5a));
    fields.extend_from_slice(&expiry_mmyy);
    fields.extend_from_slice(&serial);
    fields.extend_from_slice(&[SM2_ALGORITHM, 0x00]);
    fields.push(key_len_byte("SM2 key", icc_point.len())?);
    fields.extend_from_slice(icc_point);
    sm2_signed(issuer, fields, static_data)
}

/// PBOC SM2 signed static data (93, format 13).
pub fn sm2_signed_static_data(
    issuer: &Sm2Signer,
    data_authentication_code: [u8; 2],
    static_data: &[u8],
) -> Result<Vec<u8>, PkiError> {
    let fields = vec![
        0x13,
        SM2_ALGORITHM,
        data_authentication_code[0],
        data_authentication_code[1],
    ];
    sm2_signed(issuer, fields, static_data)
}

/// PBOC SM2 signed dynamic data (9F4B, format 15) over the DDOL data.
pub fn sm2_signed_dynamic_data(
    icc: &Sm2Signer,
    icc_dynamic_data: &[u8],
    terminal_data: &[u8],
) -> Result<Vec<u8>, PkiError> {
    let mut fields = vec![0x15, SM2_ALGORITHM];
    fields.push(key_len_byte("ICC dynamic data", icc_dynamic_data.len())?);
    fields.extend_from_slice(icc_dynamic_data);
    sm2_signed(icc, fields, terminal_data)
}
