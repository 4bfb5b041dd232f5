//! Moving the target's own face, and what is around it, onto the swap's geometry before the
//! source is drawn. The outline can then take the source's shape (the face's width and jaw
//! carry its identity) with no strip of the target's jaw left beside a narrower one, and the
//! target's eyes, lips and skin that the swap measures and lets through sit exactly where the
//! source's are drawn.

use image::{GrayImage, RgbImage};

use super::mesh::{FaceMesh, Texture};
use crate::{
    face::regions,
    imaging::{bounds, GrayF32, Point, Rect},
};

/// Buffers reused between frames.
#[derive(Debug)]
pub struct Reshape {
    /// The frame about the face, as it was (the warp reads it while writing the frame).
    copy: RgbImage,
    /// All skin: the warp's coverage is not wanted here.
    opaque: GrayImage,
    from: Vec<Point>,
    to: Vec<Point>,
}

impl Default for Reshape {
    fn default() -> Self {
        Self { copy: RgbImage::new(0, 0), opaque: GrayImage::new(0, 0), from: Vec::new(), to: Vec::new() }
    }
}

impl Reshape {
    /// Moves `frame`'s pixels from `target` (the target's mesh points) onto `geometry` (the same
    /// points where the swap will draw them) through `mesh`, whose last triangles join the
    /// points to a circle about `target` ([`regions::surround`]) that stays where it is.
    /// `coverage` is scratch. A triangle the move would turn over keeps the frame as it was.
    pub fn apply(
        &mut self,
        frame: &mut RgbImage,
        mesh: &FaceMesh,
        target: &[Point],
        geometry: &[Point],
        coverage: &mut GrayF32,
    ) {
        let ring = regions::surround(target);
        let (lo, hi) = bounds(&ring);
        let roi = Rect::around(lo, hi, 1.0, frame.width(), frame.height());
        if roi.is_empty() || target.len() != geometry.len() {
            return;
        }
        let (w, h) = (roi.width(), roi.height());
        if self.copy.dimensions() != (w, h) {
            self.copy = RgbImage::new(w, h);
            self.opaque = GrayImage::from_pixel(w, h, image::Luma([255]));
        }
        let stride = frame.width() as usize;
        for y in 0..h {
            let from = 3 * ((roi.y0 + y) as usize * stride + roi.x0 as usize);
            let row = 3 * (y * w) as usize;
            self.copy.as_mut()[row..row + 3 * w as usize].copy_from_slice(&frame.as_raw()[from..from + 3 * w as usize]);
        }
        let origin = [roi.x0 as f32, roi.y0 as f32];
        self.from.clear();
        self.from.extend(target.iter().chain(&ring).map(|p| [p[0] - origin[0], p[1] - origin[1]]));
        self.to.clear();
        self.to.extend_from_slice(geometry);
        self.to.extend_from_slice(&ring);
        let texture = Texture { picture: &self.copy, skin: &self.opaque, points: &self.from };
        mesh.warp(texture, &self.to, frame, coverage, roi);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_moved_point_carries_the_frame_with_it_and_the_circle_stays() {
        // A square of points with a centre; the centre moves right by 6 pixels.
        let target = vec![[20.0, 20.0], [40.0, 20.0], [40.0, 40.0], [20.0, 40.0], [30.0, 30.0]];
        let mut geometry = target.clone();
        geometry[4] = [36.0, 30.0];
        let mut around = target.clone();
        around.extend_from_slice(&regions::surround(&target));
        let mesh = FaceMesh::triangulate(&around);
        let mut frame = RgbImage::from_pixel(64, 64, image::Rgb([10, 10, 10]));
        frame.put_pixel(30, 30, image::Rgb([250, 0, 0]));
        let before = frame.clone();
        let mut coverage = GrayF32::new(64, 64);
        Reshape::default().apply(&mut frame, &mesh, &target, &geometry, &mut coverage);
        assert!(frame.get_pixel(36, 30).0[0] > 100, "the red pixel moved with its point");
        assert!(frame.get_pixel(30, 30).0[0] < 100, "and left where it was");
        // Past the circle nothing changes.
        assert_eq!(frame.get_pixel(0, 0), before.get_pixel(0, 0));
        assert_eq!(frame.get_pixel(63, 63), before.get_pixel(63, 63));
    }
}
