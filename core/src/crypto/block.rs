//! ECB and CBC over the RustCrypto block ciphers. The primitives come from `des`, `sm4` and
//! `aes`; only the chaining (a few XORs) lives here.

use aes::{Aes128, Aes192, Aes256};
use cipher::{Block, BlockCipherDecrypt, BlockCipherEncrypt, BlockSizeUser, KeyInit};
use des::{Des, TdesEde2, TdesEde3};
use sm4::Sm4;
use zeroize::{Zeroize, Zeroizing};

use super::{CryptoError, KeyAlgorithm, SecretKey};

/// A keyed block cipher chosen by the key's algorithm and length.
pub(crate) enum KeyedCipher {
    Des(Des),
    Tdes2(TdesEde2),
    Tdes3(TdesEde3),
    Sm4(Sm4),
    Aes128(Aes128),
    Aes192(Aes192),
    Aes256(Aes256),
}

fn keyed<C: KeyInit>(key: &SecretKey) -> Result<C, CryptoError> {
    C::new_from_slice(key.expose_secret()).map_err(|_| CryptoError::KeyLength {
        algorithm: key.algorithm(),
        expected: "a valid length",
        len: key.len(),
    })
}

fn encrypt_in_place<C: BlockCipherEncrypt>(c: &C, block: &mut [u8]) {
    let mut b = Block::<C>::default();
    b.copy_from_slice(block);
    c.encrypt_block(&mut b);
    block.copy_from_slice(&b);
}

fn decrypt_in_place<C: BlockCipherDecrypt + BlockSizeUser>(c: &C, block: &mut [u8]) {
    let mut b = Block::<C>::default();
    b.copy_from_slice(block);
    c.decrypt_block(&mut b);
    block.copy_from_slice(&b);
    b[..].zeroize();
}

impl KeyedCipher {
    pub(crate) fn new(key: &SecretKey) -> Result<Self, CryptoError> {
        Ok(match (key.algorithm(), key.len()) {
            (KeyAlgorithm::Des, _) => Self::Des(keyed(key)?),
            // An 8-byte key offered as TDES is K1=K2=K3, i.e. single DES.
            (KeyAlgorithm::Tdes, 8) => Self::Des(keyed(key)?),
            (KeyAlgorithm::Tdes, 16) => Self::Tdes2(keyed(key)?),
            (KeyAlgorithm::Tdes, _) => Self::Tdes3(keyed(key)?),
            (KeyAlgorithm::Sm4, _) => Self::Sm4(keyed(key)?),
            (KeyAlgorithm::Aes, 16) => Self::Aes128(keyed(key)?),
            (KeyAlgorithm::Aes, 24) => Self::Aes192(keyed(key)?),
            (KeyAlgorithm::Aes, _) => Self::Aes256(keyed(key)?),
        })
    }

    pub(crate) fn block_size(&self) -> usize {
        match self {
            Self::Des(_) | Self::Tdes2(_) | Self::Tdes3(_) => 8,
            _ => 16,
        }
    }

    fn check_aligned(&self, len: usize) -> Result<(), CryptoError> {
        let block_size = self.block_size();
        if !len.is_multiple_of(block_size) {
            return Err(CryptoError::DataNotBlockAligned { len, block_size });
        }
        Ok(())
    }

    /// Encrypts one block in place; `block` must be exactly one block long.
    pub(crate) fn encrypt_block(&self, block: &mut [u8]) {
        match self {
            Self::Des(c) => encrypt_in_place(c, block),
            Self::Tdes2(c) => encrypt_in_place(c, block),
            Self::Tdes3(c) => encrypt_in_place(c, block),
            Self::Sm4(c) => encrypt_in_place(c, block),
            Self::Aes128(c) => encrypt_in_place(c, block),
            Self::Aes192(c) => encrypt_in_place(c, block),
            Self::Aes256(c) => encrypt_in_place(c, block),
        }
    }

