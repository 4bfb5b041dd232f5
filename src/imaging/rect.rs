//! Integer pixel rectangles (regions of interest), and the float bounds of points.

use super::Point;

/// The bounding box of `points`: (min, max); inverted (MAX, MIN) when there are none.
pub fn bounds(points: &[Point]) -> ([f32; 2], [f32; 2]) {
    points.iter().fold(([f32::MAX; 2], [f32::MIN; 2]), |(lo, hi), p| {
        ([lo[0].min(p[0]), lo[1].min(p[1])], [hi[0].max(p[0]), hi[1].max(p[1])])
    })
}

/// The mean of `points` (the origin when there are none).
pub fn centroid(points: &[Point]) -> Point {
    let n = points.len().max(1) as f32;
    points.iter().fold([0.0, 0.0], |a, p| [a[0] + p[0] / n, a[1] + p[1] / n])
}

/// A rectangle of pixels: `x0..x1` by `y0..y1`, half-open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rect {
    pub x0: u32,
    pub y0: u32,
    pub x1: u32,
    pub y1: u32,
}

impl Rect {
    /// The whole of a `width`×`height` picture.
    pub fn full(width: u32, height: u32) -> Self {
        Self { x0: 0, y0: 0, x1: width, y1: height }
    }

    /// The pixels covering float bounds, grown by `margin` and clipped to `width`×`height`.
    pub fn around(min: [f32; 2], max: [f32; 2], margin: f32, width: u32, height: u32) -> Self {
        let clip = |v: f32, hi: u32| v.clamp(0.0, hi as f32) as u32;
        Self {
            x0: clip((min[0] - margin).floor(), width),
            y0: clip((min[1] - margin).floor(), height),
            x1: clip((max[0] + margin).ceil() + 1.0, width),
            y1: clip((max[1] + margin).ceil() + 1.0, height),
        }
    }

    pub fn width(&self) -> u32 {
        self.x1.saturating_sub(self.x0)
    }

    pub fn height(&self) -> u32 {
        self.y1.saturating_sub(self.y0)
    }

    pub fn is_empty(&self) -> bool {
        self.width() == 0 || self.height() == 0
    }
}
