//! The cardholder's strokes as the pad reports them: the contract JSON of issue #18,
//! `{"width": W, "height": H, "strokes": [[[x, y, t_ms], …], …]}`, coordinates in pad pixels
//! from the top left, `t_ms` milliseconds since the pad opened.

use std::fmt;

use serde::Deserialize;
use thiserror::Error;

/// A pad larger than this is not a touch screen.
pub const MAX_PAD_SIDE: u32 = 16_384;
/// More points than a minute of 1 kHz sampling is not a signature.
pub const MAX_POINTS: usize = 100_000;

#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum StrokesError {
    #[error("strokes JSON: {0}")]
    Json(String),
    #[error("pad size {width}x{height} is outside 1..={max} on each side")]
    BadPadSize { width: u32, height: u32, max: u32 },
    #[error("no strokes: the cardholder did not sign")]
    NoStrokes,
    #[error("stroke {stroke} point {point} at ({x}, {y}) is outside the {width}x{height} pad")]
    OutOfRange {
        stroke: usize,
        point: usize,
        x: f64,
        y: f64,
        width: u32,
        height: u32,
    },
    #[error("more than {max} points")]
    TooManyPoints { max: usize },
}

/// One pen sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub x: f64,
    pub y: f64,
    pub t_ms: u64,
}

/// A validated signature: at least one point, every point on the pad.
#[derive(Clone, PartialEq)]
pub struct Strokes {
    width: u32,
    height: u32,
    strokes: Vec<Vec<Point>>,
}

/// Strokes are biometric data: Debug shows their shape, not the trace.
impl fmt::Debug for Strokes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Strokes")
            .field("pad", &format_args!("{}x{}", self.width, self.height))
            .field("strokes", &self.strokes.len())
            .field("points", &self.point_count())
            .finish()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StrokesJson {
    width: u32,
    height: u32,
    strokes: Vec<Vec<(f64, f64, u64)>>,
}

impl Strokes {
    /// Checks the pad size, that there is ink, and that every point lies on the pad
    /// (0 ≤ x < width, 0 ≤ y < height). Empty strokes (a touch the pad dropped) are skipped.
    pub fn new(width: u32, height: u32, strokes: Vec<Vec<Point>>) -> Result<Strokes, StrokesError> {
        if !(1..=MAX_PAD_SIDE).contains(&width) || !(1..=MAX_PAD_SIDE).contains(&height) {
            return Err(StrokesError::BadPadSize {
                width,
                height,
                max: MAX_PAD_SIDE,
            });
        }
        let strokes: Vec<Vec<Point>> = strokes.into_iter().filter(|s| !s.is_empty()).collect();
        if strokes.is_empty() {
            return Err(StrokesError::NoStrokes);
        }
        if strokes.iter().map(Vec::len).sum::<usize>() > MAX_POINTS {
            return Err(StrokesError::TooManyPoints { max: MAX_POINTS });
        }
        for (si, stroke) in strokes.iter().enumerate() {
            for (pi, p) in stroke.iter().enumerate() {
                let on_pad =
                    p.x >= 0.0 && p.y >= 0.0 && p.x < f64::from(width) && p.y < f64::from(height);
                if !on_pad {
                    return Err(StrokesError::OutOfRange {
                        stroke: si,
                        point: pi,
                        x: p.x,
                        y: p.y,
                        width,
                        height,
                    });
                }
            }
        }
        Ok(Strokes {
            width,
            height,
            strokes,
        })
    }

    /// Parses the contract JSON.
    pub fn from_json(text: &str) -> Result<Strokes, StrokesError> {
        let raw: StrokesJson =
            serde_json::from_str(text).map_err(|e| StrokesError::Json(e.to_string()))?;
        let strokes = raw
            .strokes
            .into_iter()
            .map(|s| {
                s.into_iter()
                    .map(|(x, y, t_ms)| Point { x, y, t_ms })
                    .collect()
            })
            .collect();
        Strokes::new(raw.width, raw.height, strokes)
    }

