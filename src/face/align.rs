//! Similarity transforms: Umeyama's least-squares fit (no reflection), and the ArcFace crop.

use crate::imaging::{Affine, Point};

/// insightface's five-point ArcFace template for a 112×112 crop.
pub const ARCFACE_TEMPLATE: [Point; 5] =
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]];

/// FaceFusion's ArcFace-128 template (insightface's, shifted for a 128 crop) as fractions of the
/// crop's side: GPEN-256's crop and the masks' crop.
pub const ARCFACE_128_FRACTIONS: [[f64; 2]; 5] = [
    [0.361_676_56, 0.403_877_34],
    [0.636_967_19, 0.402_354_69],
    [0.500_196_87, 0.560_442_19],
    [0.387_103_91, 0.721_605_47],
    [0.615_077_34, 0.720_344_53],
];

/// The similarity transform (rotation, uniform scale, translation) that best maps `src` onto
/// `dst` in the least-squares sense: scikit-image's `SimilarityTransform.estimate` (Umeyama).
///
/// In 2-D the optimum over proper similarities has a closed form — the matrix [[a, −b], [b, a]]
/// that least-squares fits the centred points — which is the same answer as Umeyama's SVD with
/// its reflection correction, without the SVD.
pub fn umeyama_similarity(src: &[Point], dst: &[Point]) -> Affine {
    let n = src.len().min(dst.len()) as f64;
    let mean = |pts: &[Point]| {
        let (sx, sy) = pts.iter().fold((0.0, 0.0), |(x, y), p| (x + f64::from(p[0]), y + f64::from(p[1])));
        (sx / n, sy / n)
    };
    let (smx, smy) = mean(src);
    let (dmx, dmy) = mean(dst);
    let (mut dot, mut cross, mut var) = (0.0, 0.0, 0.0);
    for (s, d) in src.iter().zip(dst) {
        let (sx, sy) = (f64::from(s[0]) - smx, f64::from(s[1]) - smy);
        let (dx, dy) = (f64::from(d[0]) - dmx, f64::from(d[1]) - dmy);
        dot += sx * dx + sy * dy;
        cross += sx * dy - sy * dx;
        var += sx * sx + sy * sy;
    }
    if var == 0.0 {
        return Affine([[0.0, 0.0, dmx], [0.0, 0.0, dmy]]);
    }
    let (a, b) = (dot / var, cross / var);
    Affine([[a, -b, dmx - (a * smx - b * smy)], [b, a, dmy - (b * smx + a * smy)]])
}

/// The transform from picture to an ArcFace-aligned crop of side `size` (insightface's
/// `estimate_norm`): the template scaled by size/112, or for sizes divisible by 128 scaled by
/// size/128 and shifted 8·size/128 to the right (inswapper's 128 crop).
pub fn align_to_template(kps: &[Point; 5], size: u32) -> Affine {
    let (ratio, shift) = if size.is_multiple_of(112) {
        (f64::from(size) / 112.0, 0.0)
    } else {
        (f64::from(size) / 128.0, 8.0 * f64::from(size) / 128.0)
    };
    let template: Vec<Point> = ARCFACE_TEMPLATE
        .iter()
        .map(|p| [(f64::from(p[0]) * ratio + shift) as f32, (f64::from(p[1]) * ratio) as f32])
        .collect();
    umeyama_similarity(kps, &template)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_a_known_similarity() {
        let truth = Affine([[0.9, -0.4, 13.0], [0.4, 0.9, -7.0]]);
        let src: Vec<Point> = vec![[10.0, 20.0], [50.0, 22.0], [30.0, 40.0], [15.0, 60.0], [45.0, 61.0]];
        let dst: Vec<Point> = src.iter().map(|p| truth.apply(*p)).collect();
        let fit = umeyama_similarity(&src, &dst);
        for r in 0..2 {
            for c in 0..3 {
                assert!((fit.0[r][c] - truth.0[r][c]).abs() < 1e-4, "{fit:?}");
            }
        }
    }

    #[test]
    fn never_reflects() {
        // dst is src mirrored: the best proper similarity cannot flip it.
        let src: Vec<Point> = vec![[0.0, 0.0], [10.0, 0.0], [0.0, 5.0]];
        let dst: Vec<Point> = src.iter().map(|p| [-p[0], p[1]]).collect();
        let fit = umeyama_similarity(&src, &dst);
        let det = fit.0[0][0] * fit.0[1][1] - fit.0[0][1] * fit.0[1][0];
        assert!(det >= 0.0);
    }

    #[test]
    fn template_maps_onto_itself() {
        let kps = ARCFACE_TEMPLATE;
        let m = align_to_template(&kps, 112);
        assert!((m.0[0][0] - 1.0).abs() < 1e-9 && m.0[0][2].abs() < 1e-6);
        let m128 = align_to_template(&kps, 128);
        assert!((m128.0[0][2] - 8.0).abs() < 1e-5);
    }
}
