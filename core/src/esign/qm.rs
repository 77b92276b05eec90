//! The QM adaptive binary arithmetic coder of ITU-T T.82 (JBIG1) clause 6.8, encoder and
//! decoder. The coder writes and reads raw bytes: PSCD byte stuffing (0xFF → 0xFF 0x00) and
//! marker handling belong to the caller (`jbig`), which sees the whole stripe.
//!
//! Registers follow T.82 (and the arithmetic coder of JPEG, T.81 Annex D): `a` is the interval
//! size with 0x10000 standing for 1.0, kept at or above 0x8000 by renormalization; the encoder's
//! `c` holds the interval's lower bound with the next output byte in bits 19..26 and a carry
//! in bit 27.

/// One row of T.82 Table 24: the LPS probability estimate Qe, the next state after an MPS
/// and after an LPS renormalization, and whether an LPS in this state swaps MPS and LPS.
#[derive(Debug, Clone, Copy)]
struct Estimate {
    qe: u32,
    next_mps: u8,
    next_lps: u8,
    switch: bool,
}

const fn e(qe: u32, next_mps: u8, next_lps: u8, switch: bool) -> Estimate {
    Estimate {
        qe,
        next_mps,
        next_lps,
        switch,
    }
}

/// ITU-T T.82 (03/93) Table 24, "Probability estimation table", states 0..=112.
const ESTIMATES: [Estimate; 113] = [
    e(0x5a1d, 1, 1, true),      // 0
    e(0x2586, 2, 14, false),    // 1
    e(0x1114, 3, 16, false),    // 2
    e(0x080b, 4, 18, false),    // 3
    e(0x03d8, 5, 20, false),    // 4
    e(0x01da, 6, 23, false),    // 5
    e(0x00e5, 7, 25, false),    // 6
    e(0x006f, 8, 28, false),    // 7
    e(0x0036, 9, 30, false),    // 8
    e(0x001a, 10, 33, false),   // 9
    e(0x000d, 11, 35, false),   // 10
    e(0x0006, 12, 9, false),    // 11
    e(0x0003, 13, 10, false),   // 12
    e(0x0001, 13, 12, false),   // 13
    e(0x5a7f, 15, 15, true),    // 14
    e(0x3f25, 16, 36, false),   // 15
    e(0x2cf2, 17, 38, false),   // 16
    e(0x207c, 18, 39, false),   // 17
    e(0x17b9, 19, 40, false),   // 18
    e(0x1182, 20, 42, false),   // 19
    e(0x0cef, 21, 43, false),   // 20
    e(0x09a1, 22, 45, false),   // 21
    e(0x072f, 23, 46, false),   // 22
    e(0x055c, 24, 48, false),   // 23
    e(0x0406, 25, 49, false),   // 24
    e(0x0303, 26, 51, false),   // 25
    e(0x0240, 27, 52, false),   // 26
    e(0x01b1, 28, 54, false),   // 27
    e(0x0144, 29, 56, false),   // 28
    e(0x00f5, 30, 57, false),   // 29
    e(0x00b7, 31, 59, false),   // 30
    e(0x008a, 32, 60, false),   // 31
    e(0x0068, 33, 62, false),   // 32
    e(0x004e, 34, 63, false),   // 33
    e(0x003b, 35, 32, false),   // 34
    e(0x002c, 9, 33, false),    // 35
    e(0x5ae1, 37, 37, true),    // 36
    e(0x484c, 38, 64, false),   // 37
    e(0x3a0d, 39, 65, false),   // 38
    e(0x2ef1, 40, 67, false),   // 39
    e(0x261f, 41, 68, false),   // 40
    e(0x1f33, 42, 69, false),   // 41
    e(0x19a8, 43, 70, false),   // 42
    e(0x1518, 44, 72, false),   // 43
    e(0x1177, 45, 73, false),   // 44
    e(0x0e74, 46, 74, false),   // 45
    e(0x0bfb, 47, 75, false),   // 46
    e(0x09f8, 48, 77, false),   // 47
    e(0x0861, 49, 78, false),   // 48
    e(0x0706, 50, 79, false),   // 49
    e(0x05cd, 51, 48, false),   // 50
    e(0x04de, 52, 50, false),   // 51
    e(0x040f, 53, 50, false),   // 52
    e(0x0363, 54, 51, false),   // 53
    e(0x02d4, 55, 52, false),   // 54
    e(0x025c, 56, 53, false),   // 55
    e(0x01f8, 57, 54, false),   // 56
    e(0x01a4, 58, 55, false),   // 57
    e(0x0160, 59, 56, false),   // 58
    e(0x0125, 60, 57, false),   // 59
    e(0x00f6, 61, 58, false),   // 60
    e(0x00cb, 62, 59, false),   // 61
    e(0x00ab, 63, 61, false),   // 62
    e(0x008f, 32, 61, false),   // 63
    e(0x5b12, 65, 65, true),    // 64
    e(0x4d04, 66, 80, false),   // 65
    e(0x412c, 67, 81, false),   // 66
    e(0x37d8, 68, 82, false),   // 67
    e(0x2fe8, 69, 83, false),   // 68
    e(0x293c, 70, 84, false),   // 69
    e(0x2379, 71, 86, false),   // 70
    e(0x1edf, 72, 87, false),   // 71
    e(0x1aa9, 73, 87, false),   // 72
    e(0x174e, 74, 72, false),   // 73
    e(0x1424, 75, 72, false),   // 74
    e(0x119c, 76, 74, false),   // 75
    e(0x0f6b, 77, 74, false),   // 76
    e(0x0d51, 78, 75, false),   // 77
    e(0x0bb6, 79, 77, false),   // 78
    e(0x0a40, 48, 77, false),   // 79
    e(0x5832, 81, 80, true),    // 80
    e(0x4d1c, 82, 88, false),   // 81
    e(0x438e, 83, 89, false),   // 82
    e(0x3bdd, 84, 90, false),   // 83
    e(0x34ee, 85, 91, false),   // 84
    e(0x2eae, 86, 92, false),   // 85
    e(0x299a, 87, 93, false),   // 86
    e(0x2516, 71, 86, false),   // 87
    e(0x5570, 89, 88, true),    // 88
    e(0x4ca9, 90, 95, false),   // 89
    e(0x44d9, 91, 96, false),   // 90
    e(0x3e22, 92, 97, false),   // 91
    e(0x3824, 93, 99, false),   // 92
    e(0x32b4, 94, 99, false),   // 93
    e(0x2e17, 86, 93, false),   // 94
    e(0x56a8, 96, 95, true),    // 95
    e(0x4f46, 97, 101, false),  // 96
    e(0x47e5, 98, 102, false),  // 97
    e(0x41cf, 99, 103, false),  // 98
    e(0x3c3d, 100, 104, false), // 99
    e(0x375e, 93, 99, false),   // 100
    e(0x5231, 102, 105, false), // 101
    e(0x4c0f, 103, 106, false), // 102
    e(0x4639, 104, 107, false), // 103
    e(0x415e, 99, 103, false),  // 104
    e(0x5627, 106, 105, true),  // 105
    e(0x50e7, 107, 108, false), // 106
    e(0x4b85, 103, 109, false), // 107
    e(0x5597, 109, 110, false), // 108
    e(0x504f, 107, 111, false), // 109
    e(0x5a10, 111, 110, true),  // 110
    e(0x5522, 109, 112, false), // 111
    e(0x59eb, 111, 112, true),  // 112
];

