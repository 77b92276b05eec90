//! Why offline data authentication failed, and which TVR bits that means (EMV Book 3 10.3,
//! Book 3 annex C5 for the TVR layout).

use super::ca_keys::Rid;

/// The offline data authentication method being performed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OdaMethod {
    Sda,
    Dda,
    Cda,
    /// PBOC 3.0 SM2 static data authentication (TVR bit as SDA).
    Sm2Sda,
    /// PBOC 3.0 SM2 dynamic data authentication (TVR bit as DDA).
    Sm2Dda,
}

/// TVR byte 1 bits the ODA step owns (Book 3 annex C5).
pub mod tvr_byte1 {
    pub const ODA_NOT_PERFORMED: u8 = 0x80;
    pub const SDA_FAILED: u8 = 0x40;
    pub const ICC_DATA_MISSING: u8 = 0x20;
    pub const DDA_FAILED: u8 = 0x08;
    pub const CDA_FAILED: u8 = 0x04;
    pub const SDA_SELECTED: u8 = 0x02;
}

impl OdaMethod {
    /// The "… failed" bit of TVR byte 1 for this method.
    pub const fn failed_bit(self) -> u8 {
        match self {
            OdaMethod::Sda | OdaMethod::Sm2Sda => tvr_byte1::SDA_FAILED,
            OdaMethod::Dda | OdaMethod::Sm2Dda => tvr_byte1::DDA_FAILED,
            OdaMethod::Cda => tvr_byte1::CDA_FAILED,
        }
    }
}

/// A CA key table entry that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CaKeyError {
    #[error(
        "CA key {} [{index:02X}]: checksum does not match the key",
        hex::encode_upper(rid)
    )]
    Checksum { rid: Rid, index: u8 },
    #[error(
        "CA key {} [{index:02X}]: not a valid key (length or exponent)",
        hex::encode_upper(rid)
    )]
    Shape { rid: Rid, index: u8 },
}

/// Which certificate or signature a check failed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Signed {
    IssuerCertificate,
    IccCertificate,
    IccPinCertificate,
    StaticData,
    DynamicData,
}

/// Why ODA failed. Every variant is a card or terminal-data fact; none is a panic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OdaError {
    #[error(
        "the terminal has no CA public key {} [{index:02X}]",
        hex::encode_upper(rid)
    )]
    CaKeyMissing { rid: Rid, index: u8 },
    #[error("the card did not give tag {tag:X}, needed for offline data authentication")]
    IccDataMissing { tag: u32 },
    #[error("{what:?}: {len} bytes where the key's modulus is {expected}")]
    Length {
        what: Signed,
        len: usize,
        expected: usize,
    },
    #[error("{what:?}: recovered data does not start with 6A and end with BC")]
    Recovery { what: Signed },
    #[error("{what:?}: format {found:02X}, expected {expected:02X}")]
    Format {
        what: Signed,
        expected: u8,
        found: u8,
    },
    #[error("{what:?}: hash or signature does not verify")]
    Signature { what: Signed },
    #[error("{what:?}: hash algorithm {hash:02X} / key algorithm {key:02X} not supported")]
    Algorithm { what: Signed, hash: u8, key: u8 },
    #[error("issuer identifier in the certificate does not match the PAN")]
    IssuerIdentifier,
    #[error("PAN in the ICC certificate does not match the card's PAN")]
    PanMismatch,
    #[error("{what:?} expired (MMYY {mmyy}) before the transaction date")]
    Expired { what: Signed, mmyy: String },
    #[error("{what:?}: date field is not valid BCD")]
    Date { what: Signed },
    #[error("issuer certificate serial {} is revoked", hex::encode_upper(serial))]
    Revoked { serial: [u8; 3] },
    #[error("{what:?}: key lengths in the certificate are inconsistent")]
    KeyLayout { what: Signed },
    #[error("the GENERATE AC answer's CID {card:02X} differs from the signed CID {signed:02X}")]
    CidMismatch { card: u8, signed: u8 },
    #[error("transaction data hash code in the signature does not match the transaction")]
    TransactionDataHash,
    #[error("dynamic data in the signature is malformed")]
    DynamicData,
}

impl OdaError {
    /// The TVR byte 1 bits to set when `method` fails with this error (Book 3 10.3): always
    /// the method's "failed" bit, plus "ICC data missing" when the card left out a data object
    /// ODA needs. A missing CA key is a failure of the method, not "ICC data missing".
    pub fn tvr_byte1(&self, method: OdaMethod) -> u8 {
        match self {
            OdaError::IccDataMissing { .. } => method.failed_bit() | tvr_byte1::ICC_DATA_MISSING,
            _ => method.failed_bit(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tvr_bits_per_method_and_cause() {
        let missing = OdaError::IccDataMissing { tag: 0x90 };
        assert_eq!(missing.tvr_byte1(OdaMethod::Sda), 0x60);
        assert_eq!(missing.tvr_byte1(OdaMethod::Dda), 0x28);
        assert_eq!(missing.tvr_byte1(OdaMethod::Cda), 0x24);
        let no_key = OdaError::CaKeyMissing {
            rid: [0xA0, 0, 0, 3, 0x33],
            index: 9,
        };
        assert_eq!(no_key.tvr_byte1(OdaMethod::Sda), tvr_byte1::SDA_FAILED);
        assert_eq!(
            OdaError::Revoked { serial: [0; 3] }.tvr_byte1(OdaMethod::Cda),
            tvr_byte1::CDA_FAILED
        );
        assert_eq!(
            OdaError::DynamicData.tvr_byte1(OdaMethod::Sm2Dda),
            tvr_byte1::DDA_FAILED
        );
        assert!(no_key.to_string().contains("A000000333 [09]"));
    }
}
