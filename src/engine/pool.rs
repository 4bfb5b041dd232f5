//! The engine workers for pictures: a fixed set of threads, each with its own sessions, fed by
//! a bounded queue. Model work never runs on the async threads; a full queue is an immediate
//! "busy" (429), not a slow time-out; a request whose client has gone is skipped.

use std::{
    panic::AssertUnwindSafe,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex, PoisonError,
    },
    thread::JoinHandle,
};

use crossbeam_channel::{Sender, TrySendError};

use super::{Engine, EngineWorker};
use crate::{Error, Result};

type Task = Box<dyn FnOnce(&mut EngineWorker, &Engine) + Send>;

/// The worker threads and their queue.
pub struct EnginePool {
    queue: Mutex<Option<Sender<Task>>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    waiting: Arc<AtomicUsize>,
    busy: Arc<AtomicUsize>,
    queue_depth: usize,
}

impl EnginePool {
    /// Starts `workers` threads (each building its sessions now, so a model problem stops the
    /// start, not the first request) behind a queue of `queue_depth`.
    ///
    /// # Errors
    /// The first worker's engine error.
    pub fn start(engine: &Arc<Engine>, workers: usize, queue_depth: usize) -> Result<Self> {
        let (queue, tasks) = crossbeam_channel::bounded::<Task>(queue_depth);
        let waiting = Arc::new(AtomicUsize::new(0));
        let busy = Arc::new(AtomicUsize::new(0));
        let mut threads = Vec::with_capacity(workers);
        for n in 0..workers {
            let mut worker = engine.worker()?;
            let (engine, tasks, waiting, busy) = (engine.clone(), tasks.clone(), waiting.clone(), busy.clone());
            let thread = std::thread::Builder::new()
                .name(format!("fs-engine-{n}"))
                .spawn(move || {
                    for task in tasks {
                        waiting.fetch_sub(1, Ordering::Relaxed);
                        busy.fetch_add(1, Ordering::Relaxed);
                        // A request that panics answers 500 (its reply is dropped) and costs
                        // this worker nothing: the thread goes on, with fresh sessions, since
                        // the old ones may have been left mid-run.
                        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| task(&mut worker, &engine)));
                        busy.fetch_sub(1, Ordering::Relaxed);
                        if outcome.is_err() {
                            tracing::error!(worker = n, "a request panicked in an engine worker; rebuilding its sessions");
                            match engine.worker() {
                                Ok(fresh) => worker = fresh,
                                Err(e) => tracing::error!(worker = n, error = %e, "kept the old sessions: new ones could not be built"),
                            }
                        }
                    }
                })
                .map_err(|e| {
                    Error::Pipeline(crate::pipeline::PipelineError::Spawn { stage: "engine", source: e })
                })?;
            threads.push(thread);
        }
        Ok(Self { queue: Mutex::new(Some(queue)), threads: Mutex::new(threads), waiting, busy, queue_depth })
    }

    /// Runs `work` on a worker and returns its result.
    ///
    /// A panic in `work` is caught on the worker (the worker keeps serving) and answered as
    /// [`crate::pipeline::PipelineError::Panicked`].
    ///
    /// # Errors
    /// [`Error::Busy`] at once when the queue is full; `work`'s own error.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut EngineWorker, &Engine) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let task: Task = Box::new(move |worker, engine| {
            // The client went away while the request waited: nothing to do.
            if reply.is_closed() {
                return;
            }
            let _ = reply.send(work(worker, engine));
        });
        let queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner).clone().ok_or(Error::Busy)?;
        self.waiting.fetch_add(1, Ordering::Relaxed);
        match queue.try_send(task) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.waiting.fetch_sub(1, Ordering::Relaxed);
                return Err(Error::Busy);
            }
        }
        answer
            .await
            .map_err(|_| Error::Pipeline(crate::pipeline::PipelineError::Panicked { stage: "engine worker" }))?
    }

    /// Whether one more request would be refused now: the queue is full. Asked before a
    /// request's body is read, so a refused upload costs nothing.
    pub fn is_full(&self) -> bool {
        self.waiting() >= self.queue_depth
    }

    /// Requests waiting for a worker.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// Workers running a request now.
    pub fn busy(&self) -> usize {
        self.busy.load(Ordering::Relaxed)
    }

    /// Takes no more work, lets the queued work finish and joins the threads (blocking).
    pub fn shutdown(&self) {
        drop(self.queue.lock().unwrap_or_else(PoisonError::into_inner).take());
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(PoisonError::into_inner));
        for thread in threads {
            let _ = thread.join();
        }
    }
}
