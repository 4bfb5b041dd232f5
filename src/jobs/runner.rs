//! The job runner: workers that claim tasks from the queue (any replica's jobs) and run them
//! on the engine on blocking threads, never the async ones. While a task runs its lease is
//! renewed and its progress recorded; a lease lost (the task taken over, the job cancelled or
//! removed) stops it. A shutdown stops running tasks and gives them back to the queue.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use tokio::{sync::Notify, task::JoinHandle};
use tokio_util::sync::CancellationToken;

use super::{
    execute::{execute, worth_retrying, TaskInputs, TaskOutcome},
    ClaimedTask, JobError, JobFiles, JobId, JobStore, TaskKind,
};
use crate::{engine::Engine, error_kind::ErrorKind, pipeline::Controls, transcode::Progress};

/// How the runner works.
#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// Tasks run at once.
    pub workers: usize,
    /// How often an idle worker looks for work it was not told about.
    pub poll: Duration,
    /// How long a claim holds without being renewed: a dead worker's task is taken over
    /// after this.
    pub lease: Duration,
    /// Starts of one task before its job fails.
    pub max_attempts: i64,
    /// This runner's name in the queue: `<host>-<pid>`.
    pub name: String,
    /// The longest one task may run: past it the task is stopped and its job fails (a runaway
    /// encoder, a video far slower than its length says).
    pub task_timeout: Duration,
}

impl RunnerConfig {
    /// This machine's name.
    pub fn host() -> String {
        let name = gethostname::gethostname().to_string_lossy().trim().to_string();
        if name.is_empty() {
            "host".into()
        } else {
            name
        }
    }

    /// This machine's name and this process's id, for `name`.
    pub fn default_name() -> String {
        format!("{}-{}", Self::host(), std::process::id())
    }

    /// How often a running task's lease is renewed and its progress saved.
    fn heartbeat(&self) -> Duration {
        (self.lease / 3).clamp(Duration::from_millis(100), Duration::from_secs(2))
    }
}

type Live = (Arc<Controls>, Arc<Mutex<Progress>>);

struct Shared {
    engine: Arc<Engine>,
    store: JobStore,
    files: JobFiles,
    config: RunnerConfig,
    /// What runs in this process, by job and task number.
    running: Mutex<HashMap<(JobId, i64), Live>>,
    wake: Notify,
    stopping: CancellationToken,
}

impl Shared {
    fn running(&self) -> std::sync::MutexGuard<'_, HashMap<(JobId, i64), Live>> {
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The running workers; [`JobRunner::shutdown`] stops them.
pub struct JobRunner {
    shared: Arc<Shared>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl JobRunner {
    /// Gives back the tasks that processes on this host left running when they stopped
    /// (their leases need not run out first), and starts the workers.
    pub async fn start(engine: Arc<Engine>, store: JobStore, files: JobFiles, config: RunnerConfig) -> Self {
        let host = RunnerConfig::host();
        let alive = |pid: u32| std::path::Path::new(&format!("/proc/{pid}")).exists();
        match store.release_dead_on_host(&host, &config.name, alive).await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(tasks = n, "tasks a stopped process on this host left running are queued again"),
            Err(e) => {
                tracing::warn!(error = %e, "cannot look for tasks left by stopped processes; their leases will run out")
            }
        }
        let workers = config.workers.max(1);
        let shared = Arc::new(Shared {
            engine,
            store,
            files,
            config,
            running: Mutex::new(HashMap::new()),
            wake: Notify::new(),
            stopping: CancellationToken::new(),
        });
        let tasks = (0..workers).map(|_| tokio::spawn(work(shared.clone()))).collect();
        Self { shared, tasks: Mutex::new(tasks) }
    }

    /// Tells an idle worker that a job was queued.
    pub fn wake(&self) {
        self.shared.wake.notify_one();
    }

