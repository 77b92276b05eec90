//! The signature as PNG for receipts and screens: 1-bit grayscale, ink black on white, the
//! same pixels as the JBIG image.

use thiserror::Error;

use super::raster::Bitmap;

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PngError {
    #[error("PNG encoding: {0}")]
    Encode(String),
}

/// Encodes `img` as a 1-bit grayscale PNG.
pub fn to_png(img: &Bitmap) -> Result<Vec<u8>, PngError> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, img.width(), img.height());
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::One);
        let mut writer = encoder
            .write_header()
            .map_err(|e| PngError::Encode(e.to_string()))?;
        // PNG grayscale says 1 for white; the raster says 1 for ink. Padding bits stay 0
        // either way: PNG ignores them.
        let pixels: Vec<u8> = (0..img.height() as usize)
            .flat_map(|y| {
                let row = img.row(y);
                let spare = img.stride() * 8 - img.width() as usize;
                let last = row.len().saturating_sub(1);
                row.iter().enumerate().map(move |(i, b)| {
                    let inverted = !b;
                    if i == last {
                        inverted & (0xffu8 << spare)
                    } else {
                        inverted
                    }
                })
            })
            .collect();
        writer
            .write_image_data(&pixels)
            .map_err(|e| PngError::Encode(e.to_string()))?;
        writer
            .finish()
            .map_err(|e| PngError::Encode(e.to_string()))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_png_decodes_to_the_same_pixels() {
        let mut img = Bitmap::new(11, 3).expect("size");
        img.set(0, 0, true);
        img.set(10, 2, true);
        let data = to_png(&img).expect("png");
        let decoder = png::Decoder::new(std::io::Cursor::new(data));
        let mut reader = decoder.read_info().expect("header");
        let info = reader.info();
        assert_eq!((info.width, info.height), (11, 3));
        assert_eq!(info.bit_depth, png::BitDepth::One);
        let mut buf = vec![0; reader.output_buffer_size().expect("size")];
        reader.next_frame(&mut buf).expect("frame");
        // Row 0: first pixel black (0), the rest white; row 2: only the last pixel black.
        assert_eq!(&buf[0..2], &[0x7f, 0xe0]);
        assert_eq!(&buf[2..4], &[0xff, 0xe0]);
        assert_eq!(&buf[4..6], &[0xff, 0xc0]);
    }
}
