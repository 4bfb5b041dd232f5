//! Cutting a long video into parts that can be swapped apart and joined again without
//! re-encoding: each part starts at a keyframe, about every `part_seconds`, found from the
//! packet index alone (nothing is decoded).

use std::path::Path;

use ffmpeg_next as ffmpeg;
use serde::{Deserialize, Serialize};

use crate::video::{FrameWindow, MediaCause, VideoError};

/// One part of a video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedPart {
    pub window: FrameWindow,
    /// The number of its first frame in the whole video.
    pub first_frame: u64,
    pub frames: u64,
}

/// The parts of a video.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartPlan {
    /// In order; together they cover every frame once.
    pub parts: Vec<PlannedPart>,
    /// The video stream's length in seconds (first to last timestamp).
    pub duration_s: f64,
    /// The video stream's packets: its frame count.
    pub frames: u64,
}

/// Reads `path`'s video packets and cuts it at the first keyframe at least `part_seconds`
/// after the previous cut. A video shorter than that, or with no keyframe to cut at, is one part.
///
/// # Errors
/// [`VideoError::Open`] / [`VideoError::NoVideoStream`].
pub fn plan_parts(path: &Path, part_seconds: f64) -> Result<PartPlan, VideoError> {
    let open = |e: MediaCause| VideoError::Open { path: path.to_path_buf(), source: e };
    crate::video::init_ffmpeg().map_err(|e| open(e.into()))?;
    let mut input = crate::video::open_input(path).map_err(|e| open(e.into()))?;
    let stream = input
        .streams()
        .best(ffmpeg::media::Type::Video)
        .ok_or_else(|| VideoError::NoVideoStream { path: path.to_path_buf() })?;
    let (index, time_base) = (stream.index(), f64::from(stream.time_base()));
    let part_ticks = if time_base > 0.0 && part_seconds > 0.0 { (part_seconds / time_base).round() as i64 } else { 0 };
    let mut keyframes = Vec::new();
    let mut times = Vec::new();
    let (mut first, mut last, mut frames) = (i64::MAX, i64::MIN, 0u64);
    let mut packet = ffmpeg::Packet::empty();
    loop {
        match packet.read(&mut input) {
            Ok(()) if packet.stream() == index => {
                frames += 1;
                if let Some(pts) = packet.pts() {
                    times.push(pts);
                    first = first.min(pts);
                    last = last.max(pts);
                    if packet.is_key() {
                        keyframes.push(pts);
                    }
                }
            }
            Ok(()) => {}
            Err(ffmpeg::Error::Eof) => break,
            // A damaged stretch ends the scan: the cuts found before it are good, and the last
            // part reads on to the end of the file.
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "the keyframe scan stopped at an unreadable part");
                break;
            }
        }
    }
    keyframes.sort_unstable();
    let mut cuts = Vec::new();
    if part_ticks > 0 && first != i64::MAX {
        let mut from = first;
        for &key in &keyframes {
            if key - from >= part_ticks {
                cuts.push(key);
                from = key;
            }
        }
    }
    times.sort_unstable();
    let frames_before = |cut: Option<i64>| cut.map_or(0, |c| times.partition_point(|&t| t < c) as u64);
    let mut parts = Vec::with_capacity(cuts.len() + 1);
    let mut start = None;
    for end in cuts.iter().map(|&c| Some(c)).chain([None]) {
        let first_frame = frames_before(start);
        let until = if end.is_some() { frames_before(end) } else { frames };
        parts.push(PlannedPart {
            window: FrameWindow { start, end },
            first_frame,
            frames: until.saturating_sub(first_frame),
        });
        start = end;
    }
    let duration_s = if first <= last { (last - first) as f64 * time_base } else { 0.0 };
    Ok(PartPlan { parts, duration_s, frames })
}
