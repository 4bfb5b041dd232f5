//! Tasks and their leases. A worker claims the oldest claimable task in one statement
//! (PostgreSQL: `FOR UPDATE … SKIP LOCKED`, so workers never wait on each other), holds it by a
//! lease it renews while it works, and finishes it only while it still holds the lease. A
//! worker that dies or hangs stops renewing; when the lease runs out another worker claims
//! the task again. Execution is at least once; outputs are idempotent (the same file,
//! written whole or not at all), so a task run twice does no harm.

use std::time::Duration;

use sqlx::Row;

use super::{store::parse_id, JobError, JobId, JobStatus, JobStore, TaskKind, TaskSpec, TaskStatus};
use crate::{error_kind::ErrorKind, transcode::Progress};

/// A task a worker holds.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedTask {
    pub job: JobId,
    pub seq: i64,
    pub kind: TaskKind,
    pub spec: TaskSpec,
    /// How many times it has been started, this time included.
    pub attempts: i64,
}

impl std::fmt::Display for ClaimedTask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}#{} ({})", self.job, self.seq, self.kind.as_str())
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// The one test that a task is still `worker`'s: its row, held by that worker, running. Every
/// statement that changes a held task says it, with the job, number and worker bound from
/// parameter `$first` on and the running status at `$first + 3`.
fn held(first: usize) -> String {
    let [job, seq, worker, status] = [first, first + 1, first + 2, first + 3];
    format!("job_id = ${job} AND seq = ${seq} AND worker = ${worker} AND status = ${status}")
}

impl JobStore {
    /// Claims the oldest task that is queued, or whose lease has run out, of a job still
    /// live; an assembly only once all its job's parts are done. Its job is marked running.
    ///
    /// # Errors
    /// [`JobError::Database`], [`JobError::Corrupt`].
    pub async fn claim(&self, worker: &str, lease: Duration) -> Result<Option<ClaimedTask>, JobError> {
        let now = self.db.dialect.now_ms();
        let lock = self.db.dialect.skip_locked("t");
        let statement = format!(
            "UPDATE tasks SET status = $3, worker = $1, lease_until = {now} + $2, \
                 attempts = attempts + 1, frames_done = 0, fps = 0, updated_at = {now} \
             WHERE (job_id, seq) = ( \
                 SELECT t.job_id, t.seq FROM tasks t JOIN jobs j ON j.id = t.job_id \
                 WHERE j.status IN ($4, $5) \
                   AND (t.status = $6 OR (t.status = $3 AND t.lease_until < {now})) \
                   AND (t.kind <> $7 OR NOT EXISTS ( \
                        SELECT 1 FROM tasks p WHERE p.job_id = t.job_id AND p.kind = $8 AND p.status <> $9)) \
                 ORDER BY t.created_at, t.job_id, t.seq LIMIT 1{lock}) \
             RETURNING job_id, seq, kind, spec, attempts"
        );
        let row = sqlx::query(&statement)
            .bind(worker.to_string())
            .bind(millis(lease))
            .bind(TaskStatus::Running.as_str())
            .bind(JobStatus::Queued.as_str())
            .bind(JobStatus::Running.as_str())
            .bind(TaskStatus::Queued.as_str())
            .bind(TaskKind::Assemble.as_str())
            .bind(TaskKind::Part.as_str())
            .bind(TaskStatus::Done.as_str())
            .fetch_optional(&self.db.pool)
            .await
            .map_err(self.db.fail())?;
        let Some(row) = row else { return Ok(None) };
        let job_text: String = row.get("job_id");
        let job = parse_id(&job_text)?;
        let corrupt =
            |e: Box<dyn std::error::Error + Send + Sync>| JobError::Corrupt { id: job_text.clone(), source: e };
        let kind = row.get::<String, _>("kind").parse::<TaskKind>().map_err(|e| corrupt(e.into()))?;
        let spec = serde_json::from_str(&row.get::<String, _>("spec")).map_err(|e| corrupt(e.into()))?;
        let task = ClaimedTask { job, seq: row.get("seq"), kind, spec, attempts: row.get("attempts") };
        sqlx::query(&format!(
            "UPDATE jobs SET status = $1, started_at = COALESCE(started_at, {now}), updated_at = {now} \
             WHERE id = $2 AND status = $3"
        ))
        .bind(JobStatus::Running.as_str())
        .bind(job.to_string())
        .bind(JobStatus::Queued.as_str())
        .execute(&self.db.pool)
        .await
        .map_err(self.db.fail())?;
        Ok(Some(task))
    }

