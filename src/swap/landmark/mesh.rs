//! The face as a triangle mesh over its 106 landmarks: Delaunay triangles (spade) fixed on the
//! source, and the piecewise-affine warp that carries source pixels onto the target's geometry.

use image::{GrayImage, RgbImage};
use spade::{DelaunayTriangulation, Point2, Triangulation};

use crate::imaging::{Affine, GrayF32, Point, Rect};

/// What a mesh warps from: the source picture, how much of each pixel is skin, the points the
/// mesh was made on, and each point's counterpart on the mirrored face (`mirrored[i]` is where
/// the source has the mirror image of `points[i]`: a far side seen edge-on is drawn from the
/// near side instead).
#[derive(Debug, Clone, Copy)]
pub struct Texture<'a> {
    pub picture: &'a RgbImage,
    pub skin: &'a GrayImage,
    pub points: &'a [Point],
    pub mirrored: &'a [Point],
    /// Per point, the share of the mirror image drawn there.
    pub mirror_share: &'a [f32],
}

/// The per-triangle maps [`FaceMesh::warp`] computes each frame, kept for their allocation.
#[derive(Debug, Default)]
pub struct WarpScratch {
    triangles: Vec<Option<TriangleMaps>>,
}

/// How one target triangle is drawn: from its own source triangle, from the mirrored one, and
/// how far each is trusted (0 for one folded over or stretched past use).
#[derive(Debug, Clone, Copy)]
struct TriangleMaps {
    direct: Affine,
    mirror: Affine,
    direct_trust: f32,
    mirror_trust: f32,
}

/// Triangles as indices into the landmark list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaceMesh {
    pub triangles: Vec<[usize; 3]>,
}

impl FaceMesh {
    /// The Delaunay triangulation of `points`; duplicate points are merged.
    pub fn triangulate(points: &[Point]) -> Self {
        let mut triangulation: DelaunayTriangulation<Point2<f64>> = DelaunayTriangulation::new();
        let mut landmark_of_vertex = Vec::with_capacity(points.len());
        for (i, p) in points.iter().enumerate() {
            let Ok(handle) = triangulation.insert(Point2::new(f64::from(p[0]), f64::from(p[1]))) else {
                continue; // NaN or out-of-range coordinates: leave the point out.
            };
            if handle.index() == landmark_of_vertex.len() {
                landmark_of_vertex.push(i);
            }
        }
        let triangles = triangulation
            .inner_faces()
            .map(|face| face.vertices().map(|v| landmark_of_vertex[v.fix().index()]))
            .collect();
        Self { triangles }
    }

    /// The target's size over the source's (square root of the ratio of the meshes' areas).
    fn scale(&self, from: &[Point], to: &[Point]) -> f64 {
        let (mut source, mut target) = (0.0f64, 0.0f64);
        for &[a, b, c] in &self.triangles {
            source += f64::from(edge(from[a], from[b], from[c]).abs());
            target += f64::from(edge(to[a], to[b], to[c]).abs());
        }
        if source > 0.0 && target > 0.0 {
            (target / source).sqrt()
        } else {
            1.0
        }
    }

