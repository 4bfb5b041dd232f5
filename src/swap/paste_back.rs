//! insightface's paste-back: the swapped crop warped back into the frame under a mask that is
//! the crop's footprint, eroded by a tenth of its size and blurred by a twentieth.
//!
//! The arithmetic is insightface's, step by step, but the work is limited to the region the crop
//! lands on (plus a margin as wide as the filters), and all buffers are kept between frames.

use image::RgbImage;

use crate::imaging::{
    blend_masked, bounds, erode_square, gaussian_blur, gaussian_kernel, warp_affine_gray, warp_affine_rgb, Affine,
    GrayF32, Rect,
};

/// Paste-back with its frame-sized buffers, reused while the frame size stays the same.
#[derive(Debug, Default)]
pub struct PasteBack {
    warped: RgbImage,
    mask: GrayF32,
    white: GrayF32,
    scratch: Vec<f32>,
    kernel: Vec<f32>,
}

impl PasteBack {
    pub fn new() -> Self {
        Self::default()
    }

    /// Blends `face` (a crop made with `crop_from_frame`) back into `frame`.
    pub fn paste(&mut self, frame: &mut RgbImage, face: &RgbImage, crop_from_frame: &Affine) {
        let (fw, fh) = frame.dimensions();
        if self.warped.dimensions() != (fw, fh) {
            self.warped = RgbImage::new(fw, fh);
            self.mask = GrayF32::new(fw, fh);
        }
        if self.white.dimensions() != face.dimensions() {
            self.white = GrayF32::from_pixel(face.width(), face.height(), image::Luma([255.0]));
        }
        let frame_from_crop = crop_from_frame.inverse();

        // The crop's corners in the frame bound everything the warp can touch.
        let (cw, ch) = (face.width() as f32, face.height() as f32);
        let corners = [[0.0, 0.0], [cw, 0.0], [0.0, ch], [cw, ch]].map(|p| frame_from_crop.apply(p));
        let (lo, hi) = bounds(&corners);
        // A margin wider than the largest erosion and blur the footprint can call for.
        let reach = ((hi[0] - lo[0]).max(0.0) * (hi[1] - lo[1]).max(0.0)).sqrt();
        let margin = (reach / 10.0).max(10.0) + 2.0 * (reach / 20.0).max(5.0) + 4.0;
        let roi = Rect::around(lo, hi, margin, fw, fh);
        if roi.is_empty() {
            return;
        }

        warp_affine_rgb(face, &frame_from_crop, &mut self.warped, roi);
        warp_affine_gray(&self.white, &frame_from_crop, &mut self.mask, roi);

        // Pixels more than 20/255 covered count as inside; the footprint's size sets the filters.
        let stride = fw as usize;
        let (mut min_x, mut min_y, mut max_x, mut max_y) = (u32::MAX, u32::MAX, 0, 0);
        for y in roi.y0..roi.y1 {
            for x in roi.x0..roi.x1 {
                let v = &mut self.mask.as_mut()[y as usize * stride + x as usize];
                if *v > 20.0 {
                    *v = 255.0;
                    (min_x, min_y, max_x, max_y) = (min_x.min(x), min_y.min(y), max_x.max(x), max_y.max(y));
                }
            }
        }
        if min_x > max_x {
            return;
        }
        let size = (f64::from((max_y - min_y) * (max_x - min_x))).sqrt() as usize;
        erode_square(&mut self.mask, roi, (size / 10).max(10), &mut self.scratch);
        let blur = (size / 20).max(5);
        if self.kernel.len() != 2 * blur + 1 {
            self.kernel = gaussian_kernel(2 * blur + 1, 0.0);
        }
        gaussian_blur(&mut self.mask, roi, &self.kernel, &mut self.scratch);

        blend_masked(frame, &self.warped, &self.mask, 255.0, roi);
    }
}
