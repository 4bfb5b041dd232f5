//! The models faceswap knows: the manifest, the on-disk store and verification of each file.

mod error;
mod fetch;
mod manifest;
mod records;
mod store;
mod verify;

pub use error::ModelError;
pub use fetch::{backup_path, FetchConfig, Fetcher};
pub use manifest::{Manifest, ModelEntry, ModelRole, Pin, Pinning, DEFAULT_PACK};
pub use records::{Record, Records, RECORDS_FILE};
pub use store::{Added, ModelStore, VerifiedModel, DEFAULT_MODELS_DIR};
pub use verify::sha256_file;
