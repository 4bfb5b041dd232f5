//! Errors about model files and the manifest.

use std::path::PathBuf;

use crate::error_kind::ErrorKind;

/// What is wrong with a model file or the manifest.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("model manifest is invalid: {0}")]
    Manifest(String),
    #[error("model {name:?} is not in the manifest (known: {known})")]
    Unknown { name: String, known: String },
    #[error("model file {path} is missing: {hint}")]
    Missing { path: PathBuf, hint: String },
    #[error("model file {path} does not exist: check the path")]
    FileNotFound { path: PathBuf },
    #[error("model file {path} has {actual} bytes, expected {expected}: the file is damaged or partial; delete it and fetch it again")]
    Size { path: PathBuf, expected: u64, actual: u64 },
    #[error("model file {path} has sha256 {actual}, expected {expected}: the file is damaged or a different model; delete it and fetch it again")]
    Hash { path: PathBuf, expected: String, actual: String },
    /// Every URL tried, with what it answered (a status, a size or hash that did not match, a
    /// connection that failed), each as `URL: what`.
    #[error("model {name} could not be downloaded: {}", failures.join("; "))]
    Fetch { name: String, failures: Vec<String> },
    #[error("model {name} cannot be downloaded: {}", match package {
        Some(package) => format!("it comes from the {package} Python package (scripts/setup.sh installs it) and no mirror is set"),
        None => "the manifest has no URL for it and no mirror is set".to_string(),
    })]
    NoUrl { name: String, package: Option<String> },
    #[error("the HTTP client for model downloads could not be built")]
    Client {
        #[source]
        source: reqwest::Error,
    },
    #[error("model file {path} is {problem} and could not be fetched again")]
    Repair {
        path: PathBuf,
        problem: String,
        #[source]
        source: Box<ModelError>,
    },
    #[error("model file {path} is {problem} and could not be moved aside to fetch it again")]
    RepairBackup {
        path: PathBuf,
        problem: String,
        #[source]
        source: std::io::Error,
    },
    #[error("model file {path} could not be read")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("the models folder's records {path} are unusable: {reason}; fix or delete the file")]
    Records { path: PathBuf, reason: String },
    #[error("the models folder's records {path} could not be written")]
    RecordsWrite {
        path: PathBuf,
        #[source]
        source: crate::atomic_file::WriteError,
    },
    #[error("model file {path} has no recorded size and sha256 (its manifest entry cites none): run `faceswap models fetch {name}` to fetch and record it, or `faceswap models add {} --role {role} --name {name}` for a copy you trust", path.display())]
    Unrecorded { path: PathBuf, name: String, role: super::ModelRole },
    #[error("model {name} is a {expected} in the manifest, not a {given}")]
    RoleMismatch { name: String, expected: super::ModelRole, given: super::ModelRole },
    #[error("{path} has sha256 {actual}, and the manifest pins {name} to {expected}: it is a different file")]
    NotThePinnedFile { name: String, path: PathBuf, expected: String, actual: String },
    #[error("{path} exists and is a different file: add --overwrite to replace it")]
    AddExists { path: PathBuf },
    #[error("{path} could not be put in place")]
    Commit {
        path: PathBuf,
        #[source]
        source: crate::atomic_file::CommitError,
    },
    #[error("{name:?} cannot name a model file: use letters, digits, '.', '_' and '-'")]
    BadName { name: String },
}

impl ModelError {
    /// What is wrong with the file, in a few words ("missing", "truncated (4096 of 5030888
    /// bytes)", "damaged (its sha256 does not match)"), for messages about repairing it.
    pub fn brief(&self) -> String {
        match self {
            Self::Missing { .. } | Self::FileNotFound { .. } => "missing".into(),
            Self::Size { expected, actual, .. } if actual < expected => {
                format!("truncated ({actual} of {expected} bytes)")
            }
            Self::Size { expected, actual, .. } => format!("damaged ({actual} bytes, expected {expected})"),
            Self::Hash { .. } => "damaged (its sha256 does not match the manifest)".into(),
            Self::Unrecorded { .. } => "of unknown origin (no size and sha256 recorded)".into(),
            other => format!("unusable ({other})"),
        }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Manifest(_) => ErrorKind::Internal,
            Self::Unknown { .. } => ErrorKind::NotFound,
            _ => ErrorKind::ModelUnavailable,
        }
    }
}
