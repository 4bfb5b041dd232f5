//! A still picture played as a video: the same frame at a fixed rate.

use image::RgbImage;

use super::{pool::reuse_or_new, FrameSource, Pacing, SourceFrame, VideoError};

/// Repeats one picture.
#[derive(Debug)]
pub struct StillSource {
    picture: RgbImage,
    fps: f64,
    name: String,
    index: u64,
}

impl StillSource {
    pub fn new(picture: RgbImage, fps: f64, name: impl Into<String>) -> Self {
        Self { picture, fps: fps.max(0.1), name: name.into(), index: 0 }
    }
}

impl FrameSource for StillSource {
    fn describe(&self) -> String {
        format!("picture {} at {} fps", self.name, self.fps)
    }

    fn next_frame(&mut self, into: Option<RgbImage>) -> Result<Option<SourceFrame>, VideoError> {
        let mut image = reuse_or_new(into, self.picture.width(), self.picture.height());
        image.copy_from_slice(&self.picture);
        let pts = self.index as f64 / self.fps;
        self.index += 1;
        Ok(Some(SourceFrame { image, pts: Some(pts), timestamp: None }))
    }

    fn pacing(&self) -> Pacing {
        Pacing::Rate(self.fps)
    }
}
