//! AES DUKPT, ANSI X9.24-3:2017: 12-byte KSN (8-byte initial key ID + 32-bit counter), keys
//! derived by AES-ECB of 16-byte derivation data blocks (X9.24-3 section 6.3.2).

use zeroize::Zeroize;

use crate::crypto::block::KeyedCipher;
use crate::crypto::{CryptoError, KeyAlgorithm, SecretKey};

pub const KSN_LEN: usize = 12;
pub const INITIAL_KEY_ID_LEN: usize = 8;

/// The type (algorithm and length) of a derived key; X9.24-3 Table 2 algorithm indicators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DerivedKeyType {
    Aes128,
    Aes192,
    Aes256,
}

impl DerivedKeyType {
    const fn indicator(self) -> u16 {
        match self {
            Self::Aes128 => 0x0002,
            Self::Aes192 => 0x0003,
            Self::Aes256 => 0x0004,
        }
    }

    const fn len(self) -> usize {
        match self {
            Self::Aes128 => 16,
            Self::Aes192 => 24,
            Self::Aes256 => 32,
        }
    }

    fn of(key: &SecretKey) -> Result<Self, CryptoError> {
        match (key.algorithm(), key.len()) {
            (KeyAlgorithm::Aes, 16) => Ok(Self::Aes128),
            (KeyAlgorithm::Aes, 24) => Ok(Self::Aes192),
            (KeyAlgorithm::Aes, 32) => Ok(Self::Aes256),
            (actual, _) => Err(CryptoError::WrongKeyAlgorithm {
                operation: "AES DUKPT",
                expected: "AES",
                actual,
            }),
        }
    }
}

/// Key usage indicators of X9.24-3 Table 3 for working keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyUsage {
    KeyEncryptionKey,
    PinEncryption,
    MacGeneration,
    MacVerification,
    MacBothWays,
    DataEncryptionEncrypt,
    DataEncryptionDecrypt,
    DataEncryptionBothWays,
}

impl KeyUsage {
    const fn indicator(self) -> u16 {
        match self {
            Self::KeyEncryptionKey => 0x0002,
            Self::PinEncryption => 0x1000,
            Self::MacGeneration => 0x2000,
            Self::MacVerification => 0x2001,
            Self::MacBothWays => 0x2002,
            Self::DataEncryptionEncrypt => 0x3000,
            Self::DataEncryptionDecrypt => 0x3001,
            Self::DataEncryptionBothWays => 0x3002,
        }
    }
}

const USAGE_KEY_DERIVATION: u16 = 0x8000;
const USAGE_INITIAL_KEY: u16 = 0x8001;

/// Derives a key of `key_type` from `derivation_key`: one AES block per 128 bits of output,
/// each over version 01 | block counter | usage | algorithm | length in bits | 8 data bytes.
fn derive(
    derivation_key: &SecretKey,
    usage: u16,
    key_type: DerivedKeyType,
    data: &[u8; 8],
) -> Result<SecretKey, CryptoError> {
    let cipher = KeyedCipher::new(derivation_key)?;
    let len = key_type.len();
    let bits = (len * 8) as u16;
    let mut out = Vec::with_capacity(32);
    let mut counter = 1u8;
    while out.len() < len {
        let mut block = [0u8; 16];
        block[0] = 0x01;
        block[1] = counter;
        block[2..4].copy_from_slice(&usage.to_be_bytes());
        block[4..6].copy_from_slice(&key_type.indicator().to_be_bytes());
        block[6..8].copy_from_slice(&bits.to_be_bytes());
        block[8..].copy_from_slice(data);
        cipher.encrypt_block(&mut block);
        out.extend_from_slice(&block);
        block.zeroize();
        counter += 1;
    }
    out.truncate(len);
    let key = SecretKey::new(KeyAlgorithm::Aes, &out);
    out.zeroize();
    key
}

fn split_ksn(ksn: &[u8]) -> Result<([u8; 8], u32), CryptoError> {
    if ksn.len() != KSN_LEN {
        return Err(CryptoError::KsnLength {
            expected: KSN_LEN,
            len: ksn.len(),
        });
    }
    let mut id = [0u8; 8];
    id.copy_from_slice(&ksn[..8]);
    let counter = u32::from_be_bytes([ksn[8], ksn[9], ksn[10], ksn[11]]);
    Ok((id, counter))
}

/// The initial key loaded into a PIN pad: derived from the BDK and the 8-byte initial key ID
/// (BDK ID + derivation ID); same type as the BDK.
pub fn initial_key(bdk: &SecretKey, initial_key_id: &[u8]) -> Result<SecretKey, CryptoError> {
    let key_type = DerivedKeyType::of(bdk)?;
    let id: [u8; 8] = initial_key_id
        .try_into()
        .map_err(|_| CryptoError::KsnLength {
            expected: INITIAL_KEY_ID_LEN,
            len: initial_key_id.len(),
        })?;
    derive(bdk, USAGE_INITIAL_KEY, key_type, &id)
}

fn data_for(id: &[u8; 8], counter: u32) -> [u8; 8] {
    let mut data = [0u8; 8];
    data[..4].copy_from_slice(&id[4..]);
    data[4..].copy_from_slice(&counter.to_be_bytes());
    data
}

