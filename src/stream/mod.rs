//! Live video beyond the window: outputs (a virtual camera, network streams, a recording), each
//! on its own thread behind its own drop-oldest link, reconnecting with back-off, so a slow or
//! absent receiver never slows the pipeline; and network inputs (RTSP, UDP, SRT, HTTP), paced by
//! arrival, reconnecting after a drop while the outputs keep getting frames.

mod input;
mod output;
mod target;

use std::path::PathBuf;

pub use input::{is_network, InputMonitor, InputStats, NetworkSource};
pub use output::{OutputStats, Outputs};
pub use target::OutputTarget;

use crate::error_kind::ErrorKind;

/// What went wrong with a live input or output.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error("output {output:?} is not one faceswap writes to (use v4l2:/dev/videoN, udp://HOST:PORT, tcp://…, srt://…, rtmp://… or rtsp://…)")]
    UnknownOutput { output: String },
    #[error("video device {device} does not exist: create a virtual camera with `sudo modprobe v4l2loopback video_nr=N exclusive_caps=1` (N its number)")]
    NoDevice { device: PathBuf },
    #[error("video device {device} is a camera, not a v4l2loopback output device")]
    NotLoopback { device: PathBuf },
    #[error("stream {url} could not be opened")]
    Open { url: String, source: crate::video::MediaCause },
    #[error("the {what} thread could not start")]
    Thread {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

impl StreamError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::UnknownOutput { .. } => ErrorKind::UnsupportedFormat,
            Self::NoDevice { .. } => ErrorKind::NotFound,
            Self::NotLoopback { .. } | Self::Open { .. } => ErrorKind::InvalidInput,
            Self::Thread { .. } => ErrorKind::Internal,
        }
    }
}
