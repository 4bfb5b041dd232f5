//! One live session: the browser's camera in over WebRTC, through the same staged pipeline as
//! `faceswap live` (detect every K frames, track, swap, stale frames dropped), and back out.
//! Threads: the network (str0m and the socket), the pipeline's stages (the source stage
//! decodes), and the sink that encodes.

use std::{
    net::{SocketAddr, UdpSocket},
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Mutex, PoisonError,
    },
    time::{Duration, Instant},
};

use crossbeam_channel::{Receiver, RecvTimeoutError as ChannelTimeout};
use image::RgbImage;
use serde::Serialize;
use str0m::{change::SdpOffer, Candidate, RtcConfig};

use super::{
    codec::{LiveCodec, VideoDecoder, VideoEncoder},
    peer::{self, Incoming, Outgoing},
    EndReason, LiveError, SessionId,
};
use crate::{
    engine::{Engine, EnginePipeline, VideoSwap},
    pipeline::{Controls, PipelineConfig, RecvTimeoutError},
    video::{FrameSource, Pacing, SourceFrame, SourceOpener, SourceSpec, VideoError},
};

/// What the session's threads share.
pub struct Shared {
    pub id: SessionId,
    pub controls: Arc<Controls>,
    pub stats: LiveCounters,
    /// The browser asked for a keyframe (PLI/FIR): the next encoded frame is one.
    pub want_keyframe: AtomicBool,
    /// The decoder lost its place: ask the browser for a keyframe.
    pub want_peer_keyframe: AtomicBool,
    pub connected: AtomicBool,
    /// The codec the browser's frames come in (and ours go back in).
    pub codec: Mutex<Option<LiveCodec>>,
    pub ended: Mutex<Option<EndReason>>,
}

/// The session's figures, kept by its threads.
#[derive(Default)]
pub struct LiveCounters {
    bytes_in: AtomicU64,
    frames_in: AtomicU64,
    frames_out: AtomicU64,
    faces: AtomicU64,
    /// Receive → send of the last frames, in microseconds (a short window for p50/p95).
    delays_us: Mutex<Vec<u32>>,
    stages: Mutex<StageMs>,
    started: Mutex<Option<Instant>>,
}

/// A running mean over about the last 30 frames.
fn mix(mean: &mut f32, now: f32) {
    *mean += (now - *mean) / 30.0;
}

/// Where a frame's time goes, in milliseconds (a running mean over the last frames).
#[derive(Debug, Clone, Copy, Default, Serialize, utoipa::ToSchema)]
pub struct StageMs {
    /// VP8 decoding of the browser's frame (the source stage).
    pub decode: f32,
    pub detect: f32,
    pub track: f32,
    pub swap: f32,
    /// VP8 encoding of the swapped frame.
    pub encode: f32,
}

impl StageMs {
    fn blend(&mut self, frame: &crate::pipeline::StageTimes, encode: f32) {
        mix(&mut self.detect, frame.detect);
        mix(&mut self.track, frame.track);
        mix(&mut self.swap, frame.swap);
        mix(&mut self.encode, encode);
    }
}

/// How many recent frames the delay figures cover.
const DELAY_WINDOW: usize = 300;

impl LiveCounters {
    pub fn received(&self, bytes: usize) {
        self.bytes_in.fetch_add(bytes as u64, Ordering::Relaxed);
        self.frames_in.fetch_add(1, Ordering::Relaxed);
        self.started.lock().unwrap_or_else(PoisonError::into_inner).get_or_insert_with(Instant::now);
    }

    fn sent(&self, delay: Duration, faces: usize, times: &crate::pipeline::StageTimes, encode: Duration) {
        self.stages.lock().unwrap_or_else(PoisonError::into_inner).blend(times, encode.as_secs_f32() * 1000.0);
        self.frames_out.fetch_add(1, Ordering::Relaxed);
        self.faces.store(faces as u64, Ordering::Relaxed);
        let mut delays = self.delays_us.lock().unwrap_or_else(PoisonError::into_inner);
        if delays.len() == DELAY_WINDOW {
            delays.remove(0);
        }
        delays.push(u32::try_from(delay.as_micros()).unwrap_or(u32::MAX));
    }
}

