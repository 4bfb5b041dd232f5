//! What insightface's 106 landmarks (2d106det) mark, and the expression read from them: eye
//! openness (lid gap over eye width, both eyes averaged) and mouth openness (inner-lip gap over
//! mouth width). The indices were read off the model's output on a real face (a plot of every
//! point with its number), and match insightface's published markup.

use crate::imaging::Point;

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

/// The polygon of `indices` in `points`.
pub fn polygon(points: &[Point], indices: &[usize]) -> Vec<Point> {
    indices.iter().filter_map(|&i| points.get(i).copied()).collect()
}
