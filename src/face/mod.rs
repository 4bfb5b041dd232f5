//! Faces: detection (SCRFD), 106-point landmarks, ArcFace identity vectors, and the alignment
//! that ties them together — each matching insightface's Python implementation.

mod align;
mod analyzer;
mod arcface;
mod crop_model;
mod decode;
mod error;
mod identities;
mod landmarks;
pub mod regions;
mod report;
mod scrfd;
mod select;

pub use align::{align_to_template, umeyama_similarity, ARCFACE_128_FRACTIONS, ARCFACE_TEMPLATE};
pub use analyzer::{Analysis, FaceAnalyzer, FaceModels};
pub use arcface::ArcFaceEmbedder;
pub use decode::{decode_scrfd_stride, nms, Candidate};
pub use error::FaceError;
pub use identities::{Identities, Person};
pub use landmarks::Landmarker106;
pub use regions::Expression;
pub use report::{DetectionReport, FaceReport};
pub use scrfd::{DetectorConfig, ScrfdDetector};
pub use select::{largest_face, FaceSelection};

use serde::Serialize;

use crate::imaging::Point;

/// One detected face, and what has been computed about it so far.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Face {
    /// `[x1, y1, x2, y2]` in picture pixels.
    pub bbox: [f32; 4],
    pub score: f32,
    /// Left eye, right eye, nose, left mouth corner, right mouth corner.
    pub kps: [Point; 5],
    /// The 106 landmarks of insightface's 2d106det, when computed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub landmarks: Option<Vec<Point>>,
    /// The raw ArcFace output, when computed (see [`Embedding::normed`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub embedding: Option<Embedding>,
}

impl Face {
    /// The box area in square pixels.
    pub fn area(&self) -> f32 {
        (self.bbox[2] - self.bbox[0]) * (self.bbox[3] - self.bbox[1])
    }

    /// The larger side of the box: the face's size for tolerances.
    pub fn size(&self) -> f32 {
        (self.bbox[2] - self.bbox[0]).max(self.bbox[3] - self.bbox[1])
    }
}

/// An ArcFace identity vector (512 values).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Embedding(pub Vec<f32>);

impl Embedding {
    /// The vector divided by its L2 norm: insightface's `normed_embedding`.
    pub fn normed(&self) -> Vec<f32> {
        let norm = self.0.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>().sqrt();
        let inv = if norm > 0.0 { 1.0 / norm } else { 0.0 };
        self.0.iter().map(|v| (f64::from(*v) * inv) as f32).collect()
    }

    /// Cosine similarity to `other`: 1 for the same direction, about 0 for strangers.
    pub fn cosine(&self, other: &Embedding) -> f32 {
        let dot: f64 = self.0.iter().zip(&other.0).map(|(a, b)| f64::from(*a) * f64::from(*b)).sum();
        let na: f64 = self.0.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>().sqrt();
        let nb: f64 = other.0.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>().sqrt();
        if na == 0.0 || nb == 0.0 {
            0.0
        } else {
            (dot / (na * nb)) as f32
        }
    }
}
