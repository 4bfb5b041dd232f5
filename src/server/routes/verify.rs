//! `POST /v1/verify`: whether an uploaded picture or video is marked as AI-edited, by its C2PA
//! manifest and its watermark, as `faceswap verify --json` reports it.

use std::{io::Read, sync::Arc};

use axum::{
    extract::{multipart::MultipartRejection, Multipart, State},
    Json,
};

use super::super::{
    problem::Problem,
    upload::{admit, read_form, rejection, Admission, FieldKind},
    AppState,
};
use crate::{
    engine::WATERMARK_DECODER,
    models::ModelRole,
    provenance::{verify_as, MediaFormat, ProvenanceError, Verification, WatermarkReader},
};

const VERIFY_FIELDS: [(&str, FieldKind); 2] = [("file", FieldKind::Video), ("manifest", FieldKind::Picture)];

/// The form of `POST /v1/verify`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct VerifyForm {
    /// The picture (JPEG, PNG) or video (MP4, MOV, WebM, MKV) to check.
    #[schema(format = Binary)]
    file: String,
    /// A WebM or MKV video's sidecar manifest (`NAME.c2pa`), when it has one.
    #[schema(format = Binary)]
    manifest: Option<String>,
}

#[utoipa::path(
    post, path = "/v1/verify", tag = "provenance",
    request_body(content = VerifyForm, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "The manifest and the watermark, as `faceswap verify --json` prints them; `ai_edited` says whether either marks it", body = Object),
        (status = 400, description = "A missing, repeated or unknown field", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Over the upload or pixel limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not a picture or video faceswap reads", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A truncated or damaged file", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Every upload slot taken: retry after Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn verify(
    State(state): State<Arc<AppState>>,
    mut multipart: Result<Multipart, MultipartRejection>,
) -> Result<Json<Verification>, Problem> {
    let _slot = admit(&state, &mut multipart, Admission::Upload).await?;
    let limit = state.picture_upload_limit();
    let mut form = read_form(multipart.map_err(rejection)?, &VERIFY_FIELDS, limit, || state.files.incoming()).await?;
    let file = form.video("file")?;
    let manifest = form.optional_picture("manifest");
    let engine = state.engine.clone();
    let checked = tokio::task::spawn_blocking(move || -> Result<Verification, crate::Error> {
        let mut head = [0u8; 64];
        let read = std::fs::File::open(&file.path)
            .and_then(|mut f| f.read(&mut head))
            .map_err(|source| ProvenanceError::Read { path: file.path.to_path_buf(), source })?;
        let what = "the file in field \"file\"";
        let format = MediaFormat::sniff(&head[..read])
            .ok_or_else(|| ProvenanceError::UnsupportedFormat { what: what.to_string() })?;
        let decoder = engine.store().verify(WATERMARK_DECODER)?;
        let mut reader = WatermarkReader::build(engine.factories().for_role(ModelRole::Watermark), &decoder)?;
        let sidecar = manifest.map(|bytes| (bytes.to_vec(), "field \"manifest\"".to_string()));
        let name = file.file_name.clone().unwrap_or_else(|| "upload".into());
        let mut verification = verify_as(&file.path, format, sidecar, what, &mut reader, engine.limits())?;
        verification.path = name;
        Ok(verification)
    })
    .await
    .map_err(|e| Problem::internal(&e))??;
    Ok(Json(checked))
}
