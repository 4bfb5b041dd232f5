//! The frame that travels through the stages, gathering faces and timings on the way.

use std::time::Instant;

use image::RgbImage;

use crate::face::Face;

/// Milliseconds each stage spent on one frame.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StageTimes {
    pub capture: f32,
    pub detect: f32,
    pub track: f32,
    pub swap: f32,
    /// 0 without an enhancer.
    pub enhance: f32,
    /// 0 without the watermark.
    pub watermark: f32,
}

/// A picture in the pipeline.
#[derive(Debug)]
pub struct Frame {
    /// Position in the source's stream, from 0; gaps mean dropped frames.
    pub seq: u64,
    /// When the source delivered it: the start of its capture-to-display delay.
    pub captured: Instant,
    /// Seconds from the start of the stream, when the source knows.
    pub pts: Option<f64>,
    /// The source's own timestamp (stream time base), when it is a file.
    pub timestamp: Option<i64>,
    pub image: RgbImage,
    /// What the detector found, on a detection frame (consumed by the track stage).
    pub detections: Option<Vec<Face>>,
    /// The faces the track stage follows, with their landmarks.
    pub faces: Vec<Face>,
    /// How many faces the swap stage replaced.
    pub swapped: usize,
    /// Which of `faces` it replaced (bit i for face i; faces past 64 are not enhanced), for the
    /// enhance stage: a bit set, so that no list is allocated per frame.
    pub swapped_faces: u64,
    pub times: StageTimes,
}