/// A live session's figures, as `/v1/live/{id}` and the page's overlay show them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LiveStats {
    pub id: String,
    pub connected: bool,
    pub frames_received: u64,
    pub frames_sent: u64,
    /// Frames sent a second since the first frame arrived.
    pub fps_sent: f64,
    /// Server receive → send, over the last frames.
    pub delay_p50_ms: f64,
    pub delay_p95_ms: f64,
    /// Faces in the last frame sent.
    pub faces: u64,
    pub swapping: bool,
    pub mouth_mask: bool,
    pub all_faces: bool,
    /// The codec the browser sends and gets back; none before its first frame.
    #[schema(value_type = Option<String>)]
    pub codec: Option<LiveCodec>,
    pub stage_ms: StageMs,
    #[schema(value_type = Option<String>)]
    pub ended: Option<EndReason>,
}

impl Shared {
    pub fn stats(&self) -> LiveStats {
        let s = &self.stats;
        let sent = s.frames_out.load(Ordering::Relaxed);
        let elapsed =
            s.started.lock().unwrap_or_else(PoisonError::into_inner).map_or(0.0, |t| t.elapsed().as_secs_f64());
        let mut delays = s.delays_us.lock().unwrap_or_else(PoisonError::into_inner).clone();
        delays.sort_unstable();
        let at = |q: f64| {
            if delays.is_empty() {
                return 0.0;
            }
            let i = ((delays.len() - 1) as f64 * q).round() as usize;
            f64::from(delays[i.min(delays.len() - 1)]) / 1000.0
        };
        LiveStats {
            id: self.id.to_string(),
            connected: self.connected.load(Ordering::Acquire),
            frames_received: s.frames_in.load(Ordering::Relaxed),
            frames_sent: sent,
            fps_sent: if elapsed > 0.5 { sent as f64 / elapsed } else { 0.0 },
            delay_p50_ms: at(0.5),
            delay_p95_ms: at(0.95),
            faces: s.faces.load(Ordering::Relaxed),
            swapping: self.controls.is_swapping(),
            mouth_mask: self.controls.is_mouth_mask_on(),
            all_faces: self.controls.is_all_faces(),
            codec: *self.codec.lock().unwrap_or_else(PoisonError::into_inner),
            stage_ms: *s.stages.lock().unwrap_or_else(PoisonError::into_inner),
            ended: *self.ended.lock().unwrap_or_else(PoisonError::into_inner),
        }
    }

    fn end(&self, reason: EndReason) {
        self.ended.lock().unwrap_or_else(PoisonError::into_inner).get_or_insert(reason);
        self.controls.stop();
    }
}

/// The browser's frames as a pipeline source: decoded on the source stage's thread.
struct RemoteSource {
    frames: Receiver<Incoming>,
    /// Made for the first frame's codec, and again if the browser changes it.
    decoder: Option<VideoDecoder>,
    max_pixels: u64,
    shared: Arc<Shared>,
}

impl FrameSource for RemoteSource {
    fn describe(&self) -> String {
        format!("browser camera (live session {})", self.shared.id)
    }

    fn next_frame(&mut self, _into: Option<RgbImage>) -> Result<Option<SourceFrame>, VideoError> {
        loop {
            if self.shared.controls.is_stopped() {
                return Ok(None);
            }
            let incoming = match self.frames.recv_timeout(Duration::from_millis(200)) {
                Ok(incoming) => incoming,
                Err(ChannelTimeout::Timeout) => continue,
                Err(ChannelTimeout::Disconnected) => return Ok(None),
            };
            let decoder = match self.decoder.take() {
                Some(decoder) if decoder.codec() == incoming.codec => decoder,
                _ => {
                    let path = std::path::PathBuf::from(format!("live session {}", self.shared.id));
                    let decoder = VideoDecoder::new(incoming.codec, self.max_pixels)
                        .map_err(|source| VideoError::Open { path, source })?;
                    *self.shared.codec.lock().unwrap_or_else(PoisonError::into_inner) = Some(incoming.codec);
                    decoder
                }
            };
            let decoder = self.decoder.insert(decoder);
            let decoding = Instant::now();
            let decoded = decoder.decode(&incoming.data);
            let ms = decoding.elapsed().as_secs_f32() * 1000.0;
            mix(&mut self.shared.stats.stages.lock().unwrap_or_else(PoisonError::into_inner).decode, ms);
            match decoded {
                Ok(Some(image)) => return Ok(Some(SourceFrame { image, pts: None, timestamp: None })),
                Ok(None) => {}
                // A frame lost on the way: skipped, and a keyframe asked for to start again.
                Err(e) => {
                    tracing::debug!(session = %self.shared.id, error = %e, "a browser frame did not decode");
                    self.shared.want_peer_keyframe.store(true, Ordering::Release);
                }
            }
        }
    }

