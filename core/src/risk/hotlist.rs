//! The hot-card list: salted PAN fingerprints, kept as one sorted `Vec<u64>`.
//!
//! 8 bytes per card: 1,000,000 cards take 8 MB. Fingerprints are truncated to 64 bits, so a
//! card that is not listed matches by accident with probability n / 2^64 per check
//! (≈ 5.4 × 10⁻¹⁴ for n = 1,000,000) — and a false match only declines, never approves.
//! Lookup is a binary search: about 20 comparisons for a million entries.
//!
//! Updates arrive as signed deltas (see `envelope`):
//! `sequence u64 BE | count u32 BE | count × (op u8: 1 add, 2 remove | fingerprint u64 BE)`.
//! Sequence n+1 must follow n: an older or equal one is a replay, a later one means a delta was
//! missed and the list would be wrong.
//!
//! The terminal keeps every delta it applied, as signed, in its journal and rebuilds the list
//! from them at open ([`Replay`]), verifying each again.

use std::collections::HashSet;

use super::context::CardHash;
use super::envelope::{self, EnvelopeError, Kind};
use super::keys::TrustedKeys;

const ADD: u8 = 1;
const REMOVE: u8 = 2;
const ENTRY: usize = 9;
/// The list never grows past this (the sizing); a delta that would is rejected.
pub const MAX_ENTRIES: usize = 1_000_000;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HotList {
    sequence: u64,
    sorted: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HotListDelta {
    pub sequence: u64,
    pub add: Vec<CardHash>,
    pub remove: Vec<CardHash>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HotListError {
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    #[error("delta truncated at byte {offset}: {what}")]
    Truncated { offset: usize, what: &'static str },
    #[error("delta entry at byte {offset}: unknown operation {op}")]
    BadOperation { offset: usize, op: u8 },
    #[error("delta declares {declared} entries but carries {found}")]
    CountMismatch { declared: u32, found: usize },
    #[error("delta sequence {offered} is not newer than the active sequence {active} (replay)")]
    NotNewer { offered: u64, active: u64 },
    #[error("delta sequence {offered} skips ahead of {expected}: a delta is missing")]
    Gap { offered: u64, expected: u64 },
    #[error("hot list would hold {0} entries, above the maximum of {MAX_ENTRIES}")]
    TooLarge(usize),
}

impl HotList {
    pub fn sequence(&self) -> u64 {
        self.sequence
    }

    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }

    /// Heap bytes held by the fingerprints.
    pub fn heap_bytes(&self) -> usize {
        self.sorted.capacity() * std::mem::size_of::<u64>()
    }

    pub fn contains(&self, card: CardHash) -> bool {
        self.sorted.binary_search(&card.0).is_ok()
    }

    /// Builds a list directly (tests, benchmarks, a full snapshot already verified).
    pub fn from_hashes(sequence: u64, hashes: impl IntoIterator<Item = CardHash>) -> HotList {
        let mut sorted: Vec<u64> = hashes.into_iter().map(|h| h.0).collect();
        sorted.sort_unstable();
        sorted.dedup();
        sorted.shrink_to_fit();
        HotList { sequence, sorted }
    }

    /// Verifies and applies a signed delta; on any error the list is unchanged.
    pub fn apply_signed(
        &mut self,
        bytes: &[u8],
        trusted: &TrustedKeys,
    ) -> Result<(), HotListError> {
        let delta = HotListDelta::open(bytes, trusted)?;
        self.apply(&delta)
    }

    pub fn apply(&mut self, delta: &HotListDelta) -> Result<(), HotListError> {
        *self = self.applied(delta)?;
        Ok(())
    }

    /// The list `delta` would make of this one; this one stays as it is.
    pub fn applied(&self, delta: &HotListDelta) -> Result<HotList, HotListError> {
        check_sequence(self.sequence, delta.sequence)?;
        let mut next = self.sorted.clone();
        next.extend(delta.add.iter().map(|h| h.0));
        next.sort_unstable();
        next.dedup();
        if !delta.remove.is_empty() {
            let mut gone: Vec<u64> = delta.remove.iter().map(|h| h.0).collect();
            gone.sort_unstable();
            next.retain(|fp| gone.binary_search(fp).is_err());
        }
        if next.len() > MAX_ENTRIES {
            return Err(HotListError::TooLarge(next.len()));
        }
        next.shrink_to_fit();
        Ok(HotList {
            sequence: delta.sequence,
            sorted: next,
        })
    }
}

/// Sequence `offered` must be the one after `active`.
fn check_sequence(active: u64, offered: u64) -> Result<(), HotListError> {
    if offered <= active {
        return Err(HotListError::NotNewer { offered, active });
    }
    let expected = active + 1;
    if offered != expected {
        return Err(HotListError::Gap { offered, expected });
    }
    Ok(())
}

/// Rebuilds a list from its deltas, in order, with exactly the outcome of [`HotList::apply`] one
/// after another — but in a hash set, sorted once at the end: `apply` re-sorts the whole list for
/// each delta, and at open the terminal replays every delta it ever applied (a year of daily
/// deltas over a million cards would be hundreds of full sorts).
#[derive(Debug, Default)]
pub struct Replay {
    sequence: u64,
    set: HashSet<u64>,
}

impl Replay {
    pub fn new() -> Replay {
        Replay::default()
    }

    /// The sequence of the last delta replayed (0 before any).
    pub fn sequence(&self) -> u64 {
        self.sequence
    }

    /// Applies one delta; on any error nothing of it stays.
    pub fn apply(&mut self, delta: &HotListDelta) -> Result<(), HotListError> {
        check_sequence(self.sequence, delta.sequence)?;
        let mut added = Vec::new();
        for h in &delta.add {
            if self.set.insert(h.0) {
                added.push(h.0);
            }
        }
        let mut removed = Vec::new();
        for h in &delta.remove {
            if self.set.remove(&h.0) {
                removed.push(h.0);
            }
        }
        if self.set.len() > MAX_ENTRIES {
            let len = self.set.len();
            // Undo in reverse: what was removed comes back, then what was added goes.
            self.set.extend(removed);
            for fp in added {
                self.set.remove(&fp);
            }
            return Err(HotListError::TooLarge(len));
        }
        self.sequence = delta.sequence;
        Ok(())
    }

    pub fn finish(self) -> HotList {
        HotList::from_hashes(self.sequence, self.set.into_iter().map(CardHash))
    }
}

impl HotListDelta {
    /// Verifies a signed delta with the trusted key it names and decodes it.
    pub fn open(bytes: &[u8], trusted: &TrustedKeys) -> Result<HotListDelta, HotListError> {
        let opened = envelope::open(bytes, Kind::HotListDelta, trusted)?;
        HotListDelta::decode(opened.body)
    }

    pub fn encode(&self) -> Vec<u8> {
        let n = self.add.len() + self.remove.len();
        let mut out = Vec::with_capacity(12 + n * ENTRY);
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&(n as u32).to_be_bytes());
        for (op, list) in [(ADD, &self.add), (REMOVE, &self.remove)] {
            for h in list {
                out.push(op);
                out.extend_from_slice(&h.to_bytes());
            }
        }
        out
    }

    pub fn decode(body: &[u8]) -> Result<HotListDelta, HotListError> {
        let (seq, rest) = body
            .split_first_chunk::<8>()
            .ok_or(HotListError::Truncated {
                offset: body.len(),
                what: "sequence (8 bytes)",
            })?;
        let (count, mut rest) = rest
            .split_first_chunk::<4>()
            .ok_or(HotListError::Truncated {
                offset: body.len(),
                what: "entry count (4 bytes)",
            })?;
        let declared = u32::from_be_bytes(*count);
        if rest.len() % ENTRY != 0 {
            return Err(HotListError::Truncated {
                offset: body.len(),
                what: "entry (9 bytes)",
            });
        }
        let found = rest.len() / ENTRY;
        if found != declared as usize {
            return Err(HotListError::CountMismatch { declared, found });
        }
        let mut delta = HotListDelta {
            sequence: u64::from_be_bytes(*seq),
            add: Vec::new(),
            remove: Vec::new(),
        };
        let mut offset = 12;
        while let Some((entry, tail)) = rest.split_first_chunk::<ENTRY>() {
            let mut fp = [0u8; 8];
            fp.copy_from_slice(&entry[1..]);
            let hash = CardHash(u64::from_be_bytes(fp));
            match entry[0] {
                ADD => delta.add.push(hash),
                REMOVE => delta.remove.push(hash),
                op => return Err(HotListError::BadOperation { offset, op }),
            }
            rest = tail;
            offset += ENTRY;
        }
        Ok(delta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::risk::envelope::tests::{id, other_key, test_key, trust};

    fn delta(seq: u64, add: &[u64], remove: &[u64]) -> HotListDelta {
        HotListDelta {
            sequence: seq,
            add: add.iter().copied().map(CardHash).collect(),
            remove: remove.iter().copied().map(CardHash).collect(),
        }
    }

    #[test]
    fn deltas_add_remove_and_keep_order() {
        let mut list = HotList::default();
        list.apply(&delta(1, &[30, 10, 20, 10], &[])).unwrap();
        assert_eq!(list.len(), 3);
        assert!(list.contains(CardHash(20)) && !list.contains(CardHash(25)));
        list.apply(&delta(2, &[25], &[10, 99])).unwrap();
        assert!(list.contains(CardHash(25)) && !list.contains(CardHash(10)));
        assert_eq!(list.sequence(), 2);
    }

    #[test]
    fn replays_gaps_and_bad_signatures_leave_the_list_alone() {
        let key = test_key();
        let pk = trust("fleet-1", &key);
        let seal = |d: &HotListDelta, k| {
            envelope::seal(Kind::HotListDelta, &id("fleet-1"), &d.encode(), k)
        };
        let mut list = HotList::default();
        let d1 = seal(&delta(1, &[7], &[]), &key);
        list.apply_signed(&d1, &pk).unwrap();
        let before = list.clone();
        assert_eq!(
            list.apply_signed(&d1, &pk),
            Err(HotListError::NotNewer {
                offered: 1,
                active: 1
            })
        );
        let d3 = seal(&delta(3, &[8], &[]), &key);
        assert_eq!(
            list.apply_signed(&d3, &pk),
            Err(HotListError::Gap {
                offered: 3,
                expected: 2
            })
        );
        let forged = seal(&delta(2, &[], &[7]), &other_key());
        assert_eq!(
            list.apply_signed(&forged, &pk),
            Err(HotListError::Envelope(EnvelopeError::BadSignature {
                key_id: "fleet-1".into()
            }))
        );
        assert_eq!(list, before);
    }

    #[test]
    fn malformed_bodies_name_the_offset() {
        let mut body = delta(1, &[1, 2], &[]).encode();
        assert!(matches!(
            HotListDelta::decode(&body[..5]),
            Err(HotListError::Truncated { .. })
        ));
        assert!(matches!(
            HotListDelta::decode(&body[..body.len() - 1]),
            Err(HotListError::Truncated { .. })
        ));
        body[12 + 9] = 7;
        assert_eq!(
            HotListDelta::decode(&body),
            Err(HotListError::BadOperation { offset: 21, op: 7 })
        );
        let mut wrong_count = delta(1, &[1], &[]).encode();
        wrong_count[11] = 2;
        assert_eq!(
            HotListDelta::decode(&wrong_count),
            Err(HotListError::CountMismatch {
                declared: 2,
                found: 1
            })
        );
    }

    #[test]
    fn a_replay_that_would_pass_the_maximum_leaves_nothing_behind() {
        let mut replay = Replay::new();
        let full: Vec<u64> = (0..MAX_ENTRIES as u64).collect();
        replay.apply(&delta(1, &full, &[])).unwrap();
        // Three new, one already listed, one removed: one past the maximum after the delta.
        let add = [u64::MAX, u64::MAX - 1, u64::MAX - 2, 5];
        let err = replay.apply(&delta(2, &add, &[3])).unwrap_err();
        assert_eq!(err, HotListError::TooLarge(MAX_ENTRIES + 2));
        let list = replay.finish();
        assert_eq!((list.sequence(), list.len()), (1, MAX_ENTRIES));
        assert!(list.contains(CardHash(3)) && !list.contains(CardHash(u64::MAX)));
    }

    proptest::proptest! {
        /// Replay and `apply` one by one agree on every sequence of small deltas (small
        /// fingerprints, so adds and removes collide often).
        #[test]
        fn replay_matches_applying_one_by_one(
            ops in proptest::collection::vec(
                (proptest::collection::vec(0u64..16, 0..6), proptest::collection::vec(0u64..16, 0..6)),
                0..12,
            )
        ) {
            let mut list = HotList::default();
            let mut replay = Replay::new();
            for (i, (add, remove)) in ops.iter().enumerate() {
                let d = delta(i as u64 + 1, add, remove);
                list.apply(&d).unwrap();
                replay.apply(&d).unwrap();
            }
            proptest::prop_assert_eq!(replay.finish(), list);
        }

        #[test]
        fn encode_decode_round_trip(seq in 0u64.., add in proptest::collection::vec(0u64.., 0..20),
                                    remove in proptest::collection::vec(0u64.., 0..20)) {
            let d = delta(seq, &add, &remove);
            proptest::prop_assert_eq!(HotListDelta::decode(&d.encode()).unwrap(), d);
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..100)) {
            let _ = HotListDelta::decode(&bytes);
        }
    }
}
