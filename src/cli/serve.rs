//! `faceswap serve`: flags into the library's server configuration; the address it listens on
//! printed when it is ready.

use std::{io::Write, net::SocketAddr, path::PathBuf, time::Duration};

use anyhow::{Context, Result};
use clap::Args;
use faceswap::{
    jobs::QueueUrl,
    server::{self, Role, ServerConfig, TlsFiles},
    storage::StorageUrl,
};

use super::engine::{EngineArgs, SwapperArgs};

/// The library's defaults: each flag's default is read from here, so there is one of each.
static DEFAULTS: std::sync::LazyLock<ServerConfig> = std::sync::LazyLock::new(ServerConfig::default);

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
    #[arg(long, alias = "part-seconds", value_name = "SECS", default_value_t = DEFAULTS.part_seconds, env = "FACESWAP_SEGMENT_SECONDS")]
    segment_seconds: f64,
    /// How long a worker's claim on a task holds unrenewed: a dead worker's task is taken over
    /// after this.
    #[arg(long, value_name = "DURATION", default_value_t = DEFAULTS.lease.into(), env = "FACESWAP_LEASE")]
    lease: humantime::Duration,
    /// Starts of one task (its workers dying, or failures that may pass) before its job fails.
    #[arg(long, value_name = "N", default_value_t = DEFAULTS.max_attempts, value_parser = clap::value_parser!(u32).range(1..=100))]
    max_attempts: u32,
    /// Engine workers for picture requests (default: one per core).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    workers: Option<u16>,
    /// Picture requests that may wait for a worker; more get 429 (default: 4 per worker).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    queue_depth: Option<u16>,
    /// Video jobs run at once.
    #[arg(long, value_name = "N", default_value_t = DEFAULTS.job_workers as u16, value_parser = clap::value_parser!(u16).range(1..=64))]
    job_workers: u16,
    /// Video jobs that may wait; more get 429.
    #[arg(long, value_name = "N", default_value_t = DEFAULTS.max_queued_jobs)]
    max_queued_jobs: u64,
    /// The most frames a job's video may have; longer ones are refused when submitted.
    #[arg(long, value_name = "N", default_value_t = DEFAULTS.max_job_frames, value_parser = clap::value_parser!(u64).range(1..))]
    max_job_frames: u64,
    /// The longest a job's video may play, in seconds; longer ones are refused when submitted.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULTS.max_job_seconds)]
    max_job_seconds: f64,
    /// The longest one task of a job may run; past it the job fails.
    #[arg(long, value_name = "DURATION", default_value_t = DEFAULTS.job_timeout.into())]
    job_timeout: humantime::Duration,
    /// The codecs jobs may ask for, comma-separated (av1's encoder is slow here, so it is not
    /// offered unless named).
    #[arg(long, value_name = "LIST", value_delimiter = ',', default_values_t = DEFAULTS.job_codecs.clone())]
    job_codecs: Vec<String>,
    /// The largest request body, in MB.
    #[arg(long, value_name = "MB", default_value_t = DEFAULTS.max_upload_bytes >> 20, value_parser = clap::value_parser!(u64).range(1..=65_536))]
    max_upload_mb: u64,
    /// Live sessions from browsers at once; one more is answered 503 before any media is set up.
    #[arg(long, value_name = "N", default_value_t = DEFAULTS.max_live_sessions, value_parser = parse_positive)]
    max_live_sessions: usize,
    /// UDP ports for live sessions, one each (open them in the firewall); default: any free port.
    #[arg(long, value_name = "A-B", value_parser = parse_port_range)]
    live_udp_ports: Option<(u16, u16)>,
    /// The address browsers reach this server at, when it is behind a 1:1 NAT (a cloud VM's
    /// public address); default: the address each browser connected to.
    #[arg(long, value_name = "IP")]
    public_ip: Option<std::net::IpAddr>,
    /// Answer HTTPS with this certificate chain (PEM, leaf first); needs --tls-key. Browsers
    /// give a page the camera only on HTTPS or localhost.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Request bodies received at once; one more is answered 429 before a byte is read.
    #[arg(long, value_name = "N", default_value_t = DEFAULTS.max_uploads, value_parser = parse_positive)]
    max_uploads: usize,
    /// The longest a job's upload may take in all.
    #[arg(long, value_name = "DURATION", default_value_t = DEFAULTS.upload_timeout.into())]
    upload_timeout: humantime::Duration,
    /// Connections served at once (keep it under the open-file limit); more wait to be accepted.
    #[arg(long, value_name = "N", default_value_t = DEFAULTS.max_connections, value_parser = parse_positive)]
    max_connections: usize,
    /// How long finished jobs and their results are kept (e.g. 24h, 30m).
    #[arg(long, value_name = "DURATION", default_value_t = DEFAULTS.keep_results.into())]
    keep_results: humantime::Duration,
    /// How long a client may take to send a request head, or pause while sending a body.
    #[arg(long, value_name = "DURATION", default_value_t = DEFAULTS.read_timeout.into())]
    read_timeout: humantime::Duration,
    /// The longest a picture request may take.
    #[arg(long, value_name = "DURATION", default_value_t = DEFAULTS.request_timeout.into())]
    request_timeout: humantime::Duration,
    /// How long in-flight requests get to finish after SIGTERM or Ctrl-C.
    #[arg(long, value_name = "DURATION", default_value_t = DEFAULTS.shutdown_grace.into())]
    shutdown_grace: humantime::Duration,
    /// Source faces remembered by the picture's hash, so a repeated source is analysed once (0: off).
    #[arg(long, value_name = "N", default_value_t = DEFAULTS.source_cache)]
    source_cache: usize,
    /// Recheck the model files every SECS seconds, repairing and reloading them (0: never).
    #[arg(long, value_name = "SECS", default_value_t = DEFAULTS.watch_interval.map_or(0.0, |d| d.as_secs_f64()))]
    watch_interval: f64,
    #[command(flatten)]
    swapper: SwapperArgs,
    #[command(flatten)]
    provenance: super::provenance::ProvenanceArgs,
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// The key from the file, else from FACESWAP_API_KEY.
fn api_key(file: Option<&PathBuf>) -> Result<Option<String>> {
    if let Some(path) = file {
        // A key is a line; a megabyte is already no key (and /dev/zero is not one at all).
        let bytes = faceswap::bounded_read::read_at_most(path, 1 << 20)
            .with_context(|| format!("cannot read the API key file {}", path.display()))?;
        let key =
            String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("the API key file {} is not text", path.display()))?;
        return Ok(Some(key.trim().to_string()));
    }
    Ok(std::env::var("FACESWAP_API_KEY").ok().filter(|k| !k.trim().is_empty()).map(|k| k.trim().to_string()))
}

