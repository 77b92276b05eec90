//! TDES DUKPT, ANSI X9.24-1:2009 Annex A: 10-byte KSN, 21-bit transaction counter.

use des::Des;
use zeroize::Zeroize;

use crate::crypto::block::{KeyedCipher, xor_into};
use crate::crypto::{CryptoError, KeyAlgorithm, SecretKey};

pub const KSN_LEN: usize = 10;
const COUNTER_MASK: u32 = 0x1F_FFFF;
/// X9.24-1 A.2: "C0C0 C0C0 0000 0000 C0C0 C0C0 0000 0000", the mask that makes the left
/// half of a derived key independent of the right.
const KEY_MASK: [u8; 16] = [
    0xC0, 0xC0, 0xC0, 0xC0, 0, 0, 0, 0, 0xC0, 0xC0, 0xC0, 0xC0, 0, 0, 0, 0,
];

/// Which variant of the transaction key a purpose uses (X9.24-1:2009 A.6 / Table A-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyVariant {
    Pin,
    MacRequest,
    MacResponse,
    DataRequest,
    DataResponse,
}

impl KeyVariant {
    const fn mask(self) -> [u8; 8] {
        match self {
            Self::Pin => [0, 0, 0, 0, 0, 0, 0, 0xFF],
            Self::MacRequest => [0, 0, 0, 0, 0, 0, 0xFF, 0],
            Self::MacResponse => [0, 0, 0, 0, 0xFF, 0, 0, 0],
            Self::DataRequest => [0, 0, 0, 0, 0, 0xFF, 0, 0],
            Self::DataResponse => [0, 0, 0, 0xFF, 0, 0, 0, 0],
        }
    }
}

fn check_ksn(ksn: &[u8]) -> Result<[u8; KSN_LEN], CryptoError> {
    ksn.try_into().map_err(|_| CryptoError::KsnLength {
        expected: KSN_LEN,
        len: ksn.len(),
    })
}

/// The 21-bit transaction counter in the last bits of the KSN.
pub fn counter(ksn: &[u8]) -> Result<u32, CryptoError> {
    let k = check_ksn(ksn)?;
    Ok(u32::from_be_bytes([0, k[7], k[8], k[9]]) & COUNTER_MASK)
}

fn tdes_key(bytes: &[u8]) -> Result<SecretKey, CryptoError> {
    SecretKey::new(KeyAlgorithm::Tdes, bytes)
}

/// Initial PIN encryption key (IPEK) from the BDK and the KSN, counter bits ignored.
pub fn ipek(bdk: &SecretKey, ksn: &[u8]) -> Result<SecretKey, CryptoError> {
    if bdk.algorithm() != KeyAlgorithm::Tdes || bdk.len() != 16 {
        return Err(CryptoError::WrongKeyAlgorithm {
            operation: "TDES DUKPT",
            expected: "16-byte TDES BDK",
            actual: bdk.algorithm(),
        });
    }
    let k = check_ksn(ksn)?;
    let mut base = [0u8; 8];
    base.copy_from_slice(&k[..8]);
    base[7] &= 0xE0;
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&base);
    KeyedCipher::new(bdk)?.encrypt_block(&mut out[..8]);
    let mut masked = bdk.expose_secret().to_vec();
    xor_into(&mut masked, &KEY_MASK);
    let masked_key = tdes_key(&masked)?;
    masked.zeroize();
    out[8..].copy_from_slice(&base);
    KeyedCipher::new(&masked_key)?.encrypt_block(&mut out[8..]);
    let key = tdes_key(&out);
    out.zeroize();
    key
}

fn des(half: &[u8]) -> Result<KeyedCipher, CryptoError> {
    use cipher::KeyInit;
    Des::new_from_slice(half)
        .map(KeyedCipher::Des)
        .map_err(|_| CryptoError::KeyLength {
            algorithm: KeyAlgorithm::Des,
            expected: "8",
            len: half.len(),
        })
}

