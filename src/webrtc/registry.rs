//! The server's live sessions: at most `max` at once (a slot is taken before any media is
//! set up), each found by its id, each freed when it ends, however it ends.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
};

use super::{
    session::{self, SessionMedia, SessionNet, Shared},
    LiveError, LiveStats,
};
use crate::engine::Engine;

/// A live session's id, as its URL names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionId(uuid::Uuid);

impl std::fmt::Display for SessionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for SessionId {
    type Err = uuid::Error;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.parse().map(Self)
    }
}

/// What a session's owner may change while it runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LiveControls {
    pub swap: Option<bool>,
    pub mouth_mask: Option<bool>,
    pub all_faces: Option<bool>,
}

/// The running sessions.
pub struct LiveSessions {
    max: usize,
    sessions: Mutex<HashMap<SessionId, Option<Arc<Shared>>>>,
}

impl LiveSessions {
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(Self { max, sessions: Mutex::new(HashMap::new()) })
    }

    fn table(&self) -> std::sync::MutexGuard<'_, HashMap<SessionId, Option<Arc<Shared>>>> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The most sessions at once.
    pub fn max(&self) -> usize {
        self.max
    }

    /// Sessions running (and being set up).
    pub fn count(&self) -> usize {
        self.table().len()
    }

    /// Takes a slot for a new session, or says the server is full; the slot is the session's
    /// until it ends (or its start fails).
    ///
    /// # Errors
    /// [`LiveError::Full`].
    pub fn reserve(&self) -> Result<SessionId, LiveError> {
        let mut table = self.table();
        if table.len() >= self.max {
            return Err(LiveError::Full { max: self.max });
        }
        let id = SessionId(uuid::Uuid::new_v4());
        table.insert(id, None);
        Ok(id)
    }

    /// Starts the session for the slot `id` on `offer`; its SDP answer. Blocking: the
    /// session's models are loaded here.
    ///
    /// # Errors
    /// [`LiveError`]; the slot is freed then.
    pub fn start(
        self: &Arc<Self>,
        id: SessionId,
        engine: &Arc<Engine>,
        offer: &str,
        net: &SessionNet,
        media: SessionMedia,
    ) -> Result<String, LiveError> {
        let registry = Arc::downgrade(self);
        let on_end = move |id| {
            if let Some(registry) = registry.upgrade() {
                registry.table().remove(&id);
            }
        };
        match session::start(engine, id, offer, net, media, on_end) {
            Ok(started) => {
                if let Some(slot) = self.table().get_mut(&id) {
                    *slot = Some(started.shared);
                }
                Ok(started.answer)
            }
            Err(e) => {
                self.table().remove(&id);
                Err(e)
            }
        }
    }

    /// Frees a slot taken by [`Self::reserve`] whose session never started.
    pub fn release(&self, id: SessionId) {
        let mut table = self.table();
        if matches!(table.get(&id), Some(None)) {
            table.remove(&id);
        }
    }

    fn shared(&self, id: SessionId) -> Option<Arc<Shared>> {
        self.table().get(&id).cloned().flatten()
    }

    /// A session's figures.
    pub fn stats(&self, id: SessionId) -> Option<LiveStats> {
        self.shared(id).map(|s| s.stats())
    }

    /// Every running session's figures.
    pub fn all_stats(&self) -> Vec<LiveStats> {
        self.table().values().flatten().map(|s| s.stats()).collect()
    }

    /// Changes a session's switches; its figures after.
    pub fn control(&self, id: SessionId, change: LiveControls) -> Option<LiveStats> {
        let shared = self.shared(id)?;
        if let Some(on) = change.swap {
            shared.controls.set_swapping(on);
        }
        if let Some(on) = change.mouth_mask {
            shared.controls.set_mouth_mask(on);
        }
        if let Some(on) = change.all_faces {
            shared.controls.set_all_faces(on);
        }
        Some(shared.stats())
    }

    /// Ends a session; false when there is none by that id. Its slot is freed once its
    /// threads have stopped (within a fraction of a second).
    pub fn stop(&self, id: SessionId) -> bool {
        match self.shared(id) {
            Some(shared) => {
                shared.controls.stop();
                true
            }
            None => false,
        }
    }

    /// Ends every session (the server is stopping).
    pub fn stop_all(&self) {
        for shared in self.table().values().flatten() {
            shared.controls.stop();
        }
    }
}