    /// Warps `source` (landmarks `from`) onto the geometry `to` in `frame` coordinates: each
    /// covered pixel of `roi` gets its source colour in `warped` and how much of it is skin in
    /// `coverage` (1.0 but for hair on the forehead).
    ///
    /// Each point's share of the mirror image (`Texture::mirror_share`: the far half of a
    /// turned source, seen nearly edge-on) is interpolated across each triangle, so no edge
    /// shows where one gives way to the other; a triangle one of the two cannot draw (folded
    /// over, or stretched past use) is drawn from the other alone.
    pub fn warp(
        &self,
        source: Texture<'_>,
        to: &[Point],
        warped: &mut RgbImage,
        coverage: &mut GrayF32,
        roi: Rect,
        scratch: &mut WarpScratch,
    ) {
        let Texture { picture: source, skin, points: from, mirrored, mirror_share: shares } = source;
        let scale = self.scale(from, to);
        scratch.triangles.clear();
        scratch.triangles.extend(self.triangles.iter().map(|&[a, b, c]| {
            triangle_maps(
                [to[a], to[b], to[c]],
                [from[a], from[b], from[c]],
                [mirrored[a], mirrored[b], mirrored[c]],
                scale,
            )
        }));
        let share_of = |v: usize| shares.get(v).copied().unwrap_or(0.0);
        // A point past the source picture's edge (a forehead cut off by a tight crop) has
        // nothing to give: the frame shows there rather than the edge's pixels smeared.
        let (sw, sh) = (skin.width() as f32, skin.height() as f32);
        let skin_at = |s: Point| {
            if s[0] < -0.5 || s[1] < -0.5 || s[0] > sw - 0.5 || s[1] > sh - 0.5 {
                return 0.0;
            }
            let (sx, sy) = (s[0].round().max(0.0) as u32, s[1].round().max(0.0) as u32);
            f32::from(skin.get_pixel(sx.min(skin.width() - 1), sy.min(skin.height() - 1)).0[0]) / 255.0
        };
        for (&[a, b, c], maps) in self.triangles.iter().zip(&scratch.triangles) {
            let Some(maps) = maps else { continue };
            let (ta, tb, tc) = (to[a], to[b], to[c]);
            let (sa, sb, sc) = (share_of(a), share_of(b), share_of(c));
            let area = edge(ta, tb, tc);
            let lo = [ta[0].min(tb[0]).min(tc[0]), ta[1].min(tb[1]).min(tc[1])];
            let hi = [ta[0].max(tb[0]).max(tc[0]), ta[1].max(tb[1]).max(tc[1])];
            let bounds = Rect::around(lo, hi, 0.0, roi.x1, roi.y1);
            for y in bounds.y0.max(roi.y0)..bounds.y1 {
                for x in bounds.x0.max(roi.x0)..bounds.x1 {
                    let p = [x as f32, y as f32];
                    // Inside when the three edge functions share the triangle's sign; a small
                    // tolerance closes the seams between neighbouring triangles.
                    let (w0, w1, w2) = (edge(tb, tc, p) / area, edge(tc, ta, p) / area, edge(ta, tb, p) / area);
                    if w0 < -1e-4 || w1 < -1e-4 || w2 < -1e-4 {
                        continue;
                    }
                    // The mirror's share, continuous across triangles; all or nothing only
                    // where one of the two cannot draw this triangle.
                    let k = if maps.mirror_trust <= 0.0 {
                        0.0
                    } else if maps.direct_trust <= 0.0 {
                        1.0
                    } else {
                        (w0 * sa + w1 * sb + w2 * sc).clamp(0.0, 1.0)
                    };
                    // The source's own colour, hair included: how much of it is skin goes in
                    // `coverage`, and the frame is mixed in later, softly (see `mix_skin`).
                    let (ds, ms) = (maps.direct.apply(p), maps.mirror.apply(p));
                    let (colour, skin) = if k <= 0.0 {
                        (sample_bilinear(source, ds), maps.direct_trust * skin_at(ds))
                    } else if k >= 1.0 {
                        (sample_bilinear(source, ms), maps.mirror_trust * skin_at(ms))
                    } else {
                        let (d, m) = (sample_bilinear(source, ds), sample_bilinear(source, ms));
                        let colour =
                            [0, 1, 2].map(|i| (f32::from(d[i]) * (1.0 - k) + f32::from(m[i]) * k).round() as u8);
                        (colour, (1.0 - k) * maps.direct_trust * skin_at(ds) + k * maps.mirror_trust * skin_at(ms))
                    };
                    warped.put_pixel(x, y, image::Rgb(colour));
                    coverage.put_pixel(x, y, image::Luma([skin]));
                }
            }
        }
    }
}

