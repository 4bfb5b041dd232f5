//! insightface's 2d106det: 106 landmarks from a 192×192 crop around the detected box.

use image::RgbImage;
use ort::value::TensorRef;

use super::FaceError;
use crate::{
    imaging::{nchw_from_rgb, warp_affine_rgb, Affine, Normalization, Point, Rect},
    models::VerifiedModel,
    runtime::{ModelSession, RuntimeError, SessionFactory},
};

/// 2d106det takes raw 0–255 RGB (its graph subtracts and scales itself).
const NORMALIZATION: Normalization = Normalization { mean: 0.0, scale: 1.0 };
const POINTS: usize = 106;

/// The 106-point landmark model, with its crop and tensor buffers.
pub struct Landmarker106 {
    session: ModelSession,
    input_name: String,
    size: u32,
    crop: RgbImage,
    tensor: Vec<f32>,
}

impl Landmarker106 {
    /// Builds the landmark model on `model`.
    ///
    /// # Errors
    /// When the session cannot be built or the model is not a square-input 212-output model.
    pub fn build(factory: &SessionFactory, model: &VerifiedModel) -> Result<Self, FaceError> {
        let session = factory.build(&model.path, &model.name)?;
        let inputs = session.input_shapes();
        let [(input_name, shape)] = inputs.as_slice() else {
            return Err(session.interface_error("expected one input").into());
        };
        if shape.len() != 4 || shape[2] <= 0 || shape[2] != shape[3] {
            return Err(session.interface_error(format!("expected a square 1×3×S×S input, found {shape:?}")).into());
        }
        let outputs = session.output_shapes();
        if outputs.len() != 1 || outputs[0].1.last() != Some(&((2 * POINTS) as i64)) {
            return Err(session
                .interface_error(format!("expected one output of {} values, found {outputs:?}", 2 * POINTS))
                .into());
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

    /// The crop transform insightface uses: centred on the box, the box's larger side × 1.5
    /// filling the crop.
    pub fn crop_from_frame(&self, bbox: &[f32; 4]) -> Affine {
        let (w, h) = (f64::from(bbox[2] - bbox[0]), f64::from(bbox[3] - bbox[1]));
        let (cx, cy) = (f64::from(bbox[2] + bbox[0]) / 2.0, f64::from(bbox[3] + bbox[1]) / 2.0);
        let size = f64::from(self.size);
        let scale = size / (w.max(h) * 1.5);
        Affine::scale_translate(scale, size / 2.0 - cx * scale, size / 2.0 - cy * scale)
    }

    /// The 106 landmarks of the face in `bbox`, in frame pixels, into `out` (cleared first).
    ///
    /// # Errors
    /// [`RuntimeError::Inference`] when the model fails.
    pub fn landmarks_into(&mut self, frame: &RgbImage, bbox: &[f32; 4], out: &mut Vec<Point>) -> Result<(), FaceError> {
        let crop_from_frame = self.crop_from_frame(bbox);
        warp_affine_rgb(frame, &crop_from_frame, &mut self.crop, Rect::full(self.size, self.size));
        nchw_from_rgb(&self.crop, NORMALIZATION, &mut self.tensor);
        let s = i64::from(self.size);
        let label = self.session.label().to_string();
        let inference = |e: ort::Error| RuntimeError::Inference { model: label.clone(), reason: e.to_string() };
        let input = TensorRef::from_array_view(([1i64, 3, s, s], &self.tensor[..])).map_err(inference)?;
        let outputs = self.session.run(ort::inputs![self.input_name.as_str() => input])?;
        let (_, data) = outputs[0].try_extract_tensor::<f32>().map_err(inference)?;
        let frame_from_crop = crop_from_frame.inverse();
        let half = f64::from(self.size / 2) as f32;
        out.clear();
        out.extend(
            data[data.len() - 2 * POINTS..]
                .chunks_exact(2)
                .map(|p| frame_from_crop.apply([(p[0] + 1.0) * half, (p[1] + 1.0) * half])),
        );
        Ok(())
    }

    /// The 106 landmarks of the face in `bbox`, in frame pixels.
    ///
    /// # Errors
    /// [`RuntimeError::Inference`] when the model fails.
    pub fn landmarks(&mut self, frame: &RgbImage, bbox: &[f32; 4]) -> Result<Vec<Point>, FaceError> {
        let mut out = Vec::with_capacity(POINTS);
        self.landmarks_into(frame, bbox, &mut out)?;
        Ok(out)
    }
}