    /// Renews the lease and records progress. False when the task is no longer this
    /// worker's: the lease ran out and another took it, or the job was cancelled or removed.
    ///
    /// # Errors
    /// [`JobError::Database`] (the caller keeps working and tries again: the lease covers it).
    pub async fn heartbeat(
        &self,
        task: &ClaimedTask,
        worker: &str,
        lease: Duration,
        progress: &Progress,
    ) -> Result<bool, JobError> {
        let now = self.db.dialect.now_ms();
        let done = sqlx::query(&format!(
            "UPDATE tasks SET lease_until = {now} + $1, frames_done = $2, fps = $3, updated_at = {now} \
             WHERE {} AND EXISTS (SELECT 1 FROM jobs j WHERE j.id = tasks.job_id AND j.status = $8)",
            held(4)
        ))
        .bind(millis(lease))
        .bind(i64::try_from(progress.frames_done).unwrap_or(i64::MAX))
        .bind(progress.fps)
        .bind(task.job.to_string())
        .bind(task.seq)
        .bind(worker.to_string())
        .bind(TaskStatus::Running.as_str())
        .bind(JobStatus::Running.as_str())
        .execute(&self.db.pool)
        .await
        .map_err(self.db.fail())?;
        Ok(done.rows_affected() == 1)
    }

    /// Marks the task done, and its job succeeded when it was the last (`outcome`: the
    /// whole job's figures). False when the task was no longer this worker's.
    ///
    /// # Errors
    /// [`JobError::Database`].
    pub async fn complete(
        &self,
        task: &ClaimedTask,
        worker: &str,
        frames: u64,
        outcome: Option<&Progress>,
    ) -> Result<bool, JobError> {
        let now = self.db.dialect.now_ms();
        let mut tx = self.db.pool.begin().await.map_err(self.db.fail())?;
        let done = sqlx::query(&format!(
            "UPDATE tasks SET status = $1, lease_until = NULL, frames_done = $2, fps = 0, updated_at = {now} \
             WHERE {}",
            held(3)
        ))
        .bind(TaskStatus::Done.as_str())
        .bind(i64::try_from(frames).unwrap_or(i64::MAX))
        .bind(task.job.to_string())
        .bind(task.seq)
        .bind(worker.to_string())
        .bind(TaskStatus::Running.as_str())
        .execute(&mut *tx)
        .await
        .map_err(self.db.fail())?;
        if done.rows_affected() != 1 {
            tx.rollback().await.map_err(self.db.fail())?;
            return Ok(false);
        }
        if let Some(progress) = outcome {
            sqlx::query(&format!(
                "UPDATE jobs SET status = $1, finished_at = {now}, updated_at = {now}, frames_done = $2, \
                 frames_total = $3, fps = $4 WHERE id = $5 AND status = $6"
            ))
            .bind(JobStatus::Succeeded.as_str())
            .bind(i64::try_from(progress.frames_done).unwrap_or(i64::MAX))
            .bind(progress.frames_total.and_then(|t| i64::try_from(t).ok()))
            .bind(progress.fps)
            .bind(task.job.to_string())
            .bind(JobStatus::Running.as_str())
            .execute(&mut *tx)
            .await
            .map_err(self.db.fail())?;
        }
        tx.commit().await.map_err(self.db.fail())?;
        Ok(true)
    }

    /// Gives the task back to the queue (a shutdown, or a failure worth another try); a
    /// shutdown's start is not counted as an attempt.
    ///
    /// # Errors
    /// [`JobError::Database`].
    pub async fn release(&self, task: &ClaimedTask, worker: &str, count_attempt: bool) -> Result<(), JobError> {
        self.requeue(task.job, task.seq, worker, i64::from(!count_attempt)).await.map(drop)
    }

