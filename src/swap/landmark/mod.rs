//! The landmark swapper: needs nothing beyond the default pack and runs in real time on a CPU.
//!
//! The source face is cut into Delaunay triangles over its 106 landmarks; each triangle is
//! warped onto the target's landmarks (so pose and expression stay the target's), its colour is
//! matched to the target's skin, and it is blended in under a mask that covers the landmark hull
//! — jaw to eyebrows, not hair or background — eroded and feathered.

mod color;
mod mesh;
mod reshape;
mod settings;

use image::RgbImage;

pub use color::{match_colour, match_light, LightPlanes};
pub use mesh::{FaceMesh, Texture};
pub use settings::{LandmarkSettings, DEFAULT_SHAPE_WEIGHT};

use super::{SourceFace, SwapError, Swapper, SwapperKind, Turn};
use crate::{
    face::{regions, umeyama_similarity, Analysis, Expression, Face},
    imaging::{blend_masked, bounds, box_blur3, centroid, erode_binary, fill_polygon, GrayF32, Point, Rect},
};

const NAME: &str = "landmark";
/// 2d106det's points up to here trace the face outline; the rest are brows, eyes, nose and mouth.
const CONTOUR_POINTS: usize = regions::CONTOUR.end;
/// The shape weight under the mouth mask. Measured on t1.jpg with the mask: the target's own
/// mouth reads as it did (mean mouth change 0.009) when the face around it keeps more of the
/// target's shape; at 0.35 a mouth that is exactly the target's reads 0.019 off, because the
/// landmark model reads lips from the whole face's shape (0.0: 0.014, 0.1: 0.011, 0.2: 0.012,
/// 0.25: 0.013). Likeness costs 0.04 against the mask at full weight.
const MOUTH_KEPT_SHAPE_WEIGHT: f32 = 0.15;
/// The landmark swapper, with frame-sized buffers reused between frames.
#[derive(Debug)]
pub struct LandmarkSwapper {
    warped: RgbImage,
    coverage: GrayF32,
    scratch: Vec<f32>,
    geometry: Vec<Point>,
    /// The target-features mask (see `keep_target_features`), kept for its allocation.
    keep: Vec<f32>,
    /// The skin coverage softened (see `mix_skin`).
    soft: GrayF32,
    light: LightPlanes,
    reshape: reshape::Reshape,
    settings: LandmarkSettings,
    /// The mouth mask is on: the shape weight is held to [`MOUTH_KEPT_SHAPE_WEIGHT`].
    mouth_kept: bool,
}

impl Default for LandmarkSwapper {
    fn default() -> Self {
        Self {
            warped: RgbImage::new(0, 0),
            coverage: GrayF32::new(0, 0),
            scratch: Vec::new(),
            geometry: Vec::new(),
            keep: Vec::new(),
            soft: GrayF32::new(0, 0),
            light: LightPlanes::default(),
            reshape: reshape::Reshape::default(),
            settings: LandmarkSettings::default(),
            mouth_kept: false,
        }
    }
}

impl LandmarkSwapper {
    pub fn new() -> Self {
        Self::default()
    }

    /// How far (0 = not at all, 1 = fully) the inner features take the source's shape.
    pub fn with_shape_weight(mut self, weight: f32) -> Self {
        self.settings.shape_weight = weight.clamp(0.0, 1.0);
        self
    }

    /// Every setting at once (see [`LandmarkSettings`]).
    pub fn with_settings(mut self, settings: LandmarkSettings) -> Self {
        self.settings = settings;
        self
    }
}

/// The eyes' and the mouth's corners, and whether each is the mouth.
const FEATURES: [((usize, usize), bool); 3] =
    [(regions::LEFT_EYE_CORNERS, false), (regions::RIGHT_EYE_CORNERS, false), (regions::MOUTH_CORNERS, true)];

/// Which of [`FEATURES`] an eye or mouth landmark belongs to.
fn feature_of(i: usize) -> Option<usize> {
    if regions::LEFT_EYE_POINTS.contains(&i) {
        Some(0)
    } else if regions::RIGHT_EYE_POINTS.contains(&i) {
        Some(1)
    } else if regions::MOUTH_POINTS.contains(&i) {
        Some(2)
    } else {
        None
    }
}

