//! A 1-bit raster, rows packed most significant bit first with 1 for ink: the layout of JBIG
//! (T.82 6.2) and of raw PBM (netpbm `P4`), so both are a copy away.

use std::fmt;

use thiserror::Error;

/// The largest side a signature raster may have; an acquirer's slip image is a few hundred
/// pixels, and a bound keeps a hostile header from asking for gigabytes.
pub const MAX_SIDE: u32 = 4096;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RasterError {
    #[error("raster size {width}x{height} is outside 1..={max} on each side")]
    BadSize { width: u32, height: u32, max: u32 },
    #[error("not a raw PBM (P4) image: {reason}")]
    BadPbm { reason: &'static str },
}

#[derive(Clone, PartialEq, Eq)]
pub struct Bitmap {
    width: u32,
    height: u32,
    stride: usize,
    bits: Vec<u8>,
}

/// The image is personal data (a signature): Debug shows its size and how much ink, not pixels.
impl fmt::Debug for Bitmap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bitmap")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("ink", &self.ink_count())
            .finish()
    }
}

impl Bitmap {
    /// A blank (all white) raster.
    pub fn new(width: u32, height: u32) -> Result<Bitmap, RasterError> {
        if !(1..=MAX_SIDE).contains(&width) || !(1..=MAX_SIDE).contains(&height) {
            return Err(RasterError::BadSize {
                width,
                height,
                max: MAX_SIDE,
            });
        }
        let stride = (width as usize).div_ceil(8);
        Ok(Bitmap {
            width,
            height,
            stride,
            bits: vec![0; stride * height as usize],
        })
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    /// Bytes per row.
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// Whether (`x`, `y`) is ink; outside the raster is white (T.82 6.2.5 for template pixels).
    pub fn get(&self, x: i64, y: i64) -> bool {
        if x < 0 || y < 0 || x >= i64::from(self.width) || y >= i64::from(self.height) {
            return false;
        }
        let (x, y) = (x as usize, y as usize);
        self.bits
            .get(y * self.stride + x / 8)
            .is_some_and(|b| b & (0x80 >> (x % 8)) != 0)
    }

    /// Sets (`x`, `y`) to `ink`; outside the raster nothing happens (a pen near the edge).
    pub fn set(&mut self, x: i64, y: i64, ink: bool) {
        if x < 0 || y < 0 || x >= i64::from(self.width) || y >= i64::from(self.height) {
            return;
        }
        let (x, y) = (x as usize, y as usize);
        if let Some(b) = self.bits.get_mut(y * self.stride + x / 8) {
            let mask = 0x80 >> (x % 8);
            if ink {
                *b |= mask;
            } else {
                *b &= !mask;
            }
        }
    }

    /// Row `y` as packed bytes (padding bits past the width are always 0); empty outside.
    pub fn row(&self, y: usize) -> &[u8] {
        let start = y * self.stride;
        self.bits.get(start..start + self.stride).unwrap_or(&[])
    }

    pub(crate) fn row_mut(&mut self, y: usize) -> &mut [u8] {
        let start = y * self.stride;
        let stride = self.stride;
        self.bits.get_mut(start..start + stride).unwrap_or(&mut [])
    }

    /// Clears the padding bits of row `y` past the width (a decoder may have set them).
    pub(crate) fn clear_padding(&mut self, y: usize) {
        let spare = self.stride * 8 - self.width as usize;
        if spare > 0
            && let Some(last) = self.row_mut(y).last_mut()
        {
            *last &= 0xffu8 << spare;
        }
    }

    /// The packed pixels, row after row.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bits
    }

    /// How many pixels are ink.
    pub fn ink_count(&self) -> u64 {
        self.bits.iter().map(|b| u64::from(b.count_ones())).sum()
    }

    /// The raster as a raw PBM (`P4`), the input format of jbigkit's `pbmtojbg`.
    pub fn to_pbm(&self) -> Vec<u8> {
        let mut out = format!("P4\n{} {}\n", self.width, self.height).into_bytes();
        out.extend_from_slice(&self.bits);
        out
    }

    /// Reads a raw PBM (`P4`, comments allowed in the header), e.g. what `jbgtopbm` wrote.
    pub fn from_pbm(data: &[u8]) -> Result<Bitmap, RasterError> {
        let bad = |reason| RasterError::BadPbm { reason };
        let mut pos = 0;
        let mut fields = [0u32; 2];
        if data.get(..2) != Some(b"P4") {
            return Err(bad("the magic number is not P4"));
        }
        pos += 2;
        for field in &mut fields {
            loop {
                match data.get(pos) {
                    Some(b'#') => {
                        while data.get(pos).is_some_and(|&b| b != b'\n') {
                            pos += 1;
                        }
                    }
                    Some(b) if b.is_ascii_whitespace() => pos += 1,
                    _ => break,
                }
            }
            let start = pos;
            while data.get(pos).is_some_and(u8::is_ascii_digit) {
                pos += 1;
            }
            *field = std::str::from_utf8(data.get(start..pos).unwrap_or_default())
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or(bad("the width or height is not a number"))?;
        }
        if !data.get(pos).is_some_and(u8::is_ascii_whitespace) {
            return Err(bad("no whitespace after the height"));
        }
        pos += 1;
        let mut bitmap = Bitmap::new(fields[0], fields[1])?;
        let pixels = data
            .get(pos..pos + bitmap.bits.len())
            .ok_or(bad("the pixel data is shorter than the header says"))?;
        bitmap.bits.copy_from_slice(pixels);
        for y in 0..bitmap.height as usize {
            bitmap.clear_padding(y);
        }
        Ok(bitmap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pixels_pack_most_significant_bit_first() {
        let mut b = Bitmap::new(10, 2).expect("size");
        b.set(0, 0, true);
        b.set(9, 1, true);
        assert_eq!(b.as_bytes(), &[0x80, 0x00, 0x00, 0x40]);
        assert!(b.get(9, 1) && !b.get(10, 1) && !b.get(-1, 0));
        assert_eq!(b.ink_count(), 2);
    }

    #[test]
    fn pbm_round_trips_and_rejects_short_data() {
        let mut b = Bitmap::new(13, 3).expect("size");
        b.set(12, 2, true);
        b.set(3, 1, true);
        let pbm = b.to_pbm();
        assert_eq!(Bitmap::from_pbm(&pbm), Ok(b));
        assert!(Bitmap::from_pbm(&pbm[..pbm.len() - 1]).is_err());
        assert!(Bitmap::from_pbm(b"P1\n1 1\n0").is_err());
        assert_eq!(
            Bitmap::from_pbm(b"P4 # c\n1 1\n\x80").map(|b| b.get(0, 0)),
            Ok(true)
        );
    }

    #[test]
    fn sizes_are_bounded() {
        assert!(Bitmap::new(0, 5).is_err());
        assert!(Bitmap::new(5, MAX_SIDE + 1).is_err());
    }
}
