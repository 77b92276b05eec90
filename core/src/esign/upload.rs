//! The signature upload, as data and pure rules the engine's store-and-forward queue drives:
//! splitting an image over several messages when it exceeds the field, putting it back together
//! on the acquirer's side, and what settlement does with uploads still owed.
//!
//! UnionPay's e-signature upload message (its message type, the 60.1 transaction type code and
//! the field carrying the image) could not be confirmed from a public source while this was
//! written, so the wire mapping is left to the acquirer dialect table; what is fixed here holds
//! for any field size: segments are numbered 1..=total, every segment says the total, the image
//! is rebuilt only when all have arrived, and the binding digest (see `binding`) is checked over
//! the rebuilt image.

use std::collections::BTreeMap;

use thiserror::Error;

/// A LLLVAR field holds at most 999 bytes; room is left for the segment number, the total and
/// the digest the same message carries.
pub const DEFAULT_SEGMENT_BYTES: usize = 900;
/// More segments than this is not a signature (999 x 99 bytes is ~100 KB).
pub const MAX_SEGMENTS: usize = 99;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum UploadError {
    #[error("an empty image cannot be uploaded")]
    EmptyImage,
    #[error("the image needs {needed} segments of {segment} bytes; at most {max} are allowed")]
    TooLarge {
        needed: usize,
        segment: usize,
        max: usize,
    },
    #[error("segment {index} of {total} is not a valid position")]
    BadPosition { index: usize, total: usize },
    #[error("segment {index} says {total} segments, earlier ones said {expected}")]
    TotalChanged {
        index: usize,
        total: usize,
        expected: usize,
    },
    #[error("segment {index} arrived twice with different bytes")]
    Conflict { index: usize },
}

/// One upload message's share of the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// 1-based.
    pub index: usize,
    pub total: usize,
    pub bytes: Vec<u8>,
}

/// Splits `jbig` into segments of at most `segment_bytes` (at least 1).
pub fn split(jbig: &[u8], segment_bytes: usize) -> Result<Vec<Segment>, UploadError> {
    if jbig.is_empty() {
        return Err(UploadError::EmptyImage);
    }
    let segment = segment_bytes.max(1);
    let total = jbig.len().div_ceil(segment);
    if total > MAX_SEGMENTS {
        return Err(UploadError::TooLarge {
            needed: total,
            segment,
            max: MAX_SEGMENTS,
        });
    }
    Ok(jbig
        .chunks(segment)
        .enumerate()
        .map(|(i, bytes)| Segment {
            index: i + 1,
            total,
            bytes: bytes.to_vec(),
        })
        .collect())
}

/// The acquirer's side: segments in any order, a repeat (a terminal retrying after a lost
/// answer) accepted when identical.
#[derive(Debug, Clone, Default)]
pub struct Reassembly {
    total: Option<usize>,
    parts: BTreeMap<usize, Vec<u8>>,
}

impl Reassembly {
    /// Takes one segment; returns the whole image once every segment is in.
    pub fn accept(&mut self, s: &Segment) -> Result<Option<Vec<u8>>, UploadError> {
        if s.total == 0 || s.total > MAX_SEGMENTS || s.index == 0 || s.index > s.total {
            return Err(UploadError::BadPosition {
                index: s.index,
                total: s.total,
            });
        }
        match self.total {
            Some(expected) if expected != s.total => {
                return Err(UploadError::TotalChanged {
                    index: s.index,
                    total: s.total,
                    expected,
                });
            }
            _ => self.total = Some(s.total),
        }
        if let Some(previous) = self.parts.get(&s.index) {
            if previous != &s.bytes {
                return Err(UploadError::Conflict { index: s.index });
            }
        } else {
            self.parts.insert(s.index, s.bytes.clone());
        }
        if self.parts.len() == s.total {
            Ok(Some(self.parts.values().flatten().copied().collect()))
        } else {
            Ok(None)
        }
    }
}

/// Where one slip's signature upload stands in the journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadState {
    /// Journaled, not yet acknowledged; `attempts` sends so far.
    Pending { attempts: u32 },
    /// The acquirer acknowledged every segment.
    Uploaded,
}

