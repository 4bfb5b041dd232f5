//! Network inputs (RTSP, UDP, SRT, TCP, HTTP: HLS, MJPEG): read on a thread of their own as
//! frames arrive, with a read deadline; a dropped stream is reopened with back-off while the
//! pipeline keeps getting the last frame, repeated and marked, so the outputs never stall.

use std::{
    path::Path,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Condvar, Mutex, PoisonError,
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

use ffmpeg_next as ffmpeg;
use image::RgbImage;
use serde::Serialize;

use super::StreamError;
use crate::{
    imaging::PictureLimits,
    video::{FrameSource, Pacing, SourceFrame, VideoError},
};

/// The input's figures.
#[derive(Debug, Clone, Default, Serialize)]
pub struct InputStats {
    pub url: String,
    pub frames_received: u64,
    /// Frames given again while the stream was away.
    pub frames_repeated: u64,
    pub reconnects: u64,
    pub connected: bool,
}

/// Where a source's figures are read by others (the sink, health), shared with it.
pub type InputMonitor = Arc<Mutex<InputStats>>;

/// Whether `text` names a network stream rather than a file.
pub fn is_network(text: &str) -> bool {
    ["rtsp", "rtsps", "udp", "tcp", "srt", "http", "https", "rtmp", "rtmps"].iter().any(|scheme| {
        // By characters, not bytes: a name may start with any letter (`café.mp4`).
        text.get(..scheme.len()).is_some_and(|head| head.eq_ignore_ascii_case(scheme))
            && text.get(scheme.len()..).is_some_and(|rest| rest.len() > 3 && rest.starts_with("://"))
    })
}

/// How long a read may wait for data before the stream counts as dropped.
const READ_TIMEOUT: Duration = Duration::from_secs(3);
/// How long the first connection may take.
const OPEN_TIMEOUT: Duration = Duration::from_secs(10);
const BACKOFF_FIRST: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(4);

#[derive(Default)]
struct Latest {
    frame: Option<(RgbImage, Instant)>,
    /// Counts frames put here, so the reader of the slot knows a new one came.
    serial: u64,
    failed: Option<String>,
}

struct Shared {
    latest: Mutex<Latest>,
    arrived: Condvar,
    stop: AtomicBool,
    received: AtomicU64,
    reconnects: AtomicU64,
    connected: AtomicBool,
    fps: Mutex<f64>,
}

/// A network stream as a frame source.
pub struct NetworkSource {
    url: String,
    monitor: InputMonitor,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    last: Option<RgbImage>,
    seen: u64,
    repeated: u64,
    epoch: Instant,
}

impl NetworkSource {
    /// Connects to `url` (waiting up to ten seconds for the first frame) and keeps reading it.
    ///
    /// # Errors
    /// [`StreamError::Open`] when no frame arrives: nothing listens there, or it sends no video.
    pub fn open(url: &str, limits: PictureLimits, monitor: InputMonitor) -> Result<Self, StreamError> {
        crate::video::init_ffmpeg().map_err(|e| StreamError::Open { url: url.to_string(), source: e.into() })?;
        ffmpeg::format::network::init();
        let shared = Arc::new(Shared {
            latest: Mutex::new(Latest::default()),
            arrived: Condvar::new(),
            stop: AtomicBool::new(false),
            received: AtomicU64::new(0),
            reconnects: AtomicU64::new(0),
            connected: AtomicBool::new(false),
            fps: Mutex::new(25.0),
        });
        let thread = {
            let (shared, reading) = (shared.clone(), url.to_string());
            std::thread::Builder::new()
                .name("fs-net-in".into())
                .spawn(move || read_loop(&reading, &shared, limits))
                .map_err(|e| StreamError::Thread { what: url.to_string(), source: e })?
        };
        let mut source = Self {
            url: url.to_string(),
            monitor,
            shared,
            thread: Some(thread),
            last: None,
            seen: 0,
            repeated: 0,
            epoch: Instant::now(),
        };
        // The first frame, or why there is none.
        let deadline = Instant::now() + OPEN_TIMEOUT;
        let mut latest = source.shared.latest.lock().unwrap_or_else(PoisonError::into_inner);
        while latest.frame.is_none() {
            let now = Instant::now();
            if now >= deadline {
                let reason = latest.failed.clone().unwrap_or_else(|| "no video arrived within 10 s".into());
                drop(latest);
                source.stop();
                return Err(StreamError::Open { url: url.to_string(), source: reason.into() });
            }
            latest =
                source.shared.arrived.wait_timeout(latest, deadline - now).unwrap_or_else(PoisonError::into_inner).0;
        }
        drop(latest);
        Ok(source)
    }

    /// The input's figures so far.
    pub fn stats(&self) -> InputStats {
        InputStats {
            url: self.url.clone(),
            frames_received: self.shared.received.load(Ordering::Relaxed),
            frames_repeated: self.repeated,
            reconnects: self.shared.reconnects.load(Ordering::Relaxed),
            connected: self.shared.connected.load(Ordering::Relaxed),
        }
    }

    fn stop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        self.shared.arrived.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for NetworkSource {
    fn drop(&mut self) {
        self.stop();
    }
}

impl FrameSource for NetworkSource {
    fn describe(&self) -> String {
        format!("stream {}", self.url)
    }

    fn next_frame(&mut self, into: Option<RgbImage>) -> Result<Option<SourceFrame>, VideoError> {
        let interval = Duration::from_secs_f64(1.5 / self.shared.fps.lock().map_or(25.0, |f| *f).max(1.0));
        let mut latest = self.shared.latest.lock().unwrap_or_else(PoisonError::into_inner);
        let deadline = Instant::now() + interval;
        while latest.serial == self.seen && !self.shared.stop.load(Ordering::Relaxed) {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            latest = self.shared.arrived.wait_timeout(latest, deadline - now).unwrap_or_else(PoisonError::into_inner).0;
        }
        let fresh = latest.serial != self.seen;
        let mut out = match into {
            Some(buffer) => buffer,
            None => RgbImage::new(1, 1),
        };
        if fresh {
            if let Some((image, _)) = &latest.frame {
                if out.dimensions() != image.dimensions() {
                    out = RgbImage::new(image.width(), image.height());
                }
                out.copy_from_slice(image);
            }
            self.seen = latest.serial;
            drop(latest);
            match &mut self.last {
                Some(last) if last.dimensions() == out.dimensions() => last.copy_from_slice(&out),
                _ => self.last = Some(out.clone()),
            }
        } else {
            drop(latest);
            // The stream is away: the last frame again, so the outputs keep flowing.
            let Some(last) = &self.last else { return Ok(None) };
            if out.dimensions() != last.dimensions() {
                out = RgbImage::new(last.width(), last.height());
            }
            out.copy_from_slice(last);
            self.repeated += 1;
        }
        let pts = self.epoch.elapsed().as_secs_f64();
        *self.monitor.lock().unwrap_or_else(PoisonError::into_inner) = self.stats();
        Ok(Some(SourceFrame { image: out, pts: Some(pts), timestamp: None }))
    }

    fn pacing(&self) -> Pacing {
        // Frames come as they arrive.
        Pacing::Own
    }
}

/// Reads the stream until stopped, reopening it with back-off when it drops.
fn read_loop(url: &str, shared: &Arc<Shared>, limits: PictureLimits) {
    let mut backoff = BACKOFF_FIRST;
    let mut attempts = 0u64;
    while !shared.stop.load(Ordering::Relaxed) {
        attempts += 1;
        let reason = match read_stream(url, shared, limits) {
            Ok(()) => "the stream ended".to_string(),
            Err(reason) => reason,
        };
        let was_connected = shared.connected.swap(false, Ordering::Relaxed);
        if shared.stop.load(Ordering::Relaxed) {
            break;
        }
        if was_connected {
            shared.reconnects.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(input = url, %reason, "input dropped; reconnecting (the last frame is repeated meanwhile)");
            backoff = BACKOFF_FIRST;
        } else if attempts == 1 || attempts.is_multiple_of(10) {
            tracing::warn!(input = url, %reason, "input not reachable; retrying");
        }
        shared.latest.lock().unwrap_or_else(PoisonError::into_inner).failed = Some(reason);
        shared.arrived.notify_all();
        let until = Instant::now() + backoff;
        while Instant::now() < until && !shared.stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(20));
        }
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}

/// Opens the stream once and decodes it into the shared slot until it fails or ends.
fn read_stream(url: &str, shared: &Arc<Shared>, limits: PictureLimits) -> Result<(), String> {
    // Every blocking call of ffmpeg is cut short by this: a stop, or no data for READ_TIMEOUT.
    let started = Instant::now();
    let activity = Arc::new(AtomicU64::new(0));
    let watch = {
        let (activity, shared) = (activity.clone(), shared.clone());
        move || {
            let now = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            let idle = now.saturating_sub(activity.load(Ordering::Relaxed));
            shared.stop.load(Ordering::Relaxed) || idle > READ_TIMEOUT.as_millis() as u64
        }
    };
    let mut options = ffmpeg::Dictionary::new();
    options.set("fflags", "nobuffer");
    options.set("flags", "low_delay");
    if url.to_ascii_lowercase().starts_with("rtsp") {
        options.set("rtsp_transport", "tcp");
    }
    let mut input = ffmpeg::format::input_with_interrupt_and_dictionary(Path::new(url), watch, options)
        .map_err(|e| e.to_string())?;
    let stream = input.streams().best(ffmpeg::media::Type::Video).ok_or("it has no video stream")?;
    let index = stream.index();
    let rate = stream.avg_frame_rate();
    if rate.numerator() > 0 && rate.denominator() > 0 {
        *shared.fps.lock().unwrap_or_else(PoisonError::into_inner) = f64::from(rate).clamp(1.0, 240.0);
    }
    let context = ffmpeg::codec::context::Context::from_parameters(stream.parameters()).map_err(|e| e.to_string())?;
    let mut decoder = context.decoder().video().map_err(|e| e.to_string())?;
    let mut decoded = ffmpeg::util::frame::video::Video::empty();
    let mut rgb = ffmpeg::util::frame::video::Video::empty();
    let mut scaler: Option<(ffmpeg::software::scaling::Context, u32, u32)> = None;
    let mut packet = ffmpeg::Packet::empty();
    loop {
        if shared.stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        activity.store(u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX), Ordering::Relaxed);
        match packet.read(&mut input) {
            Ok(()) => {}
            Err(ffmpeg::Error::Eof) => return Ok(()),
            Err(e) => return Err(e.to_string()),
        }
        if packet.stream() != index {
            continue;
        }
        if decoder.send_packet(&packet).is_err() {
            continue;
        }
        while decoder.receive_frame(&mut decoded).is_ok() {
            let (w, h) = (decoded.width(), decoded.height());
            if w == 0 || h == 0 {
                continue;
            }
            if u64::from(w) * u64::from(h) > limits.max_pixels {
                return Err(format!("its frames are {w}×{h}, over the limit of {} pixels", limits.max_pixels));
            }
            // A stream may change its size or pixel format mid-way: the scaler follows, and a
            // format swscale cannot take is an error, not an abort inside it.
            if !crate::video::scalable(decoded.format()) {
                return Err(format!(
                    "its frames are in a pixel format this program cannot convert ({:?})",
                    decoded.format()
                ));
            }
            if scaler.as_ref().is_none_or(|(c, sw, sh)| (*sw, *sh) != (w, h) || c.input().format != decoded.format()) {
                let context = ffmpeg::software::scaling::Context::get(
                    decoded.format(),
                    w,
                    h,
                    ffmpeg::format::Pixel::RGB24,
                    w,
                    h,
                    ffmpeg::software::scaling::Flags::BILINEAR,
                )
                .map_err(|e| e.to_string())?;
                scaler = Some((context, w, h));
            }
            let Some((context, _, _)) = scaler.as_mut() else { continue };
            context.run(&decoded, &mut rgb).map_err(|e| e.to_string())?;
            let arrived = Instant::now();
            let mut latest = shared.latest.lock().unwrap_or_else(PoisonError::into_inner);
            let mut image = match latest.frame.take() {
                Some((image, _)) if image.dimensions() == (w, h) => image,
                _ => RgbImage::new(w, h),
            };
            let (stride, row) = (rgb.stride(0), 3 * w as usize);
            let data = rgb.data(0);
            for (y, out) in image.chunks_exact_mut(row).enumerate() {
                out.copy_from_slice(&data[y * stride..y * stride + row]);
            }
            latest.frame = Some((image, arrived));
            latest.serial += 1;
            latest.failed = None;
            drop(latest);
            shared.arrived.notify_all();
            shared.received.fetch_add(1, Ordering::Relaxed);
            shared.connected.store(true, Ordering::Relaxed);
        }
    }
}
