//! SCRFD face detection: letterbox, run, decode every stride, NMS. Works with any SCRFD export
//! that has keypoints (det_10g, det_500m, …): its nine outputs are told apart by shape.

use image::RgbImage;
use ort::value::TensorRef;

use super::{decode_scrfd_stride, nms, Candidate, Face, FaceError};
use crate::{
    imaging::{LetterboxResizer, Normalization},
    models::VerifiedModel,
    runtime::{ModelSession, RuntimeError, SessionFactory},
};

/// SCRFD's strides and anchors per grid cell.
const STRIDES: [u32; 3] = [8, 16, 32];
const ANCHORS: u32 = 2;
/// insightface's SCRFD input normalisation.
const NORMALIZATION: Normalization = Normalization { mean: 127.5, scale: 1.0 / 128.0 };

/// How to run the detector.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectorConfig {
    /// Input width and height, used when the model's input size is dynamic.
    pub input_size: (u32, u32),
    pub score_threshold: f32,
    pub nms_threshold: f32,
    /// Shape the input like each frame (its long side `input_size`'s, the other rounded up to a
    /// multiple of 32) instead of padding to a square: a 640×480 frame runs at 640×480, a quarter
    /// less work than 640×640. Only for models with a dynamic input size. Off by default, as in
    /// insightface.
    pub fit_to_frame: bool,
}

impl DetectorConfig {
    /// insightface's settings: 640×640, score ≥ 0.5, NMS IoU 0.4.
    pub fn scrfd() -> Self {
        Self { input_size: (640, 640), score_threshold: 0.5, nms_threshold: 0.4, fit_to_frame: false }
    }

    pub fn with_input_size(mut self, width: u32, height: u32) -> Self {
        self.input_size = (width, height);
        self
    }

    pub fn with_fit_to_frame(mut self, fit: bool) -> Self {
        self.fit_to_frame = fit;
        self
    }

    pub fn with_score_threshold(mut self, threshold: f32) -> Self {
        self.score_threshold = threshold;
        self
    }

    /// Builds the detector on `model`.
    ///
    /// # Errors
    /// When the session cannot be built or the model has no single 4-D image input.
    pub fn build(self, factory: &SessionFactory, model: &VerifiedModel) -> Result<ScrfdDetector, FaceError> {
        ScrfdDetector::new(factory.build(&model.path, &model.name)?, self)
    }
}

impl Default for DetectorConfig {
    fn default() -> Self {
        Self::scrfd()
    }
}

/// An input shaped like a `frame`: the long side from `base`, the other scaled to match and
/// rounded up to a multiple of 32 (SCRFD's largest stride).
fn fitted_input(base: (u32, u32), frame: (u32, u32)) -> (u32, u32) {
    let long = base.0.max(base.1);
    let (fw, fh) = (frame.0.max(1), frame.1.max(1));
    let fit = |short: u32, long_side: u32| {
        ((u64::from(long) * u64::from(short)).div_ceil(u64::from(long_side)) as u32).div_ceil(32) * 32
    };
    if fw >= fh {
        (long, fit(fh, fw).max(32))
    } else {
        (fit(fw, fh).max(32), long)
    }
}

/// The SCRFD detector, with the buffers it reuses from frame to frame.
pub struct ScrfdDetector {
    session: ModelSession,
    input_name: String,
    input_size: (u32, u32),
    /// The model fixes its input size (no fitting to frames).
    fixed_input: bool,
    config: DetectorConfig,
    resizer: LetterboxResizer,
    tensor: Vec<f32>,
    candidates: Vec<Candidate>,
}

impl ScrfdDetector {
    /// Wraps a session on an SCRFD model.
    ///
    /// # Errors
    /// [`RuntimeError::Interface`] when the model does not look like SCRFD with keypoints.
    pub fn new(session: ModelSession, config: DetectorConfig) -> Result<Self, FaceError> {
        let inputs = session.input_shapes();
        let [(input_name, shape)] = inputs.as_slice() else {
            return Err(session.interface_error(format!("expected one input, found {}", inputs.len())).into());
        };
        if shape.len() != 4 {
            return Err(session.interface_error(format!("expected a 4-D image input, found shape {shape:?}")).into());
        }
        let outputs = session.output_shapes().len();
        if outputs != 9 {
            return Err(session
                .interface_error(format!(
                    "expected SCRFD's 9 outputs (scores, boxes, keypoints × 3 strides), found {outputs}"
                ))
                .into());
        }
        // A fixed input size in the model wins over the configured one, as in insightface.
        let fixed_input = shape[3] > 0 && shape[2] > 0;
        let input_size = if fixed_input { (shape[3] as u32, shape[2] as u32) } else { config.input_size };
        let tensor = vec![0.0; (3 * input_size.0 * input_size.1) as usize];
        Ok(Self {
            session,
            input_name: input_name.clone(),
            input_size,
            fixed_input,
            config,
            resizer: LetterboxResizer::new(),
            tensor,
            candidates: Vec::new(),
        })
    }

