//! Key check values: short fingerprints that prove two parties hold the same key without
//! revealing it.

use aes::{Aes128, Aes192, Aes256};
use cmac::{Cmac, KeyInit, Mac};

use super::block::KeyedCipher;
use super::{CryptoError, KeyAlgorithm, SecretKey};

/// The conventional check value: DES/TDES and SM4 = first 3 bytes of E(K, zero block);
/// AES = first 5 bytes of AES-CMAC(K, 0^16) (ANSI X9.24-3:2017 / X9 TR-31 AES KCV method,
/// because the ECB-of-zeros value would leak one known plaintext/ciphertext pair of AES).
pub fn kcv(key: &SecretKey) -> Result<Vec<u8>, CryptoError> {
    match key.algorithm() {
        KeyAlgorithm::Aes => {
            let mut full = aes_cmac_of_zero_block(key)?;
            full.truncate(5);
            Ok(full)
        }
        _ => {
            let mut full = encrypted_zero_block(key)?;
            full.truncate(3);
            Ok(full)
        }
    }
}

/// The 4-byte check value a UnionPay host sends with each working key in sign-on field 62:
/// the same zero-block encryption as `kcv`, kept to 4 bytes. Defined for DES/TDES/SM4.
pub fn unionpay_check_value(key: &SecretKey) -> Result<[u8; 4], CryptoError> {
    if key.algorithm() == KeyAlgorithm::Aes {
        return Err(CryptoError::WrongKeyAlgorithm {
            operation: "UnionPay check value",
            expected: "DES, TDES or SM4",
            actual: key.algorithm(),
        });
    }
    let full = encrypted_zero_block(key)?;
    let mut out = [0u8; 4];
    out.copy_from_slice(&full[..4]);
    Ok(out)
}

fn encrypted_zero_block(key: &SecretKey) -> Result<Vec<u8>, CryptoError> {
    let cipher = KeyedCipher::new(key)?;
    let mut block = vec![0u8; cipher.block_size()];
    cipher.encrypt_block(&mut block);
    Ok(block)
}

fn aes_cmac_of_zero_block(key: &SecretKey) -> Result<Vec<u8>, CryptoError> {
    super::mac::aes_cmac(key, &[0u8; 16]).map(|t| t.to_vec())
}

// Kept here so `mac.rs` has a single CMAC entry point; dispatches on the AES key size.
pub(crate) fn cmac_aes(key: &SecretKey, data: &[u8]) -> Result<[u8; 16], CryptoError> {
    fn run<M: Mac + KeyInit>(k: &[u8], data: &[u8]) -> Result<[u8; 16], CryptoError> {
        let mut mac = <M as KeyInit>::new_from_slice(k).map_err(|_| CryptoError::KeyLength {
            algorithm: KeyAlgorithm::Aes,
            expected: "16, 24 or 32",
            len: k.len(),
        })?;
        mac.update(data);
        let tag = mac.finalize().into_bytes();
        let mut out = [0u8; 16];
        out.copy_from_slice(&tag);
        Ok(out)
    }
    if key.algorithm() != KeyAlgorithm::Aes {
        return Err(CryptoError::WrongKeyAlgorithm {
            operation: "AES-CMAC",
            expected: "AES",
            actual: key.algorithm(),
        });
    }
    let k = key.expose_secret();
    match k.len() {
        16 => run::<Cmac<Aes128>>(k, data),
        24 => run::<Cmac<Aes192>>(k, data),
        _ => run::<Cmac<Aes256>>(k, data),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(alg: KeyAlgorithm, hex: &str) -> SecretKey {
        SecretKey::from_hex(alg, hex).unwrap()
    }

    #[test]
    fn tdes_kcv_of_the_ansi_test_key() {
        // Cross-checked with psec 1.3.0 `des.generate_kcv(key, 3)` -> 08D7B4.
        let k = key(KeyAlgorithm::Tdes, "0123456789ABCDEFFEDCBA9876543210");
        assert_eq!(hex::encode_upper(kcv(&k).unwrap()), "08D7B4");
        assert_eq!(
            hex::encode_upper(unionpay_check_value(&k).unwrap()),
            "08D7B4FB"
        );
    }

    #[test]
    fn single_des_kcv_is_the_first_block_of_fips_81_style_encryption() {
        // A TDES key whose halves are equal degenerates to single DES, so both must agree.
        let des = key(KeyAlgorithm::Des, "0123456789ABCDEF");
        let tdes = key(KeyAlgorithm::Tdes, "0123456789ABCDEF0123456789ABCDEF");
        assert_eq!(kcv(&des).unwrap(), kcv(&tdes).unwrap());
    }

    #[test]
    fn sm4_kcv() {
        // SM4-E(K, 0^16) computed with pyca/cryptography 48 (algorithms.SM4) while developing.
        let k = key(KeyAlgorithm::Sm4, "0123456789ABCDEFFEDCBA9876543210");
        assert_eq!(hex::encode_upper(kcv(&k).unwrap()), "2677F4");
        assert_eq!(
            hex::encode_upper(unionpay_check_value(&k).unwrap()),
            "2677F46B"
        );
    }

    #[test]
    fn aes_kcv_is_cmac_based() {
        // AES-CMAC(K, 0^16) first 5 bytes, computed with pyca/cryptography 48 CMAC while
        // developing (X9.24-3 AES KCV method).
        let k = key(KeyAlgorithm::Aes, "2B7E151628AED2A6ABF7158809CF4F3C");
        assert_eq!(hex::encode_upper(kcv(&k).unwrap()), "7AD386C376");
        let k256 = key(
            KeyAlgorithm::Aes,
            "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
        );
        assert_eq!(hex::encode_upper(kcv(&k256).unwrap()), "377822C093");
        assert!(unionpay_check_value(&k).is_err());
    }
}
