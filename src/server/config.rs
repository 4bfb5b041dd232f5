//! How the service runs: plain data, filled by `faceswap serve`'s flags or a deployment's
//! settings, checked before anything is bound.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use serde::{Deserialize, Serialize};

use super::ServeError;

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
    /// Where the job table, uploads and results live.
    pub data_dir: PathBuf,
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
        Ok(())
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
