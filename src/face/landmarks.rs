//! insightface's 2d106det: 106 landmarks from a 192×192 crop around the detected box.

use image::RgbImage;

use super::{crop_model::CropModel, FaceError};
use crate::{
    imaging::{Affine, Normalization, Point},
    models::VerifiedModel,
    runtime::SessionFactory,
};

/// 2d106det takes raw 0–255 RGB (its graph subtracts and scales itself).
const NORMALIZATION: Normalization = Normalization { mean: 0.0, scale: 1.0 };
const POINTS: usize = 106;

/// The 106-point landmark model, with its crop and tensor buffers.
pub struct Landmarker106 {
    model: CropModel,
}

impl Landmarker106 {
    /// Builds the landmark model on `model`.
    ///
    /// # Errors
    /// When the session cannot be built or the model is not a square-input 212-output model.
    pub fn build(factory: &SessionFactory, model: &VerifiedModel) -> Result<Self, FaceError> {
        let model = CropModel::build(factory, model, NORMALIZATION, |_| true)?;
        let outputs = model.session().output_shapes();
        if outputs.len() != 1 || outputs[0].1.last() != Some(&((2 * POINTS) as i64)) {
            let detail = format!("expected one output of {} values, found {outputs:?}", 2 * POINTS);
            return Err(model.session().interface_error(detail).into());
        }
        Ok(Self { model })
    }

    /// Time spent inside the model so far.
    pub fn inference_time(&self) -> std::time::Duration {
        self.model.session().inference_time()
    }

    /// The crop transform insightface uses: centred on the box, the box's larger side × 1.5
    /// filling the crop.
    pub fn crop_from_frame(&self, bbox: &[f32; 4]) -> Affine {
        let (w, h) = (f64::from(bbox[2] - bbox[0]), f64::from(bbox[3] - bbox[1]));
        let (cx, cy) = (f64::from(bbox[2] + bbox[0]) / 2.0, f64::from(bbox[3] + bbox[1]) / 2.0);
        let size = f64::from(self.model.size());
        let scale = size / (w.max(h) * 1.5);
        Affine::scale_translate(scale, size / 2.0 - cx * scale, size / 2.0 - cy * scale)
    }

    /// The 106 landmarks of the face in `bbox`, in frame pixels, into `out` (cleared first).
    ///
    /// # Errors
    /// [`crate::runtime::RuntimeError::Inference`] when the model fails.
    pub fn landmarks_into(&mut self, frame: &RgbImage, bbox: &[f32; 4], out: &mut Vec<Point>) -> Result<(), FaceError> {
        let crop_from_frame = self.crop_from_frame(bbox);
        let frame_from_crop = crop_from_frame.inverse();
        // Outputs are (x, y) in [−1, 1] over the crop: (v + 1) × S/2, then back into the frame.
        let half = (self.model.size() / 2) as f32;
        self.model.run(frame, &crop_from_frame, |data| {
            out.clear();
            out.extend(
                data[data.len() - 2 * POINTS..]
                    .chunks_exact(2)
                    .map(|p| frame_from_crop.apply([(p[0] + 1.0) * half, (p[1] + 1.0) * half])),
            );
        })
    }

    /// The 106 landmarks of the face in `bbox`, in frame pixels.
    ///
    /// # Errors
    /// [`crate::runtime::RuntimeError::Inference`] when the model fails.
    pub fn landmarks(&mut self, frame: &RgbImage, bbox: &[f32; 4]) -> Result<Vec<Point>, FaceError> {
        let mut out = Vec::with_capacity(POINTS);
        self.landmarks_into(frame, bbox, &mut out)?;
        Ok(out)
    }
}
