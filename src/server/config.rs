//! How the service runs: plain data, filled by `faceswap serve`'s flags or a deployment's
//! settings, checked before anything is bound.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use serde::{Deserialize, Serialize};

use super::ServeError;
use crate::{jobs::QueueUrl, storage::StorageUrl};

/// What a replica does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Accepts and answers requests (pictures, job submissions, results); runs no jobs.
    Api,
    /// Only runs video jobs' tasks (the GPU machines); serves health and metrics.
    Worker,
    /// Both: a single machine.
    #[default]
    All,
}

impl Role {
    /// Whether this replica serves the API.
    pub fn serves_api(self) -> bool {
        matches!(self, Self::Api | Self::All)
    }

    /// Whether this replica runs jobs.
    pub fn runs_jobs(self) -> bool {
        matches!(self, Self::Worker | Self::All)
    }
}

/// Everything `faceswap serve` needs beyond the engine.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    pub addr: SocketAddr,
    /// The key clients send as `Authorization: Bearer KEY`; none: no authentication.
    #[serde(skip_serializing)]
    pub api_key: Option<String>,
    /// Serve a non-loopback address without a key (an explicit choice, never a default).
    pub no_auth: bool,
    /// This replica's local folder: uploads being received, outputs being written, and by
    /// default the job table and the job files.
    pub data_dir: PathBuf,
    /// The job table (none: `sqlite:<data_dir>/jobs.sqlite3`).
    #[serde(skip)]
    pub queue: Option<QueueUrl>,
    /// The job files (none: `file:<data_dir>`).
    #[serde(skip)]
    pub storage: Option<StorageUrl>,
    pub role: Role,
    /// Videos longer than this are cut into parts that workers swap apart (0: never).
    pub part_seconds: f64,
    /// How long a worker's claim on a task holds without renewal.
    #[serde(with = "humantime_serde_compat")]
    pub lease: Duration,
    /// Starts of one task before its job fails.
    pub max_attempts: u32,
    /// Engine workers for pictures (each with its own sessions).
    pub workers: usize,
    /// Picture requests that may wait for a worker; beyond that the answer is 429.
    pub queue_depth: usize,
    /// Video jobs run at once.
    pub job_workers: usize,
    /// Source faces remembered by the picture's hash (0: none).
    pub source_cache: usize,
    /// Jobs that may wait; beyond that submitting answers 429.
    pub max_queued_jobs: u64,
    /// The largest request body.
    pub max_upload_bytes: u64,
    /// How long finished jobs and their results are kept.
    #[serde(with = "humantime_serde_compat")]
    pub keep_results: Duration,
    /// How long a client may take to send the request head, or pause while sending the body.
    #[serde(with = "humantime_serde_compat")]
    pub read_timeout: Duration,
    /// The longest a picture request may take in all.
    #[serde(with = "humantime_serde_compat")]
    pub request_timeout: Duration,
    /// How long in-flight requests get to finish after a stop signal.
    #[serde(with = "humantime_serde_compat")]
    pub shutdown_grace: Duration,
    /// How often the model files are checked (none: never).
    #[serde(with = "humantime_serde_compat::option")]
    pub watch_interval: Option<Duration>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 8787)),
            api_key: None,
            no_auth: false,
            data_dir: PathBuf::from("faceswap-data"),
            queue: None,
            storage: None,
            role: Role::All,
            part_seconds: 60.0,
            lease: Duration::from_secs(30),
            max_attempts: 3,
            workers: cores,
            queue_depth: 4 * cores,
            job_workers: 1,
            source_cache: 32,
            max_queued_jobs: 100,
            max_upload_bytes: 512 << 20,
            keep_results: Duration::from_secs(24 * 3600),
            read_timeout: Duration::from_secs(15),
            request_timeout: Duration::from_secs(120),
            shutdown_grace: Duration::from_secs(20),
            watch_interval: Some(Duration::from_secs(5)),
        }
    }
}

impl ServerConfig {
    /// Refuses what would be unsafe or cannot work: a non-loopback address with no key and no
    /// explicit `no_auth`, an empty key, zero workers.
    ///
    /// # Errors
    /// [`ServeError::Config`] saying what to change.
    pub fn check(&self) -> Result<(), ServeError> {
        let fail = |reason: &str| Err(ServeError::Config(reason.to_string()));
        if self.api_key.as_deref().is_some_and(|k| k.trim().is_empty()) {
            return fail("the API key is empty");
        }
        if !self.addr.ip().is_loopback() && self.api_key.is_none() && !self.no_auth {
            return fail(&format!(
                "{} is reachable from other machines, and no API key is set: set one, or turn authentication off explicitly",
                self.addr
            ));
        }
        if self.workers == 0 || self.job_workers == 0 {
            return fail("there must be at least one worker and one job worker");
        }
        if self.max_upload_bytes == 0 {
            return fail("the upload limit must be above zero");
        }
        if !(self.part_seconds.is_finite() && self.part_seconds >= 0.0) {
            return fail("the segment length must be 0 (never split) or a number of seconds");
        }
        if self.lease < Duration::from_secs(1) {
            return fail("the lease must be at least a second");
        }
        if self.max_attempts == 0 {
            return fail("a task needs at least one attempt");
        }
        Ok(())
    }

    /// The job table: the one configured, else SQLite in the data folder.
    pub fn queue_url(&self) -> QueueUrl {
        self.queue.clone().unwrap_or_else(|| QueueUrl::Sqlite(self.data_dir.join("jobs.sqlite3")))
    }

    /// The job files: the storage configured, else the data folder.
    pub fn storage_url(&self) -> StorageUrl {
        self.storage.clone().unwrap_or_else(|| StorageUrl::File(self.data_dir.clone()))
    }
}

/// Durations as humantime text (`24h`, `15s`) in settings files.
mod humantime_serde_compat {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(&text).map_err(serde::de::Error::custom)
    }

    pub mod option {
        use std::time::Duration;

        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
            match d {
                Some(d) => super::serialize(d, s),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
            Option::<String>::deserialize(d)?
                .map(|text| humantime::parse_duration(&text).map_err(serde::de::Error::custom))
                .transpose()
        }
    }
}
