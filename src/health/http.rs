//! Health over HTTP: `GET /health` (the report; 503 when unhealthy, so `curl -f` works as a
//! container health check), `GET /health/live` and `GET /health/ready` (the split Kubernetes
//! probes and load balancers need), as an axum router any server mounts, and a small server of
//! its own for the video commands.

use std::{net::SocketAddr, sync::Arc, thread::JoinHandle};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use serde::Serialize;

use super::{HealthReport, HealthState, Status};

/// The three health routes over `state`.
pub fn router(state: Arc<HealthState>) -> Router {
    probes(state.clone()).merge(Router::new().route("/health", get(health)).with_state(state))
}

/// `/health/live` and `/health/ready` alone, for a server with its own `/health`.
pub fn probes(state: Arc<HealthState>) -> Router {
    Router::new().route("/health/live", get(live)).route("/health/ready", get(ready)).with_state(state)
}

async fn health(State(state): State<Arc<HealthState>>, request: Request) -> Response {
    let report = for_peer(state.report(), &request);
    (report_status(&report), Json(report)).into_response()
}

/// The report as `request`'s client may see it: whole on loopback, redacted for any other
/// machine (and when the peer is not known).
pub fn for_peer(report: HealthReport, request: &Request) -> HealthReport {
    let local = request.extensions().get::<ConnectInfo<SocketAddr>>().is_some_and(|c| c.0.ip().is_loopback());
    if local {
        report
    } else {
        report.redacted()
    }
}

/// 503 when unhealthy; degraded still answers 200 (the process works, frames pass).
pub fn report_status(report: &HealthReport) -> StatusCode {
    if report.status == Status::Unhealthy {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    }
}

#[derive(Serialize)]
struct Probe {
    status: &'static str,
}

/// Alive as long as the process answers.
async fn live() -> Json<Probe> {
    Json(Probe { status: "alive" })
}

async fn ready(State(state): State<Arc<HealthState>>) -> (StatusCode, Json<Probe>) {
    if state.report().is_ready() {
        (StatusCode::OK, Json(Probe { status: "ready" }))
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, Json(Probe { status: "not ready" }))
    }
}

/// Errors starting the endpoint.
#[derive(Debug, thiserror::Error)]
#[error("cannot serve health on {addr}")]
pub struct HealthError {
    addr: SocketAddr,
    #[source]
    source: std::io::Error,
}

/// The health routes served on their own thread until dropped.
pub struct HealthServer {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl HealthServer {
    /// Serves `state` on `addr` (the caller decides whether a non-loopback address is wanted).
    ///
    /// # Errors
    /// [`HealthError`] when the address cannot be bound or the thread not started.
    pub fn start(addr: SocketAddr, state: Arc<HealthState>) -> Result<Self, HealthError> {
        let fail = |source| HealthError { addr, source };
        // Bound here, so that a port in use is reported to the caller, not logged by a thread.
        let listener = std::net::TcpListener::bind(addr).map_err(fail)?;
        listener.set_nonblocking(true).map_err(fail)?;
        let bound = listener.local_addr().map_err(fail)?;
        if !bound.ip().is_loopback() {
            tracing::warn!(addr = %bound, "the health endpoint is reachable from other machines: they see no file paths or memory figures");
        }
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(fail)?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("fs-health".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(listener) => listener,
                        Err(e) => return tracing::error!(error = %e, "health endpoint failed"),
                    };
                    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
                    let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                        let _ = stopped.await;
                    });
                    if let Err(e) = serve.await {
                        tracing::error!(error = %e, "health endpoint failed");
                    }
                });
            })
            .map_err(fail)?;
        tracing::info!(addr = %bound, "health endpoint listening");
        Ok(Self { addr: bound, stop: Some(stop), thread: Some(thread) })
    }

    /// The address actually bound (port 0 picks a free one).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for HealthServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
