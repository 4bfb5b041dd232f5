//! Video jobs: `POST /v1/jobs` (upload, checked, queued durably: 202), `GET /v1/jobs`,
//! `GET /v1/jobs/{id}` (status and progress), `GET /v1/jobs/{id}/result` (the video, Range
//! honoured), `DELETE /v1/jobs/{id}` (cancel and remove).

use std::{
    path::Path,
    sync::Arc,
    time::{Duration, UNIX_EPOCH},
};

use axum::{
    extract::{multipart::MultipartRejection, Multipart, Path as UrlPath, Query, Request, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde::{Deserialize, Serialize};

use super::{
    super::{
        problem::{Problem, ProblemType},
        upload::{admit, read_form, rejection, Admission, FieldKind},
        AppState,
    },
    pictures::{mouth_mask, source_field, swapper_kind, target_faces, SourceField},
    processors,
};
use crate::{
    jobs::{JobError, JobFiles, JobId, JobIntake, JobRecord, JobStatus, JobSubmission},
    storage::StorageError,
    transcode::{Progress, TranscodeOptions},
};

/// The form of `POST /v1/jobs`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct JobForm {
    /// The picture whose face is put on; or `source_id`.
    #[schema(value_type = Option<String>, format = Binary)]
    source: Option<Vec<u8>>,
    /// A source kept by `POST /v1/sources`, instead of `source`.
    source_id: Option<String>,
    /// Which face of the source to use (default: the largest). Not with `source_id`.
    source_face: Option<u32>,
    /// The video (any container and codec ffmpeg reads).
    #[schema(value_type = String, format = Binary)]
    input: Vec<u8>,
    /// Replace face N in every frame, or several (`0,2`; default: the largest face).
    face: Option<String>,
    /// Replace every face.
    all_faces: Option<bool>,
    /// Replace the face most like the one in this picture.
    #[schema(value_type = Option<String>, format = Binary)]
    reference: Option<Vec<u8>>,
    /// h264, h265, vp9, av1 (default: the container's own).
    codec: Option<String>,
    /// Quality: 0–51 for h264/h265, 0–63 for vp9/av1.
    crf: Option<u32>,
    /// mp4, mkv, mov or webm (default: the input's when it is one of these, else mp4).
    container: Option<String>,
    /// `landmark` or `inswapper` (default: the server's).
    swapper: Option<String>,
    /// Lay the speaker's own inner mouth back over every swapped face.
    mouth_mask: Option<bool>,
    mouth_mask_size: Option<f32>,
    mouth_mask_feather: Option<f32>,
    /// Inswapper at a larger aligned crop in 128-pixel tiles: 256, 384, 512, 768 or 1024.
    pixel_boost: Option<u32>,
    /// A face enhancer after the swap: `gfpgan_1.4`, `gpen_bfr_256`, `gpen_bfr_512` or `codeformer`.
    enhancer: Option<String>,
    enhancer_blend: Option<u8>,
    enhancer_weight: Option<f64>,
    /// Masks around the swap: `box` (always), `occlusion`, `region`, comma-separated.
    mask: Option<String>,
    mask_regions: Option<String>,
}

/// Links to a job's routes.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JobLinks {
    #[serde(rename = "self")]
    pub this: String,
    pub result: String,
}

/// A job as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JobView {
    pub id: String,
    /// queued, running, succeeded, failed or cancelled.
    #[schema(value_type = String)]
    pub status: JobStatus,
    /// RFC 3339.
    pub created_at: String,
    pub updated_at: String,
    pub attempts: i64,
    pub input_name: String,
    pub progress: Progress,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub error_kind: Option<crate::error_kind::ErrorKind>,
    pub links: JobLinks,
}

/// `GET /v1/jobs`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JobList {
    pub jobs: Vec<JobView>,
}

/// What `DELETE` did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Removed {
    pub id: String,
    /// `cancelled` when it had not finished, else how it had ended.
    #[schema(value_type = String)]
    pub status: JobStatus,
    pub removed: bool,
}

fn rfc3339(ms: i64) -> String {
    let at = UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    humantime::format_rfc3339_millis(at).to_string()
}

