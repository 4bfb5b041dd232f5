//! Writing a video file: the swapped frames encoded (H.264 with libx264 by default, yuv420p,
//! the input's size and timestamps), the input's audio and subtitle streams copied packet for
//! packet, and a metadata tag saying the video was face-swapped.

use std::path::{Path, PathBuf};

use ffmpeg::{codec, format::Pixel, media, software::scaling, util::frame::video::Video, Rational};
use ffmpeg_next as ffmpeg;
use image::RgbImage;

use super::{MediaCause, Muxer, VideoError};

/// How to encode the video stream.
#[derive(Debug, Clone, PartialEq)]
pub struct EncoderSettings {
    /// An ffmpeg encoder name (`libx264`, `libx265`, `libvpx-vp9`, …).
    pub encoder: String,
    /// Constant rate factor (quality); the encoder's default when `None`.
    pub crf: Option<u32>,
    pub preset: Option<String>,
    /// Encoder threads (`None`: the encoder's own choice).
    pub threads: Option<u32>,
    /// Further encoder options (`tune`, `g`, `bf`, …).
    pub options: Vec<(String, String)>,
}

impl EncoderSettings {
    /// libx264 at CRF 18 (visually lossless for most clips), preset superfast.
    pub fn h264() -> Self {
        Self {
            encoder: "libx264".into(),
            crf: Some(18),
            preset: Some("superfast".into()),
            threads: None,
            options: Vec::new(),
        }
    }

    /// libx264 for live streams: no look-ahead or B-frames (tune zerolatency), a keyframe every
    /// second so a receiver joining late starts within one, ultrafast.
    pub fn h264_live(fps: f64) -> Self {
        let gop = fps.round().clamp(1.0, 120.0) as u32;
        Self {
            encoder: "libx264".into(),
            crf: Some(23),
            preset: Some("ultrafast".into()),
            threads: Some(1),
            options: vec![
                ("tune".into(), "zerolatency".into()),
                ("g".into(), gop.to_string()),
                ("bf".into(), "0".into()),
            ],
        }
    }
}

/// What the input's video stream is, as the writer needs it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StreamShape {
    pub width: u32,
    pub height: u32,
    pub time_base: Rational,
    pub frame_rate: Option<Rational>,
    pub frames: Option<u64>,
}

impl StreamShape {
    /// One frame's duration in the time base (1 when the rate is unknown).
    pub fn frame_step(&self) -> i64 {
        self.frame_rate
            .map(|r| {
                let step = f64::from(r.invert()) / f64::from(self.time_base);
                step.round().max(1.0) as i64
            })
            .unwrap_or(1)
    }
}

/// Whether ffmpeg has a container (muxer) for the name of `path` (its extension).
pub fn has_container_for(path: &Path) -> bool {
    if super::init_ffmpeg().is_err() {
        return false;
    }
    let Some(name) = path.file_name().and_then(|n| n.to_str()).and_then(|n| std::ffi::CString::new(n).ok()) else {
        return false;
    };
    // SAFETY: av_guess_format only reads the NUL-terminated name and returns a static pointer.
    !unsafe { ffmpeg::ffi::av_guess_format(std::ptr::null(), name.as_ptr(), std::ptr::null()) }.is_null()
}

/// Reads the shape of the best video stream of `path`.
///
/// # Errors
/// [`VideoError::Open`] / [`VideoError::NoVideoStream`].
pub fn probe(path: &Path) -> Result<StreamShape, VideoError> {
    let open = |e: MediaCause| VideoError::Open { path: path.to_path_buf(), source: e };
    super::init_ffmpeg().map_err(|e| open(e.into()))?;
    let input = super::media_io::open_input(path).map_err(|e| open(e.into()))?;
    let stream = input
        .streams()
        .best(media::Type::Video)
        .ok_or_else(|| VideoError::NoVideoStream { path: path.to_path_buf() })?;
    let decoder = codec::context::Context::from_parameters(stream.parameters())
        .and_then(|c| c.decoder().video())
        .map_err(|e| open(e.into()))?;
    let rate = stream.avg_frame_rate();
    // The frames are turned upright by the source; the output is shaped like them.
    let (width, height) = if super::quarter_turns(&stream) % 2 == 1 {
        (decoder.height(), decoder.width())
    } else {
        (decoder.width(), decoder.height())
    };
    Ok(StreamShape {
        width,
        height,
        time_base: stream.time_base(),
        frame_rate: (rate.numerator() > 0 && rate.denominator() > 0).then_some(rate),
        frames: u64::try_from(stream.frames()).ok().filter(|&n| n > 0),
    })
}

