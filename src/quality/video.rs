//! Comparing a video with its swapped version: the largest face of sampled frames, measured as
//! pictures are, and the series' correlations; flicker from each sampled frame and the one
//! before it.

use std::path::Path;

use image::RgbImage;
use serde::Serialize;

use super::{figures, matching, FaceFigures};
use crate::{
    face::{largest_face, Analysis, FaceAnalyzer},
    imaging::{PictureLimits, Rect},
    video::{FrameSource, VideoFileSource},
    Result,
};

/// One sampled frame.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FrameFigures {
    pub frame: u64,
    #[serde(flatten)]
    pub face: FaceFigures,
}

/// A video before and after.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VideoComparison {
    pub frames: Vec<FrameFigures>,
    /// Pearson correlation of the original's and the result's eye openness over the samples.
    pub eye_correlation: f32,
    pub mouth_correlation: f32,
    pub mean_identity_before: f32,
    pub mean_identity_after: f32,
    /// Mean absolute change between consecutive frames inside the face box, the result's over
    /// the original's (1: the result changes as much as the original; above: it flickers).
    pub flicker: f32,
    /// How many frames each has: when they differ, only the first of the shorter's length
    /// were compared.
    pub frames_original: u64,
    pub frames_result: u64,
}

/// Pearson's correlation of two series (0 when either is flat).
pub fn correlation(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    if n < 2 {
        return 0.0;
    }
    let mean = |v: &[f32]| v[..n].iter().map(|x| f64::from(*x)).sum::<f64>() / n as f64;
    let (ma, mb) = (mean(a), mean(b));
    let (mut cov, mut va, mut vb) = (0.0, 0.0, 0.0);
    for i in 0..n {
        let (x, y) = (f64::from(a[i]) - ma, f64::from(b[i]) - mb);
        cov += x * y;
        va += x * x;
        vb += y * y;
    }
    if va <= 0.0 || vb <= 0.0 {
        0.0
    } else {
        (cov / (va * vb).sqrt()) as f32
    }
}

/// Mean absolute difference of two frames over `roi`.
fn change(a: &RgbImage, b: &RgbImage, roi: Rect) -> f64 {
    let w = a.width() as usize;
    let (mut sum, mut n) = (0u64, 0u64);
    for y in roi.y0..roi.y1 {
        let row = 3 * (y as usize * w);
        let (ra, rb) = (&a.as_raw()[row..row + 3 * w], &b.as_raw()[row..row + 3 * w]);
        for x in 3 * roi.x0 as usize..3 * roi.x1 as usize {
            sum += u64::from(ra[x].abs_diff(rb[x]));
            n += 1;
        }
    }
    if n == 0 {
        0.0
    } else {
        sum as f64 / n as f64
    }
}

/// Compares `original` and `result` (the same frames, swapped) on about `samples` frames spread
/// over the video; `identity` is the source's normalised identity vector.
///
/// # Errors
/// When a video cannot be read, they differ in size, or a model fails.
pub fn compare_videos(
    analyzer: &mut FaceAnalyzer,
    identity: &[f32],
    original: &Path,
    result: &Path,
    samples: usize,
) -> Result<VideoComparison> {
    let limits = PictureLimits::default();
    let mut before = VideoFileSource::open(original, None, false, limits)?;
    let mut after = VideoFileSource::open(result, None, false, limits)?;
    let (bi, ai) = (before.info(), after.info());
    if (bi.width, bi.height) != (ai.width, ai.height) {
        return Err(super::size_mismatch((bi.width, bi.height), (ai.width, ai.height)).into());
    }
    let step = bi.frames.map_or(10, |n| (n / samples.max(1) as u64).max(1));
    let (mut previous_before, mut previous_after): (Option<RgbImage>, Option<RgbImage>) = (None, None);
    let mut frames = Vec::new();
    let (mut change_before, mut change_after) = (0.0, 0.0);
    let mut index = 0u64;
    while let (Some(b), Some(a)) = (before.next_frame(None)?, after.next_frame(None)?) {
        if index.is_multiple_of(step) {
            let faces_before = analyzer.analyze(&b.image, Analysis::FULL)?;
            if let Some(face) = largest_face(&faces_before).map(|i| &faces_before[i]) {
                let faces_after = analyzer.analyze(&a.image, Analysis::FULL)?;
                if let Some(figures) = matching(&faces_after, face).and_then(|m| figures(face, m, identity)) {
                    frames.push(FrameFigures { frame: index, face: figures });
                }
                if let (Some(pb), Some(pa)) = (&previous_before, &previous_after) {
                    let roi = Rect::around(
                        [face.bbox[0], face.bbox[1]],
                        [face.bbox[2], face.bbox[3]],
                        0.0,
                        bi.width,
                        bi.height,
                    );
                    change_before += change(&b.image, pb, roi);
                    change_after += change(&a.image, pa, roi);
                }
            }
        }
        // The frame before each sample, for flicker.
        if (index + 1).is_multiple_of(step) {
            previous_before = Some(b.image);
            previous_after = Some(a.image);
        } else {
            previous_before = None;
            previous_after = None;
        }
        index += 1;
    }
    // What is left of the longer one: a result cut short (an interrupted transcode) is measured
    // on the frames it has, and says so.
    let mut rest = (0u64, 0u64);
    while before.next_frame(None)?.is_some() {
        rest.0 += 1;
    }
    while after.next_frame(None)?.is_some() {
        rest.1 += 1;
    }
    if frames.is_empty() {
        return Err(super::CompareError::NoFaceInResult.into());
    }
    let series = |f: fn(&FaceFigures) -> f32| frames.iter().map(|s| f(&s.face)).collect::<Vec<f32>>();
    let mean = |v: Vec<f32>| if v.is_empty() { 0.0 } else { v.iter().sum::<f32>() / v.len() as f32 };
    Ok(VideoComparison {
        eye_correlation: correlation(&series(|f| f.eyes_before), &series(|f| f.eyes_after)),
        mouth_correlation: correlation(&series(|f| f.mouth_before), &series(|f| f.mouth_after)),
        mean_identity_before: mean(series(|f| f.identity_before)),
        mean_identity_after: mean(series(|f| f.identity_after)),
        flicker: if change_before > 0.0 { (change_after / change_before) as f32 } else { 0.0 },
        frames,
        frames_original: index + rest.0,
        frames_result: index + rest.1,
    })
}

#[cfg(test)]
mod tests {
    use super::correlation;

    #[test]
    fn correlation_of_series() {
        assert!((correlation(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.0]) - 1.0).abs() < 1e-6);
        assert!((correlation(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]) + 1.0).abs() < 1e-6);
        assert_eq!(correlation(&[1.0, 1.0], &[1.0, 2.0]), 0.0);
    }
}
