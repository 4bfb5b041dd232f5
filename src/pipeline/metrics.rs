//! What the sink measures: frames shown, per-stage times and capture-to-display delay, with
//! percentiles, for the overlay and for `--stats-json`.

use std::{collections::BTreeMap, time::Instant};

use serde::Serialize;

use super::{Frame, MillisHistogram};

/// The 50th, 95th and 99th percentiles (and the mean) of a set of milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Percentiles {
    pub p50: f32,
    pub p95: f32,
    pub p99: f32,
    pub mean: f32,
}

impl Percentiles {
    /// Nearest-rank percentiles; zeros for no samples.
    pub fn of(samples: &mut [f32]) -> Self {
        if samples.is_empty() {
            return Self::default();
        }
        samples.sort_by(f32::total_cmp);
        let rank = |p: f32| samples[(((p / 100.0) * samples.len() as f32).ceil() as usize).clamp(1, samples.len()) - 1];
        let mean = samples.iter().sum::<f32>() / samples.len() as f32;
        Self { p50: rank(50.0), p95: rank(95.0), p99: rank(99.0), mean }
    }
}

/// A step every frame goes through, as the stats name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Reading or decoding the frame.
    Capture,
    Detect,
    Track,
    Swap,
    /// The live sink: the window or the headless meter.
    Display,
    /// The transcode sink.
    Encode,
}

impl Stage {
    /// The name in the stats.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Capture => "capture",
            Self::Detect => "detect",
            Self::Track => "track",
            Self::Swap => "swap",
            Self::Display => "display",
            Self::Encode => "encode",
        }
    }
}

/// The run's figures, as `--stats-json` writes them.
#[derive(Debug, Clone, Serialize)]
pub struct PipelineStats {
    pub frames_captured: u64,
    pub frames_swapped: u64,
    pub frames_shown: u64,
    pub frames_dropped: u64,
    /// Frames a stage failed on (passed on unswapped).
    pub frames_failed: u64,
    /// Frames the sink received out of order (always 0: the check is the point).
    pub frames_out_of_order: u64,
    pub fps: f64,
    pub duration_s: f64,
    pub stage_ms: BTreeMap<Stage, Percentiles>,
    pub latency_ms: Percentiles,
}

/// Counts and times frames as the sink takes them.
#[derive(Debug)]
pub struct SinkMeter {
    started: Instant,
    shown: u64,
    swapped: u64,
    out_of_order: u64,
    last_seq: Option<u64>,
    // Fixed-size histograms: a live run of any length keeps the same memory.
    latency: MillisHistogram,
    capture: MillisHistogram,
    detect: MillisHistogram,
    track: MillisHistogram,
    swap: MillisHistogram,
    output: MillisHistogram,
    /// Exponential moving averages for the overlay: fps, then per stage, then latency.
    recent_fps: f32,
    recent: [f32; 6],
    last_shown: Option<Instant>,
    output_stage: Stage,
}

impl SinkMeter {
    /// A meter whose last stage is `output_stage` ([`Stage::Display`], [`Stage::Encode`]).
    pub fn new(output_stage: Stage) -> Self {
        Self {
            started: Instant::now(),
            shown: 0,
            swapped: 0,
            out_of_order: 0,
            last_seq: None,
            latency: MillisHistogram::default(),
            capture: MillisHistogram::default(),
            detect: MillisHistogram::default(),
            track: MillisHistogram::default(),
            swap: MillisHistogram::default(),
            output: MillisHistogram::default(),
            recent_fps: 0.0,
            recent: [0.0; 6],
            last_shown: None,
            output_stage,
        }
    }

    /// Records `frame` as shown, its output step having taken `output_ms`.
    pub fn record(&mut self, frame: &Frame, output_ms: f32) {
        let now = Instant::now();
        let latency = now.duration_since(frame.captured).as_secs_f32() * 1000.0;
        self.shown += 1;
        if frame.swapped > 0 {
            self.swapped += 1;
        }
        if self.last_seq.is_some_and(|last| frame.seq <= last) {
            self.out_of_order += 1;
        }
        self.last_seq = Some(frame.seq);
        let t = &frame.times;
        for (samples, value) in [
            (&mut self.latency, latency),
            (&mut self.capture, t.capture),
            (&mut self.detect, t.detect),
            (&mut self.track, t.track),
            (&mut self.swap, t.swap),
            (&mut self.output, output_ms),
        ] {
            samples.record(value);
        }
        let ema = |old: f32, new: f32| if old == 0.0 { new } else { 0.9 * old + 0.1 * new };
        for (slot, value) in self.recent.iter_mut().zip([t.capture, t.detect, t.track, t.swap, output_ms, latency]) {
            *slot = ema(*slot, value);
        }
        if let Some(last) = self.last_shown {
            let dt = now.duration_since(last).as_secs_f32();
            if dt > 0.0 {
                self.recent_fps = ema(self.recent_fps, 1.0 / dt);
            }
        }
        self.last_shown = Some(now);
    }

    /// The recent frame rate (moving average).
    pub fn recent_fps(&self) -> f32 {
        self.recent_fps
    }

    /// Frames shown so far.
    pub fn shown(&self) -> u64 {
        self.shown
    }

    /// The overlay's lines: fps, stage delays, and the given context.
    pub fn overlay(&self, context: &str, faces: usize, swapping: bool) -> Vec<String> {
        let [capture, detect, track, swap, output, latency] = self.recent;
        vec![
            format!(
                "{:.1} fps  delay {:.0} ms  faces {faces}  swap {}",
                self.recent_fps,
                latency,
                if swapping { "on" } else { "off" }
            ),
            format!(
                "capture {capture:.1}  detect {detect:.1}  track {track:.1}  swap {swap:.1}  {} {output:.1} ms",
                self.output_stage.as_str()
            ),
            context.to_string(),
            "H overlay  Space swap  M mouth mask  S snapshot  Q quit".to_string(),
        ]
    }

    /// The final figures; what was captured, dropped and failed comes from the stages.
    pub fn finish(self, counts: super::FrameCounts) -> PipelineStats {
        let super::FrameCounts { captured, dropped, failed } = counts;
        let duration = self.started.elapsed().as_secs_f64();
        let mut stage_ms = BTreeMap::new();
        for (stage, samples) in [
            (Stage::Capture, &self.capture),
            (Stage::Detect, &self.detect),
            (Stage::Track, &self.track),
            (Stage::Swap, &self.swap),
            (self.output_stage, &self.output),
        ] {
            stage_ms.insert(stage, samples.percentiles());
        }
        PipelineStats {
            frames_captured: captured,
            frames_swapped: self.swapped,
            frames_shown: self.shown,
            frames_dropped: dropped,
            frames_failed: failed,
            frames_out_of_order: self.out_of_order,
            fps: if duration > 0.0 { self.shown as f64 / duration } else { 0.0 },
            duration_s: duration,
            stage_ms,
            latency_ms: self.latency.percentiles(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let mut v: Vec<f32> = (1..=100).map(|i| i as f32).collect();
        assert_eq!(Percentiles::of(&mut v), Percentiles { p50: 50.0, p95: 95.0, p99: 99.0, mean: 50.5 });
        assert_eq!(Percentiles::of(&mut []), Percentiles::default());
    }
}