fn view(job: &JobRecord, live: Option<Progress>) -> JobView {
    let id = job.id.to_string();
    let mut progress = live.unwrap_or(job.progress);
    if progress.eta_s.is_none() && job.status == JobStatus::Running && progress.fps > 0.0 {
        progress.eta_s = progress.frames_total.map(|t| t.saturating_sub(progress.frames_done) as f64 / progress.fps);
    }
    JobView {
        status: job.status,
        created_at: rfc3339(job.created_at),
        updated_at: rfc3339(job.updated_at),
        attempts: job.attempts,
        input_name: job.request.input_name.clone(),
        progress,
        error: job.error.clone(),
        error_kind: job.error_kind,
        links: JobLinks { this: format!("/v1/jobs/{id}"), result: format!("/v1/jobs/{id}/result") },
        id,
    }
}

const JOB_FIELDS: [(&str, FieldKind); 20] = [
    ("source_id", FieldKind::Text),
    (processors::FIELDS[4], FieldKind::Text),
    (processors::FIELDS[5], FieldKind::Text),
    (processors::FIELDS[0], FieldKind::Text),
    (processors::FIELDS[1], FieldKind::Text),
    (processors::FIELDS[2], FieldKind::Text),
    (processors::FIELDS[3], FieldKind::Text),
    ("mouth_mask", FieldKind::Text),
    ("mouth_mask_size", FieldKind::Text),
    ("mouth_mask_feather", FieldKind::Text),
    ("source", FieldKind::Picture),
    ("source_face", FieldKind::Text),
    ("input", FieldKind::Video),
    ("face", FieldKind::Text),
    ("all_faces", FieldKind::Text),
    ("reference", FieldKind::Picture),
    ("codec", FieldKind::Text),
    ("crf", FieldKind::Text),
    ("container", FieldKind::Text),
    ("swapper", FieldKind::Text),
];

#[utoipa::path(
    post, path = "/v1/jobs", tag = "jobs",
    request_body(content = JobForm, content_type = "multipart/form-data"),
    responses(
        (status = 202, description = "Queued; Location names the job", body = JobView),
        (status = 400, description = "A missing, repeated or unknown field, or a bad option", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Over the upload limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not a picture or not a video, or a codec the container cannot hold", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No face in the source or reference", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The job queue is full", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn submit(
    State(state): State<Arc<AppState>>,
    mut multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, Problem> {
    let _slot = admit(&state, &mut multipart, Admission::Upload).await?;
    let limit = state.picture_upload_limit();
    let mut form = read_form(multipart.map_err(rejection)?, &JOB_FIELDS, limit, || state.files.incoming()).await?;
    // A kept source goes into the job as its picture (the job may run on another machine) and
    // the face it was, so the job analyses exactly that face again.
    let (source, source_face) = match source_field(&mut form, &state)? {
        SourceField::Picture(bytes, face) => (bytes, face),
        SourceField::Kept(kept, picture) => (picture, Some(kept.index())),
    };
    let input = form.video("input")?;
    let faces = target_faces(&mut form)?;
    let swapper = swapper_kind(&form, state.engine.config().swapper)?;
    let codec = form.parsed::<String>("codec", "a codec name")?;
    let crf = form.parsed::<u32>("crf", "a whole number")?;
    let container = form.parsed::<String>("container", "mp4, mkv, mov or webm")?;
    let mouth_mask = mouth_mask(&form)?;
    let submission = JobSubmission {
        source,
        source_face,
        input: input.path.to_path_buf(),
        input_name: input.file_name.clone(),
        faces,
        container,
        options: TranscodeOptions {
            codec,
            crf,
            swapper,
            mouth_mask,
            pixel_boost: processors::pixel_boost(&form, swapper, state.config.pixel_boost)?,
            enhancer: processors::enhancer(&form, state.config.enhancer)?,
            masks: processors::masks(&form, state.config.masks)?,
            ..TranscodeOptions::default()
        },
    };
    let intake = JobIntake {
        engine: &state.engine,
        pool: state.pool()?,
        store: &state.store,
        files: &state.files,
        limits: &state.config.job_limits(),
    };
    let job = intake.submit(submission).await?;
    // The upload was stored under the job; what is left of the temporary name is nothing.
    drop(input);
    if let Some(runner) = &state.runner {
        runner.wake();
    }
    let location = HeaderValue::from_str(&format!("/v1/jobs/{}", job.id)).map_err(|e| Problem::internal(&e))?;
    Ok((StatusCode::ACCEPTED, [(header::LOCATION, location)], Json(view(&job, None))).into_response())
}

/// `GET /v1/jobs` filters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// Only jobs in this state.
    status: Option<String>,
    /// At most this many, newest first (default 100, at most 1000).
    limit: Option<u32>,
}

#[utoipa::path(
    get, path = "/v1/jobs", tag = "jobs", params(ListQuery),
    responses((status = 200, description = "The newest jobs first", body = JobList),
              (status = 400, description = "An unknown status", body = Problem, content_type = "application/problem+json"))
)]
pub async fn list(
    State(state): State<Arc<AppState>>,
    Query(query): Query<ListQuery>,
) -> Result<Json<JobList>, Problem> {
    let status = query.status.as_deref().map(str::parse::<JobStatus>).transpose().map_err(Problem::bad_request)?;
    let jobs = state.store.list(status, query.limit.unwrap_or(100).min(1000)).await?;
    let live = |id| state.runner.as_ref().and_then(|r| r.progress(id));
    Ok(Json(JobList { jobs: jobs.iter().map(|j| view(j, live(j.id))).collect() }))
}