/// An eye's or the mouth's corner line on the target, and how its points follow the source
/// along it (width) and across it (openness).
#[derive(Debug, Clone, Copy)]
struct FeatureAxis {
    /// The first corner on the target, and the unit vector towards the other.
    start: Point,
    u: [f32; 2],
    along_share: f32,
    across_share: f32,
    /// How much the feature's width grows, as a share of the target's, with the source's
    /// width followed by `along_share` (0 for the mouth: see [`FeatureAxis::place`]).
    stretch: f32,
}

impl FeatureAxis {
    fn along(&self, p: Point, q: Point) -> f32 {
        (q[0] - p[0]) * self.u[0] + (q[1] - p[1]) * self.u[1]
    }

    fn across(&self, p: Point, q: Point) -> f32 {
        (q[1] - p[1]) * self.u[0] - (q[0] - p[0]) * self.u[1]
    }

    /// Target point `t` moved towards the source's `s` (aligned onto the target).
    fn place(&self, t: Point, s: Point) -> Point {
        let along = self.along_share * self.along(t, s);
        // An eye's openness is its lid gap over its width: as the width follows the source,
        // the gap grows with it, so the eye keeps the target's openness unless the open
        // share moves it to the source's (on the tuning faces eye change 0.035 → 0.033, with
        // the outline following 0.044 → 0.041, likeness as it was). The mouth keeps its
        // gap: grown with a mouth as wide as the source's, it read as opened (mouth change
        // 0.034 → 0.042 with the outline following).
        let kept = self.stretch * self.across(self.start, t);
        let across = (1.0 - self.across_share) * kept + self.across_share * self.across(t, s);
        [t[0] + along * self.u[0] - across * self.u[1], t[1] + along * self.u[1] + across * self.u[0]]
    }
}

impl LandmarkSwapper {
    /// Where the source is not skin (hair over its forehead), the frame shows instead, through
    /// the skin coverage eroded and softened by `radius`: the feathered mask must bring no hair
    /// in, and a hard change from source to frame inside it would show as a seam.
    fn mix_skin(&mut self, frame: &RgbImage, roi: Rect, radius: usize) {
        if self.soft.dimensions() != self.coverage.dimensions() {
            self.soft = GrayF32::new(self.coverage.width(), self.coverage.height());
        }
        let stride = frame.width() as usize;
        let columns = roi.x0 as usize..roi.x1 as usize;
        for y in roi.y0..roi.y1 {
            let row = y as usize * stride;
            let span = row + columns.start..row + columns.end;
            self.soft.as_mut()[span.clone()].copy_from_slice(&self.coverage.as_raw()[span]);
        }
        // Eroded first, so the softened edge ends at the skin's edge rather than straddling it
        // (and a thin strand of hair gets no source at all).
        erode_binary(&mut self.soft, roi, 4 * radius + 1, &mut self.scratch);
        box_blur3(&mut self.soft, roi, radius, &mut self.scratch);
        let out: &mut [u8] = &mut self.warped;
        for y in roi.y0..roi.y1 {
            let row = y as usize * stride;
            let (soft, under) = (&self.soft.as_raw()[row..], &frame.as_raw()[3 * row..]);
            let out = &mut out[3 * row..];
            for x in columns.clone() {
                let s = soft[x].clamp(0.0, 1.0);
                if s >= 1.0 {
                    continue;
                }
                for c in 3 * x..3 * x + 3 {
                    out[c] = (s * f32::from(out[c]) + (1.0 - s) * f32::from(under[c])).round() as u8;
                }
            }
        }
    }

