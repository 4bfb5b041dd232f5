//! Joining a split job's swapped parts into the finished video: their packets copied one
//! after the other (no re-encoding: every part was encoded with the same settings, each
//! starting on a keyframe), the input's sound and subtitles added once, the same tags as a
//! whole transcode, written under a temporary name and renamed into place when complete.

use std::path::{Path, PathBuf};

use ffmpeg_next as ffmpeg;

use super::{container_for, PendingOutput, TranscodeError};
use crate::{
    video::{display_name, probe, Muxer, VideoError},
    Result,
};

/// What [`assemble`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssembleReport {
    pub output: PathBuf,
    /// Video frames (packets) in the file.
    pub frames: u64,
    pub parts: usize,
    /// Sound and subtitle packets copied from the input.
    pub copied_packets: u64,
    /// Unreadable stretches of the input met while copying them.
    pub copy_read_errors: u64,
}

/// How far a part file's timestamps are moved up, recorded in its header as
/// `ticks/num/den`: the encoder's first decode times are negative, which the part's
/// container cannot hold (and would move by an amount it does not record).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartOffset {
    pub ticks: i64,
    pub time_base: ffmpeg::Rational,
}

impl PartOffset {
    /// The header tag it is recorded under.
    pub const TAG: &'static str = "faceswap_part_offset";

    /// 64 frames: far more than any encoder's reordering delay.
    pub fn for_shape(shape: &crate::video::StreamShape) -> Self {
        Self { ticks: 64 * shape.frame_step(), time_base: shape.time_base }
    }

    fn parse(text: &str) -> Option<Self> {
        let mut fields = text.split('/').map(|f| f.trim().parse::<i64>().ok());
        let (ticks, num, den) = (fields.next()??, fields.next()??, fields.next()??);
        let (num, den) = (i32::try_from(num).ok()?, i32::try_from(den).ok()?);
        (num > 0 && den > 0).then_some(Self { ticks, time_base: ffmpeg::Rational(num, den) })
    }

    /// The offset in `time_base`, when it is a whole number of its ticks.
    fn in_time_base(self, time_base: ffmpeg::Rational) -> Option<i64> {
        let numerator =
            i128::from(self.ticks) * i128::from(self.time_base.numerator()) * i128::from(time_base.denominator());
        let denominator = i128::from(self.time_base.denominator()) * i128::from(time_base.numerator());
        (denominator != 0 && numerator % denominator == 0)
            .then(|| i64::try_from(numerator / denominator).ok())
            .flatten()
    }
}

impl std::fmt::Display for PartOffset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.ticks, self.time_base.numerator(), self.time_base.denominator())
    }
}

/// The video stream of one part, as needed to check it joins the first.
struct PartStream {
    codec: ffmpeg::codec::Id,
    width: u32,
    height: u32,
    extradata: Vec<u8>,
}

fn part_stream(parameters: &ffmpeg::codec::Parameters) -> PartStream {
    // SAFETY: the parameters are valid while the stream they belong to lives; only read here.
    let (width, height, extradata) = unsafe {
        let p = &*parameters.as_ptr();
        let extra = if p.extradata.is_null() || p.extradata_size <= 0 {
            Vec::new()
        } else {
            std::slice::from_raw_parts(p.extradata, usize::try_from(p.extradata_size).unwrap_or(0)).to_vec()
        };
        (u32::try_from(p.width).unwrap_or(0), u32::try_from(p.height).unwrap_or(0), extra)
    };
    PartStream { codec: parameters.id(), width, height, extradata }
}

/// Gives the first packets of a part their decode times. The part files store presentation
/// times only, and their reader can tell the decode times only once the reordering of
/// B-frames is under way: the first few (the encoder's delay) come without. Decode times go
/// up one frame per packet, so those are counted back from the first one known.
#[derive(Default)]
struct LeadingPackets {
    waiting: Vec<ffmpeg::Packet>,
    known: bool,
}

impl LeadingPackets {
    fn push(&mut self, packet: ffmpeg::Packet) -> Vec<ffmpeg::Packet> {
        if self.known {
            return vec![packet];
        }
        let Some(dts) = packet.dts() else {
            self.waiting.push(packet);
            return Vec::new();
        };
        self.known = true;
        let step = packet.duration().max(1);
        let count = self.waiting.len() as i64;
        let mut ready = std::mem::take(&mut self.waiting);
        for (k, earlier) in ready.iter_mut().enumerate() {
            let guess = dts - (count - k as i64) * step;
            earlier.set_dts(Some(earlier.pts().map_or(guess, |pts| guess.min(pts))));
        }
        ready.push(packet);
        ready
    }

    /// A part too short to reach a known decode time: its presentation times serve, in order.
    fn flush(&mut self) -> Vec<ffmpeg::Packet> {
        let mut rest = std::mem::take(&mut self.waiting);
        let mut times: Vec<i64> = rest.iter().filter_map(ffmpeg::Packet::pts).collect();
        times.sort_unstable();
        if times.len() == rest.len() {
            for (packet, dts) in rest.iter_mut().zip(times) {
                packet.set_dts(Some(dts));
            }
        }
        rest
    }
}

