//! The source face as a value: computed once from a picture (identity vector, 106 landmarks, the
//! face region cut out, its triangle mesh) and then shared, read-only, by every swapper on every
//! thread. Swappers keep only their own buffers; the source is never swapper state.

use std::sync::{
    atomic::{AtomicU64, Ordering},
    OnceLock,
};

use image::{GrayImage, RgbImage};

use super::{FaceMesh, SwapError};
use crate::{
    face::{regions, Face, FaceAnalyzer, FaceError, FaceSelection},
    imaging::{bounds, centroid, fill_polygon, GrayF32, Point, Rect},
};

/// Gives each source a number, so swappers can cache what they derive from it (a latent).
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A source face: everything any swapper needs from it, computed once.
#[derive(Debug, Clone)]
pub struct SourceFace {
    id: u64,
    /// The face region of the source picture (a margin kept for bilinear taps).
    picture: RgbImage,
    /// The 106 landmarks and the forehead points after them, in `picture` coordinates.
    points: Vec<Point>,
    /// How the face is turned (see [`Turn`]).
    turn: Turn,
    /// The L2-normalised identity vector.
    identity: Vec<f32>,
    mesh: FaceMesh,
    /// Triangles over the mesh points and a circle about them ([`regions::surround`]), for
    /// moving the target's own face and its surroundings onto the swap's geometry: made on
    /// first use, since only an outline that follows the source needs them.
    surround_mesh: OnceLock<FaceMesh>,
    /// How much of each pixel of `picture` is skin (255) rather than hair or hat: only the
    /// forehead is judged (by colour against the face's own skin); the rest is 255.
    skin: GrayImage,
    /// The face as detected in the whole picture (box, keypoints), for reports.
    face: Face,
    /// Which face of the picture this is (as detection numbers them), and how many it has.
    index: usize,
    faces_in_picture: usize,
}

