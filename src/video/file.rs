//! Video files decoded with ffmpeg (ffmpeg-next), converted to RGB, optionally looped.

use std::path::{Path, PathBuf};

use ffmpeg::{format::Pixel, software::scaling, util::frame::video::Video};
use ffmpeg_next as ffmpeg;
use image::RgbImage;

use super::{pool::reuse_or_new, FrameSource, MediaCause, Pacing, SourceFrame, VideoError};
use crate::imaging::PictureLimits;

/// How many quarter turns clockwise a stream's display matrix asks for (phone footage is stored
/// sideways and shown upright through it), 0 when it has none.
pub fn quarter_turns(stream: &ffmpeg::format::stream::Stream) -> u32 {
    for side in stream.side_data() {
        if side.kind() != ffmpeg::codec::packet::side_data::Type::DisplayMatrix {
            continue;
        }
        let data = side.data();
        if data.len() < 36 {
            continue;
        }
        let mut matrix = [0i32; 9];
        for (value, bytes) in matrix.iter_mut().zip(data.chunks_exact(4)) {
            *value = i32::from_ne_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        }
        // SAFETY: av_display_rotation_get reads the nine values of the matrix it is given.
        let counterclockwise = unsafe { ffmpeg::ffi::av_display_rotation_get(matrix.as_ptr()) };
        if counterclockwise.is_nan() {
            return 0;
        }
        // As ffmpeg's own players do: the angle to turn by is the matrix's, negated.
        let clockwise = (-counterclockwise).rem_euclid(360.0);
        return ((clockwise / 90.0).round() as u32) % 4;
    }
    0
}

/// Turns `from` (`width`×`height`, RGB) by `turns` quarter turns clockwise into `to`, which
/// has the turned size.
fn turn_into(from: &[u8], width: usize, height: usize, turns: u32, to: &mut [u8]) {
    for y in 0..height {
        for x in 0..width {
            let (tx, ty, tw) = match turns {
                1 => (height - 1 - y, x, height),
                2 => (width - 1 - x, height - 1 - y, width),
                _ => (y, width - 1 - x, height),
            };
            let (src, dst) = (3 * (y * width + x), 3 * (ty * tw + tx));
            to[dst..dst + 3].copy_from_slice(&from[src..src + 3]);
        }
    }
}

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
    /// Quarter turns clockwise that make the frames upright (the display matrix).
    turns: u32,
    /// The decoded frame before it is turned.
    sideways: Vec<u8>,
    limits: PictureLimits,
    looping: bool,
    /// Added to timestamps after each loop, so they keep increasing.
    loop_offset: f64,
    last_pts: f64,
    draining: bool,
    bad_packets: u64,
    window: FrameWindow,
}

/// A part of a video's frames, by presentation timestamp in the video stream's time base:
/// from `start` (inclusive) to `end` (exclusive); an open side runs to that end of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct FrameWindow {
    pub start: Option<i64>,
    pub end: Option<i64>,
}

impl FrameWindow {
    /// The whole video.
    pub const ALL: Self = Self { start: None, end: None };

    fn before(&self, pts: i64) -> bool {
        self.start.is_some_and(|s| pts < s)
    }

    fn after(&self, pts: i64) -> bool {
        self.end.is_some_and(|e| pts >= e)
    }
}

/// Whether `path` names a file on a web server (a presigned object-store URL, say) rather
/// than a local file; ffmpeg reads both, with ranged requests for the former.
pub fn is_url(path: &Path) -> bool {
    path.to_str().is_some_and(|p| p.starts_with("http://") || p.starts_with("https://"))
}

/// The name to show for `path`: a URL loses its query (a presigned URL's signature).
pub fn display_name(path: &Path) -> String {
    let text = path.display().to_string();
    match text.split_once('?') {
        Some((base, _)) if is_url(path) => base.to_string(),
        _ => text,
    }
}

fn open_error(path: &Path, e: impl Into<MediaCause>) -> VideoError {
    VideoError::Open { path: path.to_path_buf(), source: e.into() }
}

