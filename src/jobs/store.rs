//! The job table: jobs and their tasks in the [`Database`], on SQLite or PostgreSQL. A job's
//! progress is the sum of its tasks'.

use std::{collections::HashSet, str::FromStr, time::Duration};

use serde::Serialize;
use sqlx::{any::AnyRow, Row};

use super::{
    database::{text, Database, QueueUrl},
    JobError, JobId, JobRequest, JobStatus, TaskKind, TaskSpec, TaskStatus,
};
use crate::transcode::Progress;

/// One job as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobRecord {
    pub id: JobId,
    pub status: JobStatus,
    /// Unix milliseconds.
    pub created_at: i64,
    pub updated_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    /// The most times one of its tasks was started.
    pub attempts: i64,
    pub request: JobRequest,
    pub progress: Progress,
    pub error_kind: Option<crate::error_kind::ErrorKind>,
    pub error: Option<String>,
}

/// How many jobs are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct JobCounts {
    pub queued: u64,
    pub running: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub cancelled: u64,
}

impl JobCounts {
    /// The count for `status`.
    pub fn of(&self, status: JobStatus) -> u64 {
        match status {
            JobStatus::Queued => self.queued,
            JobStatus::Running => self.running,
            JobStatus::Succeeded => self.succeeded,
            JobStatus::Failed => self.failed,
            JobStatus::Cancelled => self.cancelled,
        }
    }
}

/// The queue as autoscaling sees it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct QueueDepth {
    pub jobs: JobCounts,
    /// Tasks of live jobs waiting for a worker, and running.
    pub tasks_queued: u64,
    pub tasks_running: u64,
    /// Age of the oldest queued job.
    pub oldest_queued: Option<Duration>,
}

/// A task to add with its job.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTask {
    pub kind: TaskKind,
    pub spec: TaskSpec,
}

/// The job table.
#[derive(Debug, Clone)]
pub struct JobStore {
    pub(super) db: Database,
}

pub use crate::jobs::now_ms;

const COLUMNS: &str = "id, status, created_at, updated_at, started_at, finished_at, request, \
    frames_done, frames_total, fps, error_kind, error, \
    (SELECT CAST(COALESCE(SUM(t.frames_done), 0) AS BIGINT) FROM tasks t \
        WHERE t.job_id = jobs.id AND t.kind <> 'assemble') AS task_frames, \
    (SELECT CAST(COALESCE(SUM(t.fps), 0) AS DOUBLE PRECISION) FROM tasks t \
        WHERE t.job_id = jobs.id AND t.status = 'running') AS task_fps, \
    (SELECT CAST(COALESCE(MAX(t.attempts), 0) AS BIGINT) FROM tasks t WHERE t.job_id = jobs.id) AS task_attempts";

impl JobStore {
    /// Opens the database `url` names and applies the migrations.
    ///
    /// # Errors
    /// [`JobError::Database`] or [`JobError::Migrate`].
    pub async fn open(url: &QueueUrl) -> Result<Self, JobError> {
        Ok(Self { db: Database::open(url).await? })
    }

    /// The database, fit to show.
    pub fn describe(&self) -> String {
        self.db.url.redacted()
    }

    /// Adds a queued job of `frames_total` frames with its tasks, in one transaction, unless
    /// `max_queued` jobs are queued already: the count and the insert are one decision, so
    /// parallel submits cannot all pass a check made before any of them was stored.
    ///
    /// # Errors
    /// [`JobError::QueueFull`], [`JobError::Database`].
    pub async fn insert(
        &self,
        id: JobId,
        request: &JobRequest,
        frames_total: Option<u64>,
        tasks: &[NewTask],
        max_queued: u64,
    ) -> Result<(), JobError> {
        let now = self.db.dialect.now_ms();
        let corrupt = |e: serde_json::Error| JobError::Corrupt { id: id.to_string(), source: e.into() };
        let request = serde_json::to_string(request).map_err(corrupt)?;
        let mut tx = self.db.pool.begin().await.map_err(self.db.fail())?;
        if let Some(lock) = self.db.dialect.insert_lock() {
            sqlx::query(lock).execute(&mut *tx).await.map_err(self.db.fail())?;
        }
        let inserted = sqlx::query(&format!(
            "INSERT INTO jobs (id, status, created_at, updated_at, request, frames_total) \
             SELECT $1, $2, {now}, {now}, $3, $4 \
             WHERE (SELECT COUNT(*) FROM jobs WHERE status = $2) < $5"
        ))
        .bind(id.to_string())
        .bind(JobStatus::Queued.as_str())
        .bind(request)
        .bind(frames_total.and_then(|t| i64::try_from(t).ok()))
        .bind(i64::try_from(max_queued).unwrap_or(i64::MAX))
        .execute(&mut *tx)
        .await
        .map_err(self.db.fail())?;
        if inserted.rows_affected() != 1 {
            tx.rollback().await.map_err(self.db.fail())?;
            return Err(JobError::QueueFull { queued: max_queued });
        }
        for (seq, task) in tasks.iter().enumerate() {
            sqlx::query(&format!(
                "INSERT INTO tasks (job_id, seq, kind, status, spec, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, {now}, {now})"
            ))
            .bind(id.to_string())
            .bind(i64::try_from(seq).unwrap_or(i64::MAX))
            .bind(task.kind.as_str())
            .bind(TaskStatus::Queued.as_str())
            .bind(serde_json::to_string(&task.spec).map_err(corrupt)?)
            .execute(&mut *tx)
            .await
            .map_err(self.db.fail())?;
        }
        tx.commit().await.map_err(self.db.fail())?;
        Ok(())
    }