    /// The live progress of a job that runs whole in this process.
    pub fn progress(&self, id: JobId) -> Option<Progress> {
        let running = self.shared.running();
        running.get(&(id, 0)).map(|(_, p)| *p.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// How many tasks run in this process now.
    pub fn running_count(&self) -> usize {
        self.shared.running().len()
    }

    /// Stops the job's tasks running in this process (a cancel; other processes find out
    /// when they next renew their lease).
    pub fn stop_job(&self, id: JobId) {
        for ((job, _), (controls, _)) in self.shared.running().iter() {
            if *job == id {
                controls.stop();
            }
        }
    }

    /// Stops the workers: running tasks are stopped and given back to the queue (another
    /// worker, or this one's next start, runs them), and the workers are joined.
    pub async fn shutdown(&self) {
        self.shared.stopping.cancel();
        for (controls, _) in self.shared.running().values() {
            controls.stop();
        }
        let tasks = std::mem::take(&mut *self.tasks.lock().unwrap_or_else(PoisonError::into_inner));
        for task in tasks {
            let _ = task.await;
        }
    }
}

async fn work(shared: Arc<Shared>) {
    let config = &shared.config;
    while !shared.stopping.is_cancelled() {
        match shared.store.claim(&config.name, config.lease).await {
            Ok(Some(task)) if task.attempts > config.max_attempts => {
                tracing::error!(task = %task, attempts = task.attempts, "a task was started too often: its job fails");
                let detail = format!(
                    "part of this job was started {} times and never finished: the workers running it stopped (killed, out of memory, or cut off from the database)",
                    task.attempts - 1
                );
                if let Err(e) = shared.store.fail(task.job, ErrorKind::Internal, &detail).await {
                    tracing::error!(job = %task.job, error = %e, "cannot record the job's failure");
                }
            }
            Ok(Some(task)) => run(&shared, task).await,
            Ok(None) => {
                tokio::select! {
                    () = shared.wake.notified() => {}
                    () = tokio::time::sleep(config.poll) => {}
                    () = shared.stopping.cancelled() => {}
                }
            }
            Err(e) => {
                // The database is away (a restart, a failover): keep trying; leases cover
                // what was running.
                tracing::warn!(error = %e, "cannot claim a task; trying again");
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    () = shared.stopping.cancelled() => {}
                }
            }
        }
    }
}

async fn run(shared: &Arc<Shared>, task: ClaimedTask) {
    let config = &shared.config;
    let job = match shared.store.get(task.job).await {
        Ok(job) => job,
        Err(e) => {
            tracing::warn!(task = %task, error = %e, "cannot read the task's job");
            let _ = shared.store.release(&task, &config.name, true).await;
            return;
        }
    };
    let inputs = match TaskInputs::fetch(&shared.files, &shared.store, &job, &task).await {
        Ok(inputs) => inputs,
        Err(e) => {
            let retry = e.kind() != ErrorKind::NotFound;
            return give_up_or_retry(shared, &task, e.kind(), &crate::error_text::with_causes(&e), retry).await;
        }
    };
    tracing::info!(task = %task, attempt = task.attempts, "task started");
    let started = Instant::now();
    let controls = Arc::new(Controls::default());
    let progress = Arc::new(Mutex::new(Progress::default()));
    shared.running().insert((task.job, task.seq), (controls.clone(), progress.clone()));
    let inputs = Arc::new(inputs);
    let mut running = {
        let (shared, controls, progress, job, task, inputs) =
            (shared.clone(), controls.clone(), progress.clone(), job.clone(), task.clone(), inputs.clone());
        tokio::task::spawn_blocking(move || {
            execute(&shared.engine, &job, &task, &inputs, &controls, |p| {
                *progress.lock().unwrap_or_else(PoisonError::into_inner) = *p;
            })
        })
    };
    let mut lost = false;
    let mut timed_out = false;
    let outcome = loop {
        tokio::select! {
            outcome = &mut running => break outcome,
            () = tokio::time::sleep(config.heartbeat()) => {
                if !timed_out && started.elapsed() > config.task_timeout {
                    tracing::warn!(task = %task, limit_s = config.task_timeout.as_secs(), "the task ran past its time limit: stopping it");
                    timed_out = true;
                    controls.stop();
                }
                let now = *progress.lock().unwrap_or_else(PoisonError::into_inner);
                match shared.store.heartbeat(&task, &config.name, config.lease, &now).await {
                    Ok(true) => {}
                    Ok(false) if !lost => {
                        tracing::warn!(task = %task, "the task is no longer this worker's (cancelled, removed or taken over): stopping it");
                        lost = true;
                        controls.stop();
                    }
                    Ok(false) => {}
                    Err(e) => tracing::warn!(task = %task, error = %e, "cannot renew the lease; trying again"),
                }
            }
        }
    };
    shared.running().remove(&(task.job, task.seq));
    let stopping = shared.stopping.is_cancelled();
    match outcome {
        _ if lost => {
            let _ = tokio::fs::remove_file(&inputs.output).await;
            tracing::info!(task = %task, "task abandoned");
        }
        _ if timed_out => {
            let _ = tokio::fs::remove_file(&inputs.output).await;
            let error = JobError::TimedOut { seconds: config.task_timeout.as_secs() };
            give_up_or_retry(shared, &task, error.kind(), &error.to_string(), false).await;
        }
        Ok(Ok(TaskOutcome::Done { frames, fps })) if !stopping => {
            finish(shared, &job, &task, &inputs, frames, fps, started).await;
        }
        Ok(Ok(_)) | Ok(Err(_)) if stopping || controls.is_stopped() => {
            // Stopped by a shutdown (or a cancel here): back to the queue, not counted as a
            // try. A cancelled job's tasks are never claimed again.
            let _ = tokio::fs::remove_file(&inputs.output).await;
            let _ = shared.store.release(&task, &config.name, false).await;
            tracing::info!(task = %task, "task given back to the queue");
        }
        Ok(Ok(_)) => {
            let _ = shared.store.release(&task, &config.name, false).await;
        }
        Ok(Err(e)) => {
            let _ = tokio::fs::remove_file(&inputs.output).await;
            let text = crate::error_text::with_causes(&e);
            give_up_or_retry(shared, &task, e.kind(), &inputs.redact(&text), worth_retrying(&e)).await;
        }
        Err(join) => {
            let _ = tokio::fs::remove_file(&inputs.output).await;
            tracing::error!(task = %task, error = %join, "task crashed");
            let reason = "the task stopped unexpectedly; see the worker's log";
            give_up_or_retry(shared, &task, ErrorKind::Internal, reason, true).await;
        }
    }
}

/// Stores the output and marks the task done (and the job succeeded after its last task).
async fn finish(
    shared: &Shared,
    job: &super::JobRecord,
    task: &ClaimedTask,
    inputs: &TaskInputs,
    frames: u64,
    fps: f64,
    started: Instant,
) {
    let config = &shared.config;
    if let Err(e) = shared.files.storage().put_file(&inputs.output_key, &inputs.output).await {
        let _ = tokio::fs::remove_file(&inputs.output).await;
        let reason = format!("cannot store the output: {e}");
        return give_up_or_retry(shared, task, ErrorKind::Internal, &reason, true).await;
    }
    // A WebM or MKV result's manifest is a sidecar: stored beside the result.
    let sidecar = crate::provenance::sidecar_path(&inputs.output);
    if task.kind != TaskKind::Part && tokio::fs::try_exists(&sidecar).await.unwrap_or(false) {
        let stored = shared.files.storage().put_file(&JobFiles::manifest(job.id), &sidecar).await;
        let _ = tokio::fs::remove_file(&sidecar).await;
        if let Err(e) = stored {
            let reason = format!("cannot store the result's manifest: {e}");
            return give_up_or_retry(shared, task, ErrorKind::Internal, &reason, true).await;
        }
    }
    let last = matches!(task.kind, TaskKind::Whole | TaskKind::Assemble);
    let outcome = last.then(|| {
        // A split job's speed is its frames over the time since its first task started.
        let elapsed =
            job.started_at.map_or(started.elapsed().as_secs_f64(), |s| (super::now_ms() - s).max(1) as f64 / 1000.0);
        let fps = if task.kind == TaskKind::Whole { fps } else { frames as f64 / elapsed };
        Progress { frames_done: frames, frames_total: Some(frames), fps, eta_s: Some(0.0) }
    });
    match shared.store.complete(task, &config.name, frames, outcome.as_ref()).await {
        Ok(true) => tracing::info!(task = %task, frames, seconds = started.elapsed().as_secs_f64(), "task done"),
        Ok(false) => tracing::info!(task = %task, "task finished after it was taken over; its output is the same"),
        Err(e) => {
            tracing::warn!(task = %task, error = %e, "cannot record the task's end; its lease will run out and it runs again")
        }
    }
}

/// A failed task: tried again while tries are left and the failure could pass, else its job
/// fails with the reason.
async fn give_up_or_retry(shared: &Shared, task: &ClaimedTask, kind: ErrorKind, reason: &str, retry: bool) {
    let config = &shared.config;
    if retry && task.attempts < config.max_attempts {
        tracing::warn!(task = %task, error = reason, "task failed; it will be tried again");
        if let Err(e) = shared.store.release(task, &config.name, true).await {
            tracing::warn!(task = %task, error = %e, "cannot give the task back; its lease will run out");
        }
        return;
    }
    tracing::warn!(task = %task, error = reason, "task failed: its job fails");
    if let Err(e) = shared.store.fail(task.job, kind, &crate::redact::file_names_only(reason)).await {
        tracing::error!(job = %task.job, error = %e, "cannot record the job's failure");
    }
}
