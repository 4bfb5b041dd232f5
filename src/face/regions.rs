//! What insightface's 106 landmarks (2d106det) mark, and the expression read from them: eye
//! openness (lid gap over eye width, both eyes averaged) and mouth openness (inner-lip gap over
//! mouth width). The indices were read off the model's output on a real face (a plot of every
//! point with its number), and match insightface's published markup.

use crate::imaging::{centroid, Point};

/// The face outline, jaw to jaw.
pub const CONTOUR: std::ops::Range<usize> = 0..33;
/// The brows, each 9 points (0..33 and these are what the forehead is extended from).
pub const LEFT_BROW: std::ops::Range<usize> = 43..52;
pub const RIGHT_BROW: std::ops::Range<usize> = 97..106;
/// Each eye's rim: outer corner, lower lid (3), inner corner, upper lid (3), in order around.
pub const LEFT_EYE: [usize; 8] = [35, 36, 33, 37, 39, 42, 40, 41];
pub const RIGHT_EYE: [usize; 8] = [89, 90, 87, 91, 93, 96, 94, 95];
/// The pupil marks (each given twice by the model).
pub const PUPILS: [usize; 4] = [34, 38, 88, 92];
/// The lips' inner edge, corner to corner over the upper lip and back under it.
pub const INNER_MOUTH: [usize; 12] = [52, 65, 66, 62, 70, 69, 61, 58, 57, 60, 54, 55];
/// The lips' outer edge, in the same order.
pub const OUTER_MOUTH: [usize; 12] = [52, 64, 63, 71, 67, 68, 61, 58, 59, 53, 56, 55];

/// Every point of each eye (rim and pupils) and of the mouth (both lip edges), as ranges.
pub const LEFT_EYE_POINTS: std::ops::RangeInclusive<usize> = 33..=42;
pub const RIGHT_EYE_POINTS: std::ops::RangeInclusive<usize> = 87..=96;
pub const MOUTH_POINTS: std::ops::RangeInclusive<usize> = 52..=71;
/// The corners of each eye (outer, inner) and of the mouth.
pub const LEFT_EYE_CORNERS: (usize, usize) = (35, 39);
pub const RIGHT_EYE_CORNERS: (usize, usize) = (89, 93);
pub const MOUTH_CORNERS: (usize, usize) = (52, 61);

/// Each landmark's counterpart on a mirrored face (the left eye's outer corner for the right
/// eye's, the chin for itself): read off the model's output on four faces and their mirror
/// images (each point matched to the nearest of the mirrored face's), made an involution where
/// the model marks one spot twice (the pupils).
pub const MIRROR: [usize; 106] = [
    0, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
    15, 16, 87, 88, 93, 91, 90, 92, 89, 94, 96, 95, 101, 100, 99, 97, 98, 105, 104, 102, 103, 61, 53, 57, 58, 59, 54,
    55, 56, 60, 52, 62, 67, 68, 69, 70, 63, 64, 65, 66, 71, 72, 73, 74, 81, 82, 83, 84, 85, 80, 75, 76, 77, 78, 79, 86,
    33, 34, 39, 37, 36, 38, 35, 40, 42, 41, 46, 47, 45, 44, 43, 50, 51, 49, 48,
];

/// Points on the face's midline (their own mirror images): chin, nose, lips' middles.
pub const MIDLINE: [usize; 10] = [0, 53, 60, 62, 71, 72, 73, 74, 80, 86];

/// (outer corner, inner corner, upper lid middle, lower lid middle) of each eye.
const EYE_MEASURES: [[usize; 4]; 2] = [[35, 39, 40, 33], [89, 93, 94, 87]];
/// (corner, corner, upper inner lip middle, lower inner lip middle).
const MOUTH_MEASURE: [usize; 4] = [52, 61, 62, 60];

fn distance(a: Point, b: Point) -> f32 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
}

fn ratio(points: &[Point], [corner_a, corner_b, top, bottom]: [usize; 4]) -> f32 {
    let width = distance(points[corner_a], points[corner_b]);
    if width <= f32::EPSILON {
        0.0
    } else {
        distance(points[top], points[bottom]) / width
    }
}

/// An expression, as the landmarks give it.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Expression {
    /// Lid gap over eye width, the two eyes averaged (about 0.1 closed, 0.3–0.4 open).
    pub eyes: f32,
    /// Inner-lip gap over mouth width (0 closed).
    pub mouth: f32,
}

impl Expression {
    /// The expression of 106 landmarks (none for fewer points).
    pub fn of(points: &[Point]) -> Option<Self> {
        if points.len() < 106 {
            return None;
        }
        let eyes = EYE_MEASURES.iter().map(|m| ratio(points, *m)).sum::<f32>() / 2.0;
        Some(Self { eyes, mouth: ratio(points, MOUTH_MEASURE) })
    }
}

/// How far above the brows the forehead is covered, in brow-to-eye distances.
const FOREHEAD_HEIGHT: f32 = 1.1;

