//! ArcFace identity vectors: the 5-point aligned 112×112 crop, (x − 127.5) / 127.5, 512 values.

use image::RgbImage;

use super::{align_to_template, crop_model::CropModel, Embedding, FaceError};
use crate::{
    imaging::{Normalization, Point},
    models::VerifiedModel,
    runtime::SessionFactory,
};

/// insightface's normalisation for the w600k ArcFace models.
const NORMALIZATION: Normalization = Normalization { mean: 127.5, scale: 1.0 / 127.5 };

/// The ArcFace embedder, with its crop and tensor buffers.
pub struct ArcFaceEmbedder {
    model: CropModel,
}

impl ArcFaceEmbedder {
    /// Builds the embedder on `model`.
    ///
    /// # Errors
    /// When the session cannot be built or the model does not take a square crop of a side
    /// divisible by 112.
    pub fn build(factory: &SessionFactory, model: &VerifiedModel) -> Result<Self, FaceError> {
        Ok(Self { model: CropModel::build(factory, model, NORMALIZATION, |side| side % 112 == 0)? })
    }

    /// Time spent inside the model so far.
    pub fn inference_time(&self) -> std::time::Duration {
        self.model.session().inference_time()
    }

    /// The identity vector of the face with keypoints `kps` in `frame`.
    ///
    /// # Errors
    /// [`crate::runtime::RuntimeError::Inference`] when the model fails.
    pub fn embed(&mut self, frame: &RgbImage, kps: &[Point; 5]) -> Result<Embedding, FaceError> {
        let crop_from_frame = align_to_template(kps, self.model.size());
        self.model.run(frame, &crop_from_frame, |output| Embedding(output.to_vec()))
    }
}