impl VideoFileSource {
    /// Opens `path`; frames are scaled to `size` when given, else kept at the stream's size.
    ///
    /// # Errors
    /// [`VideoError::Open`] when the file is missing or not a video ffmpeg reads,
    /// [`VideoError::NoVideoStream`] when it has no video.
    pub fn open(
        path: &Path,
        size: Option<(u32, u32)>,
        looping: bool,
        limits: PictureLimits,
    ) -> Result<Self, VideoError> {
        Self::open_part(path, size, looping, limits, FrameWindow::ALL)
    }

    /// Opens `path` (a file, or a URL: see [`is_url`]) for the frames in `window` only: the
    /// reader seeks to the last keyframe at or before its start and stops at its end.
    ///
    /// # Errors
    /// As [`VideoFileSource::open`]; [`VideoError::Open`] when the seek fails too.
    pub fn open_part(
        path: &Path,
        size: Option<(u32, u32)>,
        looping: bool,
        limits: PictureLimits,
        window: FrameWindow,
    ) -> Result<Self, VideoError> {
        super::init_ffmpeg().map_err(|e| open_error(path, e))?;
        if !is_url(path) && !path.is_file() {
            return Err(VideoError::Missing { path: path.to_path_buf() });
        }
        let mut input = super::media_io::open_input(path).map_err(|e| open_error(path, e))?;
        let stream = input
            .streams()
            .best(ffmpeg::media::Type::Video)
            .ok_or_else(|| VideoError::NoVideoStream { path: path.to_path_buf() })?;
        let index = stream.index();
        let turns = quarter_turns(&stream);
        let seek_to = window.start;
        let time_base = f64::from(stream.time_base());
        let rate = stream.avg_frame_rate();
        let fps = (rate.denominator() != 0 && rate.numerator() > 0).then(|| f64::from(rate));
        let frames = u64::try_from(stream.frames()).ok().filter(|&n| n > 0);
        let context =
            ffmpeg::codec::context::Context::from_parameters(stream.parameters()).map_err(|e| open_error(path, e))?;
        let decoder = context.decoder().video().map_err(|e| open_error(path, e))?;
        if let Some(start) = seek_to {
            seek_before(&mut input, index, start).map_err(|e| open_error(path, e))?;
        }
        // A size asked for is the upright frame's; the scaler works on the stored one.
        let (w, h) = match size {
            Some((w, h)) if turns % 2 == 1 => (h, w),
            Some(size) => size,
            None => (decoder.width(), decoder.height()),
        };
        if w == 0 || h == 0 {
            return Err(open_error(path, "the video stream has no size"));
        }
        let pixels = u64::from(w) * u64::from(h);
        if pixels > limits.max_pixels {
            return Err(VideoError::TooLarge {
                path: path.to_path_buf(),
                width: w,
                height: h,
                limit: limits.max_pixels,
            });
        }
        if turns > 0 {
            tracing::info!(path = %path.display(), degrees = turns * 90, "turning the frames upright, as the video's display matrix asks");
        }
        if !super::media_io::scalable(decoder.format()) {
            // swscale asserts on a format it does not know (a stream whose format the demuxer
            // could not tell is "none"): refused here instead.
            return Err(open_error(path, "its pixel format is unknown or not one this program converts"));
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
            info: if turns % 2 == 1 {
                VideoInfo { width: h, height: w, fps, frames }
            } else {
                VideoInfo { width: w, height: h, fps, frames }
            },
            turns,
            sideways: Vec::new(),
            limits,
            looping,
            loop_offset: 0.0,
            last_pts: 0.0,
            draining: false,
            bad_packets: 0,
            window,
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
        let upright = (self.info.width, self.info.height);
        let reopened = Self::open_part(&self.path, Some(upright), true, self.limits, self.window)?;
        let offset = self.last_pts + 1.0 / self.info.fps.unwrap_or(25.0);
        let bad = self.bad_packets;
        *self = reopened;
        self.loop_offset = offset;
        self.bad_packets = bad;
        Ok(())
    }
}

/// Seeks `input` to the last keyframe of `stream` at or before `pts` (that stream's time base).
fn seek_before(input: &mut ffmpeg::format::context::Input, stream: usize, pts: i64) -> Result<(), ffmpeg::Error> {
    let index = i32::try_from(stream).map_err(|_| ffmpeg::Error::StreamNotFound)?;
    // SAFETY: the context is open and owned by `input`; avformat_seek_file only moves its
    // read position.
    let code = unsafe {
        ffmpeg::ffi::avformat_seek_file(
            input.as_mut_ptr(),
            index,
            i64::MIN,
            pts,
            pts,
            ffmpeg::ffi::AVSEEK_FLAG_BACKWARD,
        )
    };
    if code < 0 {
        return Err(ffmpeg::Error::from(code));
    }
    Ok(())
}

impl FrameSource for VideoFileSource {
    fn describe(&self) -> String {
        format!("video {} ({}×{})", display_name(&self.path), self.info.width, self.info.height)
    }

