//! Live sessions from a browser's camera, signalled the WHIP way (RFC 9725): `POST /v1/live`
//! with an SDP offer answers 201 with the SDP answer and `Location: /v1/live/{id}`; `DELETE`
//! ends it; `PATCH` switches swapping, the mouth mask and all faces while it runs; `GET` gives
//! its figures. The source face comes from `POST /v1/sources`, analysed once.

use std::sync::Arc;

use axum::{
    body::Body,
    extract::{multipart::MultipartRejection, Extension, Multipart, Path as UrlPath, Query, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::{Deserialize, Serialize};

use super::super::{
    listener::LocalAddr,
    problem::{Problem, ProblemType},
    source_cache::SourceCache,
    upload::{admit, read_form, rejection, Admission, FieldKind},
    AppState,
};
use super::processors::EnhancerChoice;
use crate::{
    engine::VideoSwap,
    enhance::EnhanceSettings,
    error_kind::ErrorKind,
    face::FaceSelection,
    pipeline::TrackerConfig,
    swap::SwapperKind,
    webrtc::{LiveControls, LiveError, LiveStats, SessionId, SessionMedia, SessionNet},
};

/// The largest SDP offer taken (a browser's is a few kilobytes).
const MAX_OFFER_BYTES: usize = 64 << 10;
/// The swapped video's bitrate: enough for 640×480 at 30 fps, little enough for a phone's link.
const BITRATE: usize = 1_500_000;

const SOURCE_FIELDS: [(&str, FieldKind); 2] = [("source", FieldKind::Picture), ("source_face", FieldKind::Text)];

/// A source face the server keeps for live sessions.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SourceView {
    /// Pass it as `source` to `POST /v1/live`.
    pub id: String,
}

/// The form of `POST /v1/sources`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct SourceForm {
    /// The picture whose face is put on (PNG or JPEG).
    #[schema(value_type = String, format = Binary)]
    source: Vec<u8>,
    /// Which face of it, numbered as `/v1/detect` lists them (default: the largest).
    source_face: Option<u32>,
}

#[utoipa::path(
    post, path = "/v1/sources", tag = "live",
    request_body(content = SourceForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Analysed and kept; Location names it", body = SourceView),
        (status = 415, description = "Not a picture", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No face (or not that one)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Every worker busy", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn add_source(
    State(state): State<Arc<AppState>>,
    mut multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, Problem> {
    let _slot = admit(&state, &mut multipart, Admission::Picture).await?;
    let limit = state.picture_upload_limit();
    let mut form = read_form(multipart.map_err(rejection)?, &SOURCE_FIELDS, limit, || state.files.incoming()).await?;
    let source = form.picture("source")?;
    let source_face = form.parsed::<usize>("source_face", "a face number from 0")?;
    let key = SourceCache::key(&source, source_face);
    if state.sources.get(&key).is_none() {
        let sources = state.sources.clone();
        state
            .pool()?
            .run(move |worker, engine| sources.face_of(&source, source_face, worker, engine).map(drop))
            .await?;
    }
    let id = hex::encode(key);
    let location = HeaderValue::from_str(&format!("/v1/sources/{id}")).map_err(|e| Problem::internal(&e))?;
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(SourceView { id })).into_response())
}

/// The source kept under `id` by `POST /v1/sources`.
///
/// # Errors
/// 404 for an id that names none (never one, or expired).
pub fn kept_source(state: &AppState, id: &str) -> Result<Arc<crate::swap::SourceFace>, Problem> {
    kept_source_with_picture(state, id).map(|(face, _)| face)
}

/// [`kept_source`] and the picture it was taken from.
///
/// # Errors
/// See [`kept_source`].
pub fn kept_source_with_picture(
    state: &AppState,
    id: &str,
) -> Result<(Arc<crate::swap::SourceFace>, axum::body::Bytes), Problem> {
    hex::decode(id.trim())
        .ok()
        .and_then(|k| <[u8; 32]>::try_from(k).ok())
        .and_then(|key| state.sources.get_with_picture(&key))
        .ok_or_else(|| {
            Problem::new(
                StatusCode::NOT_FOUND,
                ProblemType::Error(ErrorKind::NotFound),
                "no such source: post the picture to /v1/sources (kept sources expire)",
            )
        })
}

