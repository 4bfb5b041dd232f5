//! The live outputs: each on its own thread behind its own drop-oldest link of depth 2, so the
//! pipeline hands a frame over in a copy and never waits; a receiver that is slow or gone costs
//! that output frames (counted), never the others. Network outputs reconnect with back-off; a
//! recording is finished (trailer, tag, renamed into place) however the run ends.

use std::{
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Mutex, PoisonError,
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

use crossbeam_channel::{Receiver, Sender};
use ffmpeg_next::Rational;
use image::RgbImage;
use serde::Serialize;

use super::{OutputTarget, StreamError};
use crate::{
    pipeline::{link, LinkReceiver, LinkSender, MillisHistogram, Percentiles, Policy},
    transcode::{container_for, encoder_settings, PendingOutput},
    video::{EncoderSettings, StreamShape, VideoWriter},
};

/// One output's figures.
#[derive(Debug, Clone, Serialize)]
pub struct OutputStats {
    pub name: String,
    pub frames_sent: u64,
    /// Frames this output could not take: its link was full (a slow receiver), or it was
    /// reconnecting.
    pub frames_dropped: u64,
    pub reconnects: u64,
    pub connected: bool,
    /// Time to encode and write one frame.
    pub encode_ms: Percentiles,
    /// From the frame's capture to its packet handed to the network (or device, or file).
    pub delay_ms: Percentiles,
    /// Why the output stopped for good (a recording whose disk is full), when it did.
    pub failed: Option<String>,
}

#[derive(Default)]
struct Counters {
    sent: AtomicU64,
    dropped: Arc<AtomicU64>,
    reconnects: AtomicU64,
    connected: AtomicBool,
    times: Mutex<(MillisHistogram, MillisHistogram)>,
    failed: Mutex<Option<String>>,
}

impl Counters {
    fn stats(&self, name: &str) -> OutputStats {
        let times = self.times.lock().unwrap_or_else(PoisonError::into_inner);
        OutputStats {
            name: name.to_string(),
            frames_sent: self.sent.load(Ordering::Relaxed),
            frames_dropped: self.dropped.load(Ordering::Relaxed),
            reconnects: self.reconnects.load(Ordering::Relaxed),
            connected: self.connected.load(Ordering::Relaxed),
            encode_ms: times.0.percentiles(),
            delay_ms: times.1.percentiles(),
            failed: self.failed.lock().unwrap_or_else(PoisonError::into_inner).clone(),
        }
    }
}

struct OutFrame {
    image: RgbImage,
    captured: Instant,
}

struct Output {
    name: String,
    link: Option<LinkSender<OutFrame>>,
    spare: Receiver<RgbImage>,
    recycle: Sender<RgbImage>,
    counters: Arc<Counters>,
    thread: Option<JoinHandle<()>>,
}

/// The running outputs.
pub struct Outputs {
    outputs: Vec<Output>,
}

/// How long a network write may block before the output counts the receiver as gone.
const WRITE_TIMEOUT_US: &str = "2000000";
/// Back-off between reconnection attempts: doubling from half a second to five.
const BACKOFF_FIRST: Duration = Duration::from_millis(500);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

impl Outputs {
    /// Checks and starts `targets` for `width`×`height` frames at about `fps`; `epoch` is the
    /// capture clock's zero (every output stamps frames by it).
    ///
    /// # Errors
    /// A target that cannot work (a missing or non-loopback device, an unwritable recording)
    /// or a thread that cannot start. A network receiver not there yet is not an error: the
    /// output connects when it can.
    pub fn start(
        targets: &[OutputTarget],
        width: u32,
        height: u32,
        fps: f64,
        epoch: Instant,
    ) -> Result<Self, StreamError> {
        let mut outputs = Vec::with_capacity(targets.len());
        for target in targets {
            target.check()?;
            let counters = Arc::new(Counters::default());
            let (link_tx, link_rx) = link(Policy::Live, 2, counters.dropped.clone());
            let (recycle, spare) = crossbeam_channel::bounded(4);
            let sink = Sink::open_checked(target, width, height, fps)?;
            let name = target.name();
            let thread = {
                let (counters, recycle, label) = (counters.clone(), recycle.clone(), name.clone());
                std::thread::Builder::new()
                    .name(format!("fs-out-{}", outputs.len()))
                    .spawn(move || run(sink, link_rx, recycle, &counters, epoch, &label))
                    .map_err(|e| StreamError::Thread { what: name.clone(), source: e })?
            };
            outputs.push(Output { name, link: Some(link_tx), spare, recycle, counters, thread: Some(thread) });
        }
        Ok(Self { outputs })
    }

    /// Hands a copy of `image`, captured at `captured`, to every output; never waits.
    pub fn send(&self, image: &RgbImage, captured: Instant) {
        for output in &self.outputs {
            let Some(link) = &output.link else { continue };
            let mut buffer = match output.spare.try_recv() {
                Ok(b) if b.dimensions() == image.dimensions() => b,
                _ => RgbImage::new(image.width(), image.height()),
            };
            buffer.copy_from_slice(image);
            let recycle = &output.recycle;
            let _ = link.send_or_evict(OutFrame { image: buffer, captured }, |old| {
                let _ = recycle.try_send(old.image);
            });
        }
    }

    /// Every output's figures so far.
    pub fn stats(&self) -> Vec<OutputStats> {
        self.outputs.iter().map(|o| o.counters.stats(&o.name)).collect()
    }

    /// Lets the outputs write what they hold, finishes them (a recording gets its trailer and
    /// its final name) and returns their figures.
    pub fn finish(mut self) -> Vec<OutputStats> {
        for output in &mut self.outputs {
            drop(output.link.take());
        }
        for output in &mut self.outputs {
            if let Some(thread) = output.thread.take() {
                let _ = thread.join();
            }
        }
        self.stats()
    }
}

impl Drop for Outputs {
    fn drop(&mut self) {
        for output in &mut self.outputs {
            drop(output.link.take());
            if let Some(thread) = output.thread.take() {
                let _ = thread.join();
            }
        }
    }
}

/// What an output writes to, and how to (re)open it.
enum Sink {
    Network { url: String, muxer: String, shape: StreamShape, settings: EncoderSettings },
    Device { device: String, shape: StreamShape },
    Record { pending: PendingOutput, shape: StreamShape, settings: EncoderSettings },
}

/// The capture clock's time base: milliseconds.
const TIME_BASE: Rational = Rational(1, 1000);

impl Sink {
    fn open_checked(target: &OutputTarget, width: u32, height: u32, fps: f64) -> Result<Self, StreamError> {
        let rate = Rational((fps * 1000.0).round().max(1.0) as i32, 1000);
        let shape = StreamShape { width, height, time_base: TIME_BASE, frame_rate: Some(rate), frames: None };
        Ok(match target {
            OutputTarget::Network { url, muxer } => Self::Network {
                url: url.clone(),
                muxer: muxer.clone(),
                shape,
                settings: EncoderSettings::h264_live(fps),
            },
            OutputTarget::V4l2 { device } => Self::Device { device: device.display().to_string(), shape },
            OutputTarget::Record { path, overwrite } => {
                let open =
                    |e: crate::video::MediaCause| StreamError::Open { url: path.display().to_string(), source: e };
                let other = crate::video::MediaCause::other;
                let container = container_for(path).map_err(|e| open(other(e)))?;
                let mut settings =
                    encoder_settings(container, None, None, "veryfast", 1).map_err(|e| open(other(e)))?;
                settings.threads = Some(1);
                let pending = PendingOutput::create(path, *overwrite).map_err(|e| open(other(e)))?;
                Self::Record { pending, shape, settings }
            }
        })
    }

    fn open(&self) -> Result<VideoWriter, String> {
        match self {
            Self::Network { url, muxer, shape, settings } => {
                let mut options = vec![("rw_timeout", WRITE_TIMEOUT_US)];
                if muxer == "mpegts" && url.starts_with("udp://") {
                    // MPEG-TS packets fit a datagram: 7 × 188 bytes.
                    options.push(("pkt_size", "1316"));
                }
                // ffmpeg 5's tcp protocol reads only some options from the URL; the rest of the
                // query (send_buffer_size, …) is given to it as options.
                let (address, query) = match url.split_once('?') {
                    Some((address, query)) if url.starts_with("tcp://") => (address, query),
                    _ => (url.as_str(), ""),
                };
                options.extend(query.split('&').filter_map(|pair| pair.split_once('=')));
                VideoWriter::create_stream(address, muxer, &options, shape, settings).map_err(|e| e.to_string())
            }
            Self::Device { device, shape } => {
                crate::video::init_device_formats();
                let raw = EncoderSettings {
                    encoder: "rawvideo".into(),
                    crf: None,
                    preset: None,
                    threads: None,
                    options: Vec::new(),
                };
                VideoWriter::create_stream(device, "v4l2", &[], shape, &raw).map_err(|e| e.to_string())
            }
            Self::Record { pending, shape, settings } => {
                let tag = format!("face-swapped live by faceswap {}", env!("CARGO_PKG_VERSION"));
                let container = container_for(pending.final_path()).map_err(|e| e.to_string())?;
                let metadata = [("comment", tag.as_str()), ("faceswap", env!("CARGO_PKG_VERSION"))];
                VideoWriter::create(pending.temp_path(), Some(container.muxer), None, shape, settings, &metadata)
                    .map_err(|e| e.to_string())
            }
        }
    }
}

/// The output thread: frames in, written while connected, reconnecting with back-off.
fn run(
    sink: Sink,
    frames: LinkReceiver<OutFrame>,
    recycle: Sender<RgbImage>,
    counters: &Counters,
    epoch: Instant,
    name: &str,
) {
    let mut writer: Option<VideoWriter> = None;
    let mut backoff = BACKOFF_FIRST;
    let mut next_attempt = Instant::now();
    let mut failures = 0u64;
    // A file is not a receiver that comes back: a recording that cannot be written (a full
    // disk) stops for good, keeps what it holds, and says so; reopening would start it again
    // over what was recorded.
    let recording = matches!(sink, Sink::Record { .. });
    let mut stopped = false;
    for frame in &frames {
        if stopped {
            counters.dropped.fetch_add(1, Ordering::Relaxed);
            let _ = recycle.try_send(frame.image);
            continue;
        }
        if writer.is_none() && Instant::now() >= next_attempt {
            match sink.open() {
                Ok(w) => {
                    writer = Some(w);
                    counters.connected.store(true, Ordering::Relaxed);
                    backoff = BACKOFF_FIRST;
                    tracing::info!(output = name, "output connected");
                }
                Err(reason) if recording => {
                    tracing::error!(output = name, %reason, "the recording cannot be written; it stops");
                    *counters.failed.lock().unwrap_or_else(PoisonError::into_inner) = Some(reason);
                    stopped = true;
                }
                Err(reason) => {
                    failures += 1;
                    if failures == 1 || failures.is_multiple_of(20) {
                        tracing::warn!(output = name, %reason, retry_s = backoff.as_secs_f64(), "output not reachable; retrying");
                    }
                    next_attempt = Instant::now() + backoff;
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                }
            }
        }
        match writer.as_mut() {
            Some(w) => {
                let started = Instant::now();
                let timestamp =
                    i64::try_from(frame.captured.saturating_duration_since(epoch).as_millis()).unwrap_or(i64::MAX);
                match w.write(&frame.image, Some(timestamp)) {
                    Ok(()) => {
                        counters.sent.fetch_add(1, Ordering::Relaxed);
                        let mut times = counters.times.lock().unwrap_or_else(PoisonError::into_inner);
                        times.0.record(started.elapsed().as_secs_f32() * 1000.0);
                        times.1.record(frame.captured.elapsed().as_secs_f32() * 1000.0);
                    }
                    Err(e) if recording => {
                        tracing::error!(output = name, error = %e, "the recording cannot be written; it stops here");
                        *counters.failed.lock().unwrap_or_else(PoisonError::into_inner) = Some(e.to_string());
                        counters.dropped.fetch_add(1, Ordering::Relaxed);
                        stopped = true;
                    }
                    Err(e) => {
                        tracing::warn!(output = name, error = %e, "output lost its receiver; reconnecting");
                        writer = None;
                        counters.connected.store(false, Ordering::Relaxed);
                        counters.reconnects.fetch_add(1, Ordering::Relaxed);
                        counters.dropped.fetch_add(1, Ordering::Relaxed);
                        next_attempt = Instant::now() + backoff;
                    }
                }
            }
            None => {
                counters.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
        let _ = recycle.try_send(frame.image);
    }
    counters.connected.store(false, Ordering::Relaxed);
    if let Some(w) = writer {
        if let Err(e) = w.finish() {
            tracing::warn!(output = name, error = %e, "output not finished cleanly");
            if recording {
                let mut failed = counters.failed.lock().unwrap_or_else(PoisonError::into_inner);
                failed.get_or_insert_with(|| format!("the recording could not be finished: {e}"));
            }
            return;
        }
    }
    if let Sink::Record { pending, .. } = sink {
        match pending.commit() {
            Ok(path) => tracing::info!(path = %path.display(), "recording written"),
            Err(e) => tracing::error!(error = %e, "recording not kept"),
        }
    }
}
