//! What the one who runs a pipeline shares with its stages while they run: the flags the stages
//! read between frames, and the counts they keep.

use std::sync::{
    atomic::{AtomicBool, AtomicU64, Ordering},
    Arc,
};

/// Flags the stages read between frames: stop, and whether to swap at all.
#[derive(Debug)]
pub struct Controls {
    stop: AtomicBool,
    swapping: AtomicBool,
    mouth_mask: AtomicBool,
    /// Every face, whatever the pipeline's selection (a live session's switch).
    all_faces: AtomicBool,
}

impl Default for Controls {
    fn default() -> Self {
        Self {
            stop: AtomicBool::new(false),
            swapping: AtomicBool::new(true),
            mouth_mask: AtomicBool::new(false),
            all_faces: AtomicBool::new(false),
        }
    }
}

impl Controls {
    /// Asks the source to stop; the stages then drain and end.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Release);
    }

    pub fn is_stopped(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }

    /// Turns swapping on or off; returns the new state.
    pub fn toggle_swapping(&self) -> bool {
        !self.swapping.fetch_xor(true, Ordering::AcqRel)
    }

    pub fn is_swapping(&self) -> bool {
        self.swapping.load(Ordering::Acquire)
    }

    /// Turns the mouth mask on or off; returns the new state.
    pub fn toggle_mouth_mask(&self) -> bool {
        !self.mouth_mask.fetch_xor(true, Ordering::AcqRel)
    }

    /// Sets the mouth mask on or off.
    pub fn set_mouth_mask(&self, on: bool) {
        self.mouth_mask.store(on, Ordering::Release);
    }

    pub fn is_mouth_mask_on(&self) -> bool {
        self.mouth_mask.load(Ordering::Acquire)
    }

    /// Sets swapping on or off.
    pub fn set_swapping(&self, on: bool) {
        self.swapping.store(on, Ordering::Release);
    }

    /// Swaps every face (on), or the pipeline's selection (off).
    pub fn set_all_faces(&self, on: bool) {
        self.all_faces.store(on, Ordering::Release);
    }

    pub fn is_all_faces(&self) -> bool {
        self.all_faces.load(Ordering::Acquire)
    }
}

/// What a pipeline did with its frames, as its stages counted them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct FrameCounts {
    pub captured: u64,
    /// Dropped by a full link (live policy).
    pub dropped: u64,
    /// Passed on unswapped after a stage failed on them.
    pub failed: u64,
}

/// Counts the stages keep while running.
#[derive(Debug, Default)]
pub struct Counters {
    pub captured: AtomicU64,
    pub dropped: Arc<AtomicU64>,
    pub failed: AtomicU64,
    /// Damaged input packets the source skipped.
    pub bad_packets: AtomicU64,
}

impl Counters {
    /// The counts now.
    pub fn frames(&self) -> FrameCounts {
        FrameCounts {
            captured: self.captured.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
        }
    }
}
