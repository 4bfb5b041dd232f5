//! The network side of a live session: str0m's sans-IO WebRTC state machine driven over one
//! UDP socket. The browser's frames (VP8 or H.264) go to the decoder; the swapped frames come
//! back from the encoder and go out on the same transceiver; keyframe requests are passed both
//! ways, and str0m answers the browser's NACKs from its resend buffer (RTX).

use std::{
    io::ErrorKind,
    net::{SocketAddr, UdpSocket},
    sync::{atomic::Ordering, Arc},
    time::{Duration, Instant},
};

use crossbeam_channel::{Receiver, Sender, TrySendError};
use str0m::{
    media::{KeyframeRequestKind, MediaKind, MediaTime, Mid},
    net::{Protocol, Receive},
    Event, IceConnectionState, Input, Output, Rtc,
};

use super::{codec::LiveCodec, session::Shared, EndReason};

/// A frame from the browser, as it came.
pub struct Incoming {
    pub codec: LiveCodec,
    pub data: Arc<[u8]>,
}

/// An encoded frame for the browser.
pub struct Outgoing {
    pub codec: LiveCodec,
    pub data: Vec<u8>,
    /// Milliseconds since the session started (its RTP time, at 90 kHz).
    pub pts_ms: u64,
}

/// The longest the loop sleeps: outgoing frames are picked up at least this often.
const TICK: Duration = Duration::from_millis(4);
/// No datagram from the browser for this long: it has gone (closed tab, lost network).
const SILENCE: Duration = Duration::from_secs(6);

/// Runs the session's network until the browser goes, the session is stopped, or the
/// connection fails; says why it ended.
pub fn run(
    mut rtc: Rtc,
    socket: &UdpSocket,
    local: SocketAddr,
    shared: &Arc<Shared>,
    to_decoder: &Sender<Incoming>,
    from_encoder: &Receiver<Outgoing>,
) -> EndReason {
    let mut buf = vec![0u8; 2000];
    let mut video: Option<Mid> = None;
    let mut last_heard = Instant::now();
    loop {
        if shared.controls.is_stopped() {
            rtc.disconnect();
            return EndReason::Stopped;
        }
        // Swapped frames out.
        if let Some(mid) = video {
            while let Ok(frame) = from_encoder.try_recv() {
                let Some(writer) = rtc.writer(mid) else { break };
                let Some(pt) = payload_type(writer.payload_params(), frame.codec) else { break };
                let time = MediaTime::from_90khz(frame.pts_ms.saturating_mul(90));
                if let Err(e) = writer.write(pt, Instant::now(), time, frame.data) {
                    tracing::debug!(error = %e, "a swapped frame could not be sent");
                }
            }
            if shared.want_peer_keyframe.swap(false, Ordering::AcqRel) {
                if let Some(mut writer) = rtc.writer(mid) {
                    let _ = writer.request_keyframe(None, KeyframeRequestKind::Pli);
                }
            }
        }
        let timeout = loop {
            match rtc.poll_output() {
                Ok(Output::Timeout(at)) => break at,
                Ok(Output::Transmit(t)) => {
                    let _ = socket.send_to(&t.contents, t.destination);
                }
                Ok(Output::Event(event)) => match event {
                    Event::IceConnectionStateChange(IceConnectionState::Disconnected) => return EndReason::PeerLeft,
                    Event::Connected => {
                        shared.connected.store(true, Ordering::Release);
                        tracing::info!(session = %shared.id, "live session connected");
                    }
                    Event::MediaAdded(added) if added.kind == MediaKind::Video => {
                        video.get_or_insert(added.mid);
                    }
                    Event::MediaData(data) => {
                        let Some(codec) = LiveCodec::of(data.params.spec().codec) else { continue };
                        if !data.contiguous {
                            shared.want_peer_keyframe.store(true, Ordering::Release);
                        }
                        shared.stats.received(data.data.len());
                        match to_decoder.try_send(Incoming { codec, data: data.data }) {
                            Ok(()) => {}
                            // The decoder is behind by a queue's worth: start again at a keyframe.
                            Err(TrySendError::Full(_)) => shared.want_peer_keyframe.store(true, Ordering::Release),
                            Err(TrySendError::Disconnected(_)) => return EndReason::MediaEnded,
                        }
                    }
                    Event::KeyframeRequest(_) => shared.want_keyframe.store(true, Ordering::Release),
                    _ => {}
                },
                Err(e) => {
                    tracing::warn!(session = %shared.id, error = %e, "live session failed");
                    return EndReason::Failed;
                }
            }
        };
        let now = Instant::now();
        if now.duration_since(last_heard) > SILENCE {
            return EndReason::PeerLeft;
        }
        let wait = timeout.saturating_duration_since(now).min(TICK);
        if wait.is_zero() {
            if rtc.handle_input(Input::Timeout(now)).is_err() {
                return EndReason::Failed;
            }
            continue;
        }
        if socket.set_read_timeout(Some(wait)).is_err() {
            return EndReason::Failed;
        }
        let input = match socket.recv_from(&mut buf) {
            Ok((n, source)) => match buf[..n].try_into() {
                Ok(contents) => {
                    last_heard = Instant::now();
                    Input::Receive(
                        Instant::now(),
                        Receive { proto: Protocol::Udp, source, destination: local, contents },
                    )
                }
                // Not STUN, DTLS or RTP: ignored, as a stray datagram should be.
                Err(_) => continue,
            },
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => Input::Timeout(Instant::now()),
            Err(e) => {
                tracing::warn!(session = %shared.id, error = %e, "live session's socket failed");
                return EndReason::Failed;
            }
        };
        if rtc.handle_input(input).is_err() {
            return EndReason::Failed;
        }
    }
}

/// The payload type to send `codec` with: for H.264 the packetization mode that splits a frame
/// over packets (mode 1), constrained baseline first, as the encoder writes it.
fn payload_type<'a>(
    params: impl Iterator<Item = &'a str0m::format::PayloadParams>,
    codec: LiveCodec,
) -> Option<str0m::media::Pt> {
    let mut best: Option<(u8, str0m::media::Pt)> = None;
    for p in params {
        let spec = p.spec();
        if LiveCodec::of(spec.codec) != Some(codec) {
            continue;
        }
        let rank = match codec {
            LiveCodec::Vp8 => 0,
            LiveCodec::H264 => match (spec.format.packetization_mode, spec.format.profile_level_id) {
                (Some(1), Some(0x42e01f)) => 0,
                (Some(1), Some(0x42001f)) => 1,
                (Some(1), _) => 2,
                _ => 3,
            },
        };
        if best.is_none_or(|(r, _)| rank < r) {
            best = Some((rank, p.pt()));
        }
    }
    best.map(|(_, pt)| pt)
}
