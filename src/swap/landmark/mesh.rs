//! The face as a triangle mesh over its 106 landmarks: Delaunay triangles (spade) fixed on the
//! source, and the piecewise-affine warp that carries source pixels onto the target's geometry.

use image::{GrayImage, RgbImage};
use spade::{DelaunayTriangulation, Point2, Triangulation};

use crate::imaging::{Affine, GrayF32, Point, Rect};

/// What a mesh warps from: the source picture, how much of each pixel is skin, and the points
/// the mesh was made on.
#[derive(Debug, Clone, Copy)]
pub struct Texture<'a> {
    pub picture: &'a RgbImage,
    pub skin: &'a GrayImage,
    pub points: &'a [Point],
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
    pub fn warp(&self, source: Texture<'_>, to: &[Point], warped: &mut RgbImage, coverage: &mut GrayF32, roi: Rect) {
        let Texture { picture: source, skin, points: from } = source;
        let scale = self.scale(from, to);
        let (width, height) = (source.width() as f32, source.height() as f32);
        for &[a, b, c] in &self.triangles {
            let (ta, tb, tc) = (to[a], to[b], to[c]);
            let area = edge(ta, tb, tc);
            if area.abs() < 1e-3 {
                continue;
            }
            let Some((source_from_frame, trust)) = drawable([ta, tb, tc], [from[a], from[b], from[c]], scale) else {
                continue;
            };
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
                    let s = source_from_frame.apply(p);
                    // A point past the source picture's edge (a forehead cut off by a tight
                    // crop) has nothing to give: the frame shows there, not the edge smeared.
                    if s[0] < -0.5 || s[1] < -0.5 || s[0] > width - 0.5 || s[1] > height - 0.5 {
                        continue;
                    }
                    let (sx, sy) = (s[0].round().max(0.0) as u32, s[1].round().max(0.0) as u32);
                    let skin =
                        f32::from(skin.get_pixel(sx.min(skin.width() - 1), sy.min(skin.height() - 1)).0[0]) / 255.0;
                    // The source's own colour, hair included: how much of it is skin goes in
                    // `coverage`, and the frame is mixed in later, softly (see `mix_skin`).
                    warped.put_pixel(x, y, image::Rgb(sample_bilinear(source, s)));
                    coverage.put_pixel(x, y, image::Luma([skin * trust]));
                }
            }
        }
    }
}

/// The map of target triangle `to` from source triangle `from` and how far it is trusted, if it
/// can draw it at all. A triangle turned over (its corners in the other order than on the source)
/// is the far side of a turned head folding over the near side: it is left out. A sliver of the
/// source spread over a wide triangle (the far side of a turned source face) would paint streaks
/// of whatever lines its edge: it fades out with its stretch, and the target's own face shows.
fn drawable(to: [Point; 3], from: [Point; 3], scale: f64) -> Option<(Affine, f32)> {
    let source_from_frame = affine_from_triangles(to, from)?;
    if edge(to[0], to[1], to[2]).signum() != edge(from[0], from[1], from[2]).signum() {
        return None;
    }
    let trust = stretch_trust(magnification(&source_from_frame) / scale);
    (trust > 0.0).then_some((source_from_frame, trust))
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
        let texture = Texture { picture: &source, skin: &skin, points: &from };
        mesh.warp(texture, &to, &mut warped, &mut coverage, Rect::full(20, 20));
        assert!(coverage.pixels().all(|p| p.0[0] == 0.0), "nothing drawn from a folded triangle");
        mesh.warp(texture, &from, &mut warped, &mut coverage, Rect::full(20, 20));
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
        let texture = Texture { picture: &source, skin: &skin, points: &from };
        mesh.warp(texture, &to, &mut warped, &mut coverage, Rect::full(40, 40));
        assert_eq!(coverage.get_pixel(5, 5).0[0], 1.0, "the wide triangle is drawn");
        assert_eq!(coverage.get_pixel(16, 28).0[0], 0.0, "the stretched sliver is not");
    }

    #[test]
    fn nothing_is_drawn_from_past_the_source_pictures_edge() {
        let source = RgbImage::from_pixel(20, 20, image::Rgb([200, 10, 10]));
        let skin = GrayImage::from_pixel(20, 20, image::Luma([255]));
        // The triangle's top corners lie above the picture (a forehead cut off by the crop).
        let from = vec![[2.0, -10.0], [17.0, -10.0], [10.0, 17.0]];
        let to = vec![[2.0, 2.0], [17.0, 2.0], [10.0, 29.0]];
        let mesh = FaceMesh { triangles: vec![[0, 1, 2]] };
        let (mut warped, mut coverage) = (RgbImage::new(20, 30), GrayF32::new(20, 30));
        let texture = Texture { picture: &source, skin: &skin, points: &from };
        mesh.warp(texture, &to, &mut warped, &mut coverage, Rect::full(20, 30));
        assert_eq!(coverage.get_pixel(10, 4).0[0], 0.0, "above the picture");
        assert_eq!(coverage.get_pixel(10, 25).0[0], 1.0, "inside it");
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
        let texture = Texture { picture: &source, skin: &skin, points: &points };
        mesh.warp(texture, &points, &mut warped, &mut coverage, Rect::full(20, 20));
        assert_eq!(warped.get_pixel(10, 5), source.get_pixel(10, 5));
        assert_eq!(coverage.get_pixel(10, 5).0[0], 1.0);
        assert_eq!(coverage.get_pixel(0, 0).0[0], 0.0);
    }
}
