//! Strokes to a 1-bit raster of the acquirer's size: the pad's coordinates are scaled by one
//! factor on both axes (a signature keeps its shape) and centred, consecutive samples are
//! joined by straight lines, and the pen is a filled disc. Integer arithmetic after the one
//! scaling step, so the same strokes give the same raster on every device.

use super::raster::{Bitmap, RasterError};
use super::strokes::Strokes;

/// The acquirer's raster when it says nothing else: 384 pixels is the printable width of a
/// 58 mm thermal roll at 8 dots/mm, so the e-slip prints the signature 1:1; 128 rows keep a
/// 3:1 signing box.
pub const DEFAULT_WIDTH: u32 = 384;
pub const DEFAULT_HEIGHT: u32 = 128;
/// Pen diameter in raster pixels: a ballpoint line at 8 dots/mm.
pub const DEFAULT_PEN: u32 = 3;
/// The widest pen accepted; anything wider floods a raster.
pub const MAX_PEN: u32 = 32;

/// Renders `strokes` onto a blank `width` x `height` raster with a pen `pen` pixels wide
/// (clamped to 1..=[`MAX_PEN`]).
pub fn render(strokes: &Strokes, width: u32, height: u32, pen: u32) -> Result<Bitmap, RasterError> {
    let mut img = Bitmap::new(width, height)?;
    let nib = Nib::new(pen.clamp(1, MAX_PEN));
    let (pw, ph) = (
        f64::from(strokes.pad_width()),
        f64::from(strokes.pad_height()),
    );
    let scale = (f64::from(width) / pw).min(f64::from(height) / ph);
    let off_x = (f64::from(width) - pw * scale) / 2.0;
    let off_y = (f64::from(height) - ph * scale) / 2.0;
    let to_raster = |v: f64, off: f64, max: u32| -> i64 {
        // Points lie in [0, side): the product stays in [0, max); clamp only guards rounding.
        ((off + v * scale).floor() as i64).clamp(0, i64::from(max) - 1)
    };
    for stroke in strokes.strokes() {
        let mut last: Option<(i64, i64)> = None;
        for p in stroke {
            let here = (to_raster(p.x, off_x, width), to_raster(p.y, off_y, height));
            match last {
                None => nib.stamp(&mut img, here.0, here.1),
                Some(from) => line(&mut img, &nib, from, here),
            }
            last = Some(here);
        }
    }
    Ok(img)
}

/// The pixels a round pen of `width` covers around its centre.
struct Nib {
    offsets: Vec<(i64, i64)>,
}

impl Nib {
    fn new(width: u32) -> Nib {
        let w = i64::from(width);
        let lo = -((w - 1) / 2);
        let hi = lo + w - 1;
        // Distances doubled so even widths (centre between pixels) stay in integers.
        let centre2 = lo + hi;
        let mut offsets = Vec::new();
        for dy in lo..=hi {
            for dx in lo..=hi {
                let (ex, ey) = (2 * dx - centre2, 2 * dy - centre2);
                if ex * ex + ey * ey <= w * w {
                    offsets.push((dx, dy));
                }
            }
        }
        Nib { offsets }
    }

    fn stamp(&self, img: &mut Bitmap, x: i64, y: i64) {
        for &(dx, dy) in &self.offsets {
            img.set(x + dx, y + dy, true);
        }
    }
}

/// Bresenham's line from `a` to `b`, the nib stamped at every step.
fn line(img: &mut Bitmap, nib: &Nib, a: (i64, i64), b: (i64, i64)) {
    let (mut x, mut y) = a;
    let dx = (b.0 - x).abs();
    let dy = -(b.1 - y).abs();
    let sx = if x < b.0 { 1 } else { -1 };
    let sy = if y < b.1 { 1 } else { -1 };
    let mut err = dx + dy;
    loop {
        nib.stamp(img, x, y);
        if (x, y) == b {
            break;
        }
        let e2 = 2 * err;
        if e2 >= dy {
            err += dy;
            x += sx;
        }
        if e2 <= dx {
            err += dx;
            y += sy;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::strokes::Point;
    use super::*;

    fn strokes(w: u32, h: u32, pts: &[&[(f64, f64)]]) -> Strokes {
        let s = pts
            .iter()
            .map(|s| s.iter().map(|&(x, y)| Point { x, y, t_ms: 0 }).collect())
            .collect();
        Strokes::new(w, h, s).expect("valid strokes")
    }

    #[test]
    fn a_one_pixel_pen_draws_the_exact_line() {
        let s = strokes(10, 10, &[&[(0.0, 0.0), (9.0, 9.0)]]);
        let img = render(&s, 10, 10, 1).expect("render");
        assert_eq!(img.ink_count(), 10);
        assert!((0..10).all(|i| img.get(i, i)));
    }

    #[test]
    fn the_pad_scales_uniformly_and_centres() {
        // A 200x100 pad on a 100x100 raster: scale 0.5, 25 rows of margin above and below.
        let s = strokes(200, 100, &[&[(0.0, 0.0)], &[(199.0, 99.0)]]);
        let img = render(&s, 100, 100, 1).expect("render");
        assert!(img.get(0, 25));
        assert!(img.get(99, 74));
        assert_eq!(img.ink_count(), 2);
    }

    #[test]
    fn the_nib_is_round() {
        assert_eq!(Nib::new(1).offsets.len(), 1);
        assert_eq!(Nib::new(2).offsets.len(), 4);
        assert_eq!(Nib::new(3).offsets.len(), 9);
        assert_eq!(
            Nib::new(4).offsets.len(),
            12,
            "a 4x4 square less its corners"
        );
    }

    #[test]
    fn rendering_is_deterministic_and_stays_inside() {
        let s = strokes(
            1000,
            400,
            &[&[(0.0, 0.0), (999.9, 399.9), (0.0, 399.9)], &[(500.0, 0.0)]],
        );
        let a = render(&s, DEFAULT_WIDTH, DEFAULT_HEIGHT, 8).expect("render");
        let b = render(&s, DEFAULT_WIDTH, DEFAULT_HEIGHT, 8).expect("render");
        assert_eq!(a, b);
        assert!(a.ink_count() > 0);
    }
}
