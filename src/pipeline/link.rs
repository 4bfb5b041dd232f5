//! Channels between stages, with the two policies the product needs: live (a full channel
//! drops its oldest frame, counted, so delay stays bounded) and lossless (a full channel
//! blocks, so no frame is ever lost).

use std::sync::{
    atomic::{AtomicBool, AtomicU64, Ordering},
    Arc,
};

pub use crossbeam_channel::RecvTimeoutError;
use crossbeam_channel::{bounded, Receiver, Sender, TryRecvError, TrySendError};

/// What a full channel does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Drop the oldest queued item to make room.
    Live,
    /// Wait for room.
    Lossless,
}

/// The sending end of a stage link.
#[derive(Debug)]
pub struct LinkSender<T> {
    tx: Sender<T>,
    /// The link's own receiver, used only to evict the oldest item under the live policy (a
    /// lossless link has none, so that it sees the consumer go even while blocked).
    evict: Option<Receiver<T>>,
    dropped: Arc<AtomicU64>,
    /// Cleared when the receiving end is dropped: `evict` keeps the channel itself open.
    receiver_alive: Arc<AtomicBool>,
}

/// The receiving end of a stage link; iterate it until the sender is gone.
#[derive(Debug)]
pub struct LinkReceiver<T> {
    rx: Receiver<T>,
    alive: Arc<AtomicBool>,
}

impl<T> Drop for LinkReceiver<T> {
    fn drop(&mut self) {
        self.alive.store(false, Ordering::Release);
    }
}

/// A link holding at most `capacity` items.
pub fn link<T>(policy: Policy, capacity: usize, dropped: Arc<AtomicU64>) -> (LinkSender<T>, LinkReceiver<T>) {
    let (tx, rx) = bounded(capacity.max(1));
    let alive = Arc::new(AtomicBool::new(true));
    (
        LinkSender { tx, evict: (policy == Policy::Live).then(|| rx.clone()), dropped, receiver_alive: alive.clone() },
        LinkReceiver { rx, alive },
    )
}

/// The receiving stage has gone: stop producing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Disconnected;

impl<T> LinkSender<T> {
    /// Sends `item` under the link's policy; an evicted item is handed to `on_drop`.
    ///
    /// # Errors
    /// [`Disconnected`] when the receiver is gone.
    pub fn send_or_evict(&self, item: T, mut on_drop: impl FnMut(T)) -> Result<(), Disconnected> {
        if !self.receiver_alive.load(Ordering::Acquire) {
            return Err(Disconnected);
        }
        match &self.evict {
            None => self.tx.send(item).map_err(|_| Disconnected),
            Some(evict) => {
                let mut item = item;
                loop {
                    match self.tx.try_send(item) {
                        Ok(()) => return Ok(()),
                        Err(TrySendError::Disconnected(_)) => return Err(Disconnected),
                        Err(TrySendError::Full(back)) => {
                            item = back;
                            match evict.try_recv() {
                                Ok(old) => {
                                    self.dropped.fetch_add(1, Ordering::Relaxed);
                                    on_drop(old);
                                }
                                // The consumer took it meanwhile: there is room now.
                                Err(TryRecvError::Empty) => {
                                    if !self.receiver_alive.load(Ordering::Acquire) {
                                        return Err(Disconnected);
                                    }
                                }
                                Err(TryRecvError::Disconnected) => return Err(Disconnected),
                            }
                        }
                    }
                }
            }
        }
    }

    /// Sends `item`, dropping an evicted one.
    ///
    /// # Errors
    /// [`Disconnected`] when the receiver is gone.
    pub fn send(&self, item: T) -> Result<(), Disconnected> {
        self.send_or_evict(item, drop)
    }
}

impl<T> LinkReceiver<T> {
    /// The next item, or `None` once the sender is gone and the link is empty.
    pub fn recv(&self) -> Option<T> {
        self.rx.recv().ok()
    }

    /// The next item if one arrives within `timeout`; [`RecvTimeoutError::Disconnected`] once the
    /// sender is gone and the link is empty.
    pub fn recv_timeout(&self, timeout: std::time::Duration) -> Result<T, RecvTimeoutError> {
        self.rx.recv_timeout(timeout)
    }
}

impl<T> Iterator for &LinkReceiver<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.recv()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_link_drops_the_oldest_and_counts() {
        let dropped = Arc::new(AtomicU64::new(0));
        let (tx, rx) = link(Policy::Live, 2, dropped.clone());
        for i in 0..5 {
            tx.send(i).unwrap();
        }
        drop(tx);
        assert_eq!((&rx).collect::<Vec<_>>(), vec![3, 4]);
        assert_eq!(dropped.load(Ordering::Relaxed), 3);
    }

    #[test]
    fn lossless_link_keeps_everything_in_order() {
        let dropped = Arc::new(AtomicU64::new(0));
        let (tx, rx) = link(Policy::Lossless, 2, dropped.clone());
        let producer = std::thread::spawn(move || (0..100).for_each(|i| tx.send(i).unwrap()));
        let got: Vec<i32> = (&rx).collect();
        producer.join().unwrap();
        assert_eq!(got, (0..100).collect::<Vec<_>>());
        assert_eq!(dropped.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn send_fails_once_the_receiver_is_gone() {
        for policy in [Policy::Live, Policy::Lossless] {
            let (tx, rx) = link::<u8>(policy, 1, Arc::default());
            drop(rx);
            assert_eq!(tx.send(1), Err(Disconnected));
        }
    }
}
