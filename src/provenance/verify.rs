//! Reading an output's provenance back: its C2PA manifest (valid or not, and why; who signed;
//! what was done; from what) and its watermark (a picture, or a video's sampled frames).

use std::{fs::File, io::BufReader, path::Path};

use image::RgbImage;
use serde::Serialize;
use serde_json::Value;

use super::{
    credentials::COMPOSITE_WITH_TRAINED_MEDIA, format::sidecar_path, MediaFormat, ProvenanceError, WatermarkReader,
    WatermarkReading,
};
use crate::{
    imaging::{decode_rgb, PictureLimits},
    video::{FrameSource, VideoFileSource},
};

/// The largest sidecar manifest read (ours are a few kilobytes; others' carry thumbnails).
pub const MAX_SIDECAR_BYTES: u64 = 16 << 20;

/// Frames of a video the watermark is read on, spread over its length.
pub const SAMPLED_FRAMES: usize = 12;

/// An ingredient the manifest names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IngredientReport {
    pub title: Option<String>,
    pub relationship: Option<String>,
    pub hash: Option<String>,
    /// Whether the ingredient carried its own manifest.
    pub had_manifest: bool,
}

/// The manifest, as read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct C2paReport {
    /// A manifest was found (embedded, or in the sidecar).
    pub present: bool,
    /// Its signature and hashes check out (`valid` or `trusted` in C2PA's terms).
    pub valid: bool,
    /// C2PA's validation state: `trusted`, `valid`, `invalid`, or `absent`.
    pub state: String,
    /// The failure codes when not valid (`assertion.dataHash.mismatch`, …).
    pub problems: Vec<String>,
    /// The signing certificate's subject and issuer.
    pub signer: Option<String>,
    pub issuer: Option<String>,
    /// Whether the signer is on a trust list this reader knows (none is configured: a local
    /// CA's signature is valid, its signer unknown).
    pub signer_trusted: bool,
    /// The actions, in order (`c2pa.opened`, `c2pa.edited`).
    pub actions: Vec<String>,
    /// The first action's digital source type that says what made the change.
    pub digital_source_type: Option<String>,
    pub software_agent: Option<String>,
    pub ingredients: Vec<IngredientReport>,
    /// The sidecar the manifest was read from, for WebM and MKV.
    pub sidecar: Option<String>,
}

/// The watermark, as read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WatermarkReport {
    pub found: bool,
    pub payload: Option<String>,
    pub confidence: f32,
    pub strength: f32,
    /// Pictures or frames read.
    pub frames: usize,
}

impl From<(WatermarkReading, usize)> for WatermarkReport {
    fn from((reading, frames): (WatermarkReading, usize)) -> Self {
        Self {
            found: reading.found,
            payload: reading.payload(),
            confidence: reading.confidence,
            strength: reading.strength,
            frames,
        }
    }
}

/// One file's provenance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verification {
    pub path: String,
    pub c2pa: C2paReport,
    pub watermark: WatermarkReport,
    /// Marked as AI-edited: a valid manifest with an AI digital source type, or the watermark.
    pub ai_edited: bool,
}

/// Whether a digital source type says a trained model made or changed the content.
fn is_ai_source_type(source_type: &str) -> bool {
    source_type == COMPOSITE_WITH_TRAINED_MEDIA
        || source_type.ends_with("/trainedAlgorithmicMedia")
        || source_type.ends_with("/compositeSynthetic")
        || source_type.ends_with("/algorithmicMedia")
}

/// Reads `path`'s manifest and watermark. `what` names it in messages.
///
/// # Errors
/// When it cannot be read or decoded as the picture or video its name says.
pub fn verify(
    path: &Path,
    what: &str,
    reader: &mut WatermarkReader,
    limits: PictureLimits,
) -> Result<Verification, ProvenanceError> {
    let format =
        MediaFormat::from_path(path).ok_or_else(|| ProvenanceError::UnsupportedFormat { what: what.into() })?;
    let sidecar = if format.embeds() { None } else { Some(sidecar_path(path)) };
    let manifest = match sidecar.filter(|p| p.is_file()) {
        Some(p) => {
            let read = |source| ProvenanceError::Read { path: p.clone(), source };
            // Sized before it is read: a sidecar is kilobytes, not whatever sits beside a video.
            let size = std::fs::metadata(&p).map_err(read)?.len();
            if size > MAX_SIDECAR_BYTES {
                return Err(ProvenanceError::TooLarge { what: p.display().to_string(), limit: MAX_SIDECAR_BYTES });
            }
            Some((std::fs::read(&p).map_err(read)?, p.display().to_string()))
        }
        None => None,
    };
    verify_as(path, format, manifest, what, reader, limits)
}

