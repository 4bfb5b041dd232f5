//! Durable video jobs: a job table (embedded SQLite, or PostgreSQL shared by many replicas)
//! and the jobs' files in a storage (a folder, or an S3 bucket); each job runs as tasks — one
//! whole transcode, or for a long video its parts and the assembly that joins them — that
//! workers anywhere claim under leases; progress, cancellation, recovery from dead workers,
//! and retention.

mod database;
mod error;
mod execute;
mod files;
mod retention;
mod runner;
mod store;
mod submit;
mod tasks;

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

pub use database::{Dialect, QueueUrl};
pub use error::JobError;
pub use files::JobFiles;
pub use retention::Retention;
pub use runner::{JobRunner, RunnerConfig};
pub use store::{JobCounts, JobRecord, JobStore, NewTask, QueueDepth};
pub use submit::{JobIntake, JobLimits, JobSubmission, TargetFaces};
pub use tasks::ClaimedTask;

use crate::{face::FaceSelection, transcode::PlannedPart, transcode::TranscodeOptions};

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Where a task is in its life (jobs have [`JobStatus`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskStatus {
    /// Waiting for a worker.
    Queued,
    /// Held by a worker under a lease.
    Running,
    Done,
}

impl TaskStatus {
    /// The name stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
        }
    }
}

impl std::str::FromStr for TaskStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Self::Queued, Self::Running, Self::Done]
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown task status {s:?}"))
    }
}

/// What a task does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskKind {
    /// The whole video in one transcode (a video shorter than a part).
    Whole,
    /// One part of a long video, swapped into a part file.
    Part,
    /// The parts joined into the result, with the input's sound and subtitles.
    Assemble,
}

impl TaskKind {
    /// The name stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Whole => "whole",
            Self::Part => "part",
            Self::Assemble => "assemble",
        }
    }
}

impl std::str::FromStr for TaskKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Self::Whole, Self::Part, Self::Assemble]
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown task kind {s:?}"))
    }
}

/// A task's particulars: a part's frames.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TaskSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part: Option<PlannedPart>,
}

/// A job's id: a random UUID (v4), never derived from anything a client sends, and the only
/// thing a job's file names are made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobId(uuid::Uuid);

impl JobId {
    /// A new random id.
    pub fn new() -> Self {
        Self(uuid::Uuid::new_v4())
    }
}

impl Default for JobId {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Display for JobId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl std::str::FromStr for JobId {
    type Err = JobError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        uuid::Uuid::parse_str(s).map(Self).map_err(|_| JobError::NotFound { id: s.chars().take(64).collect() })
    }
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl JobStatus {
    /// Every status, in life order.
    pub const ALL: [Self; 5] = [Self::Queued, Self::Running, Self::Succeeded, Self::Failed, Self::Cancelled];

    /// The name stored and served.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    /// Whether the job will not change any more.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Cancelled)
    }
}

impl std::str::FromStr for JobStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|v| v.as_str() == s).ok_or_else(|| format!("unknown job status {s:?}"))
    }
}

/// Which faces of the video a job replaces.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetChoice {
    #[default]
    Largest,
    Index(usize),
    /// Several faces by number, as `/v1/detect` lists them.
    Indices(Vec<usize>),
    All,
    /// The face most like the job's reference picture.
    Reference,
}

impl TargetChoice {
    /// The selection, when it needs no reference analysed.
    pub fn fixed(&self) -> Option<FaceSelection> {
        match self {
            Self::Largest => Some(FaceSelection::Largest),
            Self::Index(i) => Some(FaceSelection::Index(*i)),
            Self::Indices(list) => Some(FaceSelection::Indices(list.clone())),
            Self::All => Some(FaceSelection::All),
            Self::Reference => None,
        }
    }
}

/// A job as accepted: what to do, and the names of its files inside its folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRequest {
    /// The source picture's extension (`png`, `jpg`).
    pub source_extension: String,
    /// Which face of the source picture (none: the largest).
    #[serde(default)]
    pub source_face: Option<usize>,
    /// The input video's extension, and the name the client gave it (for the download name).
    pub input_extension: String,
    pub input_name: String,
    /// The reference picture's extension, when faces are picked by likeness.
    pub reference_extension: Option<String>,
    pub target: TargetChoice,
    /// The result's container extension (`mp4`, `mkv`, `mov`, `webm`).
    pub output_extension: String,
    pub options: TranscodeOptions,
}