    /// The contract JSON (what the Kotlin pad hands over, and what `--signature` files hold).
    pub fn to_json(&self) -> String {
        let strokes: Vec<Vec<serde_json::Value>> = self
            .strokes
            .iter()
            .map(|s| {
                s.iter()
                    .map(|p| serde_json::json!([p.x, p.y, p.t_ms]))
                    .collect()
            })
            .collect();
        serde_json::json!({"width": self.width, "height": self.height, "strokes": strokes})
            .to_string()
    }

    pub fn pad_width(&self) -> u32 {
        self.width
    }

    pub fn pad_height(&self) -> u32 {
        self.height
    }

    pub fn strokes(&self) -> &[Vec<Point>] {
        &self.strokes
    }

    pub fn point_count(&self) -> usize {
        self.strokes.iter().map(Vec::len).sum()
    }

    /// From the first pen-down to the last sample, in milliseconds.
    pub fn duration_ms(&self) -> u64 {
        let times = || self.strokes.iter().flatten().map(|p| p.t_ms);
        let first = times().min().unwrap_or(0);
        times().max().unwrap_or(0).saturating_sub(first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contract_json_parses() {
        let s = Strokes::from_json(
            r#"{"width": 400, "height": 200, "strokes": [[[10, 20, 0], [30.5, 40, 16]], [], [[399.9, 199, 40]]]}"#,
        )
        .expect("valid");
        assert_eq!((s.pad_width(), s.pad_height()), (400, 200));
        assert_eq!(s.strokes().len(), 2, "the empty stroke is dropped");
        assert_eq!(s.point_count(), 3);
        assert_eq!(s.duration_ms(), 40);
        assert_eq!(Strokes::from_json(&s.to_json()), Ok(s));
    }

    #[test]
    fn no_strokes_is_its_own_error() {
        for text in [
            r#"{"width": 10, "height": 10, "strokes": []}"#,
            r#"{"width": 10, "height": 10, "strokes": [[], []]}"#,
        ] {
            assert_eq!(Strokes::from_json(text), Err(StrokesError::NoStrokes));
        }
    }

    #[test]
    fn points_off_the_pad_are_refused() {
        for (x, y) in [(10.0, 5.0), (-0.5, 5.0), (3.0, 10.0), (3.0, -1.0)] {
            let err = Strokes::new(10, 10, vec![vec![Point { x, y, t_ms: 0 }]]);
            assert!(
                matches!(
                    err,
                    Err(StrokesError::OutOfRange {
                        stroke: 0,
                        point: 0,
                        ..
                    })
                ),
                "({x}, {y}): {err:?}"
            );
        }
    }

    #[test]
    fn bad_json_and_bad_pads_are_refused() {
        for text in [
            "",
            "{",
            r#"{"width": 10, "height": 10}"#,
            r#"{"width": 10, "height": 10, "strokes": [[[1, 2]]]}"#,
            r#"{"width": 10, "height": 10, "strokes": [[[1, 2, -3]]]}"#,
            r#"{"width": -1, "height": 10, "strokes": [[[1, 2, 3]]]}"#,
            r#"{"width": 10, "height": 10, "strokes": [[[1, 2, 3]]], "x": 1}"#,
        ] {
            assert!(
                matches!(Strokes::from_json(text), Err(StrokesError::Json(_))),
                "{text}"
            );
        }
        assert!(matches!(
            Strokes::from_json(r#"{"width": 0, "height": 10, "strokes": [[[0, 0, 0]]]}"#),
            Err(StrokesError::BadPadSize { .. })
        ));
    }

    #[test]
    fn debug_does_not_show_the_trace() {
        let s = Strokes::new(
            10,
            10,
            vec![vec![Point {
                x: 1.25,
                y: 7.75,
                t_ms: 3,
            }]],
        )
        .expect("valid");
        let dbg = format!("{s:?}");
        assert!(!dbg.contains("1.25") && !dbg.contains("7.75"), "{dbg}");
    }
}