/// The maps of the target triangle `to` from its source triangle `from` and from the mirrored
/// one, or `None` when the target triangle is degenerate or neither can draw it.
fn triangle_maps(to: [Point; 3], from: [Point; 3], mirrored: [Point; 3], scale: f64) -> Option<TriangleMaps> {
    let area = edge(to[0], to[1], to[2]);
    if area.abs() < 1e-3 {
        return None;
    }
    // A triangle turned over (its corners in the other order than on the source) is the far
    // side of a turned head folding over the near side: it cannot be drawn from. The mirrored
    // triangle is drawn reflected, so its corners go the other way round.
    let map = |source: [Point; 3], reflected: bool| {
        let affine = affine_from_triangles(to, source)?;
        let sign = edge(source[0], source[1], source[2]).signum();
        let upright = if reflected { sign != area.signum() } else { sign == area.signum() };
        // A sliver of the source spread over a wide triangle would paint streaks of whatever
        // lines its edge: it fades out, and the target's own face shows there.
        let trust = if upright { stretch_trust(magnification(&affine) / scale) } else { 0.0 };
        Some((affine, trust))
    };
    let (direct, direct_trust) = map(from, false)?;
    let (mirror, mirror_trust) = map(mirrored, true).unwrap_or((direct, 0.0));
    if direct_trust <= 0.0 && mirror_trust <= 0.0 {
        return None;
    }
    Some(TriangleMaps { direct, mirror, direct_trust, mirror_trust })
}

/// How far the triangle whose frame-to-source map is `source_from_frame` stretches the source
/// along its most stretched direction: the inverse of the map's smallest singular value.
fn magnification(source_from_frame: &Affine) -> f64 {
    let [[a, b, _], [d, e, _]] = source_from_frame.0;
    let trace = a * a + b * b + d * d + e * e;
    let det = a * e - b * d;
    let smallest = (trace - (trace * trace - 4.0 * det * det).max(0.0).sqrt()) / 2.0;
    if smallest <= 1e-12 {
        f64::INFINITY
    } else {
        1.0 / smallest.sqrt()
    }
}

/// Stretched up to four times the face's own scale a triangle is trusted fully, at eight times
/// not at all. Measured: a three-quarter source on the carphone speaker painted orange and white
/// streaks beside the nose from its far side's slivers, gone with these bounds; on t1.jpg
/// (frontal source) likeness and expression figures are as good or better than with no bound,
/// while bounds of 2 and 4 cost likeness (0.37 → 0.33).
fn stretch_trust(stretch: f64) -> f32 {
    ((8.0 - stretch) / 4.0).clamp(0.0, 1.0) as f32
}

#[inline]
fn edge(a: Point, b: Point, p: Point) -> f32 {
    (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])
}

/// The affine map taking triangle `from` onto triangle `to`, if `from` is not degenerate.
pub fn affine_from_triangles(from: [Point; 3], to: [Point; 3]) -> Option<Affine> {
    let [p0, p1, p2] = from.map(|p| [f64::from(p[0]), f64::from(p[1])]);
    let [q0, q1, q2] = to.map(|p| [f64::from(p[0]), f64::from(p[1])]);
    let (ux, uy, vx, vy) = (p1[0] - p0[0], p1[1] - p0[1], p2[0] - p0[0], p2[1] - p0[1]);
    let det = ux * vy - vx * uy;
    if det.abs() < 1e-9 {
        return None;
    }
    // Solve M·[u v] = [u' v'] for the linear part, then fit the translation at p0.
    let (ux2, uy2, vx2, vy2) = (q1[0] - q0[0], q1[1] - q0[1], q2[0] - q0[0], q2[1] - q0[1]);
    let a = (ux2 * vy - vx2 * uy) / det;
    let b = (vx2 * ux - ux2 * vx) / det;
    let d = (uy2 * vy - vy2 * uy) / det;
    let e = (vy2 * ux - uy2 * vx) / det;
    Some(Affine([[a, b, q0[0] - a * p0[0] - b * p0[1]], [d, e, q0[1] - d * p0[0] - e * p0[1]]]))
}

