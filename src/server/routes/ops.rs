//! What operators and their tools read: `GET /health` (the engine's report with request and
//! job counts; 503 when unhealthy), `/health/live`, `/health/ready`, `GET /metrics`
//! (Prometheus), `GET /openapi.json`.

use std::sync::Arc;

use axum::{
    extract::State,
    http::{header, HeaderValue},
    response::{IntoResponse, Response},
    Json,
};
use serde::Serialize;
use utoipa::OpenApi;

use super::super::{
    metrics::{RequestCounts, Snapshot},
    problem::Problem,
    AppState, Role,
};
use crate::{
    engine::EnginePool,
    health::{for_peer, report_status, HealthReport},
    jobs::QueueDepth,
    swap::SwapperKind,
};

/// The service's health: the engine's report, and what the service is doing.
#[derive(Serialize)]
struct ServiceHealth {
    #[serde(flatten)]
    engine: HealthReport,
    requests: RequestCounts,
    role: Role,
    queue: QueueDepth,
    picture_queue: usize,
    swappers: Swappers,
    live: LiveHealth,
}

/// The live sessions: how many of how many, and each one's figures.
#[derive(Serialize)]
struct LiveHealth {
    max: usize,
    sessions: Vec<crate::webrtc::LiveStats>,
}

/// The swappers a request may ask for: the server's own, and each one whose model is here and
/// valid.
#[derive(Serialize)]
struct Swappers {
    default: SwapperKind,
    available: Vec<SwapperKind>,
}

impl Swappers {
    /// Looked up off the async threads: a model's first check reads its whole file.
    async fn of(engine: Arc<crate::engine::Engine>) -> Self {
        let default = engine.config().swapper;
        let available = tokio::task::spawn_blocking(move || {
            SwapperKind::ALL.into_iter().filter(|&kind| engine.swapper_file(kind).is_ok()).collect()
        })
        .await
        .unwrap_or_else(|_| vec![default]);
        Self { default, available }
    }
}

#[utoipa::path(get, path = "/health", tag = "operations",
    responses((status = 200, description = "healthy or degraded: the report"),
              (status = 503, description = "unhealthy (stopping, or a model unusable)")))]
pub async fn health(State(state): State<Arc<AppState>>, request: axum::extract::Request) -> Result<Response, Problem> {
    let engine = for_peer(state.engine.supervisor().health().report(), &request);
    let queue = state.store.depth().await?;
    let code = report_status(&engine);
    let report = ServiceHealth {
        engine,
        requests: state.metrics.request_counts(),
        role: state.config.role,
        queue,
        picture_queue: state.pool.as_ref().map_or(0, EnginePool::waiting),
        swappers: Swappers::of(state.engine.clone()).await,
        live: LiveHealth { max: state.live.max(), sessions: state.live.all_stats() },
    };
    Ok((code, Json(report)).into_response())
}

#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics(State(state): State<Arc<AppState>>) -> Result<Response, Problem> {
    let snapshot = Snapshot {
        queue: state.store.depth().await?,
        picture_queue: state.pool.as_ref().map_or(0, EnginePool::waiting),
        picture_busy: state.pool.as_ref().map_or(0, EnginePool::busy),
        model_reloads: state.engine.supervisor().health().report().model_reloads,
        live: state.live.all_stats(),
    };
    let text = state.metrics.render(&snapshot);
    let content_type = HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8");
    Ok(([(header::CONTENT_TYPE, content_type)], text).into_response())
}

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(title = "faceswap", description = "Face swapping for pictures and videos: swap, detect, video jobs, health and metrics."),
    paths(
        super::pictures::swap,
        super::pictures::detect,
        super::verify::verify,
        super::jobs::submit,
        super::jobs::list,
        super::jobs::get,
        super::jobs::result,
        super::jobs::manifest,
        super::jobs::remove,
        super::live::add_source,
        super::live::start,
        super::live::list,
        super::live::get,
        super::live::control,
        super::live::stop,
        health,
        live_doc,
        ready_doc,
        metrics,
        openapi,
    ),
    components(schemas(
        Problem,
        super::pictures::SwapForm,
        super::pictures::DetectForm,
        super::verify::VerifyForm,
        super::jobs::JobForm,
        super::jobs::JobView,
        super::jobs::JobLinks,
        super::jobs::JobList,
        super::jobs::Removed,
        crate::face::DetectionReport,
        crate::face::FaceReport,
        crate::transcode::Progress,
        super::live::SourceView,
        super::live::SourceForm,
        super::live::LiveList,
        crate::webrtc::LiveStats,
        crate::webrtc::StageMs,
        crate::webrtc::LiveControls,
    )),
    modifiers(&BearerKey),
    tags(
        (name = "pictures", description = "Swap and detect faces in pictures"),
        (name = "jobs", description = "Swap faces in videos, as durable jobs"),
        (name = "live", description = "Swap faces live, from a browser's camera over WebRTC"),
        (name = "provenance", description = "Check whether media is marked as AI-edited (C2PA, watermark)"),
        (name = "operations", description = "Health, readiness, metrics"),
    )
)]
pub struct ApiDoc;

/// The bearer key scheme, applied to every route but health and this description.
struct BearerKey;

impl utoipa::Modify for BearerKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        for (path, item) in openapi.paths.paths.iter_mut() {
            if path.starts_with("/health") || path == "/openapi.json" {
                continue;
            }
            for operation in [&mut item.get, &mut item.post, &mut item.delete].into_iter().flatten() {
                operation.security = Some(vec![SecurityRequirement::new("api_key", Vec::<String>::new())]);
            }
        }
    }
}

/// Documented here; served by the engine's health router.
#[utoipa::path(get, path = "/health/live", tag = "operations",
    responses((status = 200, description = "The process answers")))]
#[allow(dead_code)]
async fn live_doc() {}

/// Documented here; served by the engine's health router.
#[utoipa::path(get, path = "/health/ready", tag = "operations",
    responses((status = 200, description = "Every model loaded and valid: send traffic"),
              (status = 503, description = "Not ready (starting, repairing a model, stopping)")))]
#[allow(dead_code)]
async fn ready_doc() {}

#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "This description", content_type = "application/json")))]
pub async fn openapi() -> Response {
    match ApiDoc::openapi().to_json() {
        Ok(json) => ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], json).into_response(),
        Err(e) => Problem::internal(&format!("cannot describe the API: {e}")).into_response(),
    }
}