/// Joins `parts` (files or URLs, in order) into `output`, with the sound and subtitles of
/// `input` (a file or URL).
///
/// # Errors
/// [`TranscodeError::NoParts`], [`TranscodeError::PartMismatch`] when a part was encoded
/// differently, [`VideoError`] when a part or the input cannot be read or the output written.
pub fn assemble(input: &Path, parts: &[PathBuf], output: &Path, overwrite: bool) -> Result<AssembleReport> {
    let first_path = parts.first().ok_or(TranscodeError::NoParts)?;
    let container = container_for(output)?;
    let shape = probe(input)?;
    let open = |path: &Path| -> Result<ffmpeg::format::context::Input> {
        crate::video::init_ffmpeg()
            .and_then(|()| crate::video::open_input(path))
            .map_err(|e| VideoError::Open { path: PathBuf::from(display_name(path)), source: e.into() }.into())
    };
    let video_of = |input: &ffmpeg::format::context::Input, path: &Path| {
        input
            .streams()
            .best(ffmpeg::media::Type::Video)
            .map(|s| (s.index(), s.time_base(), s.parameters()))
            .ok_or_else(|| VideoError::NoVideoStream { path: PathBuf::from(display_name(path)) })
    };
    let first = open(first_path)?;
    let (_, first_tb, first_parameters) = video_of(&first, first_path)?;
    let reference = part_stream(&first_parameters);

    let pending = PendingOutput::create(output, overwrite)?;
    let output_named = |e: VideoError| e.with_path(pending.temp_path(), output);
    let mut out = Muxer::output(pending.temp_path(), Some(container.muxer)).map_err(output_named)?;
    let video_index = {
        let mut stream = out
            .add_stream(ffmpeg::encoder::find(ffmpeg::codec::Id::None))
            .map_err(|e| output_named(VideoError::Write { path: pending.temp_path().into(), source: e.into() }))?;
        stream.set_parameters(first_parameters);
        stream.set_time_base(first_tb);
        stream.set_avg_frame_rate(shape.frame_rate.unwrap_or(ffmpeg::Rational(0, 1)));
        // SAFETY: the parameters belong to the stream just added; the muxer picks its own tag.
        unsafe {
            (*stream.parameters().as_mut_ptr()).codec_tag = 0;
        }
        stream.index()
    };
    drop(first);
    let version_tag = format!("face-swapped by faceswap {}", env!("CARGO_PKG_VERSION"));
    let metadata = [("comment", version_tag.as_str()), ("faceswap", env!("CARGO_PKG_VERSION"))];
    let mut muxer =
        Muxer::start(pending.temp_path(), out, video_index, Some(input), &metadata).map_err(output_named)?;
    for (number, path) in parts.iter().enumerate() {
        let mut part = open(path)?;
        let (index, time_base, parameters) = video_of(&part, path)?;
        let stream = part_stream(&parameters);
        let differs = if stream.codec != reference.codec {
            Some(format!("its codec is {:?}, the first part's {:?}", stream.codec, reference.codec))
        } else if (stream.width, stream.height) != (reference.width, reference.height) {
            Some(format!(
                "it is {}×{}, the first part {}×{}",
                stream.width, stream.height, reference.width, reference.height
            ))
        } else if stream.extradata != reference.extradata {
            Some("it was encoded with other settings (its codec headers differ)".to_string())
        } else {
            None
        };
        if let Some(reason) = differs {
            return Err(TranscodeError::PartMismatch { index: number, reason }.into());
        }
        let offset = part
            .metadata()
            .get(PartOffset::TAG)
            .and_then(PartOffset::parse)
            .and_then(|o| o.in_time_base(time_base))
            .ok_or_else(|| TranscodeError::PartMismatch {
                index: number,
                reason: "it is not a part written by faceswap (its timestamp offset is missing)".into(),
            })?;
        let mut write = |mut packet: ffmpeg::Packet| {
            packet.set_pts(packet.pts().map(|t| t - offset));
            packet.set_dts(packet.dts().map(|t| t - offset));
            muxer.write_video(&mut packet, time_base).map_err(output_named)
        };
        let mut leading = LeadingPackets::default();
        loop {
            let mut packet = ffmpeg::Packet::empty();
            match packet.read(&mut part) {
                Ok(()) if packet.stream() == index => {
                    for ready in leading.push(packet) {
                        write(ready)?;
                    }
                }
                Ok(()) => {}
                Err(ffmpeg::Error::Eof) => break,
                Err(e) => {
                    let path = PathBuf::from(display_name(path));
                    return Err(VideoError::Decode { path, source: e.into() }.into());
                }
            }
        }
        for ready in leading.flush() {
            write(ready)?;
        }
    }
    let summary = muxer.finish().map_err(output_named)?;
    let output = pending.commit()?;
    Ok(AssembleReport {
        output,
        frames: summary.video_packets,
        parts: parts.len(),
        copied_packets: summary.copied_packets,
        copy_read_errors: summary.copy_read_errors,
    })
}