/// What `POST /v1/live` takes besides the offer.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LiveQuery {
    /// A source's id from `POST /v1/sources`.
    source: String,
    /// Swap every face (default: the largest).
    all_faces: Option<bool>,
    /// Lay the target's own mouth back over the swapped face.
    mouth_mask: Option<bool>,
    /// `landmark` or `inswapper` (default: the server's).
    #[param(value_type = Option<String>)]
    swapper: Option<SwapperKind>,
    /// Inswapper at a larger aligned crop in 128-pixel tiles (256, 384, 512, 768, 1024).
    pixel_boost: Option<u32>,
    /// A face enhancer after the swap, as a stage of its own (`gfpgan_1.4`, `gpen_bfr_256`,
    /// `gpen_bfr_512`, `codeformer`, or `none` against the server's default), at FaceFusion's
    /// defaults.
    enhancer: Option<String>,
    /// Masks around the swap: `box` (always), `occlusion`, `region`, comma-separated.
    mask: Option<String>,
    /// The regions the region mask keeps (`skin,nose,…`; default all).
    mask_regions: Option<String>,
}

fn live_problem(error: LiveError) -> Problem {
    match error {
        LiveError::Engine(e) => e.into(),
        // The parser's own words name memory addresses and span lines: they go to the log.
        LiveError::Offer { ref source } => {
            tracing::debug!(error = %source, "an offer was refused");
            Problem::bad_request(error.to_string())
        }
        LiveError::NoCodec => Problem::bad_request(error.to_string()),
        LiveError::Full { .. } => {
            Problem::new(StatusCode::SERVICE_UNAVAILABLE, ProblemType::Error(ErrorKind::Busy), error.to_string())
                .retry_after(10)
        }
        other => {
            let kind = other.kind();
            let text = crate::error_text::with_causes(&other);
            if kind == ErrorKind::Internal {
                return Problem::internal(&text);
            }
            Problem::new(Problem::status_of(kind), ProblemType::Error(kind), text)
        }
    }
}

fn session_id(text: &str) -> Result<SessionId, Problem> {
    text.parse::<SessionId>().map_err(|_| no_session(text))
}

fn no_session(text: &str) -> Problem {
    Problem::new(StatusCode::NOT_FOUND, ProblemType::Error(ErrorKind::NotFound), format!("no live session {text}"))
}

