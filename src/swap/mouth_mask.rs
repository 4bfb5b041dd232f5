//! The mouth mask: the target's own inner mouth (teeth, tongue, the lips' inside), taken from
//! its lip landmarks before the swap and laid back over the swapped face, feathered, so speech
//! looks like the speaker's. It works with any swapper: it only needs the target's landmarks.

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::{
    face::{regions, Face},
    imaging::{blend_masked, bounds, box_blur3, fill_polygon, GrayF32, Point, Rect},
};

/// How the mouth mask is shaped.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MouthMask {
    /// How far the mask reaches from the lips' inner edge towards their outer edge (0: the
    /// opening only; 1: the whole lips; the default takes in the inside half of the lips).
    pub size: f32,
    /// The soft edge, as a share of the mouth's width.
    pub feather: f32,
}

impl Default for MouthMask {
    fn default() -> Self {
        Self { size: 0.5, feather: 0.08 }
    }
}

impl MouthMask {
    /// Checks the values: a size from 0 to 1.5, a feather from 0 to 0.5.
    ///
    /// # Errors
    /// What is out of range, in words.
    pub fn checked(self) -> Result<Self, String> {
        if !(0.0..=1.5).contains(&self.size) {
            return Err(format!("mouth mask size {} is out of range: use 0 to 1.5", self.size));
        }
        if !(0.0..=0.5).contains(&self.feather) {
            return Err(format!("mouth mask feather {} is out of range: use 0 to 0.5", self.feather));
        }
        Ok(self)
    }
}

/// One thread's buffers for the mouth mask: the saved mouth and the mask.
#[derive(Debug, Default)]
pub struct MouthKeeper {
    saved: RgbImage,
    mask: GrayF32,
    scratch: Vec<f32>,
    region: Option<(Rect, Vec<Point>, usize)>,
}

/// The outline `reach` of the way from the lips' inner edge to their outer edge.
fn outline(points: &[Point], reach: f32) -> Vec<Point> {
    let inner = regions::polygon(points, &regions::INNER_MOUTH);
    let outer = regions::polygon(points, &regions::OUTER_MOUTH);
    inner.iter().zip(&outer).map(|(i, o)| [i[0] + reach * (o[0] - i[0]), i[1] + reach * (o[1] - i[1])]).collect()
}

impl MouthKeeper {
    /// Saves the mouth of `face` in `frame` (before the swap); nothing when the face has no
    /// landmarks.
    pub fn save(&mut self, frame: &RgbImage, face: &Face, shape: MouthMask) {
        self.region = None;
        let Some(points) = face.landmarks.as_deref().filter(|p| p.len() >= 106) else { return };
        let outline = outline(points, shape.size);
        let width = {
            let (a, b) = (points[52], points[61]);
            ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
        };
        let radius = ((width * shape.feather / 2.0).round() as usize).max(1);
        let (lo, hi) = bounds(&outline);
        let (fw, fh) = frame.dimensions();
        let roi = Rect::around(lo, hi, (4 * radius + 2) as f32, fw, fh);
        if roi.is_empty() {
            return;
        }
        if self.saved.dimensions() != (fw, fh) {
            self.saved = RgbImage::new(fw, fh);
            self.mask = GrayF32::new(fw, fh);
        }
        let stride = 3 * fw as usize;
        let span = |y: u32| y as usize * stride + 3 * roi.x0 as usize..y as usize * stride + 3 * roi.x1 as usize;
        for y in roi.y0..roi.y1 {
            let range = span(y);
            let saved: &mut [u8] = &mut self.saved;
            saved[range.clone()].copy_from_slice(&frame.as_raw()[range]);
        }
        self.region = Some((roi, outline, radius));
    }

    /// Lays the saved mouth back over the swapped `frame`, feathered.
    pub fn restore(&mut self, frame: &mut RgbImage) {
        let Some((roi, outline, radius)) = self.region.take() else { return };
        let width = frame.width() as usize;
        for y in roi.y0..roi.y1 {
            let row = y as usize * width;
            self.mask.as_mut()[row + roi.x0 as usize..row + roi.x1 as usize].fill(0.0);
        }
        fill_polygon(&mut self.mask, &outline, 1.0, roi);
        box_blur3(&mut self.mask, roi, radius, &mut self.scratch);
        // The soft edge lies outside the outline: inside it, the mouth is wholly the target's.
        for y in roi.y0..roi.y1 {
            let row = y as usize * width;
            for m in &mut self.mask.as_mut()[row + roi.x0 as usize..row + roi.x1 as usize] {
                *m = (2.0 * *m).min(1.0);
            }
        }
        blend_masked(frame, &self.saved, &self.mask, 1.0, roi);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_shapes_are_refused() {
        assert!(MouthMask::default().checked().is_ok());
        assert!(MouthMask { size: 2.0, ..MouthMask::default() }.checked().unwrap_err().contains("size"));
        assert!(MouthMask { feather: -1.0, ..MouthMask::default() }.checked().unwrap_err().contains("feather"));
    }
}
