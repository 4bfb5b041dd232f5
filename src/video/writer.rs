//! Writing a video file: the swapped frames encoded (H.264 with libx264 by default, yuv420p,
//! the input's size and timestamps), the input's audio and subtitle streams copied packet for
//! packet, and a metadata tag saying the video was face-swapped.

use std::path::{Path, PathBuf};

use ffmpeg::{codec, format::Pixel, media, software::scaling, util::frame::video::Video, Rational};
use ffmpeg_next as ffmpeg;
use image::RgbImage;

use super::VideoError;

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
    let open = |e: &dyn std::fmt::Display| VideoError::Open { path: path.to_path_buf(), reason: e.to_string() };
    super::init_ffmpeg().map_err(|e| open(&e))?;
    let input = ffmpeg::format::input(path).map_err(|e| open(&e))?;
    let stream = input
        .streams()
        .best(media::Type::Video)
        .ok_or_else(|| VideoError::NoVideoStream { path: path.to_path_buf() })?;
    let decoder = codec::context::Context::from_parameters(stream.parameters())
        .and_then(|c| c.decoder().video())
        .map_err(|e| open(&e))?;
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

/// Copies the input's audio and subtitle packets into the output, in step with the video.
struct StreamCopier {
    input: ffmpeg::format::context::Input,
    /// Input stream index → (output stream index, input time base).
    map: Vec<Option<(usize, Rational)>>,
    pending: Option<ffmpeg::Packet>,
    done: bool,
    packets: u64,
    read_errors: u64,
}

impl StreamCopier {
    /// Writes copied packets up to `until` seconds (everything when `None`).
    fn pump(&mut self, output: &mut ffmpeg::format::context::Output, until: Option<f64>) -> Result<(), ffmpeg::Error> {
        loop {
            let packet = match self.pending.take() {
                Some(p) => p,
                None if self.done => return Ok(()),
                None => {
                    let mut p = ffmpeg::Packet::empty();
                    match p.read(&mut self.input) {
                        Ok(()) => p,
                        Err(ffmpeg::Error::Eof) => {
                            self.done = true;
                            return Ok(());
                        }
                        // A read error ends the copy, as it ends the video side: what was
                        // copied is kept, and the error is counted and reported.
                        Err(e) => {
                            tracing::warn!(error = %e, "stopping the sound and subtitle copy at an unreadable part of the input");
                            self.read_errors += 1;
                            self.done = true;
                            return Ok(());
                        }
                    }
                }
            };
            let Some(Some((out_index, in_tb))) = self.map.get(packet.stream()).copied() else {
                continue;
            };
            let seconds = packet.dts().or(packet.pts()).map(|t| t as f64 * f64::from(in_tb));
            if let (Some(limit), Some(at)) = (until, seconds) {
                if at > limit {
                    self.pending = Some(packet);
                    return Ok(());
                }
            }
            let mut packet = packet;
            let out_tb = output.stream(out_index).map_or(in_tb, |s| s.time_base());
            packet.rescale_ts(in_tb, out_tb);
            packet.set_position(-1);
            packet.set_stream(out_index);
            packet.write_interleaved(output)?;
            self.packets += 1;
        }
    }
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
    output: ffmpeg::format::context::Output,
    encoder: ffmpeg::encoder::Video,
    video_index: usize,
    encoder_tb: Rational,
    scaler: scaling::Context,
    rgb: Video,
    yuv: Video,
    copier: Option<StreamCopier>,
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
        let fail = |e: &dyn std::fmt::Display| VideoError::Write { path: path.to_path_buf(), reason: e.to_string() };
        super::init_ffmpeg().map_err(|e| fail(&e))?;
        let output = match format {
            Some(f) => ffmpeg::format::output_as(path, f),
            None => ffmpeg::format::output(path),
        }
        .map_err(|e| fail(&e))?;
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
        let fail = |e: &dyn std::fmt::Display| VideoError::Write { path: path.to_path_buf(), reason: e.to_string() };
        super::init_ffmpeg().map_err(|e| fail(&e))?;
        let mut options = ffmpeg::Dictionary::new();
        for (key, value) in io_options {
            options.set(key, value);
        }
        let output = ffmpeg::format::output_as_with(path, format, options).map_err(|e| fail(&e))?;
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
        let fail = |e: &dyn std::fmt::Display| VideoError::Write { path: path.to_path_buf(), reason: e.to_string() };
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
            .ok_or_else(|| fail(&format!("this ffmpeg has no encoder {}", settings.encoder)))?;
        let mut stream = output.add_stream(codec).map_err(|e| fail(&e))?;
        let video_index = stream.index();
        let mut encoder = codec::context::Context::new_with_codec(codec).encoder().video().map_err(|e| fail(&e))?;
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
        let encoder = encoder.open_with(options).map_err(|e| fail(&e))?;
        stream.set_parameters(&encoder);
        stream.set_time_base(shape.time_base);
        stream.set_avg_frame_rate(shape.frame_rate.unwrap_or(Rational(0, 1)));

