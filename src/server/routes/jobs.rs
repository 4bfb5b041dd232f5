//! Video jobs: `POST /v1/jobs` (upload, checked, queued durably: 202), `GET /v1/jobs`,
//! `GET /v1/jobs/{id}` (status and progress), `GET /v1/jobs/{id}/result` (the video, Range
//! honoured), `DELETE /v1/jobs/{id}` (cancel and remove).

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, UNIX_EPOCH},
};

use axum::{
    extract::{multipart::MultipartRejection, Multipart, Path as UrlPath, Query, Request, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use tempfile::TempPath;

use super::{
    super::{
        problem::Problem,
        upload::{read_form, rejection, FieldKind},
        AppState,
    },
    pictures::{check_source, mouth_mask, swapper_kind, target_faces, TargetFaces},
};
use crate::{
    face::FaceSelection,
    jobs::{JobError, JobFiles, JobId, JobRecord, JobRequest, JobStatus, NewTask, TargetChoice, TaskKind, TaskSpec},
    storage::StorageError,
    transcode::{container_for, encoder_settings, plan_parts, PartPlan, Progress, TranscodeOptions},
    video::probe,
    Error,
};

/// The form of `POST /v1/jobs`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct JobForm {
    /// The picture whose face is put on.
    #[schema(value_type = String, format = Binary)]
    source: Vec<u8>,
    /// Which face of the source to use (default: the largest).
    source_face: Option<u32>,
    /// The video (any container and codec ffmpeg reads).
    #[schema(value_type = String, format = Binary)]
    input: Vec<u8>,
    /// Replace face N in every frame (default: the largest face).
    face: Option<u32>,
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
    pub status: String,
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
    pub error_kind: Option<String>,
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
    pub status: String,
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
        status: job.status.as_str().to_string(),
        created_at: rfc3339(job.created_at),
        updated_at: rfc3339(job.updated_at),
        attempts: job.attempts,
        input_name: job.request.input_name.clone(),
        progress,
        error: job.error.clone(),
        error_kind: job.error_kind.clone(),
        links: JobLinks { this: format!("/v1/jobs/{id}"), result: format!("/v1/jobs/{id}/result") },
        id,
    }
}

const JOB_FIELDS: [(&str, FieldKind); 13] = [
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

/// The extension of a picture's format, from its bytes.
fn picture_extension(bytes: &[u8]) -> &'static str {
    match image::guess_format(bytes) {
        Ok(image::ImageFormat::Jpeg) => "jpg",
        _ => "png",
    }
}

/// A file name's extension, lower case and plain (letters and digits only), or `fallback`.
fn plain_extension<'a>(name: Option<&'a str>, fallback: &'a str) -> String {
    name.and_then(|n| Path::new(n).extension())
        .and_then(|e| e.to_str())
        .filter(|e| !e.is_empty() && e.len() <= 8 && e.chars().all(|c| c.is_ascii_alphanumeric()))
        .map_or_else(|| fallback.to_string(), str::to_ascii_lowercase)
}

/// Why a video could not be read, without the server's file names.
fn video_reason(error: &crate::video::VideoError) -> String {
    use crate::video::VideoError;
    match error {
        VideoError::Open { reason, .. } | VideoError::Decode { reason, .. } => reason.clone(),
        VideoError::NoVideoStream { .. } => "it has no video stream".into(),
        VideoError::Missing { .. } => "it is empty".into(),
        _ => "it could not be opened".into(),
    }
}

