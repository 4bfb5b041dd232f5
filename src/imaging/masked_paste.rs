//! FaceFusion's paste-back (`face_helper.paste_back`) followed by its frame blend
//! (`vision.blend_frame`): the processed crop and its mask warped back over the area the crop
//! covers (the crop with a replicated border, the mask with zeros), mixed as
//! `frame·(1 − m) + crop·m` truncated to 8 bits, then that result laid over the frame at an
//! opacity with OpenCV's `addWeighted` rounding. Buffers are kept between frames.

use image::RgbImage;

use super::{warp_affine_gray, warp_affine_rgb_replicate, Affine, GrayF32, Rect};

/// The paste with its buffers, sized to the paste area and reused while it fits.
#[derive(Debug, Default)]
pub struct MaskedPaste {
    warped: RgbImage,
    mask: GrayF32,
}

impl MaskedPaste {
    pub fn new() -> Self {
        Self::default()
    }

    /// Lays `crop` (made from `frame` by `crop_from_frame`) back into `frame` under `mask`
    /// (the crop's size, 0…1), at `opacity` (0…1: FaceFusion's blend ÷ 100; 1 is the paste).
    pub fn paste(
        &mut self,
        frame: &mut RgbImage,
        crop: &RgbImage,
        mask: &GrayF32,
        crop_from_frame: &Affine,
        opacity: f64,
    ) {
        let (fw, fh) = frame.dimensions();
        let frame_from_crop = crop_from_frame.inverse();
        let (cw, ch) = (f64::from(crop.width()), f64::from(crop.height()));
        // The area the crop's corners land on, floored and ceiled, clipped to the frame.
        let corners = [[0.0, 0.0], [cw, 0.0], [cw, ch], [0.0, ch]].map(|[x, y]| {
            let m = frame_from_crop.0;
            [m[0][0] * x + m[0][1] * y + m[0][2], m[1][0] * x + m[1][1] * y + m[1][2]]
        });
        let clip = |v: f64, hi: u32| v.clamp(0.0, f64::from(hi)) as u32;
        let x1 = clip(corners.iter().map(|p| p[0]).fold(f64::MAX, f64::min).floor(), fw);
        let y1 = clip(corners.iter().map(|p| p[1]).fold(f64::MAX, f64::min).floor(), fh);
        let x2 = clip(corners.iter().map(|p| p[0]).fold(f64::MIN, f64::max).ceil(), fw);
        let y2 = clip(corners.iter().map(|p| p[1]).fold(f64::MIN, f64::max).ceil(), fh);
        if x2 <= x1 || y2 <= y1 {
            return;
        }
        let (pw, ph) = (x2 - x1, y2 - y1);
        // FaceFusion's paste matrix: crop → paste area, the area's origin moved to (0, 0).
        let mut paste_from_crop = frame_from_crop;
        paste_from_crop.0[0][2] -= f64::from(x1);
        paste_from_crop.0[1][2] -= f64::from(y1);
        if self.warped.dimensions() != (pw, ph) {
            self.warped = RgbImage::new(pw, ph);
            self.mask = GrayF32::new(pw, ph);
        }
        let area = Rect::full(pw, ph);
        warp_affine_rgb_replicate(crop, &paste_from_crop, &mut self.warped, area);
        warp_affine_gray(mask, &paste_from_crop, &mut self.mask, area);

        // addWeighted's weights, in double as FaceFusion computes them, then single as OpenCV
        // applies them to 8-bit pictures.
        let opacity = opacity.clamp(0.0, 1.0);
        let (alpha, beta) = ((1.0 - opacity) as f32, opacity as f32);
        let stride = fw as usize;
        let out: &mut [u8] = frame;
        let (warped, weights) = (self.warped.as_raw(), self.mask.as_raw());
        for y in 0..ph as usize {
            for x in 0..pw as usize {
                let m = weights[y * pw as usize + x].clamp(0.0, 1.0);
                let o = 3 * ((y1 as usize + y) * stride + x1 as usize + x);
                let w = 3 * (y * pw as usize + x);
                for c in 0..3 {
                    let t = f32::from(out[o + c]);
                    let pasted = (t * (1.0 - m) + f32::from(warped[w + c]) * m) as u8;
                    out[o + c] = (t * alpha + f32::from(pasted) * beta).round_ties_even().clamp(0.0, 255.0) as u8;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_mask_at_full_opacity_puts_the_crop_back_and_nothing_outside_changes() {
        let mut frame = RgbImage::from_pixel(40, 30, image::Rgb([10, 20, 30]));
        let crop = RgbImage::from_pixel(8, 8, image::Rgb([200, 100, 50]));
        let mask = GrayF32::from_pixel(8, 8, image::Luma([1.0]));
        // The crop is the frame's 8×8 square at (10, 5).
        let crop_from_frame = Affine([[1.0, 0.0, -10.0], [0.0, 1.0, -5.0]]);
        MaskedPaste::new().paste(&mut frame, &crop, &mask, &crop_from_frame, 1.0);
        assert_eq!(frame.get_pixel(12, 8).0, [200, 100, 50]);
        assert_eq!(frame.get_pixel(2, 2).0, [10, 20, 30]);
        assert_eq!(frame.get_pixel(30, 20).0, [10, 20, 30]);
        // Half opacity: halfway, rounded.
        let mut again = RgbImage::from_pixel(40, 30, image::Rgb([10, 20, 30]));
        MaskedPaste::new().paste(&mut again, &crop, &mask, &crop_from_frame, 0.5);
        assert_eq!(again.get_pixel(12, 8).0, [105, 60, 40]);
    }
}