fn parse_port_range(text: &str) -> Result<(u16, u16), String> {
    let bad = || format!("{text} is not a port range such as 50000-50100");
    let (low, high) = text.split_once('-').ok_or_else(bad)?;
    let (low, high) = (low.trim().parse::<u16>().map_err(|_| bad())?, high.trim().parse::<u16>().map_err(|_| bad())?);
    if low == 0 || low > high {
        return Err(bad());
    }
    Ok((low, high))
}

fn parse_positive(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("{text} is not a whole number above 0")),
    }
}

pub fn run(args: ServeArgs) -> Result<()> {
    let watch = args.watch_interval;
    if !(watch.is_finite() && (0.0..=86_400.0).contains(&watch)) {
        anyhow::bail!("--watch-interval {watch} is not a number of seconds from 0 to 86400");
    }
    let workers = args.workers.map_or(DEFAULTS.workers, usize::from);
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
        lease: args.lease.into(),
        max_attempts: args.max_attempts,
        workers,
        queue_depth: args.queue_depth.map_or_else(|| ServerConfig::queue_depth_for(workers), usize::from),
        job_workers: usize::from(args.job_workers),
        source_cache: args.source_cache,
        max_queued_jobs: args.max_queued_jobs,
        max_job_frames: args.max_job_frames,
        max_job_seconds: args.max_job_seconds,
        job_timeout: args.job_timeout.into(),
        job_codecs: args.job_codecs.iter().map(|c| c.trim().to_ascii_lowercase()).filter(|c| !c.is_empty()).collect(),
        max_connections: args.max_connections,
        max_uploads: args.max_uploads,
        upload_timeout: args.upload_timeout.into(),
        max_upload_bytes: args.max_upload_mb << 20,
        keep_results: args.keep_results.into(),
        read_timeout: args.read_timeout.into(),
        request_timeout: args.request_timeout.into(),
        shutdown_grace: args.shutdown_grace.into(),
        watch_interval: (watch > 0.0).then(|| Duration::from_secs_f64(watch)),
        max_live_sessions: args.max_live_sessions,
        live_udp_ports: args.live_udp_ports,
        public_ip: args.public_ip,
        tls: args.tls_cert.zip(args.tls_key).map(|(cert, key)| TlsFiles { cert, key }),
        // The swapper flags' pixel boost and enhancer are the requests' defaults.
        pixel_boost: args.swapper.pixel_boost,
        enhancer: args.swapper.enhancer()?,
        masks: args.swapper.default_masks()?,
    };
    let scheme = if config.tls.is_some() { "https" } else { "http" };
    let mut engine_config = args.engine.service_config(&args.swapper)?;
    engine_config.provenance = args.provenance.config(Some(args.data_dir.clone()))?;
    server::run(engine_config, config, |addr| {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "faceswap serve: listening on {scheme}://{addr}");
        let _ = out.flush();
    })?;
    Ok(())
}
