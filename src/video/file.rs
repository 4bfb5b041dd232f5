//! Video files decoded with ffmpeg (ffmpeg-next), converted to RGB, optionally looped.

use std::path::{Path, PathBuf};

use ffmpeg::{format::Pixel, software::scaling, util::frame::video::Video};
use ffmpeg_next as ffmpeg;
use image::RgbImage;

use super::{pool::reuse_or_new, FrameSource, Pacing, SourceFrame, VideoError};

/// What a video stream is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VideoInfo {
    pub width: u32,
    pub height: u32,
    /// Average frame rate, when the container knows it.
    pub fps: Option<f64>,
    /// Frame count, when the container knows it.
    pub frames: Option<u64>,
}

/// A video file as a stream of RGB frames.
pub struct VideoFileSource {
    path: PathBuf,
    input: ffmpeg::format::context::Input,
    stream: usize,
    time_base: f64,
    decoder: ffmpeg::decoder::Video,
    scaler: scaling::Context,
    size: (u32, u32),
    decoded: Video,
    rgb: Video,
    info: VideoInfo,
    looping: bool,
    /// Added to timestamps after each loop, so they keep increasing.
    loop_offset: f64,
    last_pts: f64,
    draining: bool,
    bad_packets: u64,
}

fn open_error(path: &Path, e: impl std::fmt::Display) -> VideoError {
    VideoError::Open { path: path.to_path_buf(), reason: e.to_string() }
}

impl VideoFileSource {
    /// Opens `path`; frames are scaled to `size` when given, else kept at the stream's size.
    ///
    /// # Errors
    /// [`VideoError::Open`] when the file is missing or not a video ffmpeg reads,
    /// [`VideoError::NoVideoStream`] when it has no video.
    pub fn open(path: &Path, size: Option<(u32, u32)>, looping: bool) -> Result<Self, VideoError> {
        super::init_ffmpeg().map_err(|e| open_error(path, e))?;
        if !path.is_file() {
            return Err(VideoError::Missing { path: path.to_path_buf() });
        }
        let input = ffmpeg::format::input(path).map_err(|e| open_error(path, e))?;
        let stream = input
            .streams()
            .best(ffmpeg::media::Type::Video)
            .ok_or_else(|| VideoError::NoVideoStream { path: path.to_path_buf() })?;
        let index = stream.index();
        let time_base = f64::from(stream.time_base());
        let rate = stream.avg_frame_rate();
        let fps = (rate.denominator() != 0 && rate.numerator() > 0).then(|| f64::from(rate));
        let frames = u64::try_from(stream.frames()).ok().filter(|&n| n > 0);
        let context =
            ffmpeg::codec::context::Context::from_parameters(stream.parameters()).map_err(|e| open_error(path, e))?;
        let decoder = context.decoder().video().map_err(|e| open_error(path, e))?;
        let (w, h) = size.unwrap_or((decoder.width(), decoder.height()));
        if w == 0 || h == 0 {
            return Err(open_error(path, "the video stream has no size"));
        }
        let scaler = scaling::Context::get(
            decoder.format(),
            decoder.width(),
            decoder.height(),
            Pixel::RGB24,
            w,
            h,
            scaling::Flags::BILINEAR,
        )
        .map_err(|e| open_error(path, e))?;
        Ok(Self {
            path: path.to_path_buf(),
            input,
            stream: index,
            time_base,
            decoder,
            scaler,
            size: (w, h),
            decoded: Video::empty(),
            rgb: Video::empty(),
            info: VideoInfo { width: w, height: h, fps, frames },
            looping,
            loop_offset: 0.0,
            last_pts: 0.0,
            draining: false,
            bad_packets: 0,
        })
    }

    /// The stream's size (after scaling), rate and length.
    pub fn info(&self) -> VideoInfo {
        self.info
    }

    /// Decodes until one frame is ready; false at the end of the file.
    fn decode_one(&mut self) -> Result<bool, VideoError> {
        loop {
            if self.decoder.receive_frame(&mut self.decoded).is_ok() {
                return Ok(true);
            }
            if self.draining {
                return Ok(false);
            }
            let mut packet = ffmpeg::Packet::empty();
            match packet.read(&mut self.input) {
                Ok(()) if packet.stream() == self.stream => {
                    // The demuxer marks packets it found damaged; the decoder conceals what it can.
                    if packet.is_corrupt() {
                        self.bad_packets += 1;
                    }
                    if let Err(e) = self.decoder.send_packet(&packet) {
                        // A damaged packet: count it, keep going with the next one.
                        self.bad_packets += 1;
                        tracing::debug!(path = %self.path.display(), error = %e, "skipping a packet the decoder rejected");
                    }
                }
                Ok(()) => {}
                Err(ffmpeg::Error::Eof) => {
                    self.draining = true;
                    let _ = self.decoder.send_eof();
                }
                Err(e) => {
                    // A read error mid-file is treated like the end: what decoded so far is kept.
                    self.bad_packets += 1;
                    tracing::warn!(path = %self.path.display(), error = %e, "stopping at an unreadable part of the file");
                    self.draining = true;
                    let _ = self.decoder.send_eof();
                }
            }
        }
    }

    fn restart(&mut self) -> Result<(), VideoError> {
        let reopened = Self::open(&self.path, Some(self.size), true)?;
        let offset = self.last_pts + 1.0 / self.info.fps.unwrap_or(25.0);
        let bad = self.bad_packets;
        *self = reopened;
        self.loop_offset = offset;
        self.bad_packets = bad;
        Ok(())
    }
}

impl FrameSource for VideoFileSource {
    fn describe(&self) -> String {
        format!("video {} ({}×{})", self.path.display(), self.size.0, self.size.1)
    }

    fn next_frame(&mut self, into: Option<RgbImage>) -> Result<Option<SourceFrame>, VideoError> {
        if !self.decode_one()? {
            if !self.looping {
                return Ok(None);
            }
            self.restart()?;
            if !self.decode_one()? {
                return Ok(None);
            }
        }
        self.scaler
            .run(&self.decoded, &mut self.rgb)
            .map_err(|e| VideoError::Decode { path: self.path.clone(), reason: e.to_string() })?;
        let (w, h) = self.size;
        let mut image = reuse_or_new(into, w, h);
        let stride = self.rgb.stride(0);
        let data = self.rgb.data(0);
        let row = 3 * w as usize;
        for (y, out) in image.chunks_exact_mut(row).enumerate() {
            out.copy_from_slice(&data[y * stride..y * stride + row]);
        }
        let timestamp = self.decoded.timestamp().or(self.decoded.pts());
        let pts = timestamp.map(|t| t as f64 * self.time_base + self.loop_offset);
        if let Some(p) = pts {
            self.last_pts = p;
        }
        Ok(Some(SourceFrame { image, pts, timestamp: timestamp.filter(|_| self.loop_offset == 0.0) }))
    }

    fn pacing(&self) -> Pacing {
        Pacing::Timestamps
    }

    fn bad_packets(&self) -> u64 {
        self.bad_packets
    }
}
