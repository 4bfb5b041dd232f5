//! Where frames come from (camera, video file, still picture) and where they go (window).
//! Every source implements [`FrameSource`], so everything after the source is the same code.

#[cfg(feature = "desktop")]
mod camera;
mod camera_selector;
mod error;
mod file;
#[cfg(not(feature = "desktop"))]
mod headless;
mod media_io;
mod muxer;
mod overlay;
mod pool;
mod still;
#[cfg(feature = "desktop")]
mod window;
mod window_event;
mod writer;

#[cfg(feature = "desktop")]
pub use camera::{list_cameras, CameraSource};
pub use camera_selector::CameraSelector;
pub use error::{MediaCause, VideoError};
pub use file::{display_name, is_url, quarter_turns, FrameWindow, VideoFileSource, VideoInfo};
#[cfg(not(feature = "desktop"))]
pub use headless::{list_cameras, CameraSource, WindowSink};
pub use media_io::{open_input, open_output, scalable};
pub use muxer::{CopySummary, Muxer};
pub use overlay::draw_text;
pub use pool::FramePool;
pub use still::StillSource;
#[cfg(feature = "desktop")]
pub use window::WindowSink;
pub use window_event::WindowEvent;
pub use writer::{has_container_for, probe, EncoderSettings, StreamShape, VideoWriter, WriteSummary};

use std::path::PathBuf;

use image::RgbImage;

use crate::imaging::PictureLimits;

/// Initialises ffmpeg, with its own log quiet (libx264's statistics and the like are not for
/// our users).
///
/// # Errors
/// ffmpeg's, when it cannot initialise.
pub fn init_ffmpeg() -> Result<(), ffmpeg_next::Error> {
    ffmpeg_next::init()?;
    // Our own errors say what failed; ffmpeg's log lines would only repeat it, less clearly.
    ffmpeg_next::util::log::set_level(ffmpeg_next::util::log::Level::Fatal);
    Ok(())
}

/// Registers ffmpeg's devices (the v4l2 output a virtual camera is written with), once.
pub fn init_device_formats() {
    static DONE: std::sync::Once = std::sync::Once::new();
    DONE.call_once(ffmpeg_next::device::register_all);
}

/// One picture from a source, with its presentation time when the source has one.
#[derive(Debug)]
pub struct SourceFrame {
    pub image: RgbImage,
    /// Seconds from the start of the stream.
    pub pts: Option<f64>,
    /// The same instant in the stream's own time base, for a file (kept exactly when transcoding).
    pub timestamp: Option<i64>,
}

/// How a source wants its frames paced.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pacing {
    /// The source paces itself (a camera delivers frames as they are captured).
    Own,
    /// Deliver each frame when the wall clock reaches its timestamp (a file played as a camera).
    Timestamps,
    /// Deliver a frame every `1 / fps` seconds (a still picture).
    Rate(f64),
    /// As fast as the consumer takes them (transcoding, benchmarks).
    Unpaced,
}

/// A stream of pictures. Sources hold device and decoder handles that must stay on one thread,
/// so they are opened on the thread that reads them, from a [`SourceSpec`].
pub trait FrameSource {
    /// A short description for logs and the overlay.
    fn describe(&self) -> String;

    /// The next picture, written into `into` when its size fits (a reused buffer), or `None`
    /// at the end of the stream.
    ///
    /// # Errors
    /// [`VideoError`] when the device or file fails.
    fn next_frame(&mut self, into: Option<RgbImage>) -> Result<Option<SourceFrame>, VideoError>;

    /// How frames should be paced when the source plays live.
    fn pacing(&self) -> Pacing;

    /// Damaged packets skipped so far (files only).
    fn bad_packets(&self) -> u64 {
        0
    }
}

/// What to open as the source: plain data, sent to the capture thread, which opens it there.
#[derive(Debug, Clone)]
pub enum SourceSpec {
    Camera {
        selector: CameraSelector,
        resolution: Option<(u32, u32)>,
        fps: Option<u32>,
    },
    File {
        path: PathBuf,
        resolution: Option<(u32, u32)>,
        looping: bool,
        limits: PictureLimits,
    },
    /// Part of a video file (or a file at a URL), read as fast as it is taken.
    FilePart {
        path: PathBuf,
        window: FrameWindow,
        limits: PictureLimits,
    },
    Still {
        path: PathBuf,
        fps: f64,
        limits: PictureLimits,
    },
    /// Any source, opened by the function on the capture thread (network streams, benchmarks,
    /// tests): sources this module does not know plug in here.
    Custom(SourceOpener),
}

/// Opens a custom source on the capture thread.
#[derive(Clone)]
pub struct SourceOpener(pub std::sync::Arc<OpenSource>);

/// The function a [`SourceOpener`] calls.
pub type OpenSource = dyn Fn() -> Result<Box<dyn FrameSource>, VideoError> + Send + Sync;

impl std::fmt::Debug for SourceOpener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SourceOpener")
    }
}

impl SourceSpec {
    /// Opens the source.
    ///
    /// # Errors
    /// The source's own errors: no camera, unreadable file, not a picture.
    pub fn open(&self) -> Result<Box<dyn FrameSource>, VideoError> {
        Ok(match self {
            Self::Camera { selector, resolution, fps } => Box::new(CameraSource::open(selector, *resolution, *fps)?),
            Self::File { path, resolution, looping, limits } => {
                Box::new(VideoFileSource::open(path, *resolution, *looping, *limits)?)
            }
            Self::FilePart { path, window, limits } => {
                Box::new(VideoFileSource::open_part(path, None, false, *limits, *window)?)
            }
            Self::Still { path, fps, limits } => {
                let picture = crate::imaging::load_rgb_within(path, *limits)?;
                Box::new(StillSource::new(picture, *fps, path.display().to_string()))
            }
            Self::Custom(open) => (open.0)()?,
        })
    }
}