/// Counts of what was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteSummary {
    /// The size written (the frames' size, padded to even sides).
    pub encoded_size: (u32, u32),
    pub frames: u64,
    pub copied_packets: u64,
    /// Unreadable stretches of the input met while copying its other streams.
    pub copy_read_errors: u64,
}

/// An output video being written.
pub struct VideoWriter {
    path: PathBuf,
    /// The frames' size, and the encoded size (one more pixel where a side is odd: yuv420p
    /// halves both sides, and x264/x265 refuse odd ones).
    frame_size: (u32, u32),
    encoded_size: (u32, u32),
    muxer: Muxer,
    encoder: ffmpeg::encoder::Video,
    encoder_tb: Rational,
    scaler: scaling::Context,
    rgb: Video,
    yuv: Video,
    frames: u64,
    last_pts: Option<i64>,
    frame_step: i64,
}

impl VideoWriter {
    /// A video-only file (no streams copied, no tags): benchmarks and tests.
    ///
    /// # Errors
    /// [`VideoError::Write`] when the file or the encoder cannot be set up.
    pub fn create_video_only(path: &Path, shape: &StreamShape, settings: &EncoderSettings) -> Result<Self, VideoError> {
        Self::create(path, None, None, shape, settings, &[])
    }

    /// Creates `path` (format from its extension, or `format` when given) for frames shaped like
    /// `shape`, copying the audio and subtitle streams of `input` when given, tagged with
    /// `metadata`.
    ///
    /// # Errors
    /// [`VideoError::Write`] when the file, the encoder or a stream cannot be set up.
    pub fn create(
        path: &Path,
        format: Option<&str>,
        input: Option<&Path>,
        shape: &StreamShape,
        settings: &EncoderSettings,
        metadata: &[(&str, &str)],
    ) -> Result<Self, VideoError> {
        let output = Muxer::output(path, format)?;
        Self::open(path, output, input, shape, settings, metadata)
    }

    /// Opens `url` (a network stream or a device) with ffmpeg's `format` muxer and `io_options`
    /// (time-outs, packet sizes), for frames shaped like `shape`.
    ///
    /// # Errors
    /// [`VideoError::Write`] when the stream cannot be opened (a receiver not there, a refused
    /// connection) or the encoder set up.
    pub fn create_stream(
        url: &str,
        format: &str,
        io_options: &[(&str, &str)],
        shape: &StreamShape,
        settings: &EncoderSettings,
    ) -> Result<Self, VideoError> {
        let path = Path::new(url);
        let fail = |e: MediaCause| VideoError::Write { path: path.to_path_buf(), source: e };
        super::init_ffmpeg().map_err(|e| fail(e.into()))?;
        let mut options = ffmpeg::Dictionary::new();
        for (key, value) in io_options {
            options.set(key, value);
        }
        let output = super::media_io::open_output(path, Some(format), options).map_err(|e| fail(e.into()))?;
        Self::open(path, output, None, shape, settings, &[])
    }

    fn open(
        path: &Path,
        output: ffmpeg::format::context::Output,
        input: Option<&Path>,
        shape: &StreamShape,
        settings: &EncoderSettings,
        metadata: &[(&str, &str)],
    ) -> Result<Self, VideoError> {
        let fail = |e: MediaCause| VideoError::Write { path: path.to_path_buf(), source: e };
        let mut output = output;
        let (width, height) = (shape.width + shape.width % 2, shape.height + shape.height % 2);
        if (width, height) != (shape.width, shape.height) {
            tracing::warn!(
                from = %format!("{}×{}", shape.width, shape.height),
                to = %format!("{width}×{height}"),
                "odd frame size: the video is padded by one pixel (its edge repeated), as yuv420p needs even sides"
            );
        }
        let global_header = output.format().flags().contains(ffmpeg::format::Flags::GLOBAL_HEADER);
        let codec = ffmpeg::encoder::find_by_name(&settings.encoder)
            .ok_or_else(|| fail(MediaCause::from(format!("this ffmpeg has no encoder {}", settings.encoder))))?;
        let mut stream = output.add_stream(codec).map_err(|e| fail(e.into()))?;
        let video_index = stream.index();
        let mut encoder =
            codec::context::Context::new_with_codec(codec).encoder().video().map_err(|e| fail(e.into()))?;
        encoder.set_width(width);
        encoder.set_height(height);
        encoder.set_format(Pixel::YUV420P);
        encoder.set_time_base(shape.time_base);
        encoder.set_frame_rate(shape.frame_rate);
        if global_header {
            encoder.set_flags(codec::Flags::GLOBAL_HEADER);
        }
        let mut options = ffmpeg::Dictionary::new();
        if let Some(crf) = settings.crf {
            options.set("crf", &crf.to_string());
        }
        if let Some(preset) = &settings.preset {
            options.set("preset", preset);
        }
        if let Some(threads) = settings.threads {
            options.set("threads", &threads.to_string());
        }
        for (key, value) in &settings.options {
            options.set(key, value);
        }
        let encoder = encoder.open_with(options).map_err(|e| fail(e.into()))?;
        stream.set_parameters(&encoder);
        stream.set_time_base(shape.time_base);
        stream.set_avg_frame_rate(shape.frame_rate.unwrap_or(Rational(0, 1)));

        let muxer = Muxer::start(path, output, video_index, input, metadata)?;

        let scaler =
            scaling::Context::get(Pixel::RGB24, width, height, Pixel::YUV420P, width, height, scaling::Flags::BILINEAR)
                .map_err(|e| fail(e.into()))?;
        let frame_step = shape.frame_step();
        Ok(Self {
            path: path.to_path_buf(),
            frame_size: (shape.width, shape.height),
            encoded_size: (width, height),
            muxer,
            encoder,
            encoder_tb: shape.time_base,
            scaler,
            rgb: Video::new(Pixel::RGB24, width, height),
            yuv: Video::new(Pixel::YUV420P, width, height),
            frames: 0,
            last_pts: None,
            frame_step,
        })
    }