#[utoipa::path(
    post, path = "/v1/live", tag = "live", params(LiveQuery),
    request_body(content = String, content_type = "application/sdp", description = "The browser's SDP offer (sendrecv video, VP8 or H.264)"),
    responses(
        (status = 201, description = "The SDP answer; Location names the session", content_type = "application/sdp"),
        (status = 400, description = "Not an offer this server can answer", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such source (kept ones expire): post it again", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not application/sdp", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Every live session slot is taken: Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn start(
    State(state): State<Arc<AppState>>,
    Extension(LocalAddr(local)): Extension<LocalAddr>,
    query: Result<Query<LiveQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    let Query(query) = query.map_err(|e| Problem::bad_request(e.body_text()))?;
    let swapper = query.swapper.unwrap_or(state.engine.config().swapper);
    let pixel_boost = super::processors::checked_pixel_boost(query.pixel_boost, swapper, state.config.pixel_boost)?;
    let masks = match (query.mask.as_deref(), query.mask_regions.as_deref()) {
        (None, None) => state.config.masks,
        (kinds, regions) => crate::mask::MaskSettings::parse(kinds, regions).map_err(Problem::bad_request)?,
    };
    let enhancer = match query.enhancer.as_deref().map(str::parse::<EnhancerChoice>) {
        None => state.config.enhancer,
        Some(Ok(EnhancerChoice::Off)) => None,
        Some(Ok(EnhancerChoice::Kind(kind))) => Some(EnhanceSettings::new(kind)),
        Some(Err(e)) => return Err(Problem::bad_request(e)),
    };
    let sdp = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("application/sdp")));
    if !sdp {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ProblemType::Error(ErrorKind::UnsupportedFormat),
            "send the offer as Content-Type: application/sdp",
        ));
    }
    let source = kept_source(&state, &query.source)?;
    // The slot first: a full server refuses before any media is set up.
    let id = state.live.reserve().map_err(live_problem)?;
    let offer = match axum::body::to_bytes(body, MAX_OFFER_BYTES).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(_) => {
            state.live.release(id);
            return Err(Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                ProblemType::Error(ErrorKind::TooLarge),
                format!("the offer is over {MAX_OFFER_BYTES} bytes"),
            ));
        }
    };
    let Some(advertised) = state.config.public_ip.or(local.map(|a| a.ip())) else {
        state.live.release(id);
        return Err(Problem::internal(
            &"the server's own address on this connection is unknown: start it with --public-ip",
        ));
    };
    let net = SessionNet { advertised, ports: state.config.live_udp_ports };
    let swap = VideoSwap {
        sources: source.into(),
        selection: FaceSelection::Largest,
        swapper,
        pixel_boost,
        enhancer,
        masks,
        tracker: TrackerConfig { detect_every: crate::live::DETECT_EVERY, ..TrackerConfig::default() },
    };
    let media = SessionMedia {
        swap,
        mouth_mask: query.mouth_mask.unwrap_or(false),
        all_faces: query.all_faces.unwrap_or(false),
        max_pixels: state.engine.limits().max_pixels,
        bitrate: BITRATE,
    };
    let (live, engine) = (state.live.clone(), state.engine.clone());
    let answer = match tokio::task::spawn_blocking(move || live.start(id, &engine, &offer, &net, media)).await {
        Ok(started) => started.map_err(live_problem)?,
        Err(e) => {
            state.live.release(id);
            return Err(Problem::internal(&e));
        }
    };
    tracing::info!(session = %id, "live session started");
    let location = HeaderValue::from_str(&format!("/v1/live/{id}")).map_err(|e| Problem::internal(&e))?;
    Ok((
        StatusCode::CREATED,
        [(header::CONTENT_TYPE, HeaderValue::from_static("application/sdp")), (header::LOCATION, location)],
        answer,
    )
        .into_response())
}

/// `GET /v1/live`: every session's figures.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LiveList {
    pub max: usize,
    pub sessions: Vec<LiveStats>,
}

#[utoipa::path(get, path = "/v1/live", tag = "live", responses((status = 200, description = "The sessions", body = LiveList)))]
pub async fn list(State(state): State<Arc<AppState>>) -> Json<LiveList> {
    Json(LiveList { max: state.live.max(), sessions: state.live.all_stats() })
}

#[utoipa::path(get, path = "/v1/live/{id}", tag = "live", params(("id" = String, Path, description = "The session's id")),
    responses((status = 200, description = "Its figures", body = LiveStats),
              (status = 404, description = "No such session", body = Problem, content_type = "application/problem+json")))]
pub async fn get(State(state): State<Arc<AppState>>, UrlPath(id): UrlPath<String>) -> Result<Json<LiveStats>, Problem> {
    state.live.stats(session_id(&id)?).map(Json).ok_or_else(|| no_session(&id))
}

#[utoipa::path(patch, path = "/v1/live/{id}", tag = "live", params(("id" = String, Path, description = "The session's id")),
    request_body = LiveControls,
    responses((status = 200, description = "Its figures after the change", body = LiveStats),
              (status = 404, description = "No such session", body = Problem, content_type = "application/problem+json")))]
pub async fn control(
    State(state): State<Arc<AppState>>,
    UrlPath(id): UrlPath<String>,
    change: Result<Json<LiveControls>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<LiveStats>, Problem> {
    let Json(change) = change.map_err(|e| Problem::bad_request(e.body_text()))?;
    state.live.control(session_id(&id)?, change).map(Json).ok_or_else(|| no_session(&id))
}

#[utoipa::path(delete, path = "/v1/live/{id}", tag = "live", params(("id" = String, Path, description = "The session's id")),
    responses((status = 200, description = "Ended; its slot is free within a second"),
              (status = 404, description = "No such session", body = Problem, content_type = "application/problem+json")))]
pub async fn stop(State(state): State<Arc<AppState>>, UrlPath(id): UrlPath<String>) -> Result<StatusCode, Problem> {
    if state.live.stop(session_id(&id)?) {
        Ok(StatusCode::OK)
    } else {
        Err(no_session(&id))
    }
}
