//! How visible the edge of a swap is: the change a swap made (result minus original, in grey
//! levels) should fade out smoothly where the mask ends; a seam is where it stops at once.
//!
//! Measured without knowing the swapper's mask: the changed region is where the change, blurred
//! a little, is over [`CHANGED`] grey levels; its outer edge is where it meets the unchanged
//! frame around it (holes inside, such as eyes the swapper kept, are not edges a viewer sees as
//! a seam); the seam is the mean gradient of the change, in grey levels per pixel, over a band
//! about that edge. A hard paste of a different face reads tens; a well feathered one a few.

use image::RgbImage;

use super::grey;
use crate::{
    face::Face,
    imaging::{box_blur3, GrayF32, Rect},
};

/// A pixel is changed when the blurred change there is above this many grey levels: above the
/// invisible watermark (1–2 levels) and lossless rounding, below any face a swapper pastes.
const CHANGED: f32 = 3.0;

/// The seam around `face` (found in `original`) in `result`, in grey levels per pixel; `None`
/// when the swap changed nothing there or changed all of the region around the face.
pub fn seam(original: &RgbImage, result: &RgbImage, face: &Face) -> Option<f32> {
    if original.dimensions() != result.dimensions() {
        return None;
    }
    let (fw, fh) = original.dimensions();
    let size = face.size().max(8.0);
    let roi = Rect::around([face.bbox[0], face.bbox[1]], [face.bbox[2], face.bbox[3]], size * 0.6, fw, fh);
    let (w, h) = (roi.width() as usize, roi.height() as usize);
    if w < 8 || h < 8 {
        return None;
    }
    let stride = fw as usize;
    let mut change = GrayF32::new(w as u32, h as u32);
    for y in 0..h {
        let row = (roi.y0 as usize + y) * stride + roi.x0 as usize;
        for x in 0..w {
            let i = 3 * (row + x);
            change.as_mut()[y * w + x] = grey(&result.as_raw()[i..i + 3]) - grey(&original.as_raw()[i..i + 3]);
        }
    }
    let full = Rect::full(w as u32, h as u32);
    let mut scratch = Vec::new();
    let mut level = GrayF32::from_fn(w as u32, h as u32, |x, y| image::Luma([change.get_pixel(x, y).0[0].abs()]));
    box_blur3(&mut level, full, ((size / 48.0) as usize).max(1), &mut scratch);
    let outside = unchanged_surroundings(&level, w, h);
    // Enough of the surroundings must be unchanged for the edge to be the swap's own.
    if outside.iter().filter(|&&o| o).count() < w * h / 10 || outside.iter().all(|&o| o) {
        return None;
    }
    let reach = ((size / 24.0) as usize).max(2);
    let near_outside = dilate(&outside, w, h, reach);
    let near_inside = dilate(&outside.iter().map(|o| !o).collect::<Vec<_>>(), w, h, reach);
    let (mut sum, mut n) = (0.0f64, 0u64);
    let d = change.as_raw();
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            let i = y * w + x;
            if !(near_outside[i] && near_inside[i]) {
                continue;
            }
            let gx = (d[i + 1] - d[i - 1]) / 2.0;
            let gy = (d[i + w] - d[i - w]) / 2.0;
            sum += f64::from((gx * gx + gy * gy).sqrt());
            n += 1;
        }
    }
    (n > 0).then(|| (sum / n as f64) as f32)
}

/// The unchanged pixels reachable from the region's border through unchanged pixels: the frame
/// around the swap, not holes inside it.
fn unchanged_surroundings(level: &GrayF32, w: usize, h: usize) -> Vec<bool> {
    let unchanged = |i: usize| level.as_raw()[i] <= CHANGED;
    let mut outside = vec![false; w * h];
    let mut stack: Vec<usize> =
        (0..w).flat_map(|x| [x, (h - 1) * w + x]).chain((0..h).flat_map(|y| [y * w, y * w + w - 1])).collect();
    while let Some(i) = stack.pop() {
        if outside[i] || !unchanged(i) {
            continue;
        }
        outside[i] = true;
        let (x, y) = (i % w, i / w);
        if x > 0 {
            stack.push(i - 1);
        }
        if x + 1 < w {
            stack.push(i + 1);
        }
        if y > 0 {
            stack.push(i - w);
        }
        if y + 1 < h {
            stack.push(i + w);
        }
    }
    outside
}

/// `set` grown by `reach` pixels (a square neighbourhood), separably.
fn dilate(set: &[bool], w: usize, h: usize, reach: usize) -> Vec<bool> {
    let mut rows = vec![false; w * h];
    for y in 0..h {
        let line = &set[y * w..(y + 1) * w];
        for x in 0..w {
            let (a, b) = (x.saturating_sub(reach), (x + reach).min(w - 1));
            rows[y * w + x] = line[a..=b].iter().any(|&s| s);
        }
    }
    let mut out = vec![false; w * h];
    for x in 0..w {
        for y in 0..h {
            let (a, b) = (y.saturating_sub(reach), (y + reach).min(h - 1));
            out[y * w + x] = (a..=b).any(|yy| rows[yy * w + x]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face_at(x0: f32, y0: f32, side: f32) -> Face {
        Face { bbox: [x0, y0, x0 + side, y0 + side], score: 1.0, kps: [[0.0; 2]; 5], landmarks: None, embedding: None }
    }

    /// A disc of `value` on a textured frame, pasted hard or with a feathered edge.
    fn pasted(feather: f32) -> (RgbImage, RgbImage) {
        let original = RgbImage::from_fn(200, 200, |x, y| {
            let v = 100 + ((x * 7 + y * 3) % 11) as u8;
            image::Rgb([v, v, v])
        });
        let mut result = original.clone();
        for (x, y, p) in result.enumerate_pixels_mut() {
            let r = ((x as f32 - 100.0).powi(2) + (y as f32 - 100.0).powi(2)).sqrt();
            let m = if feather <= 0.0 { f32::from(r < 40.0) } else { ((40.0 - r) / feather + 0.5).clamp(0.0, 1.0) };
            let v = f32::from(p.0[0]) * (1.0 - m) + 170.0 * m;
            *p = image::Rgb([v.round() as u8; 3]);
        }
        (original, result)
    }

    #[test]
    fn a_hard_paste_reads_as_a_seam_and_a_feathered_one_does_not() {
        let face = face_at(60.0, 60.0, 80.0);
        let (original, hard) = pasted(0.0);
        let (_, soft) = pasted(24.0);
        let (hard, soft) = (seam(&original, &hard, &face).unwrap(), seam(&original, &soft, &face).unwrap());
        assert!(hard > 8.0, "hard paste {hard}");
        assert!(soft < 3.5, "feathered paste {soft}");
    }

    #[test]
    fn nothing_changed_has_no_seam() {
        let (original, _) = pasted(0.0);
        assert_eq!(seam(&original, &original, &face_at(60.0, 60.0, 80.0)), None);
    }
}
