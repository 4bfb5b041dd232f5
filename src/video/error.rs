//! Errors from sources and sinks.

use std::path::PathBuf;

/// What went wrong with a camera, video file or window.
#[derive(Debug, thiserror::Error)]
pub enum VideoError {
    #[error("no camera found ({reason}): use --input FILE to run on a video or picture instead")]
    NoCamera { reason: String },
    #[error("camera {camera} could not be opened: {reason}")]
    Camera { camera: String, reason: String },
    #[error("video {path} could not be opened: {reason}")]
    Open { path: PathBuf, reason: String },
    #[error("video {path} has no video stream")]
    NoVideoStream { path: PathBuf },
    #[error("video {path} could not be decoded: {reason}")]
    Decode { path: PathBuf, reason: String },
    #[error("video {path} could not be written: {reason}")]
    Write { path: PathBuf, reason: String },
    #[error("no window could be opened ({reason}): run with --headless, or set DISPLAY")]
    Window { reason: String },
}
