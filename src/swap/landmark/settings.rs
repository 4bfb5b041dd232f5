//! The landmark swapper's settings: what trades likeness against the target's expression and
//! light. The first were chosen on t1.jpg with the astronaut as the source (the figures below);
//! the lip colour, the shape weight, the outline and the eyes' and mouth's shares on the tuning
//! faces of `scripts/eval_quality.py` (the astronaut, t1.jpg's people 0–2 and gdp.jpg's
//! profile, on t1.jpg and the astronaut) with `examples/tune_landmark.rs`. The evaluation
//! reports them on faces none was chosen on.

use serde::Deserialize;

/// Every setting of the landmark swapper. Shares are of the face's size unless said otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LandmarkSettings {
    /// How far (0 = not at all, 1 = fully) the brows and nose take the source's shape. 0.35
    /// raises ArcFace similarity to the source by about 0.1 over a pure texture swap while the
    /// landmarks stay within 2% of the target's. With the outline at 0.75 (below), 0.5 raises
    /// likeness on the tuning faces from 0.341 to 0.355 (eye change 0.031 → 0.037).
    pub shape_weight: f32,
    /// The eyes' and the mouth's width follow the source by these multiples of the shape
    /// weight (capped at all the way). Eyes 0.5 and mouth 0.15 (at weight 0.35) against 0.35
    /// for both raised likeness on t1.jpg from 0.372 to 0.389 while the outline was the
    /// target's; with the outline following the source the mouth's full width reads better
    /// (0.375 against 0.372 at 0.43 on the tuning faces, same mouth change).
    pub eye_width_share: f32,
    pub mouth_width_share: f32,
    /// Across their axis (how open they are) the eyes and mouth follow the source by these
    /// multiples of the shape weight: the rest of their openness is the target's expression.
    /// With the outline at 0.75 and a shape weight of 0.5, the mouth at 0.5 (the source's lips'
    /// thickness a quarter of the way) raises likeness on the tuning faces 0.355 → 0.375 at a
    /// mouth change of 0.034; the eyes at 0.25 gain nothing (0.374) and move them more (0.040)
    /// (both measured before a turned target kept its own outline).
    pub eye_open_share: f32,
    pub mouth_open_share: f32,
    /// How far the face's outline (its width, its jaw) takes the source's shape; the target's
    /// face and what is around it are moved to meet it first (see `reshape`), so no strip of
    /// the target's jaw shows beside a narrower one, and a turned target keeps its own outline
    /// (the share fades from a near half three times its far half to six times: a frontal
    /// outline pushed its far cheek out over the window behind it on t1.jpg). The largest
    /// lever on likeness there is, and off by default because it costs the target's
    /// expression. On the tuning faces, with shape weight 0.5, mouth width 1.0 and mouth
    /// openness 0.5: 0.274 → 0.351 (eye change 0.030 → 0.038). On the report faces, 0.75:
    /// likeness 0.241 → 0.298, eye change 0.037 → 0.041, mouth 0.030 → 0.038, the clip's eye
    /// correlation 0.80 → 0.73; on t1.jpg with the astronaut eye change 0.032 → 0.056.
    pub outline_share: f32,
    /// The target's eyes show over an ellipse of these shares of the eye's width (along,
    /// across) when its openness differs from the source's: its lids and lashes, sized by the
    /// width so a nearly closed eye keeps as much of them as an open one. 1.3 × 0.35 gave a
    /// mean eye change of 0.035 at a likeness of 0.399 on t1.jpg; 1.3 × 0.5 follows blinks in
    /// video more closely: on the tuning faces the carphone clip's eye correlation 0.839 →
    /// 0.868 at 640×480 and 0.655 → 0.710 at 176×144, eye change 0.033 → 0.028, for likeness
    /// 0.281 → 0.274 (t1.jpg with the astronaut 0.399 → 0.389, its mouth change 0.029).
    /// Closer still with less slack, at a cost on t1.jpg: 0.015 gave 0.879 with its mouth
    /// change at 0.0300, the 0.03 asked, with no room for another CPU's rounding; the
    /// target's eyes always shown, 0.915 with its eye change 0.041.
    pub eye_keep: [f32; 2],
    /// Differences of openness (target against source) below the slack keep the source's eyes
    /// or mouth; the target's show fully once the difference is slack + span.
    pub eye_slack: f32,
    pub mouth_slack: f32,
    pub expression_span: f32,
    /// The radius of the light match's blur: large enough to keep the source's features, small
    /// enough to follow the target's light across a forehead. On the tuning faces 0.16 would
    /// raise likeness 0.346 → 0.365 by keeping the source's shading (light moved 9.3 grey levels
    /// against 5.4), and 0.04 lose it (0.281).
    pub light_radius: f32,
    /// How far the source's contrast moves to the target's (1: all the way; the spread ratio is
    /// raised to this power). 0.75 keeps enough of the source's own contrast to raise likeness
    /// on t1.jpg from 0.400 to 0.404 and in the carphone clip from 0.50 to 0.51, with flicker
    /// 1.03 (0.98 at 1.0; 1.08 at 0.5).
    pub contrast_follow: f32,
    /// How far the lips' colour moves to the target's (1: all the way). Measured on the tuning
    /// faces: 0.75 moves the lips' mean colour 10.7 grey levels off the target's (20.5 with the
    /// source's lips as they are, 7.9 at 1.0) for no likeness lost; at 1.0 t1.jpg's mouths read
    /// a little less like themselves (the landmark model reads lips by their colour too).
    pub lip_colour: f32,
    /// The blend mask is eroded by this share of the face's size, then feathered with a
    /// near-Gaussian edge of sigma this share: more of the source's cheeks and jaw than 1/16 and
    /// 1/24 gave (likeness 0.367 against 0.359 on t1.jpg), with no seam on a forehead.
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
            eye_open_share: 0.0,
            mouth_open_share: 0.0,
            outline_share: 0.0,
            eye_keep: [1.3, 0.5],
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
