//! `faceswap serve`: the face-swap HTTP API on axum and tokio. Picture requests run on a
//! bounded pool of engine workers (never on the async threads); video jobs are durable (their
//! table in SQLite or PostgreSQL, their files in a folder or an S3 bucket) and run by the job
//! runners of every replica with the worker role; the watchdog keeps the models good under
//! traffic; every error is problem+json; SIGTERM drains gracefully.

mod auth;
mod config;
mod listener;
mod metrics;
mod problem;
mod routes;
mod source_cache;
mod studio;
mod tls;
mod upload;

use std::{net::SocketAddr, sync::Arc};

use axum::{
    extract::{DefaultBodyLimit, Request},
    http::{header, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
    Router,
};
use tokio_util::sync::CancellationToken;
use tower_http::{catch_panic::CatchPanicLayer, limit::RequestBodyLimitLayer, timeout::RequestBodyTimeoutLayer};

use crate::engine::EnginePool;
pub use auth::ApiKey;
pub use config::{Role, ServerConfig, TlsFiles};
pub use metrics::Metrics;
pub use problem::{Problem, ProblemType, PROBLEM_JSON};
pub use routes::ops::ApiDoc;
pub use source_cache::SourceCache;

use crate::{
    engine::{Engine, EngineConfig},
    jobs::{JobError, JobFiles, JobRunner, JobStore, Retention, RunnerConfig},
    signal::SignalError,
    storage::{Storage, StorageError},
    Error,
};

/// Why the service could not start (or stopped).
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot serve: {0}")]
    Config(String),
    #[error(transparent)]
    Engine(#[from] Error),
    #[error(transparent)]
    Jobs(#[from] JobError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start the server's runtime: {0}")]
    Runtime(#[source] std::io::Error),
    #[error(transparent)]
    Signal(#[from] SignalError),
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
}

/// What every handler shares.
pub struct AppState {
    pub engine: Arc<Engine>,
    /// The picture workers (replicas that serve the API).
    pub pool: Option<EnginePool>,
    pub metrics: Arc<Metrics>,
    pub store: JobStore,
    pub files: JobFiles,
    /// The job runner (replicas that run jobs).
    pub runner: Option<JobRunner>,
    pub retention: Option<Retention>,
    pub config: ServerConfig,
    pub source_cache: Arc<SourceCache>,
    /// One permit per request body being received.
    pub uploads: Arc<tokio::sync::Semaphore>,
    /// Source faces kept for live sessions (`POST /v1/sources`).
    pub sources: Arc<SourceCache>,
    pub live: Arc<crate::webrtc::LiveSessions>,
}

impl AppState {
    /// The picture workers.
    ///
    /// # Errors
    /// A 503 problem on a replica without them (never routed there).
    pub fn pool(&self) -> Result<&EnginePool, Problem> {
        self.pool.as_ref().ok_or_else(|| {
            Problem::new(StatusCode::SERVICE_UNAVAILABLE, ProblemType::WrongRole, "this replica only runs jobs")
        })
    }

    /// A slot for one request body, or a 429 at once: bodies are refused before they are read,
    /// so slow or huge uploads cannot pile up in memory, descriptors or disk.
    ///
    /// # Errors
    /// [`Problem`] 429 with Retry-After when every slot is taken.
    pub fn upload_slot(&self) -> Result<tokio::sync::OwnedSemaphorePermit, Problem> {
        self.uploads.clone().try_acquire_owned().map_err(|_| {
            Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                ProblemType::Error(crate::error_kind::ErrorKind::Busy),
                format!("{} uploads are being received already: try again shortly", self.config.max_uploads),
            )
            .retry_after(2)
        })
    }

    /// The largest picture field: the upload limit, or what a picture within the pixel limit
    /// can take, whichever is smaller.
    pub fn picture_upload_limit(&self) -> u64 {
        self.config.max_upload_bytes.min(self.engine.limits().max_encoded_bytes())
    }
}

/// Source faces kept for live sessions; the least recently used is forgotten first.
const LIVE_SOURCES: usize = 64;

/// The routes, their limits and their middleware.
pub fn router(state: Arc<AppState>) -> Router {
    let config = &state.config;
    let key = ApiKey::new(config.api_key.as_deref());
    let pictures = Router::new()
        .route("/v1/swap", post(routes::pictures::swap))
        .route("/v1/detect", post(routes::pictures::detect))
        .route("/v1/verify", post(routes::verify::verify))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            config.request_timeout,
        ));
    // An upload has a deadline for the whole of it, not only for its pauses.
    let submit = Router::new()
        .route("/v1/jobs", post(routes::jobs::submit))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, config.upload_timeout));
    let api = Router::new()
        .merge(pictures)
        .merge(submit)
        .route("/v1/jobs", get(routes::jobs::list))
        .route("/v1/jobs/{id}", get(routes::jobs::get).delete(routes::jobs::remove))
        .route("/v1/jobs/{id}/result", get(routes::jobs::result))
        .route("/v1/jobs/{id}/manifest", get(routes::jobs::manifest))
        .route("/v1/sources", post(routes::live::add_source))
        .route("/v1/live", post(routes::live::start).get(routes::live::list))
        .route("/v1/live/{id}", get(routes::live::get).patch(routes::live::control).delete(routes::live::stop));
    // A worker replica answers only for its health and metrics.
    let protected = if config.role.serves_api() { api } else { Router::new() }
        .route("/metrics", get(routes::ops::metrics))
        .route_layer(middleware::from_fn_with_state(key, auth::require_key));
    let mut public =
        Router::new().route("/health", get(routes::ops::health)).route("/openapi.json", get(routes::ops::openapi));
    // The studio's page is public (it holds nothing); what it calls asks for the key.
    if config.role.serves_api() {
        public = public.route("/", get(studio::page)).route("/studio/{*path}", get(studio::file));
    }
    let limit = usize::try_from(config.max_upload_bytes).unwrap_or(usize::MAX);
    Router::new()
        .merge(protected)
        .merge(public)
        .with_state(state.clone())
        .merge(crate::health::probes(state.engine.supervisor().health().clone()))
        .route_layer(middleware::from_fn_with_state(state.metrics.clone(), metrics::track))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(limit))
        // A declared length over the limit is refused before a byte of the body is read.
        .layer(RequestBodyLimitLayer::new(limit))
        // A client that stops sending its body mid-way is cut off.
        .layer(RequestBodyTimeoutLayer::new(state.config.read_timeout))
        .layer(middleware::from_fn(problems_only))
        .layer(CatchPanicLayer::custom(|_| {
            Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                ProblemType::Error(crate::error_kind::ErrorKind::Internal),
                "the server failed on this request; the fault is logged",
            )
            .into_response()
        }))
}

