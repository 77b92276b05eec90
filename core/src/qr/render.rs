//! A payload as a QR matrix the shell can draw, encoded by the `qrcode` crate (ISO/IEC 18004).
//! The core never draws pixels: the Android shell scales [`QrMatrix`] to its screen; the CLI
//! uses [`QrMatrix::to_terminal`].

use qrcode::{Color, EcLevel, QrCode};
use thiserror::Error;

/// The quiet zone ISO/IEC 18004 requires around a symbol, in modules.
pub const QUIET_ZONE: usize = 4;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RenderError {
    #[error("the payload does not fit a QR symbol: {reason}")]
    TooLong { reason: String },
}

/// A square of modules, row by row, `true` for dark; no quiet zone included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrMatrix {
    pub size: usize,
    pub modules: Vec<bool>,
}

impl QrMatrix {
    /// Whether the module at (`x`, `y`) is dark; outside the symbol is light (quiet zone).
    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        x < self.size
            && y < self.size
            && self
                .modules
                .get(y * self.size + x)
                .copied()
                .unwrap_or(false)
    }

    /// Unicode half blocks, two module rows per text line, quiet zone included. Blocks are
    /// printed for the light modules: on the usual light-on-dark terminal the symbol then shows
    /// dark on light, as scanners expect.
    pub fn to_terminal(&self) -> String {
        let q = QUIET_ZONE as isize;
        let side = self.size as isize + 2 * q;
        let light = |x: isize, y: isize| {
            if x < q || y < q {
                return true;
            }
            !self.is_dark((x - q) as usize, (y - q) as usize)
        };
        let mut out = String::new();
        let mut y = 0;
        while y < side {
            for x in 0..side {
                let top = light(x, y);
                let bottom = y + 1 >= side || light(x, y + 1);
                out.push(match (top, bottom) {
                    (true, true) => '█',
                    (true, false) => '▀',
                    (false, true) => '▄',
                    (false, false) => ' ',
                });
            }
            out.push('\n');
            y += 2;
        }
        out
    }
}

/// Encodes `payload` with error correction level M, the level EMVCo recommends for payment
/// QR codes that are shown on screens and printed receipts.
pub fn render(payload: &str) -> Result<QrMatrix, RenderError> {
    let code =
        QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M).map_err(|e| {
            RenderError::TooLong {
                reason: e.to_string(),
            }
        })?;
    let size = code.width();
    let modules = code
        .to_colors()
        .into_iter()
        .map(|c| c == Color::Dark)
        .collect();
    Ok(QrMatrix { size, modules })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_has_finder_patterns_and_a_legal_size() {
        let m = render(
            "00020101021229370016A000000677010111011300660000000005802TH530376454044.226304E469",
        )
        .unwrap();
        // ISO/IEC 18004 §5.3: versions 1..40 are 21..177 modules, 4 per version step.
        assert!(
            (21..=177).contains(&m.size) && (m.size - 17).is_multiple_of(4),
            "{}",
            m.size
        );
        assert_eq!(m.modules.len(), m.size * m.size);
        // §6.3.3 finder pattern: 7x7 dark ring, light ring, 3x3 dark core, at three corners.
        for (ox, oy) in [(0, 0), (m.size - 7, 0), (0, m.size - 7)] {
            for i in 0..7 {
                assert!(m.is_dark(ox + i, oy) && m.is_dark(ox + i, oy + 6));
                assert!(m.is_dark(ox, oy + i) && m.is_dark(ox + 6, oy + i));
            }
            assert!(!m.is_dark(ox + 1, oy + 1));
            assert!(m.is_dark(ox + 3, oy + 3));
        }
    }

    #[test]
    fn terminal_rendering_covers_symbol_and_quiet_zone() {
        let m = render("HELLO").unwrap();
        let text = m.to_terminal();
        let side = m.size + 2 * QUIET_ZONE;
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), side.div_ceil(2));
        assert!(lines.iter().all(|l| l.chars().count() == side));
        // The quiet zone's first line is all light.
        assert!(lines[0].chars().all(|c| c == '█'));
    }

    #[test]
    fn too_long_is_an_error_not_a_panic() {
        let e = render(&"9".repeat(8000)).unwrap_err();
        assert!(matches!(e, RenderError::TooLong { .. }));
    }
}