/// The adaptive state of one context: an index into [`ESTIMATES`] and the more probable
/// symbol. All zero at the start of an image (T.82 6.8.1: state 0, MPS 0).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ContextState {
    index: u8,
    mps: bool,
}

impl ContextState {
    fn estimate(self) -> Estimate {
        ESTIMATES
            .get(usize::from(self.index))
            .copied()
            .unwrap_or(ESTIMATES[0])
    }

    fn after_mps(&mut self, est: Estimate) {
        self.index = est.next_mps;
    }

    fn after_lps(&mut self, est: Estimate) {
        if est.switch {
            self.mps = !self.mps;
        }
        self.index = est.next_lps;
    }
}

/// Context states for every 10-bit template context plus the typical-prediction contexts
/// (T.82 uses 4096 context numbers: 10 template bits and two for differential layers).
#[derive(Debug, Clone)]
pub struct Contexts(Vec<ContextState>);

pub const CONTEXT_COUNT: usize = 4096;

impl Default for Contexts {
    fn default() -> Self {
        Contexts(vec![ContextState::default(); CONTEXT_COUNT])
    }
}

impl Contexts {
    pub fn reset(&mut self) {
        self.0.fill(ContextState::default());
    }

    fn get_mut(&mut self, cx: usize) -> &mut ContextState {
        // Callers build `cx` from at most 12 bits; the modulo keeps a slip from panicking.
        let len = self.0.len();
        &mut self.0[cx % len]
    }
}

