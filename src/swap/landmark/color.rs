//! Matching the warped source's colour to the target's skin: per-channel mean and spread
//! (Reinhard's transfer) measured over the face region of both.

use image::RgbImage;

use crate::imaging::{box_blur3, GrayF32, Rect};

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

/// Shifts and scales the covered pixels of `warped` so their colour statistics (over the pixels
/// at least half covered) match those of `frame` over the same pixels: the mean fully, the
/// spread part way (the spread ratio raised to `contrast_follow`). The spread ratio is bounded so
/// a dark or flat target cannot blow the source's contrast up or crush it.
pub fn match_colour(warped: &mut RgbImage, frame: &RgbImage, coverage: &GrayF32, roi: Rect, contrast_follow: f32) {
    let (Some((ms, ss)), Some((mt, st))) = (stats(warped, coverage, roi), stats(frame, coverage, roi)) else {
        return;
    };
    let gain = [0, 1, 2].map(|c| if ss[c] > 1.0 { (st[c] / ss[c]).clamp(0.6, 1.6).powf(contrast_follow) } else { 1.0 });
    let w = warped.width() as usize;
    let cov = coverage.as_raw();
    let raw: &mut [u8] = warped;
    for y in roi.y0..roi.y1 {
        for x in roi.x0..roi.x1 {
            let i = y as usize * w + x as usize;
            // Every warped pixel, not only those the statistics came from: a pixel left out
            // would show as a speck or a step.
            if cov[i] <= 0.0 {
                continue;
            }
            for c in 0..3 {
                let v = (f32::from(raw[3 * i + c]) - ms[c]) * gain[c] + mt[c];
                raw[3 * i + c] = v.round().clamp(0.0, 255.0) as u8;
            }
        }
    }
}

/// Planes reused by [`match_light`] between frames (at the light's own, lower resolution).
#[derive(Debug, Default)]
pub struct LightPlanes {
    /// Per cell: weight, then weighted target and source colour (7 values a cell).
    cells: Vec<f32>,
    blurred: [GrayF32; 7],
    scratch: Vec<f32>,
}

/// Gives the covered pixels of `warped` the target's own light, region by region: the
/// low-frequency difference (a blur of radius `radius`, weighted by `coverage`) between `frame`
/// and `warped` is added to `warped`. The source's detail stays; its shading and the target's
/// light gradients (a bright forehead, a shadowed cheek) become the target's, so no edge of the
/// mask can show as a step in brightness. Light varies slowly, so it is measured on cells of a
/// quarter of the radius and interpolated back: a fraction of the full-resolution cost.
pub fn match_light(
    warped: &mut RgbImage,
    frame: &RgbImage,
    coverage: &GrayF32,
    roi: Rect,
    radius: usize,
    planes: &mut LightPlanes,
) {
    if roi.is_empty() {
        return;
    }
    let cell = (radius / 4).max(1);
    let cw = (roi.width() as usize).div_ceil(cell).max(1);
    let ch = (roi.height() as usize).div_ceil(cell).max(1);
    planes.cells.clear();
    planes.cells.resize(cw * ch * 7, 0.0);
    let stride = frame.width() as usize;
    let (fr, wr, cov) = (frame.as_raw(), warped.as_raw(), coverage.as_raw());
    for y in roi.y0..roi.y1 {
        let cy = (y - roi.y0) as usize / cell;
        for x in roi.x0..roi.x1 {
            let i = y as usize * stride + x as usize;
            let m = cov[i].clamp(0.0, 1.0);
            if m <= 0.0 {
                continue;
            }
            let base = 7 * (cy * cw + (x - roi.x0) as usize / cell);
            let cellv = &mut planes.cells[base..base + 7];
            cellv[0] += m;
            for c in 0..3 {
                cellv[1 + c] += m * f32::from(fr[3 * i + c]);
                cellv[4 + c] += m * f32::from(wr[3 * i + c]);
            }
        }
    }
    let (gw, gh) = (cw as u32, ch as u32);
    for (k, plane) in planes.blurred.iter_mut().enumerate() {
        if plane.dimensions() != (gw, gh) {
            *plane = GrayF32::new(gw, gh);
        }
        for (v, cellv) in plane.as_mut().iter_mut().zip(planes.cells.chunks_exact(7)) {
            *v = cellv[k];
        }
        box_blur3(plane, Rect::full(gw, gh), (radius / cell).max(1), &mut planes.scratch);
    }
    // Bilinear from cell centres.
    let sample = |plane: &GrayF32, fx: f32, fy: f32| -> f32 {
        let x = (fx - 0.5).clamp(0.0, (gw - 1) as f32);
        let y = (fy - 0.5).clamp(0.0, (gh - 1) as f32);
        let (x0, y0) = (x.floor() as u32, y.floor() as u32);
        let (x1, y1) = ((x0 + 1).min(gw - 1), (y0 + 1).min(gh - 1));
        let (tx, ty) = (x - x0 as f32, y - y0 as f32);
        let at = |xx: u32, yy: u32| plane.as_raw()[(yy * gw + xx) as usize];
        (at(x0, y0) * (1.0 - tx) + at(x1, y0) * tx) * (1.0 - ty) + (at(x0, y1) * (1.0 - tx) + at(x1, y1) * tx) * ty
    };
    let out: &mut [u8] = warped;
    let inv = 1.0 / cell as f32;
    for y in roi.y0..roi.y1 {
        let fy = (y - roi.y0) as f32 * inv + 0.5 * inv;
        for x in roi.x0..roi.x1 {
            let i = y as usize * stride + x as usize;
            if cov[i] <= 0.0 {
                continue;
            }
            let fx = (x - roi.x0) as f32 * inv + 0.5 * inv;
            let weight = sample(&planes.blurred[0], fx, fy);
            if weight < 1e-3 {
                continue;
            }
            for c in 0..3 {
                let shift = (sample(&planes.blurred[1 + c], fx, fy) - sample(&planes.blurred[4 + c], fx, fy)) / weight;
                out[3 * i + c] = (f32::from(out[3 * i + c]) + shift).round().clamp(0.0, 255.0) as u8;
            }
        }
    }
}
