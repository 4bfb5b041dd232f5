//! Content Credentials: a C2PA manifest, signed, on every output. It opens the target (the
//! parent ingredient, by hash, its own manifest kept), says the faces were replaced by a
//! trained model (`c2pa.edited`, IPTC `compositeWithTrainedAlgorithmicMedia`), and names the
//! source face by its hash only: no thumbnail of anybody's face.

use std::{
    fs::File,
    io::{BufReader, Cursor},
    path::{Path, PathBuf},
};

use c2pa::{Builder, Context};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::{format::sidecar_path, MediaFormat, ProvenanceError, SigningIdentity};

/// IPTC's digital source type for media edited by compositing what a trained model made.
pub const COMPOSITE_WITH_TRAINED_MEDIA: &str =
    "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia";

/// The manifest's parameter naming the swapper that replaced the faces.
pub const SWAPPER_PARAMETER: &str = "org.faceswap.swapper";

/// An input the manifest names: in memory or a file.
#[derive(Debug, Clone, Copy)]
pub enum Asset<'a> {
    Bytes {
        name: &'a str,
        bytes: &'a [u8],
    },
    File {
        path: &'a Path,
    },
    /// A file the user knows by another name (a job's upload, stored under a key).
    Renamed {
        name: &'a str,
        path: &'a Path,
    },
    /// Known by name only (a video a worker reads from object storage by URL).
    Named {
        name: &'a str,
    },
}

impl Asset<'_> {
    fn name(&self) -> String {
        match self {
            Self::Bytes { name, .. } => (*name).to_string(),
            Self::File { path } => {
                path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned())
            }
            Self::Named { name } | Self::Renamed { name, .. } => (*name).to_string(),
        }
    }

    fn sha256(&self) -> std::io::Result<Option<String>> {
        let mut hasher = Sha256::new();
        match self {
            Self::Bytes { bytes, .. } => hasher.update(bytes),
            Self::File { path } | Self::Renamed { path, .. } => {
                std::io::copy(&mut BufReader::new(File::open(path)?), &mut hasher)?;
            }
            Self::Named { .. } => return Ok(None),
        }
        Ok(Some(hex::encode(hasher.finalize())))
    }
}

/// What was done to make an output, for its manifest.
#[derive(Debug, Clone, Copy)]
pub struct EditRecord<'a> {
    /// The picture or video whose faces were replaced.
    pub target: Asset<'a>,
    /// The SHA-256 (hex) of the picture of the face put in, when there is one: it is named by
    /// its hash only.
    pub source_face: Option<&'a str>,
    /// The swapper's name.
    pub swapper: &'a str,
    /// The face enhancer's name, when one ran.
    pub enhancer: Option<&'a str>,
}

/// Where a signed video's manifest went.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Embedding {
    /// Inside the file.
    Embedded,
    /// In this sidecar beside it (WebM, MKV).
    Sidecar(PathBuf),
}

/// Signs manifests with one identity.
#[derive(Debug, Clone)]
pub struct ContentCredentials {
    identity: SigningIdentity,
}

impl ContentCredentials {
    pub fn new(identity: SigningIdentity) -> Self {
        Self { identity }
    }

    /// The identity that signs.
    pub fn identity(&self) -> &SigningIdentity {
        &self.identity
    }

    /// `bytes` (a picture in `format`) with a signed manifest embedded.
    ///
    /// # Errors
    /// When c2pa cannot sign it.
    pub fn sign_bytes(
        &self,
        bytes: &[u8],
        format: MediaFormat,
        title: &str,
        record: &EditRecord<'_>,
    ) -> Result<Vec<u8>, ProvenanceError> {
        let sign_error = |source| ProvenanceError::Sign { what: title.to_string(), source: Box::new(source) };
        let mut builder = self.builder(format, title, record)?;
        let signer = self.identity.signer().map_err(sign_error)?;
        let mut dest = Cursor::new(Vec::with_capacity(bytes.len() + 32 * 1024));
        builder.sign(signer.as_ref(), format.mime(), &mut Cursor::new(bytes), &mut dest).map_err(sign_error)?;
        Ok(dest.into_inner())
    }