impl SourceFace {
    /// The source face `face` of `picture`; `face` must carry its landmarks and identity vector.
    ///
    /// # Errors
    /// [`SwapError::MissingAnalysis`] when it lacks either.
    pub fn new(picture: &RgbImage, face: &Face) -> Result<Self, SwapError> {
        let missing = |what| SwapError::MissingAnalysis { swapper: "source", what, role: "source" };
        let landmarks = face.landmarks.as_deref().filter(|p| p.len() >= 3).ok_or_else(|| missing("106 landmarks"))?;
        let identity = face.embedding.as_ref().ok_or_else(|| missing("identity vector"))?.normed();
        let points = regions::with_forehead(landmarks);
        let (lo, hi) = bounds(&points);
        let region = Rect::around(lo, hi, 4.0, picture.width(), picture.height());
        let cut = image::imageops::crop_imm(picture, region.x0, region.y0, region.width(), region.height()).to_image();
        let shifted: Vec<Point> = points.iter().map(|p| [p[0] - region.x0 as f32, p[1] - region.y0 as f32]).collect();
        let mesh = FaceMesh::triangulate(&shifted);
        let skin = skin_mask(&cut, &shifted);
        let turn = Turn::of(landmarks);
        Ok(Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            picture: cut,
            points: shifted,
            turn,
            identity,
            mesh,
            surround_mesh: OnceLock::new(),
            skin,
            face: face.clone(),
            index: 0,
            faces_in_picture: 1,
        })
    }

    /// Face `face` of `picture` (numbered as detection lists them), or its largest face when
    /// none is named, analysed in full; `what` names the picture in errors.
    ///
    /// # Errors
    /// [`FaceError::NoFace`] when the picture has no face, [`FaceError::NoSuchFace`] for a
    /// number past the end, or a model failure.
    pub fn in_picture(
        picture: &RgbImage,
        analyzer: &mut FaceAnalyzer,
        what: &str,
        face: Option<usize>,
    ) -> Result<Self, SwapError> {
        let faces = analyzer.analyze(picture, crate::face::Analysis::FULL)?;
        let selection = face.map_or(FaceSelection::Largest, FaceSelection::Index);
        let chosen = selection.pick(&faces, what)?;
        let index = chosen.first().copied().ok_or_else(|| FaceError::NoFace { what: what.to_string() })?;
        if faces.len() > 1 {
            tracing::info!(picture = what, faces = faces.len(), used = index, "the source picture has several faces");
        }
        Ok(Self { index, faces_in_picture: faces.len(), ..Self::new(picture, &faces[index])? })
    }

    /// The largest face of `picture`; see [`SourceFace::in_picture`].
    ///
    /// # Errors
    /// As [`SourceFace::in_picture`].
    pub fn largest_in(picture: &RgbImage, analyzer: &mut FaceAnalyzer, what: &str) -> Result<Self, SwapError> {
        Self::in_picture(picture, analyzer, what, None)
    }

    /// Which face of its picture this is, as detection numbers them.
    pub fn index(&self) -> usize {
        self.index
    }

    /// How many faces its picture has.
    pub fn faces_in_picture(&self) -> usize {
        self.faces_in_picture
    }

    /// A number no other source in this process has.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The face region of the source picture.
    pub fn picture(&self) -> &RgbImage {
        &self.picture
    }

    /// The 106 landmarks in [`SourceFace::picture`] coordinates.
    pub fn landmarks(&self) -> &[Point] {
        &self.points[..self.points.len().min(106)]
    }

    /// The landmarks and the forehead points the mesh is made on.
    pub fn mesh_points(&self) -> &[Point] {
        &self.points
    }

    /// How far the face is turned away from the camera.
    pub fn turn(&self) -> Turn {
        self.turn
    }

    /// The L2-normalised identity vector (insightface's `normed_embedding`).
    pub fn identity(&self) -> &[f32] {
        &self.identity
    }

    /// How much of each pixel of [`SourceFace::picture`] is skin (forehead hair is not).
    pub fn skin(&self) -> &GrayImage {
        &self.skin
    }

    /// The Delaunay triangles over [`SourceFace::mesh_points`].
    pub fn mesh(&self) -> &FaceMesh {
        &self.mesh
    }

    /// The triangles over [`SourceFace::mesh_points`] and the [`regions::surround`] circle
    /// after them.
    pub fn surround_mesh(&self) -> &FaceMesh {
        self.surround_mesh.get_or_init(|| {
            let mut around = self.points.clone();
            around.extend_from_slice(&regions::surround(&self.points));
            FaceMesh::triangulate(&around)
        })
    }

    /// The face as found in the whole source picture.
    pub fn face(&self) -> &Face {
        &self.face
    }
}

/// Per-channel median and spread (median absolute deviation) of the face's own skin: the
/// pixels inside the cheeks-and-nose region, below the eyes and above the mouth.
fn skin_colour(picture: &RgbImage, points: &[Point]) -> Option<([f32; 3], [f32; 3])> {
    // The jaw (outline points 4 to 28) closed over the nose: cheeks, nose and mouth, mostly
    // skin; the median is not moved by the lips.
    let region: Vec<Point> =
        [4, 8, 12, 16, 20, 24, 28, 86, 72].iter().filter_map(|&i| points.get(i).copied()).collect();
    let mut mask = GrayF32::new(picture.width(), picture.height());
    fill_polygon(&mut mask, &region, 1.0, Rect::full(picture.width(), picture.height()));
    let mut channels: [Vec<u8>; 3] = [Vec::new(), Vec::new(), Vec::new()];
    for (p, m) in picture.pixels().zip(mask.pixels()) {
        if m.0[0] > 0.5 {
            for (channel, value) in channels.iter_mut().zip(p.0) {
                channel.push(value);
            }
        }
    }
    if channels[0].len() < 32 {
        return None;
    }
    let median = |v: &mut Vec<u8>| {
        v.sort_unstable();
        f32::from(v[v.len() / 2])
    };
    let mut centre = [0.0; 3];
    let mut spread = [0.0; 3];
    for ((channel, middle), deviation) in channels.iter_mut().zip(&mut centre).zip(&mut spread) {
        *middle = median(channel);
        let mut deviations: Vec<u8> = channel.iter().map(|&v| (f32::from(v) - *middle).abs() as u8).collect();
        *deviation = median(&mut deviations);
    }
    Some((centre, spread))
}