    /// The job `id`.
    ///
    /// # Errors
    /// [`JobError::NotFound`], [`JobError::Database`].
    pub async fn get(&self, id: JobId) -> Result<JobRecord, JobError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM jobs WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(&self.db.pool)
            .await
            .map_err(self.db.fail())?;
        row.map(|r| record(&r)).transpose()?.ok_or(JobError::NotFound { id: id.to_string() })
    }

    /// The newest `limit` jobs, with `status` only when given.
    ///
    /// # Errors
    /// [`JobError::Database`].
    pub async fn list(&self, status: Option<JobStatus>, limit: u32) -> Result<Vec<JobRecord>, JobError> {
        let limit = i64::from(limit);
        let rows = match status {
            Some(status) => {
                sqlx::query(&format!("SELECT {COLUMNS} FROM jobs WHERE status = $1 ORDER BY created_at DESC LIMIT $2"))
                    .bind(status.as_str())
                    .bind(limit)
                    .fetch_all(&self.db.pool)
                    .await
            }
            None => {
                sqlx::query(&format!("SELECT {COLUMNS} FROM jobs ORDER BY created_at DESC LIMIT $1"))
                    .bind(limit)
                    .fetch_all(&self.db.pool)
                    .await
            }
        }
        .map_err(self.db.fail())?;
        rows.iter().map(record).collect()
    }

    /// Marks a job cancelled unless it has finished; returns its status before.
    ///
    /// # Errors
    /// [`JobError::NotFound`], [`JobError::Database`].
    pub async fn cancel(&self, id: JobId) -> Result<JobStatus, JobError> {
        let before = self.get(id).await?.status;
        let now = self.db.dialect.now_ms();
        sqlx::query(&format!(
            "UPDATE jobs SET status = $1, finished_at = {now}, updated_at = {now} \
             WHERE id = $2 AND status IN ($3, $4)"
        ))
        .bind(JobStatus::Cancelled.as_str())
        .bind(id.to_string())
        .bind(JobStatus::Queued.as_str())
        .bind(JobStatus::Running.as_str())
        .execute(&self.db.pool)
        .await
        .map_err(self.db.fail())?;
        Ok(before)
    }

    /// Removes the job's row and its tasks.
    ///
    /// # Errors
    /// [`JobError::Database`].
    pub async fn delete(&self, id: JobId) -> Result<(), JobError> {
        let mut tx = self.db.pool.begin().await.map_err(self.db.fail())?;
        for statement in ["DELETE FROM tasks WHERE job_id = $1", "DELETE FROM jobs WHERE id = $1"] {
            sqlx::query(statement).bind(id.to_string()).execute(&mut *tx).await.map_err(self.db.fail())?;
        }
        tx.commit().await.map_err(self.db.fail())
    }

    /// Finished jobs that ended before `cutoff_ms`.
    ///
    /// # Errors
    /// [`JobError::Database`].
    pub async fn finished_before(&self, cutoff_ms: i64) -> Result<Vec<JobId>, JobError> {
        let rows = sqlx::query("SELECT id FROM jobs WHERE status IN ($1, $2, $3) AND finished_at < $4")
            .bind(JobStatus::Succeeded.as_str())
            .bind(JobStatus::Failed.as_str())
            .bind(JobStatus::Cancelled.as_str())
            .bind(cutoff_ms)
            .fetch_all(&self.db.pool)
            .await
            .map_err(self.db.fail())?;
        rows.iter().map(|r| parse_id(&r.get::<String, _>("id"))).collect()
    }

    /// Every job id.
    ///
    /// # Errors
    /// [`JobError::Database`].
    pub async fn ids(&self) -> Result<HashSet<JobId>, JobError> {
        let rows = sqlx::query("SELECT id FROM jobs").fetch_all(&self.db.pool).await.map_err(self.db.fail())?;
        rows.iter().map(|r| parse_id(&r.get::<String, _>("id"))).collect()
    }

    /// How many jobs are in each state, the tasks waiting and running, and the age of the
    /// oldest queued job.
    ///
    /// # Errors
    /// [`JobError::Database`].
    pub async fn depth(&self) -> Result<QueueDepth, JobError> {
        let rows = sqlx::query("SELECT status, COUNT(*) AS n, MIN(created_at) AS oldest FROM jobs GROUP BY status")
            .fetch_all(&self.db.pool)
            .await
            .map_err(self.db.fail())?;
        let mut depth = QueueDepth::default();
        for row in rows {
            let n = u64::try_from(row.get::<i64, _>("n")).unwrap_or(0);
            let counts = &mut depth.jobs;
            let status = row.get::<String, _>("status");
            match status.parse::<JobStatus>() {
                Ok(JobStatus::Queued) => {
                    counts.queued = n;
                    let oldest: i64 = row.get("oldest");
                    depth.oldest_queued = Some(Duration::from_millis(u64::try_from(now_ms() - oldest).unwrap_or(0)));
                }
                Ok(JobStatus::Running) => counts.running = n,
                Ok(JobStatus::Succeeded) => counts.succeeded = n,
                Ok(JobStatus::Failed) => counts.failed = n,
                Ok(JobStatus::Cancelled) => counts.cancelled = n,
                Err(reason) => return Err(JobError::Corrupt { id: "-".into(), source: reason.into() }),
            }
        }
        let tasks = sqlx::query(
            "SELECT t.status AS status, COUNT(*) AS n FROM tasks t JOIN jobs j ON j.id = t.job_id \
             WHERE j.status IN ($1, $2) AND t.status <> $3 GROUP BY t.status",
        )
        .bind(JobStatus::Queued.as_str())
        .bind(JobStatus::Running.as_str())
        .bind(TaskStatus::Done.as_str())
        .fetch_all(&self.db.pool)
        .await
        .map_err(self.db.fail())?;
        for row in tasks {
            let n = u64::try_from(row.get::<i64, _>("n")).unwrap_or(0);
            match row.get::<String, _>("status").parse::<TaskStatus>() {
                Ok(TaskStatus::Queued) => depth.tasks_queued = n,
                _ => depth.tasks_running = n,
            }
        }
        Ok(depth)
    }

    /// Closes the database.
    pub async fn close(&self) {
        self.db.pool.close().await;
    }
}