fn job_id(text: &str) -> Result<JobId, Problem> {
    Ok(text.parse::<JobId>()?)
}

#[utoipa::path(
    get, path = "/v1/jobs/{id}", tag = "jobs", params(("id" = String, Path, description = "The job's id")),
    responses((status = 200, description = "The job", body = JobView),
              (status = 404, description = "No such job", body = Problem, content_type = "application/problem+json"))
)]
pub async fn get(State(state): State<Arc<AppState>>, UrlPath(id): UrlPath<String>) -> Result<Json<JobView>, Problem> {
    let id = job_id(&id)?;
    let job = state.store.get(id).await?;
    Ok(Json(view(&job, state.runner.as_ref().and_then(|r| r.progress(id)))))
}

#[utoipa::path(
    get, path = "/v1/jobs/{id}/result", tag = "jobs", params(("id" = String, Path, description = "The job's id")),
    responses((status = 200, description = "The swapped video", content_type = "video/mp4"),
              (status = 206, description = "The part asked for with Range"),
              (status = 404, description = "No such job", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "The job has not succeeded (yet)", body = Problem, content_type = "application/problem+json"))
)]
pub async fn result(
    State(state): State<Arc<AppState>>,
    UrlPath(id): UrlPath<String>,
    request: Request,
) -> Result<Response, Problem> {
    let id = job_id(&id)?;
    let job = state.store.get(id).await?;
    if job.status != JobStatus::Succeeded {
        return Err(JobError::NotReady { id: id.to_string(), status: job.status.as_str() }.into());
    }
    let key = JobFiles::result(id, &job.request);
    let storage = state.files.storage();
    // Removed by the retention sweep between the lookup and now: gone.
    let gone = || Problem::from(JobError::NotFound { id: id.to_string() });
    let info = storage.info(&key).await.map_err(JobError::from)?.ok_or_else(gone)?;
    let asked = request.headers().get(header::RANGE).and_then(|v| v.to_str().ok());
    // A Range header that does not parse is ignored (RFC 9110 §14.2); one that parses but
    // lies outside the file is answered 416.
    let parsed = asked.and_then(|text| http_range_header::parse_range_header(text).ok());
    let range = match parsed.map(|r| r.validate(info.size)) {
        // One range is served as asked; several (rare for video) get the whole file.
        Some(Ok(ranges)) if ranges.len() == 1 => ranges.first().map(|r| *r.start()..*r.end() + 1),
        Some(Err(_)) => {
            let mut response = Problem::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                ProblemType::RangeNotSatisfiable,
                format!("the result is {} bytes: ask for a range inside it", info.size),
            )
            .into_response();
            if let Ok(value) = HeaderValue::from_str(&format!("bytes */{}", info.size)) {
                response.headers_mut().insert(header::CONTENT_RANGE, value);
            }
            return Ok(response);
        }
        _ => None,
    };
    let download = match storage.download(&key, range.clone()).await {
        Ok(download) => download,
        Err(StorageError::NotFound { .. }) => return Err(gone()),
        Err(e) => return Err(JobError::from(e).into()),
    };
    let mut response = Response::new(axum::body::Body::from_stream(download.body));
    let headers = response.headers_mut();
    let length = download.range.end - download.range.start;
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(video_type(&job.request.output_extension)));
    if let Ok(value) = HeaderValue::from_str(&http_date(info.modified_ms)) {
        headers.insert(header::LAST_MODIFIED, value);
    }
    if range.is_some() {
        *response.status_mut() = StatusCode::PARTIAL_CONTENT;
        let (start, end) = (download.range.start, download.range.end.saturating_sub(1));
        if let Ok(value) = HeaderValue::from_str(&format!("bytes {start}-{end}/{}", info.size)) {
            response.headers_mut().insert(header::CONTENT_RANGE, value);
        }
    }
    let stem = Path::new(&job.request.input_name).file_stem().and_then(|s| s.to_str()).unwrap_or("video");
    let stem: String = stem.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')).collect();
    let name = format!("{}-swapped.{}", if stem.is_empty() { "video" } else { &stem }, job.request.output_extension);
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        response.headers_mut().insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