/// The skin mask of a source: 255 everywhere but on the forehead (its outline grown a little,
/// to take in the pixels its edge samples), where pixels far from the face's skin colour (hair
/// across the forehead, a hat) fall to 0.
fn skin_mask(picture: &RgbImage, points: &[Point]) -> GrayImage {
    let (w, h) = picture.dimensions();
    let mut skin = GrayImage::from_pixel(w, h, image::Luma([255]));
    let outline = regions::forehead_outline(points);
    let Some((centre, spread)) = skin_colour(picture, points).filter(|_| outline.len() >= 3) else { return skin };
    let c = centroid(&outline);
    let grown: Vec<Point> = outline.iter().map(|p| [c[0] + (p[0] - c[0]) * 1.15, c[1] + (p[1] - c[1]) * 1.3]).collect();
    let mut forehead = GrayF32::new(w, h);
    fill_polygon(&mut forehead, &grown, 1.0, Rect::full(w, h));
    for ((p, f), s) in picture.pixels().zip(forehead.pixels()).zip(skin.pixels_mut()) {
        if f.0[0] < 0.5 {
            continue;
        }
        // How many spreads from the skin the pixel is, its worst channel: skin within 1 (255),
        // hair from 2 on (0).
        let distance =
            (0..3).map(|c| (f32::from(p.0[c]) - centre[c]).abs() / (2.5 * spread[c] + 8.0)).fold(0.0f32, f32::max);
        s.0[0] = ((2.0 - distance).clamp(0.0, 1.0) * 255.0) as u8;
    }
    skin
}

/// How far a face is turned left or right, read from its 106 landmarks: how much wider its near
/// half is than its far half (1 for a frontal face), measured from the midline (chin, nose, the
/// lips' middles) to the outline along the eyes' axis. A turned face's far half is seen nearly
/// edge-on: the landmark swapper can only spread its slivers (or leave them out), so likeness
/// suffers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Turn {
    pub ratio: f32,
}

/// A face whose near half is this many times as wide as its far half is turned well away:
/// measured on the sample faces, frontal ones read 1.05–1.2, slight turns 1.7–2.3, t1.jpg's
/// three-quarter views 4 and 10, a profile 17.
const TURNED_AWAY: f32 = 3.0;

impl Turn {
    /// The turn of a face with the 106 `landmarks` (frontal when they are fewer).
    pub fn of(landmarks: &[Point]) -> Self {
        let frontal = Self { ratio: 1.0 };
        if landmarks.len() < 106 {
            return frontal;
        }
        let centre = |indices: &[usize]| {
            let n = indices.len() as f32;
            indices.iter().fold([0.0, 0.0], |a, &i| [a[0] + landmarks[i][0] / n, a[1] + landmarks[i][1] / n])
        };
        let (left, right) = (centre(&regions::LEFT_EYE), centre(&regions::RIGHT_EYE));
        let (dx, dy) = (right[0] - left[0], right[1] - left[1]);
        let length = (dx * dx + dy * dy).sqrt();
        if length <= f32::EPSILON {
            return frontal;
        }
        // Across the face, along the eyes; a point's side is where it lies against its mirror.
        let across = |i: usize| (landmarks[i][0] * dx + landmarks[i][1] * dy) / length;
        let midline = regions::MIDLINE.iter().map(|&i| across(i)).sum::<f32>() / regions::MIDLINE.len() as f32;
        let (mut widths, mut counts) = ([0.0f32; 2], [0.0f32; 2]);
        for i in regions::CONTOUR.filter(|&i| regions::MIRROR[i] != i) {
            let side = usize::from(across(i) > across(regions::MIRROR[i]));
            widths[side] += (across(i) - midline).abs();
            counts[side] += 1.0;
        }
        let [l, r] = [widths[0] / counts[0].max(1.0), widths[1] / counts[1].max(1.0)];
        Self { ratio: l.max(r) / l.min(r).max(1.0) }
    }

    /// Turned well away from the camera (past three-quarters, or nearly so).
    pub fn is_turned_away(&self) -> bool {
        self.ratio >= TURNED_AWAY
    }
}
