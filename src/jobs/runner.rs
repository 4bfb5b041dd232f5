//! The job runner: workers that claim queued jobs and transcode them on the engine (on blocking
//! threads, never on the async ones), with live progress, cancellation, and a shutdown that
//! puts running jobs back in the queue; and the retention sweep that removes old results.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use tokio::{sync::Notify, task::JoinHandle};
use tokio_util::sync::CancellationToken;

use super::{store::now_ms, JobError, JobFiles, JobId, JobRecord, JobStatus, JobStore};
use crate::{
    engine::Engine,
    pipeline::Controls,
    transcode::{transcode, Progress, TranscodeJob, TranscodeOptions, TranscodeReport},
    Error,
};

/// How the runner works.
#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// Jobs run at once.
    pub workers: usize,
    /// How long finished jobs (and their results) are kept.
    pub keep_results: Duration,
    /// How often an idle worker looks for work it was not told about.
    pub poll: Duration,
}

/// What is running in this process: each job's stop and live progress.
#[derive(Default)]
struct Running {
    jobs: HashMap<JobId, (Arc<Controls>, Arc<Mutex<Progress>>)>,
}

struct Shared {
    engine: Arc<Engine>,
    store: JobStore,
    files: JobFiles,
    running: Mutex<Running>,
    wake: Notify,
    stopping: CancellationToken,
}

