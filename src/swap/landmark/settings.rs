//! The landmark swapper's settings: what trades likeness against the target's expression and
//! light. The defaults were chosen by `examples/tune_landmark.rs` on the tuning faces only (the
//! astronaut and people 0–2 of t1.jpg); `scripts/eval_quality.py` reports them on faces none
//! was chosen on.

use serde::Deserialize;

/// Every setting of the landmark swapper. Shares are of the face's size unless said otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LandmarkSettings {
    /// How far (0 = not at all, 1 = fully) the brows and nose take the source's shape; the
    /// outline stays the target's.
    pub shape_weight: f32,
    /// The eyes' and the mouth's width follow the source by these multiples of the shape
    /// weight (their openness stays the target's: it is the expression).
    pub eye_width_share: f32,
    pub mouth_width_share: f32,
    /// The target's eyes show over an ellipse of these shares of the eye's width (along,
    /// across) when its openness differs from the source's.
    pub eye_keep: [f32; 2],
    /// Differences of openness (target against source) below the slack keep the source's eyes
    /// or mouth; the target's show fully once the difference is slack + span.
    pub eye_slack: f32,
    pub mouth_slack: f32,
    pub expression_span: f32,
    /// The radius of the light match's blur: large enough to keep the source's features, small
    /// enough to follow the target's light across a forehead.
    pub light_radius: f32,
    /// How far the source's contrast moves to the target's (1: all the way; the spread ratio is
    /// raised to this power).
    pub contrast_follow: f32,
    /// How far the lips' colour moves to the target's (1: all the way). Measured on the tuning
    /// faces: 0.75 moves the lips' mean colour 10.7 grey levels off the target's (20.5 with the
    /// source's lips as they are, 7.9 at 1.0) for no likeness lost; at 1.0 t1.jpg's mouths read
    /// a little less like themselves (the landmark model reads lips by their colour too).
    pub lip_colour: f32,
    /// The blend mask is eroded by this share of the face's size, then feathered with a
    /// near-Gaussian edge of sigma this share.
    pub erode: f32,
    pub feather: f32,
}

/// The shape weight the swapper starts with.
pub const DEFAULT_SHAPE_WEIGHT: f32 = 0.35;

impl Default for LandmarkSettings {
    fn default() -> Self {
        Self {
            shape_weight: DEFAULT_SHAPE_WEIGHT,
            eye_width_share: 0.5 / DEFAULT_SHAPE_WEIGHT,
            mouth_width_share: 0.15 / DEFAULT_SHAPE_WEIGHT,
            eye_keep: [1.3, 0.35],
            eye_slack: 0.03,
            mouth_slack: 0.02,
            expression_span: 0.06,
            light_radius: 0.08,
            contrast_follow: 0.75,
            lip_colour: 0.75,
            erode: 1.0 / 32.0,
            feather: 1.0 / 36.0,
        }
    }
}