/// The transaction (intermediate derivation) key for `ksn`: from the initial key, one
/// derivation per counter bit set, most significant first.
pub fn transaction_key(initial_key: &SecretKey, ksn: &[u8]) -> Result<SecretKey, CryptoError> {
    let key_type = DerivedKeyType::of(initial_key)?;
    let (id, counter) = split_ksn(ksn)?;
    if counter == 0 {
        return Err(CryptoError::KsnCounter {
            counter,
            reason: "a transaction counter of zero names no transaction key",
        });
    }
    if counter.count_ones() > 16 {
        return Err(CryptoError::KsnCounter {
            counter,
            reason: "more than 16 one-bits never occur in X9.24-3 DUKPT",
        });
    }
    let mut key = initial_key.duplicate();
    let mut working = 0u32;
    let mut bit = 1u32 << 31;
    while bit != 0 {
        if counter & bit != 0 {
            working |= bit;
            key = derive(
                &key,
                USAGE_KEY_DERIVATION,
                key_type,
                &data_for(&id, working),
            )?;
        }
        bit >>= 1;
    }
    Ok(key)
}

/// A working key for `usage` of type `working_type`, from the transaction key of `ksn`.
pub fn working_key(
    transaction_key: &SecretKey,
    ksn: &[u8],
    usage: KeyUsage,
    working_type: DerivedKeyType,
) -> Result<SecretKey, CryptoError> {
    let (id, counter) = split_ksn(ksn)?;
    derive(
        transaction_key,
        usage.indicator(),
        working_type,
        &data_for(&id, counter),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    // ANSI X9.24-3:2017 B.1 sample / supplement test vectors, as transcribed in
    // openemv/dukpt test/dukpt_aes128_test.c and test/dukpt_aes_test.c (cross-checked).
    fn bdk128() -> SecretKey {
        SecretKey::from_hex(KeyAlgorithm::Aes, "FEDCBA9876543210F1F1F1F1F1F1F1F1").unwrap()
    }
    const IKID: &str = "1234567890123456";

    #[test]
    fn initial_key_aes128_and_aes256() {
        let id = hex::decode(IKID).unwrap();
        let ik = initial_key(&bdk128(), &id).unwrap();
        assert_eq!(ik.expose_hex().as_str(), "1273671EA26AC29AFA4D1084127652A1");
        let bdk256 = SecretKey::from_hex(
            KeyAlgorithm::Aes,
            "FEDCBA9876543210F1F1F1F1F1F1F1F1FEDCBA9876543210F1F1F1F1F1F1F1F1",
        )
        .unwrap();
        let ik256 = initial_key(&bdk256, &id).unwrap();
        assert_eq!(
            ik256.expose_hex().as_str(),
            "CE9CE0C101D1138F97FB6CAD4DF045A7083D4EAE2D35A31789D01CCF0949550F"
        );
    }

    #[test]
    fn transaction_keys_aes128() {
        let ik = initial_key(&bdk128(), &hex::decode(IKID).unwrap()).unwrap();
        for (ksn, expected) in [
            (
                "123456789012345600000001",
                "4F21B565BAD9835E112B6465635EAE44",
            ),
            (
                "123456789012345600000002",
                "2F34D68DE10F68D38091A73B9E7C437C",
            ),
            (
                "123456789012345600000008",
                "718EE6CF0B27E53D5F7AF99C4D8146A2",
            ),
            (
                "12345678901234560001FFFE",
                "E21E8C8D347F8561A2BE752DAA85A111",
            ),
            (
                "123456789012345600020000",
                "F7AE9025468A25D37B7249CFFED224C8",
            ),
            (
                "1234567890123456FFFF0000",
                "F6BA59389BD14A9855BE9727E7C52E3C",
            ),
        ] {
            let t = transaction_key(&ik, &hex::decode(ksn).unwrap()).unwrap();
            assert_eq!(t.expose_hex().as_str(), expected, "KSN {ksn}");
        }
    }

    #[test]
    fn working_keys_differ_by_usage_and_type() {
        // No published working-key vector was at hand; these check that usage and type enter
        // the derivation data (a regression here means the layout changed).
        let ksn = hex::decode("123456789012345600000001").unwrap();
        let ik = initial_key(&bdk128(), &hex::decode(IKID).unwrap()).unwrap();
        let t = transaction_key(&ik, &ksn).unwrap();
        let pin = working_key(&t, &ksn, KeyUsage::PinEncryption, DerivedKeyType::Aes128).unwrap();
        let mac = working_key(&t, &ksn, KeyUsage::MacGeneration, DerivedKeyType::Aes128).unwrap();
        let pin256 =
            working_key(&t, &ksn, KeyUsage::PinEncryption, DerivedKeyType::Aes256).unwrap();
        assert_ne!(pin.expose_secret(), mac.expose_secret());
        assert_eq!(pin256.len(), 32);
        assert_ne!(&pin256.expose_secret()[..16], pin.expose_secret());
    }

    #[test]
    fn bad_input_is_typed() {
        let ik = initial_key(&bdk128(), &hex::decode(IKID).unwrap()).unwrap();
        assert!(matches!(
            transaction_key(&ik, &[0; 10]),
            Err(CryptoError::KsnLength {
                expected: 12,
                len: 10
            })
        ));
        assert!(matches!(
            transaction_key(&ik, &hex::decode("12345678901234560001FFFF").unwrap()),
            Err(CryptoError::KsnCounter { .. })
        ));
        let tdes = SecretKey::new(KeyAlgorithm::Tdes, &[1; 16]).unwrap();
        assert!(matches!(
            initial_key(&tdes, &[0; 8]),
            Err(CryptoError::WrongKeyAlgorithm { .. })
        ));
    }
}
