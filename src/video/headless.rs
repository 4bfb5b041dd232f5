//! A build without the desktop feature (a server image): no camera library and no window
//! system are linked in, and asking for either is a clear error, never a silent fallback.

use image::RgbImage;

use super::{CameraSelector, FrameSource, Pacing, SourceFrame, VideoError, WindowEvent};

const NO_DESKTOP: &str = "this build of faceswap has no camera or window support (built without the desktop feature)";

/// The cameras the system offers: none this build can open.
///
/// # Errors
/// Always [`VideoError::NoCamera`].
pub fn list_cameras() -> Result<Vec<(u32, String, String)>, VideoError> {
    Err(VideoError::NoCamera { source: NO_DESKTOP.into() })
}

/// A camera, which this build cannot open.
pub enum CameraSource {}

impl CameraSource {
    /// # Errors
    /// Always [`VideoError::NoCamera`].
    pub fn open(_: &CameraSelector, _: Option<(u32, u32)>, _: Option<u32>) -> Result<Self, VideoError> {
        Err(VideoError::NoCamera { source: NO_DESKTOP.into() })
    }
}

impl FrameSource for CameraSource {
    fn describe(&self) -> String {
        match *self {}
    }

    fn next_frame(&mut self, _: Option<RgbImage>) -> Result<Option<SourceFrame>, VideoError> {
        match *self {}
    }

    fn pacing(&self) -> Pacing {
        match *self {}
    }
}

/// A window, which this build cannot open.
pub enum WindowSink {}

impl WindowSink {
    /// # Errors
    /// Always [`VideoError::Window`]: run headless instead.
    pub fn open(_: &str, _: u32, _: u32) -> Result<Self, VideoError> {
        Err(VideoError::Window { source: format!("{NO_DESKTOP}: run with --headless").into() })
    }

    pub fn is_open(&self) -> bool {
        match *self {}
    }

    /// # Errors
    /// Never: no window exists.
    pub fn show(&mut self, _: &RgbImage, _: &[String]) -> Result<Vec<WindowEvent>, VideoError> {
        match *self {}
    }
}
