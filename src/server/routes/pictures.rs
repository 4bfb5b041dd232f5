//! `POST /v1/swap` and `POST /v1/detect`: a form in, the engine's answer out. The model work
//! (decoding included) runs on an engine worker; the handlers only read the form and answer.

use std::{sync::Arc, time::Instant};

use axum::{
    extract::{multipart::MultipartRejection, Multipart, State},
    http::{header, HeaderName, HeaderValue},
    response::{IntoResponse, Response},
    Json,
};

use super::super::{
    problem::Problem,
    upload::{admit, read_form, rejection, Admission, FieldKind, Form},
    AppState,
};
use super::processors;
use crate::{
    engine::FaceChoice,
    face::{Analysis, DetectionReport, FaceSelection},
    imaging::PictureFormat,
    jobs::TargetFaces,
    provenance::{Asset, EditRecord},
    swap::{MouthMask, SwapSettings, SwapperKind},
};

const FACES_SWAPPED: HeaderName = HeaderName::from_static("x-faces-swapped");
const PROCESSING_MS: HeaderName = HeaderName::from_static("x-processing-time-ms");

/// The form of `POST /v1/swap`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct SwapForm {
    /// The picture whose face is put on (PNG or JPEG); or `source_id`.
    #[schema(value_type = Option<String>, format = Binary)]
    source: Option<Vec<u8>>,
    /// A source kept by `POST /v1/sources` (analysed once), instead of `source`.
    source_id: Option<String>,
    /// Which face of the source to use, numbered as `/v1/detect` lists them (default: the largest).
    /// Not with `source_id`.
    source_face: Option<u32>,
    /// The picture whose faces are replaced.
    #[schema(value_type = String, format = Binary)]
    target: Vec<u8>,
    /// Replace face N, numbered as `/v1/detect` lists them, or several (`0,2`; default: the
    /// largest face).
    face: Option<String>,
    /// Replace every face.
    all_faces: Option<bool>,
    /// Replace the face most like the one in this picture.
    #[schema(value_type = Option<String>, format = Binary)]
    reference: Option<Vec<u8>>,
    /// `landmark` or `inswapper` (default: the server's).
    swapper: Option<String>,
    /// `png` (default) or `jpeg`.
    format: Option<String>,
    /// Lay the target's own inner mouth back over the swapped face.
    mouth_mask: Option<bool>,
    /// How far the mask reaches from the lips' inner edge to their outer edge (0–1.5, default 0.5).
    mouth_mask_size: Option<f32>,
    /// The mask's soft edge, a share of the mouth's width (0–0.5, default 0.08).
    mouth_mask_feather: Option<f32>,
    /// Inswapper at a larger aligned crop in 128-pixel tiles: 256, 384, 512, 768 or 1024.
    pixel_boost: Option<u32>,
    /// A face enhancer after the swap: `gfpgan_1.4`, `gpen_bfr_256`, `gpen_bfr_512` or `codeformer`.
    enhancer: Option<String>,
    /// How much of the enhanced face is laid over the swapped one, 0–100 (default 80).
    enhancer_blend: Option<u8>,
    /// CodeFormer's fidelity, 0–1 (default 0.5).
    enhancer_weight: Option<f64>,
    /// Masks around the swap: `box` (always), `occlusion`, `region`, comma-separated.
    mask: Option<String>,
    /// The regions the region mask keeps (`skin,nose,…`; default all).
    mask_regions: Option<String>,
}

/// The form of `POST /v1/detect`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct DetectForm {
    /// The picture to look at.
    #[schema(value_type = String, format = Binary)]
    image: Vec<u8>,
    /// Add each face's 106 landmarks.
    landmarks: Option<bool>,
    /// Add each face's identity vector (512 values, L2-normalised).
    embeddings: Option<bool>,
}

const SWAP_FIELDS: [(&str, FieldKind); 18] = [
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
    ("target", FieldKind::Picture),
    ("face", FieldKind::Text),
    ("all_faces", FieldKind::Text),
    ("reference", FieldKind::Picture),
    ("swapper", FieldKind::Text),
    ("format", FieldKind::Text),
];

