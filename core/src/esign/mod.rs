//! 电签: electronic signatures. The cardholder's strokes from the [`SignaturePad`] port become a
//! 1-bit raster of the acquirer's size, compressed as JBIG1 (ITU-T T.82) for the e-slip upload
//! and as PNG for receipts and screens, and bound to their transaction by a digest.
//!
//! [`SignaturePad`]: crate::ports::SignaturePad

mod binding;
mod card_kind;
mod jbig;
mod jbig_decode;
mod missing;
#[cfg(feature = "slip-png")]
mod png;
mod policy;
mod qm;
mod raster;
mod render;
mod sealing;
mod slip;
mod strokes;
mod upload;
pub mod wire;

pub use binding::{BindingError, SignatureDigest, SlipFields, SlipIdentity};
pub use card_kind::{
    BinRange, BinRangeError, MAX_BIN_DIGITS, card_kind, kind_of_aid, kind_of_chip,
};
pub use jbig::{JbigOptions, encode as encode_jbig};
pub use jbig_decode::{JbigError, decode as decode_jbig};
pub use missing::MissingSignature;
#[cfg(feature = "slip-png")]
pub use png::{PngError, to_png};
pub use policy::{
    CardKind, SignatureContext, SignatureDecision, SignaturePolicy, SignatureReason, SignatureRule,
    cvm_says_signature, decide,
};
pub use raster::{Bitmap, MAX_SIDE, RasterError};
pub use render::{DEFAULT_HEIGHT, DEFAULT_PEN, DEFAULT_WIDTH, MAX_PEN, render};
pub use sealing::{open_image, open_phone, seal_image, seal_phone};
pub use slip::{ESlip, SlipSignature, is_mainland_mobile, mask_phone};
pub use strokes::{MAX_PAD_SIDE, MAX_POINTS, Point, Strokes, StrokesError};
pub use upload::{
    DEFAULT_SEGMENT_BYTES, MAX_SEGMENTS, Reassembly, Segment, SettlementGate, UploadError,
    UploadState, settlement_gate, split,
};

#[cfg(test)]
mod jbig_tests;
