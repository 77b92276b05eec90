//! ISO 8583: a table-driven engine (`spec`, `engine`), the owned message type for building
//! requests, a borrowed view for reading what was received (`view`), and the UnionPay POS
//! dialect with its framing and typed private fields (`cups`).

mod charclass;
pub mod cups;
mod engine;
mod error;
mod message;
mod pack_fast;
mod plan;
pub mod spec;
mod subfields;
mod view;

#[cfg(test)]
mod tests;

pub use cups::{CUPS, Frame, FrameStatus, FrameView, Tpdu, frame_status, mac_input};
pub use error::{PackError, PackErrorKind, UnpackError, UnpackErrorKind};
pub use message::{Message, Value, display_value, is_sensitive_field, mask_digits, response_mti};
pub use spec::{Dialect, FieldSpec, Framing, Kind, Length, Prefix};
pub use view::MessageView;
