//! ArcFace identity vectors: the 5-point aligned 112×112 crop, (x − 127.5) / 127.5, 512 values.

use image::RgbImage;
use ort::value::TensorRef;

use super::{align_to_template, Embedding, FaceError};
use crate::{
    imaging::{nchw_from_rgb, warp_affine_rgb, Normalization, Point, Rect},
    models::VerifiedModel,
    runtime::{ModelSession, RuntimeError, SessionFactory},
};

/// insightface's normalisation for the w600k ArcFace models.
const NORMALIZATION: Normalization = Normalization { mean: 127.5, scale: 1.0 / 127.5 };

/// The ArcFace embedder, with its crop and tensor buffers.
pub struct ArcFaceEmbedder {
    session: ModelSession,
    input_name: String,
    size: u32,
    crop: RgbImage,
    tensor: Vec<f32>,
}

impl ArcFaceEmbedder {
    /// Builds the embedder on `model`.
    ///
    /// # Errors
    /// When the session cannot be built or the model does not take a square RGB crop.
    pub fn build(factory: &SessionFactory, model: &VerifiedModel) -> Result<Self, FaceError> {
        let session = factory.build(&model.path, &model.name)?;
        let inputs = session.input_shapes();
        let [(input_name, shape)] = inputs.as_slice() else {
            return Err(session.interface_error("expected one input").into());
        };
        if shape.len() != 4 || shape[1] != 3 || shape[2] <= 0 || shape[2] != shape[3] || shape[2] % 112 != 0 {
            return Err(session.interface_error(format!("expected a 1×3×112×112 input, found {shape:?}")).into());
        }
        let size = shape[2] as u32;
        Ok(Self {
            input_name: input_name.clone(),
            session,
            size,
            crop: RgbImage::new(size, size),
            tensor: vec![0.0; (3 * size * size) as usize],
        })
    }

    /// Time spent inside the model so far.
    pub fn inference_time(&self) -> std::time::Duration {
        self.session.inference_time()
    }

    /// The identity vector of the face with keypoints `kps` in `frame`.
    ///
    /// # Errors
    /// [`RuntimeError::Inference`] when the model fails.
    pub fn embed(&mut self, frame: &RgbImage, kps: &[Point; 5]) -> Result<Embedding, FaceError> {
        let crop_from_frame = align_to_template(kps, self.size);
        warp_affine_rgb(frame, &crop_from_frame, &mut self.crop, Rect::full(self.size, self.size));
        nchw_from_rgb(&self.crop, NORMALIZATION, &mut self.tensor);
        let s = i64::from(self.size);
        let label = self.session.label().to_string();
        let inference = |e: ort::Error| RuntimeError::Inference { model: label.clone(), reason: e.to_string() };
        let input = TensorRef::from_array_view(([1i64, 3, s, s], &self.tensor[..])).map_err(inference)?;
        let outputs = self.session.run(ort::inputs![self.input_name.as_str() => input])?;
        let (_, data) = outputs[0].try_extract_tensor::<f32>().map_err(inference)?;
        Ok(Embedding(data.to_vec()))
    }
}
