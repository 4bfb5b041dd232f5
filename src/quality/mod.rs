//! Swap quality, measured with the engine's own models: for each face, identity to the source
//! (ArcFace cosine) before and after, eye and mouth openness before and after (the 106
//! landmarks), and how far the landmarks moved; for video, those as series over sampled frames,
//! their correlations, and flicker (frame-to-frame change inside the face boxes, result over
//! original). [`sheet`] draws them on a before/after contact sheet.

mod error;
mod seam;
mod sheet;
mod tone;
mod video;

use image::RgbImage;
use serde::Serialize;

pub use error::CompareError;
pub use seam::seam;
pub use sheet::{picture_sheet, video_sheet};
pub use tone::{light_change, lip_colour_change};
pub use video::{compare_videos, FrameFigures, VideoComparison};

use crate::{
    face::{Analysis, Expression, Face, FaceAnalyzer},
    imaging::Point,
    Result,
};

/// One face before and after.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FaceFigures {
    /// The face's box in the original.
    pub bbox: [f32; 4],
    pub identity_before: f32,
    pub identity_after: f32,
    pub eyes_before: f32,
    pub eyes_after: f32,
    pub mouth_before: f32,
    pub mouth_after: f32,
    /// Mean landmark movement, as a share of the face's size.
    pub drift: f32,
    /// How visible the swap's edge is (see [`seam`]), grey levels per pixel; measured on
    /// pictures only (a re-encoded video changes every pixel a little).
    pub seam: Option<f32>,
    /// How far the light over the face moved (see [`light_change`]) and the lips' colour (see
    /// [`lip_colour_change`]), grey levels; pictures only, as the seam.
    pub light_change: Option<f32>,
    pub lip_colour_change: Option<f32>,
}

/// A picture before and after, face by face (in the original's detection order).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PictureComparison {
    pub faces: Vec<FaceFigures>,
    pub mean_identity_after: f32,
    pub mean_eye_change: f32,
    pub mean_mouth_change: f32,
    /// The mean seam of the faces it could be measured on.
    pub mean_seam: Option<f32>,
}

fn centre(face: &Face) -> Point {
    [(face.bbox[0] + face.bbox[2]) / 2.0, (face.bbox[1] + face.bbox[3]) / 2.0]
}

/// The face of `faces` whose centre is nearest `like`'s, when it is within half `like`'s size.
pub(crate) fn matching<'f>(faces: &'f [Face], like: &Face) -> Option<&'f Face> {
    let [x, y] = centre(like);
    let distance = |f: &Face| {
        let [a, b] = centre(f);
        ((a - x).powi(2) + (b - y).powi(2)).sqrt()
    };
    faces.iter().min_by(|a, b| distance(a).total_cmp(&distance(b))).filter(|f| distance(f) < like.size() / 2.0)
}

/// The figures of one face: `before` in the original, `after` in the result.
pub(crate) fn figures(before: &Face, after: &Face, identity: &[f32]) -> Option<FaceFigures> {
    let cosine = |face: &Face| face.embedding.as_ref().map_or(0.0, |e| cosine(&e.normed(), identity));
    let (lb, la) = (before.landmarks.as_deref()?, after.landmarks.as_deref()?);
    let (eb, ea) = (Expression::of(lb)?, Expression::of(la)?);
    let drift = lb.iter().zip(la).map(|(p, q)| ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)).sqrt()).sum::<f32>()
        / lb.len() as f32
        / before.size().max(1.0);
    Some(FaceFigures {
        bbox: before.bbox,
        identity_before: cosine(before),
        identity_after: cosine(after),
        eyes_before: eb.eyes,
        eyes_after: ea.eyes,
        mouth_before: eb.mouth,
        mouth_after: ea.mouth,
        drift,
        seam: None,
        light_change: None,
        lip_colour_change: None,
    })
}

fn size_mismatch((original_w, original_h): (u32, u32), (result_w, result_h): (u32, u32)) -> CompareError {
    CompareError::SizeMismatch { original_w, original_h, result_w, result_h }
}

/// A pixel's grey level (ITU-R BT.601 weights), for the figures measured in grey levels.
pub(crate) fn grey(p: &[u8]) -> f32 {
    0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2])
}

/// Cosine of two L2-normalised vectors.
pub(crate) fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Compares `original` and `result` face by face; `identity` is the source's normalised
/// identity vector.
///
/// # Errors
/// [`CompareError`] when they differ in size, the original has no face, or none of its faces
/// is in the result; a model's error.
pub fn compare_pictures(
    analyzer: &mut FaceAnalyzer,
    identity: &[f32],
    original: &RgbImage,
    result: &RgbImage,
) -> Result<PictureComparison> {
    if original.dimensions() != result.dimensions() {
        return Err(size_mismatch(original.dimensions(), result.dimensions()).into());
    }
    let before = analyzer.analyze(original, Analysis::FULL)?;
    if before.is_empty() {
        return Err(CompareError::NoFaceInOriginal.into());
    }
    let after = analyzer.analyze(result, Analysis::FULL)?;
    let faces: Vec<FaceFigures> = before
        .iter()
        .filter_map(|b| {
            let figures = matching(&after, b).and_then(|a| figures(b, a, identity))?;
            let landmarks = b.landmarks.as_deref().unwrap_or_default();
            Some(FaceFigures {
                seam: seam(original, result, b),
                light_change: light_change(original, result, landmarks),
                lip_colour_change: lip_colour_change(original, result, landmarks),
                ..figures
            })
        })
        .collect();
    if faces.is_empty() {
        return Err(CompareError::NoFaceInResult.into());
    }
    let mean = |f: &dyn Fn(&FaceFigures) -> f32| {
        if faces.is_empty() {
            0.0
        } else {
            faces.iter().map(f).sum::<f32>() / faces.len() as f32
        }
    };
    let seams: Vec<f32> = faces.iter().filter_map(|f| f.seam).collect();
    Ok(PictureComparison {
        mean_seam: (!seams.is_empty()).then(|| seams.iter().sum::<f32>() / seams.len() as f32),
        mean_identity_after: mean(&|f| f.identity_after),
        mean_eye_change: mean(&|f| (f.eyes_after - f.eyes_before).abs()),
        mean_mouth_change: mean(&|f| (f.mouth_after - f.mouth_before).abs()),
        faces,
    })
}
