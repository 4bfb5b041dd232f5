//! The staged pipeline: source → detect → swap → (caller's sink), one thread per stage, joined
//! by bounded channels with a live (drop oldest) or lossless (block) policy.

mod controls;
mod error;
mod frame;
mod histogram;
mod link;
mod metrics;
mod run;
mod smoothing;
mod stages;
mod tracker;

pub use controls::{Controls, FrameCounts};
pub use error::PipelineError;
pub use frame::{Frame, StageTimes};
pub use histogram::MillisHistogram;
pub use link::{link, LinkReceiver, LinkSender, Policy, RecvTimeoutError};
pub use metrics::{Percentiles, PipelineStats, SinkMeter, Stage};
pub use run::{Pipeline, PipelineConfig, RunningPipeline, StageModels, StageUpdates};
pub use smoothing::OneEuroFilter;
pub use tracker::{FaceTracker, FrameDetector, TrackFollower, TrackUpdate, TrackerConfig};
