//! `faceswap serve`: flags into the library's server configuration; the address it listens on
//! printed when it is ready.

use std::{io::Write, net::SocketAddr, path::PathBuf, time::Duration};

use anyhow::{Context, Result};
use clap::Args;
use faceswap::{
    jobs::QueueUrl,
    server::{self, Role, ServerConfig},
    storage::StorageUrl,
};

use super::engine::{EngineArgs, SwapperArgs};

/// `--role`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum RoleArg {
    Api,
    Worker,
    All,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on. Anything but loopback needs an API key (or --no-auth).
    #[arg(long, default_value = "127.0.0.1:8787")]
    addr: SocketAddr,
    /// A file holding the API key clients send as `Authorization: Bearer KEY`.
    #[arg(long, value_name = "FILE", conflicts_with = "no_auth")]
    api_key_file: Option<PathBuf>,
    /// Serve without authentication, also on a non-loopback address.
    #[arg(long)]
    no_auth: bool,
    /// This replica's folder: uploads being received, outputs being written, and (unless
    /// --queue and --storage say otherwise) the job table and the job files.
    #[arg(long, value_name = "DIR", default_value = "faceswap-data", env = "FACESWAP_DATA_DIR")]
    data_dir: PathBuf,
    /// The job table: sqlite:PATH (default: DIR/jobs.sqlite3) or postgres://USER:PASSWORD@HOST/DB,
    /// shared by every replica.
    // Parsed after clap: its errors would repeat the value, password and all.
    #[arg(long, value_name = "URL", env = "FACESWAP_QUEUE", hide_env_values = true)]
    queue: Option<String>,
    /// The job files: file:DIR (default: the data folder) or s3://BUCKET/PREFIX (endpoint and
    /// credentials from AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION).
    #[arg(long, value_name = "URL", env = "FACESWAP_STORAGE")]
    storage: Option<StorageUrl>,
    /// api: accept and answer requests, run no jobs; worker: only run jobs; all: both.
    #[arg(long, value_enum, default_value_t = RoleArg::All, env = "FACESWAP_ROLE")]
    role: RoleArg,
    /// Videos longer than this are cut at keyframes into segments that workers swap apart and
    /// join without re-encoding (0: never).
    #[arg(long, alias = "part-seconds", value_name = "SECS", default_value_t = 60.0, env = "FACESWAP_SEGMENT_SECONDS")]
    segment_seconds: f64,
    /// How long a worker's claim on a task holds unrenewed: a dead worker's task is taken over
    /// after this.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = humantime::parse_duration, env = "FACESWAP_LEASE")]
    lease: Duration,
    /// Starts of one task (its workers dying, or failures that may pass) before its job fails.
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    max_attempts: u32,
    /// Engine workers for picture requests (default: one per core).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    workers: Option<u16>,
    /// Picture requests that may wait for a worker; more get 429 (default: 4 per worker).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    queue_depth: Option<u16>,
    /// Video jobs run at once.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    job_workers: u16,
    /// Video jobs that may wait; more get 429.
    #[arg(long, value_name = "N", default_value_t = 100)]
    max_queued_jobs: u64,
    /// The largest request body, in MB.
    #[arg(long, value_name = "MB", default_value_t = 512, value_parser = clap::value_parser!(u64).range(1..=65_536))]
    max_upload_mb: u64,
    /// How long finished jobs and their results are kept (e.g. 24h, 30m).
    #[arg(long, value_name = "DURATION", default_value = "24h", value_parser = humantime::parse_duration)]
    keep_results: Duration,
    /// How long a client may take to send a request head, or pause while sending a body.
    #[arg(long, value_name = "DURATION", default_value = "15s", value_parser = humantime::parse_duration)]
    read_timeout: Duration,
    /// The longest a picture request may take.
    #[arg(long, value_name = "DURATION", default_value = "120s", value_parser = humantime::parse_duration)]
    request_timeout: Duration,
    /// How long in-flight requests get to finish after SIGTERM or Ctrl-C.
    #[arg(long, value_name = "DURATION", default_value = "20s", value_parser = humantime::parse_duration)]
    shutdown_grace: Duration,
    /// Source faces remembered by the picture's hash, so a repeated source is analysed once (0: off).
    #[arg(long, value_name = "N", default_value_t = 32)]
    source_cache: usize,
    /// Recheck the model files every SECS seconds, repairing and reloading them (0: never).
    #[arg(long, value_name = "SECS", default_value_t = 5.0)]
    watch_interval: f64,
    #[command(flatten)]
    swapper: SwapperArgs,
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// The key from the file, else from FACESWAP_API_KEY.
fn api_key(file: Option<&PathBuf>) -> Result<Option<String>> {
    if let Some(path) = file {
        let key = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the API key file {}", path.display()))?;
        return Ok(Some(key.trim().to_string()));
    }
    Ok(std::env::var("FACESWAP_API_KEY").ok().filter(|k| !k.trim().is_empty()).map(|k| k.trim().to_string()))
}

pub fn run(args: ServeArgs) -> Result<()> {
    let defaults = ServerConfig::default();
    let workers = args.workers.map_or(defaults.workers, usize::from);
    let watch = args.watch_interval;
    if !(watch.is_finite() && (0.0..=86_400.0).contains(&watch)) {
        anyhow::bail!("--watch-interval {watch} is not a number of seconds from 0 to 86400");
    }
    let config = ServerConfig {
        addr: args.addr,
        api_key: api_key(args.api_key_file.as_ref())?,
        no_auth: args.no_auth,
        data_dir: args.data_dir.clone(),
        queue: args
            .queue
            .as_deref()
            .map(str::parse::<QueueUrl>)
            .transpose()
            .map_err(|e| anyhow::anyhow!("--queue (or FACESWAP_QUEUE): {e}"))?,
        storage: args.storage.clone(),
        role: match args.role {
            RoleArg::Api => Role::Api,
            RoleArg::Worker => Role::Worker,
            RoleArg::All => Role::All,
        },
        part_seconds: args.segment_seconds,
        lease: args.lease,
        max_attempts: args.max_attempts,
        workers,
        queue_depth: args.queue_depth.map_or(4 * workers, usize::from),
        job_workers: usize::from(args.job_workers),
        source_cache: args.source_cache,
        max_queued_jobs: args.max_queued_jobs,
        max_upload_bytes: args.max_upload_mb << 20,
        keep_results: args.keep_results,
        read_timeout: args.read_timeout,
        request_timeout: args.request_timeout,
        shutdown_grace: args.shutdown_grace,
        watch_interval: (watch > 0.0).then(|| Duration::from_secs_f64(watch)),
    };
    let mut engine = args.engine.config(&args.swapper)?;
    // Each worker runs one request at a time; more threads per model than cores per worker
    // would only make the workers compete.
    if engine.threads.is_none() {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        engine.threads = Some((cores / workers).max(1));
    }
    server::run(engine, config, |addr| {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "faceswap serve: listening on http://{addr}");
        let _ = out.flush();
    })?;
    Ok(())
}
