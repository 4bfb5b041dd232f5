//! API keys: `Authorization: Bearer KEY`, compared in constant time (both sides hashed first,
//! so neither the key's bytes nor its length leak through timing).

use axum::{
    extract::{Request, State},
    http::{header, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::problem::{Problem, ProblemType};

/// The key the service expects, hashed; none: every request is let through.
#[derive(Clone)]
pub struct ApiKey(Option<[u8; 32]>);

impl ApiKey {
    pub fn new(key: Option<&str>) -> Self {
        Self(key.map(|k| Sha256::digest(k.trim().as_bytes()).into()))
    }

    fn admits(&self, presented: Option<&str>) -> bool {
        match (&self.0, presented) {
            (None, _) => true,
            (Some(expected), Some(given)) => {
                let given: [u8; 32] = Sha256::digest(given.as_bytes()).into();
                expected.ct_eq(&given).into()
            }
            (Some(_), None) => false,
        }
    }
}

/// Lets a request through only with the right bearer key.
pub async fn require_key(State(key): State<ApiKey>, request: Request, next: Next) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim);
    if key.admits(presented) {
        return next.run(request).await;
    }
    let presented = presented.is_some();
    super::upload::drain(request.into_body()).await;
    let detail = if presented {
        "the API key is not right"
    } else {
        "this service needs an API key: send it as 'Authorization: Bearer KEY'"
    };
    let mut response = Problem::new(StatusCode::UNAUTHORIZED, ProblemType::Unauthorized, detail).into_response();
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}
