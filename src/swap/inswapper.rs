//! insightface's inswapper_128, run exactly as insightface runs it: the 128 ArcFace-aligned crop
//! (x / 255, RGB), the source latent = normed identity · emap, normalised, the output ×255
//! clipped, and insightface's paste-back. fp16 exports are fed and read in half precision.

use half::f16;
use image::RgbImage;
use ort::{
    session::SessionInputValue,
    value::{TensorElementType, TensorRef, ValueType},
};

use super::{read_last_initializer, PasteBack, SourceFace, SwapError, Swapper, SwapperKind};
use crate::{
    face::{align_to_template, Analysis, Face},
    imaging::{nchw_from_rgb, warp_affine_rgb, Normalization, Rect},
    models::VerifiedModel,
    runtime::{ModelSession, RuntimeError, SessionFactory},
};

const NORMALIZATION: Normalization = Normalization { mean: 0.0, scale: 1.0 / 255.0 };
const LATENT: usize = 512;

/// The inswapper model, its emap, the source latent and the per-frame buffers.
pub struct InSwapper {
    session: ModelSession,
    target_name: String,
    source_name: String,
    half_precision: bool,
    size: u32,
    emap: Vec<f32>,
    /// The latent of the last source seen, by its id: sources are shared values, and the
    /// latent (identity · emap) is the one thing this model derives from them.
    latent: Option<(u64, Vec<f32>)>,
    crop: RgbImage,
    swapped: RgbImage,
    tensor: Vec<f32>,
    tensor_f16: Vec<f16>,
    latent_f16: Vec<f16>,
    paste_back: PasteBack,
}

impl InSwapper {
    /// Builds the swapper on `model`, reading its emap.
    ///
    /// # Errors
    /// When the session cannot be built, the inputs are not `target` 1×3×S×S and `source` 1×512,
    /// or the last initializer is not a 512×512 float matrix.
    pub fn build(factory: &SessionFactory, model: &VerifiedModel) -> Result<Self, SwapError> {
        let emap = read_last_initializer(&model.path)?;
        if emap.dims != [LATENT as i64, LATENT as i64] {
            return Err(SwapError::EmapShape { path: model.path.clone(), dims: emap.dims });
        }
        let session = factory.build(&model.path, &model.name)?;
        let inputs = session.input_shapes();
        let [(target_name, target_shape), (source_name, source_shape)] = inputs.as_slice() else {
            return Err(session.interface_error(format!("expected inputs target and source, found {inputs:?}")).into());
        };
        if target_shape.len() != 4
            || target_shape[2] <= 0
            || target_shape[2] != target_shape[3]
            || source_shape.last() != Some(&(LATENT as i64))
        {
            return Err(session
                .interface_error(format!(
                    "expected target 1×3×128×128 and source 1×512, found {target_shape:?} and {source_shape:?}"
                ))
                .into());
        }
        let size = target_shape[2] as u32;
        let half_precision = matches!(session_input_type(&session), Some(TensorElementType::Float16));
        Ok(Self {
            target_name: target_name.clone(),
            source_name: source_name.clone(),
            session,
            half_precision,
            size,
            emap: emap.data,
            latent: None,
            crop: RgbImage::new(size, size),
            swapped: RgbImage::new(size, size),
            tensor: vec![0.0; (3 * size * size) as usize],
            tensor_f16: Vec::new(),
            latent_f16: Vec::new(),
            paste_back: PasteBack::new(),
        })
    }

    /// Time spent inside the model so far.
    pub fn inference_time(&self) -> std::time::Duration {
        self.session.inference_time()
    }

    /// The latent the model is fed for an identity: normed · emap, then L2-normalised.
    pub fn latent_of(&self, normed_identity: &[f32]) -> Vec<f32> {
        let mut latent = vec![0.0f32; LATENT];
        for (i, &v) in normed_identity.iter().enumerate().take(LATENT) {
            let row = &self.emap[i * LATENT..(i + 1) * LATENT];
            for (l, e) in latent.iter_mut().zip(row) {
                *l += v * e;
            }
        }
        let norm = latent.iter().map(|v| v * v).sum::<f32>().sqrt();
        if norm > 0.0 {
            latent.iter_mut().for_each(|v| *v /= norm);
        }
        latent
    }

    fn run_model(&mut self, latent: &[f32]) -> Result<(), SwapError> {
        let s = i64::from(self.size);
        let label = self.session.label().to_string();
        let inference = |source: ort::Error| RuntimeError::Inference { model: label.clone(), source };
        let (target, source): (SessionInputValue, SessionInputValue) = if self.half_precision {
            self.tensor_f16.clear();
            self.tensor_f16.extend(self.tensor.iter().map(|&v| f16::from_f32(v)));
            self.latent_f16.clear();
            self.latent_f16.extend(latent.iter().map(|&v| f16::from_f32(v)));
            (
                TensorRef::from_array_view(([1i64, 3, s, s], &self.tensor_f16[..])).map_err(inference)?.into(),
                TensorRef::from_array_view(([1i64, LATENT as i64], &self.latent_f16[..])).map_err(inference)?.into(),
            )
        } else {
            (
                TensorRef::from_array_view(([1i64, 3, s, s], &self.tensor[..])).map_err(inference)?.into(),
                TensorRef::from_array_view(([1i64, LATENT as i64], latent)).map_err(inference)?.into(),
            )
        };
        let outputs =
            self.session.run(ort::inputs![self.target_name.as_str() => target, self.source_name.as_str() => source])?;
        let plane = (self.size * self.size) as usize;
        let pixels: &mut [u8] = &mut self.swapped;
        // ×255, clipped, truncated to 8 bits, planar RGB to interleaved: numpy's astype(uint8).
        let mut store = |i: usize, c: usize, v: f32| pixels[3 * i + c] = (v * 255.0).clamp(0.0, 255.0) as u8;
        if self.half_precision {
            let (_, data) = outputs[0].try_extract_tensor::<f16>().map_err(inference)?;
            for (k, v) in data.iter().take(3 * plane).enumerate() {
                store(k % plane, k / plane, v.to_f32());
            }
        } else {
            let (_, data) = outputs[0].try_extract_tensor::<f32>().map_err(inference)?;
            for (k, v) in data.iter().take(3 * plane).enumerate() {
                store(k % plane, k / plane, *v);
            }
        }
        Ok(())
    }
}

fn session_input_type(session: &ModelSession) -> Option<TensorElementType> {
    match session.input_type(0)? {
        ValueType::Tensor { ty, .. } => Some(ty),
        _ => None,
    }
}

impl Swapper for InSwapper {
    fn kind(&self) -> SwapperKind {
        SwapperKind::Inswapper
    }

    fn target_needs(&self) -> Analysis {
        Analysis::DETECT_ONLY
    }

    fn inference_time(&self) -> std::time::Duration {
        self.session.inference_time()
    }

    fn swap(&mut self, frame: &mut RgbImage, target: &Face, source: &SourceFace) -> Result<(), SwapError> {
        let latent = match self.latent.take() {
            Some((id, latent)) if id == source.id() => latent,
            _ => self.latent_of(source.identity()),
        };
        let crop_from_frame = align_to_template(&target.kps, self.size);
        warp_affine_rgb(frame, &crop_from_frame, &mut self.crop, Rect::full(self.size, self.size));
        nchw_from_rgb(&self.crop, NORMALIZATION, &mut self.tensor);
        let result = self.run_model(&latent);
        self.latent = Some((source.id(), latent));
        result?;
        self.paste_back.paste(frame, &self.swapped, &crop_from_frame);
        Ok(())
    }
}