        // The copied streams: every audio and subtitle stream of the input, unchanged.
        let copy_input = match input {
            Some(input) => Some(ffmpeg::format::input(input).map_err(|e| fail(&e))?),
            None => None,
        };
        let mut map = Vec::new();
        let best_video = copy_input.as_ref().and_then(|i| i.streams().best(media::Type::Video)).map(|s| s.index());
        for in_stream in copy_input.iter().flat_map(|input| input.streams()) {
            let kind = in_stream.parameters().medium();
            if !matches!(kind, media::Type::Audio | media::Type::Subtitle) {
                if Some(in_stream.index()) != best_video {
                    tracing::warn!(
                        stream = in_stream.index(),
                        kind = ?kind,
                        "a stream of the input is not carried over: only the first video stream is swapped and written, with the sound and subtitles"
                    );
                }
                map.push(None);
                continue;
            }
            let codec_id = in_stream.parameters().id();
            // SAFETY: the output's format is valid while `output` lives; avformat_query_codec
            // only reads it.
            let takes = unsafe { ffmpeg::ffi::avformat_query_codec(output.format().as_ptr(), codec_id.into(), 0) };
            if takes == 0 {
                let container = output.format().name().to_string();
                return Err(VideoError::Unsupported {
                    path: path.to_path_buf(),
                    reason: format!(
                        "the {container} container cannot hold the input's {} stream #{} ({:?}): choose a container that can, such as .mkv",
                        if kind == media::Type::Audio { "audio" } else { "subtitle" },
                        in_stream.index(),
                        codec_id
                    ),
                });
            }
            let mut out_stream = output.add_stream(ffmpeg::encoder::find(codec::Id::None)).map_err(|e| fail(&e))?;
            out_stream.set_parameters(in_stream.parameters());
            out_stream.set_time_base(in_stream.time_base());
            out_stream.set_metadata(in_stream.metadata().to_owned());
            // SAFETY: the parameters belong to the stream just added; clearing the codec tag
            // lets the muxer choose its own, as `ffmpeg -c copy` does.
            unsafe {
                (*out_stream.parameters().as_mut_ptr()).codec_tag = 0;
            }
            map.push(Some((out_stream.index(), in_stream.time_base())));
        }
        let mut tags = ffmpeg::Dictionary::new();
        for (key, value) in metadata {
            tags.set(key, value);
        }
        output.set_metadata(tags);
        let mut header_options = ffmpeg::Dictionary::new();
        // MP4/MOV drop tags they do not know unless asked to keep them.
        header_options.set("movflags", "+use_metadata_tags");
        output.write_header_with(header_options).map_err(|e| fail(&e))?;

