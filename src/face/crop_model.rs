//! A model that looks at a square crop of the frame (ArcFace, the 106-point landmarks): the
//! session, its input checks, and the warp → tensor → run steps they share, on reused buffers.

use image::RgbImage;
use ort::value::TensorRef;

use super::FaceError;
use crate::{
    imaging::{nchw_from_rgb, warp_affine_rgb, Affine, Normalization, Rect},
    models::VerifiedModel,
    runtime::{ModelSession, RuntimeError, SessionFactory},
};

/// A session on a model with one square 1×3×S×S input, and its crop and tensor buffers.
pub struct CropModel {
    session: ModelSession,
    input_name: String,
    size: u32,
    normalization: Normalization,
    crop: RgbImage,
    tensor: Vec<f32>,
}

impl CropModel {
    /// Builds the session on `model` and checks its input; `size_ok` vets the crop side.
    ///
    /// # Errors
    /// When the session cannot be built or the input is not a square RGB crop `size_ok` accepts.
    pub fn build(
        factory: &SessionFactory,
        model: &VerifiedModel,
        normalization: Normalization,
        size_ok: impl Fn(i64) -> bool,
    ) -> Result<Self, FaceError> {
        let session = factory.build(&model.path, &model.name)?;
        let inputs = session.input_shapes();
        let [(input_name, shape)] = inputs.as_slice() else {
            return Err(session.interface_error(format!("expected one input, found {}", inputs.len())).into());
        };
        if shape.len() != 4 || shape[1] != 3 || shape[2] <= 0 || shape[2] != shape[3] || !size_ok(shape[2]) {
            return Err(session.interface_error(format!("expected a square 1×3×S×S input, found {shape:?}")).into());
        }
        let size = shape[2] as u32;
        Ok(Self {
            input_name: input_name.clone(),
            session,
            size,
            normalization,
            crop: RgbImage::new(size, size),
            tensor: vec![0.0; (3 * size * size) as usize],
        })
    }

    /// The crop side in pixels.
    pub fn size(&self) -> u32 {
        self.size
    }

    /// The session (for its output shapes and timings).
    pub fn session(&self) -> &ModelSession {
        &self.session
    }

    /// Warps the crop out of `frame`, runs the model, and hands its first output to `read`.
    ///
    /// # Errors
    /// [`RuntimeError::Inference`] when the model fails.
    pub fn run<T>(
        &mut self,
        frame: &RgbImage,
        crop_from_frame: &Affine,
        read: impl FnOnce(&[f32]) -> T,
    ) -> Result<T, FaceError> {
        warp_affine_rgb(frame, crop_from_frame, &mut self.crop, Rect::full(self.size, self.size));
        nchw_from_rgb(&self.crop, self.normalization, &mut self.tensor);
        let s = i64::from(self.size);
        let label = self.session.label().to_string();
        let inference = |source: ort::Error| RuntimeError::Inference { model: label.clone(), source };
        let input = TensorRef::from_array_view(([1i64, 3, s, s], &self.tensor[..])).map_err(inference)?;
        let outputs = self.session.run(ort::inputs![self.input_name.as_str() => input])?;
        let (_, data) = outputs[0].try_extract_tensor::<f32>().map_err(inference)?;
        Ok(read(data))
    }
}
