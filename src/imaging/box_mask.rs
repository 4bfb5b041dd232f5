//! FaceFusion's box mask (`face_masker.create_box_mask`): a crop-sized mask of ones with a zero
//! border as wide as half the blur, then blurred by a Gaussian, so a pasted crop fades out
//! before its edge.

use super::{gaussian_blur, gaussian_kernel, GrayF32, Rect};

/// The box mask of a `size`×`size` crop for `blur` (FaceFusion's `face_mask_blur`, 0…1), values
/// 0…1, with padding (top, right, bottom, left) in percent of the crop.
pub fn box_mask(size: u32, blur: f32, padding: [u8; 4]) -> GrayF32 {
    let n = size as usize;
    // int(size · 0.5 · blur), as Python truncates it.
    let blur_amount = (f64::from(size) * 0.5 * f64::from(blur)) as usize;
    let blur_area = (blur_amount / 2).max(1);
    let pad = |percent: u8| (n * usize::from(percent) / 100).max(blur_area).min(n);
    let (top, right, bottom, left) = (pad(padding[0]), pad(padding[1]), pad(padding[2]), pad(padding[3]));
    let mut mask = GrayF32::from_fn(size, size, |x, y| {
        let (x, y) = (x as usize, y as usize);
        let inside = y >= top && y + bottom < n && x >= left && x + right < n;
        image::Luma([if inside { 1.0 } else { 0.0 }])
    });
    if blur_amount > 0 {
        // OpenCV's kernel size for a float image and a given sigma: round(sigma·4·2 + 1) | 1.
        let sigma = blur_amount as f64 * 0.25;
        let ksize = ((sigma * 8.0 + 1.0).round() as usize) | 1;
        let kernel = gaussian_kernel(ksize, sigma);
        let mut scratch = Vec::new();
        gaussian_blur(&mut mask, Rect::full(size, size), &kernel, &mut scratch);
    }
    mask
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_centre_is_kept_and_the_edge_is_gone() {
        let mask = box_mask(512, 0.3, [0; 4]);
        assert!((mask.get_pixel(256, 256).0[0] - 1.0).abs() < 1e-4);
        assert!(mask.get_pixel(0, 256).0[0] < 0.05);
        assert!(mask.get_pixel(256, 511).0[0] < 0.05);
        // No blur: a hard one-pixel border.
        let hard = box_mask(64, 0.0, [0; 4]);
        assert_eq!(hard.get_pixel(0, 10).0[0], 0.0);
        assert_eq!(hard.get_pixel(1, 10).0[0], 1.0);
    }
}
