//! Message authentication codes used on the acquirer link (ISO 8583 field 64/128).

use des::Des;
use zeroize::Zeroize;

use super::block::{KeyedCipher, xor_into};
use super::{CryptoError, KeyAlgorithm, SecretKey};

/// Which MAC a message carries. All produce the 8 bytes of field 64.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MacAlgorithm {
    /// UnionPay "ECB" MAC (8-byte blocks with a DES/TDES MAK, 16-byte blocks with an SM4 MAK).
    CupEcb,
    /// ANSI X9.19 retail MAC (ISO 9797-1 MAC algorithm 3, padding method 1), 2-key TDES MAK.
    X919,
    /// ISO 9797-1 MAC algorithm 1 with SM4, padding method 1, truncated to the leftmost 8 bytes.
    Sm4Cbc,
}

/// ISO 9797-1 padding methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MacPadding {
    /// Method 1: zero bytes to a block boundary (no padding if already aligned; one zero block
    /// for empty data).
    Method1,
    /// Method 2: a single 0x80 byte, then zeros to a block boundary.
    Method2,
}

fn pad(data: &[u8], block_size: usize, padding: MacPadding) -> Vec<u8> {
    let mut out = data.to_vec();
    if padding == MacPadding::Method2 {
        out.push(0x80);
    }
    if out.is_empty() {
        out.resize(block_size, 0);
    }
    let rem = out.len() % block_size;
    if rem != 0 {
        out.resize(out.len() + block_size - rem, 0);
    }
    out
}

/// Computes the 8-byte field-64 MAC with the named algorithm.
pub fn compute_mac(
    alg: MacAlgorithm,
    mak: &SecretKey,
    data: &[u8],
) -> Result<[u8; 8], CryptoError> {
    match alg {
        MacAlgorithm::CupEcb => cup_ecb_mac(mak, data),
        MacAlgorithm::X919 => x919_mac(mak, data),
        MacAlgorithm::Sm4Cbc => {
            let full = sm4_cbc_mac(mak, data, MacPadding::Method1)?;
            let mut out = [0u8; 8];
            out.copy_from_slice(&full[..8]);
            Ok(out)
        }
    }
}

/// Recomputes the MAC and compares it with `received` in constant time.
pub fn verify_mac(
    alg: MacAlgorithm,
    mak: &SecretKey,
    data: &[u8],
    received: &[u8],
) -> Result<bool, CryptoError> {
    let computed = compute_mac(alg, mak, data)?;
    Ok(constant_time_eq(&computed, received))
}

/// Constant-time equality through ring (lengths are public).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    #[allow(deprecated)]
    ring::constant_time::verify_slices_are_equal(a, b).is_ok()
}

/// The UnionPay ECB MAC. With a DES (8-byte) or TDES MAK the blocks are 8 bytes; with an SM4
/// MAK the same construction runs on 16-byte blocks, and field 64 takes the first 8 hex
/// characters of the final block, as with DES.
pub fn cup_ecb_mac(mak: &SecretKey, data: &[u8]) -> Result<[u8; 8], CryptoError> {
    if mak.algorithm() == KeyAlgorithm::Aes {
        return Err(CryptoError::WrongKeyAlgorithm {
            operation: "UnionPay ECB MAC",
            expected: "DES, TDES or SM4",
            actual: mak.algorithm(),
        });
    }
    let cipher = KeyedCipher::new(mak)?;
    let bs = cipher.block_size();
    let mut acc = vec![0u8; bs];
    // Zero padding of the last block is implicit: XOR-ing a short chunk leaves the rest as is.
    for chunk in data.chunks(bs) {
        xor_into(&mut acc, chunk);
    }
    // The host works on the ASCII hex of the XOR result, so the MAC does too.
    let expanded = hex::encode_upper(&acc).into_bytes();
    let mut block = expanded[..bs].to_vec();
    cipher.encrypt_block(&mut block);
    xor_into(&mut block, &expanded[bs..]);
    cipher.encrypt_block(&mut block);
    let final_hex = hex::encode_upper(&block).into_bytes();
    let mut out = [0u8; 8];
    out.copy_from_slice(&final_hex[..8]);
    acc.zeroize();
    Ok(out)
}

