//! Letterboxing a frame into a detector input: scaled to fit keeping its aspect ratio,
//! zero-padded right and bottom, normalised, planar — in one pass into the tensor buffer.
//!
//! The resize is OpenCV's `INTER_LINEAR` for 8-bit pictures (11-bit fixed-point weights, no
//! antialiasing), which is what insightface's SCRFD runs; a general-purpose resizer (e.g.
//! fast_image_resize, which antialiases when shrinking) gives the detector different pixels.
//! The coefficient tables are cached, so a stream of same-sized frames allocates nothing.

use image::RgbImage;

use super::{resize::AxisTable, Normalization};

/// Where the picture landed in the letterboxed input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Letterbox {
    /// Input pixels per picture pixel.
    pub scale: f32,
    pub width: u32,
    pub height: u32,
}

/// Letterboxes frames into a detector's input tensor, reusing its tables and row buffers.
#[derive(Debug, Default, Clone)]
pub struct LetterboxResizer {
    key: (u32, u32, u32, u32),
    columns: AxisTable,
    rows: AxisTable,
    row_above: Vec<i32>,
    row_below: Vec<i32>,
}

impl LetterboxResizer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Fits `picture` into an `input_w`×`input_h` 1×3×H×W tensor written to `out`.
    ///
    /// # Panics
    /// When `out` does not hold 3×`input_w`×`input_h` values (a caller bug).
    pub fn run(
        &mut self,
        picture: &RgbImage,
        input_w: u32,
        input_h: u32,
        norm: Normalization,
        out: &mut [f32],
    ) -> Letterbox {
        let (sw, sh) = picture.dimensions();
        let plane = (input_w * input_h) as usize;
        assert_eq!(out.len(), 3 * plane, "tensor buffer does not fit the detector input");
        // insightface's arithmetic, including its truncations.
        let picture_ratio = f64::from(sh) / f64::from(sw);
        let input_ratio = f64::from(input_h) / f64::from(input_w);
        let (nw, nh) = if picture_ratio > input_ratio {
            ((f64::from(input_h) / picture_ratio) as u32, input_h)
        } else {
            (input_w, (f64::from(input_w) * picture_ratio) as u32)
        };
        let (nw, nh) = (nw.max(1), nh.max(1));
        let letterbox = Letterbox { scale: (f64::from(nh) / f64::from(sh)) as f32, width: nw, height: nh };

        if self.key != (sw, sh, nw, nh) {
            self.columns.build(sw, nw);
            self.rows.build(sh, nh);
            self.row_above.resize(3 * nw as usize, 0);
            self.row_below.resize(3 * nw as usize, 0);
            self.key = (sw, sh, nw, nh);
        }
        // Normalising through a table: one lookup per value instead of a subtract and a multiply.
        let table: [f32; 256] = std::array::from_fn(|v| norm.apply(v as u8));
        let (iw, nw_us, nh_us) = (input_w as usize, nw as usize, nh as usize);
        // Only the padding needs the padding value; the picture area is overwritten below.
        for c in 0..3 {
            let channel = &mut out[c * plane..(c + 1) * plane];
            for row in channel.chunks_exact_mut(iw).take(nh_us) {
                row[nw_us..].fill(table[0]);
            }
            channel[nh_us * iw..].fill(table[0]);
        }
        let src = picture.as_raw();
        let stride = 3 * sw as usize;
        if (nw, nh) == (sw, sh) {
            // Same size (a 640-wide frame into a 640 input): no resampling at all.
            for (y, line) in src.chunks_exact(stride).enumerate() {
                for (x, px) in line.chunks_exact(3).enumerate() {
                    for c in 0..3 {
                        out[c * plane + y * iw + x] = table[usize::from(px[c])];
                    }
                }
            }
            return letterbox;
        }
        let last_column = sw as usize - 1;
        let columns = &self.columns;
        let horizontal = |row: usize, buffer: &mut [i32]| {
            let line = &src[row * stride..(row + 1) * stride];
            for (dx, &sx) in columns.offset.iter().enumerate() {
                let [a0, a1] = columns.fixed(dx);
                let sx1 = (sx + 1).min(last_column);
                for c in 0..3 {
                    buffer[3 * dx + c] = i32::from(line[3 * sx + c]) * a0 + i32::from(line[3 * sx1 + c]) * a1;
                }
            }
        };
        // Consecutive output rows mostly share source rows: keep the two last resampled.
        let mut cached: (Option<usize>, Option<usize>) = (None, None);
        for (dy, &sy) in self.rows.offset.iter().enumerate() {
            let [b0, b1] = self.rows.fixed(dy);
            let below = (sy + 1).min(sh as usize - 1);
            if cached.0 != Some(sy) {
                if cached.1 == Some(sy) {
                    std::mem::swap(&mut self.row_above, &mut self.row_below);
                    cached = (Some(sy), None);
                } else {
                    horizontal(sy, &mut self.row_above);
                    cached.0 = Some(sy);
                }
            }
            if cached.1 != Some(below) {
                horizontal(below, &mut self.row_below);
                cached.1 = Some(below);
            }
            let base = dy * iw;
            for dx in 0..nw_us {
                for c in 0..3 {
                    let v = (b0 * self.row_above[3 * dx + c] + b1 * self.row_below[3 * dx + c] + (1 << 21)) >> 22;
                    out[c * plane + base + dx] = table[v.clamp(0, 255) as usize];
                }
            }
        }
        letterbox
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_picture_is_scaled_to_width_and_padded_below() {
        let picture = RgbImage::from_pixel(200, 100, image::Rgb([255, 128, 0]));
        let norm = Normalization { mean: 0.0, scale: 1.0 };
        let mut out = vec![0.0; 3 * 64 * 64];
        let lb = LetterboxResizer::new().run(&picture, 64, 64, norm, &mut out);
        assert_eq!((lb.width, lb.height), (64, 32));
        assert!((lb.scale - 0.32).abs() < 1e-6);
        assert_eq!(out[0], 255.0); // R plane, inside
        assert_eq!(out[64 * 64 + 5], 128.0); // G plane, inside
        assert_eq!(out[40 * 64 + 3], 0.0); // R plane, padding
    }
}
