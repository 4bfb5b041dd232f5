//! The One Euro filter (Casiez et al., 2012): smooths jitter when a point is still and follows
//! quickly when it moves, so a tracked face neither shakes nor lags.

use std::f32::consts::PI;

/// One filtered value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OneEuroFilter {
    min_cutoff: f32,
    beta: f32,
    derivative_cutoff: f32,
    state: Option<(f32, f32, f64)>,
}

fn alpha(cutoff: f32, dt: f32) -> f32 {
    let tau = 1.0 / (2.0 * PI * cutoff);
    1.0 / (1.0 + tau / dt)
}

impl OneEuroFilter {
    /// `min_cutoff` in Hz sets the smoothing at rest; `beta` how fast the cutoff rises with speed.
    pub fn new(min_cutoff: f32, beta: f32) -> Self {
        Self { min_cutoff, beta, derivative_cutoff: 1.0, state: None }
    }

    /// Filters `value` observed at time `t` (seconds).
    pub fn filter(&mut self, value: f32, t: f64) -> f32 {
        let Some((previous, derivative, last_t)) = self.state else {
            self.state = Some((value, 0.0, t));
            return value;
        };
        let dt = ((t - last_t) as f32).max(1e-3);
        let raw_derivative = (value - previous) / dt;
        let a_d = alpha(self.derivative_cutoff, dt);
        let derivative = a_d * raw_derivative + (1.0 - a_d) * derivative;
        let cutoff = self.min_cutoff + self.beta * derivative.abs();
        let a = alpha(cutoff, dt);
        let filtered = a * value + (1.0 - a) * previous;
        self.state = Some((filtered, derivative, t));
        filtered
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_is_damped_and_motion_is_followed() {
        let mut still = OneEuroFilter::new(1.0, 0.05);
        let outputs: Vec<f32> =
            (0..60).map(|i| still.filter(if i % 2 == 0 { 100.5 } else { 99.5 }, i as f64 / 30.0)).collect();
        let late = &outputs[30..];
        let spread = late.iter().cloned().fold(f32::MIN, f32::max) - late.iter().cloned().fold(f32::MAX, f32::min);
        assert!(spread < 0.5, "jitter of ±0.5 px left a spread of {spread}");

        let mut moving = OneEuroFilter::new(1.0, 0.05);
        let mut last = 0.0;
        for i in 0..30 {
            last = moving.filter(i as f32 * 10.0, i as f64 / 30.0); // 300 px/s
        }
        assert!(290.0 - last < 20.0, "lags {} px behind a moving point", 290.0 - last);
    }
}
