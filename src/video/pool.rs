//! A pool of frame buffers: the sink hands finished frames back so the source can decode into
//! them, and a steady stream of same-sized frames allocates nothing.

use crossbeam_channel::{bounded, Receiver, Sender};
use image::RgbImage;

/// Spare frame buffers, shared by the stages (cloning shares the pool).
#[derive(Debug, Clone)]
pub struct FramePool {
    spare_tx: Sender<RgbImage>,
    spare_rx: Receiver<RgbImage>,
}

impl FramePool {
    /// A pool keeping at most `capacity` spare buffers.
    pub fn new(capacity: usize) -> Self {
        let (spare_tx, spare_rx) = bounded(capacity.max(1));
        Self { spare_tx, spare_rx }
    }

    /// A spare buffer if there is one.
    pub fn take(&self) -> Option<RgbImage> {
        self.spare_rx.try_recv().ok()
    }

    /// Returns a buffer for reuse; when the pool is full it is simply freed.
    pub fn give(&self, image: RgbImage) {
        let _ = self.spare_tx.try_send(image);
    }
}

/// `buffer` if it is `width`×`height`, else a new one.
pub(crate) fn reuse_or_new(buffer: Option<RgbImage>, width: u32, height: u32) -> RgbImage {
    match buffer {
        Some(b) if b.dimensions() == (width, height) => b,
        _ => RgbImage::new(width, height),
    }
}
