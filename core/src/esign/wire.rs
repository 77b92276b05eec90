//! The e-signature upload on the wire, OUR dialect row: not verified against UnionPay's
//! specification (no public source of its 电子签名上送 message was found); one row to change.
//!
//! 0820, 60.1 = 07, 60.3 = 800, field 11 the upload's own STAN, 41/42 terminal and merchant,
//! 61 = the signed transaction's batch + STAN + date (MMDD), like the script result advice,
//! 62 = one segment: this module's header, then up to [`SEGMENT_BYTES`] bytes of the JBIG
//! image; 64 MAC. The header carries the slip's date and time and the binding digest in every
//! segment (not only the first), so the acquirer can check any segment against the slip it
//! names whatever order they arrive in.
//!
//! Header: version (1), segment index (1, 1-based), segment count (1), image length (4, big
//! endian), slip date and time (14 ASCII digits, `YYYYMMDDhhmmss`), digest (32).
//!
//! Offline approvals (chip Y1/Y3, contactless electronic cash) are signed at the card, when the
//! cardholder is there, and the sealed image is journaled in the approval's own commit; but the
//! digest covers the RRN (and auth code), which an offline approval gets only from the answer to
//! its offline advice (0220/0221, fields 37 and 38, kept on the transaction). So the upload is
//! queued behind the advice and is never sent before it: when it reaches the front of the queue
//! the advice has been answered, the digest is computed over the slip with those references and
//! journaled (one commit, crash point `esign.bound`), and only then does the first segment go.
//! The slip's date and time stay the ones of the approval. An advice given up unanswered leaves
//! nothing to bind: the upload is given up and settlement names the slip as one to keep on
//! paper, signed. An advice the acquirer declined leaves no charge: the upload is given up and
//! no paper slip is asked for. The acquirer's check is the same as for an online
//! approval: its own ledger's amount, RRN and auth code for the slip field 61 names.

use thiserror::Error;

use super::binding::SignatureDigest;
use super::upload::{MAX_SEGMENTS, Segment};

/// 60.1 of the upload.
pub const TYPE_CODE: &str = "07";
/// 60.3 of the upload.
pub const NET_CODE: &str = "800";
/// Field 39 when the digest does not bind the image to the slip field 61 names (a signature
/// moved to another STAN): refused, nothing stored.
pub const REFUSED_BINDING: &str = "63";
/// Field 39 when the acquirer has no approved transaction for field 61.
pub const REFUSED_NO_ORIGINAL: &str = "25";
/// Field 39 when the slip already has a different signature.
pub const REFUSED_ALREADY_SIGNED: &str = "94";

const VERSION: u8 = 1;
pub const HEADER_LEN: usize = 1 + 1 + 1 + 4 + 14 + 32;
/// Field 62 is LLLVAR binary of at most 512 bytes in the CUPS table.
pub const FIELD62_MAX: usize = 512;
/// Image bytes per upload message.
pub const SEGMENT_BYTES: usize = FIELD62_MAX - HEADER_LEN;

/// One upload message's field 62, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadSegment {
    pub segment: Segment,
    pub image_len: u32,
    pub date_time: String,
    pub digest: SignatureDigest,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum WireError {
    #[error("field 62 is {0} bytes, shorter than the e-signature header")]
    Short(usize),
    #[error("field 62 header version {0} is not known")]
    Version(u8),
    #[error("field 62: the slip date and time is not 14 digits")]
    DateTime,
    #[error("field 62: segment {index} of {total} is not a valid position")]
    Position { index: usize, total: usize },
}

/// Field 62 for one segment.
pub fn encode_field62(
    s: &Segment,
    image_len: u32,
    date_time: &str,
    d: &SignatureDigest,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + s.bytes.len());
    out.push(VERSION);
    out.push(u8::try_from(s.index).unwrap_or(u8::MAX));
    out.push(u8::try_from(s.total).unwrap_or(u8::MAX));
    out.extend_from_slice(&image_len.to_be_bytes());
    let mut dt = [b'0'; 14];
    for (slot, b) in dt.iter_mut().zip(date_time.bytes()) {
        *slot = b;
    }
    out.extend_from_slice(&dt);
    out.extend_from_slice(d.as_bytes());
    out.extend_from_slice(&s.bytes);
    out
}

/// Decodes field 62 of an upload.
pub fn parse_field62(field: &[u8]) -> Result<UploadSegment, WireError> {
    if field.len() < HEADER_LEN {
        return Err(WireError::Short(field.len()));
    }
    let (header, bytes) = field.split_at(HEADER_LEN);
    if header[0] != VERSION {
        return Err(WireError::Version(header[0]));
    }
    let (index, total) = (usize::from(header[1]), usize::from(header[2]));
    if index == 0 || total == 0 || index > total || total > MAX_SEGMENTS {
        return Err(WireError::Position { index, total });
    }
    let image_len = u32::from_be_bytes([header[3], header[4], header[5], header[6]]);
    let date_time = &header[7..21];
    if !date_time.iter().all(u8::is_ascii_digit) {
        return Err(WireError::DateTime);
    }
    let mut digest = [0u8; 32];
    digest.copy_from_slice(&header[21..53]);
    Ok(UploadSegment {
        segment: Segment {
            index,
            total,
            bytes: bytes.to_vec(),
        },
        image_len,
        date_time: String::from_utf8_lossy(date_time).into_owned(),
        digest: SignatureDigest::from_bytes(digest),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_segment_round_trips_and_fits_field_62() {
        let s = Segment {
            index: 2,
            total: 3,
            bytes: vec![7; SEGMENT_BYTES],
        };
        let d = SignatureDigest::from_bytes([0xAB; 32]);
        let field = encode_field62(&s, 1000, "20261204101500", &d);
        assert_eq!(field.len(), FIELD62_MAX);
        let back = parse_field62(&field).expect("parse");
        assert_eq!(back.segment, s);
        assert_eq!(
            (back.image_len, back.date_time.as_str()),
            (1000, "20261204101500")
        );
        assert_eq!(back.digest, d);
    }

    #[test]
    fn bad_headers_are_refused_without_panicking() {
        assert_eq!(parse_field62(&[1, 1]), Err(WireError::Short(2)));
        let d = SignatureDigest::from_bytes([0; 32]);
        let s = |index, total| Segment {
            index,
            total,
            bytes: vec![1],
        };
        let mut f = encode_field62(&s(1, 1), 1, "20261204101500", &d);
        f[0] = 9;
        assert_eq!(parse_field62(&f), Err(WireError::Version(9)));
        let f = encode_field62(&s(3, 2), 1, "20261204101500", &d);
        assert!(matches!(parse_field62(&f), Err(WireError::Position { .. })));
        let f = encode_field62(&s(1, 1), 1, "2026-12-04 10:1", &d);
        assert_eq!(parse_field62(&f), Err(WireError::DateTime));
    }
}
