//! Pictures to model inputs: planar RGB floats, `(value − mean) × scale`, as
//! `cv2.dnn.blobFromImage(img, scale, size, (mean,)*3, swapRB=True)` makes them.

use image::RgbImage;

/// How a model wants its pixels: `(value − mean) × scale`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Normalization {
    pub mean: f32,
    pub scale: f32,
}

impl Normalization {
    /// `(x − mean) / std`.
    pub fn mean_std(mean: f32, std: f32) -> Self {
        Self { mean, scale: 1.0 / std }
    }

    #[inline]
    pub fn apply(&self, value: u8) -> f32 {
        (f32::from(value) - self.mean) * self.scale
    }
}

/// Writes `picture` into `out` as a 1×3×H×W tensor.
///
/// # Panics
/// When `out` does not hold exactly 3×H×W values: a caller bug, not an input error.
pub fn nchw_from_rgb(picture: &RgbImage, norm: Normalization, out: &mut [f32]) {
    let plane = (picture.width() * picture.height()) as usize;
    assert_eq!(out.len(), 3 * plane, "tensor buffer does not fit the picture");
    let (r, rest) = out.split_at_mut(plane);
    let (g, b) = rest.split_at_mut(plane);
    for (i, px) in picture.as_raw().chunks_exact(3).enumerate() {
        r[i] = norm.apply(px[0]);
        g[i] = norm.apply(px[1]);
        b[i] = norm.apply(px[2]);
    }
}
