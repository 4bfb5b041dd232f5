//! The container side of writing a video: one video stream (from an encoder, or copied from
//! already-encoded parts), the input's audio and subtitle streams copied packet for packet in
//! step with it, tags, header and trailer. [`super::VideoWriter`] encodes into it; the
//! assembler of a split job copies swapped parts into it.

use std::path::{Path, PathBuf};

use ffmpeg::{codec, media, Rational};
use ffmpeg_next as ffmpeg;

use super::{MediaCause, VideoError};

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

/// An output container being written, its video stream already added.
pub struct Muxer {
    path: PathBuf,
    output: ffmpeg::format::context::Output,
    video_index: usize,
    copier: Option<StreamCopier>,
    video_packets: u64,
    /// Added to every video timestamp (in the time base packets are given in).
    offset: i64,
}

/// What the muxer wrote besides the video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CopySummary {
    pub video_packets: u64,
    pub copied_packets: u64,
    /// Unreadable stretches of the input met while copying its other streams.
    pub copy_read_errors: u64,
}

impl Muxer {
    /// Opens `path` (format from its extension, or `format`) without writing anything yet.
    ///
    /// # Errors
    /// [`VideoError::Write`].
    pub fn output(path: &Path, format: Option<&str>) -> Result<ffmpeg::format::context::Output, VideoError> {
        let fail = |e: MediaCause| VideoError::Write { path: path.to_path_buf(), source: e };
        super::init_ffmpeg().map_err(|e| fail(e.into()))?;
        super::media_io::open_output(path, format, ffmpeg::Dictionary::new()).map_err(|e| fail(e.into()))
    }

    /// Adds every audio and subtitle stream of `input` (when given) to `output`, whose video
    /// stream `video_index` is set up already, tags it with `metadata` and writes the header.
    ///
    /// # Errors
    /// [`VideoError::Unsupported`] when the container cannot hold a copied stream,
    /// [`VideoError::Write`] otherwise.
    pub fn start(
        path: &Path,
        mut output: ffmpeg::format::context::Output,
        video_index: usize,
        input: Option<&Path>,
        metadata: &[(&str, &str)],
    ) -> Result<Self, VideoError> {
        let fail = |e: MediaCause| VideoError::Write { path: path.to_path_buf(), source: e };
        let copy_input = match input {
            Some(input) => Some(super::media_io::open_input(input).map_err(|e| fail(e.into()))?),
            None => None,
        };
        let mut map = Vec::new();
        let best_video = copy_input.as_ref().and_then(|i| i.streams().best(media::Type::Video)).map(|s| s.index());
        let mut left_out = Vec::new();
        for in_stream in copy_input.iter().flat_map(|input| input.streams()) {
            let kind = in_stream.parameters().medium();
            if !matches!(kind, media::Type::Audio | media::Type::Subtitle) {
                if Some(in_stream.index()) != best_video {
                    left_out.push(in_stream.index());
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
                    problem: format!(
                        "the {container} container cannot hold the input's {} stream #{} ({:?}): choose a container that can, such as .mkv",
                        if kind == media::Type::Audio { "audio" } else { "subtitle" },
                        in_stream.index(),
                        codec_id
                    ),
                });
            }
            let mut out_stream =
                output.add_stream(ffmpeg::encoder::find(codec::Id::None)).map_err(|e| fail(e.into()))?;
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
        if !left_out.is_empty() {
            // One line for all of them: a file with fifty streams is one warning, not fifty.
            tracing::warn!(
                streams = ?left_out,
                "{} stream(s) of the input are not carried over: only the first video stream is swapped and written, with the sound and subtitles",
                left_out.len()
            );
        }
        let mut tags = ffmpeg::Dictionary::new();
        for (key, value) in metadata {
            tags.set(key, value);
        }
        output.set_metadata(tags);
        let mut header_options = ffmpeg::Dictionary::new();
        // MP4/MOV drop tags they do not know unless asked to keep them.
        header_options.set("movflags", "+use_metadata_tags");
        output.write_header_with(header_options).map_err(|e| fail(e.into()))?;
        Ok(Self {
            path: path.to_path_buf(),
            output,
            video_index,
            copier: copy_input.map(|input| StreamCopier {
                input,
                map,
                pending: None,
                done: false,
                packets: 0,
                read_errors: 0,
            }),
            video_packets: 0,
            offset: 0,
        })
    }

    /// Adds `ticks` to every video timestamp from now on: a part file written this way never
    /// holds a negative one (the encoder's first decode times are), which its muxer would
    /// otherwise shift by an amount it does not record.
    pub fn offset_timestamps(&mut self, ticks: i64) {
        self.offset = ticks;
    }

    fn fail(&self, source: MediaCause) -> VideoError {
        VideoError::Write { path: self.path.clone(), source }
    }

    /// Writes one video packet timed in `time_base`, after the copied packets that come
    /// before it.
    ///
    /// # Errors
    /// [`VideoError::Write`] (a full disk, say).
    pub fn write_video(&mut self, packet: &mut ffmpeg::Packet, time_base: Rational) -> Result<(), VideoError> {
        let seconds = packet.dts().or(packet.pts()).map(|t| t as f64 * f64::from(time_base));
        if let Some(copier) = self.copier.as_mut() {
            copier
                .pump(&mut self.output, seconds)
                .map_err(|e| VideoError::Write { path: self.path.clone(), source: e.into() })?;
        }
        let out_tb = self.output.stream(self.video_index).map_or(time_base, |s| s.time_base());
        if self.offset != 0 {
            packet.set_pts(packet.pts().map(|t| t + self.offset));
            packet.set_dts(packet.dts().map(|t| t + self.offset));
        }
        packet.set_stream(self.video_index);
        packet.set_position(-1);
        packet.rescale_ts(time_base, out_tb);
        packet.write_interleaved(&mut self.output).map_err(|e| self.fail(e.into()))?;
        self.video_packets += 1;
        Ok(())
    }

    /// Copies the rest of the other streams (sound past the last frame belongs to the clip
    /// too) and writes the trailer.
    ///
    /// # Errors
    /// [`VideoError::Write`].
    pub fn finish(mut self) -> Result<CopySummary, VideoError> {
        if let Some(copier) = self.copier.as_mut() {
            copier
                .pump(&mut self.output, None)
                .map_err(|e| VideoError::Write { path: self.path.clone(), source: e.into() })?;
        }
        self.output.write_trailer().map_err(|e| self.fail(e.into()))?;
        Ok(CopySummary {
            video_packets: self.video_packets,
            copied_packets: self.copier.as_ref().map_or(0, |c| c.packets),
            copy_read_errors: self.copier.as_ref().map_or(0, |c| c.read_errors),
        })
    }
}
