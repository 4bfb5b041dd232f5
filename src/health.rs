//! Health: what `faceswap health` prints and `GET /health` serves — overall status, each
//! model's state, the runtime, memory, uptime and throughput.

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    sync::{
        atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering},
        Arc, Mutex, PoisonError,
    },
    thread::JoinHandle,
    time::Instant,
};

use serde::Serialize;

/// Overall state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Every model valid and loaded, frames flowing.
    Healthy,
    /// Running, but a model is being repaired or missing: frames may pass unswapped.
    Degraded,
    /// Not able to process frames.
    Unhealthy,
}

/// One model's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelHealth {
    pub role: String,
    /// A session on it is loaded and in use.
    pub ready: bool,
    /// The file on disk passed its check.
    pub valid: bool,
    /// The file the session was built from.
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// The health report.
#[derive(Debug, Clone, Serialize)]
pub struct HealthReport {
    pub status: Status,
    pub models: BTreeMap<String, ModelHealth>,
    pub onnxruntime_version: String,
    pub execution_provider: String,
    pub rss_mb: f64,
    pub uptime_s: f64,
    pub frames_processed: u64,
    pub fps: f32,
    pub version: &'static str,
}

/// Shared, updated by the watchdog and the sink, read by the endpoint.
#[derive(Debug)]
pub struct HealthState {
    started: Instant,
    onnxruntime_version: String,
    execution_provider: String,
    models: Mutex<BTreeMap<String, ModelHealth>>,
    frames: AtomicU64,
    fps_bits: AtomicU32,
    running: AtomicBool,
}

impl HealthState {
    pub fn new(onnxruntime_version: impl Into<String>, execution_provider: impl Into<String>) -> Self {
        Self {
            started: Instant::now(),
            onnxruntime_version: onnxruntime_version.into(),
            execution_provider: execution_provider.into(),
            models: Mutex::new(BTreeMap::new()),
            frames: AtomicU64::new(0),
            fps_bits: AtomicU32::new(0),
            running: AtomicBool::new(true),
        }
    }

    /// Records a model's state.
    pub fn set_model(&self, name: &str, health: ModelHealth) {
        self.models.lock().unwrap_or_else(PoisonError::into_inner).insert(name.to_string(), health);
    }

    /// Updates part of a model's state.
    pub fn update_model(&self, name: &str, update: impl FnOnce(&mut ModelHealth)) {
        if let Some(model) = self.models.lock().unwrap_or_else(PoisonError::into_inner).get_mut(name) {
            update(model);
        }
    }

    /// Counts a frame through the pipeline, at the current rate `fps`.
    pub fn frame_done(&self, fps: f32) {
        self.frames.fetch_add(1, Ordering::Relaxed);
        self.fps_bits.store(fps.to_bits(), Ordering::Relaxed);
    }

    /// Marks the pipeline as stopped (or running again).
    pub fn set_running(&self, running: bool) {
        self.running.store(running, Ordering::Relaxed);
    }

    /// The report as of now.
    pub fn report(&self) -> HealthReport {
        let models = self.models.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let status = if !self.running.load(Ordering::Relaxed) {
            Status::Unhealthy
        } else if models.values().all(|m| m.ready && m.valid) {
            Status::Healthy
        } else {
            Status::Degraded
        };
        HealthReport {
            status,
            models,
            onnxruntime_version: self.onnxruntime_version.clone(),
            execution_provider: self.execution_provider.clone(),
            rss_mb: resident_mb(),
            uptime_s: self.started.elapsed().as_secs_f64(),
            frames_processed: self.frames.load(Ordering::Relaxed),
            fps: f32::from_bits(self.fps_bits.load(Ordering::Relaxed)),
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

/// Peak resident memory of this process in MB (Linux: VmHWM), 0 where unknown.
pub fn peak_resident_mb() -> f64 {
    status_kb("VmHWM:").map_or(0.0, |kb| kb / 1024.0)
}

fn status_kb(key: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find(|l| l.starts_with(key))?.split_whitespace().nth(1)?.parse().ok()
}

/// Resident memory of this process in MB (Linux: /proc/self/status), 0 where unknown.
pub fn resident_mb() -> f64 {
    status_kb("VmRSS:").map_or(0.0, |kb| kb / 1024.0)
}

/// Errors starting the endpoint.
#[derive(Debug, thiserror::Error)]
#[error("cannot serve health on {addr}: {reason}")]
pub struct HealthError {
    addr: SocketAddr,
    reason: String,
}

/// The `GET /health` endpoint, served on its own thread until dropped.
pub struct HealthServer {
    server: Arc<tiny_http::Server>,
    thread: Option<JoinHandle<()>>,
    addr: SocketAddr,
}

impl HealthServer {
    /// Serves `state` on `addr` (the caller decides whether a non-loopback address is wanted).
    ///
    /// # Errors
    /// [`HealthError`] when the address cannot be bound.
    pub fn start(addr: SocketAddr, state: Arc<HealthState>) -> Result<Self, HealthError> {
        let server = Arc::new(tiny_http::Server::http(addr).map_err(|e| HealthError { addr, reason: e.to_string() })?);
        let bound = server.server_addr().to_ip().unwrap_or(addr);
        let serving = server.clone();
        let thread = std::thread::Builder::new()
            .name("fs-health".into())
            .spawn(move || {
                for request in serving.incoming_requests() {
                    let response = if request.url() == "/health" || request.url().starts_with("/health?") {
                        let report = state.report();
                        // 503 when unhealthy, so `curl -f` in a container HEALTHCHECK fails.
                        let code = if report.status == Status::Unhealthy { 503 } else { 200 };
                        let body = serde_json::to_string(&report).unwrap_or_else(|_| "{}".into());
                        let json = tiny_http::Header::from_bytes("Content-Type", "application/json");
                        let mut response = tiny_http::Response::from_string(body).with_status_code(code);
                        if let Ok(header) = json {
                            response = response.with_header(header);
                        }
                        response
                    } else {
                        tiny_http::Response::from_string("not found").with_status_code(404)
                    };
                    if let Err(e) = request.respond(response) {
                        tracing::debug!(error = %e, "health response not delivered");
                    }
                }
            })
            .map_err(|e| HealthError { addr, reason: e.to_string() })?;
        tracing::info!(addr = %bound, "health endpoint listening");
        Ok(Self { server, thread: Some(thread), addr: bound })
    }

    /// The address actually bound (port 0 picks a free one).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for HealthServer {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(ready: bool, valid: bool) -> ModelHealth {
        ModelHealth { role: "detector".into(), ready, valid, file: "m.onnx".into(), problem: None }
    }

    #[test]
    fn status_follows_the_models() {
        let state = HealthState::new("1.32.0", "cpu");
        state.set_model("a", model(true, true));
        assert_eq!(state.report().status, Status::Healthy);
        state.update_model("a", |m| m.valid = false);
        assert_eq!(state.report().status, Status::Degraded);
        state.set_running(false);
        assert_eq!(state.report().status, Status::Unhealthy);
        assert!(state.report().rss_mb > 0.0);
    }
}
