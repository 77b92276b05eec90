//! The UnionPay POS dialect as data, and its framing: 2-byte binary length, 5-byte TPDU,
//! 6-byte application header, then the message (BCD MTI, 8-byte bitmap, fields).
//!
//! Field formats: 中国银联 POS 终端消息域说明 (2002) §3, as UnionPay POS terminals use them.

use super::error::{PackError, UnpackError, UnpackErrorKind};
use super::message::Message;
use super::spec::{Dialect, FieldSpec as F, Framing, Kind::*, Length::*};
use super::view::MessageView;

pub use super::subfields::{
    Field48Totals, Field60, Field61, Field63, KeyBlock, SideTotals, SignOnKeys, SubfieldError,
};

#[rustfmt::skip]
pub static CUPS: Dialect = Dialect::new("UnionPay POS", Framing::LenTpduHeader, &[
    (2,  F::new("primary account number", N, LlVar(19)).secret()),
    (3,  F::new("processing code", N, Fixed(6))),
    (4,  F::new("amount, transaction", N, Fixed(12))),
    (11, F::new("system trace audit number", N, Fixed(6))),
    (12, F::new("time, local transaction", N, Fixed(6))),
    (13, F::new("date, local transaction", N, Fixed(4))),
    (14, F::new("date, expiration", N, Fixed(4))),
    (15, F::new("date, settlement", N, Fixed(4))),
    (22, F::new("point of service entry mode", N, Fixed(3)).left()),
    (23, F::new("card sequence number", N, Fixed(3))),
    (25, F::new("point of service condition code", N, Fixed(2))),
    (26, F::new("point of service PIN capture code", N, Fixed(2))),
    (32, F::new("acquiring institution identification code", N, LlVar(11))),
    (35, F::new("track 2 data", Z, LlVar(37)).secret()),
    (36, F::new("track 3 data", Z, LllVar(104)).secret()),
    (37, F::new("retrieval reference number", An, Fixed(12))),
    (38, F::new("authorization identification response", An, Fixed(6))),
    (39, F::new("response code", An, Fixed(2))),
    (41, F::new("card acceptor terminal identification", Ans, Fixed(8))),
    (42, F::new("card acceptor identification code", Ans, Fixed(15))),
    (44, F::new("additional response data", An, LlVar(25))),
    (48, F::new("additional data - private", N, LllVar(322))),
    (49, F::new("currency code, transaction", An, Fixed(3))),
    (52, F::new("PIN data", B, Fixed(8)).secret()),
    (53, F::new("security related control information", N, Fixed(16))),
    (54, F::new("additional amounts", An, LllVar(20))),
    (55, F::new("ICC system related data", B, LllVar(255)).secret()),
    (58, F::new("PBOC electronic data", Ans, LllVar(100))),
    (59, F::new("reserved private", Ans, LllVar(999))),
    (60, F::new("reserved private", N, LllVar(17))),
    (61, F::new("original message", N, LllVar(29))),
    (62, F::new("reserved private", B, LllVar(512))),
    (63, F::new("reserved private", Ans, LllVar(163))),
    (64, F::new("message authentication code", B, Fixed(8))),
]);

pub const TPDU_LEN: usize = 5;
pub const HEADER_LEN: usize = 6;
/// Bytes before the MTI in a frame body (after the 2-byte length).
pub const BODY_PREFIX_LEN: usize = TPDU_LEN + HEADER_LEN;

/// Transport protocol data unit: ID 0x60, destination and source addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tpdu {
    pub id: u8,
    pub destination: u16,
    pub source: u16,
}

impl Tpdu {
    pub const ID: u8 = 0x60;

    pub fn new(destination: u16, source: u16) -> Tpdu {
        Tpdu {
            id: Tpdu::ID,
            destination,
            source,
        }
    }

    /// The TPDU of the answer: destination and source exchanged.
    pub fn swapped(self) -> Tpdu {
        Tpdu {
            id: self.id,
            destination: self.source,
            source: self.destination,
        }
    }