async fn not_found() -> Problem {
    Problem::new(StatusCode::NOT_FOUND, ProblemType::NoRoute, "no such route: see /openapi.json")
}

async fn method_not_allowed() -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        ProblemType::MethodNotAllowed,
        "this route does not take that method: see /openapi.json",
    )
}

/// Error answers made by layers (a time-out, a body over the limit) become problem+json too.
async fn problems_only(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_problem =
        response.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if !status.is_client_error() && !status.is_server_error() || is_problem {
        return response;
    }
    let detail = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "the request body is over the upload limit",
        StatusCode::REQUEST_TIMEOUT => "the request took too long: send it faster, or a smaller one",
        _ => status.canonical_reason().unwrap_or("the request failed"),
    };
    Problem::new(status, ProblemType::Status(status), detail).into_response()
}

/// Opens the engine, starts the workers and the job runner, serves until SIGINT/SIGTERM, then
/// drains: the listener closes, in-flight requests get the grace period, running jobs are put
/// back in the queue. `on_listening` is told the bound address (port 0 picks one).
///
/// # Errors
/// [`ServeError`] when the configuration is unsafe, the engine or the job store cannot be
/// opened, or the address cannot be bound.
pub fn run(
    engine_config: EngineConfig,
    config: ServerConfig,
    on_listening: impl FnOnce(SocketAddr) + Send,
) -> Result<(), ServeError> {
    config.check()?;
    let mut engine_config = engine_config;
    if engine_config.threads.is_none() {
        engine_config.threads = Some(config.threads_per_worker());
    }
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|source| JobError::Files { path: config.data_dir.clone(), source })?;
    // Opened outside the async runtime: model verification and session building block.
    let engine = Arc::new(Engine::open(engine_config)?);
    let pool = if config.role.serves_api() {
        Some(EnginePool::start(&engine, config.workers, config.queue_depth)?)
    } else {
        None
    };
    if let Some(interval) = config.watch_interval {
        engine.watch_models(interval).map_err(ServeError::Runtime)?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .thread_name("fs-http")
        .enable_all()
        .build()
        .map_err(ServeError::Runtime)?;
    let outcome = runtime.block_on(serve(engine.clone(), pool, config, on_listening));
    // The runtime goes first (with any connection still open after the grace period), so
    // nothing async holds the engine or the workers after this.
    drop(runtime);
    engine.supervisor().stop_watchdog();
    if let Some(pool) = outcome?.pool.as_ref() {
        pool.shutdown();
    }
    Ok(())
}

