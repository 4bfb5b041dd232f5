//! A live session: a camera, a video, a picture or a network stream through the engine's
//! pipeline (live policy, drop-oldest), shown in a window or measured headless, sent to the
//! outputs (virtual camera, streams, a recording) started when the first frame gives their
//! size, with health and the overlay kept up to date. Front-ends say what they want
//! ([`LiveOptions`]) and print the [`LiveStats`] it ends with.

mod input;
mod session;
mod stats;

pub use input::LiveInput;
pub use session::{run, LiveOptions};
pub use stats::LiveStats;

/// How often a live session runs the detector (every K-th frame; the tracker follows the
/// faces in between): a tenth of a second at 30 fps, so a new face is found at once.
pub const DETECT_EVERY: u32 = 3;