    pub fn to_bytes(self) -> [u8; TPDU_LEN] {
        let d = self.destination.to_be_bytes();
        let s = self.source.to_be_bytes();
        [self.id, d[0], d[1], s[0], s[1]]
    }

    pub fn from_bytes(b: [u8; TPDU_LEN]) -> Tpdu {
        Tpdu {
            id: b[0],
            destination: u16::from_be_bytes([b[1], b[2]]),
            source: u16::from_be_bytes([b[3], b[4]]),
        }
    }
}

/// A whole UnionPay frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub tpdu: Tpdu,
    /// Application header: type (60), version, terminal status, processing requirement, reserved.
    pub header: [u8; HEADER_LEN],
    pub message: Message,
}

impl Frame {
    /// TPDU, header and message, without the 2-byte length (what a length-framed transport
    /// carries as its payload).
    pub fn encode_body(&self) -> Result<Vec<u8>, PackError> {
        let mut out = Vec::with_capacity(BODY_PREFIX_LEN + CUPS.packed_len(&self.message, false));
        self.write_body(&mut out)?;
        Ok(out)
    }

    fn write_body(&self, out: &mut Vec<u8>) -> Result<(), PackError> {
        out.extend_from_slice(&self.tpdu.to_bytes());
        out.extend_from_slice(&self.header);
        CUPS.pack_into(&self.message, out)
    }

    /// The complete wire frame with its 2-byte big-endian length, written in one buffer.
    pub fn encode(&self) -> Result<Vec<u8>, PackError> {
        let mut out =
            Vec::with_capacity(2 + BODY_PREFIX_LEN + CUPS.packed_len(&self.message, false));
        out.extend_from_slice(&[0, 0]);
        self.write_body(&mut out)?;
        let body = out.len() - 2;
        let len = u16::try_from(body).map_err(|_| PackError {
            field: 0,
            name: "frame",
            kind: super::error::PackErrorKind::TooLong {
                len: body,
                max: usize::from(u16::MAX),
            },
        })?;
        out[..2].copy_from_slice(&len.to_be_bytes());
        Ok(out)
    }

    /// Decodes a frame body (from the TPDU on).
    pub fn decode_body(body: &[u8]) -> Result<Frame, UnpackError> {
        Frame::decode_body_at(body, 0)
    }

    fn decode_body_at(body: &[u8], base: usize) -> Result<Frame, UnpackError> {
        if body.len() < BODY_PREFIX_LEN {
            return Err(UnpackError {
                field: None,
                name: "TPDU and header",
                offset: base,
                kind: UnpackErrorKind::Truncated {
                    needed: BODY_PREFIX_LEN,
                    available: body.len(),
                },
            });
        }
        let mut tpdu = [0u8; TPDU_LEN];
        tpdu.copy_from_slice(&body[..TPDU_LEN]);
        let mut header = [0u8; HEADER_LEN];
        header.copy_from_slice(&body[TPDU_LEN..BODY_PREFIX_LEN]);
        let message = CUPS.unpack_at(&body[BODY_PREFIX_LEN..], base + BODY_PREFIX_LEN)?;
        Ok(Frame {
            tpdu: Tpdu::from_bytes(tpdu),
            header,
            message,
        })
    }

    /// Decodes a complete wire frame; the length prefix must match the bytes exactly.
    pub fn decode(bytes: &[u8]) -> Result<Frame, UnpackError> {
        match frame_status(bytes) {
            FrameStatus::Partial(needed) => Err(UnpackError {
                field: None,
                name: "frame",
                offset: bytes.len(),
                kind: UnpackErrorKind::Truncated {
                    needed,
                    available: 0,
                },
            }),
            FrameStatus::Complete(len) if len != bytes.len() => Err(UnpackError {
                field: None,
                name: "frame",
                offset: 0,
                kind: UnpackErrorKind::FrameLength {
                    declared: len - 2,
                    actual: bytes.len() - 2,
                },
            }),
            FrameStatus::Complete(_) => Frame::decode_body_at(&bytes[2..], 2),
        }
    }
}

