//! What a live session reads, chosen from what the user named.

use std::path::{Path, PathBuf};

use crate::{
    imaging::{is_picture_path, PictureLimits},
    stream::{is_network, InputMonitor, NetworkSource},
    video::{CameraSelector, MediaCause, SourceOpener, SourceSpec, VideoError},
};

/// Where a live session's frames come from.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveInput {
    Camera {
        selector: CameraSelector,
        resolution: Option<(u32, u32)>,
        fps: Option<u32>,
    },
    /// A video played in real time (looped when asked).
    File {
        path: PathBuf,
        resolution: Option<(u32, u32)>,
        looping: bool,
    },
    /// A picture repeated at `fps`.
    Still {
        path: PathBuf,
        fps: u32,
    },
    /// RTSP, UDP, SRT, TCP or HTTP, paced by arrival.
    Network {
        url: String,
    },
}

/// A still picture stands in for a camera at this rate unless told otherwise.
const STILL_FPS: u32 = 30;

impl LiveInput {
    /// What `path` names: a network URL, a picture (by its extension), else a video file.
    pub fn for_path(path: &Path, resolution: Option<(u32, u32)>, fps: Option<u32>, looping: bool) -> Self {
        let text = path.to_string_lossy();
        if is_network(&text) {
            Self::Network { url: text.into_owned() }
        } else if is_picture_path(path) {
            Self::Still { path: path.to_path_buf(), fps: fps.unwrap_or(STILL_FPS) }
        } else {
            Self::File { path: path.to_path_buf(), resolution, looping }
        }
    }

    /// Whether it is a network stream (whose figures the session reports).
    pub fn is_network(&self) -> bool {
        matches!(self, Self::Network { .. })
    }

    /// The pipeline's source for it; a network input reports its figures to `monitor`.
    pub(super) fn spec(&self, limits: PictureLimits, monitor: &InputMonitor) -> SourceSpec {
        match self {
            Self::Camera { selector, resolution, fps } => {
                SourceSpec::Camera { selector: selector.clone(), resolution: *resolution, fps: *fps }
            }
            Self::File { path, resolution, looping } => {
                SourceSpec::File { path: path.clone(), resolution: *resolution, looping: *looping, limits }
            }
            Self::Still { path, fps } => SourceSpec::Still { path: path.clone(), fps: f64::from(*fps), limits },
            Self::Network { url } => {
                let (url, monitor) = (url.clone(), monitor.clone());
                SourceSpec::Custom(SourceOpener(std::sync::Arc::new(move || {
                    NetworkSource::open(&url, limits, monitor.clone())
                        .map(|source| Box::new(source) as Box<dyn crate::video::FrameSource>)
                        .map_err(|e| VideoError::Open { path: PathBuf::from(&url), source: MediaCause::other(e) })
                })))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_input_kind_follows_the_name() {
        let for_path = |p: &str| LiveInput::for_path(Path::new(p), None, None, false);
        assert!(matches!(for_path("rtsp://cam/1"), LiveInput::Network { .. }));
        assert!(matches!(for_path("face.JPG"), LiveInput::Still { fps: 30, .. }));
        assert!(matches!(for_path("café.mp4"), LiveInput::File { .. }));
        assert!(matches!(for_path("udp.mp4"), LiveInput::File { .. }));
    }
}
