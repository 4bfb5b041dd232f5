//! Source faces by the sha256 of the uploaded picture: a service is sent the same source face
//! over and over, and its analysis (detection, landmarks, identity) is a third of a swap's work.
//! Least recently used entries go first.

use std::sync::{Arc, Mutex, PoisonError};

use sha2::{Digest, Sha256};

use crate::swap::SourceFace;

/// The cache; capacity 0 turns it off.
pub struct SourceCache {
    capacity: usize,
    /// Most recently used last.
    entries: Mutex<Vec<([u8; 32], Arc<SourceFace>)>>,
}

impl SourceCache {
    pub fn new(capacity: usize) -> Self {
        Self { capacity, entries: Mutex::new(Vec::with_capacity(capacity)) }
    }

    /// The key of face `face` (none: the largest) of the picture `bytes`.
    pub fn key(bytes: &[u8], face: Option<usize>) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(bytes);
        hasher.update(face.map_or(u64::MAX, |f| f as u64).to_le_bytes());
        hasher.finalize().into()
    }

    /// The face cached under `key`.
    pub fn get(&self, key: &[u8; 32]) -> Option<Arc<SourceFace>> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let index = entries.iter().position(|(k, _)| k == key)?;
        let entry = entries.remove(index);
        let face = entry.1.clone();
        entries.push(entry);
        Some(face)
    }

    /// Remembers `face` under `key`, forgetting the least recently used when full.
    pub fn put(&self, key: [u8; 32], face: Arc<SourceFace>) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.retain(|(k, _)| *k != key);
        if entries.len() >= self.capacity {
            entries.remove(0);
        }
        entries.push((key, face));
    }
}