/// T.82 6.8.2, the encoder (Figures 23 to 30): ENCODE, CODEMPS/CODELPS with conditional
/// exchange, RENORME, BYTEOUT with carry propagation through buffered 0xFF bytes, FLUSH.
#[derive(Debug)]
pub struct QmEncoder {
    c: u64,
    a: u32,
    ct: u32,
    /// The last byte produced, held back because a carry may still increment it.
    buffer: Option<u8>,
    /// 0xFF bytes produced after `buffer`, held back for the same reason (T.82 "SC").
    pending_ff: usize,
    out: Vec<u8>,
}

impl Default for QmEncoder {
    fn default() -> Self {
        QmEncoder {
            c: 0,
            a: 0x10000,
            ct: 11,
            buffer: None,
            pending_ff: 0,
            out: Vec::new(),
        }
    }
}

impl QmEncoder {
    pub fn encode(&mut self, contexts: &mut Contexts, cx: usize, pixel: bool) {
        let state = contexts.get_mut(cx);
        let est = state.estimate();
        self.a -= est.qe;
        if pixel == state.mps {
            if self.a >= 0x8000 {
                return;
            }
            // Conditional exchange: when the MPS sub-interval has become the smaller one it
            // is given the larger (upper) part instead.
            if self.a < est.qe {
                self.c += u64::from(self.a);
                self.a = est.qe;
            }
            state.after_mps(est);
        } else {
            if self.a >= est.qe {
                self.c += u64::from(self.a);
                self.a = est.qe;
            }
            state.after_lps(est);
        }
        self.renormalize();
    }

    fn renormalize(&mut self) {
        while self.a < 0x8000 {
            self.a <<= 1;
            self.c <<= 1;
            self.ct -= 1;
            if self.ct == 0 {
                self.byte_out();
                self.c &= 0x7_ffff;
                self.ct = 8;
            }
        }
    }

    fn byte_out(&mut self) {
        let t = self.c >> 19;
        if t > 0xff {
            // A carry: it increments the held byte and turns the held 0xFFs into 0x00s.
            if let Some(b) = self.buffer {
                self.out.push(b.wrapping_add(1));
            }
            self.out.extend(std::iter::repeat_n(0x00, self.pending_ff));
            self.pending_ff = 0;
            self.buffer = Some((t & 0xff) as u8);
        } else if t == 0xff {
            self.pending_ff += 1;
        } else {
            self.release_held();
            self.buffer = Some(t as u8);
        }
    }

    fn release_held(&mut self) {
        if let Some(b) = self.buffer {
            self.out.push(b);
        }
        self.out.extend(std::iter::repeat_n(0xff, self.pending_ff));
        self.pending_ff = 0;
    }