    /// Time spent inside the model so far.
    pub fn inference_time(&self) -> std::time::Duration {
        self.session.inference_time()
    }

    /// The input size the model runs at.
    pub fn input_size(&self) -> (u32, u32) {
        self.input_size
    }

    /// Finds the faces in `frame`, best score first.
    ///
    /// # Errors
    /// [`RuntimeError::Inference`] when the model fails, [`RuntimeError::Interface`] when its
    /// outputs are not SCRFD's.
    pub fn detect(&mut self, frame: &RgbImage) -> Result<Vec<Face>, FaceError> {
        if self.config.fit_to_frame && !self.fixed_input {
            self.input_size = fitted_input(self.config.input_size, frame.dimensions());
            self.tensor.resize((3 * self.input_size.0 * self.input_size.1) as usize, 0.0);
        }
        let (iw, ih) = self.input_size;
        let letterbox = self.resizer.run(frame, iw, ih, NORMALIZATION, &mut self.tensor);
        self.candidates.clear();
        let Self { session, input_name, tensor, candidates, config, .. } = self;
        let input = TensorRef::from_array_view(([1i64, 3, i64::from(ih), i64::from(iw)], &tensor[..]))
            .map_err(|source| RuntimeError::Inference { model: session.label().to_string(), source })?;
        let label = session.label().to_string();
        let outputs = session.run(ort::inputs![input_name.as_str() => input])?;

        // Group the nine outputs by stride (from the anchor count) and kind (from the last dim).
        let mut groups: [[Option<&[f32]>; 3]; 3] = [[None; 3]; 3];
        for index in 0..outputs.len() {
            let (shape, data) = outputs[index]
                .try_extract_tensor::<f32>()
                .map_err(|e| RuntimeError::Interface { model: label.clone(), detail: e.to_string() })?;
            let width = *shape.last().unwrap_or(&0) as usize;
            let kind = match width {
                1 => 0,
                4 => 1,
                10 => 2,
                _ => {
                    return Err(RuntimeError::Interface {
                        model: label,
                        detail: format!("unexpected output shape {shape:?}"),
                    }
                    .into())
                }
            };
            let anchors = data.len() / width;
            let Some(stride) =
                STRIDES.iter().position(|s| (iw / s) as usize * (ih / s) as usize * ANCHORS as usize == anchors)
            else {
                return Err(RuntimeError::Interface {
                    model: label,
                    detail: format!("output shape {shape:?} fits no stride"),
                }
                .into());
            };
            groups[stride][kind] = Some(data);
        }
        for (i, stride) in STRIDES.iter().enumerate() {
            let [Some(scores), Some(boxes), Some(kps)] = groups[i] else {
                return Err(RuntimeError::Interface {
                    model: label,
                    detail: format!("stride {stride} outputs are incomplete"),
                }
                .into());
            };
            decode_scrfd_stride(
                scores,
                boxes,
                Some(kps),
                *stride,
                iw / stride,
                ANCHORS,
                config.score_threshold,
                letterbox.scale,
                candidates,
            );
        }
        nms(candidates, config.nms_threshold);
        Ok(candidates
            .iter()
            .map(|c| Face { bbox: c.bbox, score: c.score, kps: c.kps, landmarks: None, embedding: None })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::fitted_input;

    #[test]
    fn inputs_fit_the_frame_in_steps_of_32() {
        assert_eq!(fitted_input((640, 640), (640, 480)), (640, 480));
        assert_eq!(fitted_input((640, 640), (1280, 720)), (640, 384));
        assert_eq!(fitted_input((640, 640), (176, 144)), (640, 544));
        assert_eq!(fitted_input((640, 640), (480, 640)), (480, 640));
    }
}
