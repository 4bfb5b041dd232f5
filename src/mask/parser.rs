//! FaceFusion's region mask (`face_masker.create_region_mask`): a BiSeNet face parser labels
//! each pixel of the face crop (skin, brows, eyes, glasses, nose, mouth, lips, or other: hair,
//! ears, neck, background); the chosen regions are kept, blurred, and their lower half cut away.

use image::RgbImage;
use ort::value::TensorRef;

use super::{soften, FaceRegions};
use crate::{
    imaging::{resize_gray_linear, resize_rgb_linear, GrayF32},
    models::VerifiedModel,
    runtime::{ModelSession, RuntimeError, SessionFactory},
};

/// ImageNet's mean and deviation, as FaceFusion normalises the parser's input.
const MEAN: [f32; 3] = [0.485, 0.456, 0.406];
const STD: [f32; 3] = [0.229, 0.224, 0.225];

/// A BiSeNet-interface parser: `input` 1×3×S×S (RGB, ImageNet-normalised), out 1×C×S×S.
pub struct FaceParser {
    session: ModelSession,
    size: u32,
    tensor: Vec<f32>,
}

impl FaceParser {
    /// Builds the parser on `model`.
    ///
    /// # Errors
    /// When the session cannot be built or its input is not 1×3×S×S.
    pub fn build(factory: &SessionFactory, model: &VerifiedModel) -> Result<Self, RuntimeError> {
        let session = factory.build(&model.path, &model.name)?;
        let inputs = session.input_shapes();
        let size = match inputs.as_slice() {
            [(name, shape)]
                if name == "input" && shape.len() == 4 && shape[1] == 3 && shape[2] > 0 && shape[2] == shape[3] =>
            {
                shape[2] as u32
            }
            _ => {
                return Err(session.interface_error(format!(
                    "a face parser takes one input named input of 1×3×S×S, and this model has {inputs:?}"
                )))
            }
        };
        Ok(Self { session, size, tensor: vec![0.0; (3 * size * size) as usize] })
    }

    /// The mask of the `regions` of `crop` (its size, 0…1).
    ///
    /// # Errors
    /// A model failure, or an output that is not C×S×S with C above every region's class.
    pub fn mask(&mut self, crop: &RgbImage, regions: FaceRegions) -> Result<GrayF32, RuntimeError> {
        let resized = resize_rgb_linear(crop, self.size, self.size);
        let plane = (self.size * self.size) as usize;
        for (i, px) in resized.as_raw().chunks_exact(3).enumerate() {
            for c in 0..3 {
                self.tensor[c * plane + i] = (f32::from(px[c]) / 255.0 - MEAN[c]) / STD[c];
            }
        }
        let s = i64::from(self.size);
        let label = self.session.label().to_string();
        let inference = |source: ort::Error| RuntimeError::Inference { model: label.clone(), source };
        let input = TensorRef::from_array_view(([1i64, 3, s, s], &self.tensor[..])).map_err(inference)?;
        let outputs = self.session.run(ort::inputs!["input" => input])?;
        let (_, data) = outputs[0].try_extract_tensor::<f32>().map_err(inference)?;
        let classes = data.len() / plane.max(1);
        if data.len() != classes * plane || classes <= 13 {
            return Err(RuntimeError::Interface {
                model: label,
                detail: format!("expected 1×C×{s}×{s} class scores with C ≥ 14, found {} values", data.len()),
            });
        }
        // The class with the highest score at each pixel (the first of equals, as numpy's
        // argmax), kept when it is a chosen region.
        let mut chosen = GrayF32::new(self.size, self.size);
        for (i, out) in chosen.iter_mut().enumerate() {
            let mut best = (0, f32::NEG_INFINITY);
            for class in 0..classes {
                let score = data[class * plane + i];
                if score > best.1 {
                    best = (class, score);
                }
            }
            *out = if regions.contains_class(best.0) { 1.0 } else { 0.0 };
        }
        Ok(soften(resize_gray_linear(&chosen, crop.width(), crop.height())))
    }
}
