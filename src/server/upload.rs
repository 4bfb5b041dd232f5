//! Reading multipart forms: pictures into memory (bounded), videos streamed to disk and synced,
//! short text options; a missing, repeated or unknown field is a clear 400 naming it.

use std::{collections::HashMap, path::PathBuf};

use axum::{
    extract::multipart::{Field, Multipart, MultipartError, MultipartRejection},
    http::StatusCode,
};
use bytes::Bytes;
use tempfile::TempPath;
use tokio::io::AsyncWriteExt;

use super::{
    problem::{Problem, ProblemType},
    AppState,
};
use crate::error_kind::ErrorKind;

/// What a form field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// A picture, read into memory.
    Picture,
    /// A video, streamed to a file.
    Video,
    /// A short option value.
    Text,
}

/// An upload received into a file, removed unless kept.
pub struct UploadedFile {
    pub path: TempPath,
    /// The name the client gave the file, if any.
    pub file_name: Option<String>,
}

/// A parsed form.
#[derive(Default)]
pub struct Form {
    pictures: HashMap<&'static str, Bytes>,
    videos: HashMap<&'static str, UploadedFile>,
    texts: HashMap<&'static str, String>,
}

/// The longest option value accepted.
const MAX_TEXT: usize = 1024;

impl Form {
    /// A picture field, required.
    pub fn picture(&mut self, name: &str) -> Result<Bytes, Problem> {
        self.pictures.remove(name).ok_or_else(|| missing(name))
    }

    /// A picture field, optional.
    pub fn optional_picture(&mut self, name: &str) -> Option<Bytes> {
        self.pictures.remove(name)
    }

    /// A video field, required.
    pub fn video(&mut self, name: &str) -> Result<UploadedFile, Problem> {
        self.videos.remove(name).ok_or_else(|| missing(name))
    }

    /// A text field parsed as `T`, optional.
    pub fn parsed<T: std::str::FromStr>(&self, name: &str, expected: &str) -> Result<Option<T>, Problem> {
        self.texts
            .get(name)
            .map(|v| {
                v.trim()
                    .parse::<T>()
                    .map_err(|_| Problem::bad_request(format!("field {name:?} must be {expected}, not {v:?}")))
            })
            .transpose()
    }

    /// A boolean text field (`true`/`false`, `1`/`0`, `yes`/`no`), false when absent.
    pub fn flag(&self, name: &str) -> Result<bool, Problem> {
        match self.texts.get(name).map(|v| v.trim().to_ascii_lowercase()) {
            None => Ok(false),
            Some(v) if matches!(v.as_str(), "true" | "1" | "yes" | "on") => Ok(true),
            Some(v) if matches!(v.as_str(), "false" | "0" | "no" | "off" | "") => Ok(false),
            Some(v) => Err(Problem::bad_request(format!("field {name:?} must be true or false, not {v:?}"))),
        }
    }
}

fn missing(name: &str) -> Problem {
    Problem::bad_request(format!("the form has no {name:?} field: send it as multipart/form-data"))
}

/// The body was not a multipart form.
pub fn rejection(rejection: MultipartRejection) -> Problem {
    Problem::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ProblemType::NotMultipart,
        format!("send the request as multipart/form-data ({})", rejection.body_text()),
    )
}

fn multipart_problem(error: MultipartError) -> Problem {
    match error.status() {
        StatusCode::PAYLOAD_TOO_LARGE => Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ProblemType::Error(ErrorKind::TooLarge),
            "the request body is over the upload limit",
        ),
        // The body itself failed: the client paused past the read deadline, or sent a body
        // that is not HTTP (a broken chunked encoding), or went away.
        status if status.is_server_error() && timed_out(&error) => Problem::new(
            StatusCode::REQUEST_TIMEOUT,
            ProblemType::RequestTimeout,
            "the request body stopped arriving before it was complete: send it without pausing",
        ),
        status if status.is_server_error() => {
            Problem::bad_request("the request body is malformed (its transfer encoding is broken): send it whole")
        }
        status => Problem::new(
            status,
            ProblemType::BadRequest,
            format!("the multipart body could not be read: {}", error.body_text()),
        ),
    }
}

/// Whether the body failed because it paused past the read deadline.
fn timed_out(error: &MultipartError) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = cause {
        if e.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        cause = e.source();
    }
    false
}

/// The most of a refused request's body read and thrown away before answering.
const DRAIN_LIMIT: usize = 16 << 20;
/// How long a refused request's body is read for.
const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(5);

