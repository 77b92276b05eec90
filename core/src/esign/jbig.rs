//! JBIG1 (ITU-T T.82 | ISO/IEC 11544) bi-level image entities (BIE), the format UnionPay
//! e-slip uploads carry the signature in. No maintained Rust crate exists (crates.io has no
//! `jbig`, `jbig1` or `jbigkit` crate), so this is written from the standard.
//!
//! What the encoder writes, and why:
//! - one resolution layer, sequential (DL = D = 0, one plane): a terminal has no use for
//!   progressive display, and resolution reduction would only add bytes;
//! - the three-line template (LRLTWO off) with the adaptive-template pixel left in its
//!   default place (MX = 0): AT moves pay off on halftones, not on pen strokes, and a fixed
//!   template makes the output a pure function of the raster;
//! - typical prediction on (TPBON): a signature is mostly blank lines, each coded in one
//!   decision;
//! - 128 lines per stripe (L0), the bound of T.82 Annex A and of the T.85 profile, so a
//!   signature raster is one or two stripes (every stripe costs a marker and a flush);
//! - order byte 3 (ILEAVE | SMID), jbigkit's default; meaningless with one layer and plane.
//!
//! These are jbigkit 2.1's `pbmtojbg -q -p 8 -m 0 -s 128`, and the tests hold the encoder to
//! that tool byte for byte. The decoder ([`decode`]) also reads what jbigkit writes by default
//! (AT moves, the two-line template, SDRST, comments, NEWLEN), one layer and one plane only.

use super::qm::{Contexts, QmEncoder};
use super::raster::Bitmap;

pub(crate) const MARKER_ESC: u8 = 0xff;
pub(crate) const MARKER_STUFF: u8 = 0x00;
pub(crate) const MARKER_SDNORM: u8 = 0x02;

/// Option bits of the BIH (T.82 6.2.3).
pub(crate) const LRLTWO: u8 = 0x40;
pub(crate) const VLENGTH: u8 = 0x20;
pub(crate) const TPBON: u8 = 0x08;
pub(crate) const DPON: u8 = 0x04;
pub(crate) const DPPRIV: u8 = 0x02;
pub(crate) const DPLAST: u8 = 0x01;

/// T.82 order byte: ILEAVE | SMID.
const ORDER: u8 = 0x03;

/// Context numbers of the typical-prediction pseudo pixel (T.82 6.5.2, Figure 14 and 15):
/// the template contexts of a pixel whose neighbourhood never occurs in a real image.
pub(crate) const TPB_CX_THREE_LINE: usize = 0x0e5;
pub(crate) const TPB_CX_TWO_LINE: usize = 0x195;

pub const BIH_LEN: usize = 20;

/// Encoder choices (see the module docs for the defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JbigOptions {
    /// L0: lines per stripe.
    pub stripe_lines: u32,
    /// TPBON: typical prediction.
    pub typical_prediction: bool,
    /// LRLTWO: the two-line template instead of the three-line one.
    pub two_line_template: bool,
}

impl Default for JbigOptions {
    fn default() -> Self {
        JbigOptions {
            stripe_lines: 128,
            typical_prediction: true,
            two_line_template: false,
        }
    }
}

impl JbigOptions {
    fn options_byte(&self) -> u8 {
        let mut o = 0;
        if self.typical_prediction {
            o |= TPBON;
        }
        if self.two_line_template {
            o |= LRLTWO;
        }
        o
    }
}

/// Where the template looks: rows above `floor` read as white (the first stripe, or a stripe
/// after SDRST), and `at_x` is the adaptive pixel's column offset (0: default place).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Template {
    pub two_line: bool,
    pub at_x: u8,
    pub floor: i64,
}

impl Template {
    /// The 10-bit context of pixel (`x`, `y`), bit for bit as T.82 Figures 8 and 9 number
    /// the template pixels (three-line: rows y-2, y-1, y; two-line: rows y-1, y).
    #[cfg(test)]
    pub(crate) fn context(&self, img: &Bitmap, x: i64, y: i64) -> usize {
        let px = |dx: i64, dy: i64| -> usize {
            let row = y - dy;
            usize::from(row >= self.floor && img.get(x + dx, row))
        };
        let at = if self.at_x == 0 {
            px(2, 1)
        } else {
            px(-i64::from(self.at_x), 0)
        };
        if self.two_line {
            px(-3, 1) << 9
                | px(-2, 1) << 8
                | px(-1, 1) << 7
                | px(0, 1) << 6
                | px(1, 1) << 5
                | at << 4
                | px(-4, 0) << 3
                | px(-3, 0) << 2
                | px(-2, 0) << 1
                | px(-1, 0)
        } else {
            px(-1, 2) << 9
                | px(0, 2) << 8
                | px(1, 2) << 7
                | px(-2, 1) << 6
                | px(-1, 1) << 5
                | px(0, 1) << 4
                | px(1, 1) << 3
                | at << 2
                | px(-2, 0) << 1
                | px(-1, 0)
        }
    }

    pub(crate) fn tp_context(&self) -> usize {
        if self.two_line {
            TPB_CX_TWO_LINE
        } else {
            TPB_CX_THREE_LINE
        }
    }
}

/// Pixel `x` of a packed row; past the width (or the row) is white.
fn bit(row: &[u8], x: usize, width: usize) -> usize {
    if x >= width {
        return 0;
    }
    row.get(x / 8)
        .map_or(0, |b| usize::from(b >> (7 - x % 8) & 1))
}