pub(super) fn parse_id(text: &str) -> Result<JobId, JobError> {
    JobId::from_str(text).map_err(|_| JobError::Corrupt { id: text.to_string(), source: "not a job id".into() })
}

fn record(row: &AnyRow) -> Result<JobRecord, JobError> {
    let id_text: String = row.get("id");
    let corrupt = |e: Box<dyn std::error::Error + Send + Sync>| JobError::Corrupt { id: id_text.clone(), source: e };
    let id = parse_id(&id_text)?;
    let status = row.get::<String, _>("status").parse::<JobStatus>().map_err(|e| corrupt(e.into()))?;
    let request: JobRequest = serde_json::from_str(&row.get::<String, _>("request")).map_err(|e| corrupt(e.into()))?;
    let count = |column: &str| u64::try_from(row.try_get::<i64, _>(column).unwrap_or(0)).unwrap_or(0);
    let frames_total = row.try_get::<Option<i64>, _>("frames_total").ok().flatten().and_then(|t| u64::try_from(t).ok());
    // Finished: the figures recorded at the end. Else: the sum over the tasks, live.
    let progress = if status.is_final() {
        Progress {
            frames_done: count("frames_done"),
            frames_total,
            fps: row.try_get::<Option<f64>, _>("fps").ok().flatten().unwrap_or(0.0),
            eta_s: None,
        }
    } else {
        Progress {
            frames_done: count("task_frames"),
            frames_total,
            fps: row.try_get::<f64, _>("task_fps").unwrap_or(0.0),
            eta_s: None,
        }
    };
    Ok(JobRecord {
        id,
        status,
        created_at: row.get("created_at"),
        updated_at: row.get("updated_at"),
        started_at: row.try_get("started_at").ok().flatten(),
        finished_at: row.try_get("finished_at").ok().flatten(),
        attempts: row.try_get("task_attempts").unwrap_or(0),
        request,
        progress,
        // A kind this version does not know (a newer one wrote it) reads as internal.
        error_kind: text(row, "error_kind").map(|k| k.parse().unwrap_or(crate::error_kind::ErrorKind::Internal)),
        error: text(row, "error"),
    })
}
