//! Source faces by the sha256 of the uploaded picture: a service is sent the same source face
//! over and over, and its analysis (detection, landmarks, identity) is a third of a swap's work.
//! Least recently used entries go first (the `lru` crate's map).

use std::{
    num::NonZeroUsize,
    sync::{Arc, Mutex, PoisonError},
};

use lru::LruCache;
use sha2::{Digest, Sha256};

use crate::{
    engine::{Engine, EngineWorker},
    swap::SourceFace,
};

/// The cache; capacity 0 turns it off. Each entry keeps the uploaded picture too, so that a
/// kept source can become a video job's source picture (a job may run on another machine).
pub struct SourceCache {
    entries: Option<Mutex<LruCache<[u8; 32], Kept>>>,
}

/// A kept source face and the picture it came from.
type Kept = (Arc<SourceFace>, bytes::Bytes);

impl SourceCache {
    pub fn new(capacity: usize) -> Self {
        Self { entries: NonZeroUsize::new(capacity).map(|c| Mutex::new(LruCache::new(c))) }
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
        self.get_with_picture(key).map(|(face, _)| face)
    }

    /// The face cached under `key` and the picture it came from.
    pub fn get_with_picture(&self, key: &[u8; 32]) -> Option<(Arc<SourceFace>, bytes::Bytes)> {
        let mut entries = self.entries.as_ref()?.lock().unwrap_or_else(PoisonError::into_inner);
        entries.get(key).cloned()
    }

    /// The source face of the uploaded picture `bytes` (face `face`, else its largest): the
    /// cached one, or analysed on `worker` and kept.
    ///
    /// # Errors
    /// A picture that does not decode, has no face (or not that one), or a model that fails.
    pub fn face_of(
        &self,
        bytes: &[u8],
        face: Option<usize>,
        worker: &mut EngineWorker,
        engine: &Engine,
    ) -> crate::Result<Arc<SourceFace>> {
        let key = Self::key(bytes, face);
        if let Some(found) = self.get(&key) {
            return Ok(found);
        }
        let picture = engine.decode_picture(bytes, "in field \"source\"")?;
        let found = Arc::new(worker.source_face(&picture, "the picture in field \"source\"", face)?);
        self.put(key, found.clone(), bytes::Bytes::copy_from_slice(bytes));
        Ok(found)
    }

    /// Remembers `face` (from `picture`) under `key`, forgetting the least recently used when full.
    pub fn put(&self, key: [u8; 32], face: Arc<SourceFace>, picture: bytes::Bytes) {
        if let Some(entries) = &self.entries {
            entries.lock().unwrap_or_else(PoisonError::into_inner).put(key, (face, picture));
        }
    }
}
