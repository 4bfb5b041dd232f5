//! Mask filters with OpenCV's semantics: `cv2.GaussianBlur(…, sigma=0)` (reflect-101 border) and
//! `cv2.erode` with a square kernel (the outside never erodes). Both run on a region of the
//! mask only, which is exact as long as the region has a zero margin at least a kernel wide.

use super::{GrayF32, Rect};

/// OpenCV's Gaussian kernel of odd size `ksize`; `sigma <= 0` derives it from the size.
pub fn gaussian_kernel(ksize: usize, sigma: f64) -> Vec<f32> {
    let sigma = if sigma > 0.0 { sigma } else { ((ksize as f64 - 1.0) * 0.5 - 1.0) * 0.3 + 0.8 };
    let scale = -0.5 / (sigma * sigma);
    let centre = (ksize as f64 - 1.0) * 0.5;
    let raw: Vec<f64> = (0..ksize).map(|i| ((i as f64 - centre).powi(2) * scale).exp()).collect();
    let sum: f64 = raw.iter().sum();
    raw.iter().map(|v| (v / sum) as f32).collect()
}

#[inline]
fn reflect101(i: isize, n: isize) -> usize {
    if n == 1 {
        return 0;
    }
    let mut i = i;
    // One reflection is enough while the kernel is smaller than the region; loop for safety.
    while i < 0 || i >= n {
        i = if i < 0 { -i } else { 2 * n - 2 - i };
    }
    i as usize
}

/// Blurs `roi` of `plane` in place with `kernel` along x, then y; `scratch` is reused.
pub fn gaussian_blur(plane: &mut GrayF32, roi: Rect, kernel: &[f32], scratch: &mut Vec<f32>) {
    if roi.is_empty() {
        return;
    }
    let (w, h) = (roi.width() as usize, roi.height() as usize);
    let stride = plane.width() as usize;
    let anchor = (kernel.len() / 2) as isize;
    scratch.resize(w * h, 0.0);
    let data: &mut [f32] = plane;
    let at = |x: usize, y: usize| (roi.y0 as usize + y) * stride + roi.x0 as usize + x;
    for y in 0..h {
        for x in 0..w {
            let mut acc = 0.0f32;
            for (k, &kv) in kernel.iter().enumerate() {
                acc += kv * data[at(reflect101(x as isize + k as isize - anchor, w as isize), y)];
            }
            scratch[y * w + x] = acc;
        }
    }
    for y in 0..h {
        for x in 0..w {
            let mut acc = 0.0f32;
            for (k, &kv) in kernel.iter().enumerate() {
                acc += kv * scratch[reflect101(y as isize + k as isize - anchor, h as isize) * w + x];
            }
            data[at(x, y)] = acc;
        }
    }
}