/// The template contexts of one row, coded left to right: windows over the rows above and the
/// pixels already coded slide one pixel per step, so a context costs a few shifts instead of
/// ten lookups. [`Template::context`] is the definition it is tested against.
pub(crate) struct RowCursor {
    up2: Vec<u8>,
    up1: Vec<u8>,
    current: Vec<u8>,
    width: usize,
    two_line: bool,
    at_x: usize,
    /// Row y-2, pixels x-1, x, x+1 (least significant last).
    w2: usize,
    /// Row y-1, pixels up to x+2.
    w1: usize,
    /// Row y, pixels up to x-1.
    w0: usize,
}

impl RowCursor {
    pub(crate) fn new(img: &Bitmap, y: usize, template: &Template) -> RowCursor {
        let floor = template.floor.max(0) as usize;
        let above = |dy: usize| {
            if y >= floor + dy {
                img.row(y - dy).to_vec()
            } else {
                vec![0; img.stride()]
            }
        };
        let (up2, up1) = (above(2), above(1));
        let width = img.width() as usize;
        let w2 = bit(&up2, 0, width) << 1 | bit(&up2, 1, width);
        let w1 = bit(&up1, 0, width) << 2 | bit(&up1, 1, width) << 1 | bit(&up1, 2, width);
        RowCursor {
            up2,
            up1,
            current: vec![0; img.stride()],
            width,
            two_line: template.two_line,
            at_x: usize::from(template.at_x),
            w2,
            w1,
            w0: 0,
        }
    }

    pub(crate) fn context(&self, x: usize) -> usize {
        let (cx, at_bit) = if self.two_line {
            ((self.w1 & 0x3f) << 4 | (self.w0 & 0xf), 4)
        } else {
            (
                (self.w2 & 0x7) << 7 | (self.w1 & 0x1f) << 2 | (self.w0 & 0x3),
                2,
            )
        };
        if self.at_x == 0 {
            return cx;
        }
        let at = if x >= self.at_x {
            bit(&self.current, x - self.at_x, self.width)
        } else {
            0
        };
        (cx & !(1 << at_bit)) | at << at_bit
    }

    pub(crate) fn advance(&mut self, x: usize, pixel: bool) {
        if pixel && let Some(b) = self.current.get_mut(x / 8) {
            *b |= 0x80 >> (x % 8);
        }
        self.w0 = (self.w0 << 1 | usize::from(pixel)) & 0xff;
        self.w1 = (self.w1 << 1 | bit(&self.up1, x + 3, self.width)) & 0xff;
        self.w2 = (self.w2 << 1 | bit(&self.up2, x + 2, self.width)) & 0xff;
    }

    /// The row as coded.
    pub(crate) fn row(&self) -> &[u8] {
        &self.current
    }
}

/// Whether row `y` repeats the row above it (the row above the first is white): the line is
/// "typical" in T.82's sense and costs one decision.
pub(crate) fn repeats_row_above(img: &Bitmap, y: usize, floor: usize) -> bool {
    let row = img.row(y);
    if y == 0 || y <= floor {
        row.iter().all(|&b| b == 0)
    } else {
        row == img.row(y - 1)
    }
}

/// Encodes `img` as a BIE with the given options.
pub fn encode(img: &Bitmap, options: &JbigOptions) -> Vec<u8> {
    let l0 = options.stripe_lines.max(1);
    let mut out = Vec::with_capacity(BIH_LEN + img.as_bytes().len() / 8);
    out.extend_from_slice(&[0, 0, 1, 0]);
    out.extend_from_slice(&img.width().to_be_bytes());
    out.extend_from_slice(&img.height().to_be_bytes());
    out.extend_from_slice(&l0.to_be_bytes());
    out.extend_from_slice(&[0, 0, ORDER, options.options_byte()]);

    let template = Template {
        two_line: options.two_line_template,
        at_x: 0,
        floor: 0,
    };
    let height = img.height() as usize;
    let width = i64::from(img.width());
    let mut contexts = Contexts::default();
    let mut previous_typical = false;
    let mut top = 0usize;
    while top < height {
        let bottom = height.min(top + l0 as usize);
        let mut coder = QmEncoder::default();
        for y in top..bottom {
            if options.typical_prediction {
                let typical = repeats_row_above(img, y, 0);
                coder.encode(
                    &mut contexts,
                    template.tp_context(),
                    typical == previous_typical,
                );
                previous_typical = typical;
                if typical {
                    continue;
                }
            }
            let mut cursor = RowCursor::new(img, y, &template);
            for x in 0..width {
                let pixel = img.get(x, y as i64);
                coder.encode(&mut contexts, cursor.context(x as usize), pixel);
                cursor.advance(x as usize, pixel);
            }
        }
        let mut pscd = coder.finish();
        // Trailing zeros are implied: a decoder reads 0x00 after the data (T.82 6.8.2.8).
        while pscd.last() == Some(&0) {
            pscd.pop();
        }
        for b in pscd {
            out.push(b);
            if b == MARKER_ESC {
                out.push(MARKER_STUFF);
            }
        }
        out.extend_from_slice(&[MARKER_ESC, MARKER_SDNORM]);
        top = bottom;
    }
    out
}