/// What settlement may do about signature uploads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettlementGate {
    /// Nothing owed: settle.
    Ready,
    /// Uploads still have attempts left: send them first (their STANs).
    UploadFirst(Vec<u32>),
    /// Uploads that used every attempt: settle, and tell the merchant to keep these slips on
    /// paper, signed (their STANs).
    PaperCopies(Vec<u32>),
}

/// Settlement waits for uploads with attempts left; once none has, it goes ahead and names
/// the slips that need a paper copy.
pub fn settlement_gate(uploads: &[(u32, UploadState)], max_attempts: u32) -> SettlementGate {
    let owed = |pred: &dyn Fn(u32) -> bool| -> Vec<u32> {
        uploads
            .iter()
            .filter_map(|&(stan, state)| match state {
                UploadState::Pending { attempts } if pred(attempts) => Some(stan),
                _ => None,
            })
            .collect()
    };
    let retry = owed(&|a| a < max_attempts);
    if !retry.is_empty() {
        return SettlementGate::UploadFirst(retry);
    }
    let paper = owed(&|a| a >= max_attempts);
    if paper.is_empty() {
        SettlementGate::Ready
    } else {
        SettlementGate::PaperCopies(paper)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_image_splits_and_comes_back_in_any_order_with_repeats() {
        let image: Vec<u8> = (0..2000u32).map(|i| (i % 251) as u8).collect();
        let segments = split(&image, DEFAULT_SEGMENT_BYTES).expect("split");
        assert_eq!(segments.len(), 3);
        assert!(
            segments
                .iter()
                .all(|s| s.total == 3 && s.bytes.len() <= 900)
        );
        let mut r = Reassembly::default();
        assert_eq!(r.accept(&segments[2]), Ok(None));
        assert_eq!(r.accept(&segments[0]), Ok(None));
        assert_eq!(r.accept(&segments[0]), Ok(None), "an identical repeat");
        assert_eq!(r.accept(&segments[1]), Ok(Some(image)));
    }

    #[test]
    fn a_small_signature_is_one_message() {
        let segments = split(&[1; 375], DEFAULT_SEGMENT_BYTES).expect("split");
        assert_eq!(segments.len(), 1);
        assert_eq!(
            Reassembly::default().accept(&segments[0]),
            Ok(Some(vec![1; 375]))
        );
    }

    #[test]
    fn bad_images_and_bad_segments_are_refused() {
        assert_eq!(split(&[], 10), Err(UploadError::EmptyImage));
        assert!(matches!(
            split(&[0; 1000], 10),
            Err(UploadError::TooLarge { .. })
        ));
        let mut r = Reassembly::default();
        let seg = |index, total, b: u8| Segment {
            index,
            total,
            bytes: vec![b],
        };
        assert!(matches!(
            r.accept(&seg(0, 2, 1)),
            Err(UploadError::BadPosition { .. })
        ));
        assert!(matches!(
            r.accept(&seg(3, 2, 1)),
            Err(UploadError::BadPosition { .. })
        ));
        assert_eq!(r.accept(&seg(1, 2, 1)), Ok(None));
        assert!(matches!(
            r.accept(&seg(2, 3, 1)),
            Err(UploadError::TotalChanged { .. })
        ));
        assert_eq!(
            r.accept(&seg(1, 2, 9)),
            Err(UploadError::Conflict { index: 1 })
        );
    }

    #[test]
    fn settlement_waits_for_uploads_then_names_the_paper_slips() {
        let pending = |attempts| UploadState::Pending { attempts };
        assert_eq!(settlement_gate(&[], 3), SettlementGate::Ready);
        assert_eq!(
            settlement_gate(&[(1, UploadState::Uploaded)], 3),
            SettlementGate::Ready
        );
        assert_eq!(
            settlement_gate(
                &[(1, pending(3)), (2, pending(1)), (3, UploadState::Uploaded)],
                3
            ),
            SettlementGate::UploadFirst(vec![2])
        );
        assert_eq!(
            settlement_gate(&[(1, pending(3)), (4, pending(5))], 3),
            SettlementGate::PaperCopies(vec![1, 4])
        );
    }
}
