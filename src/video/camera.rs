//! Webcams through nokhwa: listing them, opening one by index or name, RGB frames.

use image::RgbImage;
use nokhwa::{
    pixel_format::RgbFormat,
    query,
    utils::{ApiBackend, CameraFormat, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType, Resolution},
    Camera,
};

use super::{pool::reuse_or_new, CameraSelector, FrameSource, MediaCause, Pacing, SourceFrame, VideoError};

/// The cameras the system offers: (index, name, description).
///
/// # Errors
/// [`VideoError::NoCamera`] when the system cannot be asked (no video devices at all).
pub fn list_cameras() -> Result<Vec<(u32, String, String)>, VideoError> {
    let cameras = query(ApiBackend::Auto).map_err(|e| VideoError::NoCamera { source: MediaCause::other(e) })?;
    Ok(cameras
        .iter()
        .map(|c| {
            let index = match c.index() {
                CameraIndex::Index(i) => *i,
                CameraIndex::String(_) => 0,
            };
            (index, c.human_name(), c.description().to_string())
        })
        .collect())
}

/// An open camera, streaming.
pub struct CameraSource {
    camera: Camera,
    name: String,
    frames: u64,
    started: std::time::Instant,
}

impl CameraSource {
    /// Opens the camera `selector` asking for the closest to `resolution` and `fps`.
    ///
    /// # Errors
    /// [`VideoError::NoCamera`] when there is no camera (or none by that name),
    /// [`VideoError::Camera`] when it exists but will not open or stream.
    pub fn open(
        selector: &CameraSelector,
        resolution: Option<(u32, u32)>,
        fps: Option<u32>,
    ) -> Result<Self, VideoError> {
        let cameras = list_cameras()?;
        let index = match selector {
            CameraSelector::Index(i) => *i,
            CameraSelector::Name(name) => {
                let wanted = name.to_lowercase();
                cameras.iter().find(|(_, n, _)| n.to_lowercase().contains(&wanted)).map(|(i, _, _)| *i).ok_or_else(
                    || VideoError::NoCamera {
                        source: if cameras.is_empty() {
                            "the system lists no camera".into()
                        } else {
                            format!("none is named {name:?}; `faceswap cameras` lists them").into()
                        },
                    },
                )?
            }
        };
        if cameras.is_empty() {
            return Err(VideoError::NoCamera { source: "the system lists no camera".into() });
        }
        let requested = match (resolution, fps) {
            (None, None) => RequestedFormat::new::<RgbFormat>(RequestedFormatType::AbsoluteHighestFrameRate),
            (res, rate) => {
                let (w, h) = res.unwrap_or((640, 480));
                RequestedFormat::new::<RgbFormat>(RequestedFormatType::Closest(CameraFormat::new(
                    Resolution::new(w, h),
                    FrameFormat::MJPEG,
                    rate.unwrap_or(30),
                )))
            }
        };
        let camera_error =
            |e: nokhwa::NokhwaError| VideoError::Camera { camera: selector.to_string(), source: MediaCause::other(e) };
        let mut camera = Camera::new(CameraIndex::Index(index), requested).map_err(camera_error)?;
        camera.open_stream().map_err(camera_error)?;
        let name = camera.info().human_name();
        tracing::info!(camera = %name, format = %camera.camera_format(), "camera streaming");
        Ok(Self { camera, name, frames: 0, started: std::time::Instant::now() })
    }
}

impl Drop for CameraSource {
    fn drop(&mut self) {
        // Release the device so that other programs (or the next run) can open it.
        if let Err(e) = self.camera.stop_stream() {
            tracing::warn!(camera = %self.name, error = %e, "camera did not stop cleanly");
        }
    }
}

impl FrameSource for CameraSource {
    fn describe(&self) -> String {
        format!("camera {}", self.name)
    }

    fn next_frame(&mut self, into: Option<RgbImage>) -> Result<Option<SourceFrame>, VideoError> {
        let camera_error =
            |e: nokhwa::NokhwaError| VideoError::Camera { camera: self.name.clone(), source: MediaCause::other(e) };
        let buffer = self.camera.frame().map_err(camera_error)?;
        let resolution = buffer.resolution();
        let mut image = reuse_or_new(into, resolution.width(), resolution.height());
        buffer.decode_image_to_buffer::<RgbFormat>(&mut image).map_err(camera_error)?;
        self.frames += 1;
        Ok(Some(SourceFrame { image, pts: Some(self.started.elapsed().as_secs_f64()), timestamp: None }))
    }

    fn pacing(&self) -> Pacing {
        Pacing::Own
    }
}