    /// Where the swap draws the face, in `self.geometry`: the target's landmarks with the brows
    /// and nose pulled part way towards the source's shape (the source aligned onto the target
    /// by a similarity), since shape carries identity too; the outline by its own share (the
    /// face's width and jaw); the eyes and mouth mostly along their axis, so how open they are
    /// (the expression) stays mostly the target's. The forehead points follow the target.
    fn place_geometry(&mut self, to: &[Point], source: &SourceFace, target_points: &[Point]) {
        let source_on_target = umeyama_similarity(source.landmarks(), to);
        let settings = self.settings;
        let (shape_weight, outline) = if self.mouth_kept {
            (settings.shape_weight.min(MOUTH_KEPT_SHAPE_WEIGHT), 0.0)
        } else {
            // A turned target's outline is its silhouette against what is behind it: a frontal
            // source's outline laid on it would push the far cheek out over the background.
            // Full up to a near half three times as wide as the far half, none at six times.
            let outline = if settings.outline_share > 0.0 {
                settings.outline_share * ((6.0 - Turn::of(to).ratio) / 3.0).clamp(0.0, 1.0)
            } else {
                0.0
            };
            (settings.shape_weight, outline)
        };
        // Each feature's axis once (None where its corners are missing or coincide: its points
        // stay the target's).
        let axes = FEATURES.map(|((a, b), mouth)| {
            let (pa, pb) = (*to.get(a)?, *to.get(b)?);
            let (sa, sb) = (source.landmarks().get(a)?, source.landmarks().get(b)?);
            let (dx, dy) = (pb[0] - pa[0], pb[1] - pa[1]);
            let width = (dx * dx + dy * dy).sqrt();
            if width <= f32::EPSILON {
                return None;
            }
            let (along_share, across_share) = if mouth {
                (settings.mouth_width_share, settings.mouth_open_share)
            } else {
                (settings.eye_width_share, settings.eye_open_share)
            };
            let mut axis = FeatureAxis {
                start: pa,
                u: [dx / width, dy / width],
                along_share: (shape_weight * along_share).min(1.0),
                across_share: (shape_weight * across_share).min(1.0),
                stretch: 0.0,
            };
            if !mouth {
                let grown = axis.along(pb, source_on_target.apply(*sb)) - axis.along(pa, source_on_target.apply(*sa));
                axis.stretch = axis.along_share * grown / width;
            }
            Some(axis)
        });
        self.geometry.clear();
        self.geometry.extend(to.iter().zip(source.landmarks()).enumerate().map(|(i, (t, s))| {
            let s = source_on_target.apply(*s);
            match feature_of(i) {
                Some(f) => axes[f].map_or(*t, |axis| axis.place(*t, s)),
                None => {
                    let share = if i < CONTOUR_POINTS { outline } else { shape_weight };
                    [t[0] + share * (s[0] - t[0]), t[1] + share * (s[1] - t[1])]
                }
            }
        }));
        self.geometry.extend_from_slice(&target_points[to.len()..]);
    }

    /// Gives the lips the target's colour (its lipstick, or none): the warped lips' mean colour
    /// is moved to the frame's over the same pixels, under a feathered mask of the lips as the
    /// geometry places them. The source's lip shape and texture stay; its colour is not its
    /// identity.
    fn keep_lip_colour(&mut self, frame: &RgbImage, roi: Rect, size: f32) {
        // Under the mouth mask the target's own lips are laid back anyway.
        let share = self.settings.lip_colour;
        if share <= 0.0 || self.mouth_kept || self.geometry.len() < 106 {
            return;
        }
        let outer = regions::polygon(&self.geometry, &regions::OUTER_MOUTH);
        let radius = ((size / 96.0).round() as usize).max(1);
        // Only about the lips: the rest of the face is none of this pass's business.
        let (lo, hi) = bounds(&outer);
        let (w, h) = (self.coverage.width(), self.coverage.height());
        let around = Rect::around(lo, hi, (3 * radius + 2) as f32, w, h);
        let roi = Rect {
            x0: around.x0.max(roi.x0),
            y0: around.y0.max(roi.y0),
            x1: around.x1.min(roi.x1),
            y1: around.y1.min(roi.y1),
        };
        if roi.is_empty() {
            return;
        }
        self.keep.resize(self.coverage.as_raw().len(), 0.0);
        let Some(mut lips) = GrayF32::from_raw(w, h, std::mem::take(&mut self.keep)) else { return };
        let stride = w as usize;
        for y in roi.y0..roi.y1 {
            let row = y as usize * stride;
            lips.as_mut()[row + roi.x0 as usize..row + roi.x1 as usize].fill(0.0);
        }
        fill_polygon(&mut lips, &outer, 1.0, roi);
        fill_polygon(&mut lips, &regions::polygon(&self.geometry, &regions::INNER_MOUTH), 0.0, roi);
        box_blur3(&mut lips, roi, radius, &mut self.scratch);
        let (mut sums, mut weight) = ([0.0f64; 6], 0.0f64);
        let (mask, coverage) = (lips.as_raw(), self.coverage.as_raw());
        let (warped, under) = (self.warped.as_raw(), frame.as_raw());
        for y in roi.y0..roi.y1 {
            let row = y as usize * stride;
            for i in row + roi.x0 as usize..row + roi.x1 as usize {
                let m = f64::from(mask[i] * coverage[i].clamp(0.0, 1.0));
                if m <= 0.0 {
                    continue;
                }
                for c in 0..3 {
                    sums[c] += m * f64::from(warped[3 * i + c]);
                    sums[3 + c] += m * f64::from(under[3 * i + c]);
                }
                weight += m;
            }
        }
        if weight >= 8.0 {
            let shift = [0, 1, 2].map(|c| (share as f64 * (sums[3 + c] - sums[c]) / weight) as f32);
            let out: &mut [u8] = &mut self.warped;
            for y in roi.y0..roi.y1 {
                let row = y as usize * stride;
                for i in row + roi.x0 as usize..row + roi.x1 as usize {
                    let m = mask[i];
                    if m <= 0.0 {
                        continue;
                    }
                    for c in 0..3 {
                        out[3 * i + c] = (f32::from(out[3 * i + c]) + m * shift[c]).round().clamp(0.0, 255.0) as u8;
                    }
                }
            }
        }
        self.keep = lips.into_raw();
    }