    fn next_frame(&mut self, into: Option<RgbImage>) -> Result<Option<SourceFrame>, VideoError> {
        loop {
            if !self.decode_one()? {
                if !self.looping {
                    return Ok(None);
                }
                self.restart()?;
                if !self.decode_one()? {
                    return Ok(None);
                }
            }
            // Frames come out in presentation order: those before the window (from the
            // keyframe sought to) are skipped, the first one past it ends the part.
            match self.decoded.timestamp().or(self.decoded.pts()) {
                Some(t) if self.window.before(t) => continue,
                Some(t) if self.window.after(t) => return Ok(None),
                _ => break,
            }
        }
        let decode_error = |e: MediaCause| VideoError::Decode { path: self.path.clone(), source: e };
        let (w, h) = self.size;
        let input = self.scaler.input();
        let (format, width, height) = (self.decoded.format(), self.decoded.width(), self.decoded.height());
        if (input.format, input.width, input.height) != (format, width, height) {
            // The stream changed its frames mid-way (a new size, a new pixel format): the
            // frames keep the size they started with.
            if !super::media_io::scalable(format) || width == 0 || height == 0 {
                return Err(decode_error(
                    format!("its frames changed to a pixel format this program cannot convert ({format:?})").into(),
                ));
            }
            self.scaler = scaling::Context::get(format, width, height, Pixel::RGB24, w, h, scaling::Flags::BILINEAR)
                .map_err(|e| decode_error(e.into()))?;
        }
        self.scaler.run(&self.decoded, &mut self.rgb).map_err(|e| decode_error(e.into()))?;
        let mut image = reuse_or_new(into, self.info.width, self.info.height);
        let stride = self.rgb.stride(0);
        let data = self.rgb.data(0);
        let row = 3 * w as usize;
        if self.turns == 0 {
            for (y, out) in image.chunks_exact_mut(row).enumerate() {
                out.copy_from_slice(&data[y * stride..y * stride + row]);
            }
        } else {
            self.sideways.resize(row * h as usize, 0);
            for (y, out) in self.sideways.chunks_exact_mut(row).enumerate() {
                out.copy_from_slice(&data[y * stride..y * stride + row]);
            }
            turn_into(&self.sideways, w as usize, h as usize, self.turns, &mut image);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarter_turns_move_the_corners_where_they_belong() {
        // 3×2: a b c / d e f.
        let from: Vec<u8> = (0u8..6).flat_map(|v| [v, v, v]).collect();
        let mut to = vec![0u8; 18];
        let values = |to: &[u8]| to.chunks(3).map(|p| p[0]).collect::<Vec<_>>();
        turn_into(&from, 3, 2, 1, &mut to);
        assert_eq!(values(&to), [3, 0, 4, 1, 5, 2], "clockwise: d a / e b / f c");
        turn_into(&from, 3, 2, 2, &mut to);
        assert_eq!(values(&to), [5, 4, 3, 2, 1, 0]);
        turn_into(&from, 3, 2, 3, &mut to);
        assert_eq!(values(&to), [2, 5, 1, 4, 0, 3], "counter-clockwise: c f / b e / a d");
    }
}
