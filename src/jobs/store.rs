//! The job table: an embedded SQLite database (WAL, synced on every commit) with versioned
//! migrations applied at open. Workers claim the oldest queued job in one statement.

use std::{
    collections::HashSet,
    path::{Path, PathBuf},
    str::FromStr,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use serde::Serialize;
use sqlx::{
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous},
    Row, SqlitePool,
};

use super::{JobError, JobId, JobRequest, JobStatus};
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
    pub attempts: i64,
    pub request: JobRequest,
    pub progress: Progress,
    pub error_kind: Option<String>,
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

/// The job table.
#[derive(Debug, Clone)]
pub struct JobStore {
    pool: SqlitePool,
    path: PathBuf,
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

const COLUMNS: &str = "id, status, created_at, updated_at, started_at, finished_at, attempts, request, \
                       frames_done, frames_total, fps, error_kind, error";

impl JobStore {
    /// Opens (creating) the database `jobs.sqlite3` in `data_dir` and applies the migrations.
    ///
    /// # Errors
    /// [`JobError::Database`] or [`JobError::Migrate`].
    pub async fn open(data_dir: &Path) -> Result<Self, JobError> {
        let path = data_dir.join("jobs.sqlite3");
        let options = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // An accepted upload is never lost: every commit reaches the disk.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|source| JobError::Database { path: path.clone(), source })?;
        MIGRATIONS.run(&pool).await.map_err(|source| JobError::Migrate { path: path.clone(), source })?;
        Ok(Self { pool, path })
    }

    fn db(&self) -> impl FnOnce(sqlx::Error) -> JobError + '_ {
        |source| JobError::Database { path: self.path.clone(), source }
    }

    /// Adds a queued job.
    ///
    /// # Errors
    /// [`JobError::Database`].
    pub async fn insert(&self, id: JobId, request: &JobRequest) -> Result<(), JobError> {
        let now = now_ms();
        let request = serde_json::to_string(request)
            .map_err(|e| JobError::Corrupt { id: id.to_string(), reason: e.to_string() })?;
        sqlx::query("INSERT INTO jobs (id, status, created_at, updated_at, request) VALUES (?, 'queued', ?, ?, ?)")
            .bind(id.to_string())
            .bind(now)
            .bind(now)
            .bind(request)
            .execute(&self.pool)
            .await
            .map_err(self.db())?;
        Ok(())
    }

