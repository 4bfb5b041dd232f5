//! Filling a polygon into a mask (even-odd rule, pixel centres), within a region.

use super::{GrayF32, Point, Rect};

/// Sets every pixel of `mask` whose centre lies inside `polygon` to `value` (within `roi` and
/// the polygon's box).
pub fn fill_polygon(mask: &mut GrayF32, polygon: &[Point], value: f32, roi: Rect) {
    if polygon.len() < 3 {
        return;
    }
    let (lo, hi) = super::bounds(polygon);
    let bounds = Rect::around(lo, hi, 1.0, mask.width(), mask.height());
    let (x0, x1) = (bounds.x0.max(roi.x0), bounds.x1.min(roi.x1));
    let width = mask.width() as usize;
    let data: &mut [f32] = mask;
    let mut crossings: Vec<f32> = Vec::with_capacity(polygon.len());
    for y in bounds.y0.max(roi.y0)..bounds.y1.min(roi.y1) {
        let cy = y as f32 + 0.5;
        crossings.clear();
        for (i, a) in polygon.iter().enumerate() {
            let b = polygon[(i + 1) % polygon.len()];
            if (a[1] <= cy) != (b[1] <= cy) {
                crossings.push(a[0] + (cy - a[1]) / (b[1] - a[1]) * (b[0] - a[0]));
            }
        }
        crossings.sort_by(f32::total_cmp);
        for pair in crossings.chunks_exact(2) {
            let from = (pair[0] - 0.5).ceil().max(x0 as f32) as u32;
            let to = ((pair[1] - 0.5).floor() + 1.0).min(x1 as f32).max(0.0) as u32;
            for x in from..to {
                data[y as usize * width + x as usize] = value;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_square_fills_its_inside_only() {
        let mut mask = GrayF32::new(10, 10);
        fill_polygon(&mut mask, &[[2.0, 2.0], [7.0, 2.0], [7.0, 7.0], [2.0, 7.0]], 1.0, Rect::full(10, 10));
        let filled = mask.pixels().filter(|p| p.0[0] == 1.0).count();
        assert_eq!(filled, 25);
        assert_eq!(mask.get_pixel(2, 2).0[0], 1.0);
        assert_eq!(mask.get_pixel(7, 7).0[0], 0.0);
    }
}