impl Shared {
    fn running(&self) -> std::sync::MutexGuard<'_, Running> {
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The running workers; [`JobRunner::shutdown`] stops them.
pub struct JobRunner {
    shared: Arc<Shared>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl JobRunner {
    /// Recovers from the last run (running jobs queued again, leftover files removed) and
    /// starts the workers and the retention sweep.
    ///
    /// # Errors
    /// [`JobError::Database`] when the recovery cannot be written.
    pub async fn start(
        engine: Arc<Engine>,
        store: JobStore,
        files: JobFiles,
        config: RunnerConfig,
    ) -> Result<Self, JobError> {
        let requeued = store.requeue_running().await?;
        if requeued > 0 {
            tracing::warn!(jobs = requeued, "jobs that were running when the server last stopped are queued again");
        }
        let removed = files.remove_orphans(&store.ids().await?);
        if removed > 0 {
            tracing::info!(files = removed, "removed uploads that no job owns");
        }
        let shared = Arc::new(Shared {
            engine,
            store,
            files,
            running: Mutex::new(Running::default()),
            wake: Notify::new(),
            stopping: CancellationToken::new(),
        });
        let mut tasks: Vec<JoinHandle<()>> =
            (0..config.workers.max(1)).map(|_| tokio::spawn(work(shared.clone(), config.poll))).collect();
        tasks.push(tokio::spawn(sweep(shared.clone(), config.keep_results)));
        Ok(Self { shared, tasks: Mutex::new(tasks) })
    }

    /// Tells an idle worker that a job was queued.
    pub fn wake(&self) {
        self.shared.wake.notify_one();
    }

    /// The live progress of a job running in this process.
    pub fn progress(&self, id: JobId) -> Option<Progress> {
        let running = self.shared.running();
        running.jobs.get(&id).map(|(_, p)| *p.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// How many jobs run in this process now.
    pub fn running_count(&self) -> usize {
        self.shared.running().jobs.len()
    }

    /// Cancels a job: a queued or finished one's files and row are removed now; a running one
    /// is stopped, and its worker removes them when it has. Returns the status it had.
    ///
    /// # Errors
    /// [`JobError::NotFound`], [`JobError::Database`], [`JobError::Files`].
    pub async fn cancel(&self, id: JobId) -> Result<JobStatus, JobError> {
        let shared = &self.shared;
        let before = shared.store.cancel(id).await?;
        let stop = shared.running().jobs.get(&id).map(|(c, _)| c.clone());
        match stop {
            Some(controls) => controls.stop(),
            None => {
                shared.files.remove(id)?;
                shared.store.delete(id).await?;
            }
        }
        Ok(before)
    }

    /// Stops the workers: running jobs are stopped and queued again (the next start runs them),
    /// and the tasks are joined.
    pub async fn shutdown(&self) {
        self.shared.stopping.cancel();
        let stops: Vec<Arc<Controls>> = self.shared.running().jobs.values().map(|(c, _)| c.clone()).collect();
        for controls in stops {
            controls.stop();
        }
        let tasks = std::mem::take(&mut *self.tasks.lock().unwrap_or_else(PoisonError::into_inner));
        for task in tasks {
            let _ = task.await;
        }
    }
}

async fn work(shared: Arc<Shared>, poll: Duration) {
    while !shared.stopping.is_cancelled() {
        match shared.store.claim_next().await {
            Ok(Some(job)) => run(&shared, job).await,
            Ok(None) => {
                tokio::select! {
                    () = shared.wake.notified() => {}
                    () = tokio::time::sleep(poll) => {}
                    () = shared.stopping.cancelled() => {}
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot claim a job");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// How often a running job's progress is written to the table.
const PROGRESS_SAVE: Duration = Duration::from_secs(2);

async fn run(shared: &Arc<Shared>, job: JobRecord) {
    let id = job.id;
    tracing::info!(job = %id, attempt = job.attempts, "job started");
    let controls = Arc::new(Controls::default());
    let progress = Arc::new(Mutex::new(Progress::default()));
    shared.running().jobs.insert(id, (controls.clone(), progress.clone()));
    let mut task = {
        let (shared, controls, progress) = (shared.clone(), controls.clone(), progress.clone());
        tokio::task::spawn_blocking(move || {
            execute(&shared, &job, &controls, |p| *progress.lock().unwrap_or_else(PoisonError::into_inner) = *p)
        })
    };
    let outcome = loop {
        tokio::select! {
            outcome = &mut task => break outcome,
            () = tokio::time::sleep(PROGRESS_SAVE) => {
                let now = *progress.lock().unwrap_or_else(PoisonError::into_inner);
                if let Err(e) = shared.store.record_progress(id, &now).await {
                    tracing::warn!(job = %id, error = %e, "cannot save progress");
                }
            }
        }
    };
    shared.running().jobs.remove(&id);
    if let Err(e) = finish(shared, id, outcome).await {
        tracing::error!(job = %id, error = %e, "cannot record the job's end");
    }
}

async fn finish(
    shared: &Shared,
    id: JobId,
    outcome: Result<Result<TranscodeReport, Error>, tokio::task::JoinError>,
) -> Result<(), JobError> {
    let cancelled = shared.store.get(id).await.map(|j| j.status == JobStatus::Cancelled).unwrap_or(true);
    if cancelled {
        tracing::info!(job = %id, "job cancelled");
        shared.files.remove(id)?;
        return shared.store.delete(id).await;
    }
    if shared.stopping.is_cancelled() {
        // Stopped by shutdown: what was written is not the whole video; the job runs again.
        tracing::info!(job = %id, "job queued again for the next start");
        return shared.store.requeue(id).await;
    }
    match outcome {
        Ok(Ok(report)) => {
            let progress = Progress {
                frames_done: report.frames,
                frames_total: Some(report.frames),
                fps: report.stats.fps,
                eta_s: Some(0.0),
            };
            tracing::info!(job = %id, frames = report.frames, fps = report.stats.fps, "job succeeded");
            shared.store.finish(id, Ok(&progress)).await?;
        }
        Ok(Err(e)) => {
            tracing::warn!(job = %id, error = %e, "job failed");
            let kind = serde_json::to_value(e.kind()).ok().and_then(|v| v.as_str().map(String::from));
            shared.store.finish(id, Err((kind.as_deref().unwrap_or("internal"), &e.to_string()))).await?;
        }
        Err(join) => {
            tracing::error!(job = %id, error = %join, "job crashed");
            shared.store.finish(id, Err(("internal", "the job stopped unexpectedly; see the server log"))).await?;
        }
    }
    Ok(())
}

/// Runs one job on the engine (a blocking thread).
fn execute(
    shared: &Shared,
    job: &JobRecord,
    controls: &Arc<Controls>,
    on_progress: impl FnMut(&Progress),
) -> Result<TranscodeReport, Error> {
    let (engine, files, request) = (&shared.engine, &shared.files, &job.request);
    let picture = engine.load_picture(&files.source(job.id, request))?;
    let source = engine.source_face(&picture, "the job's source picture", request.source_face)?;
    let selection = match (request.target.fixed(), files.reference(job.id, request)) {
        (Some(selection), _) => selection,
        (None, Some(path)) => engine.most_like(&engine.load_picture(&path)?, "the job's reference picture")?,
        (None, None) => crate::face::FaceSelection::Largest,
    };
    let transcode_job = TranscodeJob {
        input: files.input(job.id, request),
        output: files.result(job.id, request),
        source: Arc::new(source),
        selection,
    };
    // A job may run more than once (a restart mid-way): the same inputs give the same file,
    // which replaces what an earlier attempt left.
    let options = TranscodeOptions { overwrite: true, ..request.options.clone() };
    transcode(engine, &transcode_job, &options, controls, on_progress)
}

/// Removes finished jobs older than `keep`, every so often.
async fn sweep(shared: Arc<Shared>, keep: Duration) {
    let every = (keep / 10).clamp(Duration::from_secs(1), Duration::from_secs(60));
    loop {
        let cutoff = now_ms() - i64::try_from(keep.as_millis()).unwrap_or(i64::MAX);
        match shared.store.finished_before(cutoff).await {
            Ok(ids) => {
                for id in ids {
                    let removed = shared.files.remove(id);
                    if let Err(e) = removed {
                        tracing::warn!(job = %id, error = %e, "cannot remove an expired job's files");
                    } else if let Err(e) = shared.store.delete(id).await {
                        tracing::warn!(job = %id, error = %e, "cannot remove an expired job");
                    } else {
                        tracing::info!(job = %id, "expired job removed");
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot look for expired jobs"),
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = shared.stopping.cancelled() => return,
        }
    }
}