    /// Signs the finished file at `path`, which will be known as `output` (its format and the
    /// sidecar's name come from that): the manifest is embedded in place (through a temporary
    /// file renamed over it), or written to `output`'s sidecar (which the caller has checked
    /// may be written).
    ///
    /// # Errors
    /// When c2pa cannot sign it or the file cannot be written.
    pub fn sign_file(&self, path: &Path, output: &Path, record: &EditRecord<'_>) -> Result<Embedding, ProvenanceError> {
        let title = output.file_name().map_or_else(|| "output".into(), |n| n.to_string_lossy().into_owned());
        let what = output.display().to_string();
        let format =
            MediaFormat::from_path(output).ok_or_else(|| ProvenanceError::UnsupportedFormat { what: what.clone() })?;
        let sign_error = |source| ProvenanceError::Sign { what: what.clone(), source: Box::new(source) };
        let write_error = |source| ProvenanceError::Write { path: path.to_path_buf(), source };
        let mut builder = self.builder(format, &title, record)?;
        let signer = self.identity.signer().map_err(sign_error)?;
        let mut source =
            File::open(path).map_err(|source| ProvenanceError::Read { path: path.to_path_buf(), source })?;
        if format.embeds() {
            let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            let mut temp = tempfile::Builder::new().prefix(".signing").tempfile_in(parent).map_err(write_error)?;
            builder.sign(signer.as_ref(), format.mime(), &mut source, temp.as_file_mut()).map_err(sign_error)?;
            temp.as_file().sync_all().map_err(write_error)?;
            let mode = std::fs::metadata(path).map_err(write_error)?.permissions();
            std::fs::set_permissions(temp.path(), mode).map_err(write_error)?;
            temp.persist(path).map_err(|e| write_error(e.error))?;
            Ok(Embedding::Embedded)
        } else {
            builder.set_no_embed(true);
            // A sidecar's manifest hashes the whole file; c2pa has no WebM/MKV handler, so
            // it is signed over the bytes as a generic stream.
            let manifest = builder
                .sign(signer.as_ref(), "application/octet-stream", &mut source, &mut Cursor::new(Vec::new()))
                .map_err(sign_error)?;
            let sidecar = sidecar_path(output);
            crate::atomic_file::write_whole(&sidecar, &manifest, true)
                .map_err(|source| ProvenanceError::Sidecar { path: sidecar.clone(), source })?;
            Ok(Embedding::Sidecar(sidecar))
        }
    }

    fn builder(&self, format: MediaFormat, title: &str, record: &EditRecord<'_>) -> Result<Builder, ProvenanceError> {
        let sign_error = |source| ProvenanceError::Sign { what: title.to_string(), source: Box::new(source) };
        let version = env!("CARGO_PKG_VERSION");
        let mut parameters = serde_json::Map::new();
        parameters.insert("description".into(), json!(description(record)));
        parameters.insert(SWAPPER_PARAMETER.into(), json!(record.swapper));
        if let Some(enhancer) = record.enhancer {
            parameters.insert("org.faceswap.enhancer".into(), json!(enhancer));
        }
        let mut ingredients = Vec::new();
        if let Some(hash) = record.source_face {
            parameters.insert("org.faceswap.source_face_sha256".into(), json!(hash));
            parameters.insert("ingredientIds".into(), json!(["source_face"]));
            ingredients.push(json!({
                "title": "source face",
                "relationship": "componentOf",
                "label": "source_face",
                "hash": format!("sha256:{hash}"),
            }));
        }
        let definition = json!({
            "title": title,
            "format": format.mime(),
            "claim_generator_info": [{ "name": "faceswap", "version": version }],
            "ingredients": ingredients,
            "assertions": [{
                "label": "c2pa.actions",
                "data": { "actions": [
                    { "action": "c2pa.opened", "parameters": { "ingredientIds": ["target"] } },
                    {
                        "action": "c2pa.edited",
                        "digitalSourceType": COMPOSITE_WITH_TRAINED_MEDIA,
                        "softwareAgent": { "name": "faceswap", "version": version },
                        "parameters": parameters,
                    },
                ]}
            }],
        });
        let mut builder =
            Builder::from_context(Context::new()).with_definition(definition.to_string()).map_err(sign_error)?;
        self.add_target(&mut builder, &record.target).map_err(sign_error)?;
        Ok(builder)
    }

    /// The target as the parent ingredient: read by c2pa (its hash, its own manifest kept)
    /// when c2pa knows its format, else named by our SHA-256.
    fn add_target(&self, builder: &mut Builder, target: &Asset<'_>) -> Result<(), c2pa::Error> {
        let name = target.name();
        let ingredient = json!({ "title": name, "relationship": "parentOf", "label": "target" }).to_string();
        let format = match target {
            Asset::File { path } | Asset::Renamed { path, .. } => MediaFormat::from_path(path),
            Asset::Bytes { bytes, .. } => MediaFormat::sniff(bytes).filter(|f| f.is_picture()),
            Asset::Named { .. } => None,
        };
        if let Some(format) = format.filter(|f| f.embeds()) {
            let added = match target {
                Asset::Bytes { bytes, .. } => builder
                    .add_ingredient_from_stream(ingredient.as_str(), format.mime(), &mut Cursor::new(*bytes))
                    .map(|_| ()),
                Asset::File { path } | Asset::Renamed { path, .. } => {
                    let mut file = BufReader::new(File::open(path)?);
                    builder.add_ingredient_from_stream(ingredient.as_str(), format.mime(), &mut file).map(|_| ())
                }
                Asset::Named { .. } => Ok(()),
            };
            match added {
                Ok(()) => return Ok(()),
                Err(e) => tracing::debug!(error = %e, "c2pa could not read the target; naming it by hash"),
            }
        }
        let mut fields = json!({
            "title": name,
            "relationship": "parentOf",
            "label": "target",
            "format": format.map_or("application/octet-stream", MediaFormat::mime),
        });
        if let Some(hash) = target.sha256()? {
            fields["hash"] = json!(format!("sha256:{hash}"));
        }
        let ingredient: c2pa::Ingredient = serde_json::from_value(fields)?;
        builder.add_ingredient(ingredient);
        Ok(())
    }
}

fn description(record: &EditRecord<'_>) -> String {
    match record.enhancer {
        Some(enhancer) => format!("faces replaced by the {} swapper, then the {enhancer} enhancer", record.swapper),
        None => format!("faces replaced by the {} swapper", record.swapper),
    }
}
