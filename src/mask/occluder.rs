//! FaceFusion's occlusion mask (`face_masker.create_occlusion_mask`): an XSeg model says which
//! pixels of the face crop are face and which are something in front of it (a hand, hair, a
//! microphone); blurred and its lower half cut away, so only what is surely face is kept.

use image::RgbImage;
use ort::value::TensorRef;

use super::soften;
use crate::{
    imaging::{resize_gray_linear, resize_rgb_linear, GrayF32},
    models::VerifiedModel,
    runtime::{ModelSession, RuntimeError, SessionFactory},
};

/// An XSeg-interface model: `input` 1×S×S×3 (BGR in 0…1, channels last), out 1×S×S×1.
pub struct Occluder {
    session: ModelSession,
    size: u32,
    tensor: Vec<f32>,
}

impl Occluder {
    /// Builds the occluder on `model`.
    ///
    /// # Errors
    /// When the session cannot be built or its input is not 1×S×S×3.
    pub fn build(factory: &SessionFactory, model: &VerifiedModel) -> Result<Self, RuntimeError> {
        let session = factory.build(&model.path, &model.name)?;
        let inputs = session.input_shapes();
        let size = match inputs.as_slice() {
            [(name, shape)]
                if name == "input" && shape.len() == 4 && shape[1] > 0 && shape[1] == shape[2] && shape[3] == 3 =>
            {
                shape[1] as u32
            }
            _ => {
                return Err(session.interface_error(format!(
                    "an occluder takes one input named input of 1×S×S×3, and this model has {inputs:?}"
                )))
            }
        };
        Ok(Self { session, size, tensor: vec![0.0; (3 * size * size) as usize] })
    }

    /// The mask of `crop` (its size, 0…1: 1 is face).
    ///
    /// # Errors
    /// A model failure, or an output of the wrong size.
    pub fn mask(&mut self, crop: &RgbImage) -> Result<GrayF32, RuntimeError> {
        let resized = resize_rgb_linear(crop, self.size, self.size);
        // FaceFusion feeds OpenCV's BGR frame as it is: channels last, blue first.
        for (px, out) in resized.as_raw().chunks_exact(3).zip(self.tensor.chunks_exact_mut(3)) {
            out[0] = f32::from(px[2]) / 255.0;
            out[1] = f32::from(px[1]) / 255.0;
            out[2] = f32::from(px[0]) / 255.0;
        }
        let s = i64::from(self.size);
        let label = self.session.label().to_string();
        let inference = |source: ort::Error| RuntimeError::Inference { model: label.clone(), source };
        let input = TensorRef::from_array_view(([1i64, s, s, 3], &self.tensor[..])).map_err(inference)?;
        let outputs = self.session.run(ort::inputs!["input" => input])?;
        let (_, data) = outputs[0].try_extract_tensor::<f32>().map_err(inference)?;
        let plane = (self.size * self.size) as usize;
        if data.len() != plane {
            return Err(RuntimeError::Interface {
                model: label,
                detail: format!("expected an output of {plane} values (1×{s}×{s}×1), found {}", data.len()),
            });
        }
        let raw = GrayF32::from_raw(self.size, self.size, data.iter().map(|v| v.clamp(0.0, 1.0)).collect())
            .unwrap_or_else(|| GrayF32::new(self.size, self.size));
        Ok(soften(resize_gray_linear(&raw, crop.width(), crop.height())))
    }
}
