//! Working keys a terminal refuses to use, whatever the host sends: a single-length DES key
//! (56 bits, broken by exhaustive search), a double-length key whose halves are equal (TDES then
//! degenerates to single DES), a DES weak or semi-weak key half, and one key serving two purposes
//! (a PIN key that is also the MAC key lets a MAC oracle decrypt PIN blocks). PCI PIN security
//! requirement 19 asks for exactly this separation and strength.

use super::mac::constant_time_eq;
use super::{KeyAlgorithm, SecretKey};

/// Why a set of working keys was refused. Never carries key material.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyStrengthError {
    #[error("{key} is a single-length DES key (56 bits); double-length TDES or SM4 is required")]
    SingleLength { key: &'static str },
    #[error("{key} has equal halves: TDES with it is single DES")]
    EqualHalves { key: &'static str },
    #[error("{key} contains a DES weak or semi-weak key")]
    Weak { key: &'static str },
    #[error("{first} and {second} are the same key; each purpose needs its own")]
    Shared {
        first: &'static str,
        second: &'static str,
    },
}

/// Checks a working key set (PIK, MAK and the optional TDK) before it is installed.
pub fn check_working_keys(
    pik: &SecretKey,
    mak: &SecretKey,
    tdk: Option<&SecretKey>,
) -> Result<(), KeyStrengthError> {
    let mut named = vec![("PIK", pik), ("MAK", mak)];
    named.extend(tdk.map(|k| ("TDK", k)));
    for (name, key) in &named {
        check_key(name, key)?;
    }
    for (i, (first, a)) in named.iter().enumerate() {
        for (second, b) in &named[i + 1..] {
            if constant_time_eq(a.expose_secret(), b.expose_secret()) {
                return Err(KeyStrengthError::Shared { first, second });
            }
        }
    }
    Ok(())
}

fn check_key(name: &'static str, key: &SecretKey) -> Result<(), KeyStrengthError> {
    match key.algorithm() {
        KeyAlgorithm::Des => Err(KeyStrengthError::SingleLength { key: name }),
        KeyAlgorithm::Tdes => {
            let bytes = key.expose_secret();
            let halves: Vec<[u8; 8]> = bytes.chunks_exact(8).map(with_odd_parity).collect();
            if halves.windows(2).any(|w| w[0] == w[1])
                || (halves.len() == 3 && halves[0] == halves[2])
            {
                return Err(KeyStrengthError::EqualHalves { key: name });
            }
            // DES ignores the parity bits, so a weak key with other parity is just as weak: the
            // test runs on the parity-adjusted halves.
            if halves.iter().any(|h| des::weak_key_test(h).is_err()) {
                return Err(KeyStrengthError::Weak { key: name });
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The 8 bytes with each byte's low bit set for odd parity, as DES key schedules read them.
fn with_odd_parity(half: &[u8]) -> [u8; 8] {
    let mut out = [0u8; 8];
    for (o, b) in out.iter_mut().zip(half) {
        let high = b & 0xFE;
        *o = if high.count_ones() % 2 == 0 {
            high | 1
        } else {
            high
        };
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn tdes(hex: &str) -> SecretKey {
        SecretKey::from_hex(KeyAlgorithm::Tdes, hex).unwrap()
    }

    const PIK: &str = "0123456789ABCDEFFEDCBA9876543210";
    const MAK: &str = "1C2D3E4F5A6B7C8D8D7C6B5A4F3E2D1C";

    #[test]
    fn distinct_double_length_keys_pass() {
        check_working_keys(&tdes(PIK), &tdes(MAK), None).unwrap();
        let tdk = tdes("F1E2D3C4B5A69788A1B2C3D4E5F60718");
        check_working_keys(&tdes(PIK), &tdes(MAK), Some(&tdk)).unwrap();
    }

    #[test]
    fn a_single_length_key_is_refused() {
        let des = SecretKey::from_hex(KeyAlgorithm::Des, "0123456789ABCDEF").unwrap();
        assert_eq!(
            check_working_keys(&tdes(PIK), &des, None),
            Err(KeyStrengthError::SingleLength { key: "MAK" })
        );
    }

    #[test]
    fn equal_halves_are_refused_even_when_only_the_parity_bits_differ() {
        assert_eq!(
            check_working_keys(&tdes("0123456789ABCDEF0123456789ABCDEF"), &tdes(MAK), None),
            Err(KeyStrengthError::EqualHalves { key: "PIK" })
        );
        // 0x00 and 0x01 differ only in the parity bit: the same DES key.
        assert_eq!(
            check_working_keys(&tdes(PIK), &tdes("0023456789ABCDEF0123456789ABCDEF"), None),
            Err(KeyStrengthError::EqualHalves { key: "MAK" })
        );
    }

    /// Weak and semi-weak DES keys from FIPS 74 (Guidelines for implementing and using the NBS
    /// Data Encryption Standard, 1981, section 3.6), also listed in the TCG TPM 2.0 Part 1
    /// architecture specification that the `des` crate cites.
    #[test]
    fn fips74_weak_and_semi_weak_halves_are_refused() {
        for half in [
            "0101010101010101",
            "FEFEFEFEFEFEFEFE",
            "E0E0E0E0F1F1F1F1",
            "1F1F1F1F0E0E0E0E",
            "011F011F010E010E",
            "E001E001F101F101",
        ] {
            let key = tdes(&format!("{half}{}", &MAK[16..]));
            assert_eq!(
                check_working_keys(&tdes(PIK), &key, None),
                Err(KeyStrengthError::Weak { key: "MAK" }),
                "{half}"
            );
        }
        // The all-zero key is weak key 0101…01 with even parity.
        let zero = tdes(&format!("0000000000000000{}", &MAK[16..]));
        assert!(check_working_keys(&zero, &tdes(MAK), None).is_err());
    }

    #[test]
    fn one_key_for_two_purposes_is_refused() {
        assert_eq!(
            check_working_keys(&tdes(PIK), &tdes(PIK), None),
            Err(KeyStrengthError::Shared {
                first: "PIK",
                second: "MAK"
            })
        );
        assert_eq!(
            check_working_keys(&tdes(PIK), &tdes(MAK), Some(&tdes(MAK))),
            Err(KeyStrengthError::Shared {
                first: "MAK",
                second: "TDK"
            })
        );
    }

    #[test]
    fn sm4_keys_are_checked_for_separation_only() {
        let sm4 = |hex: &str| SecretKey::from_hex(KeyAlgorithm::Sm4, hex).unwrap();
        check_working_keys(&sm4(PIK), &sm4(MAK), None).unwrap();
        assert!(check_working_keys(&sm4(PIK), &sm4(PIK), None).is_err());
    }
}