/// ANSI X9.19 retail MAC: DES-CBC with the left half over the zero-padded data, then the last
/// block decrypted with the right half and encrypted with the left (ISO 9797-1 MAC algorithm 3,
/// padding method 1). The MAK must be a 2-key TDES key.
pub fn x919_mac(mak: &SecretKey, data: &[u8]) -> Result<[u8; 8], CryptoError> {
    if mak.algorithm() != KeyAlgorithm::Tdes || mak.len() != 16 {
        return Err(CryptoError::WrongKeyAlgorithm {
            operation: "X9.19 MAC",
            expected: "16-byte TDES",
            actual: mak.algorithm(),
        });
    }
    let k = mak.expose_secret();
    let left = KeyedCipher::Des(des_key(&k[..8])?);
    let right = KeyedCipher::Des(des_key(&k[8..])?);
    let mut padded = pad(data, 8, MacPadding::Method1);
    left.cbc_encrypt_in_place(&[0u8; 8], &mut padded)?;
    let mut last = [0u8; 8];
    last.copy_from_slice(&padded[padded.len() - 8..]);
    right.decrypt_block(&mut last);
    left.encrypt_block(&mut last);
    Ok(last)
}

fn des_key(half: &[u8]) -> Result<Des, CryptoError> {
    use cipher::KeyInit;
    Des::new_from_slice(half).map_err(|_| CryptoError::KeyLength {
        algorithm: KeyAlgorithm::Des,
        expected: "8",
        len: half.len(),
    })
}

/// ISO 9797-1 MAC algorithm 1 (plain CBC-MAC) with SM4; returns the full 16-byte block.
pub fn sm4_cbc_mac(
    key: &SecretKey,
    data: &[u8],
    padding: MacPadding,
) -> Result<[u8; 16], CryptoError> {
    if key.algorithm() != KeyAlgorithm::Sm4 {
        return Err(CryptoError::WrongKeyAlgorithm {
            operation: "SM4 MAC",
            expected: "SM4",
            actual: key.algorithm(),
        });
    }
    let cipher = KeyedCipher::new(key)?;
    let mut padded = pad(data, 16, padding);
    cipher.cbc_encrypt_in_place(&[0u8; 16], &mut padded)?;
    let mut out = [0u8; 16];
    out.copy_from_slice(&padded[padded.len() - 16..]);
    Ok(out)
}

