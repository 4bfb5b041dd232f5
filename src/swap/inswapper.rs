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

/// The pixel boosts offered (FaceFusion's for inswapper): the aligned crop's side, 128 being none.
pub const PIXEL_BOOST_SIDES: [u32; 6] = [128, 256, 384, 512, 768, 1024];

const NORMALIZATION: Normalization = Normalization { mean: 0.0, scale: 1.0 / 255.0 };
const LATENT: usize = 512;

/// The inswapper model, its emap, the source latent and the per-frame buffers.
pub struct InSwapper {
    session: ModelSession,
    target_name: String,
    source_name: String,
    half_precision: bool,
    /// The model's side (128).
    size: u32,
    /// The side of the aligned crop: the model's, or a multiple of it swapped in tiles
    /// (FaceFusion's pixel boost).
    boost: u32,
    emap: Vec<f32>,
    /// The latent of the last source seen, by its id: sources are shared values, and the
    /// latent (identity · emap) is the one thing this model derives from them.
    latent: Option<(u64, Vec<f32>)>,
    crop: RgbImage,
    swapped: RgbImage,
    /// The boosted crop's tile being swapped, and the boosted result.
    tile: RgbImage,
    boosted: RgbImage,
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
            boost: size,
            emap: emap.data,
            latent: None,
            crop: RgbImage::new(size, size),
            swapped: RgbImage::new(size, size),
            tile: RgbImage::new(size, size),
            boosted: RgbImage::new(0, 0),
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

    /// Swaps at an aligned crop of `side` pixels (a multiple of the model's 128, up to 1024):
    /// the crop is cut into side/128 × side/128 interleaved tiles, each swapped at the model's
    /// size and put back where it came from (FaceFusion's `implode_pixel_boost` and
    /// `explode_pixel_boost`), so a large face keeps its detail.
    ///
    /// # Errors
    /// [`SwapError::PixelBoost`] for a side that is not such a multiple.
    pub fn set_pixel_boost(&mut self, side: u32) -> Result<(), SwapError> {
        if side < self.size || !side.is_multiple_of(self.size) || side > 8 * self.size {
            return Err(SwapError::PixelBoost { side, model: self.size });
        }
        self.boost = side;
        self.crop = RgbImage::new(side, side);
        self.boosted = if side == self.size { RgbImage::new(0, 0) } else { RgbImage::new(side, side) };
        Ok(())
    }

    /// The side of the aligned crop (the model's unless boosted).
    pub fn pixel_boost(&self) -> u32 {
        self.boost
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

impl InSwapper {
    /// The boosted crop swapped tile by tile: tile (a, b) holds the crop's pixels at rows
    /// i·n + a and columns j·n + b (n = boost / 128), and its swap goes back to the same places.
    fn run_tiles(&mut self, latent: &[f32]) -> Result<(), SwapError> {
        let (m, n) = (self.size as usize, (self.boost / self.size) as usize);
        let side = m * n;
        for a in 0..n {
            for b in 0..n {
                let (crop, tile): (&[u8], &mut [u8]) = (&self.crop, &mut self.tile);
                for i in 0..m {
                    for j in 0..m {
                        let from = 3 * ((i * n + a) * side + j * n + b);
                        tile[3 * (i * m + j)..3 * (i * m + j) + 3].copy_from_slice(&crop[from..from + 3]);
                    }
                }
                nchw_from_rgb(&self.tile, NORMALIZATION, &mut self.tensor);
                self.run_model(latent)?;
                let (swapped, boosted): (&[u8], &mut [u8]) = (&self.swapped, &mut self.boosted);
                for i in 0..m {
                    for j in 0..m {
                        let to = 3 * ((i * n + a) * side + j * n + b);
                        boosted[to..to + 3].copy_from_slice(&swapped[3 * (i * m + j)..3 * (i * m + j) + 3]);
                    }
                }
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

    fn set_pixel_boost(&mut self, side: Option<u32>) -> Result<(), SwapError> {
        let side = side.unwrap_or(self.size);
        if side == self.boost {
            return Ok(());
        }
        InSwapper::set_pixel_boost(self, side)
    }

    fn swap(&mut self, frame: &mut RgbImage, target: &Face, source: &SourceFace) -> Result<(), SwapError> {
        let latent = match self.latent.take() {
            Some((id, latent)) if id == source.id() => latent,
            _ => self.latent_of(source.identity()),
        };
        let crop_from_frame = align_to_template(&target.kps, self.boost);
        warp_affine_rgb(frame, &crop_from_frame, &mut self.crop, Rect::full(self.boost, self.boost));
        let result = if self.boost == self.size {
            nchw_from_rgb(&self.crop, NORMALIZATION, &mut self.tensor);
            self.run_model(&latent)
        } else {
            self.run_tiles(&latent)
        };
        self.latent = Some((source.id(), latent));
        result?;
        let swapped = if self.boost == self.size { &self.swapped } else { &self.boosted };
        self.paste_back.paste(frame, swapped, &crop_from_frame);
        Ok(())
    }
}