    /// Lets the target's own pixels through where the source has none to give: the eye
    /// openings (the lids follow the target, so its iris and lid line must too), and the inner
    /// mouth when the target's is open wider than the source's (no teeth to warp from a closed
    /// source mouth). Lowers the blend mask there, feathered.
    /// `to` are the target's own landmarks; once `reshaped`, its features sit at the geometry's.
    fn keep_target_features(&mut self, reshaped: bool, to: &[Point], source: &SourceFace, roi: Rect, size: f32) {
        let geometry = std::mem::take(&mut self.geometry);
        let at = if reshaped && geometry.len() >= to.len() { &geometry[..to.len()] } else { to };
        self.keep.resize(self.coverage.as_raw().len(), 0.0);
        let mut keep = GrayF32::from_raw(self.coverage.width(), self.coverage.height(), std::mem::take(&mut self.keep))
            .unwrap_or_else(|| GrayF32::new(self.coverage.width(), self.coverage.height()));
        let stride = keep.width() as usize;
        for y in roi.y0..roi.y1 {
            let row = y as usize * stride;
            keep.as_mut()[row + roi.x0 as usize..row + roi.x1 as usize].fill(0.0);
        }
        // The more the target's eyes differ from the source's (a blink, a squint, a wide-eyed
        // look), the more of the target's own eyes show; eyes like the source's stay the source's.
        let (target, source_expression) = (Expression::of(to), Expression::of(source.landmarks()));
        let (eyes, mouth) = match (target, source_expression) {
            (Some(t), Some(s)) => (
                ((t.eyes - s.eyes).abs() - self.settings.eye_slack) / self.settings.expression_span,
                ((t.mouth - s.mouth).abs() - self.settings.mouth_slack) / self.settings.expression_span,
            ),
            _ => (1.0, 1.0),
        };
        for eye in [regions::LEFT_EYE, regions::RIGHT_EYE] {
            let rim = regions::polygon(at, &eye);
            let [length, height] = self.settings.eye_keep;
            fill_polygon(&mut keep, &eye_ellipse(&rim, length, height), eyes.clamp(0.0, 1.0), roi);
        }
        let inner = regions::polygon(at, &regions::INNER_MOUTH);
        fill_polygon(&mut keep, &scaled(&inner, MOUTH_KEEP_SCALE), mouth.clamp(0.0, 1.0), roi);
        let radius = ((size / 64.0).round() as usize).max(1);
        box_blur3(&mut keep, roi, radius, &mut self.scratch);
        let (mask, kept) = (self.coverage.as_mut(), keep.as_raw());
        for y in roi.y0..roi.y1 {
            let row = y as usize * stride;
            for i in row + roi.x0 as usize..row + roi.x1 as usize {
                mask[i] *= 1.0 - kept[i].clamp(0.0, 1.0);
            }
        }
        self.keep = keep.into_raw();
        self.geometry = geometry;
    }
}

