//! A dialect's field specs as the straight packer branches on them: one entry per possible field
//! number (any `u8` indexes the table, so no bounds check), undefined fields included, with the
//! kind and the length form folded into one operation. Built with the dialect, at compile time
//! for `CUPS`: the packer makes one table load and one jump per field.

use super::spec::{FieldSpec, Kind, Length, Prefix};
use crate::bcd::Align;

/// What the packer does with a field's value, and whether a length prefix comes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    Undefined,
    /// n: digits, packed BCD.
    Digits,
    VarDigits,
    /// z: track characters, packed BCD.
    Track,
    VarTrack,
    /// an: text of letters, digits and space.
    An,
    VarAn,
    /// ans: printable text, or bytes (UnionPay carries GBK text there).
    Ans,
    VarAns,
    /// b: bytes as given.
    Bytes,
    VarBytes,
}

/// One field's plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FieldPlan {
    pub op: Op,
    /// The fixed length, or the maximum of a variable one, in the units the prefix counts. (Four
    /// bytes keep the table at 3 KB in the library; no field is 4 GB long.)
    pub units: u32,
    /// How a variable length is written, and in how many digits (2 or 3).
    pub prefix: Prefix,
    pub prefix_digits: u8,
    /// Odd digit counts: where the pad nibble goes, and its value.
    pub align: Align,
    pub pad: u8,
}

// A dialect carries 256 of them in the library.
const _: () = assert!(std::mem::size_of::<FieldPlan>() <= 12);

impl FieldPlan {
    pub(super) const UNDEFINED: FieldPlan = FieldPlan {
        op: Op::Undefined,
        units: 0,
        prefix: Prefix::Bcd,
        prefix_digits: 0,
        align: Align::Left,
        pad: 0,
    };

    pub(super) const fn of(spec: &FieldSpec) -> FieldPlan {
        let (var, units, prefix_digits) = match spec.length {
            Length::Fixed(n) => (false, n, 0),
            Length::LlVar(max) => (true, max, 2),
            Length::LllVar(max) => (true, max, 3),
        };
        let op = match (spec.kind, var) {
            (Kind::N, false) => Op::Digits,
            (Kind::N, true) => Op::VarDigits,
            (Kind::Z, false) => Op::Track,
            (Kind::Z, true) => Op::VarTrack,
            (Kind::An, false) => Op::An,
            (Kind::An, true) => Op::VarAn,
            (Kind::Ans, false) => Op::Ans,
            (Kind::Ans, true) => Op::VarAns,
            (Kind::B, false) => Op::Bytes,
            (Kind::B, true) => Op::VarBytes,
        };
        FieldPlan {
            op,
            units: if units > u32::MAX as usize {
                u32::MAX
            } else {
                units as u32
            },
            prefix: spec.prefix,
            prefix_digits,
            align: spec.align,
            pad: spec.pad,
        }
    }
}

/// The plans of the fields a dialect defines, `UNDEFINED` elsewhere.
pub(super) const fn table(fields: &[Option<FieldSpec>; 129]) -> [FieldPlan; 256] {
    let mut plans = [FieldPlan::UNDEFINED; 256];
    let mut n = 0;
    while n < fields.len() {
        if let Some(spec) = &fields[n] {
            plans[n] = FieldPlan::of(spec);
        }
        n += 1;
    }
    plans
}