/// Writes `bytes` to a new incoming file, synced.
fn store_picture(path: PathBuf, bytes: &Bytes) -> Result<TempPath, Problem> {
    use std::io::Write;
    let path = TempPath::try_from_path(&path).map_err(|source| Problem::from(JobError::Files { path, source }))?;
    let written = std::fs::File::create(&path).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()
    });
    written.map_err(|source| Problem::from(JobError::Files { path: path.to_path_buf(), source }))?;
    Ok(path)
}

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
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, Problem> {
    let limit = state.picture_upload_limit();
    let mut form = read_form(multipart.map_err(rejection)?, &JOB_FIELDS, limit, || state.files.incoming()).await?;
    let source = form.picture("source")?;
    let source_face = form.parsed::<usize>("source_face", "a face number from 0")?;
    let input = form.video("input")?;
    let faces = target_faces(&mut form)?;
    let swapper = swapper_kind(&form, state.engine.config().swapper)?;
    let codec = form.parsed::<String>("codec", "a codec name")?;
    let crf = form.parsed::<u32>("crf", "a whole number")?;
    let input_extension = plain_extension(input.file_name.as_deref(), "mp4");
    let output_extension = match form.parsed::<String>("container", "mp4, mkv, mov or webm")? {
        Some(container) => container.to_ascii_lowercase(),
        None if container_for(Path::new(&format!("x.{input_extension}"))).is_ok() => input_extension.clone(),
        None => "mp4".to_string(),
    };
    let mouth_mask = mouth_mask(&form)?;
    let options = TranscodeOptions { codec, crf, swapper, mouth_mask, ..TranscodeOptions::default() };

    // Everything is checked before the job is accepted: a job that cannot run is refused now.
    let depth = state.store.depth().await?;
    if depth.jobs.queued >= state.config.max_queued_jobs {
        return Err(JobError::QueueFull { queued: depth.jobs.queued }.into());
    }
    let video = input.path.to_path_buf();
    let (encoder_options, output_for_check) = (options.clone(), format!("result.{output_extension}"));
    let part_seconds = state.config.part_seconds;
    // The cuts are planned here, from the packet index, while the upload is on this machine.
    let plan = tokio::task::spawn_blocking(move || -> crate::Result<PartPlan> {
        let container = container_for(Path::new(&output_for_check))?;
        encoder_settings(container, encoder_options.codec.as_deref(), encoder_options.crf, &encoder_options.preset, 1)?;
        probe(&video)?;
        Ok(plan_parts(&video, part_seconds)?)
    })
    .await
    .map_err(|e| Problem::internal(&e))?
    .map_err(|e| match e {
        // The input is a temporary file: name the field, not the server's path.
        Error::Video(v) => Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_format",
            format!("field \"input\" is not a video this server reads ({})", video_reason(&v)),
        ),
        other => other.into(),
    })?;
    check_source(&state, source.clone(), "source", source_face).await?;
    let (target, reference) = match faces {
        TargetFaces::Fixed(FaceSelection::Index(n)) => (TargetChoice::Index(n), None),
        TargetFaces::Fixed(FaceSelection::All) => (TargetChoice::All, None),
        TargetFaces::Fixed(_) => (TargetChoice::Largest, None),
        TargetFaces::LikeReference(bytes) => {
            check_source(&state, bytes.clone(), "reference", None).await?;
            (TargetChoice::Reference, Some(bytes))
        }
    };

    let id = JobId::new();
    let request = JobRequest {
        source_extension: picture_extension(&source).to_string(),
        source_face,
        input_extension,
        input_name: input.file_name.clone().unwrap_or_else(|| "input".into()).chars().take(200).collect(),
        reference_extension: reference.as_ref().map(|b| picture_extension(b).to_string()),
        target,
        output_extension,
        options,
    };
    let (new_source, new_reference) = (state.files.incoming(), state.files.incoming());
    let (source_file, reference_file) = tokio::task::spawn_blocking(move || -> Result<_, Problem> {
        let source_file = store_picture(new_source, &source)?;
        let reference_file = reference.as_ref().map(|b| store_picture(new_reference, b)).transpose()?;
        Ok((source_file, reference_file))
    })
    .await
    .map_err(|e| Problem::internal(&e))??;
    let mut uploads = vec![
        (source_file.to_path_buf(), JobFiles::source(id, &request)),
        (input.path.to_path_buf(), JobFiles::input(id, &request)),
    ];
    if let (Some(file), Some(key)) = (&reference_file, JobFiles::reference(id, &request)) {
        uploads.push((file.to_path_buf(), key));
    }
    // Stored (moved, or sent and removed): the temporary names are gone either way.
    state.files.adopt(id, &uploads).await?;
    let tasks = if plan.parts.len() > 1 {
        let parts =
            plan.parts.iter().map(|part| NewTask { kind: TaskKind::Part, spec: TaskSpec { part: Some(*part) } });
        parts.chain([NewTask { kind: TaskKind::Assemble, spec: TaskSpec::default() }]).collect()
    } else {
        vec![NewTask { kind: TaskKind::Whole, spec: TaskSpec::default() }]
    };
    if let Err(e) = state.store.insert(id, &request, Some(plan.frames), &tasks).await {
        let _ = state.files.remove(id).await;
        return Err(e.into());
    }
    if let Some(runner) = &state.runner {
        runner.wake();
    }
    tracing::info!(job = %id, parts = plan.parts.len(), frames = plan.frames, "job queued");
    let job = state.store.get(id).await?;
    let location = HeaderValue::from_str(&format!("/v1/jobs/{id}")).map_err(|e| Problem::internal(&e))?;
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
    let range = match asked.map(|text| http_range_header::parse_range_header(text).and_then(|r| r.validate(info.size)))
    {
        // One range is served as asked; several (rare for video) get the whole file.
        Some(Ok(ranges)) if ranges.len() == 1 => ranges.first().map(|r| *r.start()..*r.end() + 1),
        Some(Err(_)) => {
            let mut response = Problem::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "range_not_satisfiable",
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
    Ok(Json(Removed { id: id.to_string(), status: status.as_str().to_string(), removed: true }))
}
