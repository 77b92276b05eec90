//! Codec errors. Every one names the field (number and name) and, when decoding, the byte offset
//! in the buffer that was handed in.

use thiserror::Error;

/// Why packing failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PackErrorKind {
    #[error("MTI {0:?} is not 4 digits")]
    BadMti(String),
    #[error("the dialect does not define this field")]
    Undefined,
    #[error("value of {len} units is longer than the maximum {max}")]
    TooLong { len: usize, max: usize },
    #[error("value of {len} units, the field is fixed at {expected}")]
    WrongLength { len: usize, expected: usize },
    #[error("character {found:?} at position {index} is not allowed")]
    BadCharacter { index: usize, found: char },
    #[error("a text field was given binary bytes or the reverse")]
    WrongValueType,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("field {field} ({name}): {kind}")]
pub struct PackError {
    pub field: u8,
    pub name: &'static str,
    pub kind: PackErrorKind,
}

/// Why unpacking failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum UnpackErrorKind {
    #[error("need {needed} more bytes, {available} remain")]
    Truncated { needed: usize, available: usize },
    #[error("MTI is not BCD")]
    BadMti,
    #[error("length prefix is not a valid number")]
    BadLengthPrefix,
    #[error("declared length {len} exceeds the field maximum {max}")]
    LengthOverMax { len: usize, max: usize },
    #[error("nibble {nibble:#x} is not a BCD digit")]
    BadNibble { nibble: u8 },
    #[error("bytes are not valid text for this field")]
    BadText,
    #[error("the bitmap names a field the dialect does not define")]
    UndefinedField,
    #[error("{count} bytes follow the last field")]
    TrailingBytes { count: usize },
    #[error("frame length prefix says {declared} bytes, {actual} follow")]
    FrameLength { declared: usize, actual: usize },
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{}at byte {offset}: {kind}", field_label(*.field, .name))]
pub struct UnpackError {
    /// `None` for the frame, MTI and bitmap.
    pub field: Option<u8>,
    pub name: &'static str,
    pub offset: usize,
    pub kind: UnpackErrorKind,
}

fn field_label(field: Option<u8>, name: &str) -> String {
    match field {
        Some(n) => format!("field {n} ({name}) "),
        None => format!("{name} "),
    }
}