/// Reads `face` (a number, or several: `0,2`), `all_faces` and `reference` (at most one of them).
pub fn target_faces(form: &mut Form) -> Result<TargetFaces, Problem> {
    let face = form.parsed::<FaceNumbers>("face", "a face number from 0, or several separated by commas")?;
    let all = form.flag("all_faces")?;
    let reference = form.optional_picture("reference");
    match (face, all, reference) {
        (Some(_), true, _) | (Some(_), _, Some(_)) | (_, true, Some(_)) => {
            Err(Problem::bad_request("give at most one of face, all_faces and reference"))
        }
        (Some(FaceNumbers(numbers)), _, _) => Ok(TargetFaces::Fixed(match numbers.as_slice() {
            [n] => FaceSelection::Index(*n),
            _ => FaceSelection::Indices(numbers),
        })),
        (_, true, _) => Ok(TargetFaces::Fixed(FaceSelection::All)),
        (_, _, Some(bytes)) => Ok(TargetFaces::LikeReference(bytes)),
        _ => Ok(TargetFaces::Fixed(FaceSelection::Largest)),
    }
}

/// One face number or several (`0,2,3`): at least one, each a number.
struct FaceNumbers(Vec<usize>);

impl std::str::FromStr for FaceNumbers {
    type Err = std::num::ParseIntError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.split(',').map(|n| n.trim().parse::<usize>()).collect::<Result<Vec<_>, _>>().map(Self)
    }
}

/// Reads `mouth_mask` (true/false) with its optional `mouth_mask_size` and `mouth_mask_feather`.
pub fn mouth_mask(form: &Form) -> Result<Option<MouthMask>, Problem> {
    let on = form.flag("mouth_mask")?;
    let size = form.parsed::<f32>("mouth_mask_size", "a number from 0 to 1.5")?;
    let feather = form.parsed::<f32>("mouth_mask_feather", "a number from 0 to 0.5")?;
    if !on {
        if size.is_some() || feather.is_some() {
            return Err(Problem::bad_request("mouth_mask_size and mouth_mask_feather need mouth_mask=true"));
        }
        return Ok(None);
    }
    let defaults = MouthMask::default();
    let shape = MouthMask { size: size.unwrap_or(defaults.size), feather: feather.unwrap_or(defaults.feather) };
    shape.checked().map(Some).map_err(Problem::bad_request)
}

/// The source face a request names: a picture (`source`, with `source_face`), or the id of one
/// kept by `POST /v1/sources` (`source_id`).
pub enum SourceField {
    Picture(axum::body::Bytes, Option<usize>),
    /// A kept source, and the picture it was taken from.
    Kept(Arc<crate::swap::SourceFace>, axum::body::Bytes),
}

/// Reads `source` and `source_face`, or `source_id`: one of the two.
///
/// # Errors
/// 400 for both or neither, or `source_face` with an id; 404 for an id that names nothing.
pub fn source_field(form: &mut Form, state: &AppState) -> Result<SourceField, Problem> {
    let id = form.parsed::<String>("source_id", "an id from POST /v1/sources")?;
    let picture = form.optional_picture("source");
    let face = form.parsed::<usize>("source_face", "a face number from 0")?;
    match (picture, id) {
        (Some(_), Some(_)) => Err(Problem::bad_request("give source or source_id, not both")),
        (None, None) => Err(Problem::bad_request(
            "field \"source\" is missing: send the source picture, or source_id from POST /v1/sources",
        )),
        (Some(bytes), None) => Ok(SourceField::Picture(bytes, face)),
        (None, Some(_)) if face.is_some() => Err(Problem::bad_request(
            "source_face belongs to the picture POST /v1/sources took: leave it out with source_id",
        )),
        (None, Some(id)) => {
            let (face, picture) = super::live::kept_source_with_picture(state, &id)?;
            Ok(SourceField::Kept(face, picture))
        }
    }
}

/// Reads `swapper` (the server's own when absent).
pub fn swapper_kind(form: &Form, default: SwapperKind) -> Result<SwapperKind, Problem> {
    Ok(form.parsed::<SwapperKind>("swapper", "landmark or inswapper")?.unwrap_or(default))
}

