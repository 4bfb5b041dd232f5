//! faceswap studio, the web app at `GET /`: plain HTML, CSS and ES modules carried inside the
//! binary (nothing is built at setup, nothing fetched from another host at run time), served
//! with an ETag so a browser revalidates instead of fetching again, and a
//! Content-Security-Policy that lets the page load only what this server serves.

use axum::{
    extract::Path as UrlPath,
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use rust_embed::RustEmbed;

use super::problem::{Problem, ProblemType};

/// The files of `web/studio`, in the binary.
#[derive(RustEmbed)]
#[folder = "web/studio"]
struct Assets;

/// Only this server's own scripts, styles and answers; pictures and videos also from the
/// `blob:` URLs the page makes of results; no frames, no plugins, no inline code.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; \
media-src 'self' blob:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// `GET /`: the studio's page.
pub async fn page(headers: HeaderMap) -> Response {
    asset("index.html", &headers)
}

/// `GET /studio/{path}`: its styles, scripts and icon.
pub async fn file(UrlPath(path): UrlPath<String>, headers: HeaderMap) -> Response {
    asset(&path, &headers)
}

fn asset(path: &str, headers: &HeaderMap) -> Response {
    let Some(file) = Assets::get(path) else {
        return Problem::new(StatusCode::NOT_FOUND, ProblemType::NoRoute, "the studio has no such file")
            .into_response();
    };
    // The content's own hash: the same file in another build keeps its tag.
    let tag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..12]));
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim().trim_start_matches("W/") == tag || t.trim() == "*"));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        // The embedded bytes are 'static: served without a copy.
        let body = match file.data {
            std::borrow::Cow::Borrowed(bytes) => axum::body::Body::from(bytes),
            std::borrow::Cow::Owned(bytes) => axum::body::Body::from(bytes),
        };
        let mut response = body.into_response();
        if let Ok(kind) = HeaderValue::from_str(file.metadata.mimetype()) {
            response.headers_mut().insert(header::CONTENT_TYPE, kind);
        }
        response
    };
    let set = response.headers_mut();
    if let Ok(tag) = HeaderValue::from_str(&tag) {
        set.insert(header::ETAG, tag);
    }
    // Kept, but asked about each time: a new binary's page is seen at once.
    set.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    set.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY));
    set.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    set.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    set.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}
