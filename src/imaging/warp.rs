//! Affine warps with OpenCV's `warpAffine` arithmetic (bilinear, border value 0): source
//! coordinates in 1/32 pixel steps and, for 8-bit pictures, 15-bit fixed-point weights. The
//! result matches `cv2.warpAffine` to the grey level, which the parity tests rely on.
//!
//! Hand-written rather than taken from `imageproc`: its float bilinear warp rounds differently
//! and cannot restrict the work to a region, which the per-frame paste-back needs.

use image::RgbImage;

use super::{Affine, GrayF32, Rect};

/// OpenCV's `INTER_BITS`: sub-pixel positions are quantised to 1/32.
const INTER_BITS: i64 = 5;
const INTER_TAB: i64 = 1 << INTER_BITS;
/// OpenCV's `AB_BITS`: the transform is evaluated in 1/1024 fixed point.
const AB_BITS: i64 = 10;
const AB_SCALE: f64 = (1 << AB_BITS) as f64;
const ROUND_DELTA: i64 = (1 << AB_BITS) / INTER_TAB / 2;
/// OpenCV's `INTER_REMAP_COEF_BITS`.
const COEF_BITS: i32 = 15;

/// The source position of one output pixel: integer part and 1/32 fractions.
struct Tap {
    sx: i64,
    sy: i64,
    fx: i64,
    fy: i64,
}

/// Walks the output pixels of `roi`, handing each its source tap, in OpenCV's fixed point.
fn for_each_tap(dst_from_src: &Affine, roi: Rect, mut visit: impl FnMut(u32, u32, Tap)) {
    let m = dst_from_src.inverse().0;
    let fixed = |v: f64| (v * AB_SCALE).round_ties_even() as i64;
    // OpenCV's per-column terms, computed once per call rather than once per pixel.
    let column_terms: Vec<(i64, i64)> =
        (roi.x0..roi.x1).map(|x| (fixed(m[0][0] * f64::from(x)), fixed(m[1][0] * f64::from(x)))).collect();
    for y in roi.y0..roi.y1 {
        let x_row = fixed(m[0][1] * f64::from(y) + m[0][2]) + ROUND_DELTA;
        let y_row = fixed(m[1][1] * f64::from(y) + m[1][2]) + ROUND_DELTA;
        for (x, &(dx, dy)) in (roi.x0..roi.x1).zip(&column_terms) {
            let xs = (x_row + dx) >> (AB_BITS - INTER_BITS);
            let ys = (y_row + dy) >> (AB_BITS - INTER_BITS);
            visit(
                x,
                y,
                Tap { sx: xs >> INTER_BITS, sy: ys >> INTER_BITS, fx: xs & (INTER_TAB - 1), fy: ys & (INTER_TAB - 1) },
            );
        }
    }
}

/// The four source pixels of a tap and whether each lies inside a `w`×`h` source.
#[inline]
fn corners(tap: &Tap, w: u32, h: u32) -> Option<[(Option<usize>, i64); 4]> {
    let (w, h) = (i64::from(w), i64::from(h));
    if tap.sx >= w || tap.sx + 1 < 0 || tap.sy >= h || tap.sy + 1 < 0 {
        return None;
    }
    let at = |x: i64, y: i64| (x >= 0 && y >= 0 && x < w && y < h).then(|| (y * w + x) as usize);
    // Weights in units of 1/1024; their products scaled by 32 give OpenCV's 1/32768 table exactly.
    let (wx0, wx1, wy0, wy1) = (INTER_TAB - tap.fx, tap.fx, INTER_TAB - tap.fy, tap.fy);
    Some([
        (at(tap.sx, tap.sy), wy0 * wx0),
        (at(tap.sx + 1, tap.sy), wy0 * wx1),
        (at(tap.sx, tap.sy + 1), wy1 * wx0),
        (at(tap.sx + 1, tap.sy + 1), wy1 * wx1),
    ])
}

