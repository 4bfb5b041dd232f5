//! The faces of a picture as `faceswap detect --json` prints them and `POST /v1/detect`
//! answers: one shape for every front-end.

use serde::{Deserialize, Serialize};

use super::Face;
use crate::imaging::Point;

/// `{"width", "height", "faces": [...]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct DetectionReport {
    pub width: u32,
    pub height: u32,
    pub faces: Vec<FaceReport>,
}

/// One face: box, score, five keypoints, and the identity vector and landmarks when asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct FaceReport {
    /// `[x1, y1, x2, y2]` in pixels.
    #[cfg_attr(feature = "server", schema(value_type = Vec<f32>))]
    pub bbox: [f32; 4],
    pub score: f32,
    /// Left eye, right eye, nose, left and right mouth corner, each `[x, y]`.
    #[cfg_attr(feature = "server", schema(value_type = Vec<Vec<f32>>))]
    pub kps: [Point; 5],
    /// L2-normalised, 512 values.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub embedding: Option<Vec<f32>>,
    /// 106 points, each `[x, y]`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    #[cfg_attr(feature = "server", schema(value_type = Option<Vec<Vec<f32>>>))]
    pub landmarks: Option<Vec<Point>>,
}

impl From<Face> for FaceReport {
    fn from(face: Face) -> Self {
        Self {
            bbox: face.bbox,
            score: face.score,
            kps: face.kps,
            embedding: face.embedding.map(|e| e.normed()),
            landmarks: face.landmarks,
        }
    }
}

impl DetectionReport {
    /// The report for `faces` found in a `width`×`height` picture.
    pub fn new(width: u32, height: u32, faces: Vec<Face>) -> Self {
        Self { width, height, faces: faces.into_iter().map(FaceReport::from).collect() }
    }
}
