//! How the service runs: plain data, filled by `faceswap serve`'s flags or a deployment's
//! settings, checked before anything is bound.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use serde::{Deserialize, Serialize};

use super::ServeError;
use crate::{
    jobs::{JobLimits, QueueUrl},
    storage::StorageUrl,
};

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
    #[serde(with = "humantime_serde")]
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
    /// The most frames a job's video may have.
    pub max_job_frames: u64,
    /// The longest a job's video may play, in seconds.
    pub max_job_seconds: f64,
    /// The longest one task of a job may run before the job fails (a runaway encoder).
    #[serde(with = "humantime_serde")]
    pub job_timeout: Duration,
    /// The codecs jobs may ask for (empty: every codec the encoder has).
    pub job_codecs: Vec<String>,
    /// Connections served at once; more wait in the listen queue (keep it under the process's
    /// open-file limit).
    pub max_connections: usize,
    /// Request bodies received at once; one more is refused at once (429) before a byte of it
    /// is read.
    pub max_uploads: usize,
    /// The longest a job's upload may take in all (a client that sends a byte every few
    /// seconds is cut off at this, not only when it pauses past the read time-out).
    #[serde(with = "humantime_serde")]
    pub upload_timeout: Duration,
    /// The largest request body.
    pub max_upload_bytes: u64,
    /// How long finished jobs and their results are kept.
    #[serde(with = "humantime_serde")]
    pub keep_results: Duration,
    /// How long a client may take to send the request head, or pause while sending the body.
    #[serde(with = "humantime_serde")]
    pub read_timeout: Duration,
    /// The longest a picture request may take in all.
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    /// How long in-flight requests get to finish after a stop signal.
    #[serde(with = "humantime_serde")]
    pub shutdown_grace: Duration,
    /// How often the model files are checked (none: never).
    #[serde(with = "humantime_serde")]
    pub watch_interval: Option<Duration>,
    /// Live WebRTC sessions at once; one more is answered 503 before any media is set up.
    pub max_live_sessions: usize,
    /// The UDP ports live sessions take one each from (none: any free port).
    pub live_udp_ports: Option<(u16, u16)>,
    /// The address browsers reach this server at when it is behind a 1:1 NAT (a cloud VM);
    /// none: the address each browser connected to.
    pub public_ip: Option<std::net::IpAddr>,
    /// HTTPS: the certificate chain and private key (PEM); none: plain HTTP.
    pub tls: Option<TlsFiles>,
    /// The pixel boost of requests that use inswapper and name none.
    pub pixel_boost: Option<u32>,
    /// The face enhancer of requests that name none (`enhancer=none` turns it off).
    pub enhancer: Option<crate::enhance::EnhanceSettings>,
    /// The masks of requests that name none.
    pub masks: crate::mask::MaskSettings,
}

/// The PEM files `serve` answers HTTPS with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Default for ServerConfig {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        let jobs = JobLimits::default();
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 8787)),
            api_key: None,
            no_auth: false,
            data_dir: PathBuf::from("faceswap-data"),
            queue: None,
            storage: None,
            role: Role::All,
            part_seconds: jobs.part_seconds,
            lease: Duration::from_secs(30),
            max_attempts: 3,
            workers: cores,
            queue_depth: Self::queue_depth_for(cores),
            job_workers: 1,
            source_cache: 32,
            max_queued_jobs: jobs.max_queued,
            max_job_frames: jobs.max_frames,
            max_job_seconds: jobs.max_seconds,
            job_timeout: Duration::from_secs(3600),
            job_codecs: jobs.codecs,
            max_connections: 512,
            max_uploads: 16,
            upload_timeout: Duration::from_secs(900),
            max_upload_bytes: 512 << 20,
            keep_results: Duration::from_secs(24 * 3600),
            read_timeout: Duration::from_secs(15),
            request_timeout: Duration::from_secs(120),
            shutdown_grace: Duration::from_secs(20),
            watch_interval: Some(Duration::from_secs(5)),
            max_live_sessions: 2,
            pixel_boost: None,
            enhancer: None,
            masks: crate::mask::MaskSettings::default(),
            live_udp_ports: None,
            public_ip: None,
            tls: None,
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
        if self.max_connections == 0 || self.max_uploads == 0 {
            return fail("at least one connection and one upload must be allowed");
        }
        if !(self.max_job_seconds.is_finite() && self.max_job_seconds > 0.0) || self.max_job_frames == 0 {
            return fail("a job must be allowed some frames and some seconds");
        }
        if self.job_timeout < Duration::from_secs(1) || self.upload_timeout < Duration::from_secs(1) {
            return fail("the job and upload time limits must be at least a second");
        }
        Ok(())
    }

    /// The picture queue a number of workers gets unless told otherwise: four requests each.
    pub fn queue_depth_for(workers: usize) -> usize {
        4 * workers
    }

    /// What a job may be.
    pub fn job_limits(&self) -> JobLimits {
        JobLimits {
            max_queued: self.max_queued_jobs,
            part_seconds: self.part_seconds,
            max_frames: self.max_job_frames,
            max_seconds: self.max_job_seconds,
            codecs: self.job_codecs.clone(),
        }
    }

    /// Threads per model for each picture worker when the engine's configuration leaves it
    /// open: the cores shared out, since each worker runs one request at a time and more
    /// would only make them compete.
    pub fn threads_per_worker(&self) -> usize {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        (cores / self.workers.max(1)).max(1)
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
