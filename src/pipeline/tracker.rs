//! Detection every K frames, tracking in between. A track follows its face with the landmark
//! model (cheap next to detection): the motion of its 106 points, as a similarity transform,
//! moves its box and keypoints. Detections are matched to tracks by box overlap, a track
//! survives a missed detection or two, and every output point is smoothed (One Euro), so the
//! swapped face neither lags nor jitters nor flickers.

use image::RgbImage;

use super::OneEuroFilter;
use crate::{
    face::{umeyama_similarity, ArcFaceEmbedder, Face, FaceError, Landmarker106, ScrfdDetector},
    imaging::Point,
};

/// A model rebuilt by the watchdog for the track stage.
pub enum TrackUpdate {
    Landmarker(Landmarker106),
    Embedder(ArcFaceEmbedder),
}

/// How often to detect and how tolerant tracks are.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackerConfig {
    /// Run the detector on every K-th frame (1 = every frame).
    pub detect_every: u32,
    /// Detections a track may miss before it is dropped.
    pub max_misses: u32,
    /// Smooth the output points over time.
    pub smoothing: bool,
    /// Compute identity vectors on detection frames (needed to pick faces by reference).
    pub embeddings: bool,
    /// The first frame's number in the whole video (a part of a split job detects on the
    /// same frames as one whole run would).
    pub first_frame: u64,
}

impl Default for TrackerConfig {
    fn default() -> Self {
        Self { detect_every: 1, max_misses: 2, smoothing: true, embeddings: false, first_frame: 0 }
    }
}

/// Smoothed coordinates per face: box (4), keypoints (10), landmarks (212).
const SMOOTHED_VALUES: usize = 4 + 10 + 212;

/// Per-coordinate filters for a face: box (4), keypoints (10), landmarks (212).
#[derive(Debug, Clone)]
struct FaceSmoother {
    filters: Vec<OneEuroFilter>,
}

impl FaceSmoother {
    fn new(values: usize) -> Self {
        Self { filters: vec![OneEuroFilter::new(1.5, 0.05); values] }
    }

    fn smooth(&mut self, face: &Face, t: f64) -> Face {
        let mut out = face.clone();
        let mut filters = self.filters.iter_mut();
        let mut next = |v: &mut f32| {
            if let Some(f) = filters.next() {
                *v = f.filter(*v, t);
            }
        };
        out.bbox.iter_mut().for_each(&mut next);
        out.kps.iter_mut().flatten().for_each(&mut next);
        if let Some(points) = out.landmarks.as_mut() {
            points.iter_mut().flatten().for_each(&mut next);
        }
        out
    }
}

#[derive(Debug, Clone)]
struct Track {
    face: Face,
    misses: u32,
    smoother: FaceSmoother,
    /// Its place in the last detection's order (detections come best score first, as
    /// `faceswap detect` lists them), so that face N is the same face in video and pictures.
    rank: usize,
}

/// Runs the detector on every K-th frame (and on every frame while nothing is tracked).
pub struct FrameDetector {
    detector: ScrfdDetector,
    every: u64,
    index: u64,
}

impl FrameDetector {
    pub fn new(detector: ScrfdDetector, every: u32) -> Self {
        Self::starting_at(detector, every, 0)
    }

    /// As [`FrameDetector::new`], the first frame being frame `first` of the video.
    pub fn starting_at(detector: ScrfdDetector, every: u32, first: u64) -> Self {
        Self { detector, every: u64::from(every.max(1)), index: first }
    }

    /// The faces in this frame when it is a detection frame, else `None`.
    ///
    /// # Errors
    /// When the detector fails.
    pub fn detect(&mut self, image: &RgbImage, tracking: bool) -> Result<Option<Vec<Face>>, FaceError> {
        let due = !tracking || self.index.is_multiple_of(self.every);
        self.index += 1;
        if due {
            self.detector.detect(image).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Time spent inside the detector model so far.
    pub fn inference_time(&self) -> std::time::Duration {
        self.detector.inference_time()
    }

    /// Swaps in a freshly built detector (hot reload).
    pub fn replace(&mut self, detector: ScrfdDetector) {
        self.detector = detector;
    }
}

/// Follows faces from frame to frame: matches detections to tracks, moves tracks with the
/// landmark model in between, smooths what it outputs.
pub struct TrackFollower {
    landmarker: Landmarker106,
    embedder: Option<ArcFaceEmbedder>,
    config: TrackerConfig,
    tracks: Vec<Track>,
    points: Vec<Point>,
}

/// Detection and tracking together, for one thread; [`FaceTracker::into_stages`] splits them
/// for the pipeline, where each runs on its own thread.
pub struct FaceTracker {
    detector: FrameDetector,
    follower: TrackFollower,
}

fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let w = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let h = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = w * h;
    let union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
    if union > 0.0 {
        inter / union
    } else {
        0.0
    }
}

impl FaceTracker {
    pub fn new(
        detector: ScrfdDetector,
        landmarker: Landmarker106,
        embedder: Option<ArcFaceEmbedder>,
        config: TrackerConfig,
    ) -> Self {
        Self {
            detector: FrameDetector::starting_at(detector, config.detect_every, config.first_frame),
            follower: TrackFollower { landmarker, embedder, config, tracks: Vec::new(), points: Vec::new() },
        }
    }