        let scaler =
            scaling::Context::get(Pixel::RGB24, width, height, Pixel::YUV420P, width, height, scaling::Flags::BILINEAR)
                .map_err(|e| fail(&e))?;
        let frame_step = shape
            .frame_rate
            .map(|r| {
                let step = f64::from(r.invert()) / f64::from(shape.time_base);
                step.round().max(1.0) as i64
            })
            .unwrap_or(1);
        Ok(Self {
            path: path.to_path_buf(),
            frame_size: (shape.width, shape.height),
            encoded_size: (width, height),
            output,
            encoder,
            video_index,
            encoder_tb: shape.time_base,
            scaler,
            rgb: Video::new(Pixel::RGB24, width, height),
            yuv: Video::new(Pixel::YUV420P, width, height),
            copier: copy_input.map(|input| StreamCopier {
                input,
                map,
                pending: None,
                done: false,
                packets: 0,
                read_errors: 0,
            }),
            frames: 0,
            last_pts: None,
            frame_step,
        })
    }

    fn fail(&self, e: &dyn std::fmt::Display) -> VideoError {
        VideoError::Write { path: self.path.clone(), reason: e.to_string() }
    }

    /// Encodes one frame at `timestamp` (input time base); a frame without one follows the last.
    ///
    /// # Errors
    /// [`VideoError::Write`] when encoding or writing fails (a full disk, say).
    pub fn write(&mut self, image: &RgbImage, timestamp: Option<i64>) -> Result<(), VideoError> {
        let (w, h) = image.dimensions();
        if (w, h) != self.frame_size {
            let (fw, fh) = self.frame_size;
            return Err(self.fail(&format!("frame is {w}×{h}, the output {fw}×{fh}")));
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
        self.scaler.run(&self.rgb, &mut self.yuv).map_err(|e| self.fail(&e))?;
        // Timestamps must increase; a repeated or missing one is placed one frame later.
        let pts = match (timestamp, self.last_pts) {
            (Some(t), Some(last)) if t <= last => last + self.frame_step,
            (Some(t), _) => t,
            (None, Some(last)) => last + self.frame_step,
            (None, None) => 0,
        };
        self.last_pts = Some(pts);
        self.yuv.set_pts(Some(pts));
        self.encoder.send_frame(&self.yuv).map_err(|e| self.fail(&e))?;
        self.frames += 1;
        self.drain_packets()
    }

    fn drain_packets(&mut self) -> Result<(), VideoError> {
        let mut packet = ffmpeg::Packet::empty();
        while self.encoder.receive_packet(&mut packet).is_ok() {
            let seconds = packet.dts().or(packet.pts()).map(|t| t as f64 * f64::from(self.encoder_tb));
            if let Some(copier) = self.copier.as_mut() {
                copier
                    .pump(&mut self.output, seconds)
                    .map_err(|e| VideoError::Write { path: self.path.clone(), reason: e.to_string() })?;
            }
            let out_tb = self.output.stream(self.video_index).map_or(self.encoder_tb, |s| s.time_base());
            packet.set_stream(self.video_index);
            packet.rescale_ts(self.encoder_tb, out_tb);
            packet.write_interleaved(&mut self.output).map_err(|e| self.fail(&e))?;
        }
        Ok(())
    }

    /// Flushes the encoder, copies the rest of the audio, writes the trailer.
    ///
    /// # Errors
    /// [`VideoError::Write`] when the last writes fail.
    pub fn finish(mut self) -> Result<WriteSummary, VideoError> {
        self.encoder.send_eof().map_err(|e| self.fail(&e))?;
        self.drain_packets()?;
        // Audio past the last video frame belongs to the clip too.
        if let Some(copier) = self.copier.as_mut() {
            copier
                .pump(&mut self.output, None)
                .map_err(|e| VideoError::Write { path: self.path.clone(), reason: e.to_string() })?;
        }
        self.output.write_trailer().map_err(|e| self.fail(&e))?;
        Ok(WriteSummary {
            encoded_size: self.encoded_size,
            frames: self.frames,
            copied_packets: self.copier.as_ref().map_or(0, |c| c.packets),
            copy_read_errors: self.copier.as_ref().map_or(0, |c| c.read_errors),
        })
    }
}