/// One half of the non-reversible key generation process (X9.24-1 A.2, steps 1-3):
/// (data XOR right) encrypted under left, XOR right.
fn one_way(key: &[u8], data: &[u8; 8]) -> Result<[u8; 8], CryptoError> {
    let mut reg = *data;
    xor_into(&mut reg, &key[8..]);
    des(&key[..8])?.encrypt_block(&mut reg);
    xor_into(&mut reg, &key[8..]);
    Ok(reg)
}

/// The non-reversible key generation process: the new right half from the key, the new left
/// half from the key under the C0C0 mask.
fn non_reversible(key: &[u8; 16], data: &[u8; 8]) -> Result<[u8; 16], CryptoError> {
    let right = one_way(key, data)?;
    let mut masked = *key;
    xor_into(&mut masked, &KEY_MASK);
    let left = one_way(&masked, data)?;
    masked.zeroize();
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&left);
    out[8..].copy_from_slice(&right);
    Ok(out)
}

/// The transaction key for `ksn`: from the IPEK, one non-reversible step per counter bit set,
/// most significant first (the host side of X9.24-1 A.3).
pub fn transaction_key(ipek: &SecretKey, ksn: &[u8]) -> Result<SecretKey, CryptoError> {
    let k = check_ksn(ksn)?;
    let ctr = counter(&k)?;
    if ctr == 0 {
        return Err(CryptoError::KsnCounter {
            counter: ctr,
            reason: "a transaction counter of zero names no transaction key",
        });
    }
    if ctr.count_ones() > 10 {
        return Err(CryptoError::KsnCounter {
            counter: ctr,
            reason: "more than 10 one-bits never occur in X9.24-1 DUKPT",
        });
    }
    if ipek.len() != 16 {
        return Err(CryptoError::WrongKeyAlgorithm {
            operation: "TDES DUKPT",
            expected: "16-byte TDES IPEK",
            actual: ipek.algorithm(),
        });
    }
    let mut reg = [0u8; 8];
    reg.copy_from_slice(&k[2..]);
    reg[5] &= 0xE0;
    reg[6] = 0;
    reg[7] = 0;
    let mut key = [0u8; 16];
    key.copy_from_slice(ipek.expose_secret());
    let mut bit = 1u32 << 20;
    while bit != 0 {
        if ctr & bit != 0 {
            let b = bit.to_be_bytes();
            reg[5] |= b[1];
            reg[6] |= b[2];
            reg[7] |= b[3];
            key = non_reversible(&key, &reg)?;
        }
        bit >>= 1;
    }
    let out = tdes_key(&key);
    key.zeroize();
    out
}

/// Applies a variant mask to both halves of a transaction key.
pub fn apply_variant(key: &SecretKey, variant: KeyVariant) -> Result<SecretKey, CryptoError> {
    let mut bytes = key.expose_secret().to_vec();
    let mask = variant.mask();
    for half in bytes.chunks_mut(8) {
        xor_into(half, &mask);
    }
    let out = tdes_key(&bytes);
    bytes.zeroize();
    out
}

/// The working key for one purpose, straight from the BDK (the host's view).
pub fn working_key(
    bdk: &SecretKey,
    ksn: &[u8],
    variant: KeyVariant,
) -> Result<SecretKey, CryptoError> {
    let ik = ipek(bdk, ksn)?;
    let txn = transaction_key(&ik, ksn)?;
    apply_variant(&txn, variant)
}

#[cfg(test)]
mod tests {
    use super::*;

    // ANSI X9.24-1:2009 Annex A.4 test data, also used by openemv/dukpt
    // (test/dukpt_tdes_test.c), against which these were cross-checked.
    const BDK: &str = "0123456789ABCDEFFEDCBA9876543210";

    fn bdk() -> SecretKey {
        SecretKey::from_hex(KeyAlgorithm::Tdes, BDK).unwrap()
    }

    fn ksn(hex: &str) -> Vec<u8> {
        hex::decode(hex).unwrap()
    }

    #[test]
    fn ipek_matches_annex_a() {
        let ik = ipek(&bdk(), &ksn("FFFF9876543210E00000")).unwrap();
        assert_eq!(ik.expose_hex().as_str(), "6AC292FAA1315B4D858AB3A3D7D5933A");
        // Counter bits are ignored.
        let ik2 = ipek(&bdk(), &ksn("FFFF9876543210E00013")).unwrap();
        assert_eq!(ik2.expose_secret(), ik.expose_secret());
    }