    /// The faces in this frame (taken at `t` seconds): detected or tracked, with landmarks.
    ///
    /// # Errors
    /// When a model fails; the tracks are kept for the next frame.
    pub fn update(&mut self, image: &RgbImage, t: f64) -> Result<Vec<Face>, FaceError> {
        let detections = self.detector.detect(image, self.follower.is_tracking())?;
        self.follower.update(image, t, detections)
    }

    /// The configuration.
    pub fn config(&self) -> TrackerConfig {
        self.follower.config
    }

    /// The detector and the follower, for two pipeline stages.
    pub fn into_stages(self) -> (FrameDetector, TrackFollower) {
        (self.detector, self.follower)
    }
}

impl TrackFollower {
    /// Time spent inside the landmark (and identity) models so far.
    pub fn inference_time(&self) -> std::time::Duration {
        self.landmarker.inference_time()
            + self.embedder.as_ref().map_or(std::time::Duration::ZERO, |e| e.inference_time())
    }

    /// Whether any face is being followed.
    pub fn is_tracking(&self) -> bool {
        !self.tracks.is_empty()
    }

    /// Swaps in a freshly built model (hot reload), keeping the tracks.
    pub fn apply(&mut self, update: TrackUpdate) {
        match update {
            TrackUpdate::Landmarker(landmarker) => self.landmarker = landmarker,
            TrackUpdate::Embedder(embedder) => {
                if self.embedder.is_some() {
                    self.embedder = Some(embedder);
                }
            }
        }
    }

    /// The faces in this frame: `detections` (on a detection frame) matched to the tracks,
    /// the others followed by their landmarks.
    ///
    /// # Errors
    /// When a model fails; the tracks are kept for the next frame.
    pub fn update(&mut self, image: &RgbImage, t: f64, detections: Option<Vec<Face>>) -> Result<Vec<Face>, FaceError> {
        let detect = detections.is_some();
        if let Some(detections) = detections {
            let mut hit = vec![false; self.tracks.len()];
            let mut fresh = Vec::new();
            let detected = detections.len();
            // Tracks this detection misses go after the ones it found, in their old order.
            for (i, track) in self.tracks.iter_mut().enumerate() {
                track.rank = detected + i;
            }
            for (rank, detection) in detections.into_iter().enumerate() {
                let best = (0..self.tracks.len())
                    .filter(|&i| !hit[i])
                    .map(|i| (i, iou(&self.tracks[i].face.bbox, &detection.bbox)))
                    .filter(|&(_, overlap)| overlap > 0.3)
                    .max_by(|a, b| a.1.total_cmp(&b.1));
                match best {
                    Some((i, _)) => {
                        hit[i] = true;
                        let track = &mut self.tracks[i];
                        // The new box and keypoints; the buffers of the old face are reused.
                        let (embedding, landmarks) = (track.face.embedding.take(), track.face.landmarks.take());
                        track.face = Face { embedding, landmarks, ..detection };
                        track.misses = 0;
                        track.rank = rank;
                    }
                    None => fresh.push((rank, detection)),
                }
            }
            for (track, _) in self.tracks.iter_mut().zip(&hit).filter(|(_, hit)| !**hit) {
                track.misses += 1;
            }
            let max_misses = self.config.max_misses;
            self.tracks.retain(|t| t.misses <= max_misses);
            self.tracks.extend(fresh.into_iter().map(|(rank, face)| Track {
                face,
                misses: 0,
                smoother: FaceSmoother::new(SMOOTHED_VALUES),
                rank,
            }));
            self.tracks.sort_by_key(|t| t.rank);
        }
        for track in &mut self.tracks {
            if detect && track.misses == 0 {
                // A fresh box: landmarks (and the identity when asked) from the detection.
                let mut landmarks = track.face.landmarks.take().unwrap_or_default();
                self.landmarker.landmarks_into(image, &track.face.bbox, &mut landmarks)?;
                track.face.landmarks = Some(landmarks);
                if let Some(embedder) = self.embedder.as_mut() {
                    track.face.embedding = Some(embedder.embed(image, &track.face.kps)?);
                }
            } else {
                follow(&mut self.landmarker, image, &mut track.face, &mut self.points)?;
            }
        }
        Ok(self
            .tracks
            .iter_mut()
            .map(|track| if self.config.smoothing { track.smoother.smooth(&track.face, t) } else { track.face.clone() })
            .collect())
    }
}

/// Moves a tracked face to where its landmarks now are.
fn follow(
    landmarker: &mut Landmarker106,
    image: &RgbImage,
    face: &mut Face,
    points: &mut Vec<Point>,
) -> Result<(), FaceError> {
    landmarker.landmarks_into(image, &face.bbox, points)?;
    let Some(previous) = face.landmarks.as_mut() else {
        face.landmarks = Some(points.clone());
        return Ok(());
    };
    let motion = umeyama_similarity(previous, points);
    let scale = motion.scale() as f32;
    let centre = [(face.bbox[0] + face.bbox[2]) / 2.0, (face.bbox[1] + face.bbox[3]) / 2.0];
    let half = [(face.bbox[2] - face.bbox[0]) / 2.0 * scale, (face.bbox[3] - face.bbox[1]) / 2.0 * scale];
    let moved = motion.apply(centre);
    face.bbox = [moved[0] - half[0], moved[1] - half[1], moved[0] + half[0], moved[1] + half[1]];
    for p in face.kps.iter_mut() {
        *p = motion.apply(*p);
    }
    previous.clear();
    previous.extend_from_slice(points);
    Ok(())
}
