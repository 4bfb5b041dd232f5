//! Health as data: what `faceswap health` prints and `GET /health` serves — overall status,
//! each model's state, the runtime, memory, uptime and throughput — updated by the supervisor
//! and the consumers, read by any server that mounts [`router`].

mod http;

use std::{
    collections::BTreeMap,
    sync::{
        atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering},
        Mutex, PoisonError,
    },
    time::Instant,
};

use serde::Serialize;

pub use http::{for_peer, probes, report_status, router, HealthError, HealthServer};

use crate::models::ModelRole;

/// Overall state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Every model valid and loaded, frames flowing.
    Healthy,
    /// Running on every model, but a model file is bad and being repaired (the loaded session
    /// is still in use).
    Degraded,
    /// Not able to process frames: stopped, or a model has no session.
    Unhealthy,
}

/// One model's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelHealth {
    pub role: ModelRole,
    /// A session on it is loaded and in use.
    pub ready: bool,
    /// The file on disk passed its check.
    pub valid: bool,
    /// The file the session was built from.
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// A live input's or output's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StreamHealth {
    pub connected: bool,
    /// Frames received (input) or sent (output).
    pub frames: u64,
    pub dropped: u64,
    pub reconnects: u64,
}

/// The health report.
#[derive(Debug, Clone, Serialize)]
pub struct HealthReport {
    pub status: Status,
    pub models: BTreeMap<String, ModelHealth>,
    pub onnxruntime_version: String,
    pub execution_provider: String,
    /// The provider each role's models run on (`--ep ROLE=PROVIDER`; the rest run on
    /// `execution_provider`).
    pub execution_providers: BTreeMap<String, String>,
    /// Left out of the view given to other machines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rss_mb: Option<f64>,
    pub uptime_s: f64,
    pub frames_processed: u64,
    pub fps: f32,
    /// Model files repaired (or changed) and reloaded since start.
    pub model_reloads: u64,
    /// Live inputs and outputs, by name, when there are any.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub streams: BTreeMap<String, StreamHealth>,
    pub version: &'static str,
}

impl HealthReport {
    /// The view for a client on another machine: no file paths, problems or memory figures
    /// (they stay in the server's log and on loopback).
    pub fn redacted(mut self) -> Self {
        for model in self.models.values_mut() {
            model.file = std::path::Path::new(&model.file)
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            if model.problem.is_some() {
                model.problem = Some("see the server's log".into());
            }
        }
        self.rss_mb = None;
        self
    }

    /// Ready to take work: running, every model loaded and its file valid. A load balancer or
    /// a Kubernetes readiness probe sends traffic only then.
    pub fn is_ready(&self) -> bool {
        self.status == Status::Healthy
    }
}

/// Shared, updated by the watchdog and the sink, read by the endpoint.
#[derive(Debug)]
pub struct HealthState {
    started: Instant,
    onnxruntime_version: String,
    execution_provider: String,
    role_providers: Mutex<BTreeMap<String, String>>,
    models: Mutex<BTreeMap<String, ModelHealth>>,
    frames: AtomicU64,
    fps_bits: AtomicU32,
    running: AtomicBool,
    reloads: AtomicU64,
    streams: Mutex<BTreeMap<String, StreamHealth>>,
}

impl HealthState {
    /// Says which provider each role's models run on.
    pub fn set_role_providers(&self, providers: impl IntoIterator<Item = (ModelRole, String)>) {
        let mut map = self.role_providers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *map = providers.into_iter().map(|(role, provider)| (role.to_string(), provider)).collect();
    }

    pub fn new(onnxruntime_version: impl Into<String>, execution_provider: impl Into<String>) -> Self {
        Self {
            started: Instant::now(),
            onnxruntime_version: onnxruntime_version.into(),
            execution_provider: execution_provider.into(),
            role_providers: Mutex::new(BTreeMap::new()),
            models: Mutex::new(BTreeMap::new()),
            frames: AtomicU64::new(0),
            fps_bits: AtomicU32::new(0),
            running: AtomicBool::new(true),
            reloads: AtomicU64::new(0),
            streams: Mutex::new(BTreeMap::new()),
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

    /// Records a live input's or output's state.
    pub fn set_stream(&self, name: &str, health: StreamHealth) {
        self.streams.lock().unwrap_or_else(PoisonError::into_inner).insert(name.to_string(), health);
    }

    /// Counts a model reloaded after its file was repaired or changed.
    pub fn record_reload(&self) {
        self.reloads.fetch_add(1, Ordering::Relaxed);
    }

    /// Marks the pipeline as stopped (or running again).
    pub fn set_running(&self, running: bool) {
        self.running.store(running, Ordering::Relaxed);
    }

    /// The report as of now.
    pub fn report(&self) -> HealthReport {
        let models = self.models.lock().unwrap_or_else(PoisonError::into_inner).clone();
        // Degraded still swaps every frame (a file is being repaired, its loaded session in
        // use); a model with no session cannot, which is unhealthy.
        let status = if !self.running.load(Ordering::Relaxed) || models.values().any(|m| !m.ready) {
            Status::Unhealthy
        } else if models.values().all(|m| m.valid) {
            Status::Healthy
        } else {
            Status::Degraded
        };
        HealthReport {
            status,
            models,
            onnxruntime_version: self.onnxruntime_version.clone(),
            execution_provider: self.execution_provider.clone(),
            execution_providers: self.role_providers.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone(),
            rss_mb: Some(resident_mb()),
            uptime_s: self.started.elapsed().as_secs_f64(),
            frames_processed: self.frames.load(Ordering::Relaxed),
            fps: f32::from_bits(self.fps_bits.load(Ordering::Relaxed)),
            model_reloads: self.reloads.load(Ordering::Relaxed),
            streams: self.streams.lock().unwrap_or_else(PoisonError::into_inner).clone(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn model(ready: bool, valid: bool) -> ModelHealth {
        ModelHealth { role: ModelRole::Detector, ready, valid, file: "/srv/models/m.onnx".into(), problem: None }
    }

    #[test]
    fn status_follows_the_models() {
        let state = HealthState::new("1.32.0", "cpu");
        state.set_model("a", model(true, true));
        assert_eq!(state.report().status, Status::Healthy);
        state.update_model("a", |m| m.valid = false);
        assert_eq!(state.report().status, Status::Degraded);
        state.update_model("a", |m| m.ready = false);
        assert_eq!(state.report().status, Status::Unhealthy, "a model without a session cannot swap");
        state.update_model("a", |m| m.ready = true);
        state.set_running(false);
        assert_eq!(state.report().status, Status::Unhealthy);
        assert!(state.report().rss_mb.is_some_and(|mb| mb > 0.0));
        let remote = state.report().redacted();
        assert_eq!(remote.models["a"].file, "m.onnx");
        assert!(remote.rss_mb.is_none());
    }
}
