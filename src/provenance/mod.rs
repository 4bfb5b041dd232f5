//! Provenance on every output: Content Credentials (a signed C2PA manifest, embedded or in a
//! sidecar) and an invisible watermark in every swapped picture and frame, and reading both
//! back (`faceswap verify`, `POST /v1/verify`).

mod credentials;
mod error;
mod format;
mod identity;
mod marks;
mod verify;
mod watermark;

pub use credentials::{
    Asset, ContentCredentials, EditRecord, Embedding, COMPOSITE_WITH_TRAINED_MEDIA, SWAPPER_PARAMETER,
};
pub use error::ProvenanceError;
pub use format::{sidecar_path, MediaFormat};
pub use identity::{SigningIdentity, LOCAL_IDENTITY_FILE};
pub use marks::ProvenanceMarks;
pub use verify::{verify, verify_as, C2paReport, IngredientReport, Verification, WatermarkReport, SAMPLED_FRAMES};
pub use watermark::{
    payload_bits, Cadence, LiveWatermarker, WatermarkReader, WatermarkReading, Watermarker, FIRST_RESIDUAL_DEADLINE,
    MAGIC, MAX_MAGIC_ERRORS, MAX_RESIDUAL_AGE, MIN_STRENGTH,
};

/// The SHA-256 of `bytes`, hex: how the manifest names a source face.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