/// [`verify`] for a file whose format is known otherwise (an upload, sniffed), with the
/// sidecar manifest's bytes and name when there is one.
///
/// # Errors
/// As [`verify`].
pub fn verify_as(
    path: &Path,
    format: MediaFormat,
    sidecar: Option<(Vec<u8>, String)>,
    what: &str,
    reader: &mut WatermarkReader,
    limits: PictureLimits,
) -> Result<Verification, ProvenanceError> {
    let size =
        std::fs::metadata(path).map_err(|source| ProvenanceError::Read { path: path.to_path_buf(), source })?.len();
    let frames = if format.is_picture() {
        if size > limits.max_encoded_bytes() {
            return Err(ProvenanceError::TooLarge { what: what.into(), limit: limits.max_encoded_bytes() });
        }
        let bytes = std::fs::read(path).map_err(|source| ProvenanceError::Read { path: path.to_path_buf(), source })?;
        let picture = decode_rgb(&bytes, what, limits)
            .map_err(|e| ProvenanceError::Undecodable { what: what.into(), source: Box::new(e) })?;
        vec![picture]
    } else {
        sample_frames(path, what, limits)?
    };
    let c2pa = read_manifest(path, format, sidecar);
    let reading = reader.read(&frames)?;
    let watermark = WatermarkReport::from((reading, frames.len()));
    let ai_edited =
        (c2pa.valid && c2pa.digital_source_type.as_deref().is_some_and(is_ai_source_type)) || watermark.found;
    Ok(Verification { path: what.to_string(), c2pa, watermark, ai_edited })
}

/// Up to [`SAMPLED_FRAMES`] frames spread over the video.
fn sample_frames(path: &Path, what: &str, limits: PictureLimits) -> Result<Vec<RgbImage>, ProvenanceError> {
    let undecodable =
        |e: crate::video::VideoError| ProvenanceError::Undecodable { what: what.into(), source: Box::new(e) };
    let mut source = VideoFileSource::open(path, None, false, limits).map_err(undecodable)?;
    let stride = source.info().frames.map_or(10, |n| (n as usize / SAMPLED_FRAMES).max(1));
    let mut frames = Vec::new();
    let mut index = 0usize;
    while frames.len() < SAMPLED_FRAMES {
        let Some(frame) = source.next_frame(None).map_err(undecodable)? else { break };
        if index.is_multiple_of(stride) {
            frames.push(frame.image);
        }
        index += 1;
    }
    if frames.is_empty() {
        return Err(ProvenanceError::Undecodable { what: what.into(), source: "the video has no frame".into() });
    }
    Ok(frames)
}

/// The manifest of `path`, embedded or in its sidecar; absent when there is none.
fn read_manifest(path: &Path, format: MediaFormat, sidecar: Option<(Vec<u8>, String)>) -> C2paReport {
    let read = || -> Result<Option<(c2pa::Reader, Option<String>)>, c2pa::Error> {
        let file = BufReader::new(File::open(path)?);
        if format.embeds() {
            return Ok(Some((
                c2pa::Reader::from_context(c2pa::Context::new()).with_stream(format.mime(), file)?,
                None,
            )));
        }
        let Some((manifest, sidecar)) = sidecar else { return Ok(None) };
        let reader = c2pa::Reader::from_context(c2pa::Context::new()).with_manifest_data_and_stream(
            &manifest,
            "application/octet-stream",
            file,
        )?;
        Ok(Some((reader, Some(sidecar))))
    };
    match read() {
        Ok(Some((reader, sidecar))) => report(&reader, sidecar),
        Ok(None) | Err(c2pa::Error::JumbfNotFound | c2pa::Error::ProvenanceMissing) => {
            C2paReport { state: "absent".into(), ..C2paReport::default() }
        }
        Err(e) => C2paReport {
            present: true,
            state: "invalid".into(),
            problems: vec![format!("unreadable manifest: {e}")],
            ..C2paReport::default()
        },
    }
}

fn text(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::to_string)
}

fn report(reader: &c2pa::Reader, sidecar: Option<String>) -> C2paReport {
    use c2pa::validation_results::ValidationState;
    let state = reader.validation_state();
    let json: Value = serde_json::from_str(&reader.json()).unwrap_or(Value::Null);
    let problems = json
        .pointer("/validation_results/activeManifest/failure")
        .and_then(Value::as_array)
        .map(|failures| failures.iter().filter_map(|f| text(f, "code")).collect())
        .unwrap_or_default();
    let active = text(&json, "active_manifest").and_then(|label| json.get("manifests")?.get(label).cloned());
    let active = active.unwrap_or(Value::Null);
    let actions: Vec<Value> = active
        .get("assertions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|a| text(a, "label").is_some_and(|l| l.starts_with("c2pa.actions")))
        .filter_map(|a| a.pointer("/data/actions").and_then(Value::as_array).cloned())
        .flatten()
        .collect();
    let ingredients = active
        .get("ingredients")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|i| IngredientReport {
            title: text(i, "title"),
            relationship: text(i, "relationship"),
            hash: text(i, "hash"),
            had_manifest: i.get("active_manifest").is_some(),
        })
        .collect();
    let signature = active.get("signature_info").cloned().unwrap_or(Value::Null);
    let state_name = match state {
        ValidationState::Trusted => "trusted",
        ValidationState::Valid => "valid",
        ValidationState::Invalid => "invalid",
    };
    C2paReport {
        present: true,
        valid: !matches!(state, ValidationState::Invalid),
        state: state_name.into(),
        problems,
        signer: text(&signature, "common_name"),
        issuer: text(&signature, "issuer"),
        signer_trusted: matches!(state, ValidationState::Trusted),
        digital_source_type: actions.iter().find_map(|a| text(a, "digitalSourceType")),
        software_agent: actions.iter().find_map(|a| {
            let agent = a.get("softwareAgent")?;
            agent.as_str().map(str::to_string).or_else(|| {
                Some(
                    format!("{} {}", text(agent, "name")?, text(agent, "version").unwrap_or_default())
                        .trim()
                        .to_string(),
                )
            })
        }),
        actions: actions.iter().filter_map(|a| text(a, "action")).collect(),
        ingredients,
        sidecar,
    }
}