    /// Puts a held task back in the queue, `uncount` attempts taken back; how many rows moved.
    async fn requeue(&self, job: JobId, seq: i64, worker: &str, uncount: i64) -> Result<u64, JobError> {
        let now = self.db.dialect.now_ms();
        let done = sqlx::query(&format!(
            "UPDATE tasks SET status = $1, worker = NULL, lease_until = NULL, frames_done = 0, fps = 0, \
                 attempts = attempts - $2, updated_at = {now} \
             WHERE {}",
            held(3)
        ))
        .bind(TaskStatus::Queued.as_str())
        .bind(uncount)
        .bind(job.to_string())
        .bind(seq)
        .bind(worker.to_string())
        .bind(TaskStatus::Running.as_str())
        .execute(&self.db.pool)
        .await
        .map_err(self.db.fail())?;
        Ok(done.rows_affected())
    }

    /// Ends a live job as failed; `detail` is shown to clients, so the caller has taken the
    /// server's paths out of it.
    ///
    /// # Errors
    /// [`JobError::Database`].
    pub async fn fail(&self, id: JobId, kind: ErrorKind, detail: &str) -> Result<(), JobError> {
        let now = self.db.dialect.now_ms();
        sqlx::query(&format!(
            "UPDATE jobs SET status = $1, finished_at = {now}, updated_at = {now}, error_kind = $2, error = $3 \
             WHERE id = $4 AND status IN ($5, $6)"
        ))
        .bind(JobStatus::Failed.as_str())
        .bind(kind.as_str())
        .bind(detail.chars().take(2000).collect::<String>())
        .bind(id.to_string())
        .bind(JobStatus::Queued.as_str())
        .bind(JobStatus::Running.as_str())
        .execute(&self.db.pool)
        .await
        .map_err(self.db.fail())?;
        Ok(())
    }

    /// The numbers of the job's part tasks, in order.
    ///
    /// # Errors
    /// [`JobError::Database`].
    pub async fn part_numbers(&self, id: JobId) -> Result<Vec<i64>, JobError> {
        let rows = sqlx::query("SELECT seq FROM tasks WHERE job_id = $1 AND kind = $2 ORDER BY seq")
            .bind(id.to_string())
            .bind(TaskKind::Part.as_str())
            .fetch_all(&self.db.pool)
            .await
            .map_err(self.db.fail())?;
        Ok(rows.iter().map(|r| r.get::<i64, _>("seq")).collect())
    }

    /// Gives back the tasks held by processes on this host that are gone (a crash, a kill):
    /// workers named `<host>-<pid>` whose process no longer runs, or that had this process's
    /// name (a restarted container's first process has the same id as the last). Their leases
    /// need not run out first. Returns how many.
    ///
    /// # Errors
    /// [`JobError::Database`].
    pub async fn release_dead_on_host(
        &self,
        host: &str,
        own_name: &str,
        alive: impl Fn(u32) -> bool,
    ) -> Result<u64, JobError> {
        let rows = sqlx::query("SELECT job_id, seq, worker FROM tasks WHERE status = $1 AND worker LIKE $2")
            .bind(TaskStatus::Running.as_str())
            .bind(format!("{host}-%"))
            .fetch_all(&self.db.pool)
            .await
            .map_err(self.db.fail())?;
        let mut released = 0;
        for row in rows {
            let worker: String = row.get("worker");
            let pid = worker.strip_prefix(host).and_then(|rest| rest.strip_prefix('-')).and_then(|p| p.parse().ok());
            let dead = worker == own_name || pid.is_some_and(|pid| !alive(pid));
            if !dead {
                continue;
            }
            let job = parse_id(&row.get::<String, _>("job_id"))?;
            // A dead worker's start is counted: it may be what killed it.
            let done = self.requeue(job, row.get::<i64, _>("seq"), &worker, 0).await?;
            released += done;
        }
        Ok(released)
    }
}
