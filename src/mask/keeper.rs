//! Applying the masks around a swap, for any swapper: before it, the target's face is cut out
//! (FaceFusion's ArcFace-128 template) and the occluder reads it; after it, the parser reads the
//! swapped face; wherever the masks say "not the swap's" (an occluder in front, a region not
//! chosen) the target's own pixels are laid back, softly.

use image::RgbImage;

use super::{FaceParser, MaskSettings, Occluder};
use crate::{
    face::{umeyama_similarity, Face, ARCFACE_128_FRACTIONS},
    imaging::{bounds, warp_affine_gray, warp_affine_rgb_replicate, Affine, GrayF32, Point, Rect},
    runtime::RuntimeError,
};

/// The side of the face crop the masks are made on.
pub const MASK_SIZE: u32 = 256;

/// The masks' models and one face's state between `before` and `after`.
pub struct FaceMasker {
    occluder: Option<Occluder>,
    parser: Option<FaceParser>,
    settings: MaskSettings,
    template: [Point; 5],
    crop: RgbImage,
    pending: Option<Pending>,
    weight: GrayF32,
}

/// What `before` saw: where the crop lies, the target's pixels under it, the occlusion mask.
struct Pending {
    crop_from_frame: Affine,
    area: Rect,
    saved: RgbImage,
    occlusion: Option<GrayF32>,
}

impl FaceMasker {
    /// A masker with the models the settings need (an occluder for occlusion, a parser for
    /// regions).
    pub fn new(settings: MaskSettings, occluder: Option<Occluder>, parser: Option<FaceParser>) -> Self {
        let side = f64::from(MASK_SIZE);
        Self {
            occluder,
            parser,
            settings,
            template: ARCFACE_128_FRACTIONS.map(|[x, y]| [(x * side) as f32, (y * side) as f32]),
            crop: RgbImage::new(MASK_SIZE, MASK_SIZE),
            pending: None,
            weight: GrayF32::new(MASK_SIZE, MASK_SIZE),
        }
    }

    /// The settings it applies.
    pub fn settings(&self) -> MaskSettings {
        self.settings
    }

    /// Takes a rebuilt model in place of its own (a repaired file); one it does not use is
    /// dropped.
    pub fn replace(&mut self, model: super::MaskModel) {
        match model {
            super::MaskModel::Occluder(o) if self.occluder.is_some() => self.occluder = Some(o),
            super::MaskModel::Parser(p) if self.parser.is_some() => self.parser = Some(p),
            _ => {}
        }
    }

    /// Reads `face` in `frame` before the swap.
    ///
    /// # Errors
    /// The occluder's failure.
    pub fn before(&mut self, frame: &RgbImage, face: &Face) -> Result<(), RuntimeError> {
        self.pending = None;
        let crop_from_frame = umeyama_similarity(&face.kps, &self.template);
        let Some(area) = footprint(&crop_from_frame, frame.dimensions()) else { return Ok(()) };
        warp_affine_rgb_replicate(frame, &crop_from_frame, &mut self.crop, Rect::full(MASK_SIZE, MASK_SIZE));
        let occlusion = match (self.settings.occlusion, self.occluder.as_mut()) {
            (true, Some(occluder)) => Some(occluder.mask(&self.crop)?),
            _ => None,
        };
        let saved = image::imageops::crop_imm(frame, area.x0, area.y0, area.width(), area.height()).to_image();
        self.pending = Some(Pending { crop_from_frame, area, saved, occlusion });
        Ok(())
    }

    /// Lays the target's pixels back over the swapped `frame` where the masks keep them.
    ///
    /// # Errors
    /// The parser's failure (the frame is then left as swapped).
    pub fn after(&mut self, frame: &mut RgbImage) -> Result<(), RuntimeError> {
        let Some(pending) = self.pending.take() else { return Ok(()) };
        let region = match (self.settings.regions, self.parser.as_mut()) {
            (Some(regions), Some(parser)) => {
                warp_affine_rgb_replicate(
                    frame,
                    &pending.crop_from_frame,
                    &mut self.crop,
                    Rect::full(MASK_SIZE, MASK_SIZE),
                );
                Some(parser.mask(&self.crop, regions)?)
            }
            _ => None,
        };
        // The share of the target to lay back: 1 − min(masks), over the crop only.
        let keep: GrayF32 = match (&pending.occlusion, &region) {
            (Some(a), Some(b)) => GrayF32::from_fn(MASK_SIZE, MASK_SIZE, |x, y| {
                image::Luma([1.0 - a.get_pixel(x, y).0[0].min(b.get_pixel(x, y).0[0])])
            }),
            (Some(m), None) | (None, Some(m)) => {
                GrayF32::from_fn(MASK_SIZE, MASK_SIZE, |x, y| image::Luma([1.0 - m.get_pixel(x, y).0[0]]))
            }
            (None, None) => return Ok(()),
        };
        let area = pending.area;
        let mut frame_from_crop_in_area = pending.crop_from_frame.inverse();
        frame_from_crop_in_area.0[0][2] -= f64::from(area.x0);
        frame_from_crop_in_area.0[1][2] -= f64::from(area.y0);
        if self.weight.dimensions() != (area.width(), area.height()) {
            self.weight = GrayF32::new(area.width(), area.height());
        }
        warp_affine_gray(&keep, &frame_from_crop_in_area, &mut self.weight, Rect::full(area.width(), area.height()));
        let stride = frame.width() as usize;
        let out: &mut [u8] = frame;
        let saved = pending.saved.as_raw();
        for y in 0..area.height() as usize {
            for x in 0..area.width() as usize {
                let w = self.weight.as_raw()[y * area.width() as usize + x].clamp(0.0, 1.0);
                if w <= 0.0 {
                    continue;
                }
                let o = 3 * ((area.y0 as usize + y) * stride + area.x0 as usize + x);
                let s = 3 * (y * area.width() as usize + x);
                for c in 0..3 {
                    let v = f32::from(out[o + c]) * (1.0 - w) + f32::from(saved[s + c]) * w;
                    out[o + c] = v.round().clamp(0.0, 255.0) as u8;
                }
            }
        }
        Ok(())
    }
}

/// The frame area the crop covers, clipped to the frame; none when it is off the frame.
fn footprint(crop_from_frame: &Affine, (fw, fh): (u32, u32)) -> Option<Rect> {
    let frame_from_crop = crop_from_frame.inverse();
    let s = MASK_SIZE as f32;
    let corners = [[0.0, 0.0], [s, 0.0], [0.0, s], [s, s]].map(|p| frame_from_crop.apply(p));
    let (lo, hi) = bounds(&corners);
    let area = Rect::around(lo, hi, 1.0, fw, fh);
    (!area.is_empty()).then_some(area)
}
