//! The retention sweep: finished jobs older than the keep time are removed with their files,
//! and files no job owns (older than an hour, so never an upload being stored) go too.

use std::{sync::Mutex, time::Duration};

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{now_ms, JobFiles, JobStore};

/// Files with no job are removed once they are this old.
const ORPHAN_AGE: Duration = Duration::from_secs(3600);

/// The running sweep; [`Retention::shutdown`] stops it.
pub struct Retention {
    stop: CancellationToken,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Retention {
    /// Starts sweeping every `keep / 10` (from a second to a minute).
    pub fn start(store: JobStore, files: JobFiles, keep: Duration) -> Self {
        let stop = CancellationToken::new();
        let task = tokio::spawn(sweep(store, files, keep, stop.clone()));
        Self { stop, task: Mutex::new(Some(task)) }
    }

    /// Stops the sweep.
    pub async fn shutdown(&self) {
        self.stop.cancel();
        let task = self.task.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

async fn sweep(store: JobStore, files: JobFiles, keep: Duration, stop: CancellationToken) {
    let every = (keep / 10).clamp(Duration::from_secs(1), Duration::from_secs(60));
    loop {
        match store.finished_before(now_ms() - ms(keep)).await {
            Ok(ids) => {
                for id in ids {
                    if let Err(e) = files.remove(id).await {
                        tracing::warn!(job = %id, error = %e, "cannot remove an expired job's files");
                    } else if let Err(e) = store.delete(id).await {
                        tracing::warn!(job = %id, error = %e, "cannot remove an expired job");
                    } else {
                        tracing::info!(job = %id, "expired job removed");
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot look for expired jobs"),
        }
        match store.ids().await {
            Ok(known) => match files.remove_orphans(&known, now_ms() - ms(ORPHAN_AGE)).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(jobs = n, "removed files that no job owns"),
                Err(e) => tracing::warn!(error = %e, "cannot look for files that no job owns"),
            },
            Err(e) => tracing::warn!(error = %e, "cannot list the jobs"),
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = stop.cancelled() => return,
        }
    }
}