/// Erodes `roi` of `plane` in place with a `k`×`k` square (anchor at k/2, as OpenCV's default).
pub fn erode_square(plane: &mut GrayF32, roi: Rect, k: usize, scratch: &mut Vec<f32>) {
    if roi.is_empty() || k <= 1 {
        return;
    }
    let (w, h) = (roi.width() as usize, roi.height() as usize);
    let stride = plane.width() as usize;
    let before = k / 2;
    let after = k - 1 - before;
    scratch.resize(w * h, 0.0);
    let data: &mut [f32] = plane;
    let at = |x: usize, y: usize| (roi.y0 as usize + y) * stride + roi.x0 as usize + x;
    for y in 0..h {
        for x in 0..w {
            let lo = x.saturating_sub(before);
            let hi = (x + after).min(w - 1);
            scratch[y * w + x] = (lo..=hi).map(|xx| data[at(xx, y)]).fold(f32::INFINITY, f32::min);
        }
    }
    for y in 0..h {
        let lo = y.saturating_sub(before);
        let hi = (y + after).min(h - 1);
        for x in 0..w {
            data[at(x, y)] = (lo..=hi).map(|yy| scratch[yy * w + x]).fold(f32::INFINITY, f32::min);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_matches_opencv() {
        // cv2.getGaussianKernel(11, 0).ravel()
        let k = gaussian_kernel(11, 0.0);
        let expected = [
            0.00881223, 0.02714358, 0.06511406, 0.12164907, 0.17699835, 0.20056541, 0.17699835, 0.12164907, 0.06511406,
            0.02714358, 0.00881223,
        ];
        for (a, b) in k.iter().zip(expected) {
            assert!((a - b).abs() < 1e-7, "{k:?}");
        }
    }

    #[test]
    fn erode_shrinks_a_square_by_half_the_kernel() {
        let mut m = GrayF32::from_fn(20, 20, |x, y| {
            image::Luma([if (5..15).contains(&x) && (5..15).contains(&y) { 1.0 } else { 0.0 }])
        });
        erode_square(&mut m, Rect::full(20, 20), 4, &mut Vec::new());
        // Window [x-2, x+1]: x=7 sees 5..8 (all ones), x=6 sees 4 (zero); right side x=13 sees 11..14.
        assert_eq!(m.get_pixel(7, 7).0[0], 1.0);
        assert_eq!(m.get_pixel(6, 7).0[0], 0.0);
        assert_eq!(m.get_pixel(13, 13).0[0], 1.0);
        assert_eq!(m.get_pixel(14, 13).0[0], 0.0);
    }

    #[test]
    fn blur_keeps_a_constant_plane() {
        let mut m = GrayF32::from_pixel(9, 9, image::Luma([3.0]));
        gaussian_blur(&mut m, Rect::full(9, 9), &gaussian_kernel(5, 0.0), &mut Vec::new());
        assert!(m.pixels().all(|p| (p.0[0] - 3.0).abs() < 1e-5));
    }
}

/// Erodes a 0/1 mask over `roi` in place with a `k`×`k` square, in constant time per pixel (a
/// running count of zeros instead of a minimum over the window); outside `roi` counts as 1.
pub fn erode_binary(plane: &mut GrayF32, roi: Rect, k: usize, scratch: &mut Vec<f32>) {
    if roi.is_empty() || k <= 1 {
        return;
    }
    let (w, h) = (roi.width() as usize, roi.height() as usize);
    let stride = plane.width() as usize;
    let before = k / 2;
    let after = k - 1 - before;
    scratch.resize(w * h, 0.0);
    let data: &mut [f32] = plane;
    let at = |x: usize, y: usize| (roi.y0 as usize + y) * stride + roi.x0 as usize + x;
    // Along x: a pixel stays 1 when no zero lies in [x − before, x + after].
    for y in 0..h {
        let zero = |x: usize, data: &[f32]| usize::from(data[at(x, y)] < 0.5);
        let mut zeros: usize = (0..=after.min(w - 1)).map(|x| zero(x, data)).sum();
        for x in 0..w {
            scratch[y * w + x] = if zeros == 0 { 1.0 } else { 0.0 };
            if x + after + 1 < w {
                zeros += zero(x + after + 1, data);
            }
            if x >= before {
                zeros -= zero(x - before, data);
            }
        }
    }
    for x in 0..w {
        let zero = |y: usize| usize::from(scratch[y * w + x] < 0.5);
        let mut zeros: usize = (0..=after.min(h - 1)).map(zero).sum();
        for y in 0..h {
            data[at(x, y)] = if zeros == 0 { 1.0 } else { 0.0 };
            if y + after + 1 < h {
                zeros += zero(y + after + 1);
            }
            if y >= before {
                zeros -= zero(y - before);
            }
        }
    }
}

/// Blurs `roi` of `plane` in place with three box filters of radius `radius` along x then y —
/// close to a Gaussian of sigma √(radius·(radius+1)), in constant time per pixel whatever the
/// radius. Edges repeat the border pixel. The vertical passes keep a running sum per column and
/// walk whole rows, so memory is read in order.
pub fn box_blur3(plane: &mut GrayF32, roi: Rect, radius: usize, scratch: &mut Vec<f32>) {
    if roi.is_empty() || radius == 0 {
        return;
    }
    let (w, h) = (roi.width() as usize, roi.height() as usize);
    let stride = plane.width() as usize;
    let data: &mut [f32] = plane;
    let norm = 1.0 / (2 * radius + 1) as f32;
    let r = radius as isize;
    scratch.resize(2 * w * h + w.max(h), 0.0);
    let (region, rest) = scratch.split_at_mut(w * h);
    let (other, line) = rest.split_at_mut(w * h);
    for y in 0..h {
        let row = (roi.y0 as usize + y) * stride + roi.x0 as usize;
        region[y * w..(y + 1) * w].copy_from_slice(&data[row..row + w]);
    }
    for row in region.chunks_exact_mut(w) {
        for _ in 0..3 {
            line[..w].copy_from_slice(row);
            let get = |i: isize| line[i.clamp(0, w as isize - 1) as usize];
            let mut sum: f32 = (-r..=r).map(get).sum();
            for (i, out) in row.iter_mut().enumerate() {
                *out = sum * norm;
                sum += get(i as isize + r + 1) - get(i as isize - r);
            }
        }
    }
    let (mut from, mut to) = (region, other);
    let sums = &mut line[..w];
    for _ in 0..3 {
        let clamp = |y: isize| y.clamp(0, h as isize - 1) as usize;
        sums.fill(0.0);
        for y in -r..=r {
            let src = &from[clamp(y) * w..clamp(y) * w + w];
            sums.iter_mut().zip(src).for_each(|(s, v)| *s += v);
        }
        for y in 0..h as isize {
            let out = &mut to[y as usize * w..(y as usize + 1) * w];
            out.iter_mut().zip(sums.iter()).for_each(|(o, s)| *o = s * norm);
            let (add, sub) = (clamp(y + r + 1), clamp(y - r));
            for x in 0..w {
                sums[x] += from[add * w + x] - from[sub * w + x];
            }
        }
        std::mem::swap(&mut from, &mut to);
    }
    for y in 0..h {
        let row = (roi.y0 as usize + y) * stride + roi.x0 as usize;
        data[row..row + w].copy_from_slice(&from[y * w..(y + 1) * w]);
    }
}

#[cfg(test)]
mod fast_filter_tests {
    use super::*;

    fn square(size: u32, lo: u32, hi: u32) -> GrayF32 {
        GrayF32::from_fn(size, size, |x, y| {
            image::Luma([if (lo..hi).contains(&x) && (lo..hi).contains(&y) { 1.0 } else { 0.0 }])
        })
    }

    #[test]
    fn binary_erosion_matches_the_general_one() {
        for k in [2, 3, 4, 7] {
            let mut fast = square(24, 5, 19);
            let mut slow = fast.clone();
            erode_binary(&mut fast, Rect::full(24, 24), k, &mut Vec::new());
            erode_square(&mut slow, Rect::full(24, 24), k, &mut Vec::new());
            assert_eq!(fast, slow, "k = {k}");
        }
    }

    #[test]
    fn box_blur_keeps_mass_and_smooths_an_edge() {
        let mut m = square(40, 10, 30);
        let before: f32 = m.pixels().map(|p| p.0[0]).sum();
        box_blur3(&mut m, Rect::full(40, 40), 3, &mut Vec::new());
        let after: f32 = m.pixels().map(|p| p.0[0]).sum();
        assert!((before - after).abs() < 1e-2, "{before} vs {after}");
        // Three passes of radius 3 make a near-Gaussian of sigma √12: the edge at 9.5 spreads
        // over about ±9 pixels, half-way at the edge.
        let ramp: Vec<f32> = (0..20).map(|x| m.get_pixel(x, 20).0[0]).collect();
        assert!(ramp.windows(2).all(|w| w[0] <= w[1] + 1e-6), "{ramp:?}");
        assert!(ramp[0] < 1e-3 && ramp[19] > 0.999, "{ramp:?}");
        assert!((ramp[9] + ramp[10] - 1.0).abs() < 0.02, "{ramp:?}");
        assert!((ramp[5] - 0.097).abs() < 0.02, "Φ(−4.5/√12) ≈ 0.097: {ramp:?}");
    }
}
