//! A face enhancer run as FaceFusion runs it (`face_enhancer.enhance_face`): the face's five
//! points fitted to the model's template, the crop warped out with a replicated border, RGB in
//! −1…1, the model's output clipped back to 8 bits (rounded), and pasted under FaceFusion's box
//! mask, then blended with the frame.

use image::RgbImage;
use ort::value::TensorRef;

use super::{EnhanceSettings, EnhancerKind};
use crate::{
    face::umeyama_similarity,
    imaging::{box_mask, nchw_from_rgb, warp_affine_rgb_replicate, GrayF32, MaskedPaste, Normalization, Point, Rect},
    models::VerifiedModel,
    runtime::{ModelSession, RuntimeError, SessionFactory},
};

/// FaceFusion's `face_mask_blur` default, which its enhancer's box mask uses.
pub const MASK_BLUR: f32 = 0.3;
/// `(x / 255 − 0.5) / 0.5`.
const NORMALIZATION: Normalization = Normalization { mean: 127.5, scale: 1.0 / 127.5 };

/// One enhancer model with its per-frame buffers.
pub struct FaceEnhancer {
    kind: EnhancerKind,
    session: ModelSession,
    input_name: String,
    /// CodeFormer's fidelity input, when the model has one.
    weight_name: Option<String>,
    size: u32,
    template: [Point; 5],
    mask: GrayF32,
    crop: RgbImage,
    tensor: Vec<f32>,
    paste: MaskedPaste,
}

impl FaceEnhancer {
    /// Builds `kind`'s enhancer on `model`.
    ///
    /// # Errors
    /// When the session cannot be built, or its input is not `input` 1×3×S×S with S the
    /// enhancer's side (and, optionally, `weight`).
    pub fn build(factory: &SessionFactory, model: &VerifiedModel, kind: EnhancerKind) -> Result<Self, RuntimeError> {
        let session = factory.build(&model.path, &model.name)?;
        let size = kind.size();
        let inputs = session.input_shapes();
        let image = inputs.iter().find(|(name, _)| name == "input");
        let Some((input_name, shape)) = image else {
            return Err(session.interface_error(format!("expected an input named input, found {inputs:?}")));
        };
        let side = i64::from(size);
        if shape.len() != 4 || shape[1] != 3 || shape[2] != side || shape[3] != side {
            return Err(
                session.interface_error(format!("{kind} takes 1×3×{size}×{size}, and this model's input is {shape:?}"))
            );
        }
        let weight_name = inputs.iter().find(|(name, _)| name == "weight").map(|(name, _)| name.clone());
        if let Some(other) = inputs.iter().find(|(name, _)| name != "input" && name != "weight") {
            return Err(session.interface_error(format!("an input this enhancer cannot feed: {}", other.0)));
        }
        let template = kind.template();
        Ok(Self {
            kind,
            input_name: input_name.clone(),
            weight_name,
            session,
            size,
            template,
            mask: box_mask(size, MASK_BLUR, [0; 4]),
            crop: RgbImage::new(size, size),
            tensor: vec![0.0; 3 * (size * size) as usize],
            paste: MaskedPaste::new(),
        })
    }

    /// Which enhancer this is.
    pub fn kind(&self) -> EnhancerKind {
        self.kind
    }

    /// Whether the model takes CodeFormer's fidelity weight.
    pub fn has_weight(&self) -> bool {
        self.weight_name.is_some()
    }

    /// Time spent inside the model so far.
    pub fn inference_time(&self) -> std::time::Duration {
        self.session.inference_time()
    }

    /// Enhances the face whose five points are `kps` in `frame`.
    ///
    /// # Errors
    /// A model failure, or an output of the wrong size.
    pub fn enhance(
        &mut self,
        frame: &mut RgbImage,
        kps: &[Point; 5],
        settings: &EnhanceSettings,
    ) -> Result<(), RuntimeError> {
        let crop_from_frame = umeyama_similarity(kps, &self.template);
        warp_affine_rgb_replicate(frame, &crop_from_frame, &mut self.crop, Rect::full(self.size, self.size));
        nchw_from_rgb(&self.crop, NORMALIZATION, &mut self.tensor);
        self.run(settings.weight)?;
        // FaceFusion: 1 − (1 − blend / 100), in double.
        let opacity = 1.0 - (1.0 - f64::from(settings.blend.min(100)) / 100.0);
        self.paste.paste(frame, &self.crop, &self.mask, &crop_from_frame, opacity);
        Ok(())
    }

    /// Runs the model on the tensor; its output replaces the crop.
    fn run(&mut self, weight: f64) -> Result<(), RuntimeError> {
        let s = i64::from(self.size);
        let label = self.session.label().to_string();
        let inference = |source: ort::Error| RuntimeError::Inference { model: label.clone(), source };
        let image = TensorRef::from_array_view(([1i64, 3, s, s], &self.tensor[..])).map_err(inference)?;
        let weights = [weight];
        let outputs = match self.weight_name.as_deref() {
            Some(weight_name) => {
                let weight = TensorRef::from_array_view(([1i64], &weights[..])).map_err(inference)?;
                self.session.run(ort::inputs![self.input_name.as_str() => image, weight_name => weight])?
            }
            None => self.session.run(ort::inputs![self.input_name.as_str() => image])?,
        };
        let (shape, data) = outputs[0].try_extract_tensor::<f32>().map_err(inference)?;
        let plane = (self.size * self.size) as usize;
        if data.len() != 3 * plane {
            return Err(RuntimeError::Interface {
                model: label.clone(),
                detail: format!("expected an output of 1×3×{s}×{s}, found {:?}", &shape[..]),
            });
        }
        // clip(−1, 1), (x + 1) / 2, × 255 rounded half to even (numpy's round), planar to RGB.
        let pixels: &mut [u8] = &mut self.crop;
        for (k, v) in data.iter().enumerate() {
            let value = ((v.clamp(-1.0, 1.0) + 1.0) / 2.0 * 255.0).round_ties_even();
            pixels[3 * (k % plane) + k / plane] = value as u8;
        }
        Ok(())
    }
}