    fn pacing(&self) -> Pacing {
        Pacing::Own
    }
}

/// Where a session listens and what it tells the browser.
#[derive(Debug, Clone)]
pub struct SessionNet {
    /// The address advertised as the host candidate (the server's address the browser reached,
    /// or the public address of a 1:1 NAT).
    pub advertised: std::net::IpAddr,
    /// UDP ports to take one from (none: any free port).
    pub ports: Option<(u16, u16)>,
}

/// What the session swaps and how fast it sends.
#[derive(Debug, Clone)]
pub struct SessionMedia {
    pub swap: VideoSwap,
    pub mouth_mask: bool,
    pub all_faces: bool,
    pub max_pixels: u64,
    /// The encoder's bitrate, bits a second.
    pub bitrate: usize,
}

/// A session that is running: its answer for the browser, and its handle.
pub struct Started {
    pub answer: String,
    pub shared: Arc<Shared>,
}

fn bind(net: &SessionNet) -> Result<UdpSocket, LiveError> {
    let any = std::net::Ipv4Addr::UNSPECIFIED;
    let bind_ip: std::net::IpAddr =
        if net.advertised.is_ipv6() { std::net::Ipv6Addr::UNSPECIFIED.into() } else { any.into() };
    match net.ports {
        None => UdpSocket::bind((bind_ip, 0)).map_err(|source| LiveError::Socket { source }),
        Some((low, high)) => (low..=high)
            .find_map(|port| UdpSocket::bind((bind_ip, port)).ok())
            .ok_or(LiveError::NoFreePort { low, high }),
    }
}

/// Answers `offer` and starts the session's threads; `on_end` is told when it has ended.
///
/// # Errors
/// An offer that is not SDP or offers no VP8 video, no free port, or a pipeline that cannot
/// start (its models).
pub fn start(
    engine: &Arc<Engine>,
    id: SessionId,
    offer: &str,
    net: &SessionNet,
    media: SessionMedia,
    on_end: impl FnOnce(SessionId) + Send + 'static,
) -> Result<Started, LiveError> {
    static CRYPTO: std::sync::Once = std::sync::Once::new();
    CRYPTO.call_once(|| str0m::crypto::from_feature_flags().install_process_default());
    let offer = SdpOffer::from_sdp_string(offer).map_err(|e| LiveError::Offer { source: Box::new(e) })?;
    let sdp = offer.to_sdp_string();
    // Where each codec first comes in the offer: the browser's order is its preference (the
    // page's codec choice), and the answer keeps it, since the browser sends the first.
    let offered_at = |codec: LiveCodec| {
        let name = format!(" {}/90000", codec.sdp_name());
        sdp.lines().position(|l| l.starts_with("a=rtpmap:") && l.to_ascii_uppercase().contains(&name))
    };
    let (vp8, h264) = (offered_at(LiveCodec::Vp8), offered_at(LiveCodec::H264));
    if vp8.is_none() && h264.is_none() {
        return Err(LiveError::NoCodec);
    }
    let h264_first = matches!((h264, vp8), (Some(h), Some(v)) if h < v) || vp8.is_none();
    let socket = bind(net)?;
    let port = socket.local_addr().map_err(|source| LiveError::Socket { source })?.port();
    let local = SocketAddr::new(net.advertised, port);
    let mut rtc = if h264_first {
        RtcConfig::new().clear_codecs().enable_h264(true).enable_vp8(true)
    } else {
        RtcConfig::new().clear_codecs().enable_vp8(true).enable_h264(true)
    }
    .build(Instant::now());
    let candidate = Candidate::host(local, "udp").map_err(|e| LiveError::Candidate { source: Box::new(e) })?;
    rtc.add_local_candidate(candidate);
    let answer = rtc.sdp_api().accept_offer(offer).map_err(|e| LiveError::Offer { source: Box::new(e) })?;

    let controls = Arc::new(Controls::default());
    controls.set_mouth_mask(media.mouth_mask);
    controls.set_all_faces(media.all_faces);
    let shared = Arc::new(Shared {
        id,
        controls: controls.clone(),
        stats: LiveCounters::default(),
        want_keyframe: AtomicBool::new(true),
        want_peer_keyframe: AtomicBool::new(false),
        connected: AtomicBool::new(false),
        codec: Mutex::new(None),
        ended: Mutex::new(None),
    });
    let (to_decoder, frames) = crossbeam_channel::bounded::<Incoming>(30);
    let (to_network, from_encoder) = crossbeam_channel::bounded::<Outgoing>(8);
    // Opened on the source stage's thread (ffmpeg's decoder stays on the thread it runs on).
    let source = {
        let (slot, shared, max_pixels) = (Mutex::new(Some(frames)), shared.clone(), media.max_pixels);
        SourceSpec::Custom(SourceOpener(Arc::new(move || {
            let path = || std::path::PathBuf::from(format!("live session {}", shared.id));
            let frames = slot
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take()
                .ok_or_else(|| VideoError::Open { path: path(), source: "it was opened already".into() })?;
            Ok(Box::new(RemoteSource { frames, decoder: None, max_pixels, shared: shared.clone() })
                as Box<dyn FrameSource>)
        })))
    };
    // One frame between stages: the newest frame is the one worth swapping, and every frame
    // queued is a frame of delay the viewer sees.
    let config = PipelineConfig { queue_depth: 1, ..PipelineConfig::live() };
    let pipeline = engine.start_pipeline(source, media.swap, config, controls.clone())?;

    let sink = {
        let shared = shared.clone();
        std::thread::Builder::new()
            .name("fs-live-send".into())
            .spawn(move || {
                send_swapped(&pipeline, &shared, &to_network, media.bitrate);
                // The stages joined, their sessions dropped: the models' memory goes back.
                if let Err(e) = pipeline.finish(&shared.controls) {
                    tracing::warn!(session = %shared.id, error = %e, "a live session's pipeline failed");
                }
            })
            .map_err(|source| LiveError::Thread { source })?
    };
    {
        let shared = shared.clone();
        std::thread::Builder::new()
            .name("fs-live-net".into())
            .spawn(move || {
                let reason = peer::run(rtc, &socket, local, &shared, &to_decoder, &from_encoder);
                shared.end(reason);
                drop(to_decoder);
                let _ = sink.join();
                tracing::info!(session = %shared.id, ?reason, "live session ended");
                on_end(shared.id);
            })
            .map_err(|source| LiveError::Thread { source })?;
    }
    Ok(Started { answer: answer.to_sdp_string(), shared })
}