/// A received frame body read in place: TPDU, header, and the message as a [`MessageView`].
#[derive(Debug, Clone)]
pub struct FrameView<'a> {
    pub tpdu: Tpdu,
    pub header: [u8; HEADER_LEN],
    pub message: MessageView<'a>,
}

impl<'a> FrameView<'a> {
    /// Reads a frame body (from the TPDU on); the same checks and errors as
    /// [`Frame::decode_body`], nothing allocated.
    pub fn decode_body(body: &'a [u8]) -> Result<FrameView<'a>, UnpackError> {
        let (Some(tpdu), Some(header), Some(message)) = (
            body.get(..TPDU_LEN),
            body.get(TPDU_LEN..BODY_PREFIX_LEN),
            body.get(BODY_PREFIX_LEN..),
        ) else {
            return Err(UnpackError {
                field: None,
                name: "TPDU and header",
                offset: 0,
                kind: UnpackErrorKind::Truncated {
                    needed: BODY_PREFIX_LEN,
                    available: body.len(),
                },
            });
        };
        Ok(FrameView {
            tpdu: Tpdu::from_bytes(tpdu.try_into().unwrap_or_default()),
            header: header.try_into().unwrap_or_default(),
            message: CUPS.view_at(message, BODY_PREFIX_LEN)?,
        })
    }
}

/// How much of a length-prefixed frame a stream buffer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameStatus {
    /// A whole frame of this many bytes (prefix included) is at the front of the buffer.
    Complete(usize),
    /// This many more bytes are needed.
    Partial(usize),
}

pub fn frame_status(buf: &[u8]) -> FrameStatus {
    if buf.len() < 2 {
        return FrameStatus::Partial(2 - buf.len());
    }
    let total = 2 + usize::from(u16::from_be_bytes([buf[0], buf[1]]));
    if buf.len() >= total {
        FrameStatus::Complete(total)
    } else {
        FrameStatus::Partial(total - buf.len())
    }
}

/// The bytes the UnionPay MAC (field 64) is computed over: the packed message from the MTI up
/// to the end of field 63, with bit 64 set in the bitmap.
pub fn mac_input(msg: &Message) -> Result<Vec<u8>, PackError> {
    CUPS.pack_for_mac(msg)
}

/// Length of field 64 (b 64).
const MAC_LEN: usize = 8;
/// Length of the packed MTI (n 4, BCD) and of a primary bitmap.
const MTI_LEN: usize = 2;
const BITMAP_LEN: usize = 8;

/// The MAC scope of a frame body exactly as it was received (TPDU onward): the message bytes from
/// the MTI to the end of field 63, and the 8-byte tag of field 64 that follows them. `None` when
/// the message carries no field 64 (bit 64 clear) or has a secondary bitmap (then field 64 is
/// not the last field and the scope is not a prefix of the bytes).
///
/// Verifying over the received bytes, never a re-encoding, means a host that encodes a field
/// differently from this terminal (F-padded odd BCD, say) still verifies, and nothing the decoder
/// tolerates can slip past the MAC. Call it on a body that decoded as a [`Frame`].
pub fn received_mac_scope(body: &[u8]) -> Option<(&[u8], &[u8])> {
    let message = body.get(BODY_PREFIX_LEN..)?;
    let bitmap = message.get(MTI_LEN..MTI_LEN + BITMAP_LEN)?;
    let secondary = bitmap[0] & 0x80 != 0;
    let has_mac = bitmap[BITMAP_LEN - 1] & 0x01 != 0;
    if secondary || !has_mac || message.len() < MTI_LEN + BITMAP_LEN + MAC_LEN {
        return None;
    }
    Some(message.split_at(message.len() - MAC_LEN))
}
