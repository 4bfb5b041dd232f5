//! Live swapping from a browser's camera over WebRTC, on str0m (sans-IO: its state machine is
//! driven by our own socket loop and threads, so no second async runtime or its own threads;
//! it is Rust throughout, with aws-lc-rs for DTLS, which the program already carries).
//! Signalling is the WHIP way (one SDP offer in, one answer out) and is the server's; media
//! goes through the same staged pipeline as `faceswap live`.

mod codec;
mod peer;
mod registry;
mod session;

pub use codec::{LiveCodec, VideoDecoder, VideoEncoder};
pub use registry::{LiveControls, LiveSessions, SessionId};
pub use session::{LiveStats, SessionMedia, SessionNet, StageMs};

use serde::Serialize;

/// Why a live session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// Ended by its owner (DELETE) or the server stopping.
    Stopped,
    /// The browser went: it closed the connection, or stopped answering.
    PeerLeft,
    /// The pipeline stopped taking frames.
    MediaEnded,
    /// The connection or the codecs failed.
    Failed,
}

/// Why a live session could not start.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("the offer is not an SDP offer this server can answer")]
    Offer {
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error(
        "the offer has no VP8 or H.264 video: offer a video transceiver with one of them (every browser has both)"
    )]
    NoCodec,
    #[error("every live UDP port from {low} to {high} is taken")]
    NoFreePort { low: u16, high: u16 },
    #[error("the live session's UDP socket could not be opened")]
    Socket {
        #[source]
        source: std::io::Error,
    },
    #[error("the server's address cannot be offered to the browser")]
    Candidate {
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("the live session's video codec could not start")]
    Codec {
        #[source]
        source: crate::video::MediaCause,
    },
    #[error("a live session's thread could not start")]
    Thread {
        #[source]
        source: std::io::Error,
    },
    #[error("{max} live sessions are running already")]
    Full { max: usize },
    #[error(transparent)]
    Engine(#[from] crate::Error),
}

impl LiveError {
    /// What kind of failure this is.
    pub fn kind(&self) -> crate::error_kind::ErrorKind {
        use crate::error_kind::ErrorKind;
        match self {
            Self::Offer { .. } | Self::NoCodec => ErrorKind::InvalidInput,
            Self::Full { .. } | Self::NoFreePort { .. } => ErrorKind::Busy,
            Self::Engine(e) => e.kind(),
            Self::Socket { .. } | Self::Candidate { .. } | Self::Codec { .. } | Self::Thread { .. } => {
                ErrorKind::Internal
            }
        }
    }
}
