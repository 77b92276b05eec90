//! Reading a JBIG1 BIE back into a raster: the round trip of our own encoder, and files other
//! encoders (jbigkit's `pbmtojbg` with its defaults) write. One layer, one plane.

use thiserror::Error;

use super::jbig::{
    BIH_LEN, DPLAST, DPON, DPPRIV, LRLTWO, MARKER_ESC, MARKER_SDNORM, MARKER_STUFF, RowCursor,
    TPBON, Template, VLENGTH,
};
use super::qm::{Contexts, QmDecoder};
use super::raster::{Bitmap, MAX_SIDE, RasterError};

const MARKER_SDRST: u8 = 0x03;
const MARKER_ABORT: u8 = 0x04;
const MARKER_NEWLEN: u8 = 0x05;
const MARKER_ATMOVE: u8 = 0x06;
const MARKER_COMMENT: u8 = 0x07;

/// T.82 allows at most four AT moves per stripe.
const MAX_AT_MOVES: usize = 4;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum JbigError {
    #[error("JBIG data ends early: {what}")]
    Truncated { what: &'static str },
    #[error("JBIG header: {reason}")]
    BadHeader { reason: String },
    #[error("JBIG feature not supported here: {what}")]
    Unsupported { what: String },
    #[error("JBIG marker 0xFF 0x{marker:02X} where it may not be")]
    UnexpectedMarker { marker: u8 },
    #[error("JBIG adaptive template move: {reason}")]
    BadAtMove { reason: String },
    #[error("the JBIG image was aborted by its encoder (ABORT marker)")]
    Aborted,
    #[error(transparent)]
    Raster(#[from] RasterError),
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&[u8], JbigError> {
        let s = self
            .data
            .get(self.pos..self.pos + n)
            .ok_or(JbigError::Truncated { what })?;
        self.pos += n;
        Ok(s)
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, JbigError> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// The marker at the cursor, if the next byte is ESC followed by a marker code.
    fn peek_marker(&self) -> Option<u8> {
        match self.data.get(self.pos..self.pos + 2) {
            Some(&[MARKER_ESC, code]) if code != MARKER_STUFF => Some(code),
            _ => None,
        }
    }

    /// Protected stripe coded data up to the next marker, unstuffed; the cursor is left on the
    /// marker.
    fn pscd(&mut self) -> Result<Vec<u8>, JbigError> {
        let mut raw = Vec::new();
        loop {
            match self.data.get(self.pos) {
                None => {
                    return Err(JbigError::Truncated {
                        what: "stripe data",
                    });
                }
                Some(&MARKER_ESC) => match self.data.get(self.pos + 1) {
                    None => {
                        return Err(JbigError::Truncated {
                            what: "stripe data",
                        });
                    }
                    Some(&MARKER_STUFF) => {
                        raw.push(MARKER_ESC);
                        self.pos += 2;
                    }
                    Some(_) => return Ok(raw),
                },
                Some(&b) => {
                    raw.push(b);
                    self.pos += 1;
                }
            }
        }
    }
}

struct Header {
    width: u32,
    height: u32,
    stripe_lines: u32,
    max_at_x: u8,
    options: u8,
}

fn header(r: &mut Reader<'_>) -> Result<Header, JbigError> {
    let bad = |reason: &str| JbigError::BadHeader {
        reason: reason.to_owned(),
    };
    let bih = r.take(4, "header")?;
    let (dl, d, planes, fill) = (bih[0], bih[1], bih[2], bih[3]);
    if fill != 0 {
        return Err(bad("the fill byte is not 0"));
    }
    if dl != 0 || d != 0 {
        return Err(JbigError::Unsupported {
            what: format!("resolution layers {dl}..{d} (only one layer)"),
        });
    }
    if planes != 1 {
        return Err(JbigError::Unsupported {
            what: format!("{planes} bit planes (only one)"),
        });
    }
    let width = r.u32("header")?;
    let height = r.u32("header")?;
    let stripe_lines = r.u32("header")?;
    let rest = r.take(4, "header")?;
    let (max_at_x, max_at_y, _order, options) = (rest[0], rest[1], rest[2], rest[3]);
    if stripe_lines == 0 {
        return Err(bad("L0 (lines per stripe) is 0"));
    }
    if max_at_y != 0 {
        return Err(bad("MY is not 0"));
    }
    if options & 0x80 != 0 {
        return Err(bad("the reserved option bit is set"));
    }
    if options & (DPON | DPPRIV | DPLAST) == DPON | DPPRIV {
        // A private deterministic-prediction table follows the header; it only matters for
        // differential layers, which we refused above.
        r.take(1728, "private deterministic-prediction table")?;
    }
    let height_max = if options & VLENGTH != 0 {
        height.min(MAX_SIDE)
    } else {
        height
    };
    if !(1..=MAX_SIDE).contains(&width) || !(1..=MAX_SIDE).contains(&height_max) {
        return Err(RasterError::BadSize {
            width,
            height,
            max: MAX_SIDE,
        }
        .into());
    }
    Ok(Header {
        width,
        height: height_max,
        stripe_lines,
        max_at_x,
        options,
    })
}

/// Decodes a BIE into its raster.
pub fn decode(bie: &[u8]) -> Result<Bitmap, JbigError> {
    let mut r = Reader { data: bie, pos: 0 };
    if bie.len() < BIH_LEN {
        return Err(JbigError::Truncated { what: "header" });
    }
    let h = header(&mut r)?;
    let mut img = Bitmap::new(h.width, h.height)?;
    let mut height = h.height as usize;
    let two_line = h.options & LRLTWO != 0;
    let min_at = if two_line { 5 } else { 3 };
    let mut contexts = Contexts::default();
    let mut at_x = 0u8;
    let mut previous_typical = false;
    let mut reset = true;
    let mut top = 0usize;
    while top < height {
        let mut at_moves: Vec<(u32, u8)> = Vec::new();
        // Floating marker segments before the stripe.
        while let Some(code) = r.peek_marker() {
            if matches!(code, MARKER_SDNORM | MARKER_SDRST) {
                // A stripe whose coded data was all implied zeros.
                break;
            }
            r.pos += 2;
            match code {
                MARKER_ATMOVE => {
                    let line = r.u32("ATMOVE")?;
                    let tx = r.take(2, "ATMOVE")?;
                    let (tx, ty) = (tx[0], tx[1]);
                    if ty != 0 || tx > h.max_at_x || (tx != 0 && tx < min_at) {
                        return Err(JbigError::BadAtMove {
                            reason: format!("offset ({tx}, {ty}) with MX {}", h.max_at_x),
                        });
                    }
                    if at_moves.len() == MAX_AT_MOVES {
                        return Err(JbigError::BadAtMove {
                            reason: "more than four in one stripe".to_owned(),
                        });
                    }
                    at_moves.push((line, tx));
                }
                MARKER_COMMENT => {
                    let len = r.u32("comment")? as usize;
                    r.take(len, "comment")?;
                }
                MARKER_NEWLEN => {
                    let new = r.u32("NEWLEN")? as usize;
                    if new == 0 || new > height {
                        return Err(JbigError::BadHeader {
                            reason: format!("NEWLEN {new} is not below the height {height}"),
                        });
                    }
                    height = new;
                }
                MARKER_ABORT => return Err(JbigError::Aborted),
                other => return Err(JbigError::UnexpectedMarker { marker: other }),
            }
        }
        if top >= height {
            break;
        }
        if reset {
            contexts.reset();
            previous_typical = false;
            at_x = 0;
        }
        let data = r.pscd()?;
        let mut coder = QmDecoder::new(&data);
        let floor = if reset { top } else { 0 };
        let bottom = height.min(top + h.stripe_lines as usize);
        for y in top..bottom {
            if let Some(&(_, tx)) = at_moves.iter().find(|(line, _)| *line as usize == y - top) {
                at_x = tx;
            }
            let template = Template {
                two_line,
                at_x,
                floor: floor as i64,
            };
            if h.options & TPBON != 0 {
                let same = coder.decode(&mut contexts, template.tp_context());
                let typical = same == previous_typical;
                previous_typical = typical;
                if typical {
                    if y > floor {
                        let above = img.row(y - 1).to_vec();
                        copy_row(img.row_mut(y), &above);
                    }
                    continue;
                }
            }
            let mut cursor = RowCursor::new(&img, y, &template);
            for x in 0..h.width as usize {
                let pixel = coder.decode(&mut contexts, cursor.context(x));
                cursor.advance(x, pixel);
            }
            copy_row(img.row_mut(y), cursor.row());
        }
        match r.peek_marker() {
            Some(MARKER_SDNORM) => reset = false,
            Some(MARKER_SDRST) => reset = true,
            Some(MARKER_ABORT) => return Err(JbigError::Aborted),
            Some(other) => return Err(JbigError::UnexpectedMarker { marker: other }),
            None => return Err(JbigError::Truncated { what: "stripe end" }),
        }
        r.pos += 2;
        top = bottom;
    }
    if height < img.height() as usize {
        img = truncate(&img, height)?;
    }
    Ok(img)
}

/// After NEWLEN: the first `height` rows.
fn truncate(img: &Bitmap, height: usize) -> Result<Bitmap, JbigError> {
    let mut out = Bitmap::new(img.width(), height as u32)?;
    for y in 0..height {
        copy_row(out.row_mut(y), img.row(y));
    }
    Ok(out)
}

/// Rows of one raster have one length; zip instead of `copy_from_slice` so a slip is a wrong
/// pixel, never a panic.
fn copy_row(to: &mut [u8], from: &[u8]) {
    for (t, f) in to.iter_mut().zip(from) {
        *t = *f;
    }
}
