//! Blending an overlay into a frame under a mask, as numpy does it in insightface:
//! `m·overlay + (1 − m)·frame` in f32, truncated to 8 bits.

use image::RgbImage;

use super::{GrayF32, Rect};

/// Blends `overlay` into `frame` over `roi`, with weight `mask / mask_full` per pixel.
pub fn blend_masked(frame: &mut RgbImage, overlay: &RgbImage, mask: &GrayF32, mask_full: f32, roi: Rect) {
    let stride = frame.width() as usize;
    let (mask, overlay) = (mask.as_raw(), overlay.as_raw());
    let out: &mut [u8] = frame;
    for y in roi.y0..roi.y1 {
        for x in roi.x0..roi.x1 {
            let i = y as usize * stride + x as usize;
            let m = mask[i] / mask_full;
            if m <= 0.0 {
                continue;
            }
            for c in 0..3 {
                let v = m * f32::from(overlay[3 * i + c]) + (1.0 - m) * f32::from(out[3 * i + c]);
                out[3 * i + c] = v.clamp(0.0, 255.0) as u8;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_mask_averages_and_zero_mask_keeps_the_frame() {
        let mut frame = RgbImage::from_pixel(2, 1, image::Rgb([100, 100, 100]));
        let overlay = RgbImage::from_pixel(2, 1, image::Rgb([200, 0, 51]));
        let mask = GrayF32::from_raw(2, 1, vec![127.5, 0.0]).unwrap();
        blend_masked(&mut frame, &overlay, &mask, 255.0, Rect::full(2, 1));
        assert_eq!(frame.get_pixel(0, 0).0, [150, 50, 75]);
        assert_eq!(frame.get_pixel(1, 0).0, [100, 100, 100]);
    }
}