/// The sink: swapped frames encoded and handed to the network, a keyframe when asked.
fn send_swapped(
    pipeline: &EnginePipeline,
    shared: &Arc<Shared>,
    to_network: &crossbeam_channel::Sender<Outgoing>,
    bitrate: usize,
) {
    let started = Instant::now();
    let mut encoder: Option<VideoEncoder> = None;
    loop {
        let frame = match pipeline.frames().recv_timeout(Duration::from_millis(200)) {
            Ok(frame) => frame,
            Err(RecvTimeoutError::Timeout) if !shared.controls.is_stopped() => continue,
            Err(_) => break,
        };
        let size = frame.image.dimensions();
        // The browser gets back the codec it sends: what it encodes, it decodes.
        let codec = shared.codec.lock().unwrap_or_else(PoisonError::into_inner).unwrap_or(LiveCodec::Vp8);
        if encoder.as_ref().is_none_or(|e| e.size() != size || e.codec() != codec) {
            match VideoEncoder::new(codec, size.0, size.1, 30, bitrate) {
                Ok(e) => encoder = Some(e),
                Err(e) => {
                    tracing::error!(session = %shared.id, error = %crate::error_text::with_causes(&e), "no encoder for the swapped frames");
                    shared.end(EndReason::Failed);
                    break;
                }
            }
            shared.want_keyframe.store(true, Ordering::Release);
        }
        let Some(encoder) = encoder.as_mut() else { break };
        let keyframe = shared.want_keyframe.swap(false, Ordering::AcqRel);
        let pts_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let mut dropped = false;
        let encoding = Instant::now();
        let encoded = encoder.encode(&frame.image, i64::try_from(pts_ms).unwrap_or(i64::MAX), keyframe, |data, _| {
            if to_network.try_send(Outgoing { codec, data: data.to_vec(), pts_ms }).is_err() {
                dropped = true;
            }
        });
        if dropped {
            // The browser's decoder needs the frames in order: after a gap, a keyframe.
            shared.want_keyframe.store(true, Ordering::Release);
        }
        if let Err(e) = encoded {
            tracing::warn!(session = %shared.id, error = %e, "a swapped frame could not be encoded");
        } else {
            shared.stats.sent(frame.captured.elapsed(), frame.swapped, &frame.times, encoding.elapsed());
        }
        pipeline.recycle(frame);
    }
}