/// Reads and discards what is left of a body the server refuses (within limits), so that a
/// client still sending it receives the answer instead of a broken pipe.
pub async fn drain(body: axum::body::Body) {
    use http_body_util::BodyExt;
    let mut body = body;
    let mut read = 0usize;
    let reading = async {
        while let Some(Ok(frame)) = body.frame().await {
            read += frame.data_ref().map_or(0, Bytes::len);
            if read > DRAIN_LIMIT {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_TIME, reading).await;
}

/// Reads and discards the rest of a multipart body after a refusal; see [`drain`].
async fn drain_fields(multipart: &mut Multipart) {
    let mut read = 0usize;
    let reading = async {
        while let Ok(Some(mut field)) = multipart.next_field().await {
            while let Ok(Some(chunk)) = field.chunk().await {
                read += chunk.len();
                if read > DRAIN_LIMIT {
                    return;
                }
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_TIME, reading).await;
}

/// Refuses a request whose body is still arriving: what is left of it is read and thrown away
/// (within [`DRAIN_LIMIT`] and [`DRAIN_TIME`], never kept), so that a client still sending
/// receives `problem` instead of a broken pipe.
async fn refuse(multipart: &mut Result<Multipart, MultipartRejection>, problem: Problem) -> Problem {
    if let Ok(multipart) = multipart {
        drain_fields(multipart).await;
    }
    problem
}

/// What a request body needs before a byte of it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// An upload slot.
    Upload,
    /// An upload slot and a place in the picture workers' queue.
    Picture,
}

/// Admits one request body as `needs` says, or answers 429 (after draining what the client is
/// still sending, see [`refuse`]). The slot is held as long as the returned permit lives.
///
/// # Errors
/// The 429 (or the 503 of a replica without picture workers).
pub async fn admit(
    state: &AppState,
    multipart: &mut Result<Multipart, MultipartRejection>,
    needs: Admission,
) -> Result<tokio::sync::OwnedSemaphorePermit, Problem> {
    if needs == Admission::Picture && state.pool()?.is_full() {
        return Err(refuse(multipart, crate::Error::Busy.into()).await);
    }
    match state.upload_slot() {
        Ok(slot) => Ok(slot),
        Err(problem) => Err(refuse(multipart, problem).await),
    }
}

/// Reads `multipart`, accepting the fields of `spec` only: pictures up to `picture_limit`
/// bytes, videos into files made by `new_file`.
///
/// # Errors
/// A [`Problem`] naming the field that is unknown, repeated, unnamed or too large, or saying
/// why the body could not be read.
pub async fn read_form(
    mut multipart: Multipart,
    spec: &[(&'static str, FieldKind)],
    picture_limit: u64,
    new_file: impl Fn() -> PathBuf,
) -> Result<Form, Problem> {
    let outcome = read_fields(&mut multipart, spec, picture_limit, new_file).await;
    if let Err(problem) = &outcome {
        // A refusal about the content (not the body itself): let the client finish sending.
        if !matches!(problem.status, 408 | 413) {
            drain_fields(&mut multipart).await;
        }
    }
    outcome
}

async fn read_fields(
    multipart: &mut Multipart,
    spec: &[(&'static str, FieldKind)],
    picture_limit: u64,
    new_file: impl Fn() -> PathBuf,
) -> Result<Form, Problem> {
    let mut form = Form::default();
    while let Some(field) = multipart.next_field().await.map_err(multipart_problem)? {
        // A name is shown back at most this long: a megabyte of it is not echoed.
        let given: String = field.name().unwrap_or_default().chars().take(64).collect();
        let Some(&(name, kind)) = spec.iter().find(|(n, _)| *n == given) else {
            let known: Vec<&str> = spec.iter().map(|(n, _)| *n).collect();
            return Err(Problem::bad_request(format!(
                "unknown field {given:?}: this route takes {}",
                known.join(", ")
            )));
        };
        let repeated =
            form.pictures.contains_key(name) || form.videos.contains_key(name) || form.texts.contains_key(name);
        if repeated {
            return Err(Problem::bad_request(format!("field {name:?} is given twice")));
        }
        match kind {
            FieldKind::Picture => {
                let bytes = read_bounded(field, name, picture_limit).await?;
                form.pictures.insert(name, bytes);
            }
            FieldKind::Text => {
                let bytes = read_bounded(field, name, MAX_TEXT as u64).await?;
                let text = String::from_utf8(bytes.to_vec())
                    .map_err(|_| Problem::bad_request(format!("field {name:?} is not UTF-8 text")))?;
                form.texts.insert(name, text);
            }
            FieldKind::Video => {
                let file_name = field.file_name().map(String::from);
                let path = TempPath::try_from_path(new_file()).map_err(|e| storage_problem(&e))?;
                stream_to_file(field, &path).await?;
                form.videos.insert(name, UploadedFile { path, file_name });
            }
        }
    }
    Ok(form)
}

async fn read_bounded(mut field: Field<'_>, name: &str, limit: u64) -> Result<Bytes, Problem> {
    let mut buffer = bytes::BytesMut::new();
    while let Some(chunk) = field.chunk().await.map_err(multipart_problem)? {
        if (buffer.len() + chunk.len()) as u64 > limit {
            return Err(Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                ProblemType::Error(ErrorKind::TooLarge),
                format!("field {name:?} is over its limit of {limit} bytes"),
            ));
        }
        buffer.extend_from_slice(&chunk);
    }
    Ok(buffer.freeze())
}

fn storage_problem(error: &std::io::Error) -> Problem {
    Problem::internal(&format!("cannot store an upload: {error}"))
}

async fn stream_to_file(mut field: Field<'_>, path: &std::path::Path) -> Result<(), Problem> {
    let internal = |e: std::io::Error| storage_problem(&e);
    let mut file = tokio::fs::File::create(path).await.map_err(internal)?;
    while let Some(chunk) = field.chunk().await.map_err(multipart_problem)? {
        file.write_all(&chunk).await.map_err(internal)?;
    }
    file.flush().await.map_err(internal)?;
    // On disk before the job is acknowledged: an accepted upload is never lost.
    file.sync_all().await.map_err(internal)?;
    Ok(())
}
