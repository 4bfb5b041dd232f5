//! Every error answer is `application/problem+json` (RFC 9457): a status, a short title, a
//! `detail` saying what was wrong and what to do, and the library's error kind. Never a stack
//! trace: internal faults are logged in full and answered with a request-independent message.

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use serde::Serialize;

use crate::{error_kind::ErrorKind, Error};

/// The media type of problem answers.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// What kind of problem an answer is: a library error's kind, or one the HTTP layer finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemType {
    Error(ErrorKind),
    /// A missing, repeated or unknown field, a value that does not parse, a malformed body.
    BadRequest,
    NotMultipart,
    RequestTimeout,
    RangeNotSatisfiable,
    Unauthorized,
    /// A route this replica's role does not serve.
    WrongRole,
    NoRoute,
    MethodNotAllowed,
    /// An answer a layer made (a time-out, a body limit), named by its status.
    Status(StatusCode),
}

impl ProblemType {
    /// The name in `urn:faceswap:problem:<name>`.
    pub fn name(self) -> String {
        match self {
            Self::Error(kind) => kind.as_str().to_string(),
            Self::BadRequest => "bad_request".into(),
            Self::NotMultipart => "not_multipart".into(),
            Self::RequestTimeout => "request_timeout".into(),
            Self::RangeNotSatisfiable => "range_not_satisfiable".into(),
            Self::Unauthorized => "unauthorized".into(),
            Self::WrongRole => "wrong_role".into(),
            Self::NoRoute => "not_found".into(),
            Self::MethodNotAllowed => "method_not_allowed".into(),
            Self::Status(status) => status.canonical_reason().unwrap_or("error").to_ascii_lowercase().replace(' ', "_"),
        }
    }
}

/// An error answer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// `urn:faceswap:problem:<kind>`.
    #[serde(rename = "type")]
    pub kind_uri: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Seconds to wait before trying again (429, 503).
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

impl Problem {
    /// A problem with `status`, of `kind`, and `detail`.
    pub fn new(status: StatusCode, kind: ProblemType, detail: impl Into<String>) -> Self {
        Self {
            kind_uri: format!("urn:faceswap:problem:{}", kind.name()),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail: detail.into(),
            retry_after: None,
        }
    }

    /// A malformed request: a missing or unknown field, a value that does not parse.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ProblemType::BadRequest, detail)
    }

    /// A fault of the server: logged in full, answered without internals.
    pub fn internal(error: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %error, "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ProblemType::Error(ErrorKind::Internal),
            "the server could not complete the request; the fault is logged",
        )
    }

    /// Asks the client to come back in `seconds`.
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// The status and problem for a library error kind.
    pub fn status_of(kind: ErrorKind) -> StatusCode {
        match kind {
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::UnsupportedFormat => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorKind::InvalidInput | ErrorKind::NoFace => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorKind::Exists | ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::ModelUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::Busy => StatusCode::TOO_MANY_REQUESTS,
            ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<Error> for Problem {
    fn from(error: Error) -> Self {
        let kind = error.kind();
        let status = Self::status_of(kind);
        let text = crate::error_text::with_causes(&error);
        if kind == ErrorKind::Internal {
            return Self::internal(&text);
        }
        // The message names what was wrong; the server's folders are not the client's business.
        let problem = Self::new(status, ProblemType::Error(kind), crate::redact::file_names_only(&text));
        match kind {
            ErrorKind::Busy => problem.retry_after(1),
            ErrorKind::ModelUnavailable => problem.retry_after(5),
            _ => problem,
        }
    }
}

impl From<crate::jobs::JobError> for Problem {
    fn from(error: crate::jobs::JobError) -> Self {
        Error::from(error).into()
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