async fn serve(
    engine: Arc<Engine>,
    pool: Option<EnginePool>,
    config: ServerConfig,
    on_listening: impl FnOnce(SocketAddr),
) -> Result<Arc<AppState>, ServeError> {
    // A certificate that cannot be used is an error before anything starts.
    let tls = config.tls.as_ref().map(|files| tls::acceptor(&files.cert, &files.key)).transpose()?;
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|source| ServeError::Bind { addr: config.addr, source })?;
    let store = JobStore::open(&config.queue_url()).await?;
    let storage = Storage::open(&config.storage_url()).await?;
    let files = JobFiles::open(storage, &config.data_dir)?;
    tracing::info!(role = ?config.role, queue = %store.describe(), storage = %files.storage().url(), "jobs");
    let runner = if config.role.runs_jobs() {
        let runner_config = RunnerConfig {
            workers: config.job_workers,
            poll: std::time::Duration::from_secs(1),
            lease: config.lease,
            max_attempts: i64::from(config.max_attempts),
            name: RunnerConfig::default_name(),
            task_timeout: config.job_timeout,
        };
        Some(JobRunner::start(engine.clone(), store.clone(), files.clone(), runner_config).await)
    } else {
        None
    };
    let retention =
        config.role.serves_api().then(|| Retention::start(store.clone(), files.clone(), config.keep_results));
    let stop = CancellationToken::new();
    let _signal = {
        let stop = stop.clone();
        crate::signal::on_stop(move || stop.cancel())?
    };
    let state = Arc::new(AppState {
        engine: engine.clone(),
        pool,
        metrics: Arc::new(Metrics::default()),
        store: store.clone(),
        files,
        runner,
        retention,
        source_cache: Arc::new(SourceCache::new(config.source_cache)),
        uploads: Arc::new(tokio::sync::Semaphore::new(config.max_uploads)),
        sources: Arc::new(SourceCache::new(LIVE_SOURCES)),
        live: crate::webrtc::LiveSessions::new(config.max_live_sessions),
        config,
    });
    let addr = listener::bound(&listener, state.config.addr);
    tracing::info!(%addr, workers = state.config.workers, "serving");
    on_listening(addr);
    {
        // Not ready from the first moment of a stop: load balancers move traffic away first.
        let (stop, health, live) = (stop.clone(), engine.supervisor().health().clone(), state.live.clone());
        tokio::spawn(async move {
            stop.cancelled().await;
            health.set_running(false);
            live.stop_all();
        });
    }
    let app = router(state.clone());
    let limits = listener::ConnectionLimits {
        read_timeout: state.config.read_timeout,
        grace: state.config.shutdown_grace,
        max_connections: state.config.max_connections,
    };
    listener::serve(listener, app, limits, tls, stop).await;
    tracing::info!("stopping: tasks in progress are given back to the queue");
    if let Some(runner) = &state.runner {
        runner.shutdown().await;
    }
    if let Some(retention) = &state.retention {
        retention.shutdown().await;
    }
    store.close().await;
    Ok(state)
}