/// The inner mouth kept, grown about its centre (along x, along y).
const MOUTH_KEEP_SCALE: [f32; 2] = [1.1, 1.4];

/// An ellipse about the eye's rim (outer corner first, inner corner fifth): along the eye
/// `length` times its width, across it `height` times its width, whatever its openness.
fn eye_ellipse(rim: &[Point], length: f32, height: f32) -> Vec<Point> {
    let (a, b) = (rim[0], rim[4]);
    let centre = [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0];
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let width = (dx * dx + dy * dy).sqrt().max(1.0);
    let (ux, uy) = (dx / width, dy / width);
    let (ra, rb) = (length * width / 2.0, height * width / 2.0);
    (0..24)
        .map(|k| {
            let t = k as f32 * std::f32::consts::TAU / 24.0;
            let (along, across) = (ra * t.cos(), rb * t.sin());
            [centre[0] + along * ux - across * uy, centre[1] + along * uy + across * ux]
        })
        .collect()
}

/// `polygon` scaled about its centroid, `[along x, along y]`.
fn scaled(polygon: &[Point], [sx, sy]: [f32; 2]) -> Vec<Point> {
    let c = centroid(polygon);
    polygon.iter().map(|p| [c[0] + (p[0] - c[0]) * sx, c[1] + (p[1] - c[1]) * sy]).collect()
}

fn landmarks_of<'f>(face: &'f Face, role: &'static str) -> Result<&'f [Point], SwapError> {
    match face.landmarks.as_deref() {
        Some(points) if points.len() >= 3 => Ok(points),
        _ => Err(SwapError::MissingAnalysis { swapper: NAME, what: "106 landmarks", role }),
    }
}

impl Swapper for LandmarkSwapper {
    fn kind(&self) -> SwapperKind {
        SwapperKind::Landmark
    }

    fn target_needs(&self) -> Analysis {
        Analysis { landmarks: true, embedding: false }
    }

    fn set_mouth_kept(&mut self, kept: bool) {
        self.mouth_kept = kept;
    }