/// The 106 landmarks followed by forehead points: each brow point moved up the face (from the
/// chin through the brows) by [`FOREHEAD_HEIGHT`] times the brow-to-eye distance. The swap's
/// mask then covers the forehead, so its edge does not cross the face at brow height.
pub fn with_forehead(points: &[Point]) -> Vec<Point> {
    let mut out = points.to_vec();
    if points.len() < 106 {
        return out;
    }
    let mean = |range: &mut dyn Iterator<Item = usize>| {
        let (mut sum, mut n) = ([0.0f32; 2], 0.0f32);
        for i in range {
            sum = [sum[0] + points[i][0], sum[1] + points[i][1]];
            n += 1.0;
        }
        [sum[0] / n, sum[1] / n]
    };
    let brows = mean(&mut LEFT_BROW.chain(RIGHT_BROW));
    let eyes = mean(&mut LEFT_EYE.into_iter().chain(RIGHT_EYE));
    let chin = points[16];
    let (ux, uy) = (brows[0] - chin[0], brows[1] - chin[1]);
    let length = (ux * ux + uy * uy).sqrt().max(f32::EPSILON);
    let lift = FOREHEAD_HEIGHT * ((brows[0] - eyes[0]).powi(2) + (brows[1] - eyes[1]).powi(2)).sqrt();
    let up = [ux / length * lift, uy / length * lift];
    out.extend(LEFT_BROW.chain(RIGHT_BROW).map(|i| [points[i][0] + up[0], points[i][1] + up[1]]));
    out
}

/// The forehead's outline in [`with_forehead`]'s points: along the brows and back along the
/// forehead points.
pub fn forehead_outline(points: &[Point]) -> Vec<Point> {
    if points.len() < 106 + 18 {
        return Vec::new();
    }
    let brows = LEFT_BROW.chain(RIGHT_BROW).map(|i| points[i]);
    let tops = (106..106 + 18).rev().map(|i| points[i]);
    let mut outline: Vec<Point> = brows.chain(tops).collect();
    // Around the outline's centre by angle, so the two brows and the tops make one ring.
    let c = centroid(&outline);
    outline.sort_by(|a, b| (a[1] - c[1]).atan2(a[0] - c[0]).total_cmp(&(b[1] - c[1]).atan2(b[0] - c[0])));
    outline
}

/// How many points [`surround`] puts about a face.
pub const SURROUND_POINTS: usize = 16;
/// [`surround`]'s circle: this many times the farthest point's distance from the centre.
const SURROUND_RADIUS: f32 = 1.3;

/// Points on a circle about `points` (their centre, [`SURROUND_RADIUS`] times the farthest
/// one's distance), for a mesh that moves a face's outline while what is around it (hair, ears,
/// neck, background) stretches to meet it and the circle itself stays put.
pub fn surround(points: &[Point]) -> [Point; SURROUND_POINTS] {
    let c = centroid(points);
    let far = points.iter().map(|p| distance(*p, c)).fold(0.0f32, f32::max).max(1.0);
    let r = SURROUND_RADIUS * far;
    std::array::from_fn(|k| {
        let t = k as f32 * std::f32::consts::TAU / SURROUND_POINTS as f32;
        [c[0] + r * t.cos(), c[1] + r * t.sin()]
    })
}

/// The convex hull of `points`, counter-clockwise (Andrew's monotone chain).
pub fn convex_hull(points: &[Point]) -> Vec<Point> {
    let mut sorted = points.to_vec();
    sorted.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
    sorted.dedup();
    if sorted.len() < 3 {
        return sorted;
    }
    let cross = |o: Point, a: Point, b: Point| (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
    let mut hull: Vec<Point> = Vec::with_capacity(2 * sorted.len());
    for pass in 0..2 {
        let start = hull.len();
        let points: Box<dyn Iterator<Item = &Point>> =
            if pass == 0 { Box::new(sorted.iter()) } else { Box::new(sorted.iter().rev()) };
        for &p in points {
            while hull.len() >= start + 2 && cross(hull[hull.len() - 2], hull[hull.len() - 1], p) <= 0.0 {
                hull.pop();
            }
            hull.push(p);
        }
        hull.pop();
    }
    hull
}

/// The polygon of `indices` in `points`.
pub fn polygon(points: &[Point], indices: &[usize]) -> Vec<Point> {
    indices.iter().filter_map(|&i| points.get(i).copied()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_surround_circles_every_point() {
        let points = [[10.0, 10.0], [30.0, 12.0], [20.0, 40.0]];
        let ring = surround(&points);
        let c = [20.0, 62.0 / 3.0];
        let far = points.iter().map(|p| distance(*p, c)).fold(0.0f32, f32::max);
        assert!(ring.iter().all(|q| (distance(*q, c) - SURROUND_RADIUS * far).abs() < 1e-3));
    }

    #[test]
    fn mirroring_twice_is_the_same_point() {
        for i in 0..106 {
            assert_eq!(MIRROR[MIRROR[i]], i, "point {i}");
        }
        assert_eq!(MIRROR[LEFT_EYE_CORNERS.0], RIGHT_EYE_CORNERS.1);
        assert_eq!(MIRROR[MOUTH_CORNERS.0], MOUTH_CORNERS.1);
        assert!(MIDLINE.iter().all(|&i| MIRROR[i] == i));
    }
}
