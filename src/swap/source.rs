//! The source face as a value: computed once from a picture (identity vector, 106 landmarks, the
//! face region cut out, its triangle mesh) and then shared, read-only, by every swapper on every
//! thread. Swappers keep only their own buffers; the source is never swapper state.

use std::sync::atomic::{AtomicU64, Ordering};

use image::RgbImage;

use super::{FaceMesh, SwapError};
use crate::{
    face::{Face, FaceAnalyzer, FaceError, FaceSelection},
    imaging::{Point, Rect},
};

/// Gives each source a number, so swappers can cache what they derive from it (a latent).
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A source face: everything any swapper needs from it, computed once.
#[derive(Debug, Clone)]
pub struct SourceFace {
    id: u64,
    /// The face region of the source picture (a margin kept for bilinear taps).
    picture: RgbImage,
    /// The 106 landmarks, in `picture` coordinates.
    landmarks: Vec<Point>,
    /// The L2-normalised identity vector.
    identity: Vec<f32>,
    mesh: FaceMesh,
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
        let (lo, hi) = bounds(landmarks);
        let region = Rect::around(lo, hi, 4.0, picture.width(), picture.height());
        let cut = image::imageops::crop_imm(picture, region.x0, region.y0, region.width(), region.height()).to_image();
        let shifted: Vec<Point> =
            landmarks.iter().map(|p| [p[0] - region.x0 as f32, p[1] - region.y0 as f32]).collect();
        let mesh = FaceMesh::triangulate(&shifted);
        Ok(Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            picture: cut,
            landmarks: shifted,
            identity,
            mesh,
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
        &self.landmarks
    }

    /// The L2-normalised identity vector (insightface's `normed_embedding`).
    pub fn identity(&self) -> &[f32] {
        &self.identity
    }

    /// The Delaunay triangles over the landmarks.
    pub fn mesh(&self) -> &FaceMesh {
        &self.mesh
    }

    /// The face as found in the whole source picture.
    pub fn face(&self) -> &Face {
        &self.face
    }
}

/// The bounding box of `points`: (min, max).
pub(crate) fn bounds(points: &[Point]) -> ([f32; 2], [f32; 2]) {
    points.iter().fold(([f32::MAX; 2], [f32::MIN; 2]), |(lo, hi), p| {
        ([lo[0].min(p[0]), lo[1].min(p[1])], [hi[0].max(p[0]), hi[1].max(p[1])])
    })
}