/// Bilinear sample of `picture` at `p`, clamped to its edges.
#[inline]
pub fn sample_bilinear(picture: &RgbImage, p: Point) -> [u8; 3] {
    let (w, h) = picture.dimensions();
    let x = p[0].clamp(0.0, (w - 1) as f32);
    let y = p[1].clamp(0.0, (h - 1) as f32);
    let (x0, y0) = (x.floor() as u32, y.floor() as u32);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let raw = picture.as_raw();
    let at = |xx: u32, yy: u32, c: usize| f32::from(raw[3 * (yy * w + xx) as usize + c]);
    let mut out = [0u8; 3];
    for (c, o) in out.iter_mut().enumerate() {
        let top = at(x0, y0, c) * (1.0 - fx) + at(x1, y0, c) * fx;
        let bottom = at(x0, y1, c) * (1.0 - fx) + at(x1, y1, c) * fx;
        *o = (top * (1.0 - fy) + bottom * fy + 0.5).clamp(0.0, 255.0) as u8;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn square_with_centre_gives_four_triangles() {
        let mesh = FaceMesh::triangulate(&[[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0], [5.0, 5.0]]);
        assert_eq!(mesh.triangles.len(), 4);
        assert!(mesh.triangles.iter().all(|t| t.contains(&4)));
    }

    #[test]
    fn triangle_affine_maps_corners() {
        let from = [[0.0, 0.0], [4.0, 0.0], [0.0, 2.0]];
        let to = [[10.0, 10.0], [10.0, 18.0], [6.0, 10.0]];
        let m = affine_from_triangles(from, to).unwrap();
        for (f, t) in from.iter().zip(&to) {
            let got = m.apply(*f);
            assert!((got[0] - t[0]).abs() < 1e-4 && (got[1] - t[1]).abs() < 1e-4);
        }
    }

    #[test]
    fn a_triangle_turned_over_is_left_out() {
        let source = RgbImage::from_pixel(20, 20, image::Rgb([200, 10, 10]));
        let from = vec![[2.0, 2.0], [17.0, 2.0], [2.0, 17.0]];
        let mesh = FaceMesh { triangles: vec![[0, 1, 2]] };
        let skin = GrayImage::from_pixel(20, 20, image::Luma([255]));
        let (mut warped, mut coverage) = (RgbImage::new(20, 20), GrayF32::new(20, 20));
        // Mirrored: the far side of a turned head folding over the near side.
        let to = vec![[17.0, 2.0], [2.0, 2.0], [17.0, 17.0]];
        let none = vec![[0.0, 0.0]; from.len()];
        let texture = Texture { picture: &source, skin: &skin, points: &from, mirrored: &none, mirror_share: &[] };
        mesh.warp(texture, &to, &mut warped, &mut coverage, Rect::full(20, 20), &mut WarpScratch::default());
        assert!(coverage.pixels().all(|p| p.0[0] == 0.0), "nothing drawn from a folded triangle");
        mesh.warp(texture, &from, &mut warped, &mut coverage, Rect::full(20, 20), &mut WarpScratch::default());
        assert!(coverage.pixels().any(|p| p.0[0] == 1.0));
    }

    #[test]
    fn a_sliver_spread_over_a_wide_triangle_is_left_out() {
        let source = RgbImage::from_pixel(40, 40, image::Rgb([200, 10, 10]));
        let skin = GrayImage::from_pixel(40, 40, image::Luma([255]));
        // A wide triangle, and a sliver half a pixel high below it.
        let from = vec![[2.0, 2.0], [17.0, 2.0], [2.0, 17.0], [2.0, 18.0], [17.0, 18.0], [10.0, 18.5]];
        // On the target the wide one keeps its shape; the sliver becomes 18 pixels high.
        let to = vec![[2.0, 2.0], [17.0, 2.0], [2.0, 17.0], [2.0, 20.0], [30.0, 20.0], [16.0, 38.0]];
        let mesh = FaceMesh { triangles: vec![[0, 1, 2], [3, 4, 5]] };
        let (mut warped, mut coverage) = (RgbImage::new(40, 40), GrayF32::new(40, 40));
        let none = vec![[0.0, 0.0]; from.len()];
        let texture = Texture { picture: &source, skin: &skin, points: &from, mirrored: &none, mirror_share: &[] };
        mesh.warp(texture, &to, &mut warped, &mut coverage, Rect::full(40, 40), &mut WarpScratch::default());
        assert_eq!(coverage.get_pixel(5, 5).0[0], 1.0, "the wide triangle is drawn");
        assert_eq!(coverage.get_pixel(16, 28).0[0], 0.0, "the stretched sliver is not");
    }

    #[test]
    fn a_far_side_seen_edge_on_is_drawn_from_its_mirror_image() {
        // Left half red and wide, right half blue and a sliver: the far side of a turned face.
        let source =
            RgbImage::from_fn(
                40,
                40,
                |x, _| if x < 30 { image::Rgb([200, 10, 10]) } else { image::Rgb([10, 10, 200]) },
            );
        let skin = GrayImage::from_pixel(40, 40, image::Luma([255]));
        let from = vec![[2.0, 2.0], [28.0, 2.0], [28.0, 30.0], [31.0, 2.0], [31.0, 30.0]];
        // Points 0 and 3 mirror each other, and 2 and 4; 1 is on the midline. The far half's
        // points (3, 4) take the mirror image fully.
        let mirrored = vec![from[3], from[1], from[4], from[0], from[2]];
        let share = [0.0, 0.0, 0.0, 1.0, 1.0];
        // On the target both halves are as wide.
        let to = vec![[2.0, 2.0], [20.0, 2.0], [20.0, 30.0], [38.0, 2.0], [38.0, 30.0]];
        let mesh = FaceMesh { triangles: vec![[0, 1, 2], [1, 3, 4], [1, 4, 2]] };
        let (mut warped, mut coverage) = (RgbImage::new(40, 40), GrayF32::new(40, 40));
        let texture =
            Texture { picture: &source, skin: &skin, points: &from, mirrored: &mirrored, mirror_share: &share };
        mesh.warp(texture, &to, &mut warped, &mut coverage, Rect::full(40, 40), &mut WarpScratch::default());
        // Near the far edge, the near half's colour; towards the midline, fading into its own.
        let right = warped.get_pixel(37, 15).0;
        assert!(right[0] > 170 && right[2] < 40, "the far half takes the near half's colour: {right:?}");
        assert!(coverage.get_pixel(37, 15).0[0] > 0.9);
        let middle = warped.get_pixel(29, 20).0;
        assert!(middle[0] > 20 && middle[2] > 20, "a blend between the two by the midline: {middle:?}");
        assert_eq!(warped.get_pixel(17, 10).0, [200, 10, 10], "the near half is its own");
    }

    #[test]
    fn magnification_is_the_largest_stretch() {
        assert!((magnification(&Affine([[0.5, 0.0, 3.0], [0.0, 2.0, 1.0]])) - 2.0).abs() < 1e-9);
        assert!((stretch_trust(3.0) - 1.0).abs() < f32::EPSILON);
        assert_eq!(stretch_trust(9.0), 0.0);
    }

    #[test]
    fn identity_warp_reproduces_the_source_inside_the_mesh() {
        let source = RgbImage::from_fn(20, 20, |x, y| image::Rgb([(x * 10) as u8, (y * 10) as u8, 50]));
        let points = vec![[2.0, 2.0], [17.0, 2.0], [17.0, 17.0], [2.0, 17.0], [9.0, 9.0]];
        let mesh = FaceMesh::triangulate(&points);
        let mut warped = RgbImage::new(20, 20);
        let mut coverage = GrayF32::new(20, 20);
        let skin = GrayImage::from_pixel(20, 20, image::Luma([255]));
        let none = vec![[0.0, 0.0]; points.len()];
        let texture = Texture { picture: &source, skin: &skin, points: &points, mirrored: &none, mirror_share: &[] };
        mesh.warp(texture, &points, &mut warped, &mut coverage, Rect::full(20, 20), &mut WarpScratch::default());
        assert_eq!(warped.get_pixel(10, 5), source.get_pixel(10, 5));
        assert_eq!(coverage.get_pixel(10, 5).0[0], 1.0);
        assert_eq!(coverage.get_pixel(0, 0).0[0], 0.0);
    }
}