    /// T.82 FLUSH: picks the value in the final interval with the most trailing zero bits and
    /// writes out everything still held. Returns the raw (unstuffed) stripe data; trailing
    /// 0x00 bytes are still there, the caller drops them (a decoder reads zeros past the end).
    pub fn finish(mut self) -> Vec<u8> {
        let top = (u64::from(self.a) - 1 + self.c) & 0xffff_0000;
        self.c = if top < self.c { top + 0x8000 } else { top };
        self.c <<= self.ct;
        if self.c & 0xf800_0000 != 0 {
            if let Some(b) = self.buffer {
                self.out.push(b.wrapping_add(1));
            }
            self.out.extend(std::iter::repeat_n(0x00, self.pending_ff));
        } else {
            self.release_held();
        }
        self.out.push(((self.c >> 19) & 0xff) as u8);
        self.out.push(((self.c >> 11) & 0xff) as u8);
        self.out
    }
}

/// T.82 6.8.3, the decoder (Figures 31 to 36), over raw (unstuffed) stripe data. Past the end
/// of the data it reads 0x00 bytes, as T.82 requires after a marker.
#[derive(Debug)]
pub struct QmDecoder<'a> {
    data: &'a [u8],
    pos: usize,
    /// `c >> 16` is the code value's offset from the interval's lower bound, compared with `a`;
    /// bits 0..15 hold the look-ahead still to be shifted in.
    c: u64,
    a: u32,
    ct: u32,
}

impl<'a> QmDecoder<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        let mut d = QmDecoder {
            data,
            pos: 0,
            c: 0,
            a: 0x10000,
            ct: 0,
        };
        let b0 = u64::from(d.next_byte());
        let b1 = u64::from(d.next_byte());
        d.c = (b0 << 24) | (b1 << 16);
        d
    }

    fn next_byte(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    pub fn decode(&mut self, contexts: &mut Contexts, cx: usize) -> bool {
        let state = contexts.get_mut(cx);
        let est = state.estimate();
        self.a -= est.qe;
        let pixel;
        if (self.c >> 16) < u64::from(self.a) {
            if self.a >= 0x8000 {
                return state.mps;
            }
            if self.a < est.qe {
                pixel = !state.mps;
                state.after_lps(est);
            } else {
                pixel = state.mps;
                state.after_mps(est);
            }
        } else {
            self.c -= u64::from(self.a) << 16;
            if self.a < est.qe {
                pixel = state.mps;
                state.after_mps(est);
            } else {
                pixel = !state.mps;
                state.after_lps(est);
            }
            self.a = est.qe;
        }
        while self.a < 0x8000 {
            if self.ct == 0 {
                self.c |= u64::from(self.next_byte()) << 8;
                self.ct = 8;
            }
            self.a <<= 1;
            self.c <<= 1;
            self.ct -= 1;
        }
        pixel
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(bits: &[(usize, bool)]) {
        let mut cxs = Contexts::default();
        let mut enc = QmEncoder::default();
        for &(cx, b) in bits {
            enc.encode(&mut cxs, cx, b);
        }
        let data = enc.finish();
        let mut cxs = Contexts::default();
        let mut dec = QmDecoder::new(&data);
        for (i, &(cx, b)) in bits.iter().enumerate() {
            assert_eq!(dec.decode(&mut cxs, cx), b, "symbol {i}");
        }
    }

    #[test]
    fn skewed_and_random_sequences_round_trip() {
        // A simple LCG gives a reproducible mix of long MPS runs and LPS bursts.
        let mut x: u32 = 12345;
        let mut bits = Vec::new();
        for i in 0..20_000 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let cx = (x >> 20) as usize % 7;
            let skew = if i % 3000 < 1500 { 16 } else { 2 };
            bits.push((cx, (x >> 8).is_multiple_of(skew)));
        }
        round_trip(&bits);
    }

    #[test]
    fn all_zero_and_all_one_round_trip() {
        round_trip(&vec![(0, false); 5000]);
        round_trip(&vec![(3, true); 5000]);
        round_trip(&[]);
    }

    #[test]
    fn the_table_stays_inside_itself() {
        for est in ESTIMATES {
            assert!(usize::from(est.next_mps) < ESTIMATES.len());
            assert!(usize::from(est.next_lps) < ESTIMATES.len());
            assert!(est.qe > 0 && est.qe < 0x8000);
        }
    }
}