#[utoipa::path(
    get, path = "/v1/jobs/{id}/manifest", tag = "jobs", params(("id" = String, Path, description = "The job's id")),
    responses((status = 200, description = "A WebM or MKV result's signed C2PA manifest (its sidecar)", content_type = "application/c2pa"),
              (status = 404, description = "No such job, or a result that holds its manifest itself (MP4, MOV)", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "The job has not succeeded (yet)", body = Problem, content_type = "application/problem+json"))
)]
pub async fn manifest(State(state): State<Arc<AppState>>, UrlPath(id): UrlPath<String>) -> Result<Response, Problem> {
    let id = job_id(&id)?;
    let job = state.store.get(id).await?;
    if job.status != JobStatus::Succeeded {
        return Err(JobError::NotReady { id: id.to_string(), status: job.status.as_str() }.into());
    }
    // A manifest is a few kilobytes; a megabyte is far past any this program writes.
    match state.files.storage().get_bytes(&JobFiles::manifest(id), 1 << 20).await {
        Ok(bytes) => Ok(([(header::CONTENT_TYPE, HeaderValue::from_static("application/c2pa"))], bytes).into_response()),
        Err(StorageError::NotFound { .. }) => Err(Problem::new(
            StatusCode::NOT_FOUND,
            ProblemType::Error(crate::error_kind::ErrorKind::NotFound),
            format!(
                "job {id}'s result has no separate manifest: a {} result holds its own (or it was made with --provenance without c2pa)",
                job.request.output_extension
            ),
        )),
        Err(e) => Err(JobError::from(e).into()),
    }
}

/// The media type of a result container.
fn video_type(extension: &str) -> &'static str {
    match extension {
        "mkv" => "video/x-matroska",
        "mov" => "video/quicktime",
        "webm" => "video/webm",
        _ => "video/mp4",
    }
}

/// Unix milliseconds as an HTTP date.
fn http_date(ms: i64) -> String {
    let at = UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    httpdate::fmt_http_date(at)
}

#[utoipa::path(
    delete, path = "/v1/jobs/{id}", tag = "jobs", params(("id" = String, Path, description = "The job's id")),
    responses((status = 200, description = "Cancelled if it had not finished, and removed with its files", body = Removed),
              (status = 404, description = "No such job", body = Problem, content_type = "application/problem+json"))
)]
pub async fn remove(
    State(state): State<Arc<AppState>>,
    UrlPath(id): UrlPath<String>,
) -> Result<Json<Removed>, Problem> {
    let id = job_id(&id)?;
    // Cancelled first, so no worker claims its tasks; then its files and row go. A task
    // running elsewhere finds out at its next lease renewal and stops.
    let before = state.store.cancel(id).await?;
    if let Some(runner) = &state.runner {
        runner.stop_job(id);
    }
    state.files.remove(id).await?;
    state.store.delete(id).await?;
    let status = if before.is_final() { before } else { JobStatus::Cancelled };
    tracing::info!(job = %id, was = before.as_str(), "job removed");
    Ok(Json(Removed { id: id.to_string(), status, removed: true }))
}
