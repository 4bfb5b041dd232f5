//! Whether a swap kept the target's light and lip colour: the source's highlights and shading
//! are the source's light, its lip colour is not its identity, and both should give way to the
//! target's.

use image::RgbImage;

use super::grey;
use crate::{
    face::regions,
    imaging::{bounds, box_blur3, fill_polygon, GrayF32, Point, Rect},
};

fn region_of(points: &[Point], size: f32, width: u32, height: u32) -> Rect {
    let (lo, hi) = bounds(points);
    Rect::around(lo, hi, size * 0.1, width, height)
}

/// `points` in the coordinates of `roi`'s own plane.
fn shifted(points: &[Point], roi: Rect) -> Vec<Point> {
    points.iter().map(|p| [p[0] - roi.x0 as f32, p[1] - roi.y0 as f32]).collect()
}

/// How far the result's light moved from the original's over the face (outline and brows, as
/// the 106 `landmarks` of the original mark them): the mean absolute difference, in grey
/// levels, of the two pictures' grey blurred at a tenth of the face's size. The source's own
/// highlights and shadows raise it; the target's light kept keeps it near 0.
pub fn light_change(original: &RgbImage, result: &RgbImage, landmarks: &[Point]) -> Option<f32> {
    if landmarks.len() < 106 || original.dimensions() != result.dimensions() {
        return None;
    }
    let (w, h) = original.dimensions();
    let hull = regions::convex_hull(&landmarks[..106]);
    let (lo, hi) = bounds(&hull);
    let size = (hi[0] - lo[0]).max(hi[1] - lo[1]);
    let roi = region_of(&hull, size, w, h);
    if roi.width() < 4 || roi.height() < 4 {
        return None;
    }
    // Planes of the face's region only, the polygon moved into their coordinates.
    let (rw, rh) = (roi.width(), roi.height());
    let plane = |picture: &RgbImage| {
        GrayF32::from_fn(rw, rh, |x, y| {
            let i = 3 * ((y + roi.y0) as usize * w as usize + (x + roi.x0) as usize);
            image::Luma([grey(&picture.as_raw()[i..i + 3])])
        })
    };
    let (mut before, mut after, mut scratch) = (plane(original), plane(result), Vec::new());
    let radius = ((size / 10.0 / 1.7) as usize).max(1);
    let local = Rect::full(rw, rh);
    box_blur3(&mut before, local, radius, &mut scratch);
    box_blur3(&mut after, local, radius, &mut scratch);
    let mut inside = GrayF32::new(rw, rh);
    fill_polygon(&mut inside, &shifted(&hull, roi), 1.0, local);
    let (mut sum, mut n) = (0.0f64, 0u64);
    for ((b, a), m) in before.as_raw().iter().zip(after.as_raw()).zip(inside.as_raw()) {
        if *m > 0.5 {
            sum += f64::from((a - b).abs());
            n += 1;
        }
    }
    (n > 16).then(|| (sum / n as f64) as f32)
}

/// How far the lips' mean colour moved (the distance of the two means in RGB, grey levels): the
/// lips between their outer and inner edges as the original's 106 `landmarks` mark them.
pub fn lip_colour_change(original: &RgbImage, result: &RgbImage, landmarks: &[Point]) -> Option<f32> {
    if landmarks.len() < 106 || original.dimensions() != result.dimensions() {
        return None;
    }
    let (w, h) = original.dimensions();
    let outer = regions::polygon(landmarks, &regions::OUTER_MOUTH);
    let inner = regions::polygon(landmarks, &regions::INNER_MOUTH);
    let roi = region_of(&outer, 2.0, w, h);
    let local = Rect::full(roi.width(), roi.height());
    let mut lips = GrayF32::new(roi.width(), roi.height());
    fill_polygon(&mut lips, &shifted(&outer, roi), 1.0, local);
    fill_polygon(&mut lips, &shifted(&inner, roi), 0.0, local);
    let (mut a, mut b, mut n) = ([0.0f64; 3], [0.0f64; 3], 0u64);
    for (x, y, m) in lips.enumerate_pixels() {
        if m.0[0] < 0.5 {
            continue;
        }
        let (p, q) = (original.get_pixel(x + roi.x0, y + roi.y0).0, result.get_pixel(x + roi.x0, y + roi.y0).0);
        for c in 0..3 {
            a[c] += f64::from(p[c]);
            b[c] += f64::from(q[c]);
        }
        n += 1;
    }
    if n < 8 {
        return None;
    }
    let distance = (0..3).map(|c| ((a[c] - b[c]) / n as f64).powi(2)).sum::<f64>().sqrt();
    Some(distance as f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A face's worth of landmarks: a ring for the outline, the mouth's lips around (60, 70).
    fn landmarks() -> Vec<Point> {
        let mut points = vec![[0.0f32; 2]; 106];
        for (k, p) in points.iter_mut().enumerate().take(33) {
            let t = k as f32 / 33.0 * std::f32::consts::TAU;
            *p = [50.0 + 30.0 * t.cos(), 50.0 + 35.0 * t.sin()];
        }
        for (k, &i) in regions::OUTER_MOUTH.iter().enumerate() {
            let t = k as f32 / 12.0 * std::f32::consts::TAU;
            points[i] = [50.0 + 12.0 * t.cos(), 70.0 + 6.0 * t.sin()];
        }
        for (k, &i) in regions::INNER_MOUTH.iter().enumerate() {
            let t = k as f32 / 12.0 * std::f32::consts::TAU;
            points[i] = [50.0 + 8.0 * t.cos(), 70.0 + 1.5 * t.sin()];
        }
        points
    }

    #[test]
    fn a_highlight_and_a_new_lip_colour_are_measured() {
        let original = RgbImage::from_pixel(100, 100, image::Rgb([150, 110, 90]));
        let lm = landmarks();
        assert_eq!(light_change(&original, &original, &lm), Some(0.0));
        assert_eq!(lip_colour_change(&original, &original, &lm), Some(0.0));
        let mut lit = original.clone();
        for (x, y, p) in lit.enumerate_pixels_mut() {
            if (30..60).contains(&x) && (25..55).contains(&y) {
                *p = image::Rgb([210, 170, 150]);
            }
        }
        let light = light_change(&original, &lit, &lm).unwrap_or(0.0);
        assert!(light > 8.0, "a highlight over a third of the face: {light}");
        let mut painted = original.clone();
        for (x, y, p) in painted.enumerate_pixels_mut() {
            if (38..63).contains(&x) && (64..77).contains(&y) {
                *p = image::Rgb([190, 40, 60]);
            }
        }
        assert!(lip_colour_change(&original, &painted, &lm).unwrap_or(0.0) > 40.0);
    }
}