    pub(crate) fn decrypt_block(&self, block: &mut [u8]) {
        match self {
            Self::Des(c) => decrypt_in_place(c, block),
            Self::Tdes2(c) => decrypt_in_place(c, block),
            Self::Tdes3(c) => decrypt_in_place(c, block),
            Self::Sm4(c) => decrypt_in_place(c, block),
            Self::Aes128(c) => decrypt_in_place(c, block),
            Self::Aes192(c) => decrypt_in_place(c, block),
            Self::Aes256(c) => decrypt_in_place(c, block),
        }
    }

    pub(crate) fn ecb_encrypt_in_place(&self, data: &mut [u8]) -> Result<(), CryptoError> {
        self.check_aligned(data.len())?;
        let bs = self.block_size();
        for chunk in data.chunks_exact_mut(bs) {
            self.encrypt_block(chunk);
        }
        Ok(())
    }

    pub(crate) fn ecb_decrypt_in_place(&self, data: &mut [u8]) -> Result<(), CryptoError> {
        self.check_aligned(data.len())?;
        let bs = self.block_size();
        for chunk in data.chunks_exact_mut(bs) {
            self.decrypt_block(chunk);
        }
        Ok(())
    }

    fn check_iv(&self, iv: &[u8]) -> Result<(), CryptoError> {
        if iv.len() != self.block_size() {
            return Err(CryptoError::IvLength {
                len: iv.len(),
                block_size: self.block_size(),
            });
        }
        Ok(())
    }

    pub(crate) fn cbc_encrypt_in_place(
        &self,
        iv: &[u8],
        data: &mut [u8],
    ) -> Result<(), CryptoError> {
        self.check_iv(iv)?;
        self.check_aligned(data.len())?;
        let bs = self.block_size();
        let mut chain = iv.to_vec();
        for chunk in data.chunks_exact_mut(bs) {
            xor_into(chunk, &chain);
            self.encrypt_block(chunk);
            chain.copy_from_slice(chunk);
        }
        Ok(())
    }

    pub(crate) fn cbc_decrypt_in_place(
        &self,
        iv: &[u8],
        data: &mut [u8],
    ) -> Result<(), CryptoError> {
        self.check_iv(iv)?;
        self.check_aligned(data.len())?;
        let bs = self.block_size();
        let mut chain = iv.to_vec();
        let mut next = vec![0u8; bs];
        for chunk in data.chunks_exact_mut(bs) {
            next.copy_from_slice(chunk);
            self.decrypt_block(chunk);
            xor_into(chunk, &chain);
            std::mem::swap(&mut chain, &mut next);
        }
        next.zeroize();
        Ok(())
    }
}

/// `dst ^= src` over the shorter of the two.
pub(crate) fn xor_into(dst: &mut [u8], src: &[u8]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d ^= s;
    }
}

/// ECB encryption; `data` must be a whole number of blocks.
pub fn ecb_encrypt(key: &SecretKey, data: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let mut out = data.to_vec();
    KeyedCipher::new(key)?.ecb_encrypt_in_place(&mut out)?;
    Ok(out)
}

/// ECB decryption; the plaintext may be key material, so it is wiped on drop.
pub fn ecb_decrypt(key: &SecretKey, data: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let mut out = Zeroizing::new(data.to_vec());
    KeyedCipher::new(key)?.ecb_decrypt_in_place(&mut out)?;
    Ok(out)
}

/// CBC encryption without padding; `iv` is one block.
pub fn cbc_encrypt(key: &SecretKey, iv: &[u8], data: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let mut out = data.to_vec();
    KeyedCipher::new(key)?.cbc_encrypt_in_place(iv, &mut out)?;
    Ok(out)
}

