//! Matching the warped source's colour to the target's skin: per-channel mean and spread
//! (Reinhard's transfer) measured over the face region of both.

use image::RgbImage;

use crate::imaging::{GrayF32, Rect};

/// Per-channel mean and standard deviation over covered pixels.
fn stats(picture: &RgbImage, coverage: &GrayF32, roi: Rect) -> Option<([f32; 3], [f32; 3])> {
    let (mut sum, mut sq, mut n) = ([0f64; 3], [0f64; 3], 0f64);
    let w = picture.width() as usize;
    let (raw, cov) = (picture.as_raw(), coverage.as_raw());
    for y in roi.y0..roi.y1 {
        for x in roi.x0..roi.x1 {
            let i = y as usize * w + x as usize;
            if cov[i] < 0.5 {
                continue;
            }
            n += 1.0;
            for c in 0..3 {
                let v = f64::from(raw[3 * i + c]);
                sum[c] += v;
                sq[c] += v * v;
            }
        }
    }
    if n < 16.0 {
        return None;
    }
    let mean = sum.map(|s| s / n);
    let std = [0, 1, 2].map(|c| (sq[c] / n - mean[c] * mean[c]).max(0.0).sqrt() as f32);
    Some((mean.map(|m| m as f32), std))
}

/// Shifts and scales the covered pixels of `warped` so their colour statistics match those of
/// `frame` over the same pixels. The spread ratio is bounded so a dark or flat target cannot
/// blow the source's contrast up or crush it.
pub fn match_colour(warped: &mut RgbImage, frame: &RgbImage, coverage: &GrayF32, roi: Rect) {
    let (Some((ms, ss)), Some((mt, st))) = (stats(warped, coverage, roi), stats(frame, coverage, roi)) else {
        return;
    };
    let gain = [0, 1, 2].map(|c| if ss[c] > 1.0 { (st[c] / ss[c]).clamp(0.6, 1.6) } else { 1.0 });
    let w = warped.width() as usize;
    let cov = coverage.as_raw();
    let raw: &mut [u8] = warped;
    for y in roi.y0..roi.y1 {
        for x in roi.x0..roi.x1 {
            let i = y as usize * w + x as usize;
            if cov[i] < 0.5 {
                continue;
            }
            for c in 0..3 {
                let v = (f32::from(raw[3 * i + c]) - ms[c]) * gain[c] + mt[c];
                raw[3 * i + c] = v.round().clamp(0.0, 255.0) as u8;
            }
        }
    }
}
