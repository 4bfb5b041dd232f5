//! Prometheus metrics (the text format, on `GET /metrics`): requests by route, method and
//! status with latency histograms, faces swapped, jobs by state, queue depths, the oldest
//! queued job's age (for autoscaling), model reloads, resident memory.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Instant,
};

use axum::{
    extract::{MatchedPath, Request, State},
    middleware::Next,
    response::Response,
};
use prometheus_client::{
    encoding::{text::encode, EncodeLabelSet},
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{exponential_buckets, Histogram},
    },
    registry::Registry,
};
use serde::Serialize;

use crate::jobs::{JobStatus, QueueDepth};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
    method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: String,
}

/// Request counts for the health report.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct RequestCounts {
    pub total: u64,
    /// Answered 5xx.
    pub failed: u64,
    pub in_flight: u64,
}

/// The service's metrics.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    faces_swapped: Counter,
    jobs: Family<StateLabels, Gauge>,
    picture_queue: Gauge,
    picture_busy: Gauge,
    oldest_queued_job: Gauge<f64, AtomicU64>,
    tasks_queued: Gauge,
    tasks_running: Gauge,
    model_reloads: Gauge,
    resident_bytes: Gauge<f64, AtomicU64>,
    live_sessions: Gauge,
    live_fps: Gauge<f64, AtomicU64>,
    live_delay_p95: Gauge<f64, AtomicU64>,
    total: AtomicU64,
    failed: AtomicU64,
    in_flight: AtomicU64,
}

fn latency_histogram() -> Histogram {
    // 5 ms to about 80 s.
    Histogram::new(exponential_buckets(0.005, 2.0, 15))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("faceswap");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(latency_histogram as fn() -> Histogram);
        let faces_swapped = Counter::default();
        let jobs = Family::<StateLabels, Gauge>::default();
        let picture_queue = Gauge::default();
        let picture_busy = Gauge::default();
        let oldest_queued_job = Gauge::<f64, AtomicU64>::default();
        let tasks_queued = Gauge::default();
        let tasks_running = Gauge::default();
        let model_reloads = Gauge::default();
        let resident_bytes = Gauge::<f64, AtomicU64>::default();
        let live_sessions = Gauge::default();
        let live_fps = Gauge::<f64, AtomicU64>::default();
        let live_delay_p95 = Gauge::<f64, AtomicU64>::default();
        registry.register("live_sessions", "Live WebRTC sessions running", live_sessions.clone());
        registry.register(
            "live_frames_sent_per_second",
            "Swapped frames a second sent to browsers, all live sessions together",
            live_fps.clone(),
        );
        registry.register(
            "live_delay_p95_seconds",
            "Receive to send p95 of the slowest live session (0 when none)",
            live_delay_p95.clone(),
        );
        registry.register("http_requests", "HTTP requests answered, by route, method and status", requests.clone());
        registry.register("http_request_duration_seconds", "Time to answer, by route and method", latency.clone());
        registry.register("faces_swapped", "Faces swapped in pictures", faces_swapped.clone());
        registry.register("jobs", "Video jobs by state", jobs.clone());
        registry.register(
            "picture_queue_depth",
            "Picture requests waiting for an engine worker",
            picture_queue.clone(),
        );
        registry.register("picture_workers_busy", "Engine workers running a picture request", picture_busy.clone());
        registry.register(
            "oldest_queued_job_age_seconds",
            "Age of the oldest queued video job (0 when none)",
            oldest_queued_job.clone(),
        );
        registry.register(
            "queue_depth",
            "Tasks of live video jobs waiting for a worker, across every replica (the autoscaling signal)",
            tasks_queued.clone(),
        );
        registry.register("tasks_running", "Tasks of video jobs running, across every replica", tasks_running.clone());
        registry.register("model_reloads", "Model files repaired or changed and reloaded", model_reloads.clone());
        registry.register("resident_memory_bytes", "Resident memory of the process", resident_bytes.clone());
        Self {
            registry,
            requests,
            latency,
            faces_swapped,
            jobs,
            picture_queue,
            picture_busy,
            oldest_queued_job,
            tasks_queued,
            tasks_running,
            model_reloads,
            resident_bytes,
            live_sessions,
            live_fps,
            live_delay_p95,
            total: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
        }
    }
}

/// What is sampled when metrics are scraped.
pub struct Snapshot {
    pub queue: QueueDepth,
    pub picture_queue: usize,
    pub picture_busy: usize,
    pub model_reloads: u64,
    /// Every live session's figures.
    pub live: Vec<crate::webrtc::LiveStats>,
}

impl Metrics {
    /// Counts faces swapped in a picture.
    pub fn faces_swapped(&self, n: usize) {
        self.faces_swapped.inc_by(n as u64);
    }

    /// The request counts so far.
    pub fn request_counts(&self) -> RequestCounts {
        RequestCounts {
            total: self.total.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            in_flight: self.in_flight.load(Ordering::Relaxed),
        }
    }

    /// The metrics in Prometheus's text format, with the sampled values set first.
    pub fn render(&self, snapshot: &Snapshot) -> String {
        for status in JobStatus::ALL {
            let value = i64::try_from(snapshot.queue.jobs.of(status)).unwrap_or(i64::MAX);
            self.jobs.get_or_create(&StateLabels { state: status.as_str().to_string() }).set(value);
        }
        self.oldest_queued_job.set(snapshot.queue.oldest_queued.map_or(0.0, |d| d.as_secs_f64()));
        self.tasks_queued.set(i64::try_from(snapshot.queue.tasks_queued).unwrap_or(i64::MAX));
        self.tasks_running.set(i64::try_from(snapshot.queue.tasks_running).unwrap_or(i64::MAX));
        self.picture_queue.set(i64::try_from(snapshot.picture_queue).unwrap_or(i64::MAX));
        self.picture_busy.set(i64::try_from(snapshot.picture_busy).unwrap_or(i64::MAX));
        self.model_reloads.set(i64::try_from(snapshot.model_reloads).unwrap_or(i64::MAX));
        self.resident_bytes.set(crate::health::resident_mb() * 1024.0 * 1024.0);
        self.live_sessions.set(i64::try_from(snapshot.live.len()).unwrap_or(i64::MAX));
        self.live_fps.set(snapshot.live.iter().map(|s| s.fps_sent).sum());
        self.live_delay_p95.set(snapshot.live.iter().map(|s| s.delay_p95_ms / 1000.0).fold(0.0, f64::max));
        let mut text = String::new();
        if let Err(e) = encode(&mut text, &self.registry) {
            tracing::error!(error = %e, "cannot encode the metrics");
        }
        text
    }
}

/// Counts and times every routed request.
pub async fn track(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str).to_string();
    let method = request.method().to_string();
    metrics.in_flight.fetch_add(1, Ordering::Relaxed);
    let started = Instant::now();
    let response = next.run(request).await;
    metrics.in_flight.fetch_sub(1, Ordering::Relaxed);
    let status = response.status().as_u16();
    metrics.total.fetch_add(1, Ordering::Relaxed);
    // A probe answering "not ready" is doing its job, not failing.
    if status >= 500 && !route.starts_with("/health") {
        metrics.failed.fetch_add(1, Ordering::Relaxed);
    }
    metrics
        .latency
        .get_or_create(&RouteLabels { route: route.clone(), method: method.clone() })
        .observe(started.elapsed().as_secs_f64());
    metrics.requests.get_or_create(&RequestLabels { route, method, status }).inc();
    response
}