    /// One frame's duration in the stream's time base (1 when the rate is unknown).
    pub fn frame_step(&self) -> i64 {
        self.frame_step
    }

    /// See [`Muxer::offset_timestamps`]; `ticks` in the input's time base.
    pub fn offset_timestamps(&mut self, ticks: i64) {
        self.muxer.offset_timestamps(ticks);
    }

    fn fail(&self, source: MediaCause) -> VideoError {
        VideoError::Write { path: self.path.clone(), source }
    }

    /// Encodes one frame at `timestamp` (input time base); a frame without one follows the last.
    ///
    /// # Errors
    /// [`VideoError::Write`] when encoding or writing fails (a full disk, say).
    pub fn write(&mut self, image: &RgbImage, timestamp: Option<i64>) -> Result<(), VideoError> {
        let (w, h) = image.dimensions();
        if (w, h) != self.frame_size {
            let (fw, fh) = self.frame_size;
            return Err(self.fail(MediaCause::from(format!("frame is {w}×{h}, the output {fw}×{fh}"))));
        }
        let stride = self.rgb.stride(0);
        let row = 3 * w as usize;
        let (padded_w, padded_h) = self.encoded_size;
        let data = self.rgb.data_mut(0);
        for (y, line) in image.chunks_exact(row).enumerate() {
            let out = &mut data[y * stride..y * stride + 3 * padded_w as usize];
            out[..row].copy_from_slice(line);
            if padded_w > w {
                out.copy_within(row - 3..row, row);
            }
        }
        if padded_h > h {
            let last = (h as usize - 1) * stride;
            data.copy_within(last..last + 3 * padded_w as usize, h as usize * stride);
        }
        self.scaler.run(&self.rgb, &mut self.yuv).map_err(|e| self.fail(e.into()))?;
        // Timestamps must increase; a repeated or missing one is placed one frame later.
        let pts = match (timestamp, self.last_pts) {
            (Some(t), Some(last)) if t <= last => last + self.frame_step,
            (Some(t), _) => t,
            (None, Some(last)) => last + self.frame_step,
            (None, None) => 0,
        };
        self.last_pts = Some(pts);
        self.yuv.set_pts(Some(pts));
        self.encoder.send_frame(&self.yuv).map_err(|e| self.fail(e.into()))?;
        self.frames += 1;
        self.drain_packets()
    }

    fn drain_packets(&mut self) -> Result<(), VideoError> {
        let mut packet = ffmpeg::Packet::empty();
        while self.encoder.receive_packet(&mut packet).is_ok() {
            self.muxer.write_video(&mut packet, self.encoder_tb)?;
        }
        Ok(())
    }

    /// Flushes the encoder, copies the rest of the audio, writes the trailer.
    ///
    /// # Errors
    /// [`VideoError::Write`] when the last writes fail.
    pub fn finish(mut self) -> Result<WriteSummary, VideoError> {
        self.encoder.send_eof().map_err(|e| self.fail(e.into()))?;
        self.drain_packets()?;
        let copied = self.muxer.finish()?;
        Ok(WriteSummary {
            encoded_size: self.encoded_size,
            frames: self.frames,
            copied_packets: copied.copied_packets,
            copy_read_errors: copied.copy_read_errors,
        })
    }
}