    /// The job `id`.
    ///
    /// # Errors
    /// [`JobError::NotFound`], [`JobError::Database`].
    pub async fn get(&self, id: JobId) -> Result<JobRecord, JobError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM jobs WHERE id = ?"))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(self.db())?;
        row.map(|r| record(&r)).transpose()?.ok_or(JobError::NotFound { id: id.to_string() })
    }

    /// The newest `limit` jobs, with `status` only when given.
    ///
    /// # Errors
    /// [`JobError::Database`].
    pub async fn list(&self, status: Option<JobStatus>, limit: u32) -> Result<Vec<JobRecord>, JobError> {
        let rows = match status {
            Some(status) => {
                sqlx::query(&format!("SELECT {COLUMNS} FROM jobs WHERE status = ? ORDER BY created_at DESC LIMIT ?"))
                    .bind(status.as_str())
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await
            }
            None => {
                sqlx::query(&format!("SELECT {COLUMNS} FROM jobs ORDER BY created_at DESC LIMIT ?"))
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await
            }
        }
        .map_err(self.db())?;
        rows.iter().map(record).collect()
    }

    /// Marks the oldest queued job running and returns it (none when the queue is empty).
    ///
    /// # Errors
    /// [`JobError::Database`].
    pub async fn claim_next(&self) -> Result<Option<JobRecord>, JobError> {
        let now = now_ms();
        // One statement: two workers never claim the same job.
        let row = sqlx::query(&format!(
            "UPDATE jobs SET status = 'running', started_at = ?, updated_at = ?, attempts = attempts + 1, \
             frames_done = 0, error = NULL, error_kind = NULL \
             WHERE id = (SELECT id FROM jobs WHERE status = 'queued' ORDER BY created_at LIMIT 1) \
             RETURNING {COLUMNS}"
        ))
        .bind(now)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(self.db())?;
        row.map(|r| record(&r)).transpose()
    }

    /// Records how far a running job has got.
    ///
    /// # Errors
    /// [`JobError::Database`].
    pub async fn record_progress(&self, id: JobId, progress: &Progress) -> Result<(), JobError> {
        sqlx::query(
            "UPDATE jobs SET frames_done = ?, frames_total = ?, fps = ?, updated_at = ? \
             WHERE id = ? AND status = 'running'",
        )
        .bind(i64::try_from(progress.frames_done).unwrap_or(i64::MAX))
        .bind(progress.frames_total.and_then(|t| i64::try_from(t).ok()))
        .bind(progress.fps)
        .bind(now_ms())
        .bind(id.to_string())
        .execute(&self.pool)
        .await
        .map_err(self.db())?;
        Ok(())
    }

    /// Ends a running job as succeeded or failed; a job cancelled meanwhile stays cancelled.
    /// Returns the status the job has now.
    ///
    /// # Errors
    /// [`JobError::NotFound`], [`JobError::Database`].
    pub async fn finish(&self, id: JobId, outcome: Result<&Progress, (&str, &str)>) -> Result<JobStatus, JobError> {
        let now = now_ms();
        let query = match outcome {
            Ok(progress) => sqlx::query(
                "UPDATE jobs SET status = 'succeeded', finished_at = ?, updated_at = ?, frames_done = ?, \
                 frames_total = ?, fps = ? WHERE id = ? AND status = 'running'",
            )
            .bind(now)
            .bind(now)
            .bind(i64::try_from(progress.frames_done).unwrap_or(i64::MAX))
            .bind(progress.frames_total.and_then(|t| i64::try_from(t).ok()))
            .bind(progress.fps),
            Err((kind, detail)) => sqlx::query(
                "UPDATE jobs SET status = 'failed', finished_at = ?, updated_at = ?, error_kind = ?, error = ? \
                 WHERE id = ? AND status = 'running'",
            )
            .bind(now)
            .bind(now)
            .bind(kind.to_string())
            .bind(detail.to_string()),
        };
        query.bind(id.to_string()).execute(&self.pool).await.map_err(self.db())?;
        Ok(self.get(id).await?.status)
    }

    /// Marks a job cancelled unless it has finished; returns its status before.
    ///
    /// # Errors
    /// [`JobError::NotFound`], [`JobError::Database`].
    pub async fn cancel(&self, id: JobId) -> Result<JobStatus, JobError> {
        let before = self.get(id).await?.status;
        let now = now_ms();
        sqlx::query(
            "UPDATE jobs SET status = 'cancelled', finished_at = ?, updated_at = ? \
             WHERE id = ? AND status IN ('queued', 'running')",
        )
        .bind(now)
        .bind(now)
        .bind(id.to_string())
        .execute(&self.pool)
        .await
        .map_err(self.db())?;
        Ok(before)
    }

    /// Puts a running job back in the queue (shutdown, a worker gone), where it keeps its
    /// place by creation time.
    ///
    /// # Errors
    /// [`JobError::Database`].
    pub async fn requeue(&self, id: JobId) -> Result<(), JobError> {
        sqlx::query(
            "UPDATE jobs SET status = 'queued', updated_at = ?, frames_done = 0 WHERE id = ? AND status = 'running'",
        )
        .bind(now_ms())
        .bind(id.to_string())
        .execute(&self.pool)
        .await
        .map_err(self.db())?;
        Ok(())
    }

    /// Puts every running job back in the queue: at start, the jobs of a process that stopped
    /// without finishing them. Returns how many.
    ///
    /// # Errors
    /// [`JobError::Database`].
    pub async fn requeue_running(&self) -> Result<u64, JobError> {
        let done =
            sqlx::query("UPDATE jobs SET status = 'queued', updated_at = ?, frames_done = 0 WHERE status = 'running'")
                .bind(now_ms())
                .execute(&self.pool)
                .await
                .map_err(self.db())?;
        Ok(done.rows_affected())
    }

    /// Removes the job's row.
    ///
    /// # Errors
    /// [`JobError::Database`].
    pub async fn delete(&self, id: JobId) -> Result<(), JobError> {
        sqlx::query("DELETE FROM jobs WHERE id = ?")
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .map_err(self.db())?;
        Ok(())
    }

    /// Finished jobs that ended before `cutoff_ms`.
    ///
    /// # Errors
    /// [`JobError::Database`].
    pub async fn finished_before(&self, cutoff_ms: i64) -> Result<Vec<JobId>, JobError> {
        let rows =
            sqlx::query("SELECT id FROM jobs WHERE status IN ('succeeded', 'failed', 'cancelled') AND finished_at < ?")
                .bind(cutoff_ms)
                .fetch_all(&self.pool)
                .await
                .map_err(self.db())?;
        rows.iter().map(|r| parse_id(&r.get::<String, _>("id"))).collect()
    }

    /// Every job id.
    ///
    /// # Errors
    /// [`JobError::Database`].
    pub async fn ids(&self) -> Result<HashSet<JobId>, JobError> {
        let rows = sqlx::query("SELECT id FROM jobs").fetch_all(&self.pool).await.map_err(self.db())?;
        rows.iter().map(|r| parse_id(&r.get::<String, _>("id"))).collect()
    }

    /// How many jobs are in each state, and the age of the oldest queued one.
    ///
    /// # Errors
    /// [`JobError::Database`].
    pub async fn counts(&self) -> Result<(JobCounts, Option<Duration>), JobError> {
        let rows = sqlx::query("SELECT status, COUNT(*) AS n, MIN(created_at) AS oldest FROM jobs GROUP BY status")
            .fetch_all(&self.pool)
            .await
            .map_err(self.db())?;
        let mut counts = JobCounts::default();
        let mut oldest_queued = None;
        for row in rows {
            let n = u64::try_from(row.get::<i64, _>("n")).unwrap_or(0);
            match row.get::<String, _>("status").as_str() {
                "queued" => {
                    counts.queued = n;
                    let oldest: i64 = row.get("oldest");
                    oldest_queued = Some(Duration::from_millis(u64::try_from(now_ms() - oldest).unwrap_or(0)));
                }
                "running" => counts.running = n,
                "succeeded" => counts.succeeded = n,
                "failed" => counts.failed = n,
                _ => counts.cancelled = n,
            }
        }
        Ok((counts, oldest_queued))
    }

    /// Closes the database.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn parse_id(text: &str) -> Result<JobId, JobError> {
    JobId::from_str(text).map_err(|_| JobError::Corrupt { id: text.to_string(), reason: "not a job id".into() })
}

fn record(row: &SqliteRow) -> Result<JobRecord, JobError> {
    let id_text: String = row.get("id");
    let corrupt = |reason: String| JobError::Corrupt { id: id_text.clone(), reason };
    let id = parse_id(&id_text)?;
    let status = row.get::<String, _>("status").parse::<JobStatus>().map_err(corrupt)?;
    let request: JobRequest =
        serde_json::from_str(&row.get::<String, _>("request")).map_err(|e| corrupt(e.to_string()))?;
    Ok(JobRecord {
        id,
        status,
        created_at: row.get("created_at"),
        updated_at: row.get("updated_at"),
        started_at: row.get("started_at"),
        finished_at: row.get("finished_at"),
        attempts: row.get("attempts"),
        request,
        progress: Progress {
            frames_done: u64::try_from(row.get::<i64, _>("frames_done")).unwrap_or(0),
            frames_total: row.get::<Option<i64>, _>("frames_total").and_then(|t| u64::try_from(t).ok()),
            fps: row.get::<Option<f64>, _>("fps").unwrap_or(0.0),
            eta_s: None,
        },
        error_kind: row.get("error_kind"),
        error: row.get("error"),
    })
}
