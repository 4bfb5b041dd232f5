//! What a live session ends with, as `--stats-json` writes it.

use serde::Serialize;

use crate::{
    pipeline::PipelineStats,
    stream::{InputStats, OutputStats},
};

/// The pipeline's figures with the live outputs' and the network input's.
#[derive(Debug, Clone, Serialize)]
pub struct LiveStats {
    #[serde(flatten)]
    pub pipeline: PipelineStats,
    /// Live outputs (virtual camera, streams, recording), when there were any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<OutputStats>,
    /// A network input, when it was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<InputStats>,
}

impl LiveStats {
    /// The first output that stopped for good (a recording whose disk filled), with why.
    pub fn failed_output(&self) -> Option<(&OutputStats, &str)> {
        self.outputs.iter().find_map(|o| Some((o, o.failed.as_deref()?)))
    }
}