/// AES-CMAC (NIST SP 800-38B / RFC 4493) through the `cmac` crate.
pub fn aes_cmac(key: &SecretKey, data: &[u8]) -> Result<[u8; 16], CryptoError> {
    super::kcv::cmac_aes(key, data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(alg: KeyAlgorithm, hex: &str) -> SecretKey {
        SecretKey::from_hex(alg, hex).unwrap()
    }

    #[test]
    fn x919_matches_iso_9797_1_annex_b() {
        // ISO/IEC 9797-1:1999 Annex B, MAC algorithm 3, padding method 1, key
        // 0123456789ABCDEF FEDCBA9876543210, data "Now is the time for all " -> A1C72E74EA3FA9B6.
        // Also cross-checked with psec 1.3.0 `mac.generate_retail_mac(k1, k2, data, padding=1)`.
        let k = key(KeyAlgorithm::Tdes, "0123456789ABCDEFFEDCBA9876543210");
        let mac = x919_mac(&k, b"Now is the time for all ").unwrap();
        assert_eq!(hex::encode_upper(mac), "A1C72E74EA3FA9B6");
        // Unaligned input exercises padding method 1 (psec 1.3.0 cross-check).
        let mac = x919_mac(&k, b"Now is the time for it").unwrap();
        assert_eq!(hex::encode_upper(mac), "2E2B1428CC78254F");
        assert!(verify_mac(MacAlgorithm::X919, &k, b"Now is the time for it", &mac).unwrap());
        let mut bad = mac;
        bad[7] ^= 1;
        assert!(!verify_mac(MacAlgorithm::X919, &k, b"Now is the time for it", &bad).unwrap());
    }

    #[test]
    fn x919_rejects_non_tdes_keys() {
        let k = key(KeyAlgorithm::Des, "0123456789ABCDEF");
        assert!(matches!(
            x919_mac(&k, b"x"),
            Err(CryptoError::WrongKeyAlgorithm { .. })
        ));
    }

    #[test]
    fn cup_ecb_with_tdes_and_des_maks() {
        // Expected values from an independent Python implementation of the UnionPay ECB
        // construction over pyca/cryptography 48 TripleDES/DES, written while developing.
        let k = key(KeyAlgorithm::Tdes, "0123456789ABCDEFFEDCBA9876543210");
        let data = hex::decode("0200702406C020C09A11196225000000000001000000000000000100").unwrap();
        assert_eq!(&cup_ecb_mac(&k, &data).unwrap(), b"61EA54B1");
        let d = key(KeyAlgorithm::Des, "0123456789ABCDEF");
        assert_eq!(&cup_ecb_mac(&d, &data).unwrap(), b"8BD5725B");
        assert!(verify_mac(MacAlgorithm::CupEcb, &k, &data, b"61EA54B1").unwrap());
        assert!(!verify_mac(MacAlgorithm::CupEcb, &k, &data[1..], b"61EA54B1").unwrap());
    }

    #[test]
    fn cup_ecb_with_sm4_mak() {
        // Independent Python implementation over pyca/cryptography 48 algorithms.SM4.
        let k = key(KeyAlgorithm::Sm4, "0123456789ABCDEFFEDCBA9876543210");
        let data = hex::decode("0200702406C020C09A11196225000000000001000000000000000100").unwrap();
        assert_eq!(&cup_ecb_mac(&k, &data).unwrap(), b"5A8175FD");
    }

    #[test]
    fn sm4_cbc_mac_padding_methods() {
        // Independent Python CBC-MAC over pyca/cryptography 48 algorithms.SM4 (ISO 9797-1
        // MAC algorithm 1, padding methods 1 and 2).
        let k = key(KeyAlgorithm::Sm4, "0123456789ABCDEFFEDCBA9876543210");
        let m1 = sm4_cbc_mac(&k, b"Now is the time for all ", MacPadding::Method1).unwrap();
        let m2 = sm4_cbc_mac(&k, b"Now is the time for all ", MacPadding::Method2).unwrap();
        assert_eq!(hex::encode_upper(m1), "735A13D12D64588BB0DF793F2103C557");
        assert_eq!(hex::encode_upper(m2), "D3CFA47F45CC36F3D6FC35214380EE74");
        let mac8 = compute_mac(MacAlgorithm::Sm4Cbc, &k, b"Now is the time for all ").unwrap();
        assert_eq!(mac8[..], m1[..8]);
    }

    #[test]
    fn aes_cmac_matches_rfc_4493() {
        // RFC 4493 section 4, examples 1 and 2.
        let k = key(KeyAlgorithm::Aes, "2B7E151628AED2A6ABF7158809CF4F3C");
        assert_eq!(
            hex::encode_upper(aes_cmac(&k, b"").unwrap()),
            "BB1D6929E95937287FA37D129B756746"
        );
        let m = hex::decode("6BC1BEE22E409F96E93D7E117393172A").unwrap();
        assert_eq!(
            hex::encode_upper(aes_cmac(&k, &m).unwrap()),
            "070A16B46B4D4144F79BDD9DD04A287C"
        );
    }

    #[test]
    fn padding_rules() {
        assert_eq!(pad(b"", 8, MacPadding::Method1), vec![0; 8]);
        assert_eq!(pad(&[1; 8], 8, MacPadding::Method1), vec![1; 8]);
        let p2 = pad(&[1; 8], 8, MacPadding::Method2);
        assert_eq!(p2.len(), 16);
        assert_eq!(p2[8], 0x80);
    }
}