    fn swap(&mut self, frame: &mut RgbImage, target: &Face, source: &SourceFace) -> Result<(), SwapError> {
        let to = landmarks_of(target, "target")?;
        if to.len() != source.landmarks().len() {
            return Err(SwapError::MissingAnalysis { swapper: NAME, what: "same landmark set", role: "target" });
        }
        let (fw, fh) = frame.dimensions();
        if self.warped.dimensions() != (fw, fh) {
            self.warped = RgbImage::new(fw, fh);
            self.coverage = GrayF32::new(fw, fh);
        }
        let target_points = regions::with_forehead(to);
        let settings = self.settings;
        self.place_geometry(to, source, &target_points);
        let (picture, from) = (source.picture(), source.mesh_points());
        if from.len() != self.geometry.len() {
            return Err(SwapError::MissingAnalysis { swapper: NAME, what: "same landmark set", role: "target" });
        }
        // When the outline moves, the target's face and what is around it are moved onto the
        // geometry first: from here on the frame's face is where the source's will be drawn.
        // (Under the mouth mask the outline stays: the target's own mouth is laid back where it
        // was.)
        let reshaped = self.geometry[..CONTOUR_POINTS.min(to.len())] != to[..CONTOUR_POINTS.min(to.len())];
        if reshaped {
            self.reshape.apply(frame, source.surround_mesh(), &target_points, &self.geometry, &mut self.coverage);
        }
        let (lo, hi) = bounds(&self.geometry);
        let size = (hi[0] - lo[0]).max(hi[1] - lo[1]).max(1.0);
        // Feathering scaled to the face: eroded in, then a near-Gaussian edge (three box
        // passes); with the skin mixed in softly (`mix_skin`) no seam shows on a forehead.
        let erode = ((size * settings.erode) as usize).max(3);
        let sigma = (size * settings.feather).max(1.5);
        let radius = ((0.25 + sigma * sigma).sqrt() - 0.5).round().max(1.0) as usize;
        let roi = Rect::around(lo, hi, (erode + 4 * radius + 4) as f32, fw, fh);
        if roi.is_empty() {
            return Ok(());
        }
        let stride = fw as usize;
        for y in roi.y0..roi.y1 {
            let row = y as usize * stride;
            self.coverage.as_mut()[row + roi.x0 as usize..row + roi.x1 as usize].fill(0.0);
            // Outside the mesh the overlay is the frame itself, so the feathered edge can reach
            // past the mesh without blending in anything stale.
            let span = 3 * (row + roi.x0 as usize)..3 * (row + roi.x1 as usize);
            let warped: &mut [u8] = &mut self.warped;
            warped[span.clone()].copy_from_slice(&frame.as_raw()[span]);
        }
        let texture = mesh::Texture { picture, skin: source.skin(), points: from };
        source.mesh().warp(texture, &self.geometry, &mut self.warped, &mut self.coverage, roi);
        match_colour(&mut self.warped, frame, &self.coverage, roi, settings.contrast_follow);
        let light_radius = ((size * settings.light_radius) as usize).max(2);
        match_light(&mut self.warped, frame, &self.coverage, roi, light_radius, &mut self.light);

        self.keep_lip_colour(frame, roi, size);
        self.mix_skin(frame, roi, ((size / 64.0) as usize).max(1));
        erode_binary(&mut self.coverage, roi, erode, &mut self.scratch);
        box_blur3(&mut self.coverage, roi, radius, &mut self.scratch);
        self.keep_target_features(reshaped, to, source, roi, size);

        blend_masked(frame, &self.warped, &self.coverage, 1.0, roi);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::face::Embedding;

    /// 106 distinct points of a face 200 pixels wide: the outline on an ellipse, each eye's rim
    /// around its corners with lids 10 pixels apart, the rest on a grid between.
    fn landmarks(eye_width: f32) -> Vec<Point> {
        let mut points: Vec<Point> =
            (0..106).map(|i| [60.0 + (i % 11) as f32 * 13.0, 70.0 + (i / 11) as f32 * 11.0]).collect();
        for (k, p) in points.iter_mut().take(regions::CONTOUR.end).enumerate() {
            let a = std::f32::consts::PI * k as f32 / 32.0;
            *p = [128.0 - 100.0 * a.cos(), 120.0 + 110.0 * a.sin()];
        }
        let mut rim = |rim: [usize; 8], centre: Point, width: f32, gap: f32| {
            // Around from the outer corner: lower lid, the other corner, upper lid.
            for (k, &i) in rim.iter().enumerate() {
                let a = std::f32::consts::PI * k as f32 / 4.0;
                points[i] = [centre[0] - width / 2.0 * a.cos(), centre[1] + gap / 2.0 * a.sin()];
            }
        };
        rim(regions::LEFT_EYE, [88.0, 100.0], eye_width, 10.0);
        rim(regions::RIGHT_EYE, [168.0, 100.0], eye_width, 10.0);
        points
    }

    fn face(points: Vec<Point>) -> Face {
        Face {
            bbox: [28.0, 10.0, 228.0, 230.0],
            score: 0.9,
            kps: [[88.0, 100.0], [168.0, 100.0], [128.0, 130.0], [100.0, 170.0], [156.0, 170.0]],
            landmarks: Some(points),
            embedding: Some(Embedding(vec![1.0; 8])),
        }
    }

    fn eye_width(points: &[Point]) -> f32 {
        let (a, b) = regions::LEFT_EYE_CORNERS;
        ((points[b][0] - points[a][0]).powi(2) + (points[b][1] - points[a][1]).powi(2)).sqrt()
    }

    #[test]
    fn an_eye_widened_to_the_source_keeps_the_target_openness() {
        let target = landmarks(30.0);
        let picture = RgbImage::from_pixel(256, 256, image::Rgb([128, 110, 100]));
        let source = SourceFace::new(&picture, &face(landmarks(42.0))).unwrap();
        let mut swapper = LandmarkSwapper::new();
        swapper.place_geometry(&target, &source, &regions::with_forehead(&target));
        let (placed, kept) = (Expression::of(&swapper.geometry), Expression::of(&target));
        let (placed, kept) = (placed.unwrap().eyes, kept.unwrap().eyes);
        // Half the way to a 40% wider eye (0.35 × 0.5/0.35): about 20% wider, as open.
        assert!(eye_width(&swapper.geometry) > 1.12 * eye_width(&target), "the eye's width follows the source");
        assert!((placed - kept).abs() < 0.02 * kept, "openness {placed} against the target's {kept}");
    }
}