/// Warps `src` into `dst` (pre-sized) through `dst_from_src`, writing only the pixels of `roi`.
pub fn warp_affine_rgb(src: &RgbImage, dst_from_src: &Affine, dst: &mut RgbImage, roi: Rect) {
    let (sw, sh) = src.dimensions();
    let dw = dst.width();
    let s = src.as_raw();
    let d: &mut [u8] = dst;
    let (w, h) = (i64::from(sw), i64::from(sh));
    for_each_tap(dst_from_src, roi, |x, y, tap| {
        let o = 3 * (y as usize * dw as usize + x as usize);
        if tap.sx >= 0 && tap.sy >= 0 && tap.sx + 1 < w && tap.sy + 1 < h {
            // All four taps inside (the common case): no border checks, integer weights only.
            let top = 3 * (tap.sy * w + tap.sx) as usize;
            let bottom = top + 3 * sw as usize;
            let (wx0, wx1, wy0, wy1) = (INTER_TAB - tap.fx, tap.fx, INTER_TAB - tap.fy, tap.fy);
            let weights = [wy0 * wx0 * 32, wy0 * wx1 * 32, wy1 * wx0 * 32, wy1 * wx1 * 32];
            for c in 0..3 {
                let acc = i64::from(s[top + c]) * weights[0]
                    + i64::from(s[top + 3 + c]) * weights[1]
                    + i64::from(s[bottom + c]) * weights[2]
                    + i64::from(s[bottom + 3 + c]) * weights[3];
                d[o + c] = ((acc + (1 << (COEF_BITS - 1))) >> COEF_BITS).clamp(0, 255) as u8;
            }
            return;
        }
        let Some(taps) = corners(&tap, sw, sh) else {
            d[o..o + 3].fill(0);
            return;
        };
        for c in 0..3 {
            let mut acc: i64 = 0;
            for (index, weight) in taps {
                if let Some(i) = index {
                    acc += i64::from(s[3 * i + c]) * weight * 32;
                }
            }
            d[o + c] = ((acc + (1 << (COEF_BITS - 1))) >> COEF_BITS).clamp(0, 255) as u8;
        }
    });
}

/// [`warp_affine_rgb`] with OpenCV's `BORDER_REPLICATE`: a tap outside the source takes the
/// nearest edge pixel (FaceFusion's crops), so a face at the frame's edge has no black rim.
pub fn warp_affine_rgb_replicate(src: &RgbImage, dst_from_src: &Affine, dst: &mut RgbImage, roi: Rect) {
    let (sw, sh) = src.dimensions();
    if sw == 0 || sh == 0 {
        return;
    }
    let dw = dst.width() as usize;
    let s = src.as_raw();
    let d: &mut [u8] = dst;
    let (w, h) = (i64::from(sw), i64::from(sh));
    for_each_tap(dst_from_src, roi, |x, y, tap| {
        let o = 3 * (y as usize * dw + x as usize);
        let (x0, x1) = (tap.sx.clamp(0, w - 1), (tap.sx + 1).clamp(0, w - 1));
        let (y0, y1) = (tap.sy.clamp(0, h - 1), (tap.sy + 1).clamp(0, h - 1));
        let (wx0, wx1, wy0, wy1) = (INTER_TAB - tap.fx, tap.fx, INTER_TAB - tap.fy, tap.fy);
        let taps = [
            (3 * (y0 * w + x0) as usize, wy0 * wx0 * 32),
            (3 * (y0 * w + x1) as usize, wy0 * wx1 * 32),
            (3 * (y1 * w + x0) as usize, wy1 * wx0 * 32),
            (3 * (y1 * w + x1) as usize, wy1 * wx1 * 32),
        ];
        for c in 0..3 {
            let acc: i64 = taps.iter().map(|&(i, weight)| i64::from(s[i + c]) * weight).sum();
            d[o + c] = ((acc + (1 << (COEF_BITS - 1))) >> COEF_BITS).clamp(0, 255) as u8;
        }
    });
}

/// Warps a float mask into `dst` (pre-sized) through `dst_from_src`, writing only `roi`.
pub fn warp_affine_gray(src: &GrayF32, dst_from_src: &Affine, dst: &mut GrayF32, roi: Rect) {
    let (sw, sh) = src.dimensions();
    let dw = dst.width() as usize;
    let s = src.as_raw();
    let d: &mut [f32] = dst;
    const SCALE: f32 = 1.0 / (INTER_TAB * INTER_TAB) as f32;
    for_each_tap(dst_from_src, roi, |x, y, tap| {
        let o = y as usize * dw + x as usize;
        d[o] = match corners(&tap, sw, sh) {
            None => 0.0,
            Some(taps) => taps.iter().map(|&(index, weight)| index.map_or(0.0, |i| s[i] * weight as f32 * SCALE)).sum(),
        };
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_warp_copies() {
        let src = RgbImage::from_fn(7, 5, |x, y| image::Rgb([x as u8 * 30, y as u8 * 40, 7]));
        let mut dst = RgbImage::new(7, 5);
        warp_affine_rgb(&src, &Affine::IDENTITY, &mut dst, Rect::full(7, 5));
        assert_eq!(src, dst);
    }

    #[test]
    fn half_pixel_shift_averages_and_border_is_zero() {
        let src = GrayF32::from_fn(4, 1, |x, _| image::Luma([x as f32 * 10.0]));
        let mut dst = GrayF32::new(4, 1);
        // dst(x) = src(x + 0.5)
        warp_affine_gray(&src, &Affine([[1.0, 0.0, -0.5], [0.0, 1.0, 0.0]]), &mut dst, Rect::full(4, 1));
        let v: Vec<f32> = dst.pixels().map(|p| p.0[0]).collect();
        // The last pixel blends 30 with the zero border; row y=0 blends with nothing below.
        assert_eq!(v, vec![5.0, 15.0, 25.0, 15.0]);
    }
}
