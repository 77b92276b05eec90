//! UnionPay track encryption (银联卡受理终端应用规范, POS terminal application, "磁道加密算法"):
//! in the packed track data (BCD, digits first, D as the separator, padded with 0), the 8 bytes
//! that end one byte before the last — the issuer's discretionary data and service code, TDB —
//! are enciphered with the TDK (double-length TDES, ECB) and put back in place. The length and
//! the leading PAN digits stay readable for routing; what a skimmer needs does not.

use crate::codec::bcd::{self, Align, Charset};

/// The enciphered block is 8 bytes, ending one byte before the last of the packed track.
const TDB_LEN: usize = 8;

/// Why a track could not be enciphered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TrackCipherError {
    #[error("track data of {digits} digits is too short to hold an 8-byte TDB")]
    TooShort { digits: usize },
    #[error("track data: {0}")]
    Bcd(#[from] bcd::BcdError),
    #[error("data key: {0}")]
    Key(String),
}

/// Where the TDB lies in `packed` (the track's bytes), if the track is long enough.
pub fn tdb_range(packed_len: usize) -> Option<std::ops::Range<usize>> {
    let end = packed_len.checked_sub(1)?;
    let start = end.checked_sub(TDB_LEN)?;
    Some(start..end)
}

/// The track digits with the TDB enciphered by `encipher` (the TDK, inside the key vault), as
/// hex digits of the same count: the value field 35 or 36 carries when field 53.3 is 1.
pub fn encipher_track(
    digits: &str,
    encipher: impl FnOnce(&[u8]) -> Result<Vec<u8>, String>,
) -> Result<String, TrackCipherError> {
    transform(digits, encipher)
}

/// The inverse, for the acquirer side (the simulator) and for tests.
pub fn decipher_track(
    digits: &str,
    decipher: impl FnOnce(&[u8]) -> Result<Vec<u8>, String>,
) -> Result<String, TrackCipherError> {
    transform(digits, decipher)
}

fn transform(
    digits: &str,
    cipher: impl FnOnce(&[u8]) -> Result<Vec<u8>, String>,
) -> Result<String, TrackCipherError> {
    let mut packed = zeroize::Zeroizing::new(bcd::encode(digits, Align::Left, 0, Charset::Track)?);
    let range = tdb_range(packed.len()).ok_or(TrackCipherError::TooShort {
        digits: digits.len(),
    })?;
    let out = cipher(&packed[range.clone()]).map_err(TrackCipherError::Key)?;
    if out.len() != TDB_LEN {
        return Err(TrackCipherError::Key(format!(
            "cipher returned {} bytes for an 8-byte block",
            out.len()
        )));
    }
    packed[range].copy_from_slice(&out);
    Ok(bcd::decode(
        &packed,
        digits.len(),
        Align::Left,
        Charset::Track,
        0,
    )?)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::crypto::{KeyAlgorithm, SecretKey, ecb_decrypt, ecb_encrypt};

    /// The specification's worked example: track 2 "1234567890123456789=0508201781999168302"
    /// packs to 20 bytes, and its TDB2 is 08 20 17 81 99 91 68 30.
    #[test]
    fn the_tdb_is_the_specifications_example() {
        let digits = "1234567890123456789=0508201781999168302";
        let packed = bcd::encode(digits, Align::Left, 0, Charset::Track).unwrap();
        assert_eq!(packed.len(), 20);
        let range = tdb_range(packed.len()).unwrap();
        assert_eq!(
            &packed[range],
            &[0x08, 0x20, 0x17, 0x81, 0x99, 0x91, 0x68, 0x30]
        );
    }

    #[test]
    fn only_the_tdb_changes_and_deciphering_restores_the_track() {
        let tdk =
            SecretKey::from_hex(KeyAlgorithm::Tdes, "F1E2D3C4B5A69788A1B2C3D4E5F60718").unwrap();
        let clear = "6222021234567890015D30121011234567890";
        let enciphered =
            encipher_track(clear, |b| ecb_encrypt(&tdk, b).map_err(|e| e.to_string())).unwrap();
        assert_eq!(enciphered.len(), clear.len());
        assert_ne!(enciphered, clear);
        // The PAN's leading digits (before the TDB) and the last byte are untouched.
        let packed_len = clear.len().div_ceil(2);
        let tdb = tdb_range(packed_len).unwrap();
        assert_eq!(enciphered[..tdb.start * 2], clear[..tdb.start * 2]);
        assert_eq!(enciphered[tdb.end * 2..], clear[tdb.end * 2..]);
        let back = decipher_track(&enciphered, |b| {
            ecb_decrypt(&tdk, b)
                .map(|z| z.to_vec())
                .map_err(|e| e.to_string())
        })
        .unwrap();
        assert_eq!(back, clear);
    }

    #[test]
    fn a_track_too_short_for_a_tdb_is_refused() {
        assert_eq!(
            encipher_track("6222021234567890", |b| Ok(b.to_vec())),
            Err(TrackCipherError::TooShort { digits: 16 })
        );
    }
}
