//! The watchdog: rechecks the model files in use every interval (cheaply: size and modification
//! time; the full hash only when those changed), repairs a damaged file, builds a fresh session
//! on the good file and hands it to the stage that owns the model. Capture never stops: until
//! the new session arrives, the stage keeps the session it has.

use std::{
    path::PathBuf,
    sync::{atomic::Ordering, Arc},
    thread::JoinHandle,
    time::{Duration, Instant, SystemTime},
};

use crossbeam_channel::{bounded, select, Sender};

use crate::{
    health::{HealthState, ModelHealth},
    models::{Fetcher, ModelRole, ModelStore, VerifiedModel},
};

/// Builds a session on a verified file and sends it to its stage; the error says why not.
pub type Rebuild = Box<dyn FnMut(&VerifiedModel) -> Result<(), String> + Send>;

type Fingerprint = Option<(u64, SystemTime)>;

fn fingerprint(path: &PathBuf) -> Fingerprint {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.len(), meta.modified().ok()?))
}

struct WatchedModel {
    model: VerifiedModel,
    role: ModelRole,
    rebuild: Rebuild,
    seen: Fingerprint,
    healthy: bool,
    /// The last problem logged: a file that stays bad is said once (and again when what is
    /// wrong changes), not at every round.
    said: Option<String>,
    /// The same for why it could not be restored.
    said_failure: Option<String>,
}

/// Watches model files and keeps the stages on good sessions.
pub struct Watchdog {
    store: ModelStore,
    fetcher: Option<Fetcher>,
    interval: Duration,
    models: Vec<WatchedModel>,
    health: Arc<HealthState>,
}

impl Watchdog {
    /// A watchdog over `store`, repairing with `fetcher` (none: report only).
    pub fn new(store: ModelStore, fetcher: Option<Fetcher>, interval: Duration, health: Arc<HealthState>) -> Self {
        Self { store, fetcher, interval, models: Vec::new(), health }
    }

    /// Starts watching `model` (in use as `role`); `rebuild` reloads it into its stage.
    pub fn watch(&mut self, model: VerifiedModel, role: ModelRole, rebuild: Rebuild) {
        self.health.set_model(
            &model.name,
            ModelHealth { role, ready: true, valid: true, file: model.path.display().to_string(), problem: None },
        );
        let seen = fingerprint(&model.path);
        self.models.push(WatchedModel { model, role, rebuild, seen, healthy: true, said: None, said_failure: None });
    }

    /// One round over every watched file; returns how many were reloaded.
    pub fn check(&mut self) -> usize {
        let mut reloaded = 0;
        for index in 0..self.models.len() {
            let now = fingerprint(&self.models[index].model.path);
            let watched = &self.models[index];
            if now == watched.seen && watched.healthy {
                continue;
            }
            let started = Instant::now();
            let name = watched.model.name.clone();
            if self.revalidate(index) {
                reloaded += 1;
                tracing::warn!(model = %name, took_ms = started.elapsed().as_millis() as u64, "model file changed: checked, repaired if needed, reloaded");
            }
            self.models[index].seen = fingerprint(&self.models[index].model.path);
        }
        reloaded
    }

    /// Verifies (and repairs) one model and reloads it; true when a fresh session was sent.
    fn revalidate(&mut self, index: usize) -> bool {
        let watched = &mut self.models[index];
        let name = watched.model.name.clone();
        let verified = if watched.model.pinned {
            self.store.verify(&name).map_err(|e| (e.to_string(), e.brief()))
        } else if watched.model.path.is_file() {
            Ok(watched.model.clone())
        } else {
            Err((format!("{} is missing", watched.model.path.display()), "missing".to_string()))
        };
        let verified = match verified {
            Ok(model) => Ok(model),
            Err((problem, brief)) => {
                self.health.update_model(&name, |m| {
                    m.valid = false;
                    m.problem = Some(problem.clone());
                });
                if self.models[index].said.as_deref() != Some(problem.as_str()) {
                    tracing::warn!(model = %name, %problem, "model file went bad; frames go on with the loaded session");
                    self.models[index].said = Some(problem.clone());
                } else {
                    tracing::debug!(model = %name, %problem, "model file still bad");
                }
                self.repaired(&name, &brief)
            }
        };
        let watched = &mut self.models[index];
        let outcome = verified.and_then(|model| (watched.rebuild)(&model).map(|()| model));
        match outcome {
            Ok(model) => {
                self.health.set_model(
                    &name,
                    ModelHealth {
                        role: watched.role,
                        ready: true,
                        valid: true,
                        file: model.path.display().to_string(),
                        problem: None,
                    },
                );
                watched.model = model;
                watched.healthy = true;
                watched.said = None;
                watched.said_failure = None;
                self.health.record_reload();
                true
            }
            Err(reason) => {
                if watched.said_failure.as_deref() == Some(reason.as_str()) {
                    tracing::debug!(model = %name, %reason, "model still cannot be restored");
                } else {
                    tracing::error!(model = %name, %reason, "model could not be restored; will try again");
                    watched.said_failure = Some(reason.clone());
                }
                self.health.update_model(&name, |m| {
                    m.valid = false;
                    m.problem = Some(reason);
                });
                watched.healthy = false;
                false
            }
        }
    }

    fn repaired(&self, name: &str, problem: &str) -> Result<VerifiedModel, String> {
        let entry = self.store.manifest().get(name).map_err(|e| e.to_string())?;
        // Without a place to fetch from, moving the file aside would only make things worse.
        let fetcher = self
            .fetcher
            .as_ref()
            .filter(|f| !f.urls_for(entry).is_empty())
            .ok_or("no mirror or URL to repair it from: pass --mirror, or put a good copy there")?;
        self.store.repair(entry, fetcher, problem).map_err(|e| e.to_string())?;
        self.store.verify(name).map_err(|e| e.to_string())
    }

    /// Runs the watchdog on its own thread until the handle is dropped.
    ///
    /// # Errors
    /// When the thread cannot be started.
    pub fn spawn(mut self) -> std::io::Result<WatchdogHandle> {
        let (stop_tx, stop_rx) = bounded::<()>(1);
        let (done_tx, done_rx) = bounded::<()>(1);
        let interval = self.interval;
        let cancel = self.fetcher.as_ref().map(Fetcher::cancel_flag);
        let thread = std::thread::Builder::new().name("fs-watchdog".into()).spawn(move || {
            loop {
                select! {
                    recv(stop_rx) -> _ => break,
                    default(interval) => {
                        self.check();
                    }
                }
            }
            let _ = done_tx.send(());
        })?;
        Ok(WatchdogHandle { stop: Some(stop_tx), done: done_rx, cancel, thread: Some(thread) })
    }
}

/// How long a stop waits for a repair in progress before leaving the thread behind (a hash of
/// a large file or a session build cannot be cut short; a download can).
const STOP_WAIT: Duration = Duration::from_secs(2);

/// Stops the watchdog thread when dropped: a download in progress is cancelled, and the thread
/// is joined when it ends within two seconds (else left to end by itself).
pub struct WatchdogHandle {
    stop: Option<Sender<()>>,
    done: crossbeam_channel::Receiver<()>,
    cancel: Option<Arc<std::sync::atomic::AtomicBool>>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for WatchdogHandle {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(cancel) = &self.cancel {
            cancel.store(true, Ordering::Relaxed);
        }
        if self.done.recv_timeout(STOP_WAIT).is_ok() {
            if let Some(thread) = self.thread.take() {
                let _ = thread.join();
            }
        } else {
            tracing::warn!("the model watchdog is still busy; not waiting for it");
        }
    }
}
