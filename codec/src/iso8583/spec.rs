//! How a dialect describes its fields: one `FieldSpec` per field number, all data.

use super::plan::{self, FieldPlan};
use crate::bcd::Align;

/// ISO 8583 data element types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Numeric, packed BCD.
    N,
    /// Track data, packed BCD with separator D.
    Z,
    /// Binary.
    B,
    /// Alphanumeric (ASCII letters and digits, space).
    An,
    /// Alphanumeric and special (printable ASCII); UnionPay also carries GBK text here.
    Ans,
}

/// How a length prefix is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Prefix {
    /// Right-aligned BCD: LL in 1 byte, LLL in 2 bytes (UnionPay).
    Bcd,
    /// ASCII digits: LL in 2 bytes, LLL in 3.
    Ascii,
    /// Big-endian binary: LL in 1 byte, LLL in 2.
    Binary,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Length {
    Fixed(usize),
    /// Up to 99 units, two-digit length prefix.
    LlVar(usize),
    /// Up to 999 units, three-digit length prefix.
    LllVar(usize),
}

impl Length {
    pub fn max(self) -> usize {
        match self {
            Length::Fixed(n) | Length::LlVar(n) | Length::LllVar(n) => n,
        }
    }
}

/// One field of a dialect. Encoding, prefix and padding are independent so a dialect can mix
/// them as its specification says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    pub name: &'static str,
    pub kind: Kind,
    /// In digits for n/z, bytes for b, characters for an/ans.
    pub length: Length,
    pub prefix: Prefix,
    /// Alignment of odd-length BCD values.
    pub align: Align,
    /// Pad nibble for odd-length BCD values.
    pub pad: u8,
    /// Card data: masked or redacted in every Debug, log and dump.
    pub sensitive: bool,
}

impl FieldSpec {
    pub const fn new(name: &'static str, kind: Kind, length: Length) -> FieldSpec {
        FieldSpec {
            name,
            kind,
            length,
            prefix: Prefix::Bcd,
            // Fixed numerics are right-aligned unless the dialect says otherwise; variable ones
            // left-aligned (the length prefix says where the digits end).
            align: match length {
                Length::Fixed(_) => Align::Right,
                _ => Align::Left,
            },
            pad: 0,
            sensitive: false,
        }
    }

    pub const fn left(mut self) -> FieldSpec {
        self.align = Align::Left;
        self
    }

    pub const fn secret(mut self) -> FieldSpec {
        self.sensitive = true;
        self
    }

    pub const fn prefix(mut self, prefix: Prefix) -> FieldSpec {
        self.prefix = prefix;
        self
    }
}

/// How frames of a dialect are wrapped around the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// 2-byte binary length, 5-byte TPDU, 6-byte application header (UnionPay POS).
    LenTpduHeader,
}

/// A dialect: its name, framing and a table of fields 2..=128 (index = field number).
pub struct Dialect {
    pub name: &'static str,
    pub framing: Framing,
    pub fields: [Option<FieldSpec>; 129],
    /// The same specs as the straight packer reads them (`plan`).
    pub(super) plans: [FieldPlan; 256],
}

/// The specs, not their derived plans.
impl std::fmt::Debug for Dialect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dialect")
            .field("name", &self.name)
            .field("framing", &self.framing)
            .field("fields", &self.fields)
            .finish_non_exhaustive()
    }
}

impl Dialect {
    /// Builds the 129-slot table from `(number, spec)` rows at compile time.
    pub const fn new(name: &'static str, framing: Framing, rows: &[(usize, FieldSpec)]) -> Dialect {
        let mut fields = [None; 129];
        let mut i = 0;
        while i < rows.len() {
            fields[rows[i].0] = Some(rows[i].1);
            i += 1;
        }
        Dialect {
            name,
            framing,
            fields,
            plans: plan::table(&fields),
        }
    }

    pub fn field(&self, n: usize) -> Option<&FieldSpec> {
        self.fields.get(n).and_then(Option::as_ref)
    }

    /// The field's name for error messages, "undefined" when the dialect has none.
    pub fn name_of(&self, n: usize) -> &'static str {
        self.field(n).map_or("undefined", |f| f.name)
    }
}
