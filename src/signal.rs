//! One handler for SIGINT and SIGTERM per process (a process may only have one), whose stop
//! reaches every running job that subscribed: pipelines, transcodes, the server. A second signal
//! while stopping ends the process at once, as users expect of a second Ctrl-C.

use std::sync::{
    atomic::{AtomicU32, AtomicU64, Ordering},
    Arc, Mutex, OnceLock, PoisonError,
};

use crate::pipeline::Controls;

type Callback = Arc<dyn Fn() + Send + Sync>;

static SUBSCRIBERS: Mutex<Vec<(u64, Callback)>> = Mutex::new(Vec::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(1);
static RECEIVED: AtomicU32 = AtomicU32::new(0);
static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();

/// The process's signal handler could not be installed.
#[derive(Debug, thiserror::Error)]
#[error("cannot install the interrupt handler: {0}")]
pub struct SignalError(String);

/// Keeps a subscription; dropping it unsubscribes.
#[must_use = "the subscription ends when this is dropped"]
pub struct StopSubscription {
    id: u64,
}

impl Drop for StopSubscription {
    fn drop(&mut self) {
        SUBSCRIBERS.lock().unwrap_or_else(PoisonError::into_inner).retain(|(id, _)| *id != self.id);
    }
}

fn on_signal() {
    let count = RECEIVED.fetch_add(1, Ordering::SeqCst) + 1;
    let subscribers: Vec<Callback> =
        SUBSCRIBERS.lock().unwrap_or_else(PoisonError::into_inner).iter().map(|(_, c)| c.clone()).collect();
    if count > 1 || subscribers.is_empty() {
        // Nothing to wind down, or the user insists.
        eprintln!("interrupted");
        std::process::exit(130);
    }
    tracing::warn!("stopping: finishing what is in flight (interrupt again to quit at once)");
    for callback in subscribers {
        callback();
    }
}

/// Calls `on_stop` when the process is asked to stop (SIGINT, SIGTERM), installing the
/// process's one handler on first use.
///
/// # Errors
/// [`SignalError`] when the handler cannot be installed (another one took the signal).
pub fn on_stop(on_stop: impl Fn() + Send + Sync + 'static) -> Result<StopSubscription, SignalError> {
    INSTALLED.get_or_init(|| ctrlc::set_handler(on_signal).map_err(|e| e.to_string())).clone().map_err(SignalError)?;
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    SUBSCRIBERS.lock().unwrap_or_else(PoisonError::into_inner).push((id, Arc::new(on_stop)));
    Ok(StopSubscription { id })
}

/// Stops `controls` when the process is asked to stop.
///
/// # Errors
/// See [`on_stop`].
pub fn stop_on_signal(controls: &Arc<Controls>) -> Result<StopSubscription, SignalError> {
    let controls = controls.clone();
    on_stop(move || controls.stop())
}

/// Whether a stop signal has arrived.
pub fn stop_requested() -> bool {
    RECEIVED.load(Ordering::SeqCst) > 0
}