/// CBC decryption without padding removal.
pub fn cbc_decrypt(
    key: &SecretKey,
    iv: &[u8],
    data: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let mut out = Zeroizing::new(data.to_vec());
    KeyedCipher::new(key)?.cbc_decrypt_in_place(iv, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(alg: KeyAlgorithm, hex: &str) -> SecretKey {
        SecretKey::from_hex(alg, hex).unwrap()
    }

    #[test]
    fn sm4_matches_gbt_32907_appendix_a() {
        // GB/T 32907-2016 Appendix A.1 example 1: key = plaintext = 0123456789ABCDEFFEDCBA9876543210.
        let k = key(KeyAlgorithm::Sm4, "0123456789ABCDEFFEDCBA9876543210");
        let pt = hex::decode("0123456789ABCDEFFEDCBA9876543210").unwrap();
        let ct = ecb_encrypt(&k, &pt).unwrap();
        assert_eq!(hex::encode_upper(&ct), "681EDF34D206965E86B3E94F536E4246");
        assert_eq!(ecb_decrypt(&k, &ct).unwrap().as_slice(), pt.as_slice());
    }

    #[test]
    fn des_matches_fips_81_example() {
        // FIPS 81 Appendix B, Table B1: key 0123456789ABCDEF, "Now is t" -> 3FA40E8A984D4815.
        let k = key(KeyAlgorithm::Des, "0123456789ABCDEF");
        let ct = ecb_encrypt(&k, b"Now is t").unwrap();
        assert_eq!(hex::encode_upper(&ct), "3FA40E8A984D4815");
    }

    #[test]
    fn tdes_two_and_three_key_and_cbc() {
        // Expected values computed with pyca/cryptography 48 (TripleDES ECB/CBC) while developing.
        let k2 = key(KeyAlgorithm::Tdes, "0123456789ABCDEFFEDCBA9876543210");
        let k3 = key(
            KeyAlgorithm::Tdes,
            "0123456789ABCDEFFEDCBA98765432100123456789ABCDEF",
        );
        let pt = hex::decode("00000000000000001111111111111111").unwrap();
        let a = ecb_encrypt(&k2, &pt).unwrap();
        let b = ecb_encrypt(&k3, &pt).unwrap();
        // K3 = K1 makes 3-key TDES equal to 2-key TDES.
        assert_eq!(a, b);
        assert_eq!(hex::encode_upper(&a[..8]), "08D7B4FB629D0885");
        let iv = [0u8; 8];
        let c = cbc_encrypt(&k2, &iv, &pt).unwrap();
        assert_eq!(c[..8], a[..8]);
        assert_ne!(c[8..], a[8..]);
        assert_eq!(cbc_decrypt(&k2, &iv, &c).unwrap().as_slice(), pt.as_slice());
    }

    #[test]
    fn aes_matches_fips_197_appendix_c1() {
        // FIPS 197 Appendix C.1 (AES-128).
        let k = key(KeyAlgorithm::Aes, "000102030405060708090A0B0C0D0E0F");
        let pt = hex::decode("00112233445566778899AABBCCDDEEFF").unwrap();
        let ct = ecb_encrypt(&k, &pt).unwrap();
        assert_eq!(hex::encode_upper(&ct), "69C4E0D86A7B0430D8CDB78070B4C55A");
    }

    #[test]
    fn unaligned_data_and_bad_iv_are_typed_errors() {
        let k = key(KeyAlgorithm::Tdes, "0123456789ABCDEFFEDCBA9876543210");
        assert_eq!(
            ecb_encrypt(&k, &[0; 9]).unwrap_err(),
            CryptoError::DataNotBlockAligned {
                len: 9,
                block_size: 8
            }
        );
        assert_eq!(
            cbc_encrypt(&k, &[0; 16], &[0; 8]).unwrap_err(),
            CryptoError::IvLength {
                len: 16,
                block_size: 8
            }
        );
        let s = key(KeyAlgorithm::Sm4, "0123456789ABCDEFFEDCBA9876543210");
        assert!(matches!(
            ecb_decrypt(&s, &[0; 8]),
            Err(CryptoError::DataNotBlockAligned { block_size: 16, .. })
        ));
    }
}
