//! OpenCV's `cv2.resize(…, INTER_LINEAR)` for whole pictures: 8-bit RGB with 11-bit fixed-point
//! weights (what FaceFusion's mask models are fed), and float masks with float weights (what
//! their outputs are scaled back with). No antialiasing when shrinking, as OpenCV.

use image::RgbImage;

use super::GrayF32;

const COEF_BITS: i32 = 11;
const COEF_SCALE: f32 = (1 << COEF_BITS) as f32;

/// One axis of a linear resize: each output index's first source index and its weights.
#[derive(Debug, Default, Clone)]
pub(super) struct AxisTable {
    pub offset: Vec<usize>,
    /// Fractions of the second source index, as OpenCV computes them in float.
    pub frac: Vec<f32>,
    /// The same as the 8-bit path's fixed-point weights, computed once.
    weight: Vec<[i32; 2]>,
}

impl AxisTable {
    pub fn build(&mut self, src_len: u32, dst_len: u32) {
        let scale = 1.0 / (f64::from(dst_len) / f64::from(src_len));
        self.offset.clear();
        self.frac.clear();
        self.weight.clear();
        for d in 0..dst_len {
            let f = ((f64::from(d) + 0.5) * scale - 0.5) as f32;
            let mut s = f.floor() as i64;
            let mut frac = f - s as f32;
            if s < 0 {
                s = 0;
                frac = 0.0;
            }
            if s >= i64::from(src_len) - 1 {
                s = i64::from(src_len) - 1;
                frac = 0.0;
            }
            self.offset.push(s as usize);
            self.frac.push(frac);
            self.weight.push([
                ((1.0 - frac) * COEF_SCALE).round_ties_even() as i32,
                (frac * COEF_SCALE).round_ties_even() as i32,
            ]);
        }
    }

    /// The 8-bit path's fixed-point weights of output index `i`.
    #[inline]
    pub fn fixed(&self, i: usize) -> [i32; 2] {
        self.weight[i]
    }
}

/// `src` resized to `width`×`height`.
pub fn resize_rgb_linear(src: &RgbImage, width: u32, height: u32) -> RgbImage {
    let (sw, sh) = src.dimensions();
    if (sw, sh) == (width, height) || sw == 0 || sh == 0 {
        return if sw == 0 || sh == 0 { RgbImage::new(width, height) } else { src.clone() };
    }
    let (mut columns, mut rows) = (AxisTable::default(), AxisTable::default());
    columns.build(sw, width);
    rows.build(sh, height);
    let (stride, last) = (3 * sw as usize, sw as usize - 1);
    let row_len = 3 * width as usize;
    // Each source row resampled across once (output rows share source rows), then mixed down.
    let mut across = vec![0i32; sh as usize * row_len];
    for (line, out) in src.as_raw().chunks_exact(stride).zip(across.chunks_exact_mut(row_len)) {
        for (dx, &sx) in columns.offset.iter().enumerate() {
            let [a0, a1] = columns.fixed(dx);
            let sx1 = (sx + 1).min(last);
            for c in 0..3 {
                out[3 * dx + c] = i32::from(line[3 * sx + c]) * a0 + i32::from(line[3 * sx1 + c]) * a1;
            }
        }
    }
    let mut out = RgbImage::new(width, height);
    let pixels: &mut [u8] = &mut out;
    for (dy, &sy) in rows.offset.iter().enumerate() {
        let [b0, b1] = rows.fixed(dy);
        let below = (sy + 1).min(sh as usize - 1);
        let (above, below) = (&across[sy * row_len..][..row_len], &across[below * row_len..][..row_len]);
        for (i, value) in pixels[dy * row_len..(dy + 1) * row_len].iter_mut().enumerate() {
            *value = ((b0 * above[i] + b1 * below[i] + (1 << 21)) >> 22).clamp(0, 255) as u8;
        }
    }
    out
}

/// A float mask resized to `width`×`height`.
pub fn resize_gray_linear(src: &GrayF32, width: u32, height: u32) -> GrayF32 {
    let (sw, sh) = src.dimensions();
    if (sw, sh) == (width, height) || sw == 0 || sh == 0 {
        return if sw == 0 || sh == 0 { GrayF32::new(width, height) } else { src.clone() };
    }
    let (mut columns, mut rows) = (AxisTable::default(), AxisTable::default());
    columns.build(sw, width);
    rows.build(sh, height);
    let last = sw as usize - 1;
    let w = width as usize;
    // Each source row resampled across once, then mixed down (as the 8-bit path).
    let mut across = vec![0f32; sh as usize * w];
    for (line, out) in src.as_raw().chunks_exact(sw as usize).zip(across.chunks_exact_mut(w)) {
        for ((value, &sx), &f) in out.iter_mut().zip(&columns.offset).zip(&columns.frac) {
            *value = line[sx] * (1.0 - f) + line[(sx + 1).min(last)] * f;
        }
    }
    let mut out = GrayF32::new(width, height);
    let values: &mut [f32] = &mut out;
    for (dy, (&sy, &f)) in rows.offset.iter().zip(&rows.frac).enumerate() {
        let below = (sy + 1).min(sh as usize - 1);
        let (above, below) = (&across[sy * w..][..w], &across[below * w..][..w]);
        for (x, value) in values[dy * w..(dy + 1) * w].iter_mut().enumerate() {
            *value = above[x] * (1.0 - f) + below[x] * f;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flat_picture_stays_flat_and_sizes_are_kept() {
        let flat = RgbImage::from_pixel(7, 5, image::Rgb([10, 200, 33]));
        let up = resize_rgb_linear(&flat, 16, 12);
        assert_eq!(up.dimensions(), (16, 12));
        assert!(up.pixels().all(|p| p.0 == [10, 200, 33]));
        let mask = GrayF32::from_pixel(8, 8, image::Luma([0.25]));
        let down = resize_gray_linear(&mask, 3, 3);
        assert!(down.pixels().all(|p| (p.0[0] - 0.25).abs() < 1e-6));
    }
}