#[utoipa::path(
    post, path = "/v1/swap", tag = "pictures",
    request_body(content = SwapForm, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "The swapped picture; headers X-Faces-Swapped and X-Processing-Time-Ms",
         content_type = "image/png"),
        (status = 400, description = "A missing, repeated or unknown field", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Over the upload or pixel limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not a picture", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No face, a truncated picture, a face number past the end", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Every worker busy: retry after Retry-After", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "A model is unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn swap(
    State(state): State<Arc<AppState>>,
    mut multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, Problem> {
    let started = Instant::now();
    // Refused before a byte of the body is read: every worker's queue full, or every upload
    // slot taken.
    let _slot = admit(&state, &mut multipart, Admission::Picture).await?;
    let limit = state.picture_upload_limit();
    let mut form = read_form(multipart.map_err(rejection)?, &SWAP_FIELDS, limit, || state.files.incoming()).await?;
    let source = source_field(&mut form, &state)?;
    let target = form.picture("target")?;
    let faces = target_faces(&mut form)?;
    let kind = swapper_kind(&form, state.engine.config().swapper)?;
    let format = form.parsed::<PictureFormat>("format", "png or jpeg")?.unwrap_or_default();
    let settings = SwapSettings {
        swapper: kind,
        mouth_mask: mouth_mask(&form)?,
        pixel_boost: processors::pixel_boost(&form, kind, state.config.pixel_boost)?,
        enhancer: processors::enhancer(&form, state.config.enhancer)?,
        masks: processors::masks(&form, state.config.masks)?,
    };
    let cache = state.source_cache.clone();
    let (swapped, bytes) = state
        .pool()?
        .run(move |worker, engine| {
            let (source, source_sha256) = match source {
                SourceField::Picture(bytes, face) => {
                    (cache.face_of(&bytes, face, worker, engine)?, crate::provenance::sha256_hex(&bytes))
                }
                SourceField::Kept(source, picture) => (source, crate::provenance::sha256_hex(&picture)),
            };
            let target_bytes = target.clone();
            let target = engine.decode_full_picture(&target, "in field \"target\"")?;
            let what = "the picture in field \"target\"";
            let swapped = match &faces {
                TargetFaces::Fixed(selection) => worker.swap_picture(
                    engine,
                    &source,
                    target,
                    FaceChoice::Fixed(selection),
                    settings,
                    what,
                    format,
                )?,
                TargetFaces::LikeReference(bytes) => {
                    let picture = engine.decode_picture(bytes, "in field \"reference\"")?;
                    let choice =
                        FaceChoice::LikeReference { picture: &picture, what: "the picture in field \"reference\"" };
                    worker.swap_picture(engine, &source, target, choice, settings, what, format)?
                }
            };
            let record = EditRecord {
                target: Asset::Bytes { name: "target", bytes: &target_bytes },
                source_face: Some(&source_sha256),
                swapper: kind.name(),
                enhancer: settings.enhancer.map(|e| e.kind.name()),
            };
            let title = format!("swapped.{}", format.extension());
            Ok((swapped.faces, engine.provenance().sign_picture(swapped.bytes, format, &title, &record)?))
        })
        .await?;
    state.metrics.faces_swapped(swapped);
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(format.content_type())),
        (FACES_SWAPPED, HeaderValue::from(swapped)),
        (PROCESSING_MS, HeaderValue::from_str(&format!("{elapsed_ms:.1}")).unwrap_or(HeaderValue::from_static("0"))),
    ];
    Ok((headers, bytes).into_response())
}

const DETECT_FIELDS: [(&str, FieldKind); 3] =
    [("image", FieldKind::Picture), ("landmarks", FieldKind::Text), ("embeddings", FieldKind::Text)];

#[utoipa::path(
    post, path = "/v1/detect", tag = "pictures",
    request_body(content = DetectForm, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "The faces, as `faceswap detect --json` prints them", body = DetectionReport),
        (status = 400, description = "A missing, repeated or unknown field", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Over the upload or pixel limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not a picture", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A truncated or damaged picture", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Every worker busy: retry after Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn detect(
    State(state): State<Arc<AppState>>,
    mut multipart: Result<Multipart, MultipartRejection>,
) -> Result<Json<DetectionReport>, Problem> {
    let _slot = admit(&state, &mut multipart, Admission::Picture).await?;
    let limit = state.picture_upload_limit();
    let mut form = read_form(multipart.map_err(rejection)?, &DETECT_FIELDS, limit, || state.files.incoming()).await?;
    let image = form.picture("image")?;
    let analysis = Analysis { landmarks: form.flag("landmarks")?, embedding: form.flag("embeddings")? };
    let report = state
        .pool()?
        .run(move |worker, engine| {
            let picture = engine.decode_picture(&image, "in field \"image\"")?;
            let faces = worker.detect(&picture, analysis)?;
            Ok(DetectionReport::new(picture.width(), picture.height(), faces))
        })
        .await?;
    Ok(Json(report))
}