    #[test]
    fn transaction_keys_match_annex_a_initial_sequence() {
        let ik = ipek(&bdk(), &ksn("FFFF9876543210E00000")).unwrap();
        let cases = [
            ("FFFF9876543210E00001", "042666B49184CFA368DE9628D0397BC9"),
            ("FFFF9876543210E00002", "C46551CEF9FD24B0AA9AD834130D3BC7"),
            ("FFFF9876543210E00003", "0DF3D9422ACA56E547676D07AD6BADFA"),
            ("FFFF9876543210E00015", "E161D1956A61F6D2F37AFD7F9CC3699A"),
            // A.4.3 rollover sequence, a counter with many bits set.
            ("FFFF9876543210EFFC00", "F9430DF975082491C77BE4EF4FDB91EE"),
            ("FFFF9876543210F00000", "AA4D58DB653EC74A48C75F2F047DD2B5"),
        ];
        for (k, expected) in cases {
            let t = transaction_key(&ik, &ksn(k)).unwrap();
            assert_eq!(t.expose_hex().as_str(), expected, "KSN {k}");
        }
    }

    #[test]
    fn pin_key_encrypts_the_annex_a_pin_block() {
        // A.4.2: clear PIN block 041274EDCBA9876F under the PIN variant of counter 1 and 2.
        let clear = hex::decode("041274EDCBA9876F").unwrap();
        for (k, expected) in [
            ("FFFF9876543210E00001", "1B9C1845EB993A7A"),
            ("FFFF9876543210E00002", "10A01C8D02C69107"),
        ] {
            let pin_key = working_key(&bdk(), &ksn(k), KeyVariant::Pin).unwrap();
            let enc = crate::crypto::ecb_encrypt(&pin_key, &clear).unwrap();
            assert_eq!(hex::encode_upper(enc), expected, "KSN {k}");
        }
        let pin_key = working_key(&bdk(), &ksn("FFFF9876543210E00001"), KeyVariant::Pin).unwrap();
        assert_eq!(
            pin_key.expose_hex().as_str(),
            "042666B49184CF5C68DE9628D0397B36"
        );
    }

    #[test]
    fn variants_flip_the_documented_bytes() {
        let t = transaction_key(
            &ipek(&bdk(), &ksn("FFFF9876543210E00001")).unwrap(),
            &ksn("FFFF9876543210E00001"),
        )
        .unwrap();
        let mreq = apply_variant(&t, KeyVariant::MacRequest).unwrap();
        let mres = apply_variant(&t, KeyVariant::MacResponse).unwrap();
        let dreq = apply_variant(&t, KeyVariant::DataRequest).unwrap();
        // Transaction key 042666B49184CFA3 68DE9628D0397BC9 with the X9.24-1 variant masks
        // applied by hand: MAC request 000000000000FF00.., response 00000000FF000000..,
        // data request 0000000000FF0000.. on both halves.
        assert_eq!(
            mreq.expose_hex().as_str(),
            "042666B4918430A368DE9628D03984C9"
        );
        assert_eq!(
            mres.expose_hex().as_str(),
            "042666B46E84CFA368DE96282F397BC9"
        );
        assert_eq!(
            dreq.expose_hex().as_str(),
            "042666B4917BCFA368DE9628D0C67BC9"
        );
    }

    #[test]
    fn bad_ksn_is_a_typed_error() {
        let ik = ipek(&bdk(), &ksn("FFFF9876543210E00000")).unwrap();
        assert_eq!(
            transaction_key(&ik, &[0; 9]).unwrap_err(),
            CryptoError::KsnLength {
                expected: 10,
                len: 9
            }
        );
        assert!(matches!(
            transaction_key(&ik, &ksn("FFFF9876543210E00000")),
            Err(CryptoError::KsnCounter { .. })
        ));
        assert!(matches!(
            transaction_key(&ik, &ksn("FFFF9876543210E007FF")),
            Err(CryptoError::KsnCounter { .. })
        ));
    }
}
