//! 2×3 affine transforms between picture coordinates.

use super::Point;

/// `[[a, b, c], [d, e, f]]`: maps (x, y) to (a·x + b·y + c, d·x + e·y + f).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Affine(pub [[f64; 3]; 2]);

impl Affine {
    pub const IDENTITY: Self = Self([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]);

    /// Scale by `s`, then translate by (tx, ty).
    pub fn scale_translate(s: f64, tx: f64, ty: f64) -> Self {
        Self([[s, 0.0, tx], [0.0, s, ty]])
    }

    /// Maps one point (computed in f64, like OpenCV's and numpy's float64 maths).
    pub fn apply(&self, p: Point) -> Point {
        let [x, y] = [f64::from(p[0]), f64::from(p[1])];
        let m = &self.0;
        [(m[0][0] * x + m[0][1] * y + m[0][2]) as f32, (m[1][0] * x + m[1][1] * y + m[1][2]) as f32]
    }

    /// The inverse transform, as `cv2.invertAffineTransform` computes it; the identity's
    /// degenerate cousin (determinant 0) maps everything to the origin.
    pub fn inverse(&self) -> Self {
        let m = &self.0;
        let det = m[0][0] * m[1][1] - m[0][1] * m[1][0];
        let d = if det != 0.0 { 1.0 / det } else { 0.0 };
        let a11 = m[1][1] * d;
        let a22 = m[0][0] * d;
        let a12 = -m[0][1] * d;
        let a21 = -m[1][0] * d;
        let b1 = -a11 * m[0][2] - a12 * m[1][2];
        let b2 = -a21 * m[0][2] - a22 * m[1][2];
        Self([[a11, a12, b1], [a21, a22, b2]])
    }

    /// `self` after `first`: maps p to self(first(p)).
    pub fn after(&self, first: &Self) -> Self {
        let (a, b) = (&self.0, &first.0);
        let mut out = [[0.0; 3]; 2];
        for (r, row) in out.iter_mut().enumerate() {
            row[0] = a[r][0] * b[0][0] + a[r][1] * b[1][0];
            row[1] = a[r][0] * b[0][1] + a[r][1] * b[1][1];
            row[2] = a[r][0] * b[0][2] + a[r][1] * b[1][2] + a[r][2];
        }
        Self(out)
    }

    /// The uniform scale of a similarity transform.
    pub fn scale(&self) -> f64 {
        (self.0[0][0].powi(2) + self.0[1][0].powi(2)).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_round_trips() {
        let m = Affine([[0.8, -0.3, 12.0], [0.3, 0.8, -4.0]]);
        let p = [31.5, 77.25];
        let q = m.inverse().apply(m.apply(p));
        assert!((q[0] - p[0]).abs() < 1e-4 && (q[1] - p[1]).abs() < 1e-4, "{q:?}");
        let id = m.inverse().after(&m);
        assert!((id.0[0][0] - 1.0).abs() < 1e-12 && id.0[0][2].abs() < 1e-12);
    }
}
